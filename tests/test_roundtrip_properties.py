"""Property tests: generated events survive every round trip; ids, times and ordering."""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
import time

import pytest
import strategies as s
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_trace.events import (
    EventEnvelope,
    ThreadEvent,
    ThreadStartedEvent,
    VersionedThreadEvent,
    compare_envelopes,
    envelope_sort_key,
    from_dict,
    from_json,
    new_event_id,
    parse_record,
    parse_timestamp,
    record_to_bytes,
    to_dict,
    to_json,
    utc_timestamp,
)

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UUID7 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")


@PROPERTY
@given(s.events)
def test_dict_round_trip(event: ThreadEvent) -> None:
    assert from_dict(to_dict(event)) == event


@PROPERTY
@given(s.events)
def test_json_round_trip(event: ThreadEvent) -> None:
    text = to_json(event)
    assert "\n" not in text
    assert from_json(text) == event
    assert from_json(text.encode()) == event


@PROPERTY
@given(s.events)
def test_json_bytes_are_stable(event: ThreadEvent) -> None:
    first = to_json(event)
    again = to_json(from_json(first))
    assert again == first
    assert to_json(from_json(again)) == first


@PROPERTY
@given(s.events)
def test_bytes_read_from_the_wire_are_written_back_unchanged(event: ThreadEvent) -> None:
    wire = record_to_bytes(event)
    assert record_to_bytes(parse_record(wire)) == wire


@PROPERTY
@given(s.versioned_events)
def test_versioned_round_trip(record: VersionedThreadEvent) -> None:
    wire = record_to_bytes(record)
    back = parse_record(wire)
    assert isinstance(back, VersionedThreadEvent)
    assert back == record
    assert parse_record(to_dict(record)) == record
    assert record_to_bytes(back) == wire


@PROPERTY
@given(s.envelopes)
def test_envelope_round_trip(record: EventEnvelope) -> None:
    wire = record_to_bytes(record)
    back = parse_record(wire)
    assert isinstance(back, EventEnvelope)
    assert back == record
    assert parse_record(wire.decode()) == record
    assert parse_record(to_dict(record)) == record
    assert record_to_bytes(back) == wire


# --------------------------------------------------------------------------- time

NS_RANGE = st.integers(min_value=0, max_value=253_402_300_799_999_999_999)


@PROPERTY
@given(NS_RANGE)
def test_timestamp_truncates_to_milliseconds(ns: int) -> None:
    stamp = utc_timestamp(ns)
    assert TS.match(stamp), stamp
    assert parse_timestamp(stamp) == ns - ns % 1_000_000
    seconds, rest = divmod(ns, 1_000_000_000)
    expected = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert stamp == f"{expected}.{rest // 1_000_000:03d}Z"


@PROPERTY
@given(
    st.integers(min_value=0, max_value=253_370_764_799_999_999_999),  # up to 9998-12-31
    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
    st.integers(0, 9),
)
def test_parse_timestamp_handles_offsets_and_precision(
    ns: int, offset_min: int, digits: int
) -> None:
    seconds, frac = divmod(ns, 1_000_000_000)
    local = dt.datetime.fromtimestamp(seconds, dt.UTC) + dt.timedelta(minutes=offset_min)
    sign = "+" if offset_min >= 0 else "-"
    hours, minutes = divmod(abs(offset_min), 60)
    fraction = f"{frac:09d}"[:digits]
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if digits else "")
    text += f"{sign}{hours:02d}:{minutes:02d}"
    truncated = frac - frac % 10 ** (9 - digits)
    assert parse_timestamp(text) == seconds * 1_000_000_000 + truncated


def test_parse_timestamp_examples() -> None:
    assert parse_timestamp("1970-01-01T00:00:00Z") == 0
    assert parse_timestamp("1970-01-01T00:00:00.000000001Z") == 1
    assert parse_timestamp("2026-01-01T01:00:00+01:00") == parse_timestamp("2026-01-01T00:00:00Z")
    assert parse_timestamp("2026-01-01T00:00:00-00:30") == parse_timestamp(
        "2026-01-01T00:30:00.000Z"
    )


def test_parse_timestamp_rejects_non_rfc3339() -> None:
    for bad in ["", "2026-01-01", "2026-01-01T00:00:00", "yesterday", "2026-01-01T00:00:00Zjunk"]:
        try:
            parse_timestamp(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")


def test_utc_timestamp_now_is_close_to_the_clock() -> None:
    before = time.time_ns()
    stamp = utc_timestamp()
    after = time.time_ns()
    assert TS.match(stamp)
    assert before - 1_000_000 <= parse_timestamp(stamp) <= after


# --------------------------------------------------------------------------- ids


def test_event_ids_are_uuid7_unique_and_sorted_in_creation_order() -> None:
    start_ms = time.time_ns() // 1_000_000
    ids = [new_event_id() for _ in range(20_000)]
    end_ms = time.time_ns() // 1_000_000
    assert all(UUID7.match(i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    for i in (ids[0], ids[-1]):
        ms = int(i.replace("-", "")[:12], 16)
        # The counter may borrow a few milliseconds when ids are made very fast.
        assert start_ms <= ms <= end_ms + 1_000


def ids_from_threads(threads: int, each: int) -> list[list[str]]:
    """``each`` new event ids made in each of ``threads`` threads started together."""
    per_thread: list[list[str]] = [[] for _ in range(threads)]
    barrier = threading.Barrier(threads)

    def work(out: list[str]) -> None:
        barrier.wait()
        for _ in range(each):
            out.append(new_event_id())

    running = [threading.Thread(target=work, args=(out,)) for out in per_thread]
    for t in running:
        t.start()
    for t in running:
        t.join()
    return per_thread


def test_event_ids_from_several_threads_are_unique_and_sorted_per_thread() -> None:
    per_thread = ids_from_threads(4, 5_000)
    all_ids = [i for out in per_thread for i in out]
    assert len(set(all_ids)) == len(all_ids)
    for out in per_thread:
        assert out == sorted(out)


def test_event_ids_of_a_stopped_clock_borrow_the_next_milliseconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """4,096 ids fit in one millisecond; past that the next one is borrowed, from every
    thread, and the ids stay unique and in creation order."""
    from agent_trace.events import _clock

    frozen = time.time_ns()
    monkeypatch.setattr(_clock, "_time_ns", lambda: frozen)
    per_thread = ids_from_threads(3, 6_000)
    all_ids = [i for out in per_thread for i in out]
    assert len(set(all_ids)) == len(all_ids) == 18_000
    for out in per_thread:
        assert out == sorted(out)
    milliseconds = {int(i.replace("-", "")[:12], 16) for i in all_ids}
    assert len(milliseconds) >= 18_000 // 4_096 + 1
    assert min(milliseconds) >= frozen // 1_000_000


_FORK_CHECK = """
import os, sys, time
from agent_trace.events import _clock, new_event_id

frozen = time.time_ns()  # one millisecond for both: only the reseed tells them apart
_clock._time_ns = lambda: frozen
new_event_id()  # the parent's millisecond state exists before the fork
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(read)
    os.write(write, " ".join(new_event_id() for _ in range(200)).encode())
    os._exit(0)
os.close(write)
parent = {new_event_id() for _ in range(200)}
with os.fdopen(read, "rb") as f:
    child = set(f.read().decode().split())
os.waitpid(pid, 0)
print(len(child), len(parent & child))
"""


def test_a_forked_child_never_repeats_its_parents_ids() -> None:
    """(In a process of its own: forking pytest's threads is not safe.)"""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _FORK_CHECK], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["200", "0"]


# --------------------------------------------------------------------------- ordering

TS_CHOICES = [
    "2026-01-01T00:00:00.000Z",
    "2026-01-01T01:00:00+01:00",  # the same instant as the first
    "2026-01-01T00:00:00.001Z",
    "2025-12-31T23:59:59.999Z",
    "2026-01-01T00:00:00.000000001Z",
    "not a time",
]

small_envelopes = st.builds(
    EventEnvelope,
    seq=st.integers(min_value=0, max_value=3),
    id=st.sampled_from(["a", "b", "0190", "0191"]),
    ts=st.sampled_from(TS_CHOICES),
    run_id=st.just("r"),
    event=st.just(ThreadStartedEvent(thread_id="t")),
)


def reference_key(envelope: EventEnvelope) -> tuple[int, int, str]:
    try:
        ts = parse_timestamp(envelope.ts)
    except ValueError:
        ts = -1
    return (ts, envelope.seq, envelope.id)


@PROPERTY
@given(st.lists(small_envelopes, min_size=1, max_size=6))
def test_envelope_order_is_a_total_order_on_ts_seq_id(envelopes: list[EventEnvelope]) -> None:
    for a in envelopes:
        assert compare_envelopes(a, a) == 0
        assert envelope_sort_key(a) == reference_key(a)
        assert a.sort_key == reference_key(a)
        for b in envelopes:
            ab = compare_envelopes(a, b)
            assert ab in (-1, 0, 1)
            assert ab == -compare_envelopes(b, a)
            ka, kb = reference_key(a), reference_key(b)
            assert ab == (ka > kb) - (ka < kb)
            for c in envelopes:
                if ab <= 0 and compare_envelopes(b, c) <= 0:
                    assert compare_envelopes(a, c) <= 0
    by_cmp = sorted(envelopes, key=functools.cmp_to_key(compare_envelopes))
    by_key = sorted(envelopes, key=envelope_sort_key)
    assert [reference_key(e) for e in by_cmp] == sorted(reference_key(e) for e in envelopes)
    assert [reference_key(e) for e in by_key] == sorted(reference_key(e) for e in envelopes)


def test_same_instant_in_different_offsets_orders_by_seq() -> None:
    def env(ts: str, seq: int) -> EventEnvelope:
        return EventEnvelope(
            seq=seq, id="x", ts=ts, run_id="r", event=ThreadStartedEvent(thread_id="t")
        )

    a = env("2026-01-01T01:00:00+01:00", 2)
    b = env("2026-01-01T00:00:00.000Z", 1)
    assert compare_envelopes(b, a) == -1
    c = env("2026-01-01T00:00:00.001Z", 0)
    assert compare_envelopes(a, c) == -1
