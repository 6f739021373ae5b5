"""Real VT Code and Codex logs from ../shared load into typed events, byte-identically."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from agent_trace.events import (
    CommandExecutionItem,
    EventEnvelope,
    EventReader,
    ItemCompletedEvent,
    ItemStartedEvent,
    ItemUpdatedEvent,
    LogRecord,
    ThreadEvent,
    UnknownEvent,
    UnknownItem,
    VersionedThreadEvent,
    WireForm,
    iter_events,
    parse_record,
    record_to_bytes,
)

VENDORS = ["vtcode", "codex"]
VTCODE_FILE = "harness-session-vtcode-20260312T113304Z_360153-80579-20260312T113304Z.jsonl"
CODEX_FILE = "exec-json-sample-from-docs-exec-md.jsonl"


def fixture_files(shared_dir: Path, vendor: str) -> list[Path]:
    files = sorted((shared_dir / "fixtures" / vendor).glob("*.jsonl"))
    assert files, f"no *.jsonl fixtures in {shared_dir / 'fixtures' / vendor}"
    return files


def event_of(record: LogRecord) -> ThreadEvent:
    if isinstance(record, EventEnvelope | VersionedThreadEvent):
        return record.event
    return record


def item_type(event: ThreadEvent) -> str | None:
    if isinstance(event, ItemStartedEvent | ItemUpdatedEvent | ItemCompletedEvent):
        return event.item.type
    return None


def event_type(event: ThreadEvent) -> str:
    return event.type


def lines_of(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data.endswith(b"\n"), f"{path} does not end with a newline"
    return data[:-1].split(b"\n")


def load_all(path: Path) -> list[LogRecord]:
    return [parse_record(line) for line in lines_of(path)]


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_line_loads_typed_and_writes_back_byte_identical(
    shared_dir: Path, vendor: str
) -> None:
    for path in fixture_files(shared_dir, vendor):
        mismatches: list[str] = []
        untyped: list[str] = []
        for number, line in enumerate(lines_of(path), start=1):
            assert line.strip(), f"{path.name}:{number}: unexpected blank line"
            record = parse_record(line)
            event = event_of(record)
            if isinstance(event, UnknownEvent):
                untyped.append(f"{number}: event {event.type}")
            elif isinstance(
                event, ItemStartedEvent | ItemUpdatedEvent | ItemCompletedEvent
            ) and isinstance(event.item, UnknownItem):
                untyped.append(f"{number}: item {event.item.type}")
            out = record_to_bytes(record)
            if out != line:
                mismatches.append(f"{number}:\n  in:  {line[:300]!r}\n  out: {out[:300]!r}")
        assert not untyped, f"{path.name}: lines loaded as Unknown*: {untyped}"
        assert not mismatches, f"{path.name}: not byte-identical:\n" + "\n".join(mismatches)


@pytest.mark.parametrize("vendor", VENDORS)
def test_whole_file_rewrites_byte_identical(shared_dir: Path, vendor: str) -> None:
    for path in fixture_files(shared_dir, vendor):
        rewritten = b"".join(record_to_bytes(r) + b"\n" for r in load_all(path))
        assert rewritten == path.read_bytes()


@pytest.mark.parametrize("vendor", VENDORS)
def test_strict_reader_reads_every_line(shared_dir: Path, vendor: str) -> None:
    for path in fixture_files(shared_dir, vendor):
        expected = len(lines_of(path))
        before = path.read_bytes()
        reader = EventReader(path, strict=True)
        entries = list(reader)
        assert len(entries) == expected
        assert [e.line for e in entries] == list(range(1, expected + 1))
        assert reader.events == expected
        assert reader.lines == expected
        assert reader.malformed == 0
        assert reader.truncated is False
        assert reader.issues == []
        assert [record_to_bytes(e.record) for e in entries] == lines_of(path)
        assert path.read_bytes() == before


def test_vtcode_fixture_counts(shared_dir: Path) -> None:
    path = shared_dir / "fixtures" / "vtcode" / VTCODE_FILE
    entries = list(EventReader(path))
    assert len(entries) == 288
    assert {e.form for e in entries} == {WireForm.VERSIONED}
    assert {e.schema_version for e in entries} == {"0.2.0"}
    events = [e.event for e in entries]
    by_type = Counter(event_type(e) for e in events)
    assert by_type == {
        "thread.started": 1,
        "turn.started": 6,
        "turn.completed": 6,
        "item.started": 29,
        "item.updated": 203,
        "item.completed": 43,
    }
    items = Counter(t for t in (item_type(e) for e in events) if t is not None)
    assert items == {"agent_message": 233, "tool_invocation": 28, "tool_output": 14}
    completed_invocations = [
        e for e in events if isinstance(e, ItemCompletedEvent) and e.item.type == "tool_invocation"
    ]
    assert len(completed_invocations) == 14


def test_codex_fixture_counts_and_absent_exit_code(shared_dir: Path) -> None:
    path = shared_dir / "fixtures" / "codex" / CODEX_FILE
    entries = list(EventReader(path))
    assert len(entries) == 8
    assert {e.form for e in entries} == {WireForm.BARE}
    assert {e.schema_version for e in entries} == {None}
    events = [e.event for e in entries]
    assert [event_type(e) for e in events] == [
        "thread.started",
        "turn.started",
        "item.completed",
        "item.started",
        "item.completed",
        "item.completed",
        "item.completed",
        "turn.completed",
    ]
    started = events[3]
    assert isinstance(started, ItemStartedEvent)
    assert isinstance(started.item, CommandExecutionItem)
    assert started.item.exit_code is None
    assert b"exit_code" not in record_to_bytes(entries[3].record)
    done = events[4]
    assert isinstance(done, ItemCompletedEvent)
    assert isinstance(done.item, CommandExecutionItem)
    assert done.item.exit_code == 0
    assert done.item.status == "completed"


@pytest.mark.parametrize("vendor", VENDORS)
def test_iter_events_matches_line_by_line_parse(shared_dir: Path, vendor: str) -> None:
    for path in fixture_files(shared_dir, vendor):
        assert list(iter_events(path)) == [event_of(r) for r in load_all(path)]


def run_pytest_on_this_file(env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "AGENT_TRACE_SHARED")}
    env.update(env_overrides)
    node = f"{Path(__file__).resolve()}::test_vtcode_fixture_counts"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_missing_shared_dir_skips_locally_but_fails_under_ci(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-shared")
    local = run_pytest_on_this_file({"AGENT_TRACE_SHARED": missing})
    assert local.returncode == 0, local.stdout
    assert "1 skipped" in local.stdout
    assert "no-such-shared" in local.stdout
    ci = run_pytest_on_this_file({"AGENT_TRACE_SHARED": missing, "CI": "true"})
    assert ci.returncode == 1, ci.stdout
    assert "1 error" in ci.stdout
    assert "no-such-shared" in ci.stdout


def test_shared_dir_env_override_is_used(tmp_path: Path) -> None:
    fake = tmp_path / "shared"
    (fake / "fixtures" / "vtcode").mkdir(parents=True)
    (fake / "fixtures" / "vtcode" / VTCODE_FILE).write_bytes(b"")
    # The override points at an (empty) copy, so the count test must fail there.
    run = run_pytest_on_this_file({"AGENT_TRACE_SHARED": str(fake)})
    assert run.returncode == 1, run.stdout
