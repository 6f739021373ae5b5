"""Wire wrappers around an event: VT Code's versioned form and our on-disk envelope."""

from __future__ import annotations

import calendar
import enum
import os
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

frozen = attrs.frozen(kw_only=True, repr=False)


class WireForm(enum.StrEnum):
    """How an event is written on one JSONL line."""

    BARE = "bare"
    """``{"type": ...}``: Codex ``exec --json`` and VT Code ``--json`` stdout."""
    VERSIONED = "versioned"
    """``{"schema_version": ..., "event": {...}}``: VT Code's persisted session logs."""
    ENVELOPE = "envelope"
    """``{"schema_version", "seq", "id", "ts", "run_id", "event"}``: our run logs."""


@frozen
class VersionedThreadEvent(WireObject):
    """VT Code's ``VersionedThreadEvent``: the event plus the schema version it follows."""

    schema_version: str = EVENT_SCHEMA_VERSION
    event: ThreadEvent


@frozen
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

_id_lock = threading.Lock()
_id_state = [0, 0]  # last millisecond, counter within it


def new_event_id() -> str:
    """A UUIDv7 string; ids made by one process sort in creation order (RFC 9562 §6.2)."""
    now_ms = time.time_ns() // 1_000_000
    with _id_lock:
        last_ms, counter = _id_state
        if now_ms <= last_ms:
            now_ms, counter = last_ms, counter + 1
            if counter > 0xFFF:
                now_ms, counter = now_ms + 1, 0
        else:
            counter = int.from_bytes(os.urandom(1)) << 2  # leave room to count up
        _id_state[0], _id_state[1] = now_ms, counter
    rand_b = int.from_bytes(os.urandom(8)) & 0x3FFF_FFFF_FFFF_FFFF
    value = (now_ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand_b
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_second_cache: list[Any] = [-1, ""]


def utc_timestamp(ns: int | None = None) -> str:
    """RFC 3339 UTC with millisecond precision and ``Z``: ``2026-11-21T22:22:11.123Z``."""
    if ns is None:
        ns = time.time_ns()
    seconds, rest = divmod(ns, 1_000_000_000)
    if _second_cache[0] != seconds:
        _second_cache[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _second_cache[0] = seconds
    return f"{_second_cache[1]}.{rest // 1_000_000:03d}Z"


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
