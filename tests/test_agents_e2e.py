"""Other agents end to end: ``trace record``, ``trace import`` and ``trace hook claude`` on
real git repositories, with fake agents (``tests/agents/``) that edit real files and print
each agent's own event stream, and the real ``git`` making the commits.

Every fake agent does the same work (``tests/agents/_fake.py``) in a repository where a
person has already changed a line of ``app.py`` and staged ``staged.txt``: it rewrites a
line of ``app.py`` and appends to it (an edit tool), creates ``new.py`` (a write tool),
appends to ``notes.txt`` with a shell command, writes and reports ``outside.py`` outside
the repository, and writes ``late.txt`` without reporting it. A person then commits
everything and runs ``trace link``; ``trace blame --format json`` must tell every line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import pytest
from click.testing import CliRunner, Result
from gitrepo import GitRepo

from agent_trace import TraceStore
from agent_trace._wrap import record_command
from agent_trace.cli import cli

AGENTS = Path(__file__).resolve().parent / "agents"
FAKE_CODEX = Path(__file__).resolve().parent.parent / "examples" / "fake_codex.py"
TRACE = Path(sys.executable).parent / "trace"
PYTHON = sys.executable
CLEAN_ENV = {"NO_COLOR": "", "FORCE_COLOR": "", "AGENT_TRACE_RUN_ID": None}

APP = "def one():\n    return 1\n\n\ndef two():\n    return 2\n"
HUMAN_LINE = "    return 1  # checked by hand\n"

T = TypeVar("T")
Who = tuple[str, str | None, str, float | None]
"""A blamed line: contributor type, model id, evidence, confidence."""
UNKNOWN: Who = ("unknown", None, "no-record", None)
HUMAN: Who = ("human", None, "commit", 1.0)


# --------------------------------------------------------------------------- helpers


def trace(*args: str, code: int = 0, input: bytes | None = None) -> Result:
    """``trace ARGS`` in process; asserts the exit code."""
    result = CliRunner().invoke(cli, list(args), input=input, env=CLEAN_ENV)
    assert result.exit_code == code, (result.output, result.exc_info)
    return result


def installed_trace(
    *args: str, cwd: Path, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The installed ``trace`` console script in a subprocess."""
    env = {k: v for k, v in os.environ.items() if k != "AGENT_TRACE_RUN_ID"}
    return subprocess.run(
        [str(TRACE), *args],
        cwd=cwd,
        input=input,
        capture_output=True,
        env={**env, "NO_COLOR": "1"},
        timeout=60,
        check=False,
    )


def blame(root: Path, path: str) -> list[Who]:
    """``trace blame PATH --format json``: one ``Who`` per line, in order."""
    data = json.loads(trace("blame", path, "--format", "json", "-C", str(root)).stdout)
    assert [line["line"] for line in data["lines"]] == list(range(1, len(data["lines"]) + 1))
    return [
        (
            line["contributor"]["type"],
            line["contributor"]["model_id"],
            line["evidence"],
            line["confidence"],
        )
        for line in data["lines"]
    ]


def explain(root: Path, where: str) -> dict[str, Any]:
    result = trace("blame", "--explain", where, "--format", "json", "-C", str(root))
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def run_dir(root: Path, run_id: str) -> Path:
    return root / ".agent-trace" / "runs" / run_id


def run_json(root: Path, run_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run_dir(root, run_id) / "run.json").read_text())
    return data


def events(root: Path, run_id: str) -> list[dict[str, Any]]:
    """The thread events of a run's ``events.jsonl`` (envelopes unwrapped)."""
    path = run_dir(root, run_id) / "events.jsonl"
    return [json.loads(line)["event"] for line in path.read_text().splitlines()]


def item_ids(evs: list[dict[str, Any]]) -> set[str]:
    return {e["item"]["id"] for e in evs if "item" in e}


def validate(root: Path, run_id: str, count: int, kept: int = 0) -> None:
    """``trace events validate`` passes on the run's log, which holds ``count`` events;
    ``kept`` of them are source lines kept whole (``<format>.<type>``: a warning each)."""
    path = run_dir(root, run_id) / "events.jsonl"
    out = trace("events", "validate", str(path)).stdout.splitlines()
    assert out[-1] == f"{path}: ok ({count} lines, {count} events, {kept} warnings)"
    assert len(out) == kept + 1
    for line in out[:-1]:
        assert ": warning: $.event" in line
        assert "type: not in the known vocabulary: " in line
        assert line.endswith("(kept as it is)")


def git_state(repo: GitRepo) -> tuple[str, str, str]:
    """What a record run must leave alone: the staged diff, HEAD and every ref."""
    return (
        repo.git("diff", "--cached"),
        repo.git("rev-parse", "HEAD"),
        repo.git("for-each-ref", "--format=%(refname) %(objectname)"),
    )


def agent(name: str, *args: str) -> list[str]:
    return [PYTHON, str(AGENTS / f"agent_{name}.py"), *args]


def summary(stderr: str) -> tuple[str, str]:
    """The run id and the rest of ``trace record``'s closing line on stderr."""
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("agent-trace: run "), stderr
    run_id, _, rest = last.removeprefix("agent-trace: run ").partition(" ")
    return run_id, rest


@pytest.fixture
def workspace(repo: GitRepo) -> GitRepo:
    """``app.py`` and ``notes.txt`` committed; then a person changes line 2 of ``app.py``
    in the work tree and stages a new file."""
    repo.write("app.py", APP)
    repo.write("notes.txt", "first note\n")
    repo.commit("base")
    repo.write("app.py", APP.replace("    return 1\n", HUMAN_LINE))
    repo.write("staged.txt", "staged by a person\n")
    repo.git("add", "staged.txt")
    return repo


# --------------------------------------------------------------------------- trace record


class Fake(NamedTuple):
    """A fake agent and what recording it must give."""

    args: tuple[str, ...]
    """The agent's own arguments."""
    options: tuple[str, ...]
    """``trace record`` options."""
    format: str
    """The format ``trace record`` names in its summary."""
    model: str
    thread_id: str
    items: tuple[str, ...]
    """Item ids the run's log must hold (the edit, the write, the command)."""
    events: int
    kept: int
    """Events that are source lines kept whole (``meerkat.tool_execution_started``...)."""
    evidence: dict[str, tuple[str, float] | None]
    """Evidence and confidence per file (``None``: not checked)."""


REPORTED = ("reported-snapshot", 1.0)
COMMAND = ("command-snapshot", 0.9)
UNREPORTED = ("unreported-snapshot", 0.6)
AS_REPORTED: dict[str, tuple[str, float] | None] = {
    "app.py": REPORTED,
    "new.py": REPORTED,
    "notes.txt": COMMAND,
    "late.txt": UNREPORTED,
}

FAKES = {
    "codex": Fake(
        args=("-m", "gpt-5-codex"),
        options=(),
        format="codex",
        model="openai/gpt-5-codex",
        thread_id="0199a213-81c0-7800-8aa1-bbab2a035a53",
        items=("item_1", "item_2", "item_3"),
        events=13,
        kept=0,
        evidence=AS_REPORTED,
    ),
    "claude": Fake(
        args=("-p", "--output-format", "stream-json", "--verbose"),
        options=(),
        format="claude",
        model="anthropic/claude-sonnet-4-5-20250929",  # system/init's model
        thread_id="6d1c8f0e-3b8e-4a57-9a43-2f1d0c7e5b21",
        items=("toolu_01A", "toolu_01B", "toolu_01C"),
        events=14,
        kept=0,
        evidence=AS_REPORTED,
    ),
    "vtcode": Fake(
        args=("--model", "gemini-2.5-pro", "--json"),
        options=(),
        format="codex",  # VT Code's bare --json stdout is the Codex vocabulary
        model="google/gemini-2.5-pro",
        thread_id="session-1761123456789",
        items=("item_2", "item_3", "item_4", "item_5", "item_6"),
        events=20,
        kept=0,
        evidence=AS_REPORTED,  # the write tool's command completes first; the report wins
    ),
    "meerkat": Fake(
        args=(),
        options=("--model", "anthropic/claude-opus-4-1"),  # meerkat names no model
        format="meerkat",
        model="anthropic/claude-opus-4-1",
        thread_id="01933b4e-7c2a-7d10-9f3e-5a6b7c8d9e0f",
        items=("toolu_1", "toolu_2", "toolu_3"),
        events=22,
        kept=8,
        evidence=AS_REPORTED,
    ),
    "omne": Fake(
        args=(),
        options=(),
        format="omne",
        model="anthropic/claude-opus-4-1",  # the prompt node's model
        thread_id="feature-x-01JB3N0ZQK8Y5T2V7W9X1Y3Z5A",
        items=("note",),
        events=8,
        kept=2,  # omne.iteration.started, and the gate's `harness` item (not in our vocabulary)
        evidence={
            "app.py": UNREPORTED,  # the prompt node's edits: settled at its turn's end
            "new.py": UNREPORTED,
            "notes.txt": COMMAND,
            "late.txt": UNREPORTED,
        },
    ),
}


@pytest.mark.parametrize("name", list(FAKES))
def test_record_attributes_each_format_line_by_line(
    name: str, workspace: GitRepo, tmp_path: Path
) -> None:
    fake = FAKES[name]
    root = workspace.root
    outside, tee = tmp_path / "outside", tmp_path / "stdout.bin"
    outside.mkdir()
    before = git_state(workspace)
    command = agent(name, *fake.args, "--outside", str(outside), "--noise", "--tee", str(tee))
    result = trace("record", *fake.options, "-C", str(root), "--", *command)

    # stdout passed through byte for byte, non-JSON lines included
    assert result.stdout_bytes == tee.read_bytes()
    assert b"\xff\xfe not UTF-8 progress\r\n" in result.stdout_bytes
    assert result.stdout_bytes.endswith(b"\nno newline at the end")
    run_id, rest = summary(result.stderr)
    assert rest == f"({fake.format}, {fake.events} events, 4 files attributed, {fake.model})"
    assert (outside / "outside.py").exists()
    # the person's index, HEAD and refs are untouched
    assert git_state(workspace) == before
    assert workspace.git("diff", "--cached", "--name-only") == "staged.txt"

    info = run_json(root, run_id)
    assert (info["status"], info["model_id"], info["tool_name"]) == (
        "completed", fake.model, f"agent_{name}",
    )  # fmt: skip
    evs = events(root, run_id)
    assert len(evs) == fake.events
    assert evs[0] == {**evs[0], "type": "thread.started", "thread_id": fake.thread_id}
    assert set(fake.items) <= item_ids(evs)
    log = (run_dir(root, run_id) / "events.jsonl").read_bytes()
    assert b"not UTF-8" not in log
    assert b"no newline" not in log
    assert b"outside.py" in log or name == "omne"  # reported, just not attributed
    validate(root, run_id, fake.events, fake.kept)

    head = workspace.commit("what the agent did")
    link = trace("link", "-C", str(root)).stdout
    assert link == f"{head[:12]} linked: 8 AI line(s), 2 human line(s)\n"

    def ai(path: str) -> Who:
        evidence = fake.evidence[path]
        assert evidence is not None
        return ("ai", fake.model, *evidence)

    app = blame(root, "app.py")
    assert app[:5] == [UNKNOWN, HUMAN, UNKNOWN, UNKNOWN, UNKNOWN]  # the person's line stays
    assert len(app) == 9
    for who in app[5:]:  # rewritten line 6, two blank lines and THREE = ...
        assert who[:2] == ("ai", fake.model)
        if fake.evidence["app.py"] is not None:
            assert who == ai("app.py")
    for who in blame(root, "new.py"):
        assert who[:2] == ("ai", fake.model)
        if fake.evidence["new.py"] is not None:
            assert who == ai("new.py")
    assert len(blame(root, "new.py")) == 2
    assert blame(root, "notes.txt") == [UNKNOWN, ai("notes.txt")]
    assert blame(root, "late.txt") == [ai("late.txt")]
    assert blame(root, "staged.txt") == [HUMAN]

    command_line = explain(root, "notes.txt:2")
    assert command_line["evidence"] == "command-snapshot"
    assert command_line["contributor"] == {"type": "ai", "model_id": fake.model}
    assert command_line["record"]["run_id"] == run_id
    assert command_line["record"]["item_ids"] == [fake.items[-1]]
    late = explain(root, "late.txt:1")
    assert (late["evidence"], late["confidence"]) == UNREPORTED
    assert "item_ids" not in late["record"]  # no item explains it


def test_record_command_api_outcome(workspace: GitRepo, tmp_path: Path) -> None:
    root = workspace.root
    outcome = record_command(
        agent("codex", "-m", "gpt-5-codex", "--outside", str(tmp_path), "--noise"),
        repo=root,
        cwd=root,
    )
    assert outcome.exit_code == 0
    assert outcome.format == "codex"
    assert (outcome.events, outcome.other_lines, outcome.problems) == (13, 3, [])
    assert outcome.attributed == {
        "app.py": "reported", "new.py": "reported", "notes.txt": "command",
        "late.txt": "unreported",
    }  # fmt: skip
    assert outcome.model_id == "openai/gpt-5-codex"
    assert run_json(root, outcome.run_id)["status"] == "completed"


def test_record_model_option_overrides_the_command_line(workspace: GitRepo) -> None:
    root = workspace.root
    result = trace(
        "record", "--model", "openai/o3", "-q", "-C", str(root), "--",
        *agent("codex", "-m", "gpt-5-codex"),
    )  # fmt: skip
    assert result.stderr == ""  # -q: no summary
    (run,) = (root / ".agent-trace" / "runs").iterdir()
    assert run_json(root, run.name)["model_id"] == "openai/o3"
    assert {who[1] for who in blame(root, "new.py")} == {"openai/o3"}


def test_record_without_any_model_says_so(workspace: GitRepo) -> None:
    root = workspace.root
    result = trace("record", "-C", str(root), "--", *agent("meerkat"))
    _, rest = summary(result.stderr)
    assert rest == "(meerkat, 18 events, 4 files attributed, model unknown: pass --model)"
    assert blame(root, "new.py") == [("ai", None, "pending:reported-snapshot", 1.0)] * 2


def test_record_claude_model_alias_on_its_command_line(workspace: GitRepo) -> None:
    root = workspace.root
    outcome = record_command(agent("claude", "--model", "sonnet", "-p"), repo=root, cwd=root)
    assert outcome.model_id == "anthropic/claude-sonnet-4-5-20250929"


def test_record_vtcode_file_change_after_its_tool_is_reported(workspace: GitRepo) -> None:
    root = workspace.root
    outcome = record_command(agent("vtcode", "--model", "gemini-2.5-pro"), repo=root, cwd=root)
    assert outcome.attributed == {
        "app.py": "reported", "new.py": "reported", "notes.txt": "command",
        "late.txt": "unreported",
    }  # fmt: skip


def test_record_omne_prompt_node_edits_are_unreported(workspace: GitRepo) -> None:
    root = workspace.root
    outcome = record_command(agent("omne"), repo=root, cwd=root)
    assert outcome.attributed == {
        "app.py": "unreported", "new.py": "unreported", "notes.txt": "command",
        "late.txt": "unreported",
    }  # fmt: skip


def test_installed_trace_record_exit_code_stderr_and_failed_run(
    workspace: GitRepo, tmp_path: Path
) -> None:
    root = workspace.root
    tee = tmp_path / "stdout.bin"
    before = git_state(workspace)
    proc = installed_trace(
        "record", "--", *agent("codex", "-m", "gpt-5-codex", "--exit", "3", "--noise",
                               "--outside", str(tmp_path), "--tee", str(tee)),
        cwd=root,
    )  # fmt: skip
    assert proc.returncode == 3
    assert proc.stdout == tee.read_bytes()
    stderr = proc.stderr.decode()
    assert stderr.startswith("codex: session starting\n")
    assert "codex: done\n" in stderr
    outside = tmp_path.resolve() / "outside.py"
    assert f"agent-trace: {outside}: outside the repository {root}; not recorded\n" in stderr
    run_id, rest = summary(stderr)
    assert rest == "(codex, 13 events, 4 files attributed, openai/gpt-5-codex)"
    assert run_json(root, run_id)["status"] == "failed"
    assert git_state(workspace) == before
    validate(root, run_id, 13)

    workspace.commit("after a failed run")
    proc = installed_trace("link", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert blame(root, "new.py") == [("ai", "openai/gpt-5-codex", *REPORTED)] * 2


def test_record_errors(tmp_path: Path, workspace: GitRepo) -> None:
    root = workspace.root
    missing = trace("record", "-C", str(root), "--", str(tmp_path / "no-such-agent"), code=1)
    assert missing.output == f"Error: {tmp_path / 'no-such-agent'}: command not found\n"
    for args in ([], ["--"]):
        usage = trace("record", "-C", str(root), *args, code=2)
        assert "no command given: trace record -- COMMAND ARGS..." in usage.output
    elsewhere = tmp_path / "not-a-repo"
    elsewhere.mkdir()
    (elsewhere / "app.py").write_text(APP)
    outside = trace("record", "-C", str(elsewhere), "--", *agent("codex"), code=3)
    assert outside.output == (
        f"Error: {elsewhere} is not inside a git work tree; run this inside a repository "
        "or pass -C PATH\n"
    )
    assert sorted(p.name for p in elsewhere.iterdir()) == ["app.py"]  # the agent never ran


def test_record_examples_fake_codex_from_the_checkout(repo: GitRepo) -> None:
    repo.write("helpers.py", "import math\n")
    repo.commit("base")
    result = trace(
        "record", "-C", str(repo.root), "--", PYTHON, str(FAKE_CODEX), "--model", "gpt-5-codex"
    )
    run_id, rest = summary(result.stderr)
    assert rest == "(codex, 9 events, 2 files attributed, openai/gpt-5-codex)"
    assert result.stdout.count("\n") == 9
    head = repo.commit("fake codex")
    assert trace("link", "-C", str(repo.root)).stdout == (
        f"{head[:12]} linked: 8 AI line(s), 0 human line(s)\n"
    )
    calc = blame(repo.root, "calc.py")
    assert [who[:2] for who in calc] == [("ai", "openai/gpt-5-codex")] * 6
    assert blame(repo.root, "helpers.py") == [
        UNKNOWN, ("ai", "openai/gpt-5-codex", *COMMAND), ("ai", "openai/gpt-5-codex", *COMMAND),
    ]  # fmt: skip
    validate(repo.root, run_id, 9)
    assert explain(repo.root, "helpers.py:2")["record"]["item_ids"] == ["item_2"]


# --------------------------------------------------------------------------- trace import


def stamp(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def commit_at(repo: GitRepo, message: str, when: datetime) -> str:
    """``git add -A && git commit`` with author and committer dates ``when``."""
    date = f"@{int(when.timestamp())} +0000"
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    for args in (["add", "-A"], ["commit", "-q", "-m", message]):
        subprocess.run(["git", *args], cwd=repo.root, env=env, check=True, capture_output=True)
    return repo.head()


def structured_patch(before: str, after: str) -> list[dict[str, Any]]:
    sys.path.insert(0, str(AGENTS))
    try:
        from _fake import structured_patch as patch
    finally:
        sys.path.remove(str(AGENTS))
    return patch(before, after)


SESSION = "5d0e7c1a-9b2f-4c3e-8a1d-2f6b9e0c4d7a"
OPUS = "claude-opus-4-1-20250805"


class Transcript:
    """A Claude Code session transcript (``~/.claude/projects/*/SESSION.jsonl``)."""

    def __init__(self, path: Path, cwd: Path, start: datetime) -> None:
        self.path, self.cwd, self.when = path, cwd, start
        self.parent: str | None = None
        self.count = 0
        path.write_text("")

    def line(self, kind: str, message: dict[str, Any], **extra: Any) -> None:
        self.count += 1
        uuid = f"00000000-0000-4000-8000-{self.count:012d}"
        obj = {"parentUuid": self.parent, "isSidechain": False, "userType": "external",
               "cwd": str(self.cwd), "sessionId": SESSION, "version": "2.0.14",
               "gitBranch": "main", "type": kind, "message": message, "uuid": uuid,
               "timestamp": stamp(self.when), **extra}  # fmt: skip
        self.parent = uuid
        self.when += timedelta(seconds=5)
        with self.path.open("a") as f:
            f.write(json.dumps(obj) + "\n")

    def prompt(self, text: str) -> None:
        self.line("user", {"role": "user", "content": text})

    def assistant(self, *content: dict[str, Any]) -> None:
        message = {"id": f"msg_{self.count}", "type": "message", "role": "assistant",
                   "model": OPUS, "content": list(content), "stop_reason": "tool_use",
                   "usage": {"input_tokens": 3, "output_tokens": 50}}  # fmt: skip
        self.line("assistant", message, requestId=f"req_{self.count}")

    def tool_use(self, tool_id: str, name: str, tool_input: dict[str, Any]) -> None:
        self.assistant({"type": "tool_use", "id": tool_id, "name": name, "input": tool_input})

    def tool_result(self, tool_id: str, response: dict[str, Any]) -> None:
        content = [{"tool_use_id": tool_id, "type": "tool_result", "content": "ok"}]
        self.line("user", {"role": "user", "content": content}, toolUseResult=response)


def edit_response(path: Path, before: str, after: str, old: str, new: str) -> dict[str, Any]:
    return {"filePath": str(path), "oldString": old, "newString": new, "originalFile": before,
            "structuredPatch": structured_patch(before, after), "userModified": False,
            "replaceAll": False}  # fmt: skip


def write_response(path: Path, content: str) -> dict[str, Any]:
    return {"type": "create", "filePath": str(path), "content": content,
            "structuredPatch": [], "originalFile": None}  # fmt: skip


def test_import_claude_transcript_links_the_commit_that_holds_its_edits(
    repo: GitRepo, tmp_path: Path
) -> None:
    root = repo.root
    now = datetime.now(UTC)
    repo.write("app.py", "def one():\n    return 1\n")
    commit_at(repo, "base", now - timedelta(hours=3))
    repo.write("app.py", APP)
    earlier = commit_at(repo, "two() by a person, before the session", now - timedelta(hours=2))

    # the session, an hour ago: Edit app.py (line 6), Write calc.py
    t = Transcript(tmp_path / f"{SESSION}.jsonl", root, now - timedelta(hours=1))
    t.prompt("make two() clearer and add calc.py")
    app = root / "app.py"
    old, new = "    return 2\n", "    return sum(range(3)) - 1  # agent\n"
    after = APP.replace(old, new)
    t.tool_use("toolu_E", "Edit", {"file_path": str(app), "old_string": old, "new_string": new})
    t.tool_result("toolu_E", edit_response(app, APP, after, old, new))
    calc = "def add(a, b):\n    return a + b\n"
    t.tool_use("toolu_W", "Write", {"file_path": str(root / "calc.py"), "content": calc})
    t.tool_result("toolu_W", write_response(root / "calc.py", calc))
    t.assistant({"type": "text", "text": "Done."})

    # a person applies it (as Claude did), adds a line of their own and commits later
    repo.write("app.py", after + "# reviewed by a person\n")
    repo.write("calc.py", calc)
    head = commit_at(repo, "agent work, reviewed", now - timedelta(minutes=10))

    out = trace("import", "claude", str(t.path), "-C", str(root)).stdout
    run_id = f"claude-{SESSION}"
    assert out == (
        f"imported 8 events from {t.path} (claude) as run {run_id}\n"
        f"  2 exact edit(s); 1 commit(s) linked\n"
        f"  {head[:12]}: 3 AI, 0 mixed, 1 human line(s)\n"
    )
    model = f"anthropic/{OPUS}"
    imported: Who = ("ai", model, "imported-edit", 1.0)
    human: Who = ("human", None, "commit", 1.0)
    assert blame(root, "app.py") == [UNKNOWN] * 5 + [imported, human]
    assert blame(root, "calc.py") == [imported, imported]
    store = TraceStore.open(root)
    assert [s.record.revision for s in store.for_revision(earlier)] == []  # before: not linked
    assert len(store.for_revision(head)) == 1
    info = run_json(root, run_id)
    assert (info["status"], info["model_id"], info["tool_name"]) == (
        "completed", model, "claude-code",
    )  # fmt: skip
    validate(root, run_id, 8)

    again = trace("import", "claude", str(t.path), "-C", str(root), code=1)
    assert again.output == (
        f"Error: {t.path}: a run with this id exists (imported before?); see `trace runs`, "
        "or pass --run-id\n"
    )
    second = trace("import", "auto", str(t.path), "--run-id", "second", "-C", str(root)).stdout
    assert second == (
        f"imported 8 events from {t.path} (claude) as run second\n"
        "  2 exact edit(s); 0 commit(s) linked\n"  # the commit has its record already
    )
    assert blame(root, "app.py")[5] == imported


@pytest.mark.parametrize(
    ("name", "run_id", "count", "kept"),
    [
        ("codex", "codex-0199a213-81c0-7800-8aa1-bbab2a035a53", 11, 0),
        ("meerkat", "meerkat-01933b4e-7c2a-7d10-9f3e-5a6b7c8d9e0f", 18, 6),
        ("omne", "omne-feature-x-01JB3N0ZQK8Y5T2V7W9X1Y3Z5A", 8, 2),
    ],
)
def test_import_agent_logs_as_runs(
    name: str, run_id: str, count: int, kept: int, repo: GitRepo, tmp_path: Path
) -> None:
    scratch = tmp_path / "scratch"  # where the agent ran, to make its log
    scratch.mkdir()
    (scratch / "app.py").write_text(APP)
    log = tmp_path / f"{name}.jsonl"
    env = {k: v for k, v in os.environ.items() if k != "AGENT_TRACE_RUN_ID"}
    with log.open("wb") as f:
        subprocess.run(agent(name), cwd=scratch, stdout=f, env=env, check=True)
    repo.write("README.md", "r\n")
    repo.commit("base")

    out = trace("import", name, str(log), "-C", str(repo.root)).stdout
    assert out == f"imported {count} events from {log} ({name}) as run {run_id}\n"
    runs = trace("runs", "-C", str(repo.root)).stdout.splitlines()
    assert len(runs) == 1
    assert runs[0].split()[0] == run_id
    assert runs[0].split()[2:4] == ["completed", name]
    assert runs[0].endswith(f" {count} events")
    validate(repo.root, run_id, count, kept)


# --------------------------------------------------------------------------- trace hook claude


LIB = (
    "import os\n\n\ndef a():\n    x = 1\n    return x\n\n\n"
    "def b():\n    x = 1\n    return x\n\n\ndef c():\n    x = 1\n    return x\n"
)


class Session:
    """A Claude Code session driving ``trace hook claude`` as Claude Code would: a
    payload per hook, the tools' real effects in between, the transcript written as it
    goes (the model is read from it)."""

    def __init__(self, root: Path, transcript: Transcript) -> None:
        self.root = root
        self.transcript = transcript
        self.session_id = SESSION

    def payload(self, hook: str, **fields: Any) -> bytes:
        obj = {"session_id": self.session_id, "transcript_path": str(self.transcript.path),
               "cwd": str(self.root), "permission_mode": "acceptEdits",
               "hook_event_name": hook, **fields}  # fmt: skip
        return json.dumps(obj).encode()

    def hook(self, hook: str, **fields: Any) -> Result:
        result = trace("hook", "claude", input=self.payload(hook, **fields))
        assert result.output == "", result.output
        return result

    def tool(
        self,
        tool_id: str,
        name: str,
        tool_input: dict[str, Any],
        act: Callable[[], T],
        response: Callable[[T], dict[str, Any]],
    ) -> None:
        """PreToolUse, the tool's effect (``act()``), PostToolUse with ``response(...)``."""
        self.transcript.tool_use(tool_id, name, tool_input)
        self.hook("PreToolUse", tool_name=name, tool_input=tool_input, tool_use_id=tool_id)
        done = act()
        self.hook(
            "PostToolUse", tool_name=name, tool_input=tool_input, tool_use_id=tool_id,
            tool_response=response(done),
        )  # fmt: skip
        self.transcript.tool_result(tool_id, response(done))


def test_hook_claude_full_session(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo.root
    repo.write("lib.py", LIB)
    repo.write("notes.md", "# Notes\n")
    repo.commit("base")
    repo.write("lib.py", LIB.replace("import os\n", "import os, sys\n"))  # a person's change
    monkeypatch.chdir(tmp_path)  # the hook must go by the payload's cwd
    transcript = Transcript(tmp_path / f"{SESSION}.jsonl", root, datetime.now(UTC))
    s = Session(root, transcript)
    lib = root / "lib.py"

    start = installed_trace("hook", "claude", cwd=tmp_path,
                            input=s.payload("SessionStart", source="startup",
                                            model="claude-sonnet-4-5-20250929"))  # fmt: skip
    assert (start.returncode, start.stdout, start.stderr) == (0, b"", b"")
    transcript.prompt("make b() return 10, document a(), add util.py")
    s.hook("UserPromptSubmit", prompt="make b() return 10, document a(), add util.py")

    # Edit: one line in the middle; `    x = 1` is on three lines
    old, new = "def b():\n    x = 1\n", "def b():\n    x = 10\n"

    def edit() -> tuple[str, str]:
        before = lib.read_text()
        lib.write_text(before.replace(old, new))
        return before, lib.read_text()

    def edited(done: tuple[str, str]) -> dict[str, Any]:
        response = edit_response(lib, done[0], done[1], old, new)
        assert response["structuredPatch"][0]["oldStart"] == 7  # not at the top
        return response

    s.tool("toolu_E", "Edit", {"file_path": str(lib), "old_string": old, "new_string": new},
           edit, edited)  # fmt: skip

    util = root / "util.py"
    content = "def helper():\n    return 42\n"
    s.tool("toolu_W", "Write", {"file_path": str(util), "content": content},
           lambda: util.write_text(content), lambda _: write_response(util, content))  # fmt: skip

    edits = [
        {"old_string": "def a():\n", "new_string": 'def a():\n    """The first."""\n'},
        {"old_string": "def c():\n    x = 1\n", "new_string": "def c():\n    x = 1\n    y = 2\n"},
    ]

    def multi() -> str:
        before = text = lib.read_text()
        for e in edits:
            text = text.replace(e["old_string"], e["new_string"])
        lib.write_text(text)
        return before

    def multi_response(before: str) -> dict[str, Any]:
        return {"filePath": str(lib), "edits": edits, "originalFileContents": before,
                "structuredPatch": structured_patch(before, lib.read_text()),
                "userModified": False}  # fmt: skip

    s.tool("toolu_M", "MultiEdit", {"file_path": str(lib), "edits": edits}, multi,
           multi_response)  # fmt: skip

    bash = "echo '- agent was here' >> notes.md && git add -A && git commit -qm 'agent: lib'"

    def run_bash() -> None:
        subprocess.run(["sh", "-c", bash], cwd=root, check=True, capture_output=True)

    s.tool(
        "toolu_B",
        "Bash",
        {"command": bash, "description": "Commit"},
        run_bash,
        lambda _: {"stdout": "", "stderr": "", "interrupted": False, "isImage": False},
    )
    head = repo.head()
    assert repo.git("log", "-1", "--format=%s") == "agent: lib"
    s.hook("Stop", stop_hook_active=False)
    s.hook("SessionEnd", reason="other")

    model = f"anthropic/{OPUS}"  # from the transcript, not SessionStart's sonnet
    hooked: Who = ("ai", model, "claude-hook", 1.0)
    assert blame(root, "lib.py") == [
        HUMAN, UNKNOWN, UNKNOWN, UNKNOWN, hooked, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN,
        UNKNOWN, hooked, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, hooked, UNKNOWN,
    ]  # fmt: skip
    assert blame(root, "util.py") == [hooked, hooked]
    assert blame(root, "notes.md") == [UNKNOWN, ("ai", model, *COMMAND)]
    assert explain(root, "lib.py:11")["commit"] == head  # linked by the hook after Bash
    assert explain(root, "notes.md:2")["record"]["item_ids"] == ["toolu_B"]

    run_id = f"claude-{SESSION}"
    info = run_json(root, run_id)
    assert (info["status"], info["model_id"], info["tool_name"]) == (
        "completed", model, "claude-code",
    )  # fmt: skip
    evs = events(root, run_id)
    assert [e["type"] for e in evs] == (
        ["thread.started", "turn.started"] + ["item.started", "item.completed"] * 4
        + ["turn.completed", "thread.completed"]
    )  # fmt: skip
    assert item_ids(evs) == {"toolu_E", "toolu_W", "toolu_M", "toolu_B"}
    validate(root, run_id, len(evs))
    log = (run_dir(root, run_id) / "events.jsonl").read_text()
    assert '"originalFile"' not in log  # the Edit's; MultiEdit's: see the xfail test below
    assert "return 42" not in log  # the Write's content


def test_hook_claude_multiedit_keeps_file_contents_out_of_the_log(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo.root
    repo.write("lib.py", LIB)
    repo.commit("base")
    monkeypatch.chdir(tmp_path)
    s = Session(root, Transcript(tmp_path / "t.jsonl", root, datetime.now(UTC)))
    lib = root / "lib.py"
    edits = [{"old_string": "def a():\n", "new_string": 'def a():\n    """The first."""\n'}]
    s.tool(
        "toolu_M", "MultiEdit", {"file_path": str(lib), "edits": edits},
        lambda: lib.write_text(LIB.replace("def a():\n", 'def a():\n    """The first."""\n')),
        lambda _: {"filePath": str(lib), "edits": edits, "originalFileContents": LIB,
                   "structuredPatch": structured_patch(LIB, lib.read_text()),
                   "userModified": False},
    )  # fmt: skip
    log = (run_dir(root, f"claude-{SESSION}") / "events.jsonl").read_text()
    assert "def c():" not in log


def test_hook_claude_never_fails(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("a.py", "a\n")
    repo.commit("base")
    (repo.root / ".agent-trace").mkdir()
    monkeypatch.chdir(repo.root)
    garbage = trace("hook", "claude", input=b"\x00 not json {")
    assert garbage.stdout == ""
    assert garbage.stderr.startswith("agent-trace: claude hook: hook payload on stdin is not JSON")
    assert garbage.stderr.count("\n") == 1

    nowhere = tmp_path / "not-a-repo"
    nowhere.mkdir()
    payload = {"session_id": "s1", "hook_event_name": "SessionStart", "cwd": str(nowhere)}
    outside = trace("hook", "claude", input=json.dumps(payload).encode())
    assert outside.output == ""
    assert list(nowhere.iterdir()) == []

    no_session = {"hook_event_name": "Stop", "cwd": str(repo.root)}
    missing = trace("hook", "claude", input=json.dumps(no_session).encode())
    message = "hook payload: $.session_id: expected a string"
    assert missing.stderr == f"agent-trace: claude hook: {message}\n"
    log = (repo.root / ".agent-trace" / "hooks.log").read_text().splitlines()
    assert len(log) == 2
    assert log[1].endswith(f" agent-trace: claude hook: ValueError: {message}")
    assert not (repo.root / ".agent-trace" / "runs").exists()


def test_hook_claude_print_settings() -> None:
    settings = json.loads(trace("hook", "claude", "--print-settings").stdout)
    hooks = settings["hooks"]
    for event in ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "SessionEnd"):
        (entry,) = hooks[event]
        assert entry["hooks"] == [{"type": "command", "command": "trace hook claude"}]
    assert hooks["PreToolUse"][0]["matcher"] == "*"
    assert hooks["PostToolUse"][0]["matcher"] == "*"
    assert "matcher" not in hooks["SessionStart"][0]
