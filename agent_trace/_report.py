"""``trace report``: attribution of a commit's code (every line once), or of the
changes a range of commits makes (a pull request), grouped by file, directory, model,
run, author or commit.

Every count comes from the same labelling as ``trace blame`` (:func:`blame_many`), so a
line is counted the same way everywhere:

- **snapshot** (one revision): each line of each text file, by the label blame gives it;
- **range** (``BASE..TIP``): the lines at TIP whose blame commit is in the range
  (``added``), the lines of the merge base the range removes or changes (``removed``,
  labelled by who wrote them), and per commit the lines it added (labelled by its
  records, or by content when it has none) and the number it removed.

Totals obey the honesty invariants: ``ai + mixed + human + unknown == total`` for every
group, and the groups add up to the totals. Unknown lines stay unknown.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, Literal

import attrs

__all__ = [
    "GROUPINGS",
    "NO_MODEL",
    "NO_RUN",
    "TYPES",
    "Cell",
    "Progress",
    "REPORT_SCHEMA",
    "CommitChange",
    "CommitInfo",
    "ReportGroup",
    "Grouping",
    "Report",
    "Tally",
]

REPORT_SCHEMA = "agent-trace-report/1"
Grouping = Literal["file", "dir", "model", "run", "author", "commit"]
GROUPINGS: tuple[Grouping, ...] = ("file", "dir", "model", "run", "author", "commit")
TYPES = ("ai", "mixed", "human", "unknown")

NO_MODEL = "(no model id)"
"""The model key of agent lines whose record names no model."""
NO_RUN = "(no run)"
HUMAN = "(human)"
UNKNOWN = "(unknown)"

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: what the report is doing, for a progress bar."""


@attrs.define
class Tally:
    """Lines by contributor type, and the agent lines (ai and mixed) by model."""

    ai: int = 0
    mixed: int = 0
    human: int = 0
    unknown: int = 0
    models: dict[str, dict[str, int]] = attrs.field(factory=dict)
    """``{model_id: {"ai": n, "mixed": m}}``; lines with no model id under ``(no model id)``."""

    @property
    def total(self) -> int:
        return self.ai + self.mixed + self.human + self.unknown

    @property
    def ai_share(self) -> float | None:
        """``ai / total`` (unknown lines count in the total: a lower bound), or ``None``
        for no lines."""
        return self.ai / self.total if self.total else None

    def add(self, type: str, model_id: str | None, count: int = 1) -> None:
        kind = type if type in TYPES else "unknown"
        setattr(self, kind, getattr(self, kind) + count)
        if kind in ("ai", "mixed"):
            per = self.models.setdefault(model_id or NO_MODEL, {"ai": 0, "mixed": 0})
            per[kind] += count

    def merge(self, other: Tally) -> None:
        for kind in TYPES:
            setattr(self, kind, getattr(self, kind) + getattr(other, kind))
        for model, per in other.models.items():
            mine = self.models.setdefault(model, {"ai": 0, "mixed": 0})
            for kind, n in per.items():
                mine[kind] += n

    def to_dict(self) -> dict[str, Any]:
        share = self.ai_share
        return {
            "total": self.total,
            "ai": self.ai,
            "mixed": self.mixed,
            "human": self.human,
            "unknown": self.unknown,
            "ai_share": round(share, 4) if share is not None else None,
            "models": {
                m: dict(per)
                for m, per in sorted(
                    self.models.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])
                )
            },
        }


@attrs.frozen
class CommitInfo:
    """A commit as reports show it."""

    sha: str
    author: str = ""
    email: str = ""
    time: int = 0
    """Author time, seconds since the epoch."""
    subject: str = ""

    @property
    def date(self) -> str:
        """The author date, ISO 8601 in UTC."""
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.time)) if self.time else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "commit": self.sha,
            "author": self.author,
            "email": self.email,
            "date": self.date,
            "subject": self.subject,
        }


@attrs.frozen
class CommitChange:
    """What one commit of a range changed: the lines it added, labelled, and how many it
    removed. (A merge counts the lines it adds against every parent — its conflict
    resolutions — and no removed lines.)"""

    info: CommitInfo
    added: Tally
    removed: int
    merge: bool = False
    linked: bool = False
    """The commit has records of its own (it was linked)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.info.to_dict(),
            "merge": self.merge,
            "linked": self.linked,
            "added": self.added.to_dict(),
            "removed": self.removed,
        }


@attrs.frozen
class ReportGroup:
    """One row of a grouped report. ``lines`` are the lines at the revision (snapshot)
    or the lines the range added (range); ``removed`` only in a range report."""

    key: str
    label: str
    lines: Tally
    removed: Tally | None = None
    info: CommitInfo | None = None
    """For ``--by commit``: the commit."""

    @property
    def size(self) -> int:
        return self.lines.total + (self.removed.total if self.removed is not None else 0)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "label": self.label}
        if self.info is not None:
            out.update(author=self.info.author, date=self.info.date)
        if self.removed is None:
            out["lines"] = self.lines.to_dict()
        else:
            out["added"] = self.lines.to_dict()
            out["removed"] = self.removed.to_dict()
        return out


# (path, commit, type, model_id, run) -> number of lines
Cell = tuple[str, str, str, str | None, str | None]


@attrs.frozen
class Report:
    """Attribution of a revision (``kind="snapshot"``) or of a range of commits
    (``kind="range"``). ReportGroup it with :meth:`groups`; serialize with :meth:`to_dict`."""

    kind: Literal["snapshot", "range"]
    revision: str
    """The revision reported on (the range's tip)."""
    spec: str
    """What was asked for (``HEAD``, ``main..feature``)."""
    base: str | None = None
    """The range's merge base (``None``: the range reaches a root commit)."""
    paths: tuple[str, ...] = ()
    commits: dict[str, CommitInfo] = attrs.field(factory=dict)
    changes: tuple[CommitChange, ...] = ()
    """Range reports: per commit of the range, oldest first."""
    skipped: tuple[tuple[str, str], ...] = ()
    order: dict[str, int] = attrs.field(factory=dict, repr=False)
    """History order of the commits (0 = oldest), for ``groups("commit")``."""
    cells: dict[Cell, int] = attrs.field(factory=dict, repr=False)
    removed_cells: dict[Cell, int] = attrs.field(factory=dict, repr=False)

    @property
    def total(self) -> Tally:
        """Every line counted (snapshot), or every line the range added (range)."""
        return _tally(self.cells)

    @property
    def removed(self) -> Tally | None:
        """Range reports: the merge base's lines the range removed or changed."""
        return _tally(self.removed_cells) if self.kind == "range" else None

    @property
    def files(self) -> int:
        return len({cell[0] for cell in self.cells} | {cell[0] for cell in self.removed_cells})

    def groups(self, by: Grouping = "file", *, depth: int | None = None) -> list[ReportGroup]:
        """The lines grouped ``by`` file, dir (``depth``: the first N directories),
        model, run, author or commit. Groups add up to :attr:`total` (and
        :attr:`removed`)."""
        if by not in GROUPINGS:
            raise ValueError(f"cannot group by {by!r}; choose one of {', '.join(GROUPINGS)}")
        key_of = functools.partial(self._key, by, depth)
        added: dict[str, Tally] = {}
        removed: dict[str, Tally] = {}
        for target, cells in ((added, self.cells), (removed, self.removed_cells)):
            for cell, count in cells.items():
                target.setdefault(key_of(cell), Tally()).add(cell[2], cell[3], count)
        out = []
        for key in set(added) | set(removed):
            info = self.commits.get(key) if by == "commit" else None
            out.append(
                ReportGroup(
                    key=key,
                    label=self._label(by, key, info),
                    lines=added.get(key, Tally()),
                    removed=removed.get(key, Tally()) if self.kind == "range" else None,
                    info=info if by == "commit" else None,
                )
            )
        if by in ("file", "dir"):
            out.sort(key=lambda g: g.key)
        elif by == "commit":
            last = len(self.order)
            out.sort(
                key=lambda g: (self.order.get(g.key, last), g.info.time if g.info else 0, g.key)
            )
        else:
            out.sort(key=lambda g: (g.key.startswith("("), -g.size, g.key))
        return out

    def _key(self, by: str, depth: int | None, cell: Cell) -> str:
        path, commit, kind, model, run = cell
        if by == "file":
            return path
        if by == "dir":
            parts = path.split("/")[:-1]
            if depth is not None:
                parts = parts[:depth]
            return "/".join(parts) or "."
        if by == "model":
            if kind in ("ai", "mixed"):
                return model or NO_MODEL
            return HUMAN if kind == "human" else UNKNOWN
        if by == "run":
            return run or NO_RUN
        if by == "author":
            info = self.commits.get(commit)
            return f"{info.author} <{info.email}>" if info and info.author else UNKNOWN
        return commit

    @staticmethod
    def _label(by: str, key: str, info: CommitInfo | None) -> str:
        if by == "commit":
            return f"{key[:10]} {info.subject}" if info else key[:10]
        if by == "author":
            return key.partition(" <")[0]
        return key

    def to_dict(self, by: Grouping = "file", *, depth: int | None = None) -> dict[str, Any]:
        """The report as JSON-ready data (``docs/reports.md``)."""
        out: dict[str, Any] = {"schema": REPORT_SCHEMA, "kind": self.kind}
        if self.kind == "snapshot":
            out["revision"] = self.revision
        else:
            out["range"] = {
                "spec": self.spec,
                "base": self.base,
                "tip": self.revision,
                "commits": len(self.changes),
            }
        out["paths"] = list(self.paths)
        out["by"] = by
        removed = self.removed
        if removed is None:
            out["total"] = {"lines": self.total.to_dict()}
        else:
            out["total"] = {"added": self.total.to_dict(), "removed": removed.to_dict()}
        out["groups"] = [g.to_dict() for g in self.groups(by, depth=depth)]
        if self.kind == "range":
            out["commits"] = [c.to_dict() for c in self.changes]
        out["skipped"] = [{"path": p, "reason": r} for p, r in self.skipped]
        return out


def _tally(cells: dict[Cell, int]) -> Tally:
    total = Tally()
    for cell, count in cells.items():
        total.add(cell[2], cell[3], count)
    return total
