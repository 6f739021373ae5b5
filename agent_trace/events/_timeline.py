"""A readable timeline of an event log, in the spirit of meerkat's verbose formatter.

Pure functions: :func:`timeline` turns :class:`~agent_trace.events.LogEntry` objects into
:class:`TimelineLine` objects made of styled :class:`Segment` s. Nothing here prints or
knows about terminals; the caller maps each :data:`Style` to colours (or ignores them).

Previews are cut by UTF-8 **bytes** at a character boundary (see :func:`truncate_bytes`),
so a budget holds for any script, and newlines are collapsed so one item stays one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import attrs

from ._envelope import parse_timestamp
from ._jsonl import LogEntry
from ._vocabulary import (
    AgentMessageItem,
    CommandExecutionItem,
    ErrorItem,
    FileChangeItem,
    ItemCompletedEvent,
    ItemStartedEvent,
    ItemUpdatedEvent,
    McpToolCallItem,
    PlanItem,
    ReasoningItem,
    ThreadCompletedEvent,
    ThreadErrorEvent,
    ThreadItem,
    ThreadStartedEvent,
    TodoListItem,
    ToolInvocationItem,
    ToolOutputItem,
    TurnCompletedEvent,
    TurnFailedEvent,
    TurnStartedEvent,
    UnknownEvent,
    UnknownItem,
    Usage,
    WebSearchItem,
)
from ._wire import dumps

__all__ = [
    "ELLIPSIS",
    "Segment",
    "Style",
    "TimelineConfig",
    "TimelineLine",
    "collapse_whitespace",
    "format_duration",
    "format_usage",
    "timeline",
    "truncate_bytes",
]

ELLIPSIS = "…"
_ELLIPSIS_BYTES = len(ELLIPSIS.encode())

Style = Literal[
    "header",
    "turn",
    "message",
    "reasoning",
    "plan",
    "command",
    "tool",
    "ok",
    "fail",
    "warn",
    "dim",
    "usage",
    "unknown",
]
"""What a piece of text is; the CLI maps styles to colours."""


@attrs.frozen
class Segment:
    """A piece of a line with an optional style."""

    text: str
    style: Style | None = None


@attrs.frozen
class TimelineLine:
    """One line of the timeline: segments to concatenate, no trailing newline."""

    segments: tuple[Segment, ...]
    line: int | None = None
    """The log line the timeline line comes from (``None`` for summary lines)."""

    @property
    def text(self) -> str:
        """The plain text of the line, without styles."""
        return "".join(s.text for s in self.segments)


@attrs.frozen
class TimelineConfig:
    """Budgets (in UTF-8 bytes) of the previews, and whether to show everything.

    The defaults are meerkat's ``VerboseEventConfig``.
    """

    max_args_bytes: int = 100
    max_result_bytes: int = 200
    max_text_bytes: int = 500
    verbose: bool = False
    """Also show ``item.updated`` snapshots, ``item.started`` of messages and time offsets."""

    @classmethod
    def with_width(cls, width: int | None, *, verbose: bool = False) -> TimelineConfig:
        """One budget for every preview (``None``: the defaults)."""
        if width is None:
            return cls(verbose=verbose)
        return cls(width, width, width, verbose=verbose)


# --------------------------------------------------------------------------- text helpers

_WHITESPACE = re.compile(r"\s+")
# C0 and C1 controls and DEL (escape sequences in tool output must not reach a terminal).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def collapse_whitespace(text: str) -> str:
    """One line: runs of whitespace (newlines included) become one space; control
    characters are shown escaped (``\\x1b``) instead of reaching the terminal."""
    text = _WHITESPACE.sub(" ", text).strip()
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def truncate_bytes(text: str, max_bytes: int, *, ellipsis: str = ELLIPSIS) -> str:
    """``text`` on one line, at most ``max_bytes`` UTF-8 bytes long.

    Longer text is cut at a character boundary and ends with ``ellipsis``; the cut text
    plus the ellipsis fits the budget (a budget too small for the ellipsis gives the
    longest prefix that fits, possibly empty). Lone surrogates become ``?``, so the
    result always encodes as UTF-8.
    """
    flat = collapse_whitespace(text)
    data = flat.encode("utf-8", "replace")
    if len(data) <= max_bytes:
        return data.decode("utf-8")
    mark = ellipsis.encode()
    keep = max_bytes - len(mark)
    if keep < 0:
        keep, mark = max(max_bytes, 0), b""
    # Decoding a prefix with errors="ignore" drops only the character cut in half at its end.
    cut = data[:keep].decode("utf-8", "ignore").rstrip()
    return cut + mark.decode()


def _preview(value: Any, max_bytes: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        try:
            value = dumps(value).decode()
        except (TypeError, ValueError):
            value = repr(value)
    return truncate_bytes(value, max_bytes)


def _last_line(text: str) -> str:
    """The last non-blank line: where a failed command usually says what went wrong."""
    for line in reversed(text.splitlines()):
        if line.strip():
            return line
    return ""


def format_duration(ns: int) -> str:
    """``850ms``, ``1.2s``, ``2m03s`` or ``1h02m``."""
    ms = ns // 1_000_000
    if ms < 1000:
        return f"{max(ms, 0)}ms"
    seconds = ns / 1e9
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_usage(usage: Usage) -> str:
    """``24,763 in / 24,448 cached / 122 out tokens`` (plus reasoning when known)."""
    text = (
        f"{usage.input_tokens:,} in / {usage.cached_input_tokens:,} cached / "
        f"{usage.output_tokens:,} out"
    )
    if usage.reasoning_output_tokens:
        text += f" / {usage.reasoning_output_tokens:,} reasoning"
    return text + " tokens"


# --------------------------------------------------------------------------- the timeline


def _line(line: int | None, *parts: tuple[str, Style | None] | str) -> TimelineLine:
    segments = tuple(Segment(p) if isinstance(p, str) else Segment(*p) for p in parts)
    return TimelineLine(segments, line)


def _status_mark(ok: bool) -> tuple[str, Style]:
    return ("✓", "ok") if ok else ("✗", "fail")


class _Timeline:
    """State carried from event to event: turn numbers and start times."""

    def __init__(self, config: TimelineConfig) -> None:
        self.config = config
        self.turn = 0
        self.turn_started: int | None = None
        self.first_ts: int | None = None
        self.started: dict[str, int | None] = {}  # item id -> ts of item.started
        self.shown: set[str] = set()  # item ids whose start line was shown
        # tool_invocation id -> (tool name, ts of its item.started), until its tool_output
        self.calls: dict[str, tuple[str, int | None]] = {}
        self.ts: int | None = None  # ts of the current entry, if any
        self.lineno = 0

    # -- helpers

    def elapsed(self, item_id: str) -> str:
        start = self.started.get(item_id)
        if start is None or self.ts is None:
            return ""
        return format_duration(self.ts - start)

    def line(self, *parts: tuple[str, Style | None] | str) -> TimelineLine:
        if self.config.verbose and self.ts is not None and self.first_ts is not None:
            minutes, seconds = divmod(max(self.ts - self.first_ts, 0) / 1e9, 60)
            offset = f"{int(minutes):02d}:{seconds:04.1f} "
            parts = ((offset, "dim"), *parts)
        return _line(self.lineno, *parts)

    # -- events

    def entry(self, entry: LogEntry) -> Iterator[TimelineLine]:
        self.lineno = entry.line
        envelope = entry.envelope
        self.ts = None
        if envelope is not None:
            try:
                self.ts = parse_timestamp(envelope.ts)
            except ValueError:
                self.ts = None
            if self.first_ts is None:
                self.first_ts = self.ts
        event = entry.event
        if isinstance(event, ThreadStartedEvent):
            yield from self.thread_started(event, entry)
        elif isinstance(event, TurnStartedEvent):
            self.turn += 1
            self.turn_started = self.ts
            yield _line(None, "")
            yield _line(entry.line, (f"━━━ Turn {self.turn} ━━━", "turn"))
        elif isinstance(event, TurnCompletedEvent):
            took = ""
            if self.turn_started is not None and self.ts is not None:
                took = f" in {format_duration(self.ts - self.turn_started)}"
            yield self.line(
                ("  ── Turn complete", "usage"),
                (f"{took} · ", "dim"),
                (format_usage(event.usage), "usage"),
            )
        elif isinstance(event, TurnFailedEvent):
            msg = truncate_bytes(event.error_message, self.config.max_text_bytes)
            yield self.line(("  ✗ Turn failed: ", "fail"), msg)
        elif isinstance(event, ThreadErrorEvent):
            msg = truncate_bytes(event.message, self.config.max_text_bytes)
            yield self.line(("  ✗ Error: ", "fail"), msg)
        elif isinstance(event, ThreadCompletedEvent):
            yield from self.thread_completed(event)
        elif isinstance(event, ItemStartedEvent):
            yield from self.item_started(event.item)
        elif isinstance(event, ItemUpdatedEvent):
            if self.config.verbose:
                yield from self.item_snapshot(event.item, "updated")
        elif isinstance(event, ItemCompletedEvent):
            yield from self.item_completed(event.item)
        elif isinstance(event, UnknownEvent):
            yield self.line(("  ? ", "unknown"), (event.type, "unknown"))

    def thread_started(self, event: ThreadStartedEvent, entry: LogEntry) -> Iterator[TimelineLine]:
        parts: list[tuple[str, Style | None] | str] = [
            ("● Thread ", "header"),
            (event.thread_id, "header"),
        ]
        envelope = entry.envelope
        if envelope is not None:
            if envelope.run_id != event.thread_id:
                parts.append((f"  run {envelope.run_id}", "dim"))
            parts.append((f"  {envelope.ts}", "dim"))
        yield _line(entry.line, *parts)

    def thread_completed(self, event: ThreadCompletedEvent) -> Iterator[TimelineLine]:
        ok = str(event.subtype) == "success"
        mark = _status_mark(ok)
        text = f" Thread {event.subtype}"
        if event.outcome_code and event.outcome_code != str(event.subtype):
            text += f" ({event.outcome_code})"
        details = f" · {event.num_turns} turns · {format_usage(event.usage)}"
        if event.total_cost_usd is not None:
            details += f" · ${event.total_cost_usd:.4f}"
        yield _line(None, "")
        yield self.line(mark, (text, "header"), (details, "dim"))
        if event.result:
            yield self.line("  ", truncate_bytes(event.result, self.config.max_text_bytes))

    # -- items

    def item_started(self, item: ThreadItem) -> Iterator[TimelineLine]:
        item_id = item.id
        self.started[item_id] = self.ts
        if isinstance(item, CommandExecutionItem):
            self.shown.add(item_id)
            yield self.command_line(item)
        elif isinstance(item, ToolInvocationItem):
            self.calls[item_id] = (item.tool_name, self.ts)
            self.shown.add(item_id)
            yield self.call_line(item.tool_name, item.arguments)
        elif isinstance(item, McpToolCallItem):
            self.shown.add(item_id)
            yield self.call_line(item.name, item.arguments, mcp=True)
        elif self.config.verbose:
            yield from self.item_snapshot(item, "started")

    def item_snapshot(self, item: ThreadItem, what: str) -> Iterator[TimelineLine]:
        """A started/updated snapshot, shown dimmed in verbose mode."""
        text = getattr(item, "text", None)
        preview = truncate_bytes(text, self.config.max_args_bytes) if text else ""
        yield self.line((f"  ⋯ {what} {item.type} ", "dim"), (preview, "dim"))

    def command_line(self, item: CommandExecutionItem) -> TimelineLine:
        return self.line(
            ("  $ ", "command"),
            (truncate_bytes(item.command, self.config.max_text_bytes), "command"),
        )

    def call_line(self, name: str, arguments: Any, *, mcp: bool = False) -> TimelineLine:
        args = _preview(arguments, self.config.max_args_bytes)
        label = f"mcp {name}" if mcp else name
        return self.line(("  → ", "tool"), (label, "tool"), (f" {args}" if args else "", "dim"))

    def result_line(
        self, ok: bool, name: str, item_id: str, output: str, extra: str = "", indent: str = "  "
    ) -> TimelineLine:
        took = self.elapsed(item_id)
        detail = ", ".join(x for x in (extra, took) if x)
        head = f" {name}" + (f" ({detail})" if detail else "")
        preview = truncate_bytes(output, self.config.max_result_bytes) if output else ""
        return self.line(
            indent,
            _status_mark(ok),
            (head, "ok" if ok else "fail"),
            (f": {preview}" if preview else "", "dim"),
        )

    def item_completed(self, item: ThreadItem) -> Iterator[TimelineLine]:
        item_id = item.id
        cfg = self.config
        if isinstance(item, AgentMessageItem):
            if item.text:
                yield self.line(
                    ("  💬 ", "message"), (truncate_bytes(item.text, cfg.max_text_bytes), "message")
                )
        elif isinstance(item, ReasoningItem):
            if item.text:
                yield self.line(
                    ("  💭 ", "reasoning"),
                    (truncate_bytes(item.text, cfg.max_text_bytes), "reasoning"),
                )
        elif isinstance(item, PlanItem):
            yield self.line(("  📋 Plan: ", "plan"), truncate_bytes(item.text, cfg.max_text_bytes))
        elif isinstance(item, CommandExecutionItem):
            yield from self.command_completed(item)
        elif isinstance(item, ToolInvocationItem):
            self.calls[item_id] = (item.tool_name, self.started.get(item_id))
            if item_id not in self.shown:
                yield self.call_line(item.tool_name, item.arguments)
            outcome = str(item.outcome) if item.outcome is not None else ""
            if outcome and outcome not in ("success", "error"):
                # Refused before running: no tool_output follows.
                yield self.line(
                    "  ", _status_mark(False), (f" {item.tool_name}: {outcome}", "fail")
                )
        elif isinstance(item, ToolOutputItem):
            name, started = self.calls.pop(item.call_id, (item.call_id, None))
            if self.started.get(item_id) is None:
                self.started[item_id] = started
            extra = f"exit {item.exit_code}" if item.exit_code not in (None, 0) else ""
            yield self.result_line(str(item.status) != "failed", name, item_id, item.output, extra)
        elif isinstance(item, McpToolCallItem):
            if item_id not in self.shown:
                yield self.call_line(item.name, item.arguments, mcp=True)
            failed = str(item.status) == "failed" or item.error is not None
            output = item.error.message if item.error is not None else _preview(item.result, 10**6)
            yield self.result_line(not failed, item.name, item_id, output)
        elif isinstance(item, WebSearchItem):
            yield self.line(
                ("  🔎 ", "tool"), (truncate_bytes(item.query, cfg.max_args_bytes), "tool")
            )
        elif isinstance(item, FileChangeItem):
            yield from self.file_change(item)
        elif isinstance(item, TodoListItem):
            done = sum(1 for e in item.items if e.completed)
            yield self.line(("  📋 To-do ", "plan"), (f"({done}/{len(item.items)} done)", "dim"))
            for entry in item.items:
                mark: tuple[str, Style] = ("☑ ", "ok") if entry.completed else ("☐ ", "dim")
                yield self.line("     ", mark, truncate_bytes(entry.text, cfg.max_args_bytes))
        elif isinstance(item, ErrorItem):
            yield self.line(("  ⚠ ", "warn"), truncate_bytes(item.message, cfg.max_text_bytes))
        elif isinstance(item, UnknownItem):
            yield self.line(("  ? ", "unknown"), (f"item {item.type}", "unknown"))
        self.started.pop(item_id, None)
        self.shown.discard(item_id)

    def command_completed(self, item: CommandExecutionItem) -> Iterator[TimelineLine]:
        if item.id not in self.shown:
            yield self.command_line(item)
        status = str(item.status)
        if status == "declined":
            yield self.line("    ", ("⊘ declined", "warn"))
            return
        ok = status == "completed" and item.exit_code in (None, 0)
        label = f"exit {item.exit_code}" if item.exit_code is not None else status
        output = item.aggregated_output if ok else _last_line(item.aggregated_output)
        yield self.result_line(ok, label, item.id, output, indent="    ")

    def file_change(self, item: FileChangeItem) -> Iterator[TimelineLine]:
        ok = str(item.status) != "failed"
        style: Style = "tool" if ok else "fail"
        marks = {"add": "A", "delete": "D", "update": "M"}
        head = "  ✎ " if ok else "  ✗ "
        details = [str(item.status)] if not ok else []
        details += [took] if (took := self.elapsed(item.id)) else []
        suffix = f" ({', '.join(details)})" if details else ""
        if len(item.changes) == 1:
            change = item.changes[0]
            yield self.line(
                (head, style),
                (f"{marks.get(str(change.kind), '?')} ", style),
                change.path,
                (suffix, "dim"),
            )
            return
        yield self.line((head, style), (f"{len(item.changes)} files", style), (suffix, "dim"))
        for change in item.changes:
            yield self.line("      ", (f"{marks.get(str(change.kind), '?')} ", style), change.path)


def timeline(
    entries: Iterable[LogEntry], config: TimelineConfig | None = None
) -> Iterator[TimelineLine]:
    """The timeline lines for a stream of log entries (lazily, in log order).

    Commands and tool calls get a start line (``$ cmd``, ``→ tool args``) and a result
    line (``✓``/``✗`` with exit code, and the duration when envelope timestamps exist for
    ``item.started`` → ``item.completed``). ``item.updated`` snapshots are skipped unless
    ``config.verbose``.
    """
    state = _Timeline(config or TimelineConfig())
    for entry in entries:
        yield from state.entry(entry)
