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
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ._redact import DEFAULT_PATTERNS, Finding, Redactor, SecretPattern, safe_url
from ._vocabulary import (
    AgentMessageItem,
    CommandExecutionItem,
    ErrorDetail,
    ErrorItem,
    ItemCompletedEvent,
    ItemStartedEvent,
    ItemUpdatedEvent,
    McpToolCallItem,
    PlanItem,
    ReasoningItem,
    ThreadCompletedEvent,
    ThreadErrorEvent,
    ThreadEvent,
    ThreadItem,
    TodoEntry,
    TodoListItem,
    ToolInvocationItem,
    ToolOutputItem,
    TurnFailedEvent,
    UnknownEvent,
    UnknownItem,
    WebSearchItem,
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


# Tuples, not unions: isinstance is faster with them (every event passes here).
_ITEM_EVENTS = (ItemStartedEvent, ItemUpdatedEvent, ItemCompletedEvent)
_TEXT_ITEMS = (AgentMessageItem, PlanItem, ReasoningItem)
_KEPT_UNKNOWN = ("id", "type", "status", "thread_id", "session_id", "item_id", "call_id")


@attrs.frozen
class PrivacyPolicy:
    """What a writer keeps of each event (see the module docstring).

    ``capture``: the kinds kept (:class:`Capture`); ``redactor``: secrets replaced in
    all kept text (``None``: none); ``max_output_bytes``: the tail of command and tool
    output kept (``-1``: all)."""

    capture: frozenset[Capture] = attrs.field(default=frozenset(), converter=_capture_kinds)
    redactor: Redactor | None = attrs.field(factory=Redactor)
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES

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
        """The event as this policy lets it be written."""
        if isinstance(event, _ITEM_EVENTS):
            item = self.apply_item(event.item)
            return event if item is event.item else attrs.evolve(event, item=item)
        if isinstance(event, ThreadCompletedEvent) and event.result is not None:
            keep = Capture.MESSAGES in self.capture
            return attrs.evolve(event, result=self._text(event.result) if keep else None)
        if isinstance(event, ThreadErrorEvent):
            return attrs.evolve(event, message=self._text(event.message))
        if isinstance(event, TurnFailedEvent):
            changes: dict[str, Any] = {}
            if event.message is not None:
                changes["message"] = self._text(event.message)
            if event.error is not None:
                changes["error"] = attrs.evolve(
                    event.error, message=self._text(event.error.message)
                )
            return attrs.evolve(event, **changes) if changes else event
        if isinstance(event, UnknownEvent):
            return UnknownEvent(self._unknown(event.data))
        return event

    def apply_item(self, item: ThreadItem) -> ThreadItem:
        capture = self.capture
        if isinstance(item, _TEXT_ITEMS):
            kind = Capture.REASONING if isinstance(item, ReasoningItem) else Capture.MESSAGES
            if kind in capture:
                return attrs.evolve(item, text=self._text(item.text))
            return attrs.evolve(item, text="", extra=_omitted(item.extra, kind))
        if isinstance(item, TodoListItem):
            if Capture.MESSAGES in capture:
                items = [attrs.evolve(e, text=self._text(e.text)) for e in item.items]
                return attrs.evolve(item, items=items)
            items = [TodoEntry(text="", completed=e.completed) for e in item.items]
            return attrs.evolve(item, items=items, extra=_omitted(item.extra, Capture.MESSAGES))
        if isinstance(item, CommandExecutionItem):
            return self._command(item)
        if isinstance(item, ToolOutputItem):
            if Capture.COMMAND_OUTPUT in capture:
                return attrs.evolve(item, output=self._output(item.output))
            if not item.output:
                return item
            return attrs.evolve(item, output="", extra=_omitted(item.extra, Capture.COMMAND_OUTPUT))
        if isinstance(item, McpToolCallItem):
            error = item.error
            if error is not None:
                error = ErrorDetail(
                    message=self._text(error.message), extra=self._value(error.extra)
                )
            if Capture.TOOL_IO in capture:
                return attrs.evolve(
                    item,
                    arguments=self._value(item.arguments),
                    result=self._value(item.result),
                    error=error,
                )
            if item.arguments is None and item.result is None:
                return attrs.evolve(item, error=error)
            return attrs.evolve(
                item,
                arguments=None,
                result=None,
                error=error,
                extra=_omitted(item.extra, Capture.TOOL_IO),
            )
        if isinstance(item, ToolInvocationItem):
            if Capture.TOOL_IO in capture:
                return attrs.evolve(item, arguments=self._value(item.arguments))
            if item.arguments is None:
                return item
            return attrs.evolve(item, arguments=None, extra=_omitted(item.extra, Capture.TOOL_IO))
        if isinstance(item, WebSearchItem):
            if Capture.TOOL_IO in capture:
                return attrs.evolve(
                    item,
                    query=self._text(item.query),
                    results=self._value(item.results),
                    action=self._value(item.action),
                )
            return attrs.evolve(
                item,
                query="",
                results=None,
                action=None,
                extra=_omitted(item.extra, Capture.TOOL_IO),
            )
        if isinstance(item, ErrorItem):
            return attrs.evolve(item, message=self._text(item.message))
        if isinstance(item, UnknownItem):
            return UnknownItem(self._unknown(item.data))
        return item  # file changes: paths and kinds only

    def _command(self, item: CommandExecutionItem) -> CommandExecutionItem:
        capture = self.capture
        changes: dict[str, Any] = {"command": self._text(item.command)}
        omitted: list[Capture] = []
        if Capture.COMMAND_OUTPUT in capture:
            changes["aggregated_output"] = self._output(item.aggregated_output)
        elif item.aggregated_output:
            changes["aggregated_output"] = ""
            omitted.append(Capture.COMMAND_OUTPUT)
        if Capture.TOOL_IO in capture:
            changes["arguments"] = self._value(item.arguments)
        elif item.arguments is not None:
            changes["arguments"] = None
            omitted.append(Capture.TOOL_IO)
        if omitted:
            changes["extra"] = _omitted(item.extra, *omitted)
        return attrs.evolve(item, **changes)

    def _unknown(self, data: dict[str, Any]) -> dict[str, Any]:
        if Capture.TOOL_IO in self.capture:
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


def _omitted(extra: Mapping[str, Any], *kinds: Capture) -> dict[str, Any]:
    before = extra.get(OMITTED_KEY)
    names = list(before) if isinstance(before, list) else []
    for kind in kinds:  # a loop, not a comprehension: no frame, on every command event
        if kind._value_ not in names:
            names.append(kind._value_)
    return {**extra, OMITTED_KEY: names}
