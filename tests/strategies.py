"""Hypothesis strategies for every event and item class of ``agent_trace.events``."""

from __future__ import annotations

import enum
from typing import Any

import attrs
from hypothesis import strategies as st

from agent_trace.events import (
    AgentMessageItem,
    CommandExecutionItem,
    CommandExecutionStatus,
    ErrorDetail,
    ErrorItem,
    EventEnvelope,
    FileChangeItem,
    FileUpdateChange,
    ItemCompletedEvent,
    ItemStartedEvent,
    ItemUpdatedEvent,
    McpToolCallItem,
    McpToolCallStatus,
    PatchApplyStatus,
    PatchChangeKind,
    PlanItem,
    ReasoningItem,
    ThreadCompletedEvent,
    ThreadCompletionSubtype,
    ThreadErrorEvent,
    ThreadEvent,
    ThreadItem,
    ThreadStartedEvent,
    TodoEntry,
    TodoListItem,
    ToolCallStatus,
    ToolInvocationItem,
    ToolInvocationOutcome,
    ToolOutputItem,
    TurnCompletedEvent,
    TurnFailedEvent,
    TurnStartedEvent,
    UnknownEvent,
    UnknownItem,
    Usage,
    VersionedThreadEvent,
    WebSearchItem,
    utc_timestamp,
)

# Any Unicode text that JSON can carry: control characters, U+2028, DEL, astral planes,
# everything but lone surrogates (which UTF-8 cannot encode).
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=24)
short_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)

EDGE_INTS = [
    0,
    -1,
    2**31,
    2**53 + 1,
    2**63 - 1,
    2**63,
    2**64 - 1,
    2**64,
    2**100,
    -(2**63),
    -(2**63) - 1,
    -(2**64),
    -(10**19) + 1,
    -(2**100),
]
integers = st.one_of(st.sampled_from(EDGE_INTS), st.integers())
counts = st.integers(min_value=0, max_value=2**64 - 1)
floats = st.floats(allow_nan=False, allow_infinity=False)

json_scalars = st.one_of(st.none(), st.booleans(), integers, floats, text)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(short_text, children, max_size=4)
    ),
    max_leaves=12,
)
json_objects: st.SearchStrategy[dict[str, Any]] = st.dictionaries(
    short_text, json_values, max_size=4
)


def open_enum(cls: type[enum.Enum]) -> st.SearchStrategy[Any]:
    """A member, or a value this version does not know (kept as a plain ``str``)."""
    return st.one_of(st.sampled_from(list(cls)), text)


def wire_names(cls: type) -> set[str]:
    return {a.name for a in attrs.fields(cls)} | {"id", "type"}


def extras(cls: type, *reserved: str) -> st.SearchStrategy[dict[str, Any]]:
    """Unknown keys for ``cls``: anything but the names it (or its wrapper) knows."""
    taken = wire_names(cls) | set(reserved)
    return st.dictionaries(short_text.filter(lambda k: k not in taken), json_values, max_size=3)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


# --------------------------------------------------------------------------- parts

usages = st.builds(
    Usage,
    input_tokens=counts,
    cached_input_tokens=counts,
    cache_creation_tokens=maybe(counts),
    output_tokens=counts,
    reasoning_output_tokens=maybe(counts),
    extra=extras(Usage),
)
error_details = st.builds(ErrorDetail, message=text, extra=extras(ErrorDetail))
file_changes = st.builds(
    FileUpdateChange, path=text, kind=open_enum(PatchChangeKind), extra=extras(FileUpdateChange)
)
todo_entries = st.builds(TodoEntry, text=text, completed=st.booleans(), extra=extras(TodoEntry))

# --------------------------------------------------------------------------- items

ITEM_TAGS = {
    "agent_message",
    "reasoning",
    "plan",
    "command_execution",
    "file_change",
    "mcp_tool_call",
    "web_search",
    "todo_list",
    "tool_invocation",
    "tool_output",
    "error",
}
EVENT_TAGS = {
    "thread.started",
    "thread.completed",
    "turn.started",
    "turn.completed",
    "turn.failed",
    "item.started",
    "item.updated",
    "item.completed",
    "error",
}


@st.composite
def _tagged_data(
    draw: st.DrawFn, known_tags: set[str], required: dict[str, st.SearchStrategy[Any]]
) -> dict[str, Any]:
    """A raw object with an unknown ``type`` and the given keys, in a drawn key order."""
    tag_value = draw(text.filter(lambda t: t not in known_tags))
    fields: dict[str, Any] = {"type": tag_value}
    fields.update({name: draw(strategy) for name, strategy in required.items()})
    rest = draw(
        st.dictionaries(short_text.filter(lambda k: k not in fields), json_values, max_size=4)
    )
    pairs = list(fields.items()) + list(rest.items())
    order = draw(st.permutations(range(len(pairs))))
    return {pairs[i][0]: pairs[i][1] for i in order}


unknown_items = _tagged_data(ITEM_TAGS, {"id": text}).map(UnknownItem)

mcp_tool_calls = st.one_of(
    st.builds(
        McpToolCallItem,
        id=text,
        server=maybe(text),
        tool=text,
        tool_name=maybe(text),
        arguments=json_values,
        result=json_values,
        error=maybe(error_details),
        status=maybe(open_enum(McpToolCallStatus)),
        extra=extras(McpToolCallItem),
    ),
    st.builds(
        McpToolCallItem,
        id=text,
        tool_name=text,
        arguments=json_values,
        result=json_values,
        status=maybe(open_enum(McpToolCallStatus)),
        extra=extras(McpToolCallItem),
    ),
)

items: st.SearchStrategy[ThreadItem] = st.one_of(
    st.builds(AgentMessageItem, id=text, text=text, extra=extras(AgentMessageItem)),
    st.builds(ReasoningItem, id=text, text=text, stage=maybe(text), extra=extras(ReasoningItem)),
    st.builds(PlanItem, id=text, text=text, extra=extras(PlanItem)),
    st.builds(
        CommandExecutionItem,
        id=text,
        command=text,
        arguments=json_values,
        aggregated_output=text,
        exit_code=maybe(integers),
        status=open_enum(CommandExecutionStatus),
        extra=extras(CommandExecutionItem),
    ),
    st.builds(
        FileChangeItem,
        id=text,
        changes=st.lists(file_changes, max_size=3),
        status=open_enum(PatchApplyStatus),
        extra=extras(FileChangeItem),
    ),
    mcp_tool_calls,
    st.builds(
        WebSearchItem,
        id=text,
        search_id=maybe(text),
        query=text,
        provider=maybe(text),
        results=maybe(st.lists(text, max_size=3)),
        action=json_values,
        extra=extras(WebSearchItem),
    ),
    st.builds(
        TodoListItem,
        id=text,
        items=st.lists(todo_entries, max_size=3),
        extra=extras(TodoListItem),
    ),
    st.builds(
        ToolInvocationItem,
        id=text,
        tool_name=text,
        arguments=json_values,
        tool_call_id=maybe(text),
        status=open_enum(ToolCallStatus),
        outcome=maybe(open_enum(ToolInvocationOutcome)),
        extra=extras(ToolInvocationItem),
    ),
    st.builds(
        ToolOutputItem,
        id=text,
        call_id=text,
        tool_call_id=maybe(text),
        spool_path=maybe(text),
        output=text,
        exit_code=maybe(integers),
        status=open_enum(ToolCallStatus),
        extra=extras(ToolOutputItem),
    ),
    st.builds(ErrorItem, id=text, message=text, extra=extras(ErrorItem)),
    unknown_items,
)

# --------------------------------------------------------------------------- events

unknown_events = _tagged_data(EVENT_TAGS, {}).map(UnknownEvent)

turn_failures = st.one_of(
    st.builds(
        TurnFailedEvent,
        message=text,
        usage=maybe(usages),
        error=maybe(error_details),
        extra=extras(TurnFailedEvent),
    ),
    st.builds(
        TurnFailedEvent,
        usage=maybe(usages),
        error=error_details,
        extra=extras(TurnFailedEvent),
    ),
)

events: st.SearchStrategy[ThreadEvent] = st.one_of(
    st.builds(ThreadStartedEvent, thread_id=text, extra=extras(ThreadStartedEvent)),
    st.builds(
        ThreadCompletedEvent,
        thread_id=text,
        session_id=text,
        subtype=open_enum(ThreadCompletionSubtype),
        outcome_code=text,
        result=maybe(text),
        stop_reason=maybe(text),
        usage=usages,
        total_cost_usd=maybe(st.one_of(floats, counts)),
        num_turns=counts,
        extra=extras(ThreadCompletedEvent),
    ),
    st.builds(
        TurnStartedEvent, token_breakdown=maybe(json_objects), extra=extras(TurnStartedEvent)
    ),
    st.builds(TurnCompletedEvent, usage=usages, extra=extras(TurnCompletedEvent)),
    turn_failures,
    st.builds(ItemStartedEvent, item=items, extra=extras(ItemStartedEvent)),
    st.builds(ItemUpdatedEvent, item=items, extra=extras(ItemUpdatedEvent)),
    st.builds(ItemCompletedEvent, item=items, extra=extras(ItemCompletedEvent)),
    st.builds(ThreadErrorEvent, message=text, extra=extras(ThreadErrorEvent)),
    unknown_events,
)

# --------------------------------------------------------------------------- wrappers

WRAPPER_KEYS = ("type", "schema_version", "seq", "id", "ts", "run_id", "event")

timestamps = st.integers(min_value=0, max_value=253_402_300_799_999_999_999).map(utc_timestamp)

versioned_events = st.builds(
    VersionedThreadEvent,
    schema_version=text,
    event=events,
    extra=extras(VersionedThreadEvent, *WRAPPER_KEYS),
)
envelopes = st.builds(
    EventEnvelope,
    schema_version=text,
    seq=integers,
    id=text,
    ts=st.one_of(timestamps, text),
    run_id=text,
    event=events,
    extra=extras(EventEnvelope, *WRAPPER_KEYS),
)
