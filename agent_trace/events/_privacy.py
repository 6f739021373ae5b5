"""What of an agent's words and output is recorded: capture per kind, secret redaction,
and long outputs cut to their tail. One policy, applied by every writer (the run's
events file, imported logs, OpenTelemetry) before anything leaves the process.

By default no prompt or output is kept: agent messages, reasoning, command output and
tool arguments/results are left out (opt in per kind), and what is kept (commands,
error messages, and any captured kind) has secrets replaced by ``[REDACTED:<name>]``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import Any

import attrs

from ._codec import dump_event, from_dict
from ._redact import DEFAULT_PATTERNS, Finding, Redactor, SecretPattern, safe_url
from ._vocabulary import (
    EVENT_CLASSES,
    ITEM_CLASSES,
    ItemCompletedEvent,
    ItemStartedEvent,
    ItemUpdatedEvent,
    ThreadEvent,
    UnknownEvent,
    UnknownItem,
)

__all__ = [
    "DEFAULT_MAX_OUTPUT_BYTES",
    "DEFAULT_PATTERNS",
    "OMITTED_KEY",
    "Capture",
    "Finding",
    "PrivacyPolicy",
    "Redactor",
    "SecretPattern",
    "cut_to_tail",
    "safe_url",
]

DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024
"""Command and tool output kept per item (its tail), when captured."""
OMITTED_KEY = "agent_trace_omitted"
"""Added to an item (in ``extra``) whose fields were left out: the kinds not captured."""


class Capture(enum.StrEnum):
    """Kinds of content that are recorded only when asked for."""

    MESSAGES = "messages"
    """The agent's messages, plans, to-do lists and final result."""
    REASONING = "reasoning"
    COMMAND_OUTPUT = "command_output"
    """Output of commands and tools (``aggregated_output``, ``tool_output``)."""
    TOOL_IO = "tool_io"
    """Tool call arguments and results, web search queries and results, and unknown
    items' fields."""

    @classmethod
    def parse(cls, values: str | Iterable[str]) -> frozenset[Capture]:
        """``"messages,reasoning"``, ``["tool_io"]``, ``"all"`` or ``"none"``."""
        items = values.split(",") if isinstance(values, str) else list(values)
        out: set[Capture] = set()
        for raw in items:
            if not isinstance(raw, str):
                raise ValueError(f"capture kinds are names, not {raw!r}")
            name = raw.strip().lower().replace("-", "_")
            if name in ("", "none"):
                continue
            if name == "all":
                out.update(cls)
                continue
            try:
                out.add(cls(name))
            except ValueError:
                known = ", ".join([*(c.value for c in cls), "all", "none"])
                raise ValueError(f"unknown capture kind {raw.strip()!r} (known: {known})") from None
        return frozenset(out)


# --------------------------------------------------------------------------- redaction


# --------------------------------------------------------------------------- cutting


_CUT_LINE = re.compile(r"\[agent-trace: ([0-9]{1,3}(?:,[0-9]{3}){0,6}) bytes cut\]\n")


def cut_to_tail(text: str, max_bytes: int) -> str:
    """``text`` if its UTF-8 form fits in ``max_bytes``, else its last ``max_bytes``
    bytes (whole characters) after a line saying how much was cut.

    A text this already cut is measured without that line (the line then counts both
    cuts): cutting again to the same size changes nothing, so a policy applied twice
    (the recorder's, then an emitter's) gives what it gives once."""
    data = text.encode("utf-8", "surrogatepass")
    if max_bytes < 0 or len(data) <= max_bytes:
        return text
    before = 0
    line = _CUT_LINE.match(text)
    if line is not None:
        before = int(line.group(1).replace(",", ""))
        data = text[line.end() :].encode("utf-8", "surrogatepass")
        if len(data) <= max_bytes:
            return text
    start = len(data) - max_bytes
    while start < len(data) and (data[start] & 0xC0) == 0x80:  # not inside a character
        start += 1
    tail = data[start:].decode("utf-8", "surrogatepass")
    return f"[agent-trace: {before + start:,} bytes cut]\n" + tail


# --------------------------------------------------------------------------- the policy


def _capture_kinds(values: str | Iterable[str]) -> frozenset[Capture]:
    return Capture.parse(values)


_ITEM_EVENTS = (ItemStartedEvent, ItemUpdatedEvent, ItemCompletedEvent)
_KEPT_UNKNOWN = ("id", "type", "status", "thread_id", "session_id", "item_id", "call_id")
_ITEM_EVENT_TAGS = frozenset(("item.started", "item.updated", "item.completed"))
_TEXT_KINDS = {
    "agent_message": Capture.MESSAGES,
    "plan": Capture.MESSAGES,
    "reasoning": Capture.REASONING,
}
_EVENT_CLASSES = frozenset(EVENT_CLASSES)
_KNOWN_EVENT_TAGS = frozenset(attrs.fields(cls).type.default for cls in EVENT_CLASSES)
_KNOWN_ITEM_TAGS = frozenset(attrs.fields(cls).type.default for cls in ITEM_CLASSES)

JsonObject = dict[str, Any]


@attrs.frozen
class PrivacyPolicy:
    """What a writer keeps of each event (see the module docstring).

    ``capture``: the kinds kept (:class:`Capture`); ``redactor``: secrets replaced in
    all kept text (``None``: none); ``max_output_bytes``: the tail of command and tool
    output kept (``-1``: all).

    The policy is written once, for an event's JSON object (:meth:`apply_dict`, what
    the recorder's writer uses, with no objects built); :meth:`apply` is that applied
    to an event object."""

    capture: frozenset[Capture] = attrs.field(default=frozenset(), converter=_capture_kinds)
    redactor: Redactor | None = attrs.field(factory=Redactor)
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    # Looked up once, not per item (a member of an enum hashes in Python).
    _keep_output: bool = attrs.field(
        init=False,
        eq=False,
        repr=False,
        default=attrs.Factory(lambda p: Capture.COMMAND_OUTPUT in p.capture, takes_self=True),
    )
    _keep_tool_io: bool = attrs.field(
        init=False,
        eq=False,
        repr=False,
        default=attrs.Factory(lambda p: Capture.TOOL_IO in p.capture, takes_self=True),
    )

    @classmethod
    def keep_everything(cls) -> PrivacyPolicy:
        """Every kind, no redaction, no cutting: the events exactly as given."""
        return cls(capture=frozenset(Capture), redactor=None, max_output_bytes=-1)

    def _text(self, text: str) -> str:
        return self.redactor.redact(text) if self.redactor is not None else text

    def _value(self, value: Any) -> Any:
        return self.redactor.redact_value(value) if self.redactor is not None else value

    def _output(self, text: str) -> str:
        return self._text(cut_to_tail(text, self.max_output_bytes))

    def apply(self, event: ThreadEvent) -> ThreadEvent:
        """The event as this policy lets it be written (the same event when the policy
        changes nothing in it)."""
        if isinstance(event, UnknownEvent):
            return UnknownEvent(self._unknown(event.data))
        if isinstance(event, _ITEM_EVENTS) and isinstance(event.item, UnknownItem):
            return attrs.evolve(event, item=UnknownItem(self._unknown(event.item.data)))
        if event.__class__ not in _EVENT_CLASSES:
            return event  # not an event: nothing of it is written
        body = dump_event(event)
        kept = self.apply_dict(body)
        return event if kept is body else from_dict(kept)

    def apply_dict(self, body: JsonObject) -> JsonObject:
        """An event's JSON object (:func:`~agent_trace.events.to_dict`) as this policy
        lets it be written. ``body`` is not changed: what differs is copied (``body``
        itself is returned when nothing does)."""
        tag = body.get("type")
        if tag in _ITEM_EVENT_TAGS:
            item = body.get("item")
            if type(item) is not dict:
                return body
            kept = self._item(item)
            return body if kept is item else {**body, "item": kept}
        if tag == "thread.completed":
            if body.get("result") is None:
                return body
            if Capture.MESSAGES in self.capture:
                return {**body, "result": self._text(body["result"])}
            out = dict(body)
            del out["result"]
            return out
        if tag == "error":
            return {**body, "message": self._text(body["message"])}
        if tag == "turn.failed":
            out = body
            if body.get("message") is not None:
                out = {**out, "message": self._text(body["message"])}
            error = body.get("error")
            if error is not None:
                out = {**out, "error": self._error(error)}
            return out
        if tag in _KNOWN_EVENT_TAGS:
            return body
        return self._unknown(body)

    def _error(self, error: JsonObject) -> JsonObject:
        return {**error, "message": self._text(error["message"])}

    def _item(self, item: JsonObject) -> JsonObject:
        capture = self.capture
        tag = item.get("type")
        if tag == "command_execution":
            return self._command(item)
        text_kind = _TEXT_KINDS.get(tag)  # type: ignore[arg-type]
        if text_kind is not None:
            if text_kind in capture:
                return {**item, "text": self._text(item["text"])}
            return _omitted({**item, "text": ""}, text_kind.value)
        if tag == "todo_list":
            if Capture.MESSAGES in capture:
                entries = [{**e, "text": self._text(e["text"])} for e in item["items"]]
                return {**item, "items": entries}
            entries = [{"text": "", "completed": e["completed"]} for e in item["items"]]
            return _omitted({**item, "items": entries}, Capture.MESSAGES.value)
        if tag == "tool_output":
            if self._keep_output:
                return {**item, "output": self._output(item["output"])}
            if not item["output"]:
                return item
            return _omitted({**item, "output": ""}, Capture.COMMAND_OUTPUT.value)
        if tag == "mcp_tool_call":
            out = dict(item)
            error = item.get("error")
            if error is not None:
                message = self._text(error["message"])
                rest = {k: v for k, v in error.items() if k != "message"}
                out["error"] = {"message": message, **self._value(rest)}
            if self._keep_tool_io:
                for key in ("arguments", "result"):
                    if key in out:
                        out[key] = self._value(out[key])
                return out
            if item.get("arguments") is None and item.get("result") is None:
                return out
            out.pop("arguments", None)
            out.pop("result", None)
            return _omitted(out, Capture.TOOL_IO.value)
        if tag == "tool_invocation":
            if self._keep_tool_io:
                if "arguments" not in item:
                    return item
                return {**item, "arguments": self._value(item["arguments"])}
            if item.get("arguments") is None:
                return item
            out = dict(item)
            del out["arguments"]
            return _omitted(out, Capture.TOOL_IO.value)
        if tag == "web_search":
            if self._keep_tool_io:
                out = {**item, "query": self._text(item["query"])}
                for key in ("results", "action"):
                    if key in out:
                        out[key] = self._value(out[key])
                return out
            out = {**item, "query": ""}
            out.pop("results", None)
            out.pop("action", None)
            return _omitted(out, Capture.TOOL_IO.value)
        if tag == "error":
            return {**item, "message": self._text(item["message"])}
        if tag in _KNOWN_ITEM_TAGS:
            return item  # file changes: paths and kinds only
        return self._unknown(item)

    def _command(self, item: JsonObject) -> JsonObject:
        # The hot path: every command an agent runs passes here.
        out = {**item, "command": self._text(item["command"])}
        lost: tuple[str, ...] = ()
        if self._keep_output:
            out["aggregated_output"] = self._output(item["aggregated_output"])
        elif item["aggregated_output"]:
            out["aggregated_output"] = ""
            lost = _OUTPUT
        if self._keep_tool_io:
            if "arguments" in item:
                out["arguments"] = self._value(item["arguments"])
        elif item.get("arguments") is not None:
            del out["arguments"]
            lost = _OUTPUT_AND_IO if lost else _IO
        return _omitted(out, *lost) if lost else out

    def _unknown(self, data: JsonObject) -> JsonObject:
        if self._keep_tool_io:
            out = self._value(data)
            assert isinstance(out, dict)
            return out
        kept = {k: data[k] for k in _KEPT_UNKNOWN if k in data}
        if "item" in data and isinstance(data["item"], dict):  # an unknown event's item
            kept["item"] = {k: data["item"][k] for k in _KEPT_UNKNOWN if k in data["item"]}
        if len(kept) < len(data) or ("item" in kept and kept["item"] != data["item"]):
            kept[OMITTED_KEY] = [Capture.TOOL_IO.value]
        out = self._value(kept)
        assert isinstance(out, dict)
        return out


def _omitted(out: JsonObject, *kinds: str) -> JsonObject:
    """``out`` (a copy the caller made) marked with the kinds left out of it (their
    values: plain strings)."""
    before = out.get(OMITTED_KEY)
    if before is None:  # most items: the first mark
        out[OMITTED_KEY] = list(kinds)
        return out
    names = list(before) if isinstance(before, list) else []
    for kind in kinds:  # a loop, not a comprehension: no frame
        if kind not in names:
            names.append(kind)
    out[OMITTED_KEY] = names
    return out


_OUTPUT = (Capture.COMMAND_OUTPUT.value,)
_IO = (Capture.TOOL_IO.value,)
_OUTPUT_AND_IO = _OUTPUT + _IO
