"""What the fake agents in this folder share: their options, a stdout that can be copied
to a file, and the work they all do in the repository they run in (their cwd).

Every fake agent does the same work, reporting it in its own event format:

1. ``app.py``: rewrites ``    return 2`` and appends ``THREE = ...`` (an edit tool);
2. ``new.py``: creates it (a write tool);
3. ``notes.txt``: appends ``agent note`` with a shell command;
4. ``--outside DIR``: writes ``DIR/outside.py`` and reports it (a path outside the repo);
5. ``late.txt``: writes it just before the turn ends, without reporting it.

A real agent thinks for seconds between two tool calls; a fake one would outrun
``trace record``, which snapshots the work tree as it reads each line. So, when run by
``trace record`` (``AGENT_TRACE_RUN_ID`` is set), a fake waits after each line until the
run's ``events.jsonl`` holds the events that line makes (``emit(..., events=N)``).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO

APP_OLD = "    return 2\n"
APP_NEW = "    return sum(range(3)) - 1  # agent\n"
APP_TAIL = "\n\nTHREE = one() + two()\n"
NEW_PY = "def four():\n    return 4\n"
NOTE = "agent note\n"
LATE = "late line\n"
OUTSIDE = "print('outside')\n"


def options(description: str) -> argparse.ArgumentParser:
    """The options every fake agent takes (each adds its own model option)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--exit", type=int, default=0, help="exit code to end with")
    parser.add_argument("--outside", help="also write and report DIR/outside.py")
    parser.add_argument("--noise", action="store_true", help="print non-JSON lines too")
    parser.add_argument("--tee", help="copy every stdout byte to this file")
    parser.add_argument("prompt", nargs="*")
    return parser


class Out:
    """The agent's stdout (bytes, flushed per line), copied to ``--tee`` when given."""

    def __init__(self, tee: str | None) -> None:
        self.stdout: BinaryIO = sys.stdout.buffer
        self.tee: BinaryIO | None = open(tee, "wb") if tee else None  # noqa: SIM115
        self.log = _run_log()
        self.expected = 0

    def raw(self, data: bytes) -> None:
        self.stdout.write(data)
        self.stdout.flush()
        if self.tee is not None:
            self.tee.write(data)
            self.tee.flush()

    def emit(self, event: dict[str, Any], events: int = 1) -> None:
        """Print one event line; ``events``: how many events the recorder makes of it."""
        self.raw(json.dumps(event).encode() + b"\n")
        self.expected += events
        deadline = time.monotonic() + 10
        while self.log is not None:
            try:
                if self.log.read_bytes().count(b"\n") >= self.expected:
                    break
            except FileNotFoundError:
                pass
            if time.monotonic() > deadline:  # a wrong count: stop waiting (the test fails)
                print(f"{self.log}: fewer than {self.expected} events", file=sys.stderr)
                self.log = None
            time.sleep(0.002)

    def noise(self, enabled: bool, *lines: bytes) -> None:
        for line in lines if enabled else ():
            self.raw(line)

    def close(self) -> None:
        if self.tee is not None:
            self.tee.close()


def _run_log() -> Path | None:
    """``.agent-trace/runs/<AGENT_TRACE_RUN_ID>/events.jsonl`` above the cwd, if recording."""
    run_id = os.environ.get("AGENT_TRACE_RUN_ID")
    if not run_id:
        return None
    for directory in (Path.cwd(), *Path.cwd().parents):
        runs = directory / ".agent-trace" / "runs"
        if runs.is_dir():
            return runs / run_id / "events.jsonl"
    return None


def edit_app(root: Path) -> tuple[str, str]:
    """Step 1; returns the file's text before and after."""
    path = root / "app.py"
    before = path.read_text(encoding="utf-8")
    after = before.replace(APP_OLD, APP_NEW, 1) + APP_TAIL
    path.write_text(after, encoding="utf-8")
    return before, after


def create_new(root: Path) -> str:
    """Step 2; returns the content written."""
    (root / "new.py").write_text(NEW_PY, encoding="utf-8")
    return NEW_PY


def append_note(root: Path) -> str:
    """Step 3: what ``echo 'agent note' >> notes.txt`` does; returns the command."""
    with (root / "notes.txt").open("a", encoding="utf-8") as f:
        f.write(NOTE)
    return "echo 'agent note' >> notes.txt"


def write_outside(directory: str) -> Path:
    """Step 4; returns the absolute path written."""
    path = Path(directory).resolve() / "outside.py"
    path.write_text(OUTSIDE, encoding="utf-8")
    return path


def write_late(root: Path) -> None:
    """Step 5."""
    (root / "late.txt").write_text(LATE, encoding="utf-8")


def structured_patch(before: str, after: str) -> list[dict[str, Any]]:
    """Claude Code's ``structuredPatch`` (jsdiff, 3 lines of context, 1-based starts)."""
    old, new = before.splitlines(), after.splitlines()
    hunks: list[dict[str, Any]] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for group in matcher.get_grouped_opcodes(3):
        lines: list[str] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [" " + line for line in old[i1:i2]]
                continue
            lines += ["-" + line for line in old[i1:i2]]
            lines += ["+" + line for line in new[j1:j2]]
        first = group[0]
        old_lines = sum(1 for line in lines if line[0] in " -")
        new_lines = sum(1 for line in lines if line[0] in " +")
        hunks.append(
            {
                "oldStart": first[1] + 1,
                "oldLines": old_lines,
                "newStart": first[3] + 1,
                "newLines": new_lines,
                "lines": lines,
            }
        )
    return hunks
