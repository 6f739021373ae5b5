"""The thread-event vocabulary: models, JSON, JSONL logs and emitters.

Wire-compatible with VT Code's ``vtcode-exec-events`` and Codex ``exec --json``; reads
and writes both losslessly. Claude Code, meerkat and omne logs are translated by
:class:`AdapterReader`. Needs only attrs, cattrs and orjson.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._adapters import FORMATS as ADAPTER_FORMATS
    from ._adapters import AdapterReader, Translated, detect_format
    from ._codec import (
        EventDecodeError,
        LogRecord,
        from_dict,
        from_json,
        parse_record,
        record_to_bytes,
        to_dict,
        to_json,
    )
    from ._emitters import EventEmitter, FanoutEmitter, JsonlEmitter, LoggingEmitter
    from ._envelope import (
        EVENT_SCHEMA_VERSION,
        EventEnvelope,
        VersionedThreadEvent,
        WireForm,
        compare_envelopes,
        envelope_sort_key,
        new_event_id,
        parse_timestamp,
        utc_timestamp,
    )
    from ._json import DUPLICATE_ID
    from ._jsonl import (
        DEFAULT_MAX_LINE_BYTES,
        EventReader,
        JsonlWriter,
        LogEntry,
        LogIssue,
        iter_events,
    )
    from ._limits import Limits
    from ._privacy import Capture, PrivacyPolicy, cut_to_tail
    from ._redact import Finding, Redactor, SecretPattern, safe_url
    from ._schema import ValidationReport, event_json_schema, validate_log
    from ._vocabulary import (
        AgentMessageItem,
        CommandExecutionItem,
        CommandExecutionStatus,
        ErrorDetail,
        ErrorItem,
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
        WebSearchItem,
    )

__all__ = [
    "ADAPTER_FORMATS",
    "AdapterReader",
    "Translated",
    "detect_format",
    "DUPLICATE_ID",
    "DEFAULT_MAX_LINE_BYTES",
    "EVENT_SCHEMA_VERSION",
    "AgentMessageItem",
    "Capture",
    "CommandExecutionItem",
    "CommandExecutionStatus",
    "ErrorDetail",
    "ErrorItem",
    "EventDecodeError",
    "EventEmitter",
    "EventEnvelope",
    "EventReader",
    "FanoutEmitter",
    "FileChangeItem",
    "FileUpdateChange",
    "Finding",
    "ItemCompletedEvent",
    "ItemStartedEvent",
    "ItemUpdatedEvent",
    "JsonlEmitter",
    "JsonlWriter",
    "Limits",
    "LogEntry",
    "LogIssue",
    "LogRecord",
    "LoggingEmitter",
    "McpToolCallItem",
    "McpToolCallStatus",
    "PatchApplyStatus",
    "PatchChangeKind",
    "PlanItem",
    "PrivacyPolicy",
    "ReasoningItem",
    "Redactor",
    "SecretPattern",
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
    "ValidationReport",
    "UnknownItem",
    "Usage",
    "VersionedThreadEvent",
    "WebSearchItem",
    "WireForm",
    "compare_envelopes",
    "cut_to_tail",
    "event_json_schema",
    "safe_url",
    "envelope_sort_key",
    "from_dict",
    "from_json",
    "iter_events",
    "new_event_id",
    "parse_record",
    "parse_timestamp",
    "record_to_bytes",
    "to_dict",
    "to_json",
    "utc_timestamp",
    "validate_log",
]

# Submodules load on first use (``from agent_trace.events import JsonlWriter`` loads the
# writer and the vocabulary, not the adapters), so modules that need one helper stay cheap.
_HOME = {
    "_clock": (
        "new_event_id",
        "utc_timestamp",
    ),
    "_adapters": (
        "AdapterReader",
        "Translated",
        "detect_format",
    ),
    "_codec": (
        "EventDecodeError",
        "LogRecord",
        "from_dict",
        "from_json",
        "parse_record",
        "record_to_bytes",
        "to_dict",
        "to_json",
    ),
    "_emitters": (
        "EventEmitter",
        "FanoutEmitter",
        "JsonlEmitter",
        "LoggingEmitter",
    ),
    "_envelope": (
        "EVENT_SCHEMA_VERSION",
        "EventEnvelope",
        "VersionedThreadEvent",
        "WireForm",
        "compare_envelopes",
        "envelope_sort_key",
        "parse_timestamp",
    ),
    "_jsonl": (
        "DEFAULT_MAX_LINE_BYTES",
        "EventReader",
        "JsonlWriter",
        "LogEntry",
        "LogIssue",
        "iter_events",
    ),
    "_limits": ("Limits",),
    "_privacy": ("Capture", "PrivacyPolicy", "cut_to_tail"),
    "_redact": ("Finding", "Redactor", "SecretPattern", "safe_url"),
    "_schema": (
        "ValidationReport",
        "event_json_schema",
        "validate_log",
    ),
    "_vocabulary": (
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
    ),
    "_json": ("DUPLICATE_ID",),
}
_RENAMED = {"ADAPTER_FORMATS": ("_adapters", "FORMATS")}
_SOURCE = {name: (module, name) for module, names in _HOME.items() for name in names}
_SOURCE.update(_RENAMED)


def __getattr__(name: str) -> Any:
    source = _SOURCE.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{source[0]}"), source[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
