"""The OpenTelemetry bridge: thread events → GenAI spans, recorded by the real SDK, exported
over real OTLP/HTTP, and tied to ``trace blame`` through a real recorder run."""

from __future__ import annotations

import gzip
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner
from gitrepo import GitRepo
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from agent_trace import Recorder, TraceStore
from agent_trace.cli import cli
from agent_trace.events import (
    AgentMessageItem,
    CommandExecutionItem,
    ErrorDetail,
    FileChangeItem,
    FileUpdateChange,
    ItemCompletedEvent,
    ItemStartedEvent,
    ItemUpdatedEvent,
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
    TurnCompletedEvent,
    TurnFailedEvent,
    TurnStartedEvent,
    UnknownEvent,
    UnknownItem,
    Usage,
    WebSearchItem,
)
from agent_trace.events._privacy import Capture, PrivacyPolicy, safe_url
from agent_trace.otel import OtelEmitter, otlp_emitter

ROOT = Path(__file__).resolve().parent.parent
SONNET = "anthropic/claude-sonnet-4-5"
COMMAND = "curl -H 'Authorization: Bearer CMD-SECRET' https://example.com/api"
OUTPUT = "OUTPUT-SECRET 200 OK"
MESSAGE = "MESSAGE-SECRET: I added a.py and b.py"
REASONING = "REASONING-SECRET: the user wants two files"
ARGUMENT = "ARGUMENT-SECRET"
ERROR = "ERROR-SECRET: search backend down"
SECRETS = (
    "CMD-SECRET",
    "OUTPUT-SECRET",
    "MESSAGE-SECRET",
    "REASONING-SECRET",
    ARGUMENT,
    "ERROR-SECRET",
)
USAGE = Usage(input_tokens=1200, cached_input_tokens=300, output_tokens=450)
TOTAL = Usage(input_tokens=1500, cached_input_tokens=300, output_tokens=500)


class Spans:
    """A fresh SDK tracer provider recording into memory (never the global one)."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider(shutdown_on_exit=False)
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def emitter(self, **kwargs: Any) -> OtelEmitter:
        return OtelEmitter(tracer_provider=self.provider, **kwargs)

    def all(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> ReadableSpan:
        [span] = [s for s in self.all() if s.name == name]
        return span


@pytest.fixture
def spans() -> Iterator[Spans]:
    recorded = Spans()
    yield recorded
    recorded.provider.shutdown()


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, Sequence) and not isinstance(v, str) else v
            for k, v in (span.attributes or {}).items()}  # fmt: skip


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    return cast(int, span.context.span_id)


def everything(recorded: list[ReadableSpan]) -> str:
    """Every name, attribute, event, link and status text of the spans, as one string."""
    out = []
    for span in recorded:
        out += [span.name, str(span.status.description), json.dumps(attrs(span))]
        out += [e.name + json.dumps(dict(e.attributes or {})) for e in span.events]
        out += [json.dumps(dict(link.attributes or {})) for link in span.links]
    return "\n".join(out)


def codex_run(thread_id: str = "run-1") -> list[ThreadEvent]:
    """One turn of a Codex-like agent: a command, a two-file patch, a message, a failed
    MCP call, usage."""
    command: dict[str, Any] = {"id": "item_0", "command": COMMAND}
    changes = [
        FileUpdateChange(path="src/a.py", kind="add"),
        FileUpdateChange(path="src/b.py", kind="update"),
    ]
    mcp: dict[str, Any] = {
        "id": "item_4",
        "server": "docs",
        "tool": "search",
        "arguments": {"q": ARGUMENT},
    }
    return [
        ThreadStartedEvent(thread_id=thread_id),
        TurnStartedEvent(),
        ItemCompletedEvent(item=ReasoningItem(id="item_r", text=REASONING)),
        ItemStartedEvent(item=CommandExecutionItem(**command, status="in_progress")),
        ItemCompletedEvent(
            item=CommandExecutionItem(
                **command, aggregated_output=OUTPUT, exit_code=0, status="completed"
            )
        ),
        ItemStartedEvent(item=FileChangeItem(id="item_1", changes=changes, status="in_progress")),
        ItemCompletedEvent(item=FileChangeItem(id="item_1", changes=changes, status="completed")),
        ItemUpdatedEvent(item=AgentMessageItem(id="item_2", text=MESSAGE[:10])),
        ItemCompletedEvent(item=AgentMessageItem(id="item_2", text=MESSAGE)),
        ItemStartedEvent(item=McpToolCallItem(**mcp, status="in_progress")),
        ItemCompletedEvent(
            item=McpToolCallItem(**mcp, error=ErrorDetail(message=ERROR), status="failed")
        ),
        TurnCompletedEvent(usage=USAGE),
        ThreadCompletedEvent(
            thread_id=thread_id,
            session_id=thread_id,
            subtype="success",
            outcome_code="success",
            usage=TOTAL,
            num_turns=1,
        ),
    ]


def feed(emitter: OtelEmitter, events: list[ThreadEvent]) -> None:
    for event in events:
        emitter(event)


# --------------------------------------------------------------------------- mapping


def test_a_run_becomes_genai_spans(spans: Spans) -> None:
    feed(spans.emitter(agent_name="coder", model_id=SONNET), codex_run())
    recorded = spans.all()
    assert [s.name for s in recorded] == [
        "execute_tool shell",
        "execute_tool apply_patch",
        "execute_tool search",
        "chat claude-sonnet-4-5",
        "invoke_agent coder",
    ]
    shell, patch, search, chat, root = recorded
    assert {s.context.trace_id for s in recorded} == {root.context.trace_id}
    assert parent_id(root) is None
    assert parent_id(chat) == span_id(root)
    assert [parent_id(s) for s in (shell, patch, search)] == [span_id(chat)] * 3
    assert {s.kind for s in recorded} == {SpanKind.INTERNAL}
    model = {"gen_ai.provider.name": "anthropic", "gen_ai.request.model": "claude-sonnet-4-5"}
    assert attrs(root) == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "coder",
        "gen_ai.conversation.id": "run-1",
        "agent_trace.run.id": "run-1",
        **model,
        "gen_ai.usage.input_tokens": 1500,
        "gen_ai.usage.output_tokens": 500,
        "gen_ai.usage.cache_read.input_tokens": 300,
    }
    assert attrs(chat) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.conversation.id": "run-1",
        **model,
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 450,
        "gen_ai.usage.cache_read.input_tokens": 300,
    }
    tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.conversation.id": "run-1"}
    assert attrs(shell) == {
        **tool,
        "gen_ai.tool.name": "shell",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": "item_0",
        "process.exit.code": 0,
    }
    assert attrs(patch) == {
        **tool,
        "gen_ai.tool.name": "apply_patch",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": "item_1",
        "agent_trace.files": ("src/a.py", "src/b.py"),
        "agent_trace.change.kinds": ("add", "update"),
    }
    assert attrs(search) == {
        **tool,
        "gen_ai.tool.name": "search",
        "gen_ai.tool.type": "extension",
        "gen_ai.tool.call.id": "item_4",
        "error.type": "failed",
    }
    statuses = [(s.status.status_code, s.status.description) for s in recorded]
    unset = (StatusCode.UNSET, None)
    assert statuses == [unset, unset, (StatusCode.ERROR, "failed"), unset, (StatusCode.OK, None)]
    events = [(e.name, dict(e.attributes or {})) for e in chat.events]
    # the length of the text the privacy policy kept: none (not captured)
    assert events == [
        ("gen_ai.reasoning", {"agent_trace.item.id": "item_r", "agent_trace.text.length": 0}),
        ("gen_ai.agent.message", {"agent_trace.item.id": "item_2", "agent_trace.text.length": 0}),
    ]
    assert list(root.events) == []
    text = everything(recorded)
    assert [secret for secret in SECRETS if secret in text] == []
    assert "curl" not in text


def test_content_only_when_asked(spans: Spans) -> None:
    feed(spans.emitter(model_id=SONNET, capture_content=True), codex_run())
    shell = spans.named("execute_tool shell")
    assert attrs(shell)["gen_ai.tool.call.arguments"] == COMMAND
    assert attrs(shell)["gen_ai.tool.call.result"] == OUTPUT
    search = spans.named("execute_tool search")
    assert json.loads(attrs(search)["gen_ai.tool.call.arguments"]) == {"q": ARGUMENT}
    assert "gen_ai.tool.call.result" not in attrs(search)
    assert (search.status.status_code, search.status.description) == (StatusCode.ERROR, ERROR)
    chat = spans.named("chat claude-sonnet-4-5")
    reasoning, message = (dict(e.attributes or {}) for e in chat.events)
    assert json.loads(str(message["gen_ai.output.messages"])) == [
        {"role": "assistant", "parts": [{"type": "text", "content": MESSAGE}]}
    ]
    assert json.loads(str(reasoning["gen_ai.output.messages"])) == [
        {"role": "assistant", "parts": [{"type": "reasoning", "content": REASONING}]}
    ]
    assert (message["agent_trace.text.length"], reasoning["agent_trace.text.length"]) == (
        len(MESSAGE),
        len(REASONING),
    )
    text = everything(spans.all())
    assert [secret for secret in SECRETS if secret not in text] == []


# --------------------------------------------------------------------------- privacy


def shape(recorded: list[ReadableSpan]) -> list[Any]:
    """What the spans say (names, attributes, events, statuses), without ids and times."""
    return [
        (
            span.name,
            attrs(span),
            [(e.name, dict(e.attributes or {})) for e in span.events],
            span.status.status_code,
            span.status.description,
        )
        for span in recorded
    ]


def failing_run() -> list[ThreadEvent]:
    """A run whose turn fails and which then ends with an error, both with messages."""
    return [
        ThreadStartedEvent(thread_id="run-2"),
        TurnStartedEvent(),
        TurnFailedEvent(error=ErrorDetail(message="TimeoutError: TURN-SECRET slow model")),
        ThreadErrorEvent(message="RuntimeError: THREAD-SECRET gone"),
    ]


def test_capture_content_is_a_privacy_policy(spans: Spans) -> None:
    assert spans.emitter().privacy == PrivacyPolicy()
    assert spans.emitter(capture_content=False).privacy == PrivacyPolicy()
    assert spans.emitter(capture_content=True).privacy == PrivacyPolicy(capture="all")
    assert spans.emitter().capture_content is False
    assert spans.emitter(capture_content=True).capture_content is True
    assert spans.emitter(privacy=PrivacyPolicy(capture="messages")).capture_content is False
    policy = PrivacyPolicy(capture="messages")
    assert spans.emitter(privacy=policy).privacy is policy
    for capture_content in (True, False):
        with pytest.raises(ValueError, match="privacy or capture_content, not both"):
            spans.emitter(privacy=policy, capture_content=capture_content)
    # capture_content=True makes the spans PrivacyPolicy(capture="all") makes
    feed(spans.emitter(model_id=SONNET, capture_content=True), [*codex_run(), *failing_run()])
    old = shape(spans.all())
    spans.exporter.clear()
    all_kinds = PrivacyPolicy(capture="all")
    feed(spans.emitter(model_id=SONNET, privacy=all_kinds), [*codex_run(), *failing_run()])
    assert shape(spans.all()) == old
    assert "TURN-SECRET" in everything(spans.all())


@pytest.mark.parametrize(
    ("kinds", "shown"),
    [
        ("none", set()),
        ("messages", {"MESSAGE-SECRET", "TURN-SECRET", "THREAD-SECRET"}),
        ("reasoning", {"REASONING-SECRET"}),
        ("command_output", {"OUTPUT-SECRET"}),
        ("tool_io", {"CMD-SECRET", ARGUMENT, "ERROR-SECRET"}),
        ("all", {*SECRETS, "TURN-SECRET", "THREAD-SECRET"}),
    ],
)
def test_spans_hold_the_kinds_the_policy_captures(
    spans: Spans, kinds: str, shown: set[str]
) -> None:
    emitter = spans.emitter(model_id=SONNET, privacy=PrivacyPolicy(capture=kinds))
    feed(emitter, [*codex_run(), *failing_run()])
    text = everything(spans.all())
    assert {s for s in (*SECRETS, "TURN-SECRET", "THREAD-SECRET") if s in text} == shown
    shell = attrs(spans.named("execute_tool shell"))
    assert ("gen_ai.tool.call.arguments" in shell) == ("CMD-SECRET" in shown)
    assert ("gen_ai.tool.call.result" in shell) == ("OUTPUT-SECRET" in shown)
    assert ("curl" in text) == ("CMD-SECRET" in shown)
    # the structure is the same whatever is captured
    assert [s.name for s in spans.all()] == [
        "execute_tool shell",
        "execute_tool apply_patch",
        "execute_tool search",
        "chat claude-sonnet-4-5",
        "invoke_agent agent",
        "chat claude-sonnet-4-5",
        "invoke_agent agent",
    ]


LONG_OUTPUT = "first line\n" + "x" * 40_000 + "\nlast line ghp_" + "o" * 36 + "\n"


def secret_run() -> list[ThreadEvent]:
    """A run with secrets and a command output longer than the policy keeps."""
    key = "sk-ant-api03-" + "k" * 30
    command: dict[str, Any] = {"id": "c", "command": f"ANTHROPIC_API_KEY={key} ./deploy"}
    return [
        ThreadStartedEvent(thread_id="run-3"),
        TurnStartedEvent(),
        ItemStartedEvent(item=CommandExecutionItem(**command, status="in_progress")),
        ItemCompletedEvent(
            item=CommandExecutionItem(
                **command, aggregated_output=LONG_OUTPUT, exit_code=0, status="completed"
            )
        ),
        ItemCompletedEvent(item=AgentMessageItem(id="m", text=f"deployed with {key}")),
        TurnCompletedEvent(usage=USAGE),
        ThreadErrorEvent(message=f"RuntimeError: {key} expired"),
    ]


@pytest.mark.parametrize(
    "policy",
    [
        PrivacyPolicy(),
        PrivacyPolicy(capture="all"),
        PrivacyPolicy(capture="command_output,messages", max_output_bytes=100),
        PrivacyPolicy.keep_everything(),
    ],
    ids=["default", "all", "cut-short", "keep-everything"],
)
def test_events_the_policy_filtered_before_make_the_same_spans(
    spans: Spans, policy: PrivacyPolicy
) -> None:
    """What the recorder does (its policy, then the emitter's): applying the policy to
    events it already filtered changes nothing, long outputs cut to their tail included."""
    events = [*secret_run(), *codex_run(), *failing_run()]
    feed(spans.emitter(model_id=SONNET, privacy=policy), events)
    once = shape(spans.all())
    spans.exporter.clear()
    feed(spans.emitter(model_id=SONNET, privacy=policy), [policy.apply(e) for e in events])
    assert shape(spans.all()) == once
    shell = attrs(spans.all()[0])
    if Capture.COMMAND_OUTPUT in policy.capture and policy.max_output_bytes >= 0:
        result = shell["gen_ai.tool.call.result"]
        assert result.startswith("[agent-trace: ")
        assert result.endswith("last line [REDACTED:github-token]\n")
        assert len(result.encode()) < policy.max_output_bytes + 40


def test_recorder_and_emitter_policies_cut_output_once(spans: Spans, repo: GitRepo) -> None:
    """The recorder's policy, then the emitter's: the span holds the output the events
    file holds (cut once, redacted once)."""
    emitter = spans.emitter(model_id=SONNET, capture_content=True)
    with (
        emitter,
        Recorder(repo.root, tool_name="fake", capture="all", emitters=[emitter]) as rec,
    ):
        for event in secret_run()[1:-1]:
            rec.emit(event)
        path = rec.events_path
    [written] = [
        json.loads(line)["event"]["item"]
        for line in path.read_text().splitlines()
        if '"item.completed"' in line and '"command_execution"' in line
    ]
    result = attrs(spans.named("execute_tool shell"))["gen_ai.tool.call.result"]
    assert result == written["aggregated_output"]
    assert result.startswith(f"[agent-trace: {len(LONG_OUTPUT) - 16 * 1024:,} bytes cut]\n")
    assert "[REDACTED:github-token]" in result
    assert attrs(spans.named("execute_tool shell"))["gen_ai.tool.call.arguments"] == (
        "ANTHROPIC_API_KEY=[REDACTED:anthropic-api-key] ./deploy"
    )


def test_other_tools_and_failures(spans: Spans) -> None:
    emitter = spans.emitter(model_id="gpt-5", provider_name="openai")
    invocation: dict[str, Any] = {"id": "t1", "tool_name": "read_file", "arguments": {"path": "x"}}
    feed(
        emitter,
        [
            ThreadStartedEvent(thread_id="r"),
            TurnStartedEvent(),
            ItemStartedEvent(item=ToolInvocationItem(**invocation, status="in_progress")),
            ItemCompletedEvent(
                item=ToolInvocationItem(
                    **invocation, status="failed", outcome="permission_rejected"
                )
            ),
            ItemCompletedEvent(item=WebSearchItem(id="w1", query="otel genai")),
            ItemCompletedEvent(
                item=CommandExecutionItem(id="c1", command="false", exit_code=1, status="completed")
            ),
            ItemCompletedEvent(
                item=CommandExecutionItem(id="c2", command="rm -rf /", status="declined")
            ),
            ItemCompletedEvent(
                item=McpToolCallItem(id="m1", tool_name="lookup", status="completed")
            ),
            ItemCompletedEvent(
                item=FileChangeItem(
                    id="f1", changes=[FileUpdateChange(path="x.py", kind="delete")], status="failed"
                )
            ),
            ItemCompletedEvent(item=PlanItem(id="p1", text="1. do it")),
            TurnFailedEvent(error=ErrorDetail(message="TimeoutError: model too slow")),
            ThreadCompletedEvent(
                thread_id="r",
                session_id="r",
                subtype="error_max_turns",
                outcome_code="error",
                usage=TOTAL,
                num_turns=1,
            ),
        ],
    )
    by_id = {attrs(s).get("gen_ai.tool.call.id"): s for s in spans.all()}
    chat, root = spans.named("chat gpt-5"), spans.named("invoke_agent agent")
    assert attrs(root)["gen_ai.provider.name"] == "openai"
    assert attrs(root)["gen_ai.request.model"] == "gpt-5"

    def summary(key: str) -> tuple[str, str, Any, Any, Any]:
        span = by_id[key]
        a = attrs(span)
        assert parent_id(span) == span_id(chat)
        return (
            span.name,
            a["gen_ai.tool.type"],
            a.get("error.type"),
            span.status.status_code,
            (
                a.get("process.exit.code"),
                a.get("code.file.path"),
            ),
        )

    assert [summary(k) for k in ("t1", "w1", "c1", "c2", "m1", "f1")] == [
        (
            "execute_tool read_file",
            "function",
            "permission_rejected",
            StatusCode.ERROR,
            (None,) * 2,
        ),
        ("execute_tool web_search", "function", None, StatusCode.UNSET, (None, None)),
        ("execute_tool shell", "function", "nonzero_exit_code", StatusCode.ERROR, (1, None)),
        ("execute_tool shell", "function", "declined", StatusCode.ERROR, (None, None)),
        ("execute_tool lookup", "extension", None, StatusCode.UNSET, (None, None)),
        ("execute_tool apply_patch", "function", "failed", StatusCode.ERROR, (None, "x.py")),
    ]
    # an item.completed without item.started: a span started and ended right then
    search = by_id["w1"]
    assert search.start_time is not None
    assert search.end_time is not None
    assert 0 <= search.end_time - search.start_time < 50_000_000
    assert [e.name for e in chat.events] == ["gen_ai.plan"]
    assert (chat.status.status_code, chat.status.description) == (StatusCode.ERROR, "TimeoutError")
    assert attrs(chat)["error.type"] == "TimeoutError"
    assert (root.status.status_code, attrs(root)["error.type"]) == (
        StatusCode.ERROR,
        "error_max_turns",
    )
    assert "rm -rf" not in everything(spans.all())


def test_thread_error_ends_everything_with_error(spans: Spans) -> None:
    emitter = spans.emitter()
    feed(
        emitter,
        [
            ThreadStartedEvent(thread_id="r"),
            TurnStartedEvent(),
            ItemStartedEvent(
                item=CommandExecutionItem(id="c", command="sleep 9", status="in_progress")
            ),
            ThreadErrorEvent(message="RuntimeError: token sk-live-123 rejected"),
        ],
    )
    shell, chat, root = spans.all()
    assert [s.name for s in (shell, chat, root)] == [
        "execute_tool shell",
        "chat",
        "invoke_agent agent",
    ]
    assert [s.status.status_code for s in (shell, chat)] == [StatusCode.UNSET] * 2
    assert (root.status.status_code, root.status.description) == (StatusCode.ERROR, "RuntimeError")
    assert attrs(root)["error.type"] == "RuntimeError"
    assert "sk-live-123" not in everything(spans.all())
    emitter(ThreadErrorEvent(message="no class name here"))  # no root: nothing
    assert len(spans.all()) == 3
    spans.exporter.clear()
    for message, expected in [
        ("asyncio.CancelledError: ", "asyncio.CancelledError"),
        ("KeyboardInterrupt: ", "KeyboardInterrupt"),
        ("error: see https://x", "_OTHER"),
        ("it broke", "_OTHER"),
    ]:
        spans.exporter.clear()
        feed(emitter, [ThreadStartedEvent(thread_id="r2"), ThreadErrorEvent(message=message)])
        assert attrs(spans.named("invoke_agent agent"))["error.type"] == expected


def test_unknown_and_odd_events_are_ignored(spans: Spans, caplog: pytest.LogCaptureFixture) -> None:
    emitter = spans.emitter()
    odd: list[Any] = [
        TurnCompletedEvent(usage=USAGE),  # no turn open
        ItemCompletedEvent(item=AgentMessageItem(id="m", text="no span to hold it")),
        UnknownEvent({"type": "session.configured", "model": "x"}),
        ThreadStartedEvent(thread_id="r"),
        UnknownEvent({"type": "session.configured"}),
        ItemCompletedEvent(item=UnknownItem({"id": "u", "type": "collab_tool_call"})),
        ItemCompletedEvent(item=TodoListItem(id="t", items=[TodoEntry(text="x", completed=False)])),
        "not an event",
        None,
    ]
    with caplog.at_level(logging.WARNING, logger="agent_trace"):
        feed(emitter, odd)
        emitter(ThreadErrorEvent(message=cast(str, None)))  # breaks _error_type: logged
    [warning] = [r.getMessage() for r in caplog.records]
    expected = "agent-trace: no span for ThreadErrorEvent: $.message: expected a string, got null"
    assert warning == expected
    assert spans.all() == []  # the root is still open
    emitter(ThreadCompletedEvent(
        thread_id="r", session_id="r", subtype="success", outcome_code="success",
        usage=TOTAL, num_turns=0,
    ))  # fmt: skip
    [root] = spans.all()
    assert (root.name, root.status.status_code, list(root.events)) == (
        "invoke_agent agent",
        StatusCode.OK,
        [],
    )


def test_close_ends_open_spans_once_and_later_events_are_ignored(spans: Spans) -> None:
    with spans.emitter() as emitter:
        feed(
            emitter,
            [
                ThreadStartedEvent(thread_id="r"),
                TurnStartedEvent(),
                ItemStartedEvent(item=FileChangeItem(id="e", changes=[], status="in_progress")),
            ],
        )
        assert spans.all() == []
    recorded = spans.all()
    assert [s.name for s in recorded] == [
        "execute_tool apply_patch",
        "chat",
        "invoke_agent agent",
    ]
    assert {s.status.status_code for s in recorded} == {StatusCode.UNSET}
    assert attrs(recorded[0])["agent_trace.files"] == ()
    emitter.close()
    emitter(ThreadStartedEvent(thread_id="later"))
    emitter.close()
    assert len(spans.all()) == 3


def test_runs_one_after_another_and_a_run_that_never_ended(spans: Spans) -> None:
    emitter = spans.emitter()
    feed(emitter, [ThreadStartedEvent(thread_id="a"), TurnStartedEvent()])
    feed(emitter, codex_run("b"))
    roots = [s for s in spans.all() if s.name == "invoke_agent agent"]
    assert [attrs(r)["gen_ai.conversation.id"] for r in roots] == ["a", "b"]
    assert [r.status.status_code for r in roots] == [StatusCode.UNSET, StatusCode.OK]
    assert roots[0].context.trace_id != roots[1].context.trace_id
    chats = [s for s in spans.all() if s.name == "chat"]
    assert [parent_id(c) for c in chats] == [span_id(roots[0]), span_id(roots[1])]


def test_concurrent_emits_are_safe(spans: Spans) -> None:
    emitter = spans.emitter()
    feed(emitter, [ThreadStartedEvent(thread_id="r"), TurnStartedEvent()])

    def work(n: int) -> None:
        for i in range(50):
            item: dict[str, Any] = {"id": f"{n}-{i}", "command": "true"}
            emitter(ItemStartedEvent(item=CommandExecutionItem(**item, status="in_progress")))
            emitter(
                ItemCompletedEvent(
                    item=CommandExecutionItem(**item, exit_code=0, status="completed")
                )
            )

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    emitter.close()
    tools = [s for s in spans.all() if s.name == "execute_tool shell"]
    chat = spans.named("chat")
    assert len({attrs(s)["gen_ai.tool.call.id"] for s in tools}) == len(tools) == 400
    assert {parent_id(s) for s in tools} == {span_id(chat)}


def test_semantic_convention_names_match_the_installed_semconv() -> None:
    from opentelemetry.semconv._incubating.attributes import (
        code_attributes,
        gen_ai_attributes,
        process_attributes,
        vcs_attributes,
    )
    from opentelemetry.semconv.attributes import error_attributes

    from agent_trace import otel

    modules = (gen_ai_attributes, vcs_attributes, code_attributes, process_attributes)
    names = [n for n in dir(otel) if n.split("_")[0] in ("GEN", "VCS", "CODE", "PROCESS")]
    assert len(names) == 19
    for name in names:
        [value] = {getattr(m, name) for m in modules if hasattr(m, name)}
        assert getattr(otel, name) == value, name
    assert otel.ERROR_TYPE == error_attributes.ERROR_TYPE


def test_model_ids(spans: Spans) -> None:
    cases = [
        ({"model_id": "openrouter/anthropic/claude"}, "openrouter", "anthropic/claude"),
        ({"model_id": "gpt-5"}, None, "gpt-5"),
        ({"model_id": SONNET, "provider_name": "aws.bedrock"}, "aws.bedrock", "claude-sonnet-4-5"),
        ({}, None, None),
    ]
    for kwargs, provider, model in cases:
        emitter = spans.emitter(**kwargs)
        feed(emitter, [ThreadStartedEvent(thread_id="r"), TurnStartedEvent()])
        emitter.close()
        chat = [s for s in spans.all() if s.name.startswith("chat")][-1]
        root = spans.all()[-1]
        assert chat.name == (f"chat {model}" if model else "chat")
        for span in (chat, root):
            assert attrs(span).get("gen_ai.provider.name") == provider
            assert attrs(span).get("gen_ai.request.model") == model


# --------------------------------------------------------------------------- links


def test_link_after_the_run_is_a_new_trace_linked_to_it(spans: Spans, repo: GitRepo) -> None:
    from agent_trace import LinkResult

    emitter = spans.emitter()
    feed(emitter, codex_run("r"))
    root = spans.named("invoke_agent agent")
    emitter.on_link(LinkResult(commit="c" * 40, record=None, human_lines=4, unknown_lines=1))
    link = spans.named("agent_trace.link")
    assert link.parent is None
    assert link.context.trace_id != root.context.trace_id
    assert [lk.context for lk in link.links] == [root.context]
    assert attrs(link) == {
        "vcs.ref.head.revision": "c" * 40,
        "agent_trace.lines.ai": 0,
        "agent_trace.lines.human": 4,
        "agent_trace.lines.mixed": 0,
        "agent_trace.lines.unknown": 1,
        "gen_ai.conversation.id": "r",
    }
    emitter.close()
    emitter.on_link(LinkResult(commit="d" * 40, record=None))
    assert len([s for s in spans.all() if s.name == "agent_trace.link"]) == 1


def blame_json(repo: GitRepo, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["blame", *args, "--format", "json", "-C", str(repo.root)])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_recorder_run_and_blamed_line_find_each_other(spans: Spans, repo: GitRepo) -> None:
    repo.write("README.md", "# project\n")
    base = repo.commit("base")
    emitter = spans.emitter(agent_name="fake", model_id="openai/gpt-5", repo=repo.root)
    with (
        emitter,
        Recorder(repo.root, tool_name="fake", model_id="openai/gpt-5", emitters=[emitter]) as rec,
    ):
        with rec.turn(), rec.edit("a.py"):
            repo.write("a.py", "x = 1\ny = 2\n")
        head = repo.commit("agent: a.py")
        rec.link()  # the recorder calls emitter.on_link for the commit it links
        run_id = rec.run_id
    assert head == repo.git("rev-parse", "HEAD")
    [record] = [
        s.record for s in TraceStore.open(repo.root).file.records() if s.record.revision == head
    ]

    root = spans.named("invoke_agent fake")
    link = spans.named("agent_trace.link")
    chat = spans.named("chat gpt-5")
    patch = spans.named("execute_tool apply_patch")
    assert attrs(root) == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "fake",
        "gen_ai.conversation.id": run_id,
        "agent_trace.run.id": run_id,
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-5",
        "vcs.ref.head.revision": base,
        "vcs.ref.head.name": "main",
        "gen_ai.usage.input_tokens": 0,
        "gen_ai.usage.output_tokens": 0,
        "gen_ai.usage.cache_read.input_tokens": 0,
    }
    assert root.status.status_code is StatusCode.OK
    assert parent_id(chat) == span_id(root)
    assert parent_id(patch) == span_id(chat)
    assert (attrs(patch)["code.file.path"], attrs(patch)["gen_ai.tool.call.id"]) == (
        "a.py",
        "edit-1",
    )
    assert parent_id(link) == span_id(root)
    assert attrs(link) == {
        "vcs.ref.head.revision": head,
        "agent_trace.record.id": record.id,
        "agent_trace.run.ids": (run_id,),
        "agent_trace.lines.ai": 2,
        "agent_trace.lines.human": 0,
        "agent_trace.lines.mixed": 0,
        "agent_trace.lines.unknown": 0,
        "gen_ai.conversation.id": run_id,
    }
    [event] = root.events
    assert (event.name, dict(event.attributes or {})) == ("agent_trace.link", attrs(link))

    # trace blame names the same commit, record and run as the spans
    lines = blame_json(repo, "a.py")["lines"]
    assert [(x["commit"], x["trace_id"]) for x in lines] == [(head, record.id)] * 2
    explained = blame_json(repo, "--explain", "a.py:2")
    assert explained["record"]["run_id"] == attrs(root)["gen_ai.conversation.id"]
    assert explained["record"]["trace_id"] == attrs(link)["agent_trace.record.id"]
    assert explained["commit"] == attrs(link)["vcs.ref.head.revision"]


# --------------------------------------------------------------------------- vcs


def root_attrs(spans: Spans, repo: Path | None) -> dict[str, Any]:
    emitter = spans.emitter(repo=repo)
    feed(emitter, [ThreadStartedEvent(thread_id="r")])
    emitter.close()
    return {k: v for k, v in attrs(spans.all()[-1]).items() if k.startswith("vcs.")}


def test_vcs_attributes_strip_credentials_and_follow_detached_head(
    spans: Spans, repo: GitRepo
) -> None:
    head = repo.commit("first")
    repo.git("remote", "add", "origin", "https://user:secret@example.com/org/repo.git")
    assert root_attrs(spans, repo.root) == {
        "vcs.repository.url.full": "https://example.com/org/repo.git",
        "vcs.ref.head.revision": head,
        "vcs.ref.head.name": "main",
    }
    repo.git("checkout", "-q", "--detach")
    assert root_attrs(spans, repo.root / ".") == {
        "vcs.repository.url.full": "https://example.com/org/repo.git",
        "vcs.ref.head.revision": head,
    }
    assert "secret" not in everything(spans.all())


def test_no_vcs_attributes_without_a_repository(
    spans: Spans, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo: GitRepo
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    plain = tmp_path / "plain"
    plain.mkdir()
    assert root_attrs(spans, None) == {}
    assert root_attrs(spans, plain) == {}
    assert root_attrs(spans, tmp_path / "missing") == {}
    # a repository with no commit and no remote: only the branch
    assert root_attrs(spans, repo.root) == {"vcs.ref.head.name": "main"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pa%40ss@example.com/o/r.git", "https://example.com/o/r.git"),
        ("https://ghp_token@github.com:443/o/r", "https://github.com:443/o/r"),
        ("ssh://git:pw@host.example/o/r.git", "ssh://host.example/o/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("/srv/git/r.git", "/srv/git/r.git"),
        (
            "https://example.com/r.git?access_token=T0ken",
            "https://example.com/r.git?access_token=***",
        ),
        (
            f"https://example.com/{'ghp_' + 'x' * 36}/r",
            "https://example.com/[REDACTED:github-token]/r",
        ),
    ],
)
def test_origin_url_is_the_safe_url_of_git_notes(
    spans: Spans, repo: GitRepo, url: str, expected: str
) -> None:
    """``vcs.repository.url.full`` is what ``safe_url`` (the conversation URL of git
    notes) makes of the origin: no user or password, secret-looking query values and
    other secrets replaced."""
    repo.git("remote", "add", "origin", url)
    assert safe_url(url) == expected
    assert root_attrs(spans, repo.root)["vcs.repository.url.full"] == expected


# --------------------------------------------------------------------------- OTLP/HTTP


class Collector(ThreadingHTTPServer):
    """A minimal OTLP/HTTP trace receiver."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), CollectorHandler)
        self.requests: list[tuple[str, dict[str, str], ExportTraceServiceRequest]] = []


class CollectorHandler(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.server.requests.append((self.path, dict(self.headers.items()), request))
        payload = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[Collector]:
    for key in list(os.environ):
        if key.startswith("OTEL_") or key.lower().endswith("_proxy"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("service", [None, "my-agents"])
def test_otlp_http_export(
    collector: Collector, monkeypatch: pytest.MonkeyPatch, service: str | None
) -> None:
    if service is not None:
        monkeypatch.setenv("OTEL_SERVICE_NAME", service)
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}/v1/traces"
    with otlp_emitter(endpoint, headers={"x-team": "agents"}, model_id=SONNET) as emitter:
        feed(emitter, codex_run("run-otlp"))
    assert collector.requests, "nothing was exported"
    assert {path for path, _, _ in collector.requests} == {"/v1/traces"}
    assert {headers.get("x-team") for _, headers, _ in collector.requests} == {"agents"}
    received = []
    for _, _, request in collector.requests:
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            assert resource["service.name"] == (service or "agent-trace")
            for scope_spans in resource_spans.scope_spans:
                assert scope_spans.scope.name == "agent_trace"
                received += scope_spans.spans
    by_name = {span.name: span for span in received}
    assert sorted(by_name) == [
        "chat claude-sonnet-4-5",
        "execute_tool apply_patch",
        "execute_tool search",
        "execute_tool shell",
        "invoke_agent agent",
    ]
    assert len({span.trace_id for span in received}) == 1
    root = by_name["invoke_agent agent"]
    chat = by_name["chat claude-sonnet-4-5"]
    assert root.parent_span_id == b""
    assert chat.parent_span_id == root.span_id
    for name in ("execute_tool apply_patch", "execute_tool search", "execute_tool shell"):
        assert by_name[name].parent_span_id == chat.span_id
    for span in received:
        values = {a.key: a.value.string_value for a in span.attributes}
        assert values["gen_ai.conversation.id"] == "run-otlp"
    emitter.close()  # idempotent, also for the provider


# --------------------------------------------------------------------------- packaging


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_import_error_without_opentelemetry() -> None:
    proc = run_python(
        "import sys\n"
        "sys.modules['opentelemetry'] = None\n"
        "from agent_trace.otel import OtelEmitter, otlp_emitter\n"
        "for make in (OtelEmitter, otlp_emitter):\n"
        "    try:\n"
        "        make()\n"
        "    except ImportError as exc:\n"
        "        print(type(exc).__name__, exc)\n"
    )
    assert proc.returncode == 0, proc.stderr
    message = "agent_trace.otel needs the 'otel' extra: pip install 'agent-trace[otel]'"
    assert proc.stdout.splitlines() == [f"ImportError {message}"] * 2


def test_agent_trace_does_not_import_opentelemetry() -> None:
    proc = run_python(
        "import sys, agent_trace, agent_trace.events, agent_trace.cli\n"
        "agent_trace.Recorder, agent_trace.link_commit\n"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] == 'opentelemetry'))\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
