"""Turning events into JSON and back: dicts, strings, and the three line forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._envelope import EventEnvelope, VersionedThreadEvent, WireForm
from ._vocabulary import (
    EVENT_CLASSES,
    ITEM_CLASSES,
    ThreadEvent,
    ThreadItem,
    UnknownEvent,
    UnknownItem,
)
from ._wire import WireError, converter, dumps, loads, tagged_union

__all__ = [
    "EventDecodeError",
    "LogRecord",
    "from_dict",
    "from_json",
    "parse_record",
    "record_form",
    "record_to_bytes",
    "to_dict",
    "to_json",
]

LogRecord = ThreadEvent | VersionedThreadEvent | EventEnvelope
"""What one line of a log holds: a bare event, a versioned event or an envelope."""


class EventDecodeError(ValueError):
    """A line, dict or string is not a valid event.

    ``path`` is the JSON path of the offending field (``$.event.item.exit_code``);
    ``source`` and ``line`` are set when the input came from a file.
    """

    def __init__(
        self,
        message: str,
        path: str = "$",
        *,
        source: str | None = None,
        line: int | None = None,
        cut_short: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.source = source
        self.line = line
        self.cut_short = cut_short
        """The text is valid JSON up to where it stops: a write cut short (a crash)."""

    def located(self, source: str | None, line: int | None) -> EventDecodeError:
        return EventDecodeError(
            self.message, self.path, source=source, line=line, cut_short=self.cut_short
        )

    def __str__(self) -> str:
        where = ""
        if self.source is not None:
            where = f"{self.source}:{self.line}: " if self.line is not None else f"{self.source}: "
        elif self.line is not None:
            where = f"line {self.line}: "
        if self.path == "$":
            return f"{where}{self.message}"
        return f"{where}{self.path}: {self.message}"


def _unknown_item(data: dict[str, Any]) -> UnknownItem:
    item_id = data.get("id")
    if type(item_id) is not str:
        raise WireError(
            "required field missing" if item_id is None else "expected a string", "$.id"
        )
    return UnknownItem(data)


# Inner union first: the event classes' hooks are generated from the item union's hook.
tagged_union(ThreadItem, list(ITEM_CLASSES), _unknown_item, what="an item")
_structure_event, _unstructure_event = tagged_union(
    ThreadEvent, list(EVENT_CLASSES), UnknownEvent, what="an event"
)
dump_event: Callable[[Any], dict[str, Any]] = _unstructure_event
"""The JSON object of a bare event (no wrapper dispatch): the writer's hot path."""
_structure_versioned = converter.get_structure_hook(VersionedThreadEvent)
_unstructure_versioned: Callable[[Any], dict[str, Any]]
_unstructure_envelope: Callable[[Any], dict[str, Any]]
_unstructure_versioned = converter.get_unstructure_hook(VersionedThreadEvent)
_structure_envelope = converter.get_structure_hook(EventEnvelope)
_unstructure_envelope = converter.get_unstructure_hook(EventEnvelope)


def _decode(hook: Any, data: Any, cls: Any) -> Any:
    try:
        return hook(data, cls)
    except WireError as exc:
        raise EventDecodeError(exc.message, exc.path) from None


# --------------------------------------------------------------------------- dicts


def to_dict(obj: LogRecord) -> dict[str, Any]:
    """The JSON object for an event, a versioned event or an envelope."""
    if isinstance(obj, EventEnvelope):
        return _unstructure_envelope(obj)
    if isinstance(obj, VersionedThreadEvent):
        return _unstructure_versioned(obj)
    return _unstructure_event(obj)


def from_dict(data: Any) -> ThreadEvent:
    """A bare event from its JSON object. Raises :class:`EventDecodeError`."""
    return _decode(_structure_event, data, ThreadEvent)  # type: ignore[no-any-return]


def record_form(data: dict[str, Any]) -> WireForm:
    """Which line form a JSON object is (see :class:`WireForm`)."""
    if "type" in data or "event" not in data:
        return WireForm.BARE
    if "seq" in data or "run_id" in data or "ts" in data:
        return WireForm.ENVELOPE
    return WireForm.VERSIONED


def parse_record(data: Any) -> LogRecord:
    """A bare event, a ``VersionedThreadEvent`` or an ``EventEnvelope`` from a JSON object,
    a JSON string or UTF-8 bytes. Raises :class:`EventDecodeError`.
    """
    if isinstance(data, str | bytes | bytearray | memoryview):
        data = _parse_json(bytes(data) if not isinstance(data, str) else data)
    if type(data) is not dict:
        raise EventDecodeError(f"expected a JSON object, got {_kind(data)}")
    form = record_form(data)
    if form is WireForm.BARE:
        if "type" not in data:
            raise EventDecodeError(
                "not an event: the object has neither `type` nor `event`", "$.type"
            )
        return _decode(_structure_event, data, ThreadEvent)  # type: ignore[no-any-return]
    if form is WireForm.ENVELOPE:
        return _decode(_structure_envelope, data, EventEnvelope)  # type: ignore[no-any-return]
    return _decode(_structure_versioned, data, VersionedThreadEvent)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- JSON text


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def _parse_json(text: bytes | str) -> Any:
    try:
        return loads(text)
    except ValueError as exc:  # orjson.JSONDecodeError and json.JSONDecodeError
        raise _json_error(text, exc) from None


def _json_error(text: bytes | str, exc: ValueError) -> EventDecodeError:
    if isinstance(text, bytes):
        try:
            text.decode("utf-8")
        except UnicodeDecodeError as bad:
            return EventDecodeError(f"invalid UTF-8 at byte {bad.start + 1}")
    message = getattr(exc, "msg", str(exc))
    pos = getattr(exc, "pos", None)
    if message == "unexpected end of data" and pos is not None and pos >= len(text.rstrip()):
        return EventDecodeError("invalid JSON: the line stops early", cut_short=True)
    where = f" at character {pos + 1}" if isinstance(pos, int) else ""
    return EventDecodeError(f"invalid JSON: {message}{where}")


def record_to_bytes(obj: LogRecord) -> bytes:
    """Compact serde-compatible JSON (UTF-8, no trailing newline)."""
    return dumps(to_dict(obj))


def to_json(obj: LogRecord) -> str:
    """Compact serde-compatible JSON text for an event, versioned event or envelope."""
    return record_to_bytes(obj).decode()


def from_json(text: str | bytes) -> ThreadEvent:
    """A bare event from JSON text. Raises :class:`EventDecodeError`."""
    data = _parse_json(text)
    if type(data) is not dict:
        raise EventDecodeError(f"expected a JSON object, got {_kind(data)}")
    return from_dict(data)
