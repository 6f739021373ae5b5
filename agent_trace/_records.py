"""Agent Trace v0.1.0 records: TraceRecord → files → conversations → ranges.

The models follow the spec's README schema (``docs/records.md``): the same keys in the
same order, optional keys left out when unset. Like the event vocabulary they are
lossless: keys this version does not know are kept in ``extra`` and written back, and a
record read from JSON is written back with its own key order. Vendor data belongs under
``metadata``, namespaced; ours lives under :data:`METADATA_NAMESPACE`.
"""

from __future__ import annotations

import enum
import functools
import re
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from .events._clock import utc_timestamp
from .events._wire import WireError, WireObject, converter, dumps, loads, optional

__all__ = [
    "AGENT_TRACE_MIME_TYPE",
    "AGENT_TRACE_VERSION",
    "METADATA_NAMESPACE",
    "Contributor",
    "ContributorType",
    "Conversation",
    "Range",
    "RecordDecodeError",
    "RecordVersionWarning",
    "RelatedResource",
    "Tool",
    "TraceFile",
    "TraceRecord",
    "Vcs",
    "VcsType",
    "new_record",
    "record_from_dict",
    "structure_record",
    "record_from_json",
    "record_to_dict",
    "record_to_json",
]

AGENT_TRACE_VERSION = "0.1.0"
"""The Agent Trace specification version this library writes."""

AGENT_TRACE_MIME_TYPE = "application/vnd.agent-trace.record+json"
"""The MIME type of one record (spec, Appendix B)."""

METADATA_NAMESPACE = "dev.agent-trace"
"""The ``metadata`` key under which agent-trace keeps its own data (reverse-domain
notation, spec §7.2): run id, turn and item ids, confidence, evidence."""

_SEMVER = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+")


class ContributorType(enum.StrEnum):
    """Who produced a range (spec §4). Unknown values read from JSON stay strings."""

    HUMAN = "human"
    AI = "ai"
    MIXED = "mixed"
    UNKNOWN = "unknown"


class VcsType(enum.StrEnum):
    """The version control system of ``vcs.revision`` (spec §6.4)."""

    GIT = "git"
    JJ = "jj"
    HG = "hg"
    SVN = "svn"


@attrs.frozen(kw_only=True, repr=False)
class Contributor(WireObject):
    """``type`` and, for AI, the model in models.dev ``provider/model`` form."""

    type: ContributorType | str
    model_id: str | None = optional()


@attrs.frozen(kw_only=True, repr=False)
class Range(WireObject):
    """Lines ``start_line`` to ``end_line`` (1-based, both included) at the record's
    revision; ``contributor`` overrides the conversation's."""

    start_line: int
    end_line: int
    content_hash: str | None = optional()
    contributor: Contributor | None = optional()

    @property
    def line_count(self) -> int:
        return self.end_line - self.start_line + 1

    def __contains__(self, line: object) -> bool:
        return isinstance(line, int) and self.start_line <= line <= self.end_line


@attrs.frozen(kw_only=True, repr=False)
class RelatedResource(WireObject):
    """Another resource of a conversation, e.g. ``type="session"`` or ``"prompt"``."""

    type: str
    url: str


@attrs.frozen(kw_only=True, repr=False)
class Conversation(WireObject):
    """The ranges one conversation produced in one file."""

    url: str | None = optional()
    contributor: Contributor | None = optional()
    ranges: list[Range]
    related: list[RelatedResource] | None = optional()

    def contributor_of(self, rng: Range) -> Contributor | None:
        """The contributor of ``rng``: its own, else the conversation's."""
        return rng.contributor if rng.contributor is not None else self.contributor


@attrs.frozen(kw_only=True, repr=False)
class TraceFile(WireObject):
    """One file (path relative to the repository root, ``/``-separated)."""

    path: str
    conversations: list[Conversation]


@attrs.frozen(kw_only=True, repr=False)
class Vcs(WireObject):
    """The revision the line numbers refer to: for git, the 40-hex commit SHA."""

    type: VcsType | str
    revision: str


@attrs.frozen(kw_only=True, repr=False)
class Tool(WireObject):
    """The tool that produced the record."""

    name: str | None = optional()
    version: str | None = optional()


@attrs.frozen(kw_only=True, repr=False)
class TraceRecord(WireObject):
    """One Agent Trace record. Build new ones with :func:`new_record`."""

    version: str
    id: str
    timestamp: str
    vcs: Vcs | None = optional()
    tool: Tool | None = optional()
    files: list[TraceFile]
    metadata: dict[str, Any] | None = optional()

    @property
    def revision(self) -> str | None:
        """``vcs.revision`` (lower-cased for git), or ``None`` for a record with no vcs."""
        if self.vcs is None:
            return None
        return self.vcs.revision.lower() if self.vcs.type == VcsType.GIT else self.vcs.revision

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]

    @property
    def ours(self) -> Mapping[str, Any]:
        """``metadata["dev.agent-trace"]`` (empty when absent or not an object)."""
        value = (self.metadata or {}).get(METADATA_NAMESPACE)
        return value if isinstance(value, dict) else {}

    def model_ids(self) -> list[str]:
        """Every distinct ``model_id`` in the record, in order of appearance."""
        seen: dict[str, None] = {}
        for f in self.files:
            for conv in f.conversations:
                for c in (conv.contributor, *(r.contributor for r in conv.ranges)):
                    if c is not None and c.model_id is not None:
                        seen.setdefault(c.model_id, None)
        return list(seen)

    def contributor_types(self) -> set[str]:
        """The contributor types (as strings) any range of the record carries."""
        out: set[str] = set()
        for f in self.files:
            for conv in f.conversations:
                for r in conv.ranges:
                    c = conv.contributor_of(r)
                    out.add(str(c.type) if c is not None else ContributorType.UNKNOWN.value)
        return out


class RecordVersionWarning(UserWarning):
    """A record was read whose ``version`` is not an Agent Trace 0.x version in X.Y.Z form
    (the reference implementation writes ``"1.0"``). It is read anyway."""


class RecordDecodeError(ValueError):
    """A JSON value is not an Agent Trace record; ``path`` names the offending field."""

    def __init__(self, message: str, path: str = "$") -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def new_record(
    files: Iterable[TraceFile],
    *,
    vcs: Vcs | None = None,
    tool: Tool | None = None,
    metadata: dict[str, Any] | None = None,
    ours: Mapping[str, Any] | None = None,
    timestamp: str | None = None,
    id: str | None = None,
) -> TraceRecord:
    """A new v0.1.0 record with a random UUID and the current UTC time (``Z``).

    ``ours`` is merged into ``metadata["dev.agent-trace"]``.
    """
    if ours:
        metadata = dict(metadata or {})
        namespaced = dict(metadata.get(METADATA_NAMESPACE) or {})
        namespaced.update(ours)
        metadata[METADATA_NAMESPACE] = namespaced
    return TraceRecord(
        version=AGENT_TRACE_VERSION,
        id=id if id is not None else str(uuid.uuid4()),
        timestamp=timestamp if timestamp is not None else utc_timestamp(),
        vcs=vcs,
        tool=tool,
        files=list(files),
        metadata=metadata,
    )


_structure = converter.get_structure_hook(TraceRecord)


@functools.cache
def _unstructure() -> Callable[[TraceRecord], Any]:
    """The writer of records, made when the first record is written (readers such as
    ``trace blame`` never need it)."""
    return converter.get_unstructure_hook(TraceRecord)


def structure_record(value: Any) -> TraceRecord:
    """A JSON value as a record; :class:`WireError` when it is not one."""
    record: TraceRecord = _structure(value, TraceRecord)
    return record


def record_from_dict(data: Any) -> TraceRecord:
    """Model a decoded JSON value. Types are checked strictly (``"5"`` is not a line
    number); unknown keys are kept. Raises :class:`RecordDecodeError` naming the field.

    A ``version`` that is not ``0.X.Y`` is read with a :class:`RecordVersionWarning`.
    """
    return _from_dict(data, stacklevel=3)


def _from_dict(data: Any, stacklevel: int) -> TraceRecord:
    try:
        record: TraceRecord = _structure(data, TraceRecord)
    except WireError as exc:
        raise RecordDecodeError(exc.message, exc.path) from None
    problem = version_problem(record.version)
    if problem is not None:
        warnings.warn(
            RecordVersionWarning(f"record {record.id}: {problem}; read anyway"),
            stacklevel=stacklevel,
        )
    return record


def version_problem(version: str) -> str | None:
    """Why ``version`` is not one this library reads as its own, or ``None``."""
    if not _SEMVER.fullmatch(version):
        return f"version {version!r} is not an Agent Trace version (X.Y.Z, e.g. '0.1.0')"
    if not version.startswith("0."):
        return f"version {version!r} is a different major version than {AGENT_TRACE_VERSION}"
    return None


def record_to_dict(record: TraceRecord) -> dict[str, Any]:
    """The JSON object of ``record`` (plain dicts, lists and scalars)."""
    return _unstructure()(record)  # type: ignore[no-any-return]


def record_from_json(data: bytes | str) -> TraceRecord:
    """Parse one JSON record (strict JSON, as serde_json reads it)."""
    try:
        value = loads(data)
    except ValueError as exc:
        raise RecordDecodeError(f"not valid JSON ({exc})") from None
    return _from_dict(value, stacklevel=3)


def record_to_json(record: TraceRecord, *, newline: bool = False) -> bytes:
    """Compact JSON (UTF-8), optionally ending in ``\\n`` for a JSONL line."""
    return dumps(record_to_dict(record), newline=newline)
