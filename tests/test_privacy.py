"""Privacy: what of an agent's words and output is recorded (capture per kind), secrets
redacted in everything kept, long outputs cut to their tail, configuration in
``.agent-trace/config.toml``, ``trace redact-test``, and credential-free conversation
URLs in git notes. Real git repositories, real files, the real CLI."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import strategies as s
from click.testing import CliRunner, Result
from gitrepo import GitRepo
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_agents_e2e import installed_trace, trace

from agent_trace import Recorder, import_log
from agent_trace._config import ConfigError, load_privacy
from agent_trace.cli import cli
from agent_trace.events import (
    AgentMessageItem,
    CommandExecutionItem,
    ErrorDetail,
    ErrorItem,
    EventReader,
    ItemCompletedEvent,
    ItemStartedEvent,
    McpToolCallItem,
    PlanItem,
    ReasoningItem,
    ThreadCompletedEvent,
    ThreadErrorEvent,
    ThreadEvent,
    ThreadStartedEvent,
    TodoEntry,
    TodoListItem,
    ToolInvocationItem,
    ToolOutputItem,
    TurnCompletedEvent,
    TurnFailedEvent,
    TurnStartedEvent,
    Usage,
    WebSearchItem,
)
from agent_trace.events._json import loads
from agent_trace.events._privacy import (
    DEFAULT_PATTERNS,
    OMITTED_KEY,
    Capture,
    PrivacyPolicy,
    Redactor,
    cut_to_tail,
    safe_url,
)

TRACE = Path(sys.executable).parent / "trace"
PYTHON = sys.executable
CLEAN_ENV = {"NO_COLOR": "", "FORCE_COLOR": "", "AGENT_TRACE_RUN_ID": None}

# --------------------------------------------------------------------------- secrets

PEM_BODY = "MIIEpAIBAAKCAQEA7sEcReTkEyBoDyBodyOfThePrivateKeyQ"
# pattern name -> (text planted, the secret part that must never be written)
PLANTED: dict[str, tuple[str, str]] = {
    "private-key": (
        f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----",
        PEM_BODY,
    ),
    "aws-access-key-id": ("key id AKIAQWERTYUIOPASDFGH here", "AKIAQWERTYUIOPASDFGH"),
    "aws-secret-access-key": (
        "aws_secret_access_key = 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",
        "wJalrXUtnFEMIK7MDENGbPxRfiCYzq8secretKEY",
    ),
    "anthropic-api-key": (
        "using sk-ant-api03-PlantedAnthropicKey0123456789",
        "sk-ant-api03-PlantedAnthropicKey0123456789",
    ),
    "openai-api-key": (
        "using sk-proj-PlantedOpenaiKey0123456789abc",
        "sk-proj-PlantedOpenaiKey0123456789abc",
    ),
    "github-token": (
        "gh auth ghp_PlantedGithubToken0123456789abcdefghijk",
        "ghp_PlantedGithubToken0123456789abcdefghijk",
    ),
    "gitlab-token": ("glab glpat-PlantedGitlab0123456789x", "glpat-PlantedGitlab0123456789x"),
    "slack-token": ("slack xoxb-1234567890-PlantedSlack", "xoxb-1234567890-PlantedSlack"),
    "google-api-key": (
        "maps AIzaPlantedGoogleKey0123456789abcdefghij",
        "AIzaPlantedGoogleKey0123456789abcdefghij",
    ),
    "stripe-key": ("stripe sk_live_PlantedStripe0123456789", "sk_live_PlantedStripe0123456789"),
    "huggingface-token": (
        "hub hf_PlantedHuggingface0123456789abcdefgh",
        "hf_PlantedHuggingface0123456789abcdefgh",
    ),
    "jwt": (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.PlantedJwtSignature0123",
        "PlantedJwtSignature0123",
    ),
    "url-password": (
        "git clone https://deploy:Hunter2PlantedPass@git.example.com/r.git",
        "Hunter2PlantedPass",
    ),
    "authorization-header": (
        "curl -H 'Authorization: Bearer PlantedBearerToken0123456789'",
        "PlantedBearerToken0123456789",
    ),
    "secret-assignment": ("export DB_PASSWORD=PlantedDbPassw0rd!", "PlantedDbPassw0rd!"),
}
SECRETS = [secret for _, secret in PLANTED.values()]
ALL_PLANTED = "\n".join(text for text, _ in PLANTED.values())
SAFE_WORDS = "ordinary words that may be kept"
URL_WITH_CREDENTIALS = (
    "https://alice:UrlPlantedPw99@chat.example.com/c/42?token=UrlTok3nValue&view=1"
)
URL_SECRETS = ("alice", "UrlPlantedPw99", "UrlTok3nValue")


def test_each_default_pattern_is_planted() -> None:
    assert set(PLANTED) == {p.name for p in DEFAULT_PATTERNS}
    for name, (text, secret) in PLANTED.items():
        found = Redactor().findings(text)
        assert found, name
        redacted = Redactor().redact(text)
        assert secret not in redacted, name
        assert "[REDACTED:" in redacted


def secret_events() -> list[ThreadEvent]:
    """A turn where every kind of text carries every planted secret."""
    blob = f"{SAFE_WORDS}\n{ALL_PLANTED}"
    command = f"echo {SAFE_WORDS} && {PLANTED['authorization-header'][0]}"
    return [
        TurnStartedEvent(),
        ItemCompletedEvent(item=ReasoningItem(id="r1", text=f"REASONING {blob}")),
        ItemCompletedEvent(item=AgentMessageItem(id="m1", text=f"MESSAGE {blob}")),
        ItemCompletedEvent(item=PlanItem(id="p1", text=f"PLAN {blob}")),
        ItemCompletedEvent(
            item=TodoListItem(id="t1", items=[TodoEntry(text=f"TODO {blob}", completed=False)])
        ),
        ItemStartedEvent(item=CommandExecutionItem(id="c1", command=command, status="in_progress")),
        ItemCompletedEvent(
            item=CommandExecutionItem(
                id="c1",
                command=command + "\n" + ALL_PLANTED,
                arguments={"argv": ["sh", "-c", ALL_PLANTED]},
                aggregated_output=f"OUTPUT {blob}",
                exit_code=0,
                status="completed",
            )
        ),
        ItemCompletedEvent(
            item=McpToolCallItem(
                id="mcp1",
                server="docs",
                tool="search",
                arguments={"q": f"ARGS {blob}", ALL_PLANTED: 1},
                result={"content": [{"type": "text", "text": f"RESULT {blob}"}]},
                error=ErrorDetail(message=f"MCPERROR {blob}"),
                status="failed",
            )
        ),
        ItemCompletedEvent(
            item=ToolInvocationItem(
                id="ti1", tool_name="fetch", arguments={"url": blob}, status="completed"
            )
        ),
        ItemCompletedEvent(
            item=ToolOutputItem(
                id="to1", call_id="ti1", output=f"TOOLOUT {blob}", status="completed"
            )
        ),
        ItemCompletedEvent(
            item=WebSearchItem(id="w1", query=f"QUERY {blob}", results=[f"HIT {blob}"])
        ),
        ItemCompletedEvent(item=ErrorItem(id="e1", message=f"ITEMERROR {blob}")),
        ThreadErrorEvent(message=f"THREADERROR {blob}"),
        TurnFailedEvent(message=f"TURNFAILED {blob}", error=ErrorDetail(message=f"DETAIL {blob}")),
        TurnCompletedEvent(usage=Usage(input_tokens=1, cached_input_tokens=0, output_tokens=1)),
    ]


def store_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``.agent-trace/``, by relative path."""
    base = root / ".agent-trace"
    return {str(p.relative_to(base)): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def notes_text(repo: GitRepo) -> str:
    """Every note and the whole history of the notes ref."""
    notes = repo.notes()
    history = repo.git("log", "-p", "refs/notes/agent-trace", check=False)
    return "\n".join([*notes.values(), history])


def assert_no_secrets(where: str, data: bytes | str) -> None:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    for secret in [*SECRETS, *URL_SECRETS]:
        assert secret not in text, f"{secret!r} leaked into {where}"


def written_events(path: Path) -> list[ThreadEvent]:
    reader = EventReader(path, strict=True)
    return [entry.event for entry in reader]


def items_by_id(events: list[ThreadEvent]) -> dict[str, Any]:
    """The last item of each id (completed wins over started)."""
    out: dict[str, Any] = {}
    for event in events:
        item = getattr(event, "item", None)
        if item is not None and hasattr(item, "id"):
            out[item.id] = item
    return out


def no_traceback(result: Result | subprocess.CompletedProcess[bytes]) -> None:
    if isinstance(result, Result):
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        text = result.output
    else:
        text = result.stdout.decode("utf-8", "replace") + result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in text


# --------------------------------------------------------------------------- 1. defaults


def record_secret_run(
    repo: GitRepo, emitters: list[Any] | None = None, **kwargs: Any
) -> tuple[str, str]:
    """A recorder run that emits every secret, writes a file and commits it (a note is
    written). Returns the run id and the commit."""
    repo.write("README.md", "# project\n")
    repo.commit("base")
    with Recorder(
        repo.root,
        tool_name="fake",
        model_id="openai/gpt-5",
        conversation_url=URL_WITH_CREDENTIALS,
        emitters=emitters or [],
        **kwargs,
    ) as rec:
        for event in secret_events():
            rec.emit(event)
        with rec.turn(), rec.edit("a.py"):
            repo.write("a.py", "x = 1\ny = 2\n")
        head = repo.commit("agent: a.py")
        rec.link()
        run_id = rec.run_id
    return run_id, head


def test_default_policy_writes_no_secret_anywhere(repo: GitRepo) -> None:
    run_id, head = record_secret_run(repo)
    files = store_bytes(repo.root)
    assert any(name.endswith("events.jsonl") for name in files)
    assert "traces.jsonl" in files
    for name, data in files.items():
        assert_no_secrets(f".agent-trace/{name}", data)
    notes = repo.notes()
    assert head in notes
    assert_no_secrets("git notes", notes_text(repo))
    # the note names the conversation without its credentials
    assert "https://chat.example.com/c/42?token=***&view=1" in notes[head]

    # contents left out, and marked so
    events_path = repo.root / ".agent-trace" / "runs" / run_id / "events.jsonl"
    items = items_by_id(written_events(events_path))
    assert items["m1"].text == ""
    assert items["m1"].extra[OMITTED_KEY] == ["messages"]
    assert items["r1"].text == ""
    assert items["r1"].extra[OMITTED_KEY] == ["reasoning"]
    assert items["p1"].text == ""
    assert items["t1"].items[0].text == ""
    assert items["c1"].aggregated_output == ""
    assert items["c1"].arguments is None
    assert items["c1"].extra[OMITTED_KEY] == ["command_output", "tool_io"]
    assert items["mcp1"].arguments is None
    assert items["mcp1"].result is None
    assert items["mcp1"].extra[OMITTED_KEY] == ["tool_io"]
    assert items["to1"].output == ""
    assert items["ti1"].arguments is None
    assert items["w1"].query == ""
    assert items["w1"].results is None
    # kept text: secrets redacted, the rest as it was
    assert SAFE_WORDS in items["c1"].command
    assert "[REDACTED:authorization-header]" in items["c1"].command
    assert items["mcp1"].error.message.startswith(f"MCPERROR {SAFE_WORDS}")
    assert "[REDACTED:" in items["e1"].message


def test_otel_spans_see_filtered_events(repo: GitRepo) -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from agent_trace.otel import OtelEmitter

    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # capture_content: the emitter would put every text it is given into the spans
    emitter = OtelEmitter(
        tracer_provider=provider, agent_name="fake", model_id="openai/gpt-5", capture_content=True
    )
    try:
        with emitter:
            record_secret_run(repo, emitters=[emitter])
        spans = list(exporter.get_finished_spans())
        assert spans
        out = []
        for span in spans:
            out += [span.name, str(span.status.description), repr(dict(span.attributes or {}))]
            out += [e.name + repr(dict(e.attributes or {})) for e in span.events]
            out += [repr(dict(link.attributes or {})) for link in span.links]
        text = "\n".join(out)
        assert_no_secrets("OpenTelemetry spans", text)
        assert "execute_tool search" in text  # the spans are there, only filtered
    finally:
        provider.shutdown()


def test_otel_spans_with_capture_all_have_text_but_no_secret(repo: GitRepo) -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from agent_trace.otel import OtelEmitter

    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    emitter = OtelEmitter(tracer_provider=provider, agent_name="fake", capture_content=True)
    try:
        with emitter:
            record_secret_run(repo, emitters=[emitter], capture="all")
        text = "\n".join(
            repr(dict(span.attributes or {}))
            + "".join(repr(dict(e.attributes or {})) for e in span.events)
            for span in exporter.get_finished_spans()
        )
        assert_no_secrets("OpenTelemetry spans", text)
        assert SAFE_WORDS in text
    finally:
        provider.shutdown()


ORIGIN_WITH_SECRETS = (
    "https://deploy:Hunter2PlantedPass@git.example.com/r.git?private_token="
    + (PLANTED["gitlab-token"][1])
)


def standalone_spans(repo: GitRepo, **kwargs: Any) -> tuple[str, list[Any]]:
    """Every planted secret fed straight to an ``OtelEmitter`` (no recorder in between)
    exporting into memory; returns everything the spans say, and the spans."""
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from agent_trace import LinkResult
    from agent_trace.otel import OtelEmitter

    repo.write("README.md", "# project\n")
    repo.commit("base")
    repo.git("remote", "add", "origin", ORIGIN_WITH_SECRETS)
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    blob = f"{SAFE_WORDS}\n{ALL_PLANTED}"
    events = [e for e in secret_events() if not isinstance(e, ThreadErrorEvent)]
    try:
        with OtelEmitter(
            tracer_provider=provider, agent_name="fake", repo=repo.root, **kwargs
        ) as emitter:
            emitter(ThreadStartedEvent(thread_id="standalone"))
            for event in events:
                emitter(event)
            emitter(TurnStartedEvent())
            emitter(TurnFailedEvent(error=ErrorDetail(message=f"TimeoutError: {blob}")))
            emitter.on_link(LinkResult(commit=repo.git("rev-parse", "HEAD"), record=None))
            emitter(ThreadErrorEvent(message=f"RuntimeError: {blob}"))
        spans = list(exporter.get_finished_spans())
    finally:
        provider.shutdown()
    out = []
    for span in spans:
        out += [span.name, str(span.status.description), repr(dict(span.attributes or {}))]
        out += [e.name + repr(dict(e.attributes or {})) for e in span.events]
        out += [repr(dict(link.attributes or {})) for link in span.links]
    return "\n".join(out), spans


def test_standalone_otel_emitter_exports_no_secret_by_default(repo: GitRepo) -> None:
    text, spans = standalone_spans(repo)
    assert_no_secrets("OpenTelemetry spans", text)
    assert PLANTED["gitlab-token"][1] not in text
    assert "vcs.repository.url.full': 'https://git.example.com/r.git?private_token=***'" in text
    assert SAFE_WORDS not in text  # no content by default
    assert {"execute_tool search", "execute_tool shell", "agent_trace.link"} <= {
        s.name for s in spans
    }


@pytest.mark.parametrize(
    "kwargs",
    [{"capture_content": True}, {"privacy": PrivacyPolicy(capture="all")}],
    ids=["capture_content", "privacy"],
)
def test_standalone_otel_emitter_redacts_what_it_captures(
    repo: GitRepo, kwargs: dict[str, Any]
) -> None:
    text, _ = standalone_spans(repo, **kwargs)
    assert_no_secrets("OpenTelemetry spans", text)
    assert PLANTED["gitlab-token"][1] not in text
    assert SAFE_WORDS in text  # the content is there, its secrets redacted
    for name in PLANTED:
        assert f"[REDACTED:{name}]" in text, name


def test_standalone_otel_emitter_keeping_everything_shows_the_secrets(repo: GitRepo) -> None:
    """The planted secrets do reach spans when the policy lets them: the tests above
    would see a leak."""
    text, _ = standalone_spans(repo, privacy=PrivacyPolicy.keep_everything())
    for secret in SECRETS:
        assert secret in text, secret
    # the origin URL is always what safe_url makes of it
    assert "vcs.repository.url.full': 'https://git.example.com/r.git?private_token=***'" in text


def test_safe_url_strips_credentials() -> None:
    assert safe_url(URL_WITH_CREDENTIALS) == "https://chat.example.com/c/42?token=***&view=1"
    assert safe_url("https://example.com/c/1") == "https://example.com/c/1"
    assert "s3cr3tsig" not in safe_url("https://x.example/a?sig=s3cr3tsig&code=abc")
    assert "ghp_" not in safe_url(f"https://x.example/{PLANTED['github-token'][1]}")


# --------------------------------------------------------------------------- 2. capture


def test_capture_all_keeps_text_and_redacts_secrets(repo: GitRepo) -> None:
    run_id, _ = record_secret_run(repo, capture="all")
    for name, data in store_bytes(repo.root).items():
        assert_no_secrets(f".agent-trace/{name}", data)
    events_path = repo.root / ".agent-trace" / "runs" / run_id / "events.jsonl"
    items = items_by_id(written_events(events_path))
    for item_id, field in [
        ("m1", "text"),
        ("r1", "text"),
        ("p1", "text"),
        ("c1", "aggregated_output"),
        ("to1", "output"),
        ("w1", "query"),
    ]:
        value = getattr(items[item_id], field)
        assert SAFE_WORDS in value, (item_id, field)
        assert "[REDACTED:private-key]" in value
        assert OMITTED_KEY not in items[item_id].extra
    assert SAFE_WORDS in items["t1"].items[0].text
    assert SAFE_WORDS in json.dumps(items["mcp1"].arguments)
    assert SAFE_WORDS in json.dumps(items["mcp1"].result)
    assert items["c1"].arguments is not None
    names = {p.name for p in DEFAULT_PATTERNS}
    message = items["m1"].text
    for name in names:
        assert f"[REDACTED:{name}]" in message, name


def test_capture_some_kinds_only() -> None:
    policy = PrivacyPolicy(capture="messages")
    msg = policy.apply(ItemCompletedEvent(item=AgentMessageItem(id="m", text="hi there")))
    rsn = policy.apply(ItemCompletedEvent(item=ReasoningItem(id="r", text="thinking")))
    assert isinstance(msg, ItemCompletedEvent)
    assert isinstance(rsn, ItemCompletedEvent)
    assert isinstance(msg.item, AgentMessageItem)
    assert msg.item.text == "hi there"
    assert isinstance(rsn.item, ReasoningItem)
    assert rsn.item.text == ""
    assert rsn.item.extra == {OMITTED_KEY: ["reasoning"]}
    done = ThreadCompletedEvent(
        thread_id="t",
        session_id="t",
        subtype="success",
        outcome_code="success",
        result="the result",
        usage=Usage(input_tokens=0, cached_input_tokens=0, output_tokens=0),
        num_turns=1,
    )
    kept = policy.apply(done)
    dropped = PrivacyPolicy().apply(done)
    assert isinstance(kept, ThreadCompletedEvent)
    assert kept.result == "the result"
    assert isinstance(dropped, ThreadCompletedEvent)
    assert dropped.result is None


def test_capture_parse() -> None:
    assert Capture.parse("messages,reasoning") == {Capture.MESSAGES, Capture.REASONING}
    assert Capture.parse("all") == frozenset(Capture)
    assert Capture.parse("none") == frozenset()
    assert Capture.parse("") == frozenset()
    assert Capture.parse(["tool-io", " Command_Output "]) == {
        Capture.TOOL_IO,
        Capture.COMMAND_OUTPUT,
    }
    with pytest.raises(ValueError, match="'bogus'"):
        Capture.parse("messages,bogus")


def test_capture_all_output_is_cut_to_its_tail() -> None:
    policy = PrivacyPolicy(capture="all", max_output_bytes=10)
    event = ItemCompletedEvent(
        item=CommandExecutionItem(
            id="c", command="ls", aggregated_output="0123456789abcdefghij", status="completed"
        )
    )
    out = policy.apply(event)
    assert isinstance(out, ItemCompletedEvent)
    assert isinstance(out.item, CommandExecutionItem)
    assert out.item.aggregated_output == "[agent-trace: 10 bytes cut]\nabcdefghij"


def test_no_redaction_round_trip(repo: GitRepo) -> None:
    """With everything captured, no redaction and no cutting, the events file holds
    exactly the events given."""
    given_events = secret_events()
    policy = PrivacyPolicy(capture="all", redactor=None, max_output_bytes=-1)
    with Recorder(repo.root, tool_name="fake", thread_events=False, privacy=policy) as rec:
        for event in given_events:
            rec.emit(event)
        path = rec.events_path
    written = written_events(path)
    assert written == given_events
    raw = path.read_bytes()
    assert PEM_BODY.encode() in raw


@settings(max_examples=100, deadline=None)
@given(event=s.events)
def test_keep_everything_is_identity(event: ThreadEvent) -> None:
    assert PrivacyPolicy.keep_everything().apply(event) == event
    assert PrivacyPolicy(capture="all", redactor=None, max_output_bytes=-1).apply(event) == event


@settings(max_examples=100, deadline=None)
@given(event=s.events)
def test_default_policy_is_idempotent(event: ThreadEvent) -> None:
    policy = PrivacyPolicy()
    once = policy.apply(event)
    assert policy.apply(once) == once


# --------------------------------------------------------------------------- 3. record


FAKE_AGENT = r"""
import json, sys
def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()
secret = sys.argv[1]
emit({"type": "thread.started", "thread_id": "fake-thread-1"})
emit({"type": "turn.started"})
emit({"type": "item.started", "item": {"id": "item_0", "type": "command_execution",
      "command": "bash -lc env", "aggregated_output": "", "status": "in_progress"}})
emit({"type": "item.completed", "item": {"id": "item_0", "type": "command_execution",
      "command": "bash -lc env", "aggregated_output": "HOME=/home/x\nGITHUB_TOKEN=" + secret + "\n",
      "exit_code": 0, "status": "completed"}})
emit({"type": "item.completed", "item": {"id": "item_1", "type": "agent_message",
      "text": "done"}})
emit({"type": "turn.completed", "usage": {"input_tokens": 10, "cached_input_tokens": 0,
      "output_tokens": 5}})
"""


@pytest.fixture
def fake_agent(tmp_path: Path) -> Path:
    path = tmp_path / "fake_agent.py"
    path.write_text(FAKE_AGENT, encoding="utf-8")
    return path


def run_id_of(stderr: str) -> str:
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("agent-trace: run "), stderr
    return last.removeprefix("agent-trace: run ").split(" ")[0]


def record_events(root: Path, run_id: str) -> list[dict[str, Any]]:
    path = root / ".agent-trace" / "runs" / run_id / "events.jsonl"
    evs: list[dict[str, Any]] = [
        json.loads(line)["event"] for line in path.read_text().splitlines()
    ]
    return evs


def command_item(evs: list[dict[str, Any]]) -> dict[str, Any]:
    [item] = [
        e["item"]
        for e in evs
        if e.get("type") == "item.completed" and e["item"].get("id") == "item_0"
    ]
    assert isinstance(item, dict)
    return item


GH_SECRET = PLANTED["github-token"][1]


def test_record_default_blanks_output(repo: GitRepo, fake_agent: Path) -> None:
    repo.write("README.md", "x\n")
    repo.commit("base")
    proc = installed_trace("record", "--", PYTHON, str(fake_agent), GH_SECRET, cwd=repo.root)
    assert proc.returncode == 0, proc.stderr
    no_traceback(proc)
    assert GH_SECRET.encode() in proc.stdout  # the agent's stdout is passed through as is
    run_id = run_id_of(proc.stderr.decode())
    item = command_item(record_events(repo.root, run_id))
    assert item["aggregated_output"] == ""
    assert item[OMITTED_KEY] == ["command_output"]
    for name, data in store_bytes(repo.root).items():
        assert GH_SECRET.encode() not in data, name


def test_record_capture_command_output_redacts(repo: GitRepo, fake_agent: Path) -> None:
    repo.write("README.md", "x\n")
    repo.commit("base")
    proc = installed_trace(
        "record",
        "--capture",
        "command_output",
        "--",
        PYTHON,
        str(fake_agent),
        GH_SECRET,
        cwd=repo.root,
    )
    assert proc.returncode == 0, proc.stderr
    run_id = run_id_of(proc.stderr.decode())
    evs = record_events(repo.root, run_id)
    item = command_item(evs)
    assert item["aggregated_output"] == ("HOME=/home/x\nGITHUB_TOKEN=[REDACTED:github-token]\n")
    assert OMITTED_KEY not in item
    [message] = [e["item"] for e in evs if "item" in e and e["item"].get("id") == "item_1"]
    assert message["text"] == ""  # messages not captured
    for name, data in store_bytes(repo.root).items():
        assert GH_SECRET.encode() not in data, name


def test_record_bad_capture_kind_is_a_usage_error(repo: GitRepo, fake_agent: Path) -> None:
    proc = installed_trace(
        "record", "--capture", "messages,bogus", "--", PYTHON, str(fake_agent), "x", cwd=repo.root
    )
    assert proc.returncode == 2
    assert b"bogus" in proc.stderr
    no_traceback(proc)
    assert not (repo.root / ".agent-trace" / "runs").exists() or not any(
        (repo.root / ".agent-trace" / "runs").iterdir()
    )


def test_import_capture(repo: GitRepo, fake_agent: Path, tmp_path: Path) -> None:
    log = tmp_path / "codex.jsonl"
    proc = subprocess.run(
        [PYTHON, str(fake_agent), GH_SECRET], capture_output=True, check=True, timeout=60
    )
    log.write_bytes(proc.stdout)
    repo.write("README.md", "x\n")
    repo.commit("base")
    outcome = import_log(log, repo=repo.root, format="codex", run_id="plain", link=False)
    item = command_item(record_events(repo.root, outcome.run_id))
    assert item["aggregated_output"] == ""
    assert item[OMITTED_KEY] == ["command_output"]
    result = trace(
        "import", "codex", str(log), "--run-id", "kept", "--no-link",
        "--capture", "command_output,messages", "-C", str(repo.root),
    )  # fmt: skip
    no_traceback(result)
    evs = record_events(repo.root, "kept")
    assert "[REDACTED:github-token]" in command_item(evs)["aggregated_output"]
    trace("import", "codex", str(log), "--capture", "nope", "-C", str(repo.root), code=2)
    for name, data in store_bytes(repo.root).items():
        assert GH_SECRET.encode() not in data, name


# --------------------------------------------------------------------------- 4. properties


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200), n=st.integers(min_value=0, max_value=300))
def test_cut_to_tail_keeps_a_whole_character_suffix(text: str, n: int) -> None:
    out = cut_to_tail(text, n)
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= n:
        assert out == text
        return
    header, sep, tail = out.partition("\n")
    assert sep == "\n"
    assert header.startswith("[agent-trace: ")
    assert header.endswith(" bytes cut]")
    encoded = tail.encode("utf-8", "surrogatepass")
    assert len(encoded) <= n
    assert data.endswith(encoded)
    assert text.endswith(tail)
    cut = int(header.removeprefix("[agent-trace: ").removesuffix(" bytes cut]").replace(",", ""))
    assert cut + len(encoded) == len(data)
    assert len(data) - len(encoded) < n + 4 or n == 0 or cut >= len(data) - n


def test_cut_to_tail_examples() -> None:
    assert cut_to_tail("abc", 3) == "abc"
    assert cut_to_tail("abc", -1) == "abc"
    assert cut_to_tail("ab€", 2) == "[agent-trace: 5 bytes cut]\n"  # € is 3 bytes
    assert cut_to_tail("a€", 3) == "[agent-trace: 1 bytes cut]\n€"
    big = "x" * 5000
    assert cut_to_tail(big, 10).startswith("[agent-trace: 4,990 bytes cut]\n")


@settings(max_examples=100, deadline=None)
@given(
    text=st.text(max_size=200),
    n=st.integers(min_value=-1, max_value=300),
    m=st.integers(min_value=0, max_value=300),
)
def test_cut_to_tail_twice_is_cutting_once(text: str, n: int, m: int) -> None:
    """A policy applied twice (the recorder's, then an emitter's) cuts output once; a
    second, smaller cut counts both."""
    once = cut_to_tail(text, n)
    assert cut_to_tail(once, n) == once
    data = text.encode("utf-8", "surrogatepass")
    if 0 <= m <= n < len(data):
        twice = cut_to_tail(once, m)
        assert twice == cut_to_tail(text, m)


def test_cut_to_tail_again_examples() -> None:
    once = cut_to_tail("0123456789abcdefghij", 10)
    assert once == "[agent-trace: 10 bytes cut]\nabcdefghij"
    assert cut_to_tail(once, 10) == once
    assert cut_to_tail(once, 4) == "[agent-trace: 16 bytes cut]\nghij"
    assert cut_to_tail(once, -1) == once
    big = cut_to_tail("y" * 5_000_000, 100)
    assert big.startswith("[agent-trace: 4,999,900 bytes cut]\n")
    assert cut_to_tail(big, 100) == big
    assert cut_to_tail(big, 10) == "[agent-trace: 4,999,990 bytes cut]\n" + "y" * 10
    # a header-like first line is only ours when its count is a count
    odd = "[agent-trace: " + "9" * 5000 + " bytes cut]\nabc"
    assert cut_to_tail(odd, 3).endswith("\nabc")


LONG_COMMAND = CommandExecutionItem(
    id="c", command="make", aggregated_output="€ output\n" * 4000, status="completed"
)


@settings(max_examples=100, deadline=None)
@given(event=s.events, limit=st.sampled_from([0, 5, 40, 16 * 1024]))
@example(event=ItemCompletedEvent(item=LONG_COMMAND), limit=40)
@example(event=ItemCompletedEvent(item=LONG_COMMAND), limit=16 * 1024)
@example(
    event=ItemCompletedEvent(
        item=ToolOutputItem(id="o", call_id="c", output="x" * 99, status="completed")
    ),
    limit=0,
)
def test_policy_capturing_all_is_idempotent(event: ThreadEvent, limit: int) -> None:
    policy = PrivacyPolicy(capture="all", max_output_bytes=limit)
    once = policy.apply(event)
    assert policy.apply(once) == once


FRAGMENTS = st.one_of(
    st.sampled_from([text for text, _ in PLANTED.values()]),
    st.sampled_from(SECRETS),
    st.text(max_size=20),
    st.sampled_from([" ", "\n", "=", ":", "'", '"', "password=", "token: ", "Bearer ", "@", "/"]),
)


@settings(max_examples=100, deadline=None)
@given(parts=st.lists(FRAGMENTS, max_size=8))
@example(parts=[PLANTED["aws-secret-access-key"][0]])
def test_redact_is_idempotent(parts: list[str]) -> None:
    text = "".join(parts)
    redactor = Redactor()
    once = redactor.redact(text)
    assert redactor.redact(once) == once


@settings(max_examples=100, deadline=None)
@given(
    parts=st.lists(
        st.one_of(st.sampled_from([text for text, _ in PLANTED.values()]), st.text(max_size=20)),
        max_size=8,
    )
)
def test_redacted_text_keeps_no_planted_secret(parts: list[str]) -> None:
    """Planted secrets among random text (space-separated) never survive redaction, and
    the redacted text holds nothing but markers where it found something."""
    out = Redactor().redact(" ".join(parts))
    for secret in SECRETS:
        assert secret not in out
    for f in Redactor().findings(out):
        assert out[f.start : f.end].startswith("[REDACTED:") or f.name == "secret-assignment"


@settings(max_examples=100, deadline=None)
@given(parts=st.lists(st.one_of(st.sampled_from(SECRETS), st.text(max_size=10)), max_size=6))
def test_findings_do_not_overlap_and_are_sorted(parts: list[str]) -> None:
    text = " ".join(parts)
    found = Redactor().findings(text)
    for a, b in itertools.pairwise(found):
        assert a.end <= b.start
    for f in found:
        assert 0 <= f.start < f.end <= len(text)


GOOGLE_KEY = "AIza" + "G" * 35  # exactly as long as the pattern: a glued key is not eaten
GLUED = (
    f"keys {GOOGLE_KEY}{GOOGLE_KEY}{PLANTED['aws-access-key-id'][1]} and "
    f"{PLANTED['slack-token'][1]}\nnext {GOOGLE_KEY}{GOOGLE_KEY}"
)
GLUED_REDACTED = (
    "keys [REDACTED:google-api-key][REDACTED:google-api-key][REDACTED:aws-access-key-id] and "
    "[REDACTED:slack-token]\nnext [REDACTED:google-api-key][REDACTED:google-api-key]"
)


def replaced(text: str, findings: list[Any]) -> str:
    """``text`` with each finding's span replaced by its marker."""
    out, last = [], 0
    for f in findings:
        out += [text[last : f.start], f"[REDACTED:{f.name}]"]
        last = f.end
    return "".join([*out, text[last:]])


def test_glued_secrets_take_more_rounds() -> None:
    redactor = Redactor()
    assert len(redactor.findings(GLUED)) == 3  # the first round sees only some of them
    redacted, found = redactor.redact_with_findings(GLUED)
    assert redacted == redactor.redact(GLUED) == GLUED_REDACTED
    assert [(f.name, GLUED[f.start : f.end]) for f in found] == [
        ("google-api-key", GOOGLE_KEY),
        ("google-api-key", GOOGLE_KEY),
        ("aws-access-key-id", PLANTED["aws-access-key-id"][1]),
        ("slack-token", PLANTED["slack-token"][1]),
        ("google-api-key", GOOGLE_KEY),
        ("google-api-key", GOOGLE_KEY),
    ]
    assert replaced(GLUED, found) == redacted


@pytest.mark.parametrize("count", [5, 6, 40])
def test_any_number_of_glued_secrets_is_redacted(count: int) -> None:
    """Each round finds one more secret of a glued chain; the rounds go on as long as the
    chain (they used to stop after four, leaving the fifth key in the text)."""
    text = "key=" + GOOGLE_KEY * count + " and\n" + GOOGLE_KEY * count + ","
    redactor = Redactor()
    redacted, found = redactor.redact_with_findings(text)
    assert "AIza" not in redacted
    assert redacted.count("[REDACTED:google-api-key]") == 2 * count
    assert len(found) == 2 * count
    assert redactor.redact(redacted) == redacted
    assert replaced(text, found) == redacted


def test_a_long_secret_glued_at_the_end_of_a_chain_is_redacted_whole() -> None:
    """Found after the fourth round (where only the places after markers are looked at,
    through a window), a key longer than the window is still replaced whole."""
    long_key = "sk-ant-" + "a1" * 6000
    text = GOOGLE_KEY * 6 + long_key + " end"
    redacted, found = Redactor().redact_with_findings(text)
    assert redacted == "[REDACTED:google-api-key]" * 6 + "[REDACTED:anthropic-api-key] end"
    assert text[found[-1].start : found[-1].end] == long_key


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(FRAGMENTS, max_size=8), glue=st.sampled_from(["", " ", "\n"]))
@example(parts=[GOOGLE_KEY, GOOGLE_KEY, SECRETS[1]], glue="")
@example(parts=["[REDACTED:jwt]", GOOGLE_KEY, GOOGLE_KEY], glue="")
def test_findings_of_every_round_make_the_redacted_text(parts: list[str], glue: str) -> None:
    """What ``trace redact-test`` lists is what redaction replaced, in every round:
    replacing the spans it names gives the redacted text."""
    text = glue.join(parts)
    redactor = Redactor()
    redacted, found = redactor.redact_with_findings(text)
    assert redacted == redactor.redact(text)
    for a, b in itertools.pairwise(found):
        assert a.end <= b.start
    for f in found:
        assert 0 <= f.start < f.end <= len(text)
    assert replaced(text, found) == redacted
    first = redactor.findings(text)
    assert set(first) <= set(found)
    assert (redacted == text) == (found == [])


# --------------------------------------------------------------------------- 5. config


def write_config(repo: GitRepo, text: str) -> Path:
    return repo.write(".agent-trace/config.toml", text)


def test_valid_config_extra_pattern_and_disable(repo: GitRepo) -> None:
    write_config(
        repo,
        '[privacy]\ncapture = ["messages"]\nmax_output_bytes = 100\n'
        'disable = ["secret-assignment"]\n'
        '[privacy.patterns]\ninternal-token = "itk_[0-9a-f]{8}"\n',
    )
    policy = load_privacy(repo.root / ".agent-trace")
    assert policy.capture == {Capture.MESSAGES}
    assert policy.max_output_bytes == 100
    assert policy.redactor is not None
    text = "itk_deadbeef and password=Sup3rSecretValue and ghp_" + "a" * 36
    assert policy.redactor.redact(text) == (
        "[REDACTED:internal-token] and password=Sup3rSecretValue and [REDACTED:github-token]"
    )
    # --capture replaces the configured kinds
    assert load_privacy(repo.root / ".agent-trace", "reasoning").capture == {Capture.REASONING}
    # the recorder follows the configuration
    with Recorder(repo.root, tool_name="fake", thread_events=False) as rec:
        rec.emit(ItemCompletedEvent(item=AgentMessageItem(id="m", text="see itk_0123abcd")))
        rec.emit(ItemCompletedEvent(item=ReasoningItem(id="r", text="hidden")))
        path = rec.events_path
    items = items_by_id(written_events(path))
    assert items["m"].text == "see [REDACTED:internal-token]"
    assert items["r"].text == ""
    # trace redact-test uses the repository's patterns
    out = trace("redact-test", "token itk_0123abcd", "-C", str(repo.root)).stdout
    assert out == "token [REDACTED:internal-token]\n"


def test_config_redact_false(repo: GitRepo) -> None:
    write_config(repo, "[privacy]\nredact = false\ncapture = 'all'\nmax_output_bytes = -1\n")
    policy = load_privacy(repo.root / ".agent-trace")
    assert policy.redactor is None
    assert policy == PrivacyPolicy.keep_everything()


def test_no_config_means_defaults(repo: GitRepo) -> None:
    assert load_privacy(repo.root / ".agent-trace") == PrivacyPolicy()
    assert load_privacy(None) == PrivacyPolicy()


BAD_CONFIGS = [
    pytest.param("[privacy\ncapture = 1\n", "not valid TOML", id="invalid-toml"),
    pytest.param("privacy = 3\n", "[privacy]", id="privacy-not-a-table"),
    pytest.param("[privacy]\nmax_output_bytes = 'big'\n", "privacy.max_output_bytes", id="type"),
    pytest.param("[privacy]\nmax_output_bytes = true\n", "privacy.max_output_bytes", id="bool"),
    pytest.param("[privacy]\nredact = 'yes'\n", "privacy.redact", id="redact-type"),
    pytest.param("[privacy]\ncapture = 3\n", "privacy.capture", id="capture-type"),
    pytest.param("[privacy]\ncapture = 'bogus'\n", "bogus", id="capture-kind"),
    pytest.param("[privacy]\ncolour = 'red'\n", "privacy.colour", id="unknown-key"),
    pytest.param("[privacy.patterns]\nbroken = '([a-z'\n", "broken", id="bad-regex"),
    pytest.param("[privacy.patterns]\nnum = 3\n", "privacy.patterns", id="pattern-type"),
    pytest.param("[privacy]\ndisable = ['no-such-pattern']\n", "no-such-pattern", id="disable"),
    pytest.param("[privacy]\ndisable = 'jwt'\n", "privacy.disable", id="disable-type"),
]


@pytest.mark.parametrize(("text", "key"), BAD_CONFIGS)
def test_bad_config_names_file_and_key(repo: GitRepo, text: str, key: str) -> None:
    write_config(repo, text)
    with pytest.raises(ConfigError) as info:
        load_privacy(repo.root / ".agent-trace")
    message = str(info.value)
    assert "config.toml" in message
    assert key in message
    assert "\n" not in message.strip() or "TOML" in message


@pytest.mark.parametrize(("text", "key"), BAD_CONFIGS)
def test_bad_config_through_cli_exits_1(
    repo: GitRepo, tmp_path: Path, fake_agent: Path, text: str, key: str
) -> None:
    write_config(repo, text)
    log = tmp_path / "codex.jsonl"
    log.write_text('{"type":"thread.started","thread_id":"t1"}\n{"type":"turn.started"}\n')
    result = CliRunner().invoke(
        cli, ["import", "codex", str(log), "--no-link", "-C", str(repo.root)], env=CLEAN_ENV
    )
    assert result.exit_code == 1, (result.output, result.exc_info)
    no_traceback(result)
    assert "config.toml" in result.output
    assert key in result.output
    assert len(result.output.strip().splitlines()) == 1 or "TOML" in result.output


def test_bad_config_through_installed_record(repo: GitRepo, fake_agent: Path) -> None:
    write_config(repo, "[privacy]\nunknown_thing = 1\n")
    proc = installed_trace("record", "--", PYTHON, str(fake_agent), "x", cwd=repo.root)
    assert proc.returncode == 1, proc.stderr
    no_traceback(proc)
    err = proc.stderr.decode()
    assert "config.toml" in err
    assert "privacy.unknown_thing" in err
    assert len(err.strip().splitlines()) == 1
    # redact-test too
    proc = installed_trace("redact-test", "hello", cwd=repo.root)
    assert proc.returncode == 1
    no_traceback(proc)


def test_redactor_configured() -> None:
    r = Redactor.configured({"mine": r"id=(\w{5})"}, ["jwt"])
    names = [p.name for p in r.patterns]
    assert names[0] == "mine"
    assert "jwt" not in names
    assert r.redact("id=abcde") == "id=[REDACTED:mine]"
    jwt = PLANTED["jwt"][0]
    assert r.redact(jwt) == jwt
    with pytest.raises(ValueError, match="nope"):
        Redactor.configured(disable=["nope"])
    assert Redactor.configured(defaults=False).redact(ALL_PLANTED) == ALL_PLANTED


def test_redactor_configured_bad_regex_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="bad"):
        Redactor.configured({"bad": "(unclosed"})


# --------------------------------------------------------------------------- 6. redact-test


def test_redact_test_text(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = PLANTED["github-token"][1]
    result = trace("redact-test", f"token is {secret}", "-C", str(outside))
    assert result.stdout == "token is [REDACTED:github-token]\n"
    assert "1 secret redacted:" in result.stderr
    assert "line 1: github-token" in result.stderr
    assert secret not in result.stderr
    clean = trace("redact-test", "nothing here", "-C", str(outside))
    assert clean.stdout == "nothing here\n"
    assert "no secrets found" in clean.stderr


def test_redact_test_json(tmp_path: Path) -> None:
    text = f"a\n{PLANTED['aws-access-key-id'][0]}\nb {PLANTED['slack-token'][1]}"
    result = trace("redact-test", text, "--format", "json", "-C", str(tmp_path))
    data = json.loads(result.stdout)
    assert data["redacted"] == (
        "a\nkey id [REDACTED:aws-access-key-id] here\nb [REDACTED:slack-token]"
    )
    assert [(f["pattern"], f["line"]) for f in data["findings"]] == [
        ("aws-access-key-id", 2),
        ("slack-token", 3),
    ]
    for f in data["findings"]:
        assert text[f["start"] : f["end"]] in SECRETS
    none = json.loads(trace("redact-test", "x", "--format", "json").stdout)
    assert none == {"findings": [], "redacted": "x"}


def test_redact_test_lists_the_findings_of_every_round(tmp_path: Path) -> None:
    """Secrets glued together are found in later rounds; the listing shows them all, at
    their places in the given text, and agrees with the redacted text it prints."""
    data = json.loads(trace("redact-test", GLUED, "--format", "json", "-C", str(tmp_path)).stdout)
    assert data["redacted"] == GLUED_REDACTED
    assert [(f["pattern"], f["line"]) for f in data["findings"]] == [
        ("google-api-key", 1),
        ("google-api-key", 1),
        ("aws-access-key-id", 1),
        ("slack-token", 1),
        ("google-api-key", 2),
        ("google-api-key", 2),
    ]
    out, last = [], 0
    for f in data["findings"]:
        assert GLUED[f["start"] : f["end"]] in (GOOGLE_KEY, *SECRETS)
        out += [GLUED[last : f["start"]], f"[REDACTED:{f['pattern']}]"]
        last = f["end"]
    assert "".join([*out, GLUED[last:]]) == data["redacted"]

    result = trace("redact-test", GLUED, "-C", str(tmp_path))
    assert result.stdout == GLUED_REDACTED + "\n"
    assert result.stderr.splitlines() == [
        "6 secrets redacted:",
        f"  line 1: google-api-key ({len(GOOGLE_KEY)} characters)",
        f"  line 1: google-api-key ({len(GOOGLE_KEY)} characters)",
        "  line 1: aws-access-key-id (20 characters)",
        f"  line 1: slack-token ({len(PLANTED['slack-token'][1])} characters)",
        f"  line 2: google-api-key ({len(GOOGLE_KEY)} characters)",
        f"  line 2: google-api-key ({len(GOOGLE_KEY)} characters)",
    ]
    assert result.stdout.count("[REDACTED:") == len(data["findings"])


def test_redact_test_stdin_and_file(tmp_path: Path) -> None:
    result = trace("redact-test", "-", "-C", str(tmp_path), input=ALL_PLANTED.encode())
    assert_no_secrets("redact-test stdout", result.stdout)
    assert f"{len(PLANTED)} secrets redacted:" in result.stderr
    path = tmp_path / "leak.env"
    path.write_text(ALL_PLANTED + "\n", encoding="utf-8")
    from_file = trace("redact-test", str(path), "--format", "json", "-C", str(tmp_path))
    data = json.loads(from_file.stdout)
    assert {f["pattern"] for f in data["findings"]} == set(PLANTED)
    assert_no_secrets("redact-test json", data["redacted"])
    # the installed script, reading standard input
    proc = installed_trace("redact-test", "-", cwd=tmp_path, input=ALL_PLANTED.encode())
    assert proc.returncode == 0
    assert_no_secrets("trace redact-test", proc.stdout + proc.stderr)


def test_redact_test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x00\x01binary" + PLANTED["github-token"][1].encode())
    result = trace("redact-test", str(path), "-C", str(tmp_path), code=1)
    no_traceback(result)
    assert "binary" in result.output
    stdin = trace("redact-test", "-", "-C", str(tmp_path), input=b"a\x00b", code=1)
    assert "standard input" in stdin.output


def test_redact_test_usage_errors(tmp_path: Path) -> None:
    trace("redact-test", code=2)
    trace("redact-test", "x", "--format", "yaml", code=2)


def test_redact_test_invalid_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"caf\xe9 " + PLANTED["gitlab-token"][1].encode())
    result = trace("redact-test", str(path), "-C", str(tmp_path))
    assert result.stdout == "caf\ufffd [REDACTED:gitlab-token]\n"


# --------------------------------------------------------------------------- 7. nesting


DEPTH = 1000
DEEP_WEB_SEARCH = ("[" * DEPTH + '{"type":"web_search"}' + "]" * DEPTH).encode()
DEEP_NUMBER = ("[" * DEPTH + "1234567890123456789012" + "]" * DEPTH).encode()
GOOD = b'{"type":"turn.started"}'


@pytest.mark.parametrize("line", [DEEP_WEB_SEARCH, DEEP_NUMBER], ids=["web_search", "number"])
def test_deep_nesting_is_a_decode_error(line: bytes) -> None:
    with pytest.raises(ValueError, match=r"(?i)nest|recurs|depth|deep"):
        loads(line)


@pytest.mark.parametrize("line", [DEEP_WEB_SEARCH, DEEP_NUMBER], ids=["web_search", "number"])
def test_deep_nesting_is_a_malformed_line(tmp_path: Path, line: bytes) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(GOOD + b"\n" + line + b"\n" + GOOD + b"\n")
    reader = EventReader(path, strict=False)
    events = [entry.event for entry in reader]
    assert events == [TurnStartedEvent(), TurnStartedEvent()]
    assert reader.malformed == 1
    assert [issue.line for issue in reader.issues] == [2]
    result = CliRunner().invoke(cli, ["events", "show", str(path)], env=CLEAN_ENV)
    no_traceback(result)
    assert result.exit_code in (0, 1), result.output
    assert ":2" in result.output or "line 2" in result.output
    proc = installed_trace("events", "show", str(path), cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode in (0, 1)


@pytest.mark.parametrize("line", [DEEP_WEB_SEARCH, DEEP_NUMBER], ids=["web_search", "number"])
def test_deep_nesting_in_traces_jsonl(repo: GitRepo, line: bytes) -> None:
    record_secret_run(repo)
    traces = repo.root / ".agent-trace" / "traces.jsonl"
    with traces.open("ab") as f:
        f.write(line + b"\n")
    for args in (["log"], ["blame", "a.py"], ["blame", "a.py", "--format", "json"]):
        result = CliRunner().invoke(cli, [*args, "-C", str(repo.root)], env=CLEAN_ENV)
        no_traceback(result)
        assert result.exit_code in (0, 1), (args, result.output, result.exc_info)
    proc = installed_trace("log", cwd=repo.root)
    no_traceback(proc)
    assert proc.returncode in (0, 1)


_HINT_WORDS = sorted({h for p in DEFAULT_PATTERNS for h in p.hints})


@given(st.lists(st.text(alphabet="abk-_:/s", min_size=1, max_size=5), min_size=1, max_size=6),
       st.text(alphabet="abk-_:/sAK ", max_size=30))  # fmt: skip
def test_any_of_finds_exactly_where_a_word_occurs(words: list[str], text: str) -> None:
    from agent_trace.events._redact import _any_of

    found = re.search(_any_of(words), text) is not None
    assert found == any(w in text for w in words)


@given(st.lists(st.sampled_from([*_HINT_WORDS, "x", " ", "=", "AKIA", "ghp_", "12345678"]),
                max_size=12).map("".join),
       st.text(max_size=40))  # fmt: skip
@example("token=abcdefgh123", "")
@example("bash -lc 'ls -la'", "")
def test_the_hint_prefilter_changes_no_finding(head: str, tail: str) -> None:
    text = head + tail
    fast = Redactor()
    slow = Redactor()
    object.__setattr__(slow, "_hinted", None)  # every pattern searched, as before
    assert fast.findings(text) == slow.findings(text)
    assert fast.redact(text) == slow.redact(text)
