"""The trace store: ``.agent-trace/`` in the work tree plus git notes, behind one interface.

Layout (``docs/storage.md``)::

    .agent-trace/              excluded through .git/info/exclude
      traces.jsonl             one Agent Trace record per line, append-only
      index.sqlite3            (revision, path) -> offsets; a cache rebuilt at will
      runs/<run_id>/events.jsonl, run.json
    refs/notes/agent-trace     one note per commit: that commit's records, JSON Lines
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._files import append_lines, locked
from ._git import Repository, find_repository
from ._notes import NOTES_REF, NotesBackend
from ._stored import StoredRecord, StoreIssue, TraceBackend, decode_record
from .events._line_io import CUT_SHORT, DEFAULT_MAX_LINE_BYTES, iter_lines

if TYPE_CHECKING:
    from ._index import TraceIndex
    from ._records import TraceRecord
    from ._runs import Run

__all__ = ["STORE_DIRECTORY", "FileBackend", "TraceStore"]

STORE_DIRECTORY = ".agent-trace"
_EXCLUDE_LINE = f"/{STORE_DIRECTORY}/"


class FileBackend:
    """Records in ``<directory>/traces.jsonl``, with a SQLite index beside it."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.traces_path = self.directory / "traces.jsonl"

    @functools.cached_property
    def index(self) -> TraceIndex:
        """The SQLite index (``sqlite3`` loads when it is first used)."""
        from ._index import TraceIndex

        return TraceIndex(self.traces_path, self.directory / "index.sqlite3")

    def append(self, records: Iterable[TraceRecord]) -> None:
        """Append records (one locked write; safe with concurrent writers)."""
        from ._records import record_to_json

        data = b"".join(record_to_json(r, newline=True) for r in records)
        if data:
            self.directory.mkdir(parents=True, exist_ok=True)
            append_lines(self.traces_path, data)

    def _location(self, line: int) -> str:
        return f"{self.traces_path}:{line}"

    def records(
        self,
        issues: list[StoreIssue] | None = None,
        *,
        lines: list[tuple[str | None, bytes]] | None = None,
    ) -> Iterator[StoredRecord]:
        """Every record in file order; bad lines are skipped (and reported in ``issues``).
        ``lines`` receives each record's revision and line (what a note holding it holds)."""
        try:
            f = self.traces_path.open("rb")
        except FileNotFoundError:
            return
        with f:
            for number, raw, complete in iter_lines(f, DEFAULT_MAX_LINE_BYTES):
                where = self._location(number)
                if raw is None:
                    if issues is not None:
                        issues.append(StoreIssue(where, "line too long; skipped"))
                    continue
                record = decode_record(raw, where, None if not complete else issues)
                if record is None:
                    if not complete and issues is not None:
                        issues.append(StoreIssue(where, CUT_SHORT))
                    continue
                if lines is not None:
                    lines.append((record.revision, raw))
                yield StoredRecord(record=record, backend="file", location=where, line=number)

    def for_revision(
        self, revision: str, path: str | None = None, issues: list[StoreIssue] | None = None
    ) -> list[StoredRecord]:
        """Records of ``revision`` (touching ``path``), found through the index."""
        if not self.traces_path.exists():
            return []  # nothing recorded here (e.g. a clone with fetched notes only)
        return self._read(self.index.lookup(revision=revision, path=path), issues)

    def for_path(self, path: str, issues: list[StoreIssue] | None = None) -> list[StoredRecord]:
        """Records touching ``path`` at any revision."""
        if not self.traces_path.exists():
            return []
        return self._read(self.index.lookup(path=path), issues)

    def for_commits(
        self, commits: Iterable[str], paths: Iterable[str], issues: list[StoreIssue] | None = None
    ) -> list[StoredRecord]:
        """Records of any of ``commits`` touching any of ``paths`` (each read once)."""
        if not self.traces_path.exists():
            return []
        return self._read(self.index.lookup_many(commits, paths), issues)

    def _read(
        self, hits: list[tuple[int, int, int]], issues: list[StoreIssue] | None
    ) -> list[StoredRecord]:
        if not hits:
            return []
        out = []
        with self.traces_path.open("rb") as f:
            for offset, length, line in hits:
                f.seek(offset)
                record = decode_record(f.read(length), self._location(line), issues)
                if record is not None:
                    out.append(
                        StoredRecord(
                            record=record, backend="file", location=self._location(line), line=line
                        )
                    )
        return out


def _note_texts(lines: list[tuple[str | None, bytes]]) -> Iterator[bytes]:
    """The texts the notes hold when they hold lines of ``traces.jsonl`` as they are:
    each line, and each revision's lines in file order (a note of several records)."""
    by_revision: dict[str | None, list[bytes]] = {}
    for revision, line in lines:
        yield line + b"\n"
        by_revision.setdefault(revision, []).append(line)
    for revision, group in by_revision.items():
        if revision is not None and len(group) > 1:
            yield b"".join(line + b"\n" for line in group)


class TraceStore:
    """The records and runs of one repository.

    ``TraceStore.open(".")`` finds the work tree. Writes go to ``traces.jsonl`` and, for
    records anchored to a commit, to the git notes as well (``notes=False`` to skip);
    reads merge both, each record once (by ``id`` and commit).
    """

    def __init__(
        self,
        repository: Repository,
        *,
        notes: bool = True,
        notes_ref: str = NOTES_REF,
    ) -> None:
        self.repository = repository
        self.root = repository.root
        self.directory = self.root / STORE_DIRECTORY
        self.file = FileBackend(self.directory)
        self.notes: NotesBackend | None = NotesBackend(repository, notes_ref) if notes else None
        self.issues: list[StoreIssue] = []
        """Problems met while reading (bad lines skipped, records read with warnings)."""

    @classmethod
    def open(
        cls, path: str | os.PathLike[str] = ".", *, notes: bool = True, notes_ref: str = NOTES_REF
    ) -> TraceStore:
        """The store of the git work tree containing ``path``.

        Raises :class:`agent_trace.NotAGitRepository` outside one.
        """
        return cls(find_repository(path), notes=notes, notes_ref=notes_ref)

    @property
    def traces_path(self) -> Path:
        return self.file.traces_path

    @property
    def runs_directory(self) -> Path:
        return self.directory / "runs"

    def backends(self) -> list[TraceBackend]:
        return [self.file] if self.notes is None else [self.file, self.notes]

    # ------------------------------------------------------------------ set-up

    def ensure_directory(self) -> Path:
        """Create ``.agent-trace/`` and exclude it from git in ``.git/info/exclude`` (the
        user's ``.gitignore`` is never edited)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._exclude()
        return self.directory

    def _exclude(self) -> None:
        exclude = self.repository.common_dir / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with locked(self.repository.common_dir / "agent-trace-exclude.lock"):
            self._exclude_locked(exclude)

    def _exclude_locked(self, exclude: Path) -> None:
        try:
            text = exclude.read_text("utf-8", "surrogateescape")
        except FileNotFoundError:
            text = ""
        entries = {line.strip() for line in text.splitlines()}
        if entries & {_EXCLUDE_LINE, STORE_DIRECTORY, f"{STORE_DIRECTORY}/", f"/{STORE_DIRECTORY}"}:
            return
        prefix = "" if not text or text.endswith("\n") else "\n"
        with exclude.open("a", encoding="utf-8", errors="surrogateescape") as f:
            f.write(f"{prefix}# agent-trace: local attribution data\n{_EXCLUDE_LINE}\n")

    # ------------------------------------------------------------------ records

    def append(self, records: Iterable[TraceRecord], *, notes: bool | None = None) -> None:
        """Store records: always in ``traces.jsonl``; in the notes too for git records
        whose revision is a commit here (``notes=None``: when the notes backend is on).
        """
        batch = list(records)
        if not batch:
            return
        self.ensure_directory()
        self.file.append(batch)
        use_notes = self.notes is not None if notes is None else notes
        if use_notes and self.notes is not None:
            self.notes.append(batch, skip_missing=True)

    def records(self, issues: list[StoreIssue] | None = None) -> Iterator[StoredRecord]:
        """Every record: the file's, then the notes' not already seen."""
        issues = self.issues if issues is None else issues
        seen: set[tuple[str, str | None]] = set()
        lines: list[tuple[str | None, bytes]] = []
        backends: list[Iterator[StoredRecord]] = [self.file.records(issues, lines=lines)]
        if self.notes is not None:
            # Notes whose text is lines of the file (the notes linking wrote) are not read
            # from git again: they are recognised by their blob ids.
            backends.append(self.notes.records(issues, known=_note_texts(lines)))
        for records in backends:
            for stored in records:
                key = (stored.record.id, stored.commit or stored.record.revision)
                if key not in seen:
                    seen.add(key)
                    yield stored

    def for_revision(
        self, revision: str, path: str | None = None, issues: list[StoreIssue] | None = None
    ) -> list[StoredRecord]:
        """Records for commit ``revision`` (a full SHA; resolve user input with
        :meth:`resolve`): those whose ``vcs.revision`` it is, and those in its note."""
        issues = self.issues if issues is None else issues
        out: list[StoredRecord] = []
        seen: set[str] = set()
        for backend in self.backends():
            for stored in backend.for_revision(revision.lower(), path, issues):
                if stored.record.id not in seen:
                    seen.add(stored.record.id)
                    out.append(stored)
        return out

    def resolve(self, revision: str) -> str:
        """The full SHA of a user's revision (raises :class:`agent_trace.BadRevision`)."""
        return self.repository.git.resolve_commit(revision)

    def rebuild_index(self) -> None:
        """Drop the index and build it again from ``traces.jsonl``."""
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.file.index.database}{suffix}")
        if self.directory.exists():
            self.file.index.refresh()

    # ------------------------------------------------------------------ runs

    def new_run(self, run_id: str | None = None, **fields: Any) -> Run:
        """Create ``runs/<run_id>/`` with its ``run.json`` (``run_id``: a new UUIDv7 when
        not given). ``fields`` are :class:`RunManifest` fields (``tool_name``, ...)."""
        self.ensure_directory()
        from ._runs import create_run

        return create_run(self.runs_directory, run_id, **fields)

    def run(self, run_id: str) -> Run:
        """An existing run; ``KeyError`` if there is none with that id."""
        from ._runs import Run, check_run_id

        directory = self.runs_directory / check_run_id(run_id)
        if not directory.is_dir():
            raise KeyError(f"no run {run_id!r} in {self.runs_directory}")
        return Run(directory)

    def runs(self) -> list[Run]:
        """Every run, oldest first (UUIDv7 ids sort by creation time)."""
        if not self.runs_directory.is_dir():
            return []
        from ._runs import Run

        return [
            Run(p)
            for p in sorted(self.runs_directory.iterdir())
            if p.is_dir() and not p.name.startswith(".")  # dot names: runs being created
        ]

    def __repr__(self) -> str:
        return f"TraceStore({str(self.root)!r})"
