"""Crash consistency: a real recording process killed (SIGKILL) at random points.

Each round starts ``crash_worker.py`` (a Recorder that emits events and appends lines to
a file inside edit windows), kills it after a random delay, then does what a person
would: commits with the hooks installed. After every round and at the end:

* every event whose ``emit`` returned is in the run's log, which the strict reader
  reads (a line cut short by the kill is reported and skipped, never raised);
* the run shows ``interrupted`` (its process is gone), never ``running`` for ever;
* pending state decodes, and no window of a dead process is left open after a link;
* no line the agent wrote is ever attributed to a person: lines of windows that ended
  are ``ai``, lines of the window the kill cut off are ``ai`` or ``unknown``;
* the next recorder, ``trace link``, ``trace doctor`` and ``trace gc`` carry on.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from gitrepo import GitRepo
from test_hooks import trace

from agent_trace import Recorder, TraceStore
from agent_trace._pending import PendingState
from agent_trace._windows import WindowJournal
from agent_trace.events import AgentMessageItem, EventReader

WORKER = Path(__file__).with_name("crash_worker.py")
ROUNDS = 8
FILE = "work.txt"


def run_worker(repo: GitRepo, run_id: str, delay: float) -> list[str]:
    """Start the worker, let it run ``delay`` seconds after it is ready, SIGKILL it;
    returns what it reported on stdout before dying."""
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(repo.root), FILE, run_id],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first == b"ready\n", first
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    with proc.stdout:
        out = proc.stdout.read().decode()
    proc.wait()
    return out.splitlines()


def blame(repo: GitRepo) -> list[tuple[str, str]]:
    """``(type, text)`` of each line of FILE in the work tree, as ``trace blame`` says."""
    data: dict[str, Any] = json.loads(trace(repo, "blame", FILE, "--format", "json").output)
    lines = (repo.root / FILE).read_text(encoding="utf-8").splitlines()
    return [(d["contributor"]["type"], lines[d["line"] - 1]) for d in data["lines"]]


def check_round(repo: GitRepo, run_id: str, said: list[str]) -> set[int]:
    """The invariants of one killed run; returns the iterations whose window ended."""
    store = TraceStore.open(repo.root)
    events = store.run(run_id).events_path
    reader = EventReader(events, strict=True)
    ids = set()
    for entry in reader:
        item = getattr(entry.event, "item", None)
        if item is not None:
            ids.add(item.id)
    # At most the line the kill cut short, reported, not raised.
    assert [i.kind for i in reader.issues] in ([], ["truncated"]), reader.issues
    emitted = {line.split()[1] for line in said if line.startswith("emitted ")}
    assert emitted <= ids, f"events emit returned from are missing: {emitted - ids}"
    runs = json.loads(trace(repo, "runs", "--format", "json").output)
    status = {r["run_id"]: r["status"] for r in runs}
    assert status[run_id] == "interrupted"
    pending = PendingState(store.directory / "pending")
    assert all(p.path == FILE for p in pending.all())
    return {int(line.split()[1]) for line in said if line.startswith("window ")}


def test_random_kills_lose_no_event_and_never_credit_a_person(repo: GitRepo) -> None:
    rng = random.Random(20261122)
    trace(repo, "hooks", "install")
    repo.write(FILE, "".join(f"human {i}\n" for i in range(5)))
    repo.commit("a person's start")
    ended: dict[str, set[int]] = {}
    cut_off = 0
    for number in range(ROUNDS):
        run_id = f"crash-{number}"
        said = run_worker(repo, run_id, rng.uniform(0.05, 0.5))
        ended[run_id] = check_round(repo, run_id, said)
        started = sum(1 for line in said if line.startswith("emitted "))
        cut_off += started > len(ended[run_id])  # killed inside (or just before) a window
        if number % 2:  # a person commits what is there; the hook links it
            repo.commit(f"after kill {number}")
        store = TraceStore.open(repo.root)
        assert not WindowJournal(PendingState(store.directory / "pending")).entries() or (
            number % 2 == 0
        ), "a link left a dead process's window open"
    assert cut_off >= 2, "the kills should land inside edit windows (raise ROUNDS)"

    repo.commit("the last of it")
    kinds: dict[str, int] = {}
    for kind, text in blame(repo):
        kinds[kind] = kinds.get(kind, 0) + 1
        if text.startswith("human "):
            assert kind == "human", text
            continue
        _, run_id, step = text.split()
        assert kind != "human", f"an agent's line is credited to a person: {text}"
        if int(step.split(".")[0]) in ended[run_id]:
            assert kind == "ai", text
    assert kinds.get("ai", 0) > 0
    assert kinds.get("unknown", 0) > 0, "some kill should cut a window off"

    # Everything carries on: a new recorder, link, doctor, gc, validation.
    with (
        Recorder(repo.root, model_id="openai/gpt-5", tool_name="after") as rec,
        rec.edit("after.txt"),
    ):
        repo.write("after.txt", "after the crashes\n")
    repo.commit("after")
    assert [k for k, _ in blame_after(repo)] == ["ai"]
    doctor = trace(repo, "doctor", code=0)
    assert "Traceback" not in doctor.output
    gc = trace(repo, "gc", "--older-than", "0")
    assert f"removed {ROUNDS + 1} runs" in gc.output
    store = TraceStore.open(repo.root)
    assert not list(store.directory.rglob(".*.tmp"))
    from click.testing import CliRunner

    from agent_trace.cli import cli

    assert CliRunner().invoke(cli, ["validate", str(store.traces_path)]).exit_code == 0


def blame_after(repo: GitRepo) -> list[tuple[str, int]]:
    data = json.loads(trace(repo, "blame", "after.txt", "--format", "json").output)
    return [(d["contributor"]["type"], d["line"]) for d in data["lines"]]


def test_a_window_cut_off_in_one_process_is_unknown_for_the_next_recorder(
    repo: GitRepo,
) -> None:
    """The journal is recovered by the next recorder too, before it attributes."""
    trace(repo, "hooks", "install")
    repo.write(FILE, "human 0\n")
    repo.commit("start")
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(repo.root), FILE, "hang-1", "hang"],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    assert proc.stdout.readline() == b"inside\n"
    proc.kill()
    proc.wait()
    proc.stdout.close()
    store = TraceStore.open(repo.root)
    journal = WindowJournal(PendingState(store.directory / "pending"))
    assert len(journal.entries()) == 1
    with Recorder(repo.root, model_id="anthropic/claude-sonnet-4-5"):
        assert not journal.entries()  # recovered as the recorder started
    assert blame(repo) == [("human", "human 0"), ("unknown", "agent hang-1 1.0")]
    repo.commit("the person commits it")
    trace(repo, "link")
    assert blame(repo) == [("human", "human 0"), ("unknown", "agent hang-1 1.0")]


def test_an_item_started_and_never_completed_is_unknown_after_finish(repo: GitRepo) -> None:
    """A file_change item the agent never completed: its lines are nobody's for sure."""
    from agent_trace.events import (
        FileChangeItem,
        FileUpdateChange,
        ItemStartedEvent,
        PatchApplyStatus,
        PatchChangeKind,
    )

    trace(repo, "hooks", "install")
    repo.write(FILE, "human 0\n")
    repo.commit("start")
    with Recorder(repo.root, model_id="openai/gpt-5") as rec:
        change = FileUpdateChange(path=FILE, kind=PatchChangeKind.UPDATE)
        rec.emit(
            ItemStartedEvent(
                item=FileChangeItem(id="fc1", changes=[change], status=PatchApplyStatus.IN_PROGRESS)
            )
        )
        repo.write(FILE, "human 0\nwritten while the item ran\n")
        rec.emit(ItemStartedEvent(item=AgentMessageItem(id="m", text="bye")))
    assert [kind for kind, _ in blame(repo)] == ["human", "unknown"]
    explained = trace(repo, "blame", FILE, "--explain", "2").output
    assert "cut-off-window" in explained


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_trace_record_passes_sigterm_to_its_command(repo: GitRepo, signame: str) -> None:
    """``trace record`` stopped by a signal stops its command too (never orphaned) and
    ends its run ``interrupted``."""
    from test_agents_e2e import TRACE

    repo.write("seed.txt", "x\n")
    repo.commit("seed")
    marker = repo.root.parent / f"child-{signame}.pid"
    script = f"import os, time; open({str(marker)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    proc = subprocess.Popen(
        [str(TRACE), "record", "-C", str(repo.root), "--", sys.executable, "-c", script],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not marker.exists() or not marker.read_text():
        assert time.monotonic() < deadline, "the command never started"
        time.sleep(0.02)
    child = int(marker.read_text())
    proc.send_signal(getattr(signal, signame))
    _, err = proc.communicate(timeout=30)
    assert b"Traceback" not in err
    assert proc.returncode == 128 + getattr(signal, signame), err
    time.sleep(0.05)
    assert not Path(f"/proc/{child}").exists() or _zombie(child), "the command was orphaned"
    (run,) = json.loads(trace(repo, "runs", "--format", "json").output)
    assert run["status"] == "interrupted"


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
