"""Wire wrappers around an event: VT Code's versioned form and our on-disk envelope."""

from __future__ import annotations

import calendar
import enum
import re

import attrs

from ._clock import new_event_id, utc_timestamp
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
