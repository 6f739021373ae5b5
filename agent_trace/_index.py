"""A SQLite index over ``traces.jsonl``: where the records of a (revision, path) are.

The index is a cache. It remembers how many bytes of the traces file it has read and a
hash of the file's head; when the file grows only the new lines are read, and when the
file was replaced or truncated (or the database is damaged) it is rebuilt from scratch.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import mmh3

from .events._json import loads

__all__ = ["TraceIndex"]

_FORMAT = "1"
_HEAD = 4096

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    offset INTEGER PRIMARY KEY, length INTEGER NOT NULL, line INTEGER NOT NULL,
    id TEXT, revision TEXT, timestamp TEXT
);
CREATE TABLE IF NOT EXISTS paths (
    revision TEXT, path TEXT NOT NULL, offset INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS paths_by_revision ON paths (revision, path);
CREATE INDEX IF NOT EXISTS paths_by_path ON paths (path);
CREATE INDEX IF NOT EXISTS records_by_revision ON records (revision);
"""


def _revision_of(value: dict[str, Any]) -> str | None:
    vcs = value.get("vcs")
    if not isinstance(vcs, dict) or not isinstance(vcs.get("revision"), str):
        return None
    revision: str = vcs["revision"]
    return revision.lower() if vcs.get("type") == "git" else revision


def _paths_of(value: dict[str, Any]) -> set[str]:
    files = value.get("files")
    if not isinstance(files, list):
        return set()
    return {f["path"] for f in files if isinstance(f, dict) and isinstance(f.get("path"), str)}


class TraceIndex:
    """Offsets of the records in ``traces`` by revision and path, kept in ``database``."""

    def __init__(self, traces: Path, database: Path) -> None:
        self.traces = traces
        self.database = database

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.database, timeout=30.0, isolation_level=None)
        conn.executescript(_SCHEMA)
        return conn

    @contextlib.contextmanager
    def _open(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = self._connect()
        except sqlite3.DatabaseError:
            self._discard()
            conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    def _discard(self) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.database}{suffix}")

    def refresh(self) -> None:
        """Bring the index up to date with the traces file."""
        try:
            with self._open() as conn:
                self._refresh(conn)
        except sqlite3.DatabaseError:  # damaged: start again
            self._discard()
            with self._open() as conn:
                self._refresh(conn)

    def _refresh(self, conn: sqlite3.Connection) -> None:
        try:
            f = self.traces.open("rb")
        except FileNotFoundError:
            conn.execute("BEGIN IMMEDIATE")
            self._clear(conn)
            conn.execute("COMMIT")
            return
        with f:
            conn.execute("BEGIN IMMEDIATE")  # one indexer at a time, and only then look:
            try:  # a size read before the lock could be older than what is indexed
                size = os.fstat(f.fileno()).st_size
                head = f.read(_HEAD)
                meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
                start, line = 0, 0
                if (
                    meta.get("format") == _FORMAT
                    and int(meta.get("size", -1)) <= size
                    and meta.get("head") == self._head_hash(head, int(meta.get("head_len", 0)))
                ):
                    start, line = int(meta["size"]), int(meta["lines"])
                else:
                    self._clear(conn)
                if start < size:
                    f.seek(start)
                    start, line = self._index_tail(conn, f.read(size - start), start, line)
                head_len = min(len(head), start)
                conn.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [
                        ("format", _FORMAT),
                        ("size", str(start)),
                        ("lines", str(line)),
                        ("head_len", str(head_len)),
                        ("head", self._head_hash(head, head_len)),
                    ],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _head_hash(head: bytes, length: int) -> str:
        return f"{length}:{mmh3.hash(head[:length], 0, signed=False):08x}"

    @staticmethod
    def _clear(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM meta")
        conn.execute("DELETE FROM records")
        conn.execute("DELETE FROM paths")

    @staticmethod
    def _index_tail(
        conn: sqlite3.Connection, data: bytes, offset: int, line: int
    ) -> tuple[int, int]:
        """Index the complete lines of ``data`` (which starts at ``offset``); return the
        offset and line count after the last complete line."""
        records: list[tuple[int, int, int, str | None, str | None, str | None]] = []
        paths: list[tuple[str | None, str, int]] = []
        pos = 0
        while True:
            end = data.find(b"\n", pos)
            if end < 0:
                break  # a line still being written (or torn): not indexed yet
            line += 1
            raw = data[pos:end]
            at = offset + pos
            pos = end + 1
            if not raw.strip():
                continue
            try:
                value = loads(raw)
            except ValueError:
                continue  # a malformed line: readers report it
            if not isinstance(value, dict):
                continue
            revision = _revision_of(value)
            rid, ts = value.get("id"), value.get("timestamp")
            records.append(
                (
                    at,
                    len(raw),
                    line,
                    rid if isinstance(rid, str) else None,
                    revision,
                    ts if isinstance(ts, str) else None,
                )
            )
            paths.extend((revision, p, at) for p in _paths_of(value))
        conn.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?)", records)
        conn.executemany("INSERT INTO paths VALUES (?, ?, ?)", paths)
        return offset + pos, line

    def lookup(
        self, revision: str | None = None, path: str | None = None
    ) -> list[tuple[int, int, int]]:
        """``(offset, length, line)`` of the records with ``revision`` and/or touching
        ``path``, in file order."""
        self.refresh()
        query = "SELECT DISTINCT r.offset, r.length, r.line FROM records r"
        args: list[str] = []
        if path is not None:
            query += " JOIN paths p ON p.offset = r.offset WHERE p.path = ?"
            args.append(path)
            if revision is not None:
                query += " AND p.revision = ?"
                args.append(revision)
        elif revision is not None:
            query += " WHERE r.revision = ?"
            args.append(revision)
        query += " ORDER BY r.offset"
        with self._open() as conn:
            return [(int(a), int(b), int(c)) for a, b, c in conn.execute(query, args)]

    def lookup_many(
        self, revisions: Iterable[str], paths: Iterable[str]
    ) -> list[tuple[int, int, int]]:
        """``(offset, length, line)`` of the records of any of ``revisions`` touching any
        of ``paths``, in file order: one refresh and one query for all of them."""
        self.refresh()
        with self._open() as conn:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS want_rev (v TEXT PRIMARY KEY)")
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS want_path (v TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM want_rev")
            conn.execute("DELETE FROM want_path")
            conn.executemany("INSERT OR IGNORE INTO want_rev VALUES (?)", ((r,) for r in revisions))
            conn.executemany("INSERT OR IGNORE INTO want_path VALUES (?)", ((p,) for p in paths))
            rows = conn.execute(
                "SELECT DISTINCT r.offset, r.length, r.line FROM records r"
                " JOIN paths p ON p.offset = r.offset"
                " WHERE p.path IN (SELECT v FROM want_path)"
                " AND p.revision IN (SELECT v FROM want_rev)"
                " ORDER BY r.offset"
            ).fetchall()
        return [(int(a), int(b), int(c)) for a, b, c in rows]

    def revisions(self) -> list[str]:
        """Every revision with at least one record."""
        self.refresh()
        with self._open() as conn:
            rows = conn.execute(
                "SELECT DISTINCT revision FROM records WHERE revision IS NOT NULL"
            ).fetchall()
        return [str(r[0]) for r in rows]
