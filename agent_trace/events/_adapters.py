"""Adapters: other agents' logs read as thread events.

Codex ``exec --json`` and VT Code logs already are thread events (bare, versioned or in our
envelopes). Claude Code (``--output-format stream-json``, session transcripts and hook
payloads), meerkat (``AgentEvent`` / ``EventEnvelope``) and omne (pipe events) are
translated line by line. What has no place in the vocabulary is kept, unchanged, under a
key named after the format (``"claude"``, ``"meerkat"``, ``"omne"``) on the item or the
event it came with; source lines with no counterpart become events of type
``"<format>.<their type>"`` holding the whole line. File contents (Claude's
``originalFile``, ``Write`` content, patch lines) are left out unless ``keep_content``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import IO, Any, ClassVar, Literal

import attrs

from ._codec import EventDecodeError, _parse_json, from_dict, parse_record
from ._envelope import EventEnvelope, VersionedThreadEvent
from ._jsonl import CUT_SHORT, DEFAULT_MAX_LINE_BYTES, LogIssue, iter_lines
from ._vocabulary import ThreadEvent

__all__ = [
    "FORMATS",
    "Adapter",
    "AdapterReader",
    "Translated",
    "adapter_for",
    "detect_format",
]

FORMATS = ("codex", "vtcode", "agent-trace", "claude", "meerkat", "omne")
"""Names accepted by :func:`adapter_for`; ``codex``, ``vtcode`` and ``agent-trace`` are the
native vocabulary (bare, versioned or enveloped lines)."""

_NATIVE_TYPES = frozenset(
    {
        "thread.started", "thread.completed", "thread.compact_boundary", "context.reset",
        "turn.started", "turn.completed", "turn.failed", "item.started", "item.updated",
        "item.completed", "item.plan.delta", "plan.delta", "plan.approval.requested",
        "plan.approval.resolved", "permission.requested", "permission.resolved",
        "interjected", "request_user_input", "error",
    }
)  # fmt: skip
_CLAUDE_TYPES = frozenset(
    {
        "system", "user", "assistant", "result", "summary", "stream_event",
        "rate_limit_event", "file-history-snapshot", "queue-operation", "control_request",
        "control_response", "tool_progress", "auth_status",
    }
)  # fmt: skip
_OMNE_TYPES = frozenset(
    {
        "pipe.started", "pipe.completed", "pipe.aborted", "node.started", "node.completed",
        "node.failed", "gate.passed", "iteration.started",
    }
)  # fmt: skip


@attrs.frozen
class Translated:
    """One thread event made from a source line."""

    event: ThreadEvent
    ts: str | None = None
    """When the source says it happened (RFC 3339), if it says."""
    line: int | None = None
    """The source line (1-based), when read from a file."""


class AdapterError(ValueError):
    """A source object lacks what its format requires; ``path`` is a JSON path."""

    def __init__(self, message: str, path: str = "$") -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class Adapter:
    """Translates the objects of one format, in order (adapters keep per-stream state)."""

    format: ClassVar[str] = "agent-trace"
    provider: ClassVar[str | None] = None
    """The model provider this agent talks to, when the format implies one."""

    def __init__(self, *, keep_content: bool = False) -> None:
        self.keep_content = keep_content
        self.model: str | None = None
        """The last model named by the stream (``None`` until one is)."""
        self.session_id: str | None = None
        """The agent's own conversation / session / run id, once seen."""

    def translate(self, obj: dict[str, Any]) -> list[Translated]:
        """The events for one source object (raises :class:`AdapterError`, with the JSON
        path of the offending field, for an object its format does not allow)."""
        try:
            record = parse_record(obj)
        except EventDecodeError as exc:
            raise AdapterError(exc.message, exc.path) from None
        ts = None
        if isinstance(record, EventEnvelope):
            event, ts = record.event, record.ts
        elif isinstance(record, VersionedThreadEvent):
            event = record.event
        else:
            event = record
        thread_id = getattr(event, "thread_id", None)
        if self.session_id is None and isinstance(thread_id, str):
            self.session_id = thread_id
        return [Translated(event, ts)]

    def finish(self) -> list[Translated]:
        """Events that close what the stream left open (none by default)."""
        return []

    # helpers for subclasses ---------------------------------------------------------

    @staticmethod
    def event(data: dict[str, Any], ts: str | None = None) -> Translated:
        """Decode one event object we built (a bug here is ours: raise loudly)."""
        return Translated(from_dict(data), ts)

    def other(self, obj: dict[str, Any], ts: str | None = None) -> Translated:
        """A source object with no counterpart, kept whole as ``<format>.<type>``."""
        kind = obj.get("type")
        name = kind if isinstance(kind, str) and kind else "event"
        data = {k: v for k, v in obj.items() if k != "type"}
        return Translated(from_dict({"type": f"{self.format}.{name}", **data}), ts)


def need(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], path: str = "$") -> Any:
    """``obj[key]``, which must be of ``kind``; else :class:`AdapterError` at ``path.key``."""
    value = obj.get(key)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        what = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
        got = "nothing" if key not in obj else type(value).__name__
        raise AdapterError(f"expected {what}, got {got}", f"{path}.{key}")
    return value


def detect_format(obj: Any) -> str | None:
    """The format one decoded JSON line belongs to, or ``None`` when it cannot be told."""
    if type(obj) is not dict:
        return None
    if "hook_event_name" in obj:
        return "claude"
    if "payload" in obj and "timestamp_ms" in obj:
        return "meerkat"
    if "scope_path" in obj and "event" in obj:
        return "meerkat"
    if "event" in obj and ("seq" in obj or "run_id" in obj):
        return "agent-trace"
    if "event" in obj and "schema_version" in obj:
        return "vtcode"
    kind = obj.get("type")
    if not isinstance(kind, str):
        return None
    if kind in _NATIVE_TYPES:
        return "codex"  # or VT Code's --json stdout: the same vocabulary
    if kind in _OMNE_TYPES and "run_id" in obj:
        return "omne"
    if kind in _CLAUDE_TYPES:
        return "claude"
    from ._meerkat import MEERKAT_TYPES

    if kind in MEERKAT_TYPES:
        return "meerkat"
    return None


def adapter_for(format: str, *, keep_content: bool = False) -> Adapter:
    """A fresh adapter for ``format`` (one of :data:`FORMATS`)."""
    if format in ("codex", "vtcode", "agent-trace"):
        return Adapter(keep_content=keep_content)
    if format == "claude":
        from ._claude import ClaudeAdapter

        return ClaudeAdapter(keep_content=keep_content)
    if format == "meerkat":
        from ._meerkat import MeerkatAdapter

        return MeerkatAdapter(keep_content=keep_content)
    if format == "omne":
        from ._omne import OmneAdapter

        return OmneAdapter(keep_content=keep_content)
    raise ValueError(f"unknown format {format!r}; expected auto or one of {', '.join(FORMATS)}")


class AdapterReader:
    """Read a log in any supported format as thread events, in constant memory.

    ``format="auto"`` decides from the first line (:func:`detect_format`). Errors are
    handled as by :class:`EventReader`: ``strict`` raises :class:`EventDecodeError` naming
    file, line and field at the first bad line, else bad lines are skipped and counted;
    a torn last line is reported in :attr:`issues` and skipped.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | IO[bytes],
        *,
        format: str = "auto",
        strict: bool = True,
        name: str | None = None,
        keep_content: bool = False,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        if format != "auto":
            adapter_for(format)  # validate the name now
        self._source = source
        if name is None:
            name = (
                str(source)
                if isinstance(source, str | os.PathLike)
                else str(getattr(source, "name", "<stream>"))
            )
        self.name = name
        self.format = None if format == "auto" else format
        self.strict = strict
        self.keep_content = keep_content
        self.max_line_bytes = max_line_bytes
        self.adapter: Adapter | None = None
        self.lines = 0
        self.events = 0
        self.malformed = 0
        self.truncated = False
        self.issues: list[LogIssue] = []

    def __iter__(self) -> Iterator[Translated]:
        if isinstance(self._source, str | os.PathLike):
            with open(self._source, "rb") as f:
                yield from self._read(f)
        else:
            yield from self._read(self._source)

    def _read(self, f: IO[bytes]) -> Iterator[Translated]:
        for number, line, complete in iter_lines(f, self.max_line_bytes):
            self.lines = number
            if line is None:
                too_long = EventDecodeError(f"line longer than {self.max_line_bytes} bytes")
                self._bad(too_long, number, "too_long")
                continue
            try:
                obj = _parse_json(line)
                out = self._translate(obj, number)
            except EventDecodeError as exc:
                if exc.cut_short or not complete:
                    self.truncated = True
                    self.issues.append(LogIssue(self.name, number, "$", CUT_SHORT, "truncated"))
                    continue
                self._bad(exc, number)
                continue
            for item in out:
                self.events += 1
                yield attrs.evolve(item, line=number)
        if self.adapter is not None:
            for item in self.adapter.finish():
                self.events += 1
                yield item

    def _translate(self, obj: Any, number: int) -> list[Translated]:
        if self.adapter is None:
            format = self.format or detect_format(obj)
            if format is None:
                raise EventDecodeError(
                    "cannot tell which agent wrote this line; name the format "
                    f"({', '.join(FORMATS)})"
                )
            self.format = format
            self.adapter = adapter_for(format, keep_content=self.keep_content)
        if type(obj) is not dict:
            raise EventDecodeError("expected a JSON object")
        try:
            return self.adapter.translate(obj)
        except AdapterError as exc:
            raise EventDecodeError(exc.message, exc.path) from None

    def _bad(
        self,
        exc: EventDecodeError,
        number: int,
        kind: Literal["malformed", "too_long"] = "malformed",
    ) -> None:
        if self.strict:
            raise exc.located(self.name, number)
        self.malformed += 1
        if len(self.issues) < 100:
            self.issues.append(LogIssue(self.name, number, exc.path, exc.message, kind))
