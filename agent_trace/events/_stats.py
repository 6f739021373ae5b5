"""Aggregate figures of an event log: turns, items, commands, tool calls, failures, tokens.

This is VT Code's planned ``examples/ingest_log.rs`` (aggregate command success metrics
from a JSONL log) done properly. :func:`compute_stats` streams: memory grows with the
number of distinct names (threads, types, tools), not with the log.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from typing import Any

import attrs

from ._envelope import parse_timestamp
from ._jsonl import EventReader, LogEntry, LogIssue
from ._vocabulary import (
    CommandExecutionItem,
    ErrorItem,
    FileChangeItem,
    ItemCompletedEvent,
    McpToolCallItem,
    ThreadCompletedEvent,
    ThreadErrorEvent,
    ThreadStartedEvent,
    ToolInvocationItem,
    ToolOutputItem,
    TurnCompletedEvent,
    TurnFailedEvent,
    TurnStartedEvent,
    UnknownEvent,
    UnknownItem,
    Usage,
)

__all__ = ["Failure", "LogStats", "TokenUsage", "ToolStats", "compute_stats"]

MAX_FAILURES_KEPT = 50
"""How many failures :class:`LogStats` keeps with their messages (all are counted)."""


@attrs.define
class TokenUsage:
    """Token counts added up over ``turn.completed`` events."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    cache_creation_tokens: int = 0

    def add(self, usage: Usage) -> None:
        """Add one event's usage (absent optional counts add nothing)."""
        self.input_tokens += usage.input_tokens
        self.cached_input_tokens += usage.cached_input_tokens
        self.output_tokens += usage.output_tokens
        self.reasoning_output_tokens += usage.reasoning_output_tokens or 0
        self.cache_creation_tokens += usage.cache_creation_tokens or 0

    @classmethod
    def of(cls, usage: Usage) -> TokenUsage:
        """A copy of one event's usage."""
        total = cls()
        total.add(usage)
        return total

    def to_dict(self) -> dict[str, int]:
        """``{"input_tokens": ..., ...}`` in a fixed key order."""
        return attrs.asdict(self)


@attrs.define
class ToolStats:
    """Calls of one tool (counted on ``item.completed``)."""

    calls: int = 0
    failed: int = 0

    def to_dict(self) -> dict[str, int]:
        """``{"calls": ..., "failed": ...}``."""
        return {"calls": self.calls, "failed": self.failed}


@attrs.frozen
class Failure:
    """Something that went wrong in the run (not a malformed line: see ``issues``)."""

    line: int
    kind: str
    """``turn.failed``, ``error`` (the thread error event), ``error_item`` or
    ``failed:<item type>`` for an item that completed with status ``failed``."""
    message: str

    def to_dict(self) -> dict[str, Any]:
        """``{"line", "kind", "message"}``."""
        return {"line": self.line, "kind": self.kind, "message": self.message}


@attrs.define
class LogStats:
    """What a log holds, in figures. :meth:`to_dict` gives a stable JSON shape.

    ``usage`` sums ``usage`` over every ``turn.completed``. That is right for VT Code and
    older Codex, whose ``turn.completed.usage`` is the usage *of that turn*; newer Codex
    versions report the *cumulative* usage of the thread so far in each
    ``turn.completed``, for which the sum over-counts and ``last_usage`` (the usage of
    the last ``turn.completed``) is the thread total.
    """

    source: str | None = None
    lines: int = 0
    events: int = 0
    malformed: int = 0
    truncated: bool = False
    issues: list[LogIssue] = attrs.Factory(list)
    forms: Counter[str] = attrs.Factory(Counter)
    thread_ids: list[str] = attrs.Factory(list)
    events_by_type: Counter[str] = attrs.Factory(Counter)
    turns_started: int = 0
    turns_completed: int = 0
    turns_failed: int = 0
    items_by_type: Counter[str] = attrs.Factory(Counter)
    """Items by type, counted on ``item.completed``."""
    commands_succeeded: int = 0
    commands_failed: int = 0
    commands_declined: int = 0
    tool_invocations: int = 0
    """``tool_invocation`` items completed (VT Code tools)."""
    mcp_tool_calls: int = 0
    """``mcp_tool_call`` items completed."""
    tools: dict[str, ToolStats] = attrs.Factory(dict)
    """Tool calls by name: ``tool_invocation`` and ``mcp_tool_call`` (``server.tool``)."""
    failure_count: int = 0
    failures_by_kind: Counter[str] = attrs.Factory(Counter)
    failures: list[Failure] = attrs.Factory(list)
    """The first :data:`MAX_FAILURES_KEPT` failures."""
    usage: TokenUsage = attrs.Factory(TokenUsage)
    last_usage: TokenUsage | None = None
    thread_usage: TokenUsage | None = None
    """The usage of the last ``thread.completed`` (VT Code 0.11), if any."""
    unknown_event_types: Counter[str] = attrs.Factory(Counter)
    unknown_item_types: Counter[str] = attrs.Factory(Counter)
    first_ts: str | None = None
    last_ts: str | None = None

    @property
    def commands_run(self) -> int:
        """Commands that ran to an end (succeeded or failed; declined ones did not run)."""
        return self.commands_succeeded + self.commands_failed

    @property
    def command_success_rate(self) -> float | None:
        """Succeeded / run, or ``None`` when no command ran."""
        run = self.commands_run
        return self.commands_succeeded / run if run else None

    @property
    def tool_calls(self) -> int:
        """All tool calls: ``tool_invocation`` plus ``mcp_tool_call``."""
        return self.tool_invocations + self.mcp_tool_calls

    @property
    def duration_ms(self) -> int | None:
        """Milliseconds from the first to the last envelope timestamp, if known."""
        if self.first_ts is None or self.last_ts is None:
            return None
        try:
            return (parse_timestamp(self.last_ts) - parse_timestamp(self.first_ts)) // 1_000_000
        except ValueError:
            return None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; keys and nesting are stable across versions (new keys may
        be added, existing ones keep their meaning). Mappings are sorted by count, then
        name."""
        rate = self.command_success_rate
        return {
            "source": self.source,
            "lines": self.lines,
            "events": self.events,
            "malformed": self.malformed,
            "truncated": self.truncated,
            "issues": [
                {"line": i.line, "path": i.path, "message": i.message, "kind": i.kind}
                for i in self.issues
            ],
            "forms": _sorted(self.forms),
            "threads": list(self.thread_ids),
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
            "duration_ms": self.duration_ms,
            "events_by_type": _sorted(self.events_by_type),
            "turns": {
                "started": self.turns_started,
                "completed": self.turns_completed,
                "failed": self.turns_failed,
            },
            "items_by_type": _sorted(self.items_by_type),
            "commands": {
                "run": self.commands_run,
                "succeeded": self.commands_succeeded,
                "failed": self.commands_failed,
                "declined": self.commands_declined,
                "success_rate": None if rate is None else round(rate, 4),
            },
            "tool_calls": {
                "total": self.tool_calls,
                "tool_invocations": self.tool_invocations,
                "mcp_tool_calls": self.mcp_tool_calls,
                "by_name": {
                    name: stats.to_dict()
                    for name, stats in sorted(
                        self.tools.items(), key=lambda kv: (-kv[1].calls, kv[0])
                    )
                },
            },
            "failures": {
                "total": self.failure_count,
                "by_kind": _sorted(self.failures_by_kind),
                "first": [f.to_dict() for f in self.failures],
            },
            "usage": {
                "turns_summed": self.turns_completed,
                "sum": self.usage.to_dict(),
                "last_turn": None if self.last_usage is None else self.last_usage.to_dict(),
                "thread_completed": (
                    None if self.thread_usage is None else self.thread_usage.to_dict()
                ),
            },
            "unknown": {
                "event_types": _sorted(self.unknown_event_types),
                "item_types": _sorted(self.unknown_item_types),
            },
        }

    # -- accumulation

    _failed_calls: dict[str, int] = attrs.field(factory=dict, init=False, repr=False, eq=False)
    """Failed ``tool_invocation`` ids -> index in ``failures`` (-1: not kept)."""

    def _fail(self, line: int, kind: str, message: str) -> int:
        self.failure_count += 1
        self.failures_by_kind[kind] += 1
        if len(self.failures) < MAX_FAILURES_KEPT:
            self.failures.append(Failure(line, kind, message))
            return len(self.failures) - 1
        return -1

    def add(self, entry: LogEntry) -> None:
        """Count one log entry."""
        self.events += 1
        self.lines = max(self.lines, entry.line)
        self.forms[entry.form.value] += 1
        envelope = entry.envelope
        if envelope is not None:
            if self.first_ts is None:
                self.first_ts = envelope.ts
            self.last_ts = envelope.ts
        event = entry.event
        self.events_by_type[event.type] += 1
        if isinstance(event, ThreadStartedEvent):
            if event.thread_id not in self.thread_ids:
                self.thread_ids.append(event.thread_id)
        elif isinstance(event, TurnStartedEvent):
            self.turns_started += 1
        elif isinstance(event, TurnCompletedEvent):
            self.turns_completed += 1
            self.usage.add(event.usage)
            self.last_usage = TokenUsage.of(event.usage)
        elif isinstance(event, TurnFailedEvent):
            self.turns_failed += 1
            self._fail(entry.line, "turn.failed", event.error_message)
        elif isinstance(event, ThreadErrorEvent):
            self._fail(entry.line, "error", event.message)
        elif isinstance(event, ThreadCompletedEvent):
            if event.thread_id not in self.thread_ids:
                self.thread_ids.append(event.thread_id)
            self.thread_usage = TokenUsage.of(event.usage)
        elif isinstance(event, UnknownEvent):
            self.unknown_event_types[event.type] += 1
        elif isinstance(event, ItemCompletedEvent):
            self._item(entry.line, event.item)

    def _item(self, line: int, item: Any) -> None:
        self.items_by_type[item.type] += 1
        if isinstance(item, UnknownItem):
            self.unknown_item_types[item.type] += 1
            return
        if isinstance(item, ErrorItem):
            self._fail(line, "error_item", item.message)
            return
        status = str(getattr(item, "status", "") or "")
        failed = status == "failed"
        if isinstance(item, CommandExecutionItem):
            if status == "declined":
                self.commands_declined += 1
            elif status == "completed" and item.exit_code in (None, 0):
                self.commands_succeeded += 1
            elif status in ("completed", "failed"):
                self.commands_failed += 1
                failed = True
            message = f"{item.command} (exit {item.exit_code})"
        elif isinstance(item, ToolInvocationItem | McpToolCallItem):
            name = item.tool_name if isinstance(item, ToolInvocationItem) else item.name
            if isinstance(item, ToolInvocationItem):
                self.tool_invocations += 1
            else:
                self.mcp_tool_calls += 1
                failed = failed or item.error is not None
            tool = self.tools.setdefault(name, ToolStats())
            tool.calls += 1
            tool.failed += failed
            message = name
            if isinstance(item, McpToolCallItem) and item.error is not None:
                message = f"{name}: {item.error.message}"
        elif isinstance(item, ToolOutputItem):
            message = item.output.strip().split("\n", 1)[0][:200]
            index = self._failed_calls.pop(item.call_id, None)
            if index is not None:
                # The failed call is already counted: its output only explains it.
                if failed and index >= 0:
                    kept = self.failures[index]
                    self.failures[index] = attrs.evolve(kept, message=f"{kept.message}: {message}")
                return
        elif isinstance(item, FileChangeItem):
            message = ", ".join(c.path for c in item.changes)
        else:
            message = item.type
        if failed:
            index = self._fail(line, f"failed:{item.type}", message)
            if isinstance(item, ToolInvocationItem):
                self._failed_calls[item.id] = index


def _sorted(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def compute_stats(
    source: EventReader | Iterable[LogEntry] | str | os.PathLike[str],
) -> LogStats:
    """Figures for a log: a path (read leniently), an :class:`EventReader` (its
    ``strict`` setting applies; its malformed-line counts are reported) or any
    iterable of :class:`LogEntry`.
    """
    if isinstance(source, str | os.PathLike):
        source = EventReader(source, strict=False)
    stats = LogStats()
    for entry in source:
        stats.add(entry)
    if isinstance(source, EventReader):
        stats.source = source.name
        stats.lines = source.lines
        stats.malformed = source.malformed
        stats.truncated = source.truncated
        stats.issues = list(source.issues)
    return stats
