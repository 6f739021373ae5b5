"""The privacy policy as it was written for event objects (until 0.x): kept as the oracle
that the one policy on JSON objects (``PrivacyPolicy.apply_dict``, and ``apply`` made from
it) is tested against."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from agent_trace.events import (
    AgentMessageItem,
    Capture,
    CommandExecutionItem,
    ErrorDetail,
    ErrorItem,
    ItemCompletedEvent,
    ItemStartedEvent,
    ItemUpdatedEvent,
    McpToolCallItem,
    PlanItem,
    PrivacyPolicy,
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
    cut_to_tail,
)
from agent_trace.events._privacy import OMITTED_KEY

_ITEM_EVENTS = (ItemStartedEvent, ItemUpdatedEvent, ItemCompletedEvent)
_TEXT_ITEMS = (AgentMessageItem, PlanItem, ReasoningItem)
_KEPT_UNKNOWN = ("id", "type", "status", "thread_id", "session_id", "item_id", "call_id")


@attrs.frozen
class ReferencePolicy:
    """``PrivacyPolicy`` applied field by field to event objects."""

    policy: PrivacyPolicy

    @property
    def capture(self) -> frozenset[Capture]:
        return self.policy.capture

    def _text(self, text: str) -> str:
        redactor = self.policy.redactor
        return redactor.redact(text) if redactor is not None else text

    def _value(self, value: Any) -> Any:
        redactor = self.policy.redactor
        return redactor.redact_value(value) if redactor is not None else value

    def _output(self, text: str) -> str:
        return self._text(cut_to_tail(text, self.policy.max_output_bytes))

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
