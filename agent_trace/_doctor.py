"""``trace doctor``: how much of a commit's code is attributed and how, and what in this
repository's set-up keeps attribution from surviving (hooks, notes configuration, hook
failures, damaged records)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import attrs

from ._blame import blame_many
from ._commits import text_files
from ._hooks import hook_states
from ._notes import NOTES_REF
from ._store import TraceStore

__all__ = ["Coverage", "Problem", "coverage", "problems"]

_WHY = {
    "post-commit": "new commits are not linked (run `trace link` after committing)",
    "post-merge": "merge commits made by `git merge` are not linked",
    "post-rewrite": "amend and rebase keep attribution only by content matching",
}


@attrs.frozen
class Coverage:
    """Every line of the text files of one commit, by how its label was found."""

    revision: str
    files: int = 0
    lines: int = 0
    by_record: int = 0
    """Labelled by a record of the commit that last changed the line."""
    by_content: int = 0
    """Labelled by the same content found in another record."""
    unknown: int = 0
    types: dict[str, int] = attrs.field(factory=dict)
    skipped: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "files": self.files,
            "lines": self.lines,
            "by_record": self.by_record,
            "by_content": self.by_content,
            "unknown": self.unknown,
            "types": self.types,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
        }


@attrs.frozen
class Problem:
    severity: Literal["error", "warning"]
    message: str
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "message": self.message, "fix": self.fix}


def coverage(store: TraceStore, revision: str, paths: Iterable[str] = ()) -> Coverage:
    """Blame every text file of ``revision`` (a full SHA), or those under ``paths``."""
    prefixes = [p.strip("/") for p in paths if p.strip("/")]
    texts, skipped = text_files(store.repository.git, revision, prefixes)
    types = dict.fromkeys(("ai", "human", "mixed", "unknown"), 0)
    counts = {"lines": 0, "record": 0, "content": 0, "unknown": 0}
    for result in blame_many(store, revision, texts):
        for line in result.lines:
            counts["lines"] += 1
            kind = line.type if line.type in types else "unknown"
            types[kind] += 1
            if kind == "unknown":
                counts["unknown"] += 1
            elif line.evidence == "content":
                counts["content"] += 1
            else:
                counts["record"] += 1
    return Coverage(
        revision=revision,
        files=len(texts),
        lines=counts["lines"],
        by_record=counts["record"],
        by_content=counts["content"],
        unknown=counts["unknown"],
        types=types,
        skipped=tuple(skipped),
    )


def _hook_interpreter(path: Path) -> str | None:
    """The Python interpreter one of our hook scripts runs."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        before, sep, _ = line.partition(" -m agent_trace.cli hook")
        if sep:
            try:
                return shlex.split(before.rpartition("|")[2])[-1]
            except (ValueError, IndexError):
                return None
    return None


def _cannot_run(python: str, root: Path) -> str | None:
    """Why ``python`` cannot run our hooks, run as they are in the work tree ``root``
    (``None``: it can)."""
    if not Path(python).exists():
        return "which no longer exists"
    if Path(python).resolve() == Path(sys.executable).resolve():
        return None  # this very interpreter runs agent-trace
    try:
        proc = subprocess.run(
            [python, "-c", "import agent_trace.cli"],
            cwd=root,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"which cannot be run ({exc})"
    if proc.returncode != 0:
        last = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
        return f"which cannot import agent-trace ({last})"
    return None


def problems(store: TraceStore) -> list[Problem]:
    """What in this repository's set-up loses or weakens attribution."""
    out: list[Problem] = []
    repository = store.repository
    git = repository.git
    checked: dict[str, str | None] = {}
    for state in hook_states(repository):
        if state.state == "absent":
            out.append(
                Problem(
                    "warning",
                    f"{state.name} hook not installed: {_WHY[state.name]}",
                    "trace hooks install",
                )
            )
        elif state.state == "foreign":
            out.append(
                Problem(
                    "warning",
                    f"{state.path} is another tool's hook, so {_WHY[state.name]}",
                    "trace hooks install (keeps that hook and calls it after ours)",
                )
            )
        else:
            python = _hook_interpreter(state.path)
            if python is None:
                continue
            if python not in checked:
                checked[python] = _cannot_run(python, store.root)
            why = checked[python]
            if why is not None:
                out.append(
                    Problem(
                        "error",
                        f"the {state.name} hook runs {python}, {why}",
                        "trace hooks install (with the Python that has agent-trace)",
                    )
                )
    found = git.run("rev-parse", "--verify", "-q", NOTES_REF, "--", ok_codes=(0, 1))
    has_notes = found.returncode == 0
    if has_notes and NOTES_REF not in git.config_get_all("notes.rewriteRef"):
        out.append(
            Problem(
                "warning",
                "notes.rewriteRef does not include refs/notes/agent-trace: git will not copy "
                "records to amended or rebased commits",
                "git config --add notes.rewriteRef refs/notes/agent-trace",
            )
        )
    log = store.directory / "hooks.log"
    try:
        failures = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        failures = []
    if failures:
        out.append(
            Problem(
                "warning",
                f"{len(failures)} hook failure(s) logged in {log}; last: {failures[-1]}",
                f"fix the cause, then `trace link` the commits concerned and delete {log.name}",
            )
        )
    if (repository.common_dir / "shallow").exists():
        out.append(
            Problem(
                "warning",
                "this is a shallow clone: lines of the commits where its history stops "
                "are linked as unknown (their parents are not here)",
                "git fetch --unshallow && trace notes fetch",
            )
        )
    gone = []
    for run in store.runs():
        try:
            manifest = run.read_manifest()
        except (OSError, ValueError):
            continue
        if manifest.current_status() != manifest.status:
            gone.append(run.run_id)
    if gone:
        out.append(
            Problem(
                "warning",
                f"{len(gone)} run(s) marked running whose process is gone (killed); last: "
                f"{gone[-1]}",
                "trace gc (marks them interrupted; removes old ones)",
            )
        )
    for issue in store.issues:
        if issue.severity == "error":
            out.append(Problem("error", f"unreadable record: {issue}", "trace validate"))
    return out
