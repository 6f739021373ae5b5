"""JSON Lines logs: an append-only writer and a streaming, crash-tolerant reader."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

import attrs
import orjson

from ._clock import new_event_id, stamp

if TYPE_CHECKING:
    from ._limits import Limits
from ._codec import EventDecodeError, LogRecord, parse_record, to_dict
from ._codec import dump_event as _dump_event
from ._envelope import (
    EVENT_SCHEMA_VERSION,
    EventEnvelope,
    VersionedThreadEvent,
    WireForm,
)
from ._json import _duplicate_ids_seen
from ._line_io import CUT_SHORT, DEFAULT_MAX_LINE_BYTES, iter_lines
from ._vocabulary import (
    ThreadCompletedEvent,
    ThreadErrorEvent,
    ThreadEvent,
    TurnCompletedEvent,
    TurnFailedEvent,
)
from ._wire import dumps, loads

_orjson_dumps = orjson.dumps
_NEWLINE = orjson.OPT_APPEND_NEWLINE

__all__ = [
    "CUT_SHORT",
    "DEFAULT_MAX_LINE_BYTES",
    "EventReader",
    "JsonlWriter",
    "LogEntry",
    "LogIssue",
    "iter_events",
    "iter_lines",
]


FsyncPolicy = Literal["never", "boundary", "always"]

_BOUNDARY_CLASSES = frozenset(
    (TurnCompletedEvent, TurnFailedEvent, ThreadCompletedEvent, ThreadErrorEvent)
)
"""The events that end a turn or the thread (``fsync="boundary"``), and their tags."""
_BOUNDARY = frozenset(attrs.fields(cls).type.default for cls in _BOUNDARY_CLASSES)


class JsonlWriter:
    """Append events to a JSONL file, one ``write(2)`` per line.

    * The file is opened with ``O_APPEND``: each line lands whole at the end of the file,
      even with several writers, and a reader never sees half a line from a live writer
      (only from one killed mid-write, which the reader tolerates).
    * Nothing is buffered in the process: an event whose ``write`` returned survives the
      process being killed. ``fsync`` (survival of an OS crash) follows ``fsync``:
      ``"boundary"`` (default) at turn and thread ends, ``"always"`` or ``"never"``.
    * ``limits`` caps the size of one event (shrunk to fit) and of the log (a last
      ``error`` event says it is full; later events are counted in ``not_written``):
      see :class:`~agent_trace.events.Limits`. No caps by default.
    * ``form`` selects the line form; ``envelope`` lines get ``seq`` (continuing after the
      last ``seq`` already in the file), a UUIDv7 ``id``, a UTC ``ts`` and ``run_id``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        form: WireForm | str = WireForm.ENVELOPE,
        run_id: str | None = None,
        schema_version: str = EVENT_SCHEMA_VERSION,
        fsync: FsyncPolicy = "boundary",
        limits: Limits | None = None,
    ) -> None:
        if fsync not in ("never", "boundary", "always"):
            raise ValueError(f"fsync must be 'never', 'boundary' or 'always', not {fsync!r}")
        self.path = Path(path)
        self.form = WireForm(form)
        self._envelope = self.form is WireForm.ENVELOPE
        self.run_id = run_id if run_id is not None else new_event_id()
        self.schema_version = schema_version
        self.fsync = fsync
        self._fsync_always = fsync == "always"
        self._fsync_boundary = fsync == "boundary"
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(
            self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644
        )
        last_seq, torn = _inspect_tail(self.path)
        self._seq = last_seq + 1 if self.form is WireForm.ENVELOPE else 0
        # A line torn by a crash is ended first, so it cannot swallow our first event.
        self._pending_newline = torn
        self._dirty = False
        self.limits = limits
        """Caps on event and log size (:class:`Limits`; ``None``: none)."""
        self.not_written = 0
        """Events not written because the log reached ``limits.max_log_bytes``."""
        self._room = limits.log_room() if limits is not None else None
        self._size = os.fstat(self._fd).st_size
        self._full = self._room is not None and (
            self._size > self._room or _ends_full(self.path, self._size)
        )

    @property
    def next_seq(self) -> int:
        """The ``seq`` the next envelope will carry."""
        return self._seq

    def write(self, event: ThreadEvent, ts: str | None = None) -> None:
        """Append one event in this writer's form (``ts``: the envelope's time, when it is
        not now, e.g. an imported event's)."""
        self.write_dict(_dump_event(event), ts)

    def write_dict(self, body: dict[str, Any], ts: str | None = None) -> None:
        """Append one event given as its JSON object (:func:`to_dict` of a bare event,
        e.g. filtered by :meth:`PrivacyPolicy.apply_dict`); ``body`` is not changed."""
        # The hot path of every recorder: orjson is called directly (`dumps` only when
        # the line needs a closer look) and the lock taken without `with` (half its cost).
        lock = self._lock
        lock.acquire()
        try:
            line = self._line(body, ts)
            limits = self.limits
            if limits is not None:
                cap = limits.max_event_bytes
                if cap is not None and len(line) > cap:
                    from ._limits import shrink_event

                    body_size = len(self._line(body, ts, bare=True))
                    line = self._line(shrink_event(body, cap, len(line) - body_size), ts)
                room = self._room
                if room is not None and (self._full or self._size + len(line) > room):
                    self._log_full(ts)
                    return
            self._append(line, body.get("type") in _BOUNDARY)
            if self._envelope:
                self._seq += 1
        finally:
            lock.release()

    def _line(self, body: dict[str, Any], ts: str | None, *, bare: bool = False) -> bytes:
        """The line of one event in this writer's form (``bare``: the event alone)."""
        if bare:
            data: Any = body
        elif self._envelope:
            event_id, now = stamp()
            data = {
                "schema_version": self.schema_version,
                "seq": self._seq,
                "id": event_id,
                "ts": ts or now,
                "run_id": self.run_id,
                "event": body,
            }
        elif self.form is WireForm.VERSIONED:
            data = {"schema_version": self.schema_version, "event": body}
        else:
            data = body
        try:
            line = _orjson_dumps(data, option=_NEWLINE)
        except TypeError:  # orjson.JSONEncodeError: integers beyond 64 bits
            return dumps(data, newline=True)
        if b"+" in line or _duplicate_ids_seen[0]:  # rare: let dumps look closer
            return dumps(data, newline=True)
        return line

    def _log_full(self, ts: str | None) -> None:
        """A line did not fit under the log cap: the log-full event is written (once) and
        this and later lines are counted, not written. The caller holds the lock."""
        if not self._full:
            from ._limits import log_full_event

            self._full = True
            cap = self.limits.max_log_bytes if self.limits is not None else None
            assert cap is not None
            self._append(self._line(log_full_event(cap), ts), True)
            if self._envelope:
                self._seq += 1
        self.not_written += 1

    __call__ = write

    def write_record(self, record: LogRecord) -> None:
        """Append a record exactly as given (any form), e.g. when copying a log."""
        line = dumps(to_dict(record), newline=True)
        event = record.event if isinstance(record, EventEnvelope | VersionedThreadEvent) else record
        with self._lock:
            if isinstance(record, EventEnvelope):
                self._seq = max(self._seq, record.seq + 1)
            self._append(line, event.__class__ in _BOUNDARY_CLASSES)

    def _append(self, data: bytes, boundary: bool) -> None:
        """Write one whole line (``data`` ends in a newline); the caller holds the lock."""
        fd = self._fd
        if fd is None:
            raise ValueError(f"write to closed event log {self.path}")
        if self._pending_newline:
            data = b"\n" + data
            self._pending_newline = False
        self._size += len(data)
        written = os.write(fd, data)
        if written < len(data):
            self._finish_write(fd, data[written:])
        if self._fsync_always or (boundary and self._fsync_boundary):
            os.fsync(fd)
            self._dirty = False
        else:
            self._dirty = True

    @staticmethod
    def _finish_write(fd: int, data: bytes) -> None:
        while data:  # a signal or a full disk cut the write short
            data = data[os.write(fd, data) :]

    def sync(self) -> None:
        """Force everything written so far to stable storage."""
        with self._lock:
            if self._fd is not None and self._dirty:
                os.fsync(self._fd)
                self._dirty = False

    def close(self) -> None:
        """Sync (unless ``fsync="never"``) and close. Idempotent."""
        with self._lock:
            if self._fd is None:
                return
            try:
                if self._dirty and self.fsync != "never":
                    os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None

    @property
    def closed(self) -> bool:
        return self._fd is None

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"JsonlWriter({str(self.path)!r}, form={self.form.value!r}, run_id={self.run_id!r})"


def _ends_full(path: Path, size: int) -> bool:
    """Whether the log's last line is the log-full event (a log that reached its cap)."""
    if size == 0:
        return False
    with path.open("rb") as f:
        f.seek(max(0, size - 4096))
        tail = f.read().rstrip(b"\n")
    return b'"agent_trace_log_full"' in tail.rpartition(b"\n")[2]


def _inspect_tail(path: Path, window: int = 1 << 16) -> tuple[int, bool]:
    """The last envelope ``seq`` in the file (-1 if none), and whether the file ends in a
    torn line (no final newline). Reads backwards in growing windows, so a long last line
    does not hide the ``seq`` before it."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return -1, False
            f.seek(size - 1)
            torn = f.read(1) != b"\n"
            start = size
            carry = b""
            while start > 0:
                step = min(window, start)
                start -= step
                f.seek(start)
                chunk = f.read(step) + carry
                lines = chunk.split(b"\n")
                carry = lines[0] if start > 0 else b""  # may be the cut end of a line
                complete = lines[1:] if start > 0 else lines
                for raw in reversed(complete):
                    seq = _seq_of(raw)
                    if seq is not None:
                        return seq, torn
                window *= 2
    except OSError:
        return -1, False
    return -1, torn


def _seq_of(raw: bytes) -> int | None:
    if b'"seq"' not in raw:
        return None
    try:
        data = loads(raw)
    except ValueError:
        return None  # a torn or malformed line
    seq = data.get("seq") if type(data) is dict else None
    return seq if type(seq) is int else None


# --------------------------------------------------------------------------- reading


@attrs.frozen
class LogEntry:
    """One event read from a log: where it was and what form it had."""

    line: int
    """1-based line number in the file."""
    record: LogRecord
    """What the line held: a bare event, a :class:`VersionedThreadEvent` or an envelope."""

    @property
    def event(self) -> ThreadEvent:
        record = self.record
        if isinstance(record, EventEnvelope | VersionedThreadEvent):
            return record.event
        return record

    @property
    def form(self) -> WireForm:
        if isinstance(self.record, EventEnvelope):
            return WireForm.ENVELOPE
        if isinstance(self.record, VersionedThreadEvent):
            return WireForm.VERSIONED
        return WireForm.BARE

    @property
    def envelope(self) -> EventEnvelope | None:
        return self.record if isinstance(self.record, EventEnvelope) else None

    @property
    def schema_version(self) -> str | None:
        record = self.record
        if isinstance(record, EventEnvelope | VersionedThreadEvent):
            return record.schema_version
        return None


@attrs.frozen
class LogIssue:
    """A line the reader could not use."""

    source: str
    line: int
    path: str
    message: str
    kind: Literal["malformed", "truncated", "too_long"] = "malformed"

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}: "
        return f"{where}{self.path}: {self.message}" if self.path != "$" else where + self.message


class EventReader:
    """Stream the events of a JSONL log in constant memory.

    Lines are split on ``\\n`` only (JSON strings may hold U+2028 and friends raw). Bare
    events, VT Code's versioned lines and our envelopes may be mixed in one file. Blank
    lines are skipped.

    * ``strict=True`` raises :class:`EventDecodeError` (with file, line and field path) at
      the first bad line;
    * ``strict=False`` skips bad lines, counting them in :attr:`malformed` and keeping the
      first ``max_issues`` in :attr:`issues`.

    Either way, a last line without its newline that does not parse is a write cut short
    by a crash: it is reported in :attr:`issues` as ``truncated`` and skipped, not raised.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | IO[bytes],
        *,
        strict: bool = True,
        name: str | None = None,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        max_issues: int = 100,
    ) -> None:
        self._source = source
        if name is None:
            name = (
                str(source)
                if isinstance(source, str | os.PathLike)
                else getattr(source, "name", "<stream>")
            )
        self.name = str(name)
        self.strict = strict
        self.max_line_bytes = max_line_bytes
        self.max_issues = max_issues
        self.lines = 0
        """Lines read so far (including blank and bad ones)."""
        self.events = 0
        """Events yielded so far."""
        self.malformed = 0
        """Bad lines skipped (lenient mode), not counting a truncated last line."""
        self.truncated = False
        """Whether the file ended in a torn line."""
        self.issues: list[LogIssue] = []

    def _issue(self, issue: LogIssue) -> None:
        if len(self.issues) < self.max_issues:
            self.issues.append(issue)

    def __iter__(self) -> Iterator[LogEntry]:
        if isinstance(self._source, str | os.PathLike):
            with open(self._source, "rb") as f:
                yield from self._read(f)
        else:
            yield from self._read(self._source)

    def _read(self, f: IO[bytes]) -> Iterator[LogEntry]:
        for number, line, complete in iter_lines(f, self.max_line_bytes):
            self.lines = number
            if line is None:
                error = EventDecodeError(f"line longer than {self.max_line_bytes} bytes")
                self._bad(error, number, kind="too_long")
                continue
            try:
                record = parse_record(line)
            except EventDecodeError as exc:
                if exc.cut_short or not complete:
                    # A write cut short by a crash: the last line, or one a later writer
                    # appended after. Nothing is lost that an emit had returned from.
                    self.truncated = True
                    self._issue(LogIssue(self.name, number, "$", CUT_SHORT, "truncated"))
                    continue
                self._bad(exc, number)
                continue
            self.events += 1
            yield LogEntry(number, record)

    def _bad(self, exc: EventDecodeError, number: int, kind: Any = "malformed") -> None:
        if self.strict:
            raise exc.located(self.name, number)
        self.malformed += 1
        self._issue(LogIssue(self.name, number, exc.path, exc.message, kind))


def iter_events(
    source: str | os.PathLike[str] | IO[bytes], *, strict: bool = True
) -> Iterator[ThreadEvent]:
    """The events of a log, whatever line form each has."""
    for entry in EventReader(source, strict=strict):
        yield entry.event
