"""Wire wrappers around an event: VT Code's versioned form and our on-disk envelope."""

from __future__ import annotations

import calendar
import enum
import os
import random
import re
import threading
import time
from typing import Any

import attrs

from ._vocabulary import ThreadEvent
from ._wire import WireObject

__all__ = [
    "EVENT_SCHEMA_VERSION",
    "EventEnvelope",
    "VersionedThreadEvent",
    "WireForm",
    "compare_envelopes",
    "envelope_sort_key",
    "new_event_id",
    "parse_timestamp",
    "utc_timestamp",
]

EVENT_SCHEMA_VERSION = "0.1.0"
"""Semantic version of the event vocabulary this package writes (see ``docs/events.md``)."""


class WireForm(enum.StrEnum):
    """How an event is written on one JSONL line."""

    BARE = "bare"
    """``{"type": ...}``: Codex ``exec --json`` and VT Code ``--json`` stdout."""
    VERSIONED = "versioned"
    """``{"schema_version": ..., "event": {...}}``: VT Code's persisted session logs."""
    ENVELOPE = "envelope"
    """``{"schema_version", "seq", "id", "ts", "run_id", "event"}``: our run logs."""


@attrs.frozen(kw_only=True, repr=False)
class VersionedThreadEvent(WireObject):
    """VT Code's ``VersionedThreadEvent``: the event plus the schema version it follows."""

    schema_version: str = EVENT_SCHEMA_VERSION
    event: ThreadEvent


@attrs.frozen(kw_only=True, repr=False)
class EventEnvelope(WireObject):
    """One line of an agent-trace run log.

    ``seq`` increases by one per event within a run log; ``id`` is a UUIDv7 (sortable,
    unique); ``ts`` is RFC 3339 UTC with ``Z``; ``run_id`` names the run.
    """

    schema_version: str = EVENT_SCHEMA_VERSION
    seq: int
    id: str
    ts: str
    run_id: str
    event: ThreadEvent

    @property
    def sort_key(self) -> tuple[int, int, str]:
        return envelope_sort_key(self)


# --------------------------------------------------------------------------- ids and time

_random = random.Random(int.from_bytes(os.urandom(16)))
_id_lock = threading.Lock()
# Per millisecond: the id's text before and after the 12-bit counter, and the timestamp.
_id_state: list[Any] = [0, 0, "", "", ""]  # ms, counter, head, tail, ts


def _reseed() -> None:  # a forked child must not repeat its parent's ids
    _random.seed(int.from_bytes(os.urandom(16)))
    _id_state[0] = 0


os.register_at_fork(after_in_child=_reseed)


def new_event_id() -> str:
    """A UUIDv7 string; ids made by one process sort in creation order (RFC 9562 §6.2,
    method 1: a 12-bit counter after the millisecond timestamp).

    The 62 random bits are drawn once per millisecond and per process, from a generator
    seeded from ``os.urandom`` (and reseeded in forked children): ids must be unique, not
    secret.
    """
    return stamp()[0]


def stamp() -> tuple[str, str]:
    """A new event id and the matching RFC 3339 timestamp, from one clock reading."""
    now_ms = time.time_ns() // 1_000_000
    with _id_lock:
        state = _id_state
        last_ms = state[0]
        if now_ms <= last_ms:  # same millisecond (or the clock stepped back): count up
            counter = state[1] + 1
            if counter <= 0xFFF:
                state[1] = counter
                return f"{state[2]}{counter:03x}{state[3]}", state[4]
            now_ms = last_ms + 1  # 4096 ids in one millisecond: borrow the next one
        counter = _random.getrandbits(8) << 2  # random start, room to count up
        rand_b = _random.getrandbits(62)
        head = "%08x-%04x-7" % (now_ms >> 16 & 0xFFFF_FFFF, now_ms & 0xFFFF)  # noqa: UP031
        tail = "-%04x-%012x" % (0x8000 | rand_b >> 48, rand_b & 0xFFFF_FFFF_FFFF)  # noqa: UP031
        state[:] = [now_ms, counter, head, tail, utc_timestamp(now_ms * 1_000_000)]
        return f"{head}{counter:03x}{tail}", state[4]


_second_cache: tuple[int, str] = (-1, "")


def utc_timestamp(ns: int | None = None) -> str:
    """RFC 3339 UTC with millisecond precision and ``Z``: ``2026-11-21T22:22:11.123Z``."""
    global _second_cache
    if ns is None:
        ns = time.time_ns()
    seconds, rest = divmod(ns, 1_000_000_000)
    cached_seconds, text = _second_cache  # one read: safe against other threads
    if cached_seconds != seconds:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _second_cache = (seconds, text)
    return f"{text}.{rest // 1_000_000:03d}Z"


_TS = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d\d):(\d\d))\Z"
)


def parse_timestamp(value: str) -> int:
    """Nanoseconds since the epoch for an RFC 3339 timestamp (any offset, up to ns).

    Raises ``ValueError`` for anything else.
    """
    m = _TS.match(value)
    if m is None:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if m.group(9):
        offset = (int(m.group(10)) * 60 + int(m.group(11))) * 60
        seconds -= offset if m.group(9) == "+" else -offset
    fraction = m.group(7) or ""
    return seconds * 1_000_000_000 + int(fraction.ljust(9, "0") or 0)


def envelope_sort_key(envelope: EventEnvelope) -> tuple[int, int, str]:
    """Deterministic order of envelopes: time, then ``seq``, then ``id``.

    An unparseable ``ts`` sorts first rather than failing.
    """
    try:
        ts = parse_timestamp(envelope.ts)
    except ValueError:
        ts = -1
    return (ts, envelope.seq, envelope.id)


def compare_envelopes(a: EventEnvelope, b: EventEnvelope) -> int:
    """-1, 0 or 1, like meerkat's ``compare_event_envelopes`` (a total order)."""
    ka, kb = envelope_sort_key(a), envelope_sort_key(b)
    return (ka > kb) - (ka < kb)
