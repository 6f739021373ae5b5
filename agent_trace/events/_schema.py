"""JSON Schema (draft 2020-12) of the vocabulary, generated from the classes, and log
validation against it."""

from __future__ import annotations

import enum
import inspect
import os
import types
import typing
from typing import IO, Any

import attrs

from ._codec import EventDecodeError, _json_error, parse_record
from ._envelope import EVENT_SCHEMA_VERSION, EventEnvelope, VersionedThreadEvent
from ._jsonl import CUT_SHORT, DEFAULT_MAX_LINE_BYTES, LogIssue, iter_lines
from ._vocabulary import (
    EVENT_CLASSES,
    ITEM_CLASSES,
    McpToolCallItem,
    ThreadEvent,
    ThreadItem,
    TurnFailedEvent,
)
from ._wire import SKIP_IF_NONE, WIRE_NAME, _open_enum_of, loads

__all__ = ["ValidationReport", "event_json_schema", "validate_log"]

_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Rules that span fields, mirrored from the classes' ``__attrs_post_init__`` checks.
_EXTRA_RULES: dict[type, dict[str, Any]] = {
    TurnFailedEvent: {"anyOf": [{"required": ["message"]}, {"required": ["error"]}]},
    McpToolCallItem: {"anyOf": [{"required": ["tool_name"]}, {"required": ["tool"]}]},
}


def _describe(cls: type) -> str:
    doc = inspect.getdoc(cls) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ")


class _Builder:
    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.defs: dict[str, Any] = {}

    def ref(self, name: str) -> dict[str, Any]:
        return {"$ref": f"#/$defs/{name}"}

    def type_schema(self, tp: Any) -> dict[str, Any]:
        if tp is Any:
            return {}
        if tp is str:
            return {"type": "string"}
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            return {"type": "integer"}
        if tp is float:
            return {"type": "number"}
        if tp is ThreadItem:
            return self.ref("ThreadItem")
        if tp is ThreadEvent:
            return self.ref("ThreadEvent")
        enum_cls = _open_enum_of(tp)
        if enum_cls is not None:
            schema = self.enum_schema(enum_cls)
            if type(None) in typing.get_args(tp):
                return {"anyOf": [schema, {"type": "null"}]}
            return schema
        origin = typing.get_origin(tp)
        if origin is list:
            (elem,) = typing.get_args(tp)
            return {"type": "array", "items": self.type_schema(elem)}
        if origin is dict:
            return {"type": "object"}
        if isinstance(tp, types.UnionType) or origin is typing.Union:
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) == 1:
                return {"anyOf": [self.type_schema(args[0]), {"type": "null"}]}
        if isinstance(tp, type) and attrs.has(tp):
            self.class_schema(tp)
            return self.ref(tp.__name__)
        raise TypeError(f"no JSON Schema for {tp!r}")  # pragma: no cover - a new field type

    def enum_schema(self, enum_cls: type[enum.Enum]) -> dict[str, Any]:
        values = [m.value for m in enum_cls]
        if self.strict:
            return {"type": "string", "enum": values}
        return {
            "type": "string",
            "description": f"Known values: {', '.join(values)}; others are kept as they are.",
            "examples": values,
        }

    def class_schema(self, cls: type) -> None:
        name = cls.__name__
        if name in self.defs:
            return
        self.defs[name] = {}  # placeholder against recursion
        attrs.resolve_types(cls)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for a in attrs.fields(cls):
            if a.name in ("extra", "_wire_keys") or WIRE_NAME in a.metadata:
                continue  # a second `id` key cannot be described in JSON Schema
            if not a.init:  # the serde tag
                properties[a.name] = {"const": a.default}
                required.append(a.name)
                continue
            schema = self.type_schema(a.type)
            if a.metadata.get(SKIP_IF_NONE) and a.type is not Any and "anyOf" not in schema:
                schema = {"anyOf": [schema, {"type": "null"}]}
            properties[a.name] = schema
            if a.default is attrs.NOTHING:
                required.append(a.name)
        schema = {
            "type": "object",
            "description": _describe(cls),
            "properties": properties,
            "required": required,
        }
        schema.update(_EXTRA_RULES.get(cls, {}))
        self.defs[name] = schema

    def union_schema(self, name: str, members: tuple[type, ...], description: str) -> None:
        tags: list[str] = []
        branches = []
        for cls in members:
            self.class_schema(cls)
            tag_value = str(attrs.fields_dict(cls)["type"].default)
            tags.append(tag_value)
            branches.append(
                {
                    "if": {"properties": {"type": {"const": tag_value}}, "required": ["type"]},
                    "then": self.ref(cls.__name__),
                }
            )
        base: dict[str, Any] = {"type": "object", "required": ["type"]}
        type_schema: dict[str, Any] = {"type": "string"}
        if self.strict:
            type_schema["enum"] = tags
        else:
            type_schema["description"] = (
                f"Known: {', '.join(tags)}. Other types are kept as they are."
            )
        base["properties"] = {"type": type_schema}
        if name == "ThreadItem":
            base["required"] = ["id", "type"]
            base["properties"]["id"] = {"type": "string"}
        self.defs[name] = {"description": description, "allOf": [base, *branches]}


def event_json_schema(*, strict: bool = False) -> dict[str, Any]:
    """The JSON Schema of one log line (bare event, versioned event or envelope).

    The default schema is forward compatible like the reader: unknown event and item
    types, unknown enum values and unknown fields are allowed. ``strict=True`` allows only
    the types and enum values this version knows (unknown fields are still allowed).
    """
    builder = _Builder(strict)
    builder.union_schema("ThreadItem", ITEM_CLASSES, "An item: `id`, then its `type` tag.")
    builder.union_schema("ThreadEvent", EVENT_CLASSES, "An event, tagged by `type`.")
    builder.class_schema(VersionedThreadEvent)
    builder.class_schema(EventEnvelope)
    return {
        "$schema": _SCHEMA_DIALECT,
        "$id": f"urn:agent-trace:events:{EVENT_SCHEMA_VERSION}{':strict' if strict else ''}",
        "title": f"agent-trace event log line (event schema {EVENT_SCHEMA_VERSION})",
        "description": (
            "One line of a JSONL event log: a bare event (Codex `exec --json`), a "
            "`VersionedThreadEvent` (VT Code) or an agent-trace `EventEnvelope`."
        ),
        "anyOf": [
            {
                "allOf": [{"not": {"required": ["event"]}}, builder.ref("ThreadEvent")],
            },
            {
                "allOf": [
                    {"required": ["event"], "not": {"required": ["seq"]}},
                    builder.ref("VersionedThreadEvent"),
                ],
            },
            {"allOf": [{"required": ["event", "seq"]}, builder.ref("EventEnvelope")]},
        ],
        "$defs": dict(sorted(builder.defs.items())),
    }


# --------------------------------------------------------------------------- validation


@attrs.frozen
class ValidationReport:
    """What :func:`validate_log` found. ``ok`` when there are no errors."""

    source: str
    lines: int
    events: int
    errors: list[LogIssue]
    warnings: list[LogIssue]
    truncated: bool

    @property
    def ok(self) -> bool:
        return not self.errors


def _best_message(errors: list[Any]) -> tuple[str, str]:
    from jsonschema.exceptions import best_match

    error = best_match(errors)
    path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path, error.message


def validate_log(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    strict: bool = False,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> ValidationReport:
    """Check every line of a log: it must decode into the typed vocabulary and match the
    JSON Schema. Unknown event/item types and enum values are warnings, or errors when
    ``strict``. A torn last line (a crash) is a warning.
    """
    import jsonschema

    name = (
        str(source)
        if isinstance(source, str | os.PathLike)
        else str(getattr(source, "name", "<stream>"))
    )
    lenient = jsonschema.Draft202012Validator(event_json_schema(strict=False))
    known_only = jsonschema.Draft202012Validator(event_json_schema(strict=True))
    errors: list[LogIssue] = []
    warnings: list[LogIssue] = []
    lines = events = 0
    truncated = False

    def check(f: IO[bytes]) -> None:
        nonlocal lines, events, truncated
        for number, line, complete in iter_lines(f, max_line_bytes):
            lines = number
            if line is None:
                errors.append(
                    LogIssue(name, number, "$", f"line longer than {max_line_bytes} bytes")
                )
                continue
            try:
                data = loads(line)
                parse_record(data)
            except ValueError as exc:  # EventDecodeError, or JSON errors from loads
                error = exc if isinstance(exc, EventDecodeError) else _json_error(line, exc)
                if error.cut_short or not complete:
                    truncated = True
                    warnings.append(LogIssue(name, number, "$", CUT_SHORT, "truncated"))
                else:
                    errors.append(LogIssue(name, number, error.path, error.message))
                continue
            events += 1
            found = list(lenient.iter_errors(data))
            if found:
                path, message = _best_message(found)
                errors.append(LogIssue(name, number, path, f"schema: {message}"))
                continue
            unknown = list(known_only.iter_errors(data))
            if unknown:
                path, message = _best_message(unknown)
                kind = _unknown_kind(data)
                if kind is not None:  # say which type, not the whole line
                    path, message = kind
                issue = LogIssue(name, number, path, f"not in the known vocabulary: {message}")
                (errors if strict else warnings).append(issue)

    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as f:
            check(f)
    else:
        check(source)
    return ValidationReport(name, lines, events, errors, warnings, truncated)


def _unknown_kind(data: Any) -> tuple[str, str] | None:
    """``(path, message)`` naming an event or item type the vocabulary does not know."""
    from ._codec import from_dict
    from ._vocabulary import UnknownEvent, UnknownItem

    event = data.get("event", data) if isinstance(data, dict) else None
    base = "$.event" if isinstance(data, dict) and "event" in data else "$"
    try:
        decoded = from_dict(event)
    except ValueError:
        return None
    if isinstance(decoded, UnknownEvent):
        return f"{base}.type", f"event type {decoded.type!r} (kept as it is)"
    item = getattr(decoded, "item", None)
    if isinstance(item, UnknownItem):
        return f"{base}.item.type", f"item type {item.type!r} (kept as it is)"
    return None
