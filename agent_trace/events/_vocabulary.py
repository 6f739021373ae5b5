"""The thread-event vocabulary: VT Code's ``ThreadEvent`` plus what real Codex logs hold.

Field names, wire tags, field order and optional-field rules mirror the Rust types
(``vtcode-exec-events`` and Codex ``exec_events.rs``); see ``docs/events.md``.
Every class is a frozen attrs class taking keyword arguments; enums are open (a value
this version does not know is kept as a plain string).
"""

from __future__ import annotations

import enum
from typing import Any, Literal, Union

import attrs

from ._json import DUPLICATE_ID, note_duplicate_id
from ._wire import WireError, WireObject, optional, tag

__all__ = [
    "AgentMessageItem",
    "CommandExecutionItem",
    "CommandExecutionStatus",
    "ErrorDetail",
    "ErrorItem",
    "FileChangeItem",
    "FileUpdateChange",
    "ItemCompletedEvent",
    "ItemStartedEvent",
    "ItemUpdatedEvent",
    "McpToolCallItem",
    "McpToolCallStatus",
    "PatchApplyStatus",
    "PatchChangeKind",
    "PlanItem",
    "ReasoningItem",
    "ThreadCompletedEvent",
    "ThreadCompletionSubtype",
    "ThreadErrorEvent",
    "ThreadEvent",
    "ThreadItem",
    "ThreadStartedEvent",
    "TodoEntry",
    "TodoListItem",
    "ToolCallStatus",
    "ToolInvocationItem",
    "ToolInvocationOutcome",
    "ToolOutputItem",
    "TurnCompletedEvent",
    "TurnFailedEvent",
    "TurnStartedEvent",
    "UnknownEvent",
    "UnknownItem",
    "Usage",
    "WebSearchItem",
]


# --------------------------------------------------------------------------- enums


class CommandExecutionStatus(enum.StrEnum):
    """Status of a ``command_execution`` item (``declined`` comes from Codex)."""

    COMPLETED = "completed"
    FAILED = "failed"
    IN_PROGRESS = "in_progress"
    DECLINED = "declined"


class PatchApplyStatus(enum.StrEnum):
    """Status of a ``file_change`` item (``in_progress`` comes from newer Codex)."""

    COMPLETED = "completed"
    FAILED = "failed"
    IN_PROGRESS = "in_progress"


class PatchChangeKind(enum.StrEnum):
    """What happened to one file in a ``file_change`` item."""

    ADD = "add"
    DELETE = "delete"
    UPDATE = "update"


class McpToolCallStatus(enum.StrEnum):
    """Status of an ``mcp_tool_call`` item (VT Code: started; Codex: in_progress)."""

    STARTED = "started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"


class ToolCallStatus(enum.StrEnum):
    """Status of ``tool_invocation`` and ``tool_output`` items (VT Code)."""

    COMPLETED = "completed"
    FAILED = "failed"
    IN_PROGRESS = "in_progress"


class ToolInvocationOutcome(enum.StrEnum):
    """Why a ``tool_invocation`` ended the way it did (VT Code 0.11)."""

    SUCCESS = "success"
    ERROR = "error"
    PERMISSION_REJECTED = "permission_rejected"
    PERMISSION_CANCELLED = "permission_cancelled"
    FOLLOWUP = "followup"
    HOOK_DENIED = "hook_denied"
    INVALID_TOOL = "invalid_tool"
    CANCELLED = "cancelled"


class ThreadCompletionSubtype(enum.StrEnum):
    """How a thread ended (``thread.completed.subtype``)."""

    SUCCESS = "success"
    ERROR_MAX_TURNS = "error_max_turns"
    ERROR_MAX_BUDGET_USD = "error_max_budget_usd"
    ERROR_DURING_EXECUTION = "error_during_execution"
    CANCELLED = "cancelled"


# --------------------------------------------------------------------------- shared parts


@attrs.frozen(kw_only=True, repr=False)
class Usage(WireObject):
    """Token usage of a turn (or, in newer Codex, of the thread so far)."""

    input_tokens: int
    cached_input_tokens: int
    cache_creation_tokens: int | None = optional()
    output_tokens: int
    reasoning_output_tokens: int | None = optional()


@attrs.frozen(kw_only=True, repr=False)
class ErrorDetail(WireObject):
    """``{"message": ...}`` as nested by Codex (``turn.failed.error``, ``mcp_tool_call.error``)."""

    message: str


@attrs.frozen(kw_only=True, repr=False)
class FileUpdateChange(WireObject):
    """One file touched by a ``file_change`` item."""

    path: str
    kind: PatchChangeKind | str


@attrs.frozen(kw_only=True, repr=False)
class TodoEntry(WireObject):
    """One entry of a Codex ``todo_list`` item."""

    text: str
    completed: bool


# --------------------------------------------------------------------------- items
#
# Every item starts with ``id`` and then its ``type`` tag, as serde writes a struct with a
# flattened internally tagged enum.


@attrs.frozen(kw_only=True, repr=False)
class AgentMessageItem(WireObject):
    """A message the agent wrote."""

    id: str
    type: Literal["agent_message"] = tag("agent_message")
    text: str


@attrs.frozen(kw_only=True, repr=False)
class ReasoningItem(WireObject):
    """Reasoning text (a summary in Codex); ``stage`` comes from VT Code 0.11."""

    id: str
    type: Literal["reasoning"] = tag("reasoning")
    text: str
    stage: str | None = optional()


@attrs.frozen(kw_only=True, repr=False)
class PlanItem(WireObject):
    """A plan the agent wrote (VT Code plan mode, newer Codex)."""

    id: str
    type: Literal["plan"] = tag("plan")
    text: str


@attrs.frozen(kw_only=True, repr=False)
class CommandExecutionItem(WireObject):
    """A shell command and its (aggregated) output."""

    id: str
    type: Literal["command_execution"] = tag("command_execution")
    command: str
    arguments: Any = optional()
    aggregated_output: str = ""
    exit_code: int | None = optional()
    status: CommandExecutionStatus | str


@attrs.frozen(kw_only=True, repr=False)
class FileChangeItem(WireObject):
    """Files the agent changed. No line information: attribution diffs snapshots."""

    id: str
    type: Literal["file_change"] = tag("file_change")
    changes: list[FileUpdateChange]
    status: PatchApplyStatus | str


@attrs.frozen(kw_only=True, repr=False)
class McpToolCallItem(WireObject):
    """An MCP tool call: VT Code form (``tool_name``) or Codex form (``server``/``tool``)."""

    id: str
    type: Literal["mcp_tool_call"] = tag("mcp_tool_call")
    server: str | None = optional()
    tool: str | None = optional()
    tool_name: str | None = optional()
    arguments: Any = optional()
    result: Any = optional()
    error: ErrorDetail | None = optional()
    status: McpToolCallStatus | str | None = optional()

    def __attrs_post_init__(self) -> None:
        if self.tool_name is None and self.tool is None:
            raise WireError("mcp_tool_call needs `tool_name` (VT Code) or `tool` (Codex)", "$.tool")

    @property
    def name(self) -> str:
        """``server.tool`` (Codex) or ``tool_name`` (VT Code)."""
        if self.tool is not None:
            return f"{self.server}.{self.tool}" if self.server else self.tool
        return self.tool_name or ""


@attrs.frozen(kw_only=True, repr=False)
class WebSearchItem(WireObject):
    """A web search (VT Code: ``provider``/``results``; newer Codex: ``action``).

    Newer Codex writes the key ``id`` twice: the item id, then the search's own id after
    ``type``. The second one is ``search_id`` here and is written back as that second
    ``id`` key.
    """

    id: str
    type: Literal["web_search"] = tag("web_search")
    search_id: str | None = optional(wire_name=DUPLICATE_ID)
    query: str
    provider: str | None = optional()
    results: list[str] | None = optional()
    action: Any = optional()

    def __attrs_post_init__(self) -> None:
        if self.search_id is not None:
            note_duplicate_id()


@attrs.frozen(kw_only=True, repr=False)
class TodoListItem(WireObject):
    """A Codex to-do list."""

    id: str
    type: Literal["todo_list"] = tag("todo_list")
    items: list[TodoEntry]


@attrs.frozen(kw_only=True, repr=False)
class ToolInvocationItem(WireObject):
    """A VT Code tool call (its output follows as a ``tool_output`` item)."""

    id: str
    type: Literal["tool_invocation"] = tag("tool_invocation")
    tool_name: str
    arguments: Any = optional()
    tool_call_id: str | None = optional()
    status: ToolCallStatus | str
    outcome: ToolInvocationOutcome | str | None = optional()


@attrs.frozen(kw_only=True, repr=False)
class ToolOutputItem(WireObject):
    """The output of a VT Code tool call; ``call_id`` names the ``tool_invocation`` item."""

    id: str
    type: Literal["tool_output"] = tag("tool_output")
    call_id: str
    tool_call_id: str | None = optional()
    spool_path: str | None = optional()
    output: str = ""
    exit_code: int | None = optional()
    status: ToolCallStatus | str


@attrs.frozen(kw_only=True, repr=False)
class ErrorItem(WireObject):
    """A non-fatal error recorded as an item."""

    id: str
    type: Literal["error"] = tag("error")
    message: str


@attrs.frozen(repr=False)
class UnknownItem:
    """An item type this version does not know, kept verbatim and written back unchanged."""

    data: dict[str, Any]

    @property
    def id(self) -> str:
        return self.data["id"]  # type: ignore[no-any-return]

    @property
    def type(self) -> str:
        return self.data["type"]  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"UnknownItem(type={self.type!r}, id={self.id!r}, data={self.data!r})"


ThreadItem = Union[  # noqa: UP007 - a runtime alias registered with cattrs
    AgentMessageItem,
    ReasoningItem,
    PlanItem,
    CommandExecutionItem,
    FileChangeItem,
    McpToolCallItem,
    WebSearchItem,
    TodoListItem,
    ToolInvocationItem,
    ToolOutputItem,
    ErrorItem,
    UnknownItem,
]
"""Any item: one of the known item classes, or :class:`UnknownItem`."""


# --------------------------------------------------------------------------- events


@attrs.frozen(kw_only=True, repr=False)
class ThreadStartedEvent(WireObject):
    """A thread (an agent run / conversation) started."""

    type: Literal["thread.started"] = tag("thread.started")
    thread_id: str


@attrs.frozen(kw_only=True, repr=False)
class ThreadCompletedEvent(WireObject):
    """A thread ended (VT Code 0.11)."""

    type: Literal["thread.completed"] = tag("thread.completed")
    thread_id: str
    session_id: str
    subtype: ThreadCompletionSubtype | str
    outcome_code: str
    result: str | None = optional()
    stop_reason: str | None = optional()
    usage: Usage
    total_cost_usd: float | None = optional()
    num_turns: int


@attrs.frozen(kw_only=True, repr=False)
class TurnStartedEvent(WireObject):
    """A turn started; VT Code 0.11 may attach a ``token_breakdown`` object."""

    type: Literal["turn.started"] = tag("turn.started")
    token_breakdown: dict[str, Any] | None = optional()


@attrs.frozen(kw_only=True, repr=False)
class TurnCompletedEvent(WireObject):
    """A turn completed, with its token usage."""

    type: Literal["turn.completed"] = tag("turn.completed")
    usage: Usage


@attrs.frozen(kw_only=True, repr=False)
class TurnFailedEvent(WireObject):
    """A turn failed: VT Code writes ``message`` (and ``usage``), Codex ``error.message``."""

    type: Literal["turn.failed"] = tag("turn.failed")
    message: str | None = optional()
    usage: Usage | None = optional()
    error: ErrorDetail | None = optional()

    def __attrs_post_init__(self) -> None:
        if self.message is None and self.error is None:
            raise WireError(
                "turn.failed needs `message` (VT Code) or `error.message` (Codex)", "$.message"
            )

    @property
    def error_message(self) -> str:
        """The failure message, whichever form carried it."""
        if self.message is not None:
            return self.message
        return self.error.message if self.error is not None else ""


@attrs.frozen(kw_only=True, repr=False)
class ItemStartedEvent(WireObject):
    """An item started (a command began, a tool was called, ...)."""

    type: Literal["item.started"] = tag("item.started")
    item: ThreadItem


@attrs.frozen(kw_only=True, repr=False)
class ItemUpdatedEvent(WireObject):
    """An item changed while in progress (VT Code streams message snapshots this way)."""

    type: Literal["item.updated"] = tag("item.updated")
    item: ThreadItem


@attrs.frozen(kw_only=True, repr=False)
class ItemCompletedEvent(WireObject):
    """An item reached its final state."""

    type: Literal["item.completed"] = tag("item.completed")
    item: ThreadItem


@attrs.frozen(kw_only=True, repr=False)
class ThreadErrorEvent(WireObject):
    """A fatal error of the thread (wire tag ``error``)."""

    type: Literal["error"] = tag("error")
    message: str


@attrs.frozen(repr=False)
class UnknownEvent:
    """An event type this version does not know, kept verbatim and written back unchanged."""

    data: dict[str, Any]

    @property
    def type(self) -> str:
        return self.data["type"]  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"UnknownEvent(type={self.type!r}, data={self.data!r})"


ThreadEvent = Union[  # noqa: UP007 - a runtime alias registered with cattrs
    ThreadStartedEvent,
    ThreadCompletedEvent,
    TurnStartedEvent,
    TurnCompletedEvent,
    TurnFailedEvent,
    ItemStartedEvent,
    ItemUpdatedEvent,
    ItemCompletedEvent,
    ThreadErrorEvent,
    UnknownEvent,
]
"""Any event: one of the known event classes, or :class:`UnknownEvent`."""

ITEM_CLASSES: tuple[type[Any], ...] = ThreadItem.__args__[:-1]  # type: ignore[attr-defined]
EVENT_CLASSES: tuple[type[Any], ...] = ThreadEvent.__args__[:-1]  # type: ignore[attr-defined]
