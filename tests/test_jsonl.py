"""JsonlWriter and EventReader on the real filesystem: forms, seq, crashes, concurrency."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest

from agent_trace.events import (
    EVENT_SCHEMA_VERSION,
    AgentMessageItem,
    EventEnvelope,
    EventReader,
    ItemCompletedEvent,
    JsonlWriter,
    ThreadEvent,
    ThreadStartedEvent,
    TurnCompletedEvent,
    TurnStartedEvent,
    Usage,
    VersionedThreadEvent,
    WireForm,
    iter_events,
    parse_timestamp,
    record_to_bytes,
    to_json,
)

UUID7 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")
REPO = Path(__file__).resolve().parents[1]

STARTED = ThreadStartedEvent(thread_id="t")
TURN = TurnStartedEvent()
DONE = TurnCompletedEvent(usage=Usage(input_tokens=1, cached_input_tokens=0, output_tokens=2))


def message(n: int, size: int = 10) -> ItemCompletedEvent:
    return ItemCompletedEvent(item=AgentMessageItem(id=f"m{n}", text="x" * size))


def raw_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data.endswith(b"\n")
    return data[:-1].split(b"\n")


def seqs(path: Path) -> list[int]:
    return [e.record.seq for e in EventReader(path) if isinstance(e.record, EventEnvelope)]


# --------------------------------------------------------------------------- forms


def test_bare_form_writes_plain_events(tmp_path: Path) -> None:
    path = tmp_path / "bare.jsonl"
    with JsonlWriter(path, form="bare") as writer:
        for event in (STARTED, TURN, DONE):
            writer.write(event)
    assert raw_lines(path) == [to_json(e).encode() for e in (STARTED, TURN, DONE)]
    assert {e.form for e in EventReader(path)} == {WireForm.BARE}


def test_versioned_form(tmp_path: Path) -> None:
    path = tmp_path / "versioned.jsonl"
    with JsonlWriter(path, form=WireForm.VERSIONED, schema_version="0.2.0") as writer:
        writer.write(STARTED)
        writer(TURN)
    assert raw_lines(path) == [
        b'{"schema_version":"0.2.0","event":{"type":"thread.started","thread_id":"t"}}',
        b'{"schema_version":"0.2.0","event":{"type":"turn.started"}}',
    ]
    records = [e.record for e in EventReader(path)]
    assert records == [
        VersionedThreadEvent(schema_version="0.2.0", event=STARTED),
        VersionedThreadEvent(schema_version="0.2.0", event=TURN),
    ]


def test_envelope_form(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    before = time.time_ns()
    with JsonlWriter(path) as writer:
        assert writer.form is WireForm.ENVELOPE
        assert UUID7.match(writer.run_id)
        for event in (STARTED, TURN, DONE):
            writer.write(event)
    after = time.time_ns()
    lines = raw_lines(path)
    assert len(lines) == 3
    ids = []
    expected: list[ThreadEvent] = [STARTED, TURN, DONE]
    for seq, (line, written) in enumerate(zip(lines, expected, strict=True)):
        data = orjson.loads(line)
        assert list(data) == ["schema_version", "seq", "id", "ts", "run_id", "event"]
        assert data["schema_version"] == EVENT_SCHEMA_VERSION
        assert data["seq"] == seq
        assert UUID7.match(data["id"])
        assert TS.match(data["ts"])
        assert before - 1_000_000 <= parse_timestamp(data["ts"]) <= after
        assert data["run_id"] == writer.run_id
        assert line.endswith(b',"event":' + to_json(written).encode() + b"}")
        ids.append(data["id"])
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    entries = list(EventReader(path))
    assert [e.event for e in entries] == [STARTED, TURN, DONE]
    assert all(e.envelope is not None and e.envelope.run_id == writer.run_id for e in entries)


def test_run_id_and_schema_version_are_used(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with JsonlWriter(path, run_id="run-42", schema_version="9.9.9") as writer:
        writer.write(STARTED)
    (entry,) = EventReader(path)
    assert entry.envelope is not None
    assert (entry.envelope.run_id, entry.envelope.schema_version) == ("run-42", "9.9.9")


def test_unknown_form_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="csv"):
        JsonlWriter(tmp_path / "x.jsonl", form="csv")


def test_writer_creates_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "run.jsonl"
    with JsonlWriter(path) as writer:
        writer.write(STARTED)
    assert len(raw_lines(path)) == 1


def test_mixed_forms_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    for form in ("bare", "versioned", "envelope", "bare"):
        with JsonlWriter(path, form=form) as writer:
            writer.write(TURN)
    assert [e.form for e in EventReader(path)] == ["bare", "versioned", "envelope", "bare"]
    assert list(iter_events(path)) == [TURN] * 4


# --------------------------------------------------------------------------- seq


def test_seq_continues_across_writers(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with JsonlWriter(path, run_id="a") as first:
        assert first.next_seq == 0
        for n in range(3):
            first.write(message(n))
        assert first.next_seq == 3
    with JsonlWriter(path, run_id="b") as second:
        assert second.next_seq == 3
        second.write(message(3))
        second.write(message(4))
    assert seqs(path) == [0, 1, 2, 3, 4]


def test_seq_continues_after_bare_lines(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with JsonlWriter(path) as writer:
        writer.write(STARTED)
        writer.write(TURN)
    with JsonlWriter(path, form="bare") as bare:
        bare.write(message(0))
        bare.write(message(1))
    with JsonlWriter(path) as writer:
        assert writer.next_seq == 2


def test_seq_continues_after_a_long_last_line(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with JsonlWriter(path) as writer:
        writer.write(STARTED)
        writer.write(message(1, size=200_000))
    with JsonlWriter(path) as writer:
        assert writer.next_seq == 2


def test_write_record_copies_lines_and_advances_seq(tmp_path: Path) -> None:
    source = tmp_path / "source.jsonl"
    with JsonlWriter(source, run_id="orig") as writer:
        for n in range(4):
            writer.write(message(n))
    copy = tmp_path / "copy.jsonl"
    with JsonlWriter(copy, run_id="copy") as writer:
        for entry in EventReader(source):
            writer.write_record(entry.record)
        assert writer.next_seq == 4
        writer.write(TURN)
    assert copy.read_bytes().startswith(source.read_bytes())
    assert seqs(copy) == [0, 1, 2, 3, 4]
    bare = tmp_path / "bare.jsonl"
    with JsonlWriter(bare) as writer:
        writer.write_record(STARTED)
        writer.write_record(VersionedThreadEvent(schema_version="0.2.0", event=TURN))
    assert raw_lines(bare) == [
        record_to_bytes(STARTED),
        b'{"schema_version":"0.2.0","event":{"type":"turn.started"}}',
    ]


# --------------------------------------------------------------------------- crashes

TORN = b'{"schema_version":"0.1.0","seq":3,"id":"0190'


def test_torn_last_line_then_a_new_writer(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with JsonlWriter(path, run_id="before") as writer:
        for n in range(3):
            writer.write(message(n))
    with path.open("ab") as f:  # the crash: half a line, no newline
        f.write(TORN)
    crashed = path.read_bytes()

    reader = EventReader(path, strict=True)
    assert [e.event for e in reader] == [message(0), message(1), message(2)]
    assert reader.truncated is True
    assert [(i.line, i.kind) for i in reader.issues] == [(4, "truncated")]
    assert path.read_bytes() == crashed

    with JsonlWriter(path, run_id="after") as writer:
        assert writer.next_seq == 3
        writer.write(message(3))
        writer.write(message(4))
    data = path.read_bytes()
    assert data.startswith(crashed + b"\n")  # nothing already written is lost
    lines = raw_lines(path)
    assert lines[3] == TORN
    assert len(lines) == 6

    # The torn line is now mid-file; it is still recognised as cut short, so even a
    # strict reader reads the recovered log.
    strict = EventReader(path, strict=True)
    entries = list(strict)
    assert [e.event for e in entries] == [message(n) for n in range(5)]
    assert [e.line for e in entries] == [1, 2, 3, 5, 6]
    assert strict.malformed == 0
    assert strict.truncated is True
    assert [(i.line, i.kind) for i in strict.issues] == [(4, "truncated")]
    assert seqs_lenient(path) == [0, 1, 2, 3, 4]


def seqs_lenient(path: Path) -> list[int]:
    return [
        e.record.seq for e in EventReader(path, strict=False) if isinstance(e.record, EventEnvelope)
    ]


CHILD = textwrap.dedent(
    """
    import sys
    from agent_trace.events import AgentMessageItem, ItemCompletedEvent, JsonlWriter

    path, size = sys.argv[1], int(sys.argv[2])
    writer = JsonlWriter(path, run_id=sys.argv[3], fsync="never")
    n = 0
    while True:
        writer.write(ItemCompletedEvent(item=AgentMessageItem(id=f"m{n}", text="x" * (n % size))))
        sys.stdout.write(f"{writer.next_seq - 1}\\n")
        sys.stdout.flush()
        n += 1
    """
)


def test_sigkill_mid_run_loses_no_completed_write(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    path = tmp_path / "run.jsonl"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path), "30000", "child"],
        stdout=subprocess.PIPE,
        cwd=REPO,
    )
    assert proc.stdout is not None
    reported: list[int] = []
    try:
        while len(reported) < 300:
            line = proc.stdout.readline()
            assert line, "child exited early"
            reported.append(int(line))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        rest = proc.stdout.read()  # what the child reported before it died
        proc.stdout.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    reported += [int(x) for x in rest.split()]
    assert reported == list(range(len(reported)))

    reader = EventReader(path, strict=True)
    found = [e.record.seq for e in reader if isinstance(e.record, EventEnvelope)]
    assert set(reported) <= set(found)
    assert found == list(range(len(found)))  # no hole, no duplicate
    assert reader.malformed == 0

    # A new writer continues where the killed one stopped.
    with JsonlWriter(path, run_id="next") as writer:
        assert writer.next_seq == found[-1] + 1
        writer.write(DONE)
    after = EventReader(path, strict=False)
    entries = list(after)
    assert entries[-1].event == DONE
    assert after.malformed == (1 if reader.truncated else 0)
    assert after.truncated is False


# --------------------------------------------------------------------------- concurrency


def check_runs(path: Path, expected: dict[str, int]) -> None:
    by_run: dict[str, list[int]] = defaultdict(list)
    for line in raw_lines(path):  # every line must be one whole JSON object
        if not line:
            # A writer that opens the file while another one is mid-write sees a torn
            # tail and ends it with an extra newline; readers skip blank lines.
            continue
        data = orjson.loads(line)
        by_run[data["run_id"]].append(data["seq"])
    assert {run: len(s) for run, s in by_run.items()} == expected
    for run_seqs in by_run.values():
        start = run_seqs[0]
        assert run_seqs == list(range(start, start + len(run_seqs)))


def test_threads_with_own_writers_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    count, threads_n = 150, 4
    barrier = threading.Barrier(threads_n)

    def work(run: str) -> None:
        with JsonlWriter(path, run_id=run, fsync="never") as writer:
            barrier.wait()
            for n in range(count):
                writer.write(message(n, size=1 + (n * 7919) % 20_000))

    threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check_runs(path, {f"t{i}": count for i in range(threads_n)})
    assert len(list(EventReader(path))) == count * threads_n


def test_threads_sharing_one_writer_get_unique_seqs(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    count, threads_n = 200, 4
    with JsonlWriter(path, run_id="shared", fsync="never") as writer:

        def work() -> None:
            for n in range(count):
                writer.write(message(n, size=1 + (n * 104729) % 9000))

        threads = [threading.Thread(target=work) for _ in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    check_runs(path, {"shared": count * threads_n})


PROC_CHILD = textwrap.dedent(
    """
    import sys
    from agent_trace.events import AgentMessageItem, ItemCompletedEvent, JsonlWriter

    path, run, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with JsonlWriter(path, run_id=run, fsync="never") as writer:
        for n in range(count):
            size = 1 + (n * 7919) % 100_000
            item = AgentMessageItem(id=f"{run}-{n}", text="y" * size)
            writer.write(ItemCompletedEvent(item=item))
    """
)


def test_processes_appending_to_one_file_never_interleave(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(PROC_CHILD)
    path = tmp_path / "run.jsonl"
    count, procs_n = 150, 3
    procs = [
        subprocess.Popen([sys.executable, str(script), str(path), f"p{i}", str(count)], cwd=REPO)
        for i in range(procs_n)
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    check_runs(path, {f"p{i}": count for i in range(procs_n)})
    ids = Counter(
        e.event.item.id for e in EventReader(path) if isinstance(e.event, ItemCompletedEvent)
    )
    assert len(ids) == count * procs_n
    assert set(ids.values()) == {1}


# --------------------------------------------------------------------------- lifecycle


@pytest.mark.parametrize("policy", ["sometimes", "", "ALWAYS", None])
def test_invalid_fsync_policy_is_rejected(tmp_path: Path, policy: Any) -> None:
    path = tmp_path / "run.jsonl"
    with pytest.raises(ValueError, match="fsync"):
        JsonlWriter(path, fsync=policy)
    assert not path.exists()


@pytest.mark.parametrize("policy", ["never", "boundary", "always"])
def test_every_fsync_policy_writes_everything(tmp_path: Path, policy: Any) -> None:
    path = tmp_path / "run.jsonl"
    writer = JsonlWriter(path, fsync=policy)
    assert writer.fsync == policy
    for event in (STARTED, TURN, message(0), DONE, TURN):
        writer.write(event)
    writer.sync()
    # Unbuffered: everything is in the file before close.
    assert len(raw_lines(path)) == 5
    writer.close()
    assert seqs(path) == [0, 1, 2, 3, 4]


def test_closed_writer_raises(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    writer = JsonlWriter(path)
    writer.write(STARTED)
    open_before = writer.closed
    writer.close()
    assert (open_before, writer.closed) == (False, True)
    writer.close()  # idempotent
    writer.sync()  # a no-op once closed
    with pytest.raises(ValueError, match="closed"):
        writer.write(TURN)
    with pytest.raises(ValueError, match="closed"):
        writer.write_record(TURN)
    assert len(raw_lines(path)) == 1


def test_context_manager_closes(tmp_path: Path) -> None:
    with JsonlWriter(tmp_path / "run.jsonl") as writer:
        writer.write(STARTED)
    assert writer.closed
    with pytest.raises(ValueError, match="closed"):
        writer.write(TURN)


def test_writer_keeps_existing_content(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_bytes(b'{"type":"turn.started"}\n')
    with JsonlWriter(path, form="bare") as writer:
        writer.write(STARTED)
    assert raw_lines(path) == [b'{"type":"turn.started"}', to_json(STARTED).encode()]


def test_file_mode_is_not_executable(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with JsonlWriter(path) as writer:
        writer.write(STARTED)
    assert path.stat().st_mode & 0o111 == 0


# --------------------------------------------------------------------------- reader


def test_reader_on_a_binary_file_object(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with JsonlWriter(path, form="bare") as writer:
        writer.write(STARTED)
        writer.write(TURN)
    with path.open("rb") as f:
        reader = EventReader(f)
        assert reader.name == str(path)
        assert [e.event for e in reader] == [STARTED, TURN]
        assert not f.closed  # the caller owns the file
    with path.open("rb") as f:
        assert list(iter_events(f)) == [STARTED, TURN]


def test_reader_on_a_pipe(tmp_path: Path) -> None:
    read_fd, write_fd = os.pipe()
    payload = to_json(STARTED).encode() + b"\n" + to_json(TURN).encode() + b"\n"
    os.write(write_fd, payload)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as f:
        assert [e.event for e in EventReader(f, name="stdin")] == [STARTED, TURN]


def test_reader_accepts_str_and_pathlike(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with JsonlWriter(path) as writer:
        writer.write(STARTED)
    assert [e.event for e in EventReader(str(path))] == [STARTED]
    assert [e.event for e in EventReader(path)] == [STARTED]


def test_reader_streams_lazily(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_bytes(to_json(STARTED).encode() + b"\n" + b"bad\n")
    iterator = iter(EventReader(path))
    assert next(iterator).event == STARTED  # the bad line is not read yet


def test_reader_on_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(EventReader(tmp_path / "nope.jsonl"))


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    reader = EventReader(path)
    assert list(reader) == []
    assert (reader.lines, reader.events, reader.truncated) == (0, 0, False)
    with JsonlWriter(path) as writer:
        assert writer.next_seq == 0
        writer.write(STARTED)
    assert raw_lines(path)[0].startswith(b'{"schema_version"')
