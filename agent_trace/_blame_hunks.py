"""``git blame`` hunks: parsed from ``--incremental`` output, derived from a parent's
blame and a diff, and cached per (commit, path) in ``.agent-trace/cache/blame/``.

A blame of commit C is the blame of its parent P for every line the diff P→C leaves
alone, and C itself for the lines it adds: ``git blame`` computes exactly this, one
commit at a time. So when P's blame of a path is cached and C has one parent, one
``git show -U0`` turns it into C's; the blame of a work tree is HEAD's plus one
``git diff -U0 HEAD``. Both diffs use the algorithm the full blames use (Myers), so a
derived blame is the blame ``git blame`` gives, line for line.

The cache also keeps the *labels* of a blame, valid while the records do not change
(the ``generation``: size, time and inode of ``traces.jsonl`` and the notes' tip).
Entries are plain JSON written atomically; a damaged or foreign entry is ignored and
rewritten. Everything under ``cache/`` may be deleted at any time.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import orjson

from ._started import CACHE_DIRECTORY, DIFF_ALGORITHM, cache_path_dir, cached_commits

__all__ = [
    "CACHE_DIRECTORY",
    "DIFF_ALGORITHM",
    "UNCOMMITTED",
    "BlameCache",
    "Hunk",
    "compose",
    "derive_hunks",
    "parse_incremental",
    "restrict",
]

UNCOMMITTED = "0" * 40
_FORMAT = 1
_MAX_ENTRIES_PER_PATH = 64


@attrs.frozen
class Hunk:
    """Lines ``final_line .. final_line + count - 1`` come from ``commit``, where they
    are lines ``orig_line ..`` of ``orig_path``."""

    commit: str
    orig_line: int
    final_line: int
    count: int
    orig_path: str


def parse_incremental(
    data: bytes,
    meta: dict[str, dict[str, str]] | None = None,
    boundaries: set[str] | None = None,
) -> Iterator[Hunk]:
    """The hunks of ``git blame --incremental``; the commits' headers (``author``,
    ``author-mail``, ``author-time``, ``summary``, ...) go to ``meta`` when given, and
    the commits marked ``boundary`` (where a blame of a range stopped) to ``boundaries``."""
    current: list[Any] | None = None
    headers: dict[str, str] | None = None
    for raw in data.split(b"\n"):
        if current is None:
            parts = raw.split(b" ")
            if len(parts) == 4 and len(parts[0]) in (40, 64):
                sha = parts[0].decode()
                if not sha.strip("0"):  # 40 or 64 zeros: not committed yet
                    sha = UNCOMMITTED
                current = [sha, int(parts[1]), int(parts[2]), int(parts[3])]
                headers = meta.setdefault(current[0], {}) if meta is not None else None
            continue
        if raw.startswith(b"filename "):
            path = raw[9:].decode("utf-8", "surrogateescape")
            if path.startswith('"'):
                path = _unquote(path)
            yield Hunk(current[0], current[1], current[2], current[3], path)
            current = None
        elif raw == b"boundary" and boundaries is not None:
            boundaries.add(current[0])
        elif headers is not None:
            key, _, value = raw.partition(b" ")
            headers[key.decode("ascii", "replace")] = value.decode("utf-8", "replace")


def _unquote(text: str) -> str:
    """A C-quoted path from git (``"a\\tb"``, octal escapes for other bytes)."""
    body = text[1:-1].encode("utf-8", "surrogateescape")
    out = bytearray()
    i = 0
    escapes = {ord("n"): 10, ord("t"): 9, ord('"'): 34, ord("\\"): 92, ord("a"): 7,
               ord("b"): 8, ord("f"): 12, ord("r"): 13, ord("v"): 11}  # fmt: skip
    while i < len(body):
        c = body[i]
        if c == 92 and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in escapes:
                out.append(escapes[nxt])
                i += 2
                continue
            if 48 <= nxt <= 51 and i + 3 < len(body) + 1:
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
        out.append(c)
        i += 1
    return out.decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------------- deriving

_Line = tuple[str, int, str]  # commit, orig_line, orig_path


def _per_line(hunks: Sequence[Hunk]) -> dict[int, _Line]:
    out: dict[int, _Line] = {}
    for h in hunks:
        for k in range(h.count):
            out[h.final_line + k] = (h.commit, h.orig_line + k, h.orig_path)
    return out


def _to_hunks(lines: Sequence[tuple[int, _Line]]) -> list[Hunk]:
    """Consecutive lines from the same commit and path, numbered consecutively on both
    sides, as one hunk each."""
    return _merged([(final, orig, 1, commit, path) for final, (commit, orig, path) in lines])


def _merged(pieces: Sequence[tuple[int, int, int, str, str]]) -> list[Hunk]:
    """``(final_line, orig_line, count, commit, path)`` pieces in final-line order, those
    that continue each other on both sides joined."""
    runs: list[list[Any]] = []
    for final, orig, count, commit, path in pieces:
        if runs:
            last = runs[-1]
            if (
                last[0] + last[2] == final
                and last[1] + last[2] == orig
                and last[3] == commit
                and last[4] == path
            ):
                last[2] += count
                continue
        runs.append([final, orig, count, commit, path])
    return [Hunk(commit, orig, final, count, path) for final, orig, count, commit, path in runs]


def _patch_hunks(patch: bytes) -> list[tuple[int, int, int, int]] | None:
    """``(old_start, old_count, new_start, new_count)`` of a one-file ``-U0`` patch;
    ``None`` for what a derivation cannot follow (binary, created, deleted, renamed)."""
    out = []
    for line in patch.split(b"\n"):
        if line.startswith(b"@@ -"):
            head = line[3:].split(b" @@", 1)[0].split(b" ")
            try:
                old, new = head[0][1:].split(b","), head[1][1:].split(b",")
                out.append(
                    (
                        int(old[0]),
                        int(old[1]) if len(old) > 1 else 1,
                        int(new[0]),
                        int(new[1]) if len(new) > 1 else 1,
                    )
                )
            except (IndexError, ValueError):
                return None
        elif line.startswith(
            (b"Binary files", b"new file mode", b"deleted file mode", b"rename ", b"copy ")
        ):
            return None
    return out


def derive_hunks(base: Sequence[Hunk], patch: bytes, commit: str, path: str) -> list[Hunk] | None:
    """The blame of ``path`` in ``commit`` from the blame ``base`` of the whole file in
    its only parent and the ``-U0`` diff between them; ``None`` when the diff cannot be
    followed (the caller then runs ``git blame``)."""
    hunks = _patch_hunks(patch)
    if hunks is None:
        return None
    before = _per_line(base)
    base_count = len(before)
    if base_count and max(before) != base_count:
        return None
    count = base_count + sum(new_count - old_count for _, old_count, _, new_count in hunks)
    out: list[tuple[int, _Line]] = []
    old = new = 1
    for old_start, old_count, new_start, new_count in hunks:
        keep_to = new_start if new_count == 0 else new_start - 1  # last unchanged new line
        shift = old - new
        while new <= keep_to:
            source = before.get(new + shift)
            if source is None:
                return None
            out.append((new, source))
            new += 1
        for k in range(new_count):
            out.append((new_start + k, (commit, new_start + k, path)))
        new = new_start + new_count if new_count else new_start + 1
        old = old_start + old_count if old_count else old_start + 1
    if count - new != base_count - old:
        return None
    shift = old - new
    while new <= count:
        out.append((new, before[new + shift]))
        new += 1
    return _to_hunks(out)


def compose(
    top: Sequence[Hunk], boundary: str, bottom: Sequence[Hunk] | None, path: str
) -> list[Hunk] | None:
    """The blame of a commit from ``top``, its blame back to ``boundary`` only (``git
    blame BOUNDARY..COMMIT``: older lines stop at the boundary, numbered as there), and
    ``bottom``, the blame of ``path`` in ``boundary``. ``None`` when they do not fit."""
    if not any(h.commit == boundary for h in top):
        return list(top)
    if bottom is None:
        return None
    below = sorted(bottom, key=lambda h: h.final_line)
    starts = [h.final_line for h in below]
    pieces: list[tuple[int, int, int, str, str]] = []
    for h in sorted(top, key=lambda h: h.final_line):
        if h.commit != boundary:
            pieces.append((h.final_line, h.orig_line, h.count, h.commit, h.orig_path))
            continue
        if h.orig_path != path:
            return None
        line, end, final = h.orig_line, h.orig_line + h.count, h.final_line
        i = bisect.bisect_right(starts, line) - 1
        while line < end:  # the boundary's lines line..end-1, from the hunks below
            if i < 0 or i >= len(below):
                return None
            b = below[i]
            skip = line - b.final_line
            take = min(end, b.final_line + b.count) - line
            if skip < 0 or take <= 0:
                return None
            pieces.append((final, b.orig_line + skip, take, b.commit, b.orig_path))
            line, final, i = line + take, final + take, i + 1
    return _merged(pieces)


def restrict(hunks: Sequence[Hunk], start: int, end: int) -> list[Hunk]:
    """The parts of ``hunks`` on final lines ``start..end`` (as ``git blame -L``)."""
    out = []
    for h in hunks:
        lo, hi = max(start, h.final_line), min(end, h.final_line + h.count - 1)
        if lo <= hi:
            skip = lo - h.final_line
            out.append(Hunk(h.commit, h.orig_line + skip, lo, hi - lo + 1, h.orig_path))
    return out


# ---------------------------------------------------------------------- the cache


def _labels_fit(data: dict[str, Any], count: int) -> bool:
    """The cached labels are a table of 6-field rows and one valid index per line."""
    labels, per_line = data.get("labels"), data.get("line_labels")
    if not isinstance(labels, list) or not isinstance(per_line, list) or len(per_line) != count:
        return False
    if not all(isinstance(row, list) and len(row) == 6 for row in labels):
        return False
    return all(type(i) is int and 0 <= i < len(labels) for i in per_line)


class BlameCache:
    """Blames by (commit, path) under ``<store>/cache/blame/<path hash>/<commit>.json``."""

    def __init__(self, store_directory: Path, prepare: Callable[[], object] | None = None) -> None:
        """``prepare`` runs before the first write (the store creates and excludes its
        directory from git)."""
        self.store_directory = store_directory
        self.directory = store_directory / CACHE_DIRECTORY / "blame"
        self._prepare = prepare

    def _path_dir(self, path: str) -> Path:
        return Path(cache_path_dir(self.store_directory, path))

    def commits(self, path: str) -> set[str]:
        """The commits whose blame of ``path`` is cached."""
        return cached_commits(self.store_directory, path)

    def load(self, commit: str, path: str) -> dict[str, Any] | None:
        """The entry of (commit, path): ``hunks`` (a list of :class:`Hunk`) and, when
        labelled, ``generation``, ``labels`` and ``line_labels``; ``None`` when missing
        or unreadable."""
        try:
            data = orjson.loads((self._path_dir(path) / f"{commit}.json").read_bytes())
            if not isinstance(data, dict):
                return None
            if data.get("format") != _FORMAT or data.get("path") != path:
                return None
            commits, paths = data["commits"], data["paths"]
            hunks = []
            for c, o, f, n, p in data["hunks"]:
                if not all(type(x) is int and x >= 0 for x in (c, o, f, n, p)):
                    return None
                if not isinstance(commits[c], str) or not isinstance(paths[p], str):
                    return None
                hunks.append(Hunk(commits[c], o, f, n, paths[p]))
            covered = sorted(h.final_line + k for h in hunks for k in range(h.count))
            if covered != list(range(1, len(covered) + 1)):
                return None  # the lines of a file, each once
            data["hunks"] = hunks
            if "generation" in data and not _labels_fit(data, len(covered)):
                del data["generation"]  # labels unusable: relabel (the hunks are fine)
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
            return None
        return data

    def save(
        self,
        commit: str,
        path: str,
        hunks: Sequence[Hunk],
        labels: dict[str, Any] | None = None,
    ) -> None:
        """Store the blame (and its labels); failures to write are ignored (a cache)."""
        commits: dict[str, int] = {}
        paths: dict[str, int] = {}
        rows = [
            [
                commits.setdefault(h.commit, len(commits)),
                h.orig_line,
                h.final_line,
                h.count,
                paths.setdefault(h.orig_path, len(paths)),
            ]
            for h in hunks
        ]
        entry: dict[str, Any] = {
            "format": _FORMAT,
            "path": path,
            "commits": list(commits),
            "paths": list(paths),
            "hunks": rows,
        }
        if labels is not None:
            entry.update(labels)
        directory = self._path_dir(path)
        with contextlib.suppress(OSError):
            if self._prepare is not None:
                self._prepare()
                self._prepare = None
            directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(orjson.dumps(entry))
                os.replace(tmp, directory / f"{commit}.json")
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            self._trim(directory)

    def _trim(self, directory: Path) -> None:
        """Keep the newest entries of a path (a path blamed at many commits)."""
        entries = [e for e in os.scandir(directory) if e.name.endswith(".json")]
        if len(entries) <= _MAX_ENTRIES_PER_PATH:
            return
        entries.sort(key=lambda e: e.stat().st_mtime_ns)
        for entry in entries[: len(entries) - _MAX_ENTRIES_PER_PATH]:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
