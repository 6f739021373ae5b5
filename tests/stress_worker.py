"""Agents for ``test_stress.py``: each thread runs its own :class:`Recorder` (its own tool
and model) editing its own file, and reports what it wrote and which events it emitted.

Imported by the test (for the in-process scenario) and run as a child process::

    python tests/stress_worker.py ROOT PROC THREADS EDITS PAUSE REPORT GATE

writes a JSON list of :class:`AgentReport` dicts to REPORT and exits 0, or 1 when an
agent raised (its traceback is in its report).

GATE is a lock file: each edit window holds a shared ``flock`` on it, and the test's
committer an exclusive one while it stages (``git add -A``; what is staged is what is
committed), so no commit ever holds lines of a window still open (``test_stress.py``
covers that case on its own: it is a known bug).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

from agent_trace import Recorder
from agent_trace.events import AgentMessageItem, ItemCompletedEvent, ItemStartedEvent

__all__ = [
    "AgentReport",
    "human_lines",
    "model_of",
    "path_of",
    "run_agent",
    "run_agents",
    "shared_gate",
]

MESSAGES_PER_EDIT = 2


class AgentReport(TypedDict):
    proc: int
    thread: int
    model_id: str
    tool_name: str
    path: str
    run_id: str | None
    lines: list[str]
    """Every line the agent wrote (without the newline), in order."""
    items: list[str]
    """Ids of the items whose ``item.completed`` emit returned."""
    dropped: int
    links: int
    error: str | None


def model_of(proc: int, thread: int) -> str:
    return f"openai/model-p{proc}-t{thread}"


def path_of(proc: int, thread: int) -> str:
    return f"src/p{proc}/t{thread}.txt"


def human_lines(proc: int, thread: int) -> list[str]:
    """What the base commit has in the agent's file (a person wrote it)."""
    return [f"# p{proc}t{thread}: written by a person", f"human p{proc}t{thread} header"]


@contextlib.contextmanager
def shared_gate(gate: Path | None, *, mode: int = fcntl.LOCK_SH) -> Iterator[None]:
    """A lock on ``gate`` for the block (nothing when ``None``): shared for the agents'
    edit windows; ``mode=fcntl.LOCK_EX`` for the person who stages everything."""
    if gate is None:
        yield
        return
    fd = os.open(gate, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)


def run_agent(
    root: Path,
    proc: int,
    thread: int,
    edits: int,
    pause: float = 0.0,
    gate: Path | None = None,
    start: threading.Barrier | None = None,
) -> AgentReport:
    """One agent: ``edits`` turns, each appending a few lines to its file inside an edit
    window and emitting :data:`MESSAGES_PER_EDIT` agent messages, then thinking for
    ``pause`` seconds."""
    tag = f"p{proc}t{thread}"
    report = AgentReport(
        proc=proc,
        thread=thread,
        model_id=model_of(proc, thread),
        tool_name=f"stress-{tag}",
        path=path_of(proc, thread),
        run_id=None,
        lines=[],
        items=[],
        dropped=0,
        links=0,
        error=None,
    )
    target = root / report["path"]
    try:
        if start is not None:
            start.wait(timeout=60)
        with Recorder(root, tool_name=report["tool_name"], model_id=report["model_id"]) as rec:
            report["run_id"] = rec.run_id
            for k in range(edits):
                with rec.turn():
                    lines = [f"{tag} line {k}.{n}" for n in range(1 + k % 3)]
                    window = rec.edit(report["path"])
                    with shared_gate(gate), window, target.open("a", encoding="utf-8") as f:
                        f.write("".join(f"{line}\n" for line in lines))
                    report["lines"] += lines
                    for m in range(MESSAGES_PER_EDIT):
                        item = AgentMessageItem(id=f"{tag}-msg-{k}-{m}", text=f"{tag} says {k}")
                        rec.emit(ItemStartedEvent(item=item))
                        rec.emit(ItemCompletedEvent(item=item))
                        report["items"].append(item.id)
                time.sleep(pause)
            report["dropped"] = rec.dropped
            report["links"] = len(rec.links)
    except Exception:  # noqa: BLE001 - reported to the test, which fails on it
        report["error"] = traceback.format_exc()
    return report


def run_agents(
    root: Path, proc: int, threads: int, edits: int, pause: float = 0.0, gate: Path | None = None
) -> list[AgentReport]:
    """``threads`` agents of process ``proc`` at once, each in its own thread."""
    start = threading.Barrier(threads)
    reports: list[AgentReport | None] = [None] * threads

    def work(thread: int) -> None:
        reports[thread] = run_agent(root, proc, thread, edits, pause, gate, start)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [r for r in reports if r is not None]


def main(argv: list[str]) -> int:
    root, proc, threads, edits, pause, out, gate = argv
    reports = run_agents(Path(root), int(proc), int(threads), int(edits), float(pause), Path(gate))
    Path(out).write_text(json.dumps(reports, indent=1), encoding="utf-8")
    ok = len(reports) == int(threads) and all(r["error"] is None for r in reports)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
