"""Caps on event and log size (``Limits``, ``[limits]`` in ``config.toml``), ``trace gc``,
and runs whose recording process is gone (``RunManifest.current_status``, ``Owner``).

Real git repositories, real recorders (some in processes killed with SIGKILL), real
files aged with ``os.utime`` (no sleeping), the real CLI."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import strategies as s
from gitrepo import GitRepo
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_agents_e2e import trace as cli_trace
from test_attribution import GPT, SONNET, blame, lines, trace, who
from test_privacy import no_traceback, write_config, written_events

from agent_trace import Recorder, TraceStore
from agent_trace._config import ConfigError, load_limits
from agent_trace._process import Owner
from agent_trace._runs import RunManifest
from agent_trace.events import (
    AgentMessageItem,
    CommandExecutionItem,
    ErrorItem,
    EventReader,
    FileChangeItem,
    FileUpdateChange,
    ItemCompletedEvent,
    JsonlWriter,
    Limits,
    McpToolCallItem,
    PatchApplyStatus,
    PatchChangeKind,
    PlanItem,
    ReasoningItem,
    ThreadErrorEvent,
    ThreadEvent,
    ThreadItem,
    TodoEntry,
    TodoListItem,
    ToolInvocationItem,
    ToolOutputItem,
    TurnCompletedEvent,
    TurnStartedEvent,
    Usage,
    WebSearchItem,
)
from agent_trace.events._limits import (
    CUT_KEY,
    DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_MAX_LOG_BYTES,
    LOG_FULL_KEY,
)

CUT_MARKER = "[agent-trace: "
MANY = {f"field{i}": i for i in range(3000)}
"""Thousands of small fields: nothing long enough to cut."""
UNITS = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=4)
"""Pieces of text, multi-byte UTF-8, control characters (escaped in JSON) included."""


def write_all(path: Path, limits: Limits | None, *events: ThreadEvent) -> JsonlWriter:
    """Write ``events`` with a (closed) writer of ``limits``; returns the writer."""
    with JsonlWriter(path, run_id="run-1", limits=limits) as writer:
        for event in events:
            writer.write(event)
    return writer


def raw_lines(path: Path) -> list[bytes]:
    """The lines of a log, each with its newline."""
    return path.read_bytes().splitlines(keepends=True)


def cut_count(text: str) -> int:
    """N of a text that starts with ``[agent-trace: N bytes cut]``."""
    header, _, _ = text.partition("\n")
    assert header.startswith(CUT_MARKER), text[:80]
    assert header.endswith(" bytes cut]"), header
    return int(header.removeprefix(CUT_MARKER).removesuffix(" bytes cut]").replace(",", ""))


def extra(event: ThreadEvent) -> dict[str, Any]:
    found: dict[str, Any] = getattr(event, "extra", {})
    return found


def item_id(event: ThreadEvent) -> str | None:
    item = getattr(event, "item", None)
    return None if item is None else str(item.id)


def message(item_id: str, size: int) -> ItemCompletedEvent:
    return ItemCompletedEvent(item=AgentMessageItem(id=item_id, text="m" * size))


# --------------------------------------------------------------------------- 1. one event


def test_an_event_over_the_cap_is_shrunk_to_its_tail(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    head = "HEAD-OF-THE-OUTPUT " * 100
    tail = " TAIL: héllo wörld, ∑ and 🦀 at the end"
    output = head + "x" * 300_000 + tail
    item = CommandExecutionItem(
        id="cmd-7", command="make test", aggregated_output=output, exit_code=2, status="failed"
    )
    write_all(path, Limits(max_event_bytes=8192), ItemCompletedEvent(item=item), TurnStartedEvent())
    first, second = raw_lines(path)
    assert len(first) <= 8192
    assert json.loads(second)["event"] == {"type": "turn.started"}  # later events intact

    assert [json.loads(line)["seq"] for line in (first, second)] == [0, 1]
    event = written_events(path)[0]
    assert isinstance(event, ItemCompletedEvent)
    assert isinstance(event.item, CommandExecutionItem)
    got = event.item
    assert (got.id, got.command, got.exit_code, str(got.status)) == (
        "cmd-7",
        "make test",
        2,
        "failed",
    )
    kept = got.aggregated_output.partition("\n")[2]
    assert output.endswith(kept)
    assert kept.endswith(tail)
    assert "HEAD-OF-THE-OUTPUT" not in kept
    assert cut_count(got.aggregated_output) + len(kept.encode()) == len(output.encode())
    cut = event.extra[CUT_KEY]
    assert cut["limit"] == 8192
    assert cut["bytes"] > len(output.encode())  # the size of the whole line it was


def test_an_escape_heavy_output_keeps_its_tail(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    rows = json.dumps([{"name": f"item{i}", "value": i} for i in range(60_000)])
    output = rows + "\nexit status 1: the last words\n"
    item = CommandExecutionItem(id="c", command="list", aggregated_output=output, status="failed")
    write_all(path, Limits(max_event_bytes=65_536), ItemCompletedEvent(item=item))
    event = check_capped(path, 65_536)
    assert isinstance(event, ItemCompletedEvent)
    assert isinstance(event.item, CommandExecutionItem)
    kept = event.item.aggregated_output.partition("\n")[2]
    assert kept.endswith("the last words\n")
    assert len(kept.encode()) > 65_536 // 4  # most of the room is used


def test_thousands_of_small_fields_fall_back_to_type_and_ids(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    item = McpToolCallItem(id="call-3", server="docs", tool="search", arguments=MANY)
    write_all(path, Limits(max_event_bytes=4096), ItemCompletedEvent(item=item))
    [line] = raw_lines(path)
    assert len(line) <= 4096
    envelope = json.loads(line)
    assert (envelope["seq"], envelope["run_id"]) == (0, "run-1")
    body = envelope["event"]
    assert body["type"] == "item.completed"
    assert body["item"]["id"] == "call-3"
    assert body["item"]["type"] == "mcp_tool_call"
    assert "arguments" not in body["item"]
    assert body[CUT_KEY]["limit"] == 4096
    assert body[CUT_KEY]["bytes"] > len(json.dumps(MANY, separators=(",", ":")))


_USAGE = Usage(input_tokens=1, cached_input_tokens=0, output_tokens=1)


SKELETONS: dict[str, ThreadEvent] = {
    "tool_output": ItemCompletedEvent(
        item=ToolOutputItem(id="a", call_id="c", output="x", status="completed", extra={"x": MANY})
    ),
    "turn.started": TurnStartedEvent(token_breakdown=MANY),
    "mcp_tool_call": ItemCompletedEvent(
        item=McpToolCallItem(id="a", server="s", tool="t", arguments=MANY)
    ),
    "tool_invocation": ItemCompletedEvent(
        item=ToolInvocationItem(id="a", tool_name="t", arguments=MANY, status="completed")
    ),
    "command_execution": ItemCompletedEvent(
        item=CommandExecutionItem(id="a", command="ls", arguments=MANY, status="completed")
    ),
    "agent_message": ItemCompletedEvent(item=AgentMessageItem(id="a", text="x", extra={"x": MANY})),
    "web_search": ItemCompletedEvent(item=WebSearchItem(id="a", query="q", action=MANY)),
    "todo_list": ItemCompletedEvent(
        item=TodoListItem(id="a", items=[TodoEntry(text="t", completed=False)] * 900)
    ),
    "file_change": ItemCompletedEvent(
        item=FileChangeItem(
            id="a",
            changes=[
                FileUpdateChange(path=f"p{i}", kind=PatchChangeKind.UPDATE) for i in range(400)
            ],
            status=PatchApplyStatus.COMPLETED,
        )
    ),
    "turn.completed": TurnCompletedEvent(usage=_USAGE, extra={"x": MANY}),
    "error": ThreadErrorEvent(message="boom", extra={"x": MANY}),
}
"""Events too big for 4096 bytes with nothing long to cut: only a skeleton fits."""


@pytest.mark.parametrize("kind", list(SKELETONS))
def test_a_skeleton_is_read_by_the_strict_reader(tmp_path: Path, kind: str) -> None:
    event = SKELETONS[kind]
    path = tmp_path / "events.jsonl"
    write_all(path, Limits(max_event_bytes=4096), event)
    [line] = raw_lines(path)
    assert len(line) <= 4096
    [entry] = list(EventReader(path, strict=True))
    assert entry.event.type == event.type
    assert extra(entry.event)[CUT_KEY]["limit"] == 4096
    assert item_id(entry.event) == item_id(event)


def long_text_item(kind: str, text: str) -> ThreadItem:
    if kind == "command":
        return CommandExecutionItem(
            id="c1", command=text, aggregated_output=text[::-1], status="completed"
        )
    if kind == "message":
        return AgentMessageItem(id="c1", text=text)
    if kind == "reasoning":
        return ReasoningItem(id="c1", text=text, stage=text[:100])
    if kind == "plan":
        return PlanItem(id="c1", text=text)
    if kind == "error":
        return ErrorItem(id="c1", message=text)
    if kind == "todo":
        return TodoListItem(id="c1", items=[TodoEntry(text=text, completed=True)] * 3)
    return ToolOutputItem(id="c1", call_id="call", output=text, status="completed")


def check_capped(path: Path, cap: int) -> ThreadEvent:
    """The single line of ``path`` is within ``cap`` and the strict reader reads it."""
    [line] = raw_lines(path)
    assert len(line) <= cap, (len(line), cap)
    [entry] = list(EventReader(path, strict=True))
    return entry.event


@settings(max_examples=60, deadline=None)
@given(
    unit=UNITS,
    repeat=st.integers(min_value=0, max_value=40_000),
    cap=st.integers(min_value=4096, max_value=200_000),
    kind=st.sampled_from(["command", "message", "reasoning", "plan", "error", "todo", "output"]),
)
@example(unit="\x01", repeat=40_000, cap=4096, kind="command")  # 6 JSON bytes per byte
@example(unit="🦀é", repeat=40_000, cap=4096, kind="todo")
def test_long_texts_always_fit_the_cap_and_decode(
    tmp_path_factory: pytest.TempPathFactory, unit: str, repeat: int, cap: int, kind: str
) -> None:
    path = tmp_path_factory.mktemp("log") / "events.jsonl"
    item = long_text_item(kind, unit * repeat)
    write_all(path, Limits(max_event_bytes=cap), ItemCompletedEvent(item=item))
    event = check_capped(path, cap)
    assert isinstance(event, ItemCompletedEvent)
    assert item_id(event) == "c1"
    assert type(event.item) is type(item)


def nested_item(kind: str, value: Any, copies: int) -> ThreadItem:
    body = {f"k{i}": value for i in range(copies)}
    if kind == "mcp":
        return McpToolCallItem(id="c1", server="srv", tool="t", arguments=body, result=[body])
    if kind == "invocation":
        return ToolInvocationItem(id="c1", tool_name="t", arguments=body, status="completed")
    if kind == "command":
        return CommandExecutionItem(id="c1", command="c", arguments=body, status="completed")
    return ToolOutputItem(id="c1", call_id="x", output="o", status="completed", extra={"n": body})


@settings(max_examples=40, deadline=None)
@given(
    value=s.json_values,
    copies=st.integers(min_value=1, max_value=3000),
    cap=st.integers(min_value=4096, max_value=65_536),
    kind=st.sampled_from(["mcp", "invocation", "command", "output"]),
)
@example(value=[1, "a", {"b": None}], copies=3000, cap=4096, kind="mcp")
def test_random_nested_json_always_fits_the_cap_and_decodes(
    tmp_path_factory: pytest.TempPathFactory, value: Any, copies: int, cap: int, kind: str
) -> None:
    path = tmp_path_factory.mktemp("log") / "events.jsonl"
    write_all(
        path, Limits(max_event_bytes=cap), ItemCompletedEvent(item=nested_item(kind, value, copies))
    )
    event = check_capped(path, cap)
    assert isinstance(event, ItemCompletedEvent)
    assert item_id(event) == "c1"


def test_without_limits_nothing_is_cut(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    event = message("m1", 3 * 1024 * 1024)
    write_all(path, None, event)
    write_all(path, Limits.none(), event)
    entries = [e.event for e in EventReader(path, strict=True)]
    assert entries == [event, event]


# --------------------------------------------------------------------------- 1. the log


def test_a_full_log_gets_one_marker_then_nothing(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    writer = write_all(
        path,
        Limits(max_event_bytes=4096, max_log_bytes=8192),
        *(message(f"m{i}", 100) for i in range(100)),
    )
    assert path.stat().st_size <= 8192
    events = written_events(path)
    assert [json.loads(line)["seq"] for line in raw_lines(path)] == list(range(len(events)))
    *written, last = events
    assert isinstance(last, ThreadErrorEvent)
    assert last.extra[LOG_FULL_KEY] == {"limit": 8192}
    assert "8,192 bytes" in last.message
    assert [item_id(e) for e in written] == [f"m{i}" for i in range(len(written))]
    assert writer.not_written == 100 - len(written)
    assert len(written) > 10


def test_a_writer_opened_on_a_full_log_adds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    limits = Limits(max_event_bytes=None, max_log_bytes=8192)
    first = write_all(path, limits, *(message(f"m{i}", 900) for i in range(8)))
    assert first.not_written == 2
    full = path.read_bytes()
    second = write_all(path, limits, *(message(f"late{i}", 900) for i in range(10)))
    assert path.read_bytes() == full
    assert second.not_written == 10
    markers = [e for e in written_events(path) if LOG_FULL_KEY in extra(e)]
    assert len(markers) == 1


def test_limits_validation() -> None:
    assert Limits() == Limits(DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_LOG_BYTES)
    assert (DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_LOG_BYTES) == (1024 * 1024, 256 * 1024 * 1024)
    assert Limits(max_event_bytes=4096, max_log_bytes=2048) == Limits(4096, 2048)
    for no_cap in (0, None):
        limits = Limits(max_event_bytes=no_cap, max_log_bytes=no_cap)
        assert (limits.max_event_bytes, limits.max_log_bytes) == (None, None)
        assert limits == Limits.none()
        assert limits.log_room() is None
    with pytest.raises(ValueError, match="max_event_bytes must be at least 4096"):
        Limits(max_event_bytes=4095)
    with pytest.raises(ValueError, match="max_log_bytes must be at least 2048"):
        Limits(max_log_bytes=2047)
    with pytest.raises(ValueError, match="max_event_bytes"):
        Limits(max_event_bytes=1)


# --------------------------------------------------------------------------- 2. config


def test_config_limits_are_loaded(repo: GitRepo) -> None:
    directory = repo.root / ".agent-trace"
    assert load_limits(None) == Limits()
    assert load_limits(directory) == Limits()  # no file
    write_config(repo, "[limits]\nmax_event_bytes = 8192\n")
    assert load_limits(directory) == Limits(8192, DEFAULT_MAX_LOG_BYTES)
    write_config(repo, "[limits]\nmax_event_bytes = 0\nmax_log_bytes = 4096\n")
    assert load_limits(directory) == Limits(None, 4096)
    write_config(repo, "[privacy]\ncapture = 'all'\n")
    assert load_limits(directory) == Limits()


def test_a_recorder_follows_config_limits_and_attribution_goes_on(
    repo: GitRepo, caplog: pytest.LogCaptureFixture
) -> None:
    repo.write("README.md", "# project\n")
    repo.commit("base")
    write_config(repo, "[limits]\nmax_event_bytes = 4096\nmax_log_bytes = 2048\n")
    caplog.set_level(logging.WARNING, logger="agent_trace")
    with Recorder(repo.root, model_id=SONNET) as rec:
        assert rec.limits == Limits(4096, 2048)
        with rec.turn():
            for i in range(12):
                rec.emit(ItemCompletedEvent(item=AgentMessageItem(id=f"m{i}", text="hi")))
        with rec.turn(), rec.edit("app.py"):  # after the cap
            repo.write("app.py", lines("import os", "print(os.sep)"))
    path = rec.events_path
    assert path.stat().st_size <= 2048
    events = written_events(path)
    assert isinstance(events[-1], ThreadErrorEvent)
    assert events[-1].extra[LOG_FULL_KEY] == {"limit": 2048}
    assert sum(LOG_FULL_KEY in extra(e) for e in events) == 1
    assert "file_change" not in path.read_text(encoding="utf-8")  # not logged ...
    warned = [r for r in caplog.records if "max_log_bytes" in r.getMessage()]
    assert len(warned) == 1
    head = repo.commit("agent's work")
    out = trace(repo, "link").stdout
    assert out == f"{head[:12]} linked: 2 AI line(s), 0 human line(s)\n"  # ... yet attributed
    assert who(blame(repo, "app.py")) == [(1, "ai", SONNET), (2, "ai", SONNET)]


BAD_LIMITS = [
    pytest.param("[limits]\nmax_event_bytes = 'big'\n", "limits.max_event_bytes", id="type"),
    pytest.param("[limits]\nmax_log_bytes = 1.5e9\n", "limits.max_log_bytes", id="float"),
    pytest.param("[limits]\nmax_log_bytes = true\n", "limits.max_log_bytes", id="bool"),
    pytest.param("[limits]\nmax_event_bytes = 100\n", "limits.max_event_bytes", id="event-small"),
    pytest.param("[limits]\nmax_log_bytes = 2047\n", "limits.max_log_bytes", id="log-small"),
    pytest.param("[limits]\nmax_lines = 10\n", "limits.max_lines", id="unknown-key"),
    pytest.param("limits = 3\n", "[limits]", id="not-a-table"),
]


@pytest.mark.parametrize(("text", "key"), BAD_LIMITS)
def test_bad_limits_name_the_file_and_key(repo: GitRepo, text: str, key: str) -> None:
    write_config(repo, text)
    with pytest.raises(ConfigError) as info:
        load_limits(repo.root / ".agent-trace")
    assert "config.toml" in str(info.value)
    assert key in str(info.value)
    with pytest.raises(ConfigError, match=r"config\.toml"):
        Recorder(repo.root).start()
    assert not (repo.root / ".agent-trace" / "runs").exists()


@pytest.mark.parametrize(("text", "key"), BAD_LIMITS)
def test_bad_limits_through_trace_record(repo: GitRepo, text: str, key: str) -> None:
    write_config(repo, text)
    result = cli_trace("record", "-C", str(repo.root), "--", "true", code=1)
    no_traceback(result)
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert "config.toml" in line
    assert key in line
    assert not (repo.root / ".agent-trace" / "runs").exists()


# --------------------------------------------------------------------------- 3. gc


NOW = time.time()
OLD = NOW - 90 * 86400
"""Long before the default cutoff (30 days)."""


def iso(when: float) -> str:
    return dt.datetime.fromtimestamp(when, dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def age(path: Path, when: float = OLD) -> None:
    os.utime(path, (when, when))


def dead_pid() -> int:
    """The id of a process that has exited and been reaped."""
    with subprocess.Popen(["true"]) as proc:
        proc.wait()
    return proc.pid


def rewrite_run(repo: GitRepo, run_id: str, *, old: bool, **changes: Any) -> None:
    """Change ``run.json`` of a run in place; ``old``: its times and its files' mtimes
    90 days back."""
    directory = repo.root / ".agent-trace" / "runs" / run_id
    manifest = directory / "run.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data.update(changes)
    if old:
        data.update(created_at=iso(OLD), updated_at=iso(OLD))
    manifest.write_text(json.dumps(data), encoding="utf-8")
    if old:
        for path in directory.rglob("*"):
            age(path)


def age_pending(repo: GitRepo, *paths: str) -> None:
    for entry in (repo.root / ".agent-trace" / "pending").glob("*.json"):
        data = json.loads(entry.read_text(encoding="utf-8"))
        if data["path"] in paths:
            data["updated_at"] = iso(OLD)
            entry.write_text(json.dumps(data), encoding="utf-8")


def read_quietly(path: Path) -> bytes:
    """The file's bytes, its access time left as it was (gc judges the cache by it)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOATIME)
    with os.fdopen(fd, "rb") as f:
        return f.read()


def store_files(repo: GitRepo) -> dict[str, bytes]:
    base = repo.root / ".agent-trace"
    return {str(p.relative_to(base)): read_quietly(p) for p in base.rglob("*") if p.is_file()}


def recorded_run(repo: GitRepo, run_id: str, *paths: str) -> None:
    """A completed run that wrote two lines into each of ``paths`` (left uncommitted)."""
    with Recorder(repo.root, run_id=run_id, model_id=GPT) as rec:
        for path in paths:
            with rec.edit(path):
                repo.write(path, lines(f"{path} one", f"{path} two"))


def gc_json(repo: GitRepo, *args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(trace(repo, "gc", "--format", "json", *args).stdout)
    return data


@pytest.fixture
def aged_store(repo: GitRepo) -> GitRepo:
    """A store with old and new runs, pending files, temporary files, cache entries and
    hooks.log lines (see ``test_gc``)."""
    repo.write("README.md", "# project\n")
    repo.write("base.py", "base = 1\n")
    repo.commit("base")
    with Recorder(repo.root, run_id="linked", model_id=SONNET) as rec:
        with rec.edit("linked.py"):
            repo.write("linked.py", lines("linked"))
        repo.commit("an agent commit: a record in traces.jsonl and a note")
    recorded_run(repo, "old-done", "gone.py", "rewritten.py", "kept.py")
    recorded_run(repo, "new-done", "fresh-gone.py")
    recorded_run(repo, "old-dead")
    recorded_run(repo, "new-dead")
    TraceStore.open(repo.root).new_run("old-live", tool_name="me")  # this process: running
    with Recorder(repo.root, run_id="old-resumed", resume=True):
        pass  # running, between two processes of an agent's hooks: no owner
    (repo.root / "gone.py").unlink()
    (repo.root / "fresh-gone.py").unlink()
    repo.write("rewritten.py", lines("a person", "rewrote it all"))
    age_pending(repo, "gone.py", "rewritten.py", "kept.py")
    dead = dead_pid()
    rewrite_run(repo, "old-done", old=True)
    rewrite_run(repo, "old-dead", old=True, status="running", pid=dead, pid_started=None)
    rewrite_run(repo, "new-dead", old=False, status="running", pid=dead, pid_started=None)
    rewrite_run(repo, "old-live", old=True)
    rewrite_run(repo, "old-resumed", old=True)
    store = repo.root / ".agent-trace"
    (store / "locks").mkdir()
    for name in ("old-done.before", "new-done.before"):
        (store / "locks" / name).write_text("{}", encoding="utf-8")
    for name in (".traces.jsonl.1.2.tmp", "pending/.x.json.3.4.tmp", "runs/new-done/.r.5.tmp"):
        (store / name).write_bytes(b"partial")
    (store / "not-hidden.tmp").write_bytes(b"someone's")
    age(store / ".traces.jsonl.1.2.tmp", NOW - 7200)
    age(store / "runs/new-done/.r.5.tmp", NOW - 7200)
    age(store / "not-hidden.tmp", NOW - 7200)
    trace(repo, "blame", "README.md")
    trace(repo, "blame", "base.py")
    cache = sorted((store / "cache").rglob("*.json"))
    assert len(cache) == 2
    age(cache[0])
    (store / "hooks.log").write_text(
        f"2020-01-02T03:04:05Z agent-trace: post-commit hook failed: old\n"
        f"{iso(NOW - 3600)} agent-trace: post-commit hook failed: recent\n"
        "a line without a time\n",
        encoding="utf-8",
    )
    return repo


def gc_text(dry_run: bool, report: dict[str, Any]) -> str:
    verb, mark = ("would remove", "would mark") if dry_run else ("removed", "marked")
    return (
        f"{verb} 3 runs, 2 pending files, 2 temporary files, 1 cache entry, 1 hooks.log line "
        f"({report['bytes_freed']:,} bytes; cutoff {report['cutoff']})\n"
        f"{mark} 2 runs interrupted (their process is gone)\n"
    )


def test_gc(aged_store: GitRepo) -> None:
    repo = aged_store
    store = repo.root / ".agent-trace"
    notes = repo.git("rev-parse", "refs/notes/agent-trace")
    before = store_files(repo)

    dry = gc_json(repo, "--dry-run")
    assert dry.pop("dry_run") is True
    assert dry["runs"] == ["old-dead", "old-done", "old-resumed"]
    assert dry["runs_marked_interrupted"] == ["new-dead", "old-dead"]
    assert sorted(dry["pending_files"]) == ["gone.py", "rewritten.py"]
    assert sorted(dry["temp_files"]) == [".traces.jsonl.1.2.tmp", "runs/new-done/.r.5.tmp"]
    assert (dry["cache_entries"], dry["hooks_log_lines"], dry["windows_recovered"]) == (1, 1, 0)
    assert dry["bytes_freed"] > 0
    text = trace(repo, "gc", "--dry-run").stdout
    assert text == gc_text(True, {**dry, "cutoff": text.split("cutoff ")[1].split(")")[0]})
    assert store_files(repo) == before  # nothing removed, nothing marked

    real = gc_json(repo)
    assert real.pop("dry_run") is False
    cutoffs = [dt.datetime.fromisoformat(r.pop("cutoff")).timestamp() for r in (dry, real)]
    assert abs(cutoffs[0] - cutoffs[1]) < 60
    assert real == dry

    after = store_files(repo)
    removed = sorted(set(before) - set(after))
    assert {p for p in removed if p.startswith("runs/")} == {
        p for p in before if p.startswith(("runs/old-dead/", "runs/old-done/", "runs/old-resumed/"))
    } | {"runs/new-done/.r.5.tmp"}
    others = [p for p in removed if not p.startswith("runs/")]
    assert len([p for p in others if p.startswith("pending/")]) == 2
    assert len([p for p in others if p.startswith("cache/")]) == 1
    assert {p for p in others if not p.startswith(("pending/", "cache/"))} == {
        ".traces.jsonl.1.2.tmp",
        "locks/old-done.before",
    }
    assert not (store / "runs" / "old-done").exists()
    assert not (store / "runs" / "old-dead").exists()
    for kept in ("locks/new-done.before", "pending/.x.json.3.4.tmp", "not-hidden.tmp"):
        assert after[kept] == before[kept]
    assert after["traces.jsonl"] == before["traces.jsonl"]
    assert repo.git("rev-parse", "refs/notes/agent-trace") == notes
    assert after["hooks.log"].decode().splitlines()[1:] == ["a line without a time"]
    assert "recent" in after["hooks.log"].decode()
    assert len(list((store / "cache").rglob("*.json"))) == 1
    pending = sorted(
        json.loads(p.read_text(encoding="utf-8"))["path"]
        for p in (store / "pending").glob("*.json")
    )
    assert pending == ["fresh-gone.py", "kept.py", "linked.py"]  # recent, or still there
    assert who(blame(repo, "kept.py")) == [(1, "ai", GPT), (2, "ai", GPT)]
    assert who(blame(repo, "linked.py")) == [(1, "ai", SONNET)]

    runs = json.loads(trace(repo, "runs", "--format", "json").stdout)
    assert [(r["run_id"], r["status"]) for r in runs] == [
        ("linked", "completed"),
        ("new-dead", "interrupted"),
        ("new-done", "completed"),
        ("old-live", "running"),
    ]
    manifest = json.loads((store / "runs" / "new-dead" / "run.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "interrupted"  # written down by gc

    again = trace(repo, "gc").stdout
    assert again.startswith(
        "removed 0 runs, 0 pending files, 0 temporary files, 0 cache entries, "
        "0 hooks.log lines (0 bytes; cutoff "
    )
    assert again.count("\n") == 1


def test_gc_older_than(aged_store: GitRepo) -> None:
    """``--older-than 0``: everything that ended goes, never a live run nor a kept line."""
    report = gc_json(aged_store, "--older-than", "0")
    assert report["runs"] == [
        "linked",
        "new-dead",
        "new-done",
        "old-dead",
        "old-done",
        "old-resumed",
    ]
    assert sorted(report["pending_files"]) == ["fresh-gone.py", "gone.py", "rewritten.py"]
    runs = json.loads(trace(aged_store, "runs", "--format", "json").stdout)
    assert [(r["run_id"], r["status"]) for r in runs] == [("old-live", "running")]
    assert who(blame(aged_store, "linked.py")) == [(1, "ai", SONNET)]  # records untouched


def test_gc_usage_and_environment_errors(repo: GitRepo, tmp_path: Path) -> None:
    result = trace(repo, "gc", "--older-than", "-1", code=2)
    assert "older-than" in result.output
    plain = tmp_path / "not-a-repo"
    plain.mkdir()
    outside = cli_trace("gc", "-C", str(plain), code=3)
    no_traceback(outside)
    assert f"{plain} is not inside a git work tree" in outside.output
    assert gc_json(repo)["runs"] == []  # a repository without a store
    assert not (repo.root / ".agent-trace").exists()


# --------------------------------------------------------------------------- 4. gone


RECORDING = """
import contextlib, sys, time
from pathlib import Path
from agent_trace import Recorder
root, run_id, *paths = sys.argv[1:]
with Recorder(root, run_id=run_id, model_id="openai/gpt-5") as rec:
    with rec.edit(*paths) if paths else contextlib.nullcontext():
        for path in paths:
            Path(root, path).write_text("written by the agent\\n")
        print("ready", flush=True)
        time.sleep(120)
"""


def kill_a_recording(repo: GitRepo, run_id: str, *paths: str) -> None:
    """Start a process that records the run ``run_id`` (inside an edit window of
    ``paths``, when given, where it writes a line), and SIGKILL it."""
    with subprocess.Popen(
        [sys.executable, "-c", RECORDING, str(repo.root), run_id, *paths], stdout=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def runs_status(repo: GitRepo) -> tuple[dict[str, str], str]:
    """``{run_id: status}`` of ``trace runs --format json``, and the text output."""
    data = json.loads(trace(repo, "runs", "--format", "json").stdout)
    return {r["run_id"]: r["status"] for r in data}, trace(repo, "runs").stdout


def text_status(text: str, run_id: str) -> str:
    [line] = [line for line in text.splitlines() if line.startswith(run_id + " ")]
    return line.split()[2]


def test_a_killed_recording_is_interrupted_a_live_one_running(repo: GitRepo) -> None:
    kill_a_recording(repo, "killed")
    store = TraceStore.open(repo.root)
    manifest = store.run("killed").read_manifest()
    assert manifest.status == "running"  # it could not say how it ended
    assert manifest.current_status() == "interrupted"
    with Recorder(repo.root, run_id="alive") as rec:
        assert rec.run.read_manifest().current_status() == "running"
        statuses, text = runs_status(repo)
        assert statuses == {"killed": "interrupted", "alive": "running"}
        assert text_status(text, "killed") == "interrupted"
        assert text_status(text, "alive") == "running"
    assert json.loads(store.run("killed").manifest_path.read_text())["status"] == "running"
    assert runs_status(repo)[0] == {"killed": "interrupted", "alive": "completed"}
    doctor = trace(repo, "doctor", code=0)
    assert "1 run(s) marked running whose process is gone (killed); last: killed" in doctor.output


def test_owner_tells_a_reused_pid_and_trusts_other_hosts(repo: GitRepo) -> None:
    me = Owner.me()
    assert (me.pid, me.host) == (os.getpid(), os.uname().nodename)
    assert me.started is not None
    assert not me.is_gone()
    assert Owner(pid=os.getpid()).is_gone() is False  # no start time: the pid alone
    reused = Owner(pid=os.getpid(), started=me.started + 1, host=me.host)
    assert reused.is_gone()  # the same id, another process
    dead = dead_pid()
    assert Owner(pid=dead).is_gone()
    assert not Owner(pid=dead, host="another-host.example").is_gone()
    assert not Owner(pid=dead, started=1, host="another-host.example").is_gone()
    assert Owner.from_dict(me.to_dict()) == me
    assert Owner.from_dict({"pid": True}) is None

    store = TraceStore.open(repo.root)
    for run_id, owner in [("reused", reused), ("elsewhere", Owner(dead, 5, "another-host"))]:
        store.new_run(run_id, pid=owner.pid, pid_started=owner.started, host=owner.host)
    statuses, text = runs_status(repo)
    assert statuses == {"reused": "interrupted", "elsewhere": "running"}
    assert text_status(text, "reused") == "interrupted"
    manifest = store.run("elsewhere").read_manifest()
    assert manifest.owner() == Owner(dead, 5, "another-host")
    ended = RunManifest(run_id="x", created_at=iso(NOW), status="completed", pid=dead)
    assert ended.current_status() == "completed"  # only a running run can be interrupted


def test_a_zombie_is_gone() -> None:
    with subprocess.Popen(["true"]) as proc:
        deadline = time.monotonic() + 30
        while not Owner(pid=proc.pid).is_gone():  # exited, not yet reaped: a zombie
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert proc.poll() == 0


def journalled_windows(repo: GitRepo) -> list[Path]:
    return sorted((repo.root / ".agent-trace" / "pending" / "windows").glob("*.json"))


def test_gc_recovers_windows_cut_off_by_a_kill(repo: GitRepo) -> None:
    repo.write("README.md", "r\n")
    repo.commit("base")
    kill_a_recording(repo, "killed", "w.txt")
    assert len(journalled_windows(repo)) == 1
    report = gc_json(repo)
    assert (report["windows_recovered"], report["runs_marked_interrupted"]) == (1, ["killed"])
    assert journalled_windows(repo) == []
    data = blame(repo, "w.txt")
    assert who(data) == [(1, "unknown", GPT)]  # the agent's, maybe: never a person's
    assert data["lines"][0]["evidence"] == "pending:cut-off-window"


def test_gc_dry_run_tells_the_windows_it_would_recover(repo: GitRepo) -> None:
    kill_a_recording(repo, "killed", "w.txt")
    dry = gc_json(repo, "--dry-run")
    assert journalled_windows(repo) != []
    real = gc_json(repo)
    assert dry["windows_recovered"] == real["windows_recovered"] == 1


def test_gc_dry_run_matches_with_a_stale_temp_file_in_an_old_run(repo: GitRepo) -> None:
    recorded_run(repo, "old-done", "a.py")
    stale = repo.root / ".agent-trace" / "runs" / "old-done" / ".run.json.123.456.tmp"
    stale.write_bytes(b"cut short by a kill")
    rewrite_run(repo, "old-done", old=True)
    dry = gc_json(repo, "--dry-run")
    real = gc_json(repo)
    assert real["runs"] == ["old-done"]
    assert (dry["temp_files"], dry["bytes_freed"]) == (real["temp_files"], real["bytes_freed"])
