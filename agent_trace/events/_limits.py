"""Caps on what one event log holds: the size of one event, and of the whole log.

* An event whose line would be longer than ``max_event_bytes`` is *shrunk*: its longest
  texts are cut to their tails (``[agent-trace: N bytes cut]`` says how much) until it
  fits, and it gets ``"agent_trace_cut": {"bytes": <its size>, "limit": <the cap>}``. An
  event that still does not fit (thousands of small fields) keeps its shape only: texts
  emptied, lists cut to one element; if even that does not fit, an ``error`` event says
  what was there. Readers never meet a line they would refuse (their cap is 64 MiB).
* A log that reaches ``max_log_bytes`` gets one last event, an ``error`` whose
  ``agent_trace_log_full`` says so; later events of the run are not written (the
  writer counts them). Attribution does not depend on the log and goes on.
"""

from __future__ import annotations

import copy
from typing import Any

import attrs
import orjson

__all__ = [
    "CUT_KEY",
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_MAX_LOG_BYTES",
    "LOG_FULL_KEY",
    "Limits",
    "log_full_event",
    "shrink_event",
]

DEFAULT_MAX_EVENT_BYTES = 1024 * 1024
DEFAULT_MAX_LOG_BYTES = 256 * 1024 * 1024
MIN_EVENT_BYTES = 4096
"""The smallest event cap allowed: room for any event's type and ids."""
CUT_KEY = "agent_trace_cut"
LOG_FULL_KEY = "agent_trace_log_full"
_MARKER_ROOM = 1024
"""Bytes kept free below ``max_log_bytes`` for the log-full event."""
_STRUCTURAL = frozenset({"type", "id", "status", "thread_id", "session_id", "item_id", "call_id"})


def _positive_or_none(value: int | None) -> int | None:
    if value is None or value <= 0:
        return None
    return value


@attrs.frozen
class Limits:
    """Caps of one event log; ``None`` (or 0 in configuration): no cap."""

    max_event_bytes: int | None = attrs.field(
        default=DEFAULT_MAX_EVENT_BYTES, converter=_positive_or_none
    )
    max_log_bytes: int | None = attrs.field(
        default=DEFAULT_MAX_LOG_BYTES, converter=_positive_or_none
    )

    @max_event_bytes.validator
    def _check_event(self, attribute: Any, value: int | None) -> None:
        if value is not None and value < MIN_EVENT_BYTES:
            raise ValueError(f"max_event_bytes must be at least {MIN_EVENT_BYTES} (or 0: no cap)")

    @max_log_bytes.validator
    def _check_log(self, attribute: Any, value: int | None) -> None:
        if value is not None and value < 2 * _MARKER_ROOM:
            raise ValueError(f"max_log_bytes must be at least {2 * _MARKER_ROOM} (or 0: no cap)")

    @classmethod
    def none(cls) -> Limits:
        return cls(max_event_bytes=None, max_log_bytes=None)

    def log_room(self) -> int | None:
        """Bytes the log may hold before the log-full event."""
        return None if self.max_log_bytes is None else self.max_log_bytes - _MARKER_ROOM


def _size(value: Any) -> int:
    try:
        return len(orjson.dumps(value))
    except TypeError:  # integers beyond 64 bits: near enough
        return len(repr(value))


def _texts(value: Any, out: list[tuple[Any, Any, int]]) -> None:
    """Every string of ``value`` that may be cut: (container, key, size in the JSON)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        if isinstance(child, str):
            if key not in _STRUCTURAL and len(child) > 64:
                out.append((value, key, _size(child) - 2))
        elif isinstance(child, dict | list):
            _texts(child, out)


def _skeleton(value: Any, key: Any = None) -> Any:
    """``value`` with every text emptied and every list cut to its first element: the
    event's type, ids and shape, which still decodes."""
    if isinstance(value, dict):
        return {k: _skeleton(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_skeleton(v) for v in value[:1]]
    if isinstance(value, str) and key not in _STRUCTURAL:
        return ""
    return value


def _entries(value: Any, out: list[tuple[dict[str, Any], str, int]]) -> None:
    """Every entry of every object in ``value``: (object, key, size of its value)."""
    if isinstance(value, dict):
        for key, child in value.items():
            if key not in _STRUCTURAL:
                out.append((value, key, _size(child)))
            _entries(child, out)
    elif isinstance(value, list):
        for child in value:
            _entries(child, out)


def _thinned(body: dict[str, Any], budget: int) -> dict[str, Any]:
    """``body`` without its biggest entries, as long as it still decodes, until it fits
    (an entry the event cannot do without is kept, or emptied)."""
    entries: list[tuple[dict[str, Any], str, int]] = []
    _entries(body, entries)
    entries.sort(key=lambda e: e[2], reverse=True)
    for container, key, _ in entries:
        if _size(body) <= budget:
            break
        if key not in container:
            continue
        kept = container.pop(key)
        if _decodes(body):
            continue
        if isinstance(kept, dict | list):
            container[key] = type(kept)()
            if _decodes(body):
                continue
        container[key] = kept
    return body


def _decodes(body: dict[str, Any]) -> bool:
    from ._codec import EventDecodeError, from_dict

    try:
        from_dict(body)
    except (EventDecodeError, ValueError, TypeError, KeyError):
        return False
    return True


def shrink_event(body: dict[str, Any], limit: int, overhead: int = 0) -> dict[str, Any]:
    """A copy of the event ``body`` whose JSON, plus ``overhead`` bytes (its envelope),
    fits in ``limit`` bytes (see the module docstring); ``body`` itself is not changed."""
    from ._privacy import cut_to_tail

    size = _size(body)
    budget = limit - overhead - 160  # room for the cut marker
    out = copy.deepcopy(body)
    for _ in range(64):
        current = _size(out)
        if current <= budget:
            break
        texts: list[tuple[Any, Any, int]] = []
        _texts(out, texts)
        if not texts:
            break
        container, key, length = max(texts, key=lambda t: t[2])
        text = container[key]
        # What to keep of its UTF-8, scaled from its size in the JSON (escapes count).
        utf8 = len(text.encode("utf-8", "surrogatepass"))
        wanted = max(0, length - (current - budget) - 64)
        keep = min(utf8 * wanted // max(length, 1), utf8 // 2)
        container[key] = cut_to_tail(text, keep)
    if _size(out) > budget:
        out = _thinned(_skeleton(body), budget)
        if _size(out) > budget or not _decodes(out):
            # Nothing of it fits: an error event says what was here.
            kind = body.get("type")
            out = {
                "type": "error",
                "message": f"agent-trace: a {kind if isinstance(kind, str) else 'n'} event of "
                f"{size + overhead:,} bytes did not fit max_event_bytes",
            }
    out[CUT_KEY] = {"bytes": size + overhead, "limit": limit}
    return out


def log_full_event(limit: int) -> dict[str, Any]:
    """The last event of a log that reached ``limit`` bytes."""
    return {
        "type": "error",
        "message": f"agent-trace: the event log reached its cap of {limit:,} bytes "
        "(max_log_bytes); later events of this run are not recorded",
        LOG_FULL_KEY: {"limit": limit},
    }
