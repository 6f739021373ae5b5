"""What the store backends have in common: a record with where it was found, problems met
while reading, and the backend interface."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal, Protocol

import attrs

from .events._json import loads

if TYPE_CHECKING:
    from ._records import TraceRecord

__all__ = ["StoreIssue", "StoredRecord", "TraceBackend", "decode_record"]


@attrs.frozen
class StoredRecord:
    """A record and where it was read.

    ``backend`` is ``"file"`` (``.agent-trace/traces.jsonl``, ``line`` set) or ``"notes"``
    (``refs/notes/agent-trace``, ``commit`` set: the commit the note is attached to,
    which differs from ``record.revision`` when git carried the note over an amend or
    rebase).
    """

    record: TraceRecord
    backend: Literal["file", "notes"]
    location: str
    line: int | None = None
    commit: str | None = None

    @property
    def carried(self) -> bool:
        """A note git copied to a rewritten commit: its line numbers refer to
        ``record.revision``, not to ``commit``."""
        return self.commit is not None and self.record.revision != self.commit


@attrs.frozen
class StoreIssue:
    """A line or note that could not be read as a record (skipped), or a record read with
    a warning (kept)."""

    location: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{prefix}{self.location}: {self.message}"


class TraceBackend(Protocol):
    """Where records are kept. Both backends (file, notes) and the store implement it."""

    def append(self, records: Iterable[TraceRecord]) -> None: ...

    def records(self, issues: list[StoreIssue] | None = None) -> Iterator[StoredRecord]: ...

    def for_revision(
        self, revision: str, path: str | None = None, issues: list[StoreIssue] | None = None
    ) -> list[StoredRecord]: ...


_DECODED: dict[bytes, TraceRecord] = {}
"""Records decoded from exactly these bytes, most recent last: the file and the notes
hold the same lines, and a process reads both. Records are immutable, so sharing is safe."""
_DECODED_MAX = 5_000


def decode_record(raw: bytes, location: str, issues: list[StoreIssue] | None) -> TraceRecord | None:
    """One JSON line as a record, or ``None`` (with an issue) when it is not one."""
    raw = raw.strip()
    known = _DECODED.get(raw)
    if known is not None:
        return known
    try:
        value: Any = loads(raw)
    except ValueError as exc:
        if issues is not None:
            text = str(exc).splitlines()[0] if str(exc) else "malformed"
            issues.append(StoreIssue(location, f"not valid JSON ({text}); skipped"))
        return None
    # The record classes and their converter load with the first record read (a blame
    # answered from its cache never needs them).
    from ._records import RecordDecodeError, structure_record, version_problem
    from .events._wire import WireError

    try:
        record: TraceRecord = structure_record(value)
    except WireError as exc:
        if issues is not None:
            error = RecordDecodeError(exc.message, exc.path)
            issues.append(StoreIssue(location, f"{error}; skipped"))
        return None
    problem = version_problem(record.version)
    if problem is not None:
        if issues is not None:
            issues.append(StoreIssue(location, f"{problem}; read anyway", "warning"))
        return record  # not remembered: each copy's location gets its warning
    if len(_DECODED) >= _DECODED_MAX:
        del _DECODED[next(iter(_DECODED))]
    _DECODED[raw] = record
    return record
