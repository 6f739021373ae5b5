"""Concurrency: several recorders in one repository, in threads and in processes, while
a person commits (the post-commit hook links each commit) and readers run.

Each agent has its own Recorder (its own tool and model) and its own file, so the
attribution of every line is known exactly. After everything has joined: one completed
run per recorder whose log reads strictly, ``seq`` without a gap, with every event the
agent saw emitted; a traces file that decodes and validates; every commit linked once;
every line attributed to the agent that wrote it, or to the person; ``trace doctor``
finding no problem, no hook failure logged, no temporary file left.

The agents are in ``stress_worker.py`` (run as child processes, and imported). The
problems these tests found are pinned by the small tests at the end.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gitrepo import GitRepo
from stress_worker import AgentReport, human_lines, path_of, run_agents, shared_gate

from agent_trace import Recorder, StoreIssue, TraceRecord, TraceStore, blame_file, link_commit
from agent_trace._lookup import is_link_record
from agent_trace.events import (
    AgentMessageItem,
    EventReader,
    FileChangeItem,
    ItemCompletedEvent,
    ThreadCompletedEvent,
    ThreadStartedEvent,
)

WORKER = Path(__file__).with_name("stress_worker.py")
TRACE = (sys.executable, "-m", "agent_trace.cli")
TIMEOUT = 180.0
"""For any one process or thread to finish: generous, the tests assert no timing."""

# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _patient_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loaded machine must not turn a slow hook into a logged failure."""
    monkeypatch.setenv("AGENT_TRACE_HOOK_TIMEOUT", str(int(TIMEOUT)))


def trace(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real ``trace`` command run in ``root``: exit 0 and no traceback."""
    proc = subprocess.run(
        [*TRACE, *args], cwd=root, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert "Traceback" not in proc.stderr, (args, proc.stderr)
    assert proc.returncode == 0, (args, proc.returncode, proc.stdout[-2000:], proc.stderr)
    return proc


class Person:
    """Stages everything and commits, as a person would while agents work: the
    post-commit hook links each commit. Staging waits until no edit window is open
    (``gate``); the commit itself, and its hook, run while the agents go on."""

    def __init__(self, repo: GitRepo, gate: Path) -> None:
        self.repo = repo
        self.gate = gate
        self.commits: list[str] = []
        self.lock_retries = 0

    def commit(self, message: str) -> str:
        with shared_gate(self.gate, mode=fcntl.LOCK_EX):
            self._git("add", "-A")
        self._git("commit", "-q", "--allow-empty", "-m", message)
        head = self.repo.head()
        self.commits.append(head)
        return head

    def _git(self, *args: str) -> None:
        for _ in range(100):
            proc = subprocess.run(
                ["git", *args],
                cwd=self.repo.root,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
            if proc.returncode == 0:
                assert "agent-trace" not in proc.stderr, proc.stderr  # the hook said nothing
                return
            if "index.lock" not in proc.stderr:
                raise AssertionError(f"git {' '.join(args)}: {proc.stderr}")
            self.lock_retries += 1  # git's own lock, held by another git command
            time.sleep(0.05)
        raise AssertionError(f"git {' '.join(args)}: index.lock held for too long")


class Background:
    """Loops run in threads until :meth:`stop`; the first error of each is kept."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.errors: list[str] = []
        self.rounds: collections.Counter[str] = collections.Counter()
        self._threads: list[threading.Thread] = []

    def loop(self, name: str, step: Callable[[], object], pause: float) -> None:
        def run() -> None:
            while not self.done.is_set():
                try:
                    step()
                except Exception as exc:  # noqa: BLE001 - reported by stop()
                    self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
                    return
                self.rounds[name] += 1
                self.done.wait(pause)

        thread = threading.Thread(target=run, name=name)
        self._threads.append(thread)
        thread.start()

    def stop(self) -> None:
        self.done.set()
        for thread in self._threads:
            thread.join(timeout=TIMEOUT)
        assert not any(t.is_alive() for t in self._threads)
        assert self.errors == []


def cli_readers(root: Path, paths: list[str], seen: collections.Counter[str]) -> Callable[[], None]:
    """Each call runs the next reader: log, runs, doctor, or the blame of an agent's
    file (JSON outputs must parse). ``trace runs`` may warn of a run it sees being
    created (see test_a_run_is_never_listed_without_its_manifest): counted in ``seen``."""
    commands: list[tuple[str, ...]] = [("log",), ("runs", "--format", "json"), ("doctor",)]
    commands += [("blame", path, "--format", "json") for path in paths]
    turns = iter(range(1 << 30))

    def step() -> None:
        args = commands[next(turns) % len(commands)]
        proc = trace(root, *args)
        if "json" in args:
            json.loads(proc.stdout)
        for line in proc.stderr.splitlines():
            assert args[0] == "runs", (args, proc.stderr)
            assert re.fullmatch(r"warning: .*/run\.json'", line), line
            seen["runs listed without run.json"] += 1

    return step


def api_readers(root: Path, paths: list[str], seen: collections.Counter[str]) -> Callable[[], None]:
    """Each call reads through the Python API: every record (none damaged), every run's
    manifest (a run being created may have none yet: counted in ``seen``), and the blame
    of one agent's file in the work tree."""
    turns = iter(range(1 << 30))

    def step() -> None:
        store = TraceStore.open(root)
        issues: list[StoreIssue] = []
        for _ in store.records(issues):
            pass
        assert issues == []
        for run in store.runs():
            try:
                run.read_manifest()
            except FileNotFoundError:
                seen["runs listed without run.json"] += 1
        path = paths[next(turns) % len(paths)]
        result = blame_file(store, path)
        assert len(result.lines) >= len(human_lines(0, 0))

    return step


def base_commit(repo: GitRepo, person: Person, agents: list[tuple[int, int]]) -> None:
    """Hooks installed with the real CLI, then a person's commit of every agent's file."""
    trace(repo.root, "hooks", "install")
    TraceStore.open(repo.root).ensure_directory()
    repo.write("README.md", "one repository, several agents\n")
    for proc, thread in agents:
        repo.write(path_of(proc, thread), "".join(f"{x}\n" for x in human_lines(proc, thread)))
    person.commit("base")


# --------------------------------------------------------------------------- checks


def check_runs(store: TraceStore, reports: list[AgentReport], edits: int) -> int:
    """One completed run per agent; each log reads strictly, ``seq`` from 0 without a
    gap, thread.started first, thread.completed last, every reported item and edit there.
    Returns the number of events."""
    runs = {run.run_id: run for run in store.runs()}
    assert sorted(runs) == sorted(str(r["run_id"]) for r in reports)
    events = 0
    for report in reports:
        assert report["error"] is None, report["error"]
        assert report["dropped"] == 0
        run = runs[str(report["run_id"])]
        manifest = run.read_manifest()
        assert (manifest.status, manifest.model_id, manifest.tool_name) == (
            "completed",
            report["model_id"],
            report["tool_name"],
        )
        reader = EventReader(run.events_path, strict=True)
        entries = list(reader)
        assert reader.issues == []
        assert not reader.truncated
        envelopes = [e.envelope for e in entries]
        assert [env.seq if env else None for env in envelopes] == list(range(len(entries)))
        assert {env.run_id if env else None for env in envelopes} == {run.run_id}
        found = [e.event for e in entries]
        assert isinstance(found[0], ThreadStartedEvent)
        assert isinstance(found[-1], ThreadCompletedEvent)
        assert sum(isinstance(e, ThreadCompletedEvent) for e in found) == 1
        completed = [e.item for e in found if isinstance(e, ItemCompletedEvent)]
        messages = [i.id for i in completed if isinstance(i, AgentMessageItem)]
        assert messages == report["items"]
        changes = [i for i in completed if isinstance(i, FileChangeItem)]
        assert [[c.path for c in i.changes] for i in changes] == [[report["path"]]] * edits
        events += len(entries)
    return events


def shape(record: TraceRecord) -> list[tuple[str, list[tuple[str, str | None, Any]]]]:
    """What a link record says of its lines: per file, per conversation, who and where."""
    return [
        (
            f.path,
            [
                (
                    str(c.contributor.type) if c.contributor else "",
                    c.contributor.model_id if c.contributor else None,
                    [(r.start_line, r.end_line, r.content_hash) for r in c.ranges],
                )
                for c in f.conversations
            ],
        )
        for f in record.files
    ]


def check_links(store: TraceStore, repo: GitRepo, made: list[str]) -> dict[str, int]:
    """The traces file decodes and validates (``trace validate``); every commit made has
    a link record in the file and in its note, and records of one commit agree. Returns
    the figures, with ``duplicated``: commits with more than one link record."""
    issues: list[StoreIssue] = []
    in_file = [s.record for s in store.file.records(issues)]
    assert issues == []
    trace(repo.root, "validate", str(store.traces_path))
    history = repo.git("rev-list", "HEAD").split()
    assert sorted(history) == sorted(made)
    assert store.notes is not None
    in_notes = [s.record for s in store.notes.records(issues)]
    assert issues == []
    assert {r.id for r in in_notes} == {r.id for r in in_file}
    links: dict[str, list[TraceRecord]] = collections.defaultdict(list)
    for record in in_file:
        assert is_link_record(record), record
        assert record.revision is not None
        links[record.revision].append(record)
    assert sorted(links) == sorted(history)  # none missing, none of another commit
    for commit in history:
        ids = {r.id for r in links[commit]}
        assert {s.record.id for s in store.file.for_revision(commit)} == ids  # the index
        assert {s.record.id for s in store.for_revision(commit)} == ids
        shapes = [shape(r) for r in links[commit]]
        assert all(s == shapes[0] for s in shapes), commit  # duplicates at least agree
    assert store.issues == []
    return {
        "commits": len(history),
        "records": len(in_file),
        "duplicated": sum(len(r) > 1 for r in links.values()),
        "extra records": sum(len(r) - 1 for r in links.values()),
    }


def check_blame(repo: GitRepo, reports: list[AgentReport]) -> int:
    """``trace blame --format json`` of every agent's file: the person's lines human, the
    agent's lines ``ai`` with its model, everything committed. Returns the lines checked."""
    checked = 0
    for report in reports:
        path = report["path"]
        data = json.loads(trace(repo.root, "blame", path, "--format", "json").stdout)
        text = (repo.root / path).read_text(encoding="utf-8").splitlines()
        human = human_lines(report["proc"], report["thread"])
        assert text == human + report["lines"]
        got = [
            (x["line"], x["contributor"]["type"], x["contributor"]["model_id"])
            for x in data["lines"]
        ]
        want: list[tuple[int, str, str | None]] = [
            (n, "human", None) for n in range(1, len(human) + 1)
        ]
        want += [(n, "ai", report["model_id"]) for n in range(len(human) + 1, len(text) + 1)]
        assert got == want, path
        assert None not in {x["commit"] for x in data["lines"]}
        checked += len(got)
    return checked


def check_clean(repo: GitRepo, store: TraceStore) -> None:
    """``trace doctor`` finds nothing, no hook failed, no temporary file is left, and
    nothing of the store is in the work tree's status."""
    out = trace(repo.root, "doctor").stdout
    assert "no problems found" in out, out
    log = store.directory / "hooks.log"
    assert not log.exists() or log.read_text(encoding="utf-8") == ""
    assert sorted(str(p) for p in store.directory.rglob("*.tmp")) == []
    assert repo.git("status", "--porcelain") == ""


def check_all(
    repo: GitRepo, person: Person, reports: list[AgentReport], edits: int
) -> dict[str, int]:
    """Every invariant after the final commit; returns the figures observed."""
    person.commit("final")
    trace(repo.root, "link")  # already linked by the hook: nothing to do
    store = TraceStore.open(repo.root)
    figures = {"runs": len(reports), "events": check_runs(store, reports, edits)}
    listed = json.loads(trace(repo.root, "runs", "--format", "json").stdout)
    assert sorted((r["run_id"], r["status"]) for r in listed) == sorted(
        (r["run_id"], "completed") for r in reports
    )
    figures |= check_links(store, repo, person.commits)
    figures["lines"] = check_blame(repo, reports)
    check_clean(repo, store)
    figures["index.lock retries"] = person.lock_retries
    return figures


def finish(name: str, figures: dict[str, int]) -> None:
    print(f"\n{name}: {figures}")
    assert figures["duplicated"] == 0, "a commit got several link records"


# --------------------------------------------------------------------------- stress


def test_processes_and_threads_record_while_a_person_commits_and_readers_read(
    repo: GitRepo, tmp_path: Path
) -> None:
    """3 processes x 2 threads, one recorder each, 40 edits each (some thinking time
    between them); meanwhile a person commits every 0.2 s, `trace link` runs every
    second and readers (log, runs, doctor, blame) run without pause."""
    procs, threads, edits, pause = 3, 2, 40, 0.15
    agents = [(p, t) for p in range(procs) for t in range(threads)]
    gate = tmp_path / "edit-gate.lock"
    person = Person(repo, gate)
    base_commit(repo, person, agents)

    workers: list[tuple[Path, subprocess.Popen[bytes]]] = []
    with contextlib.ExitStack() as stack:
        for proc in range(procs):
            out = tmp_path / f"report-{proc}.json"
            args = [repo.root, proc, threads, edits, pause, out, gate]
            log = stack.enter_context((tmp_path / f"worker-{proc}.log").open("wb"))
            popen = subprocess.Popen(
                [sys.executable, WORKER, *map(str, args)], stdout=log, stderr=log
            )
            stack.callback(popen.kill)  # a no-op once it has exited
            workers.append((out, popen))
        background = Background()
        stack.callback(background.done.set)
        ticks = iter(range(1 << 30))
        background.loop("commits", lambda: person.commit(f"wip {next(ticks)}"), 0.2)
        background.loop("trace link", lambda: trace(repo.root, "link"), 1.0)
        readers = cli_readers(repo.root, [path_of(*a) for a in agents], background.rounds)
        background.loop("cli readers", readers, 0)
        codes = [popen.wait(timeout=TIMEOUT) for _, popen in workers]
        background.stop()
    logs = [(tmp_path / f"worker-{p}.log").read_text(errors="replace") for p in range(procs)]
    assert codes == [0] * procs, logs
    assert logs == [""] * procs  # nothing logged, no warning

    reports: list[AgentReport] = []
    for out, _ in workers:
        reports += json.loads(out.read_text(encoding="utf-8"))
    assert sorted((r["proc"], r["thread"]) for r in reports) == agents
    figures = check_all(repo, person, reports, edits)
    finish("processes", figures | dict(background.rounds))


def test_threads_of_one_process_record_while_a_person_commits(
    repo: GitRepo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """4 recorders in threads of this process, 30 edits each, while another thread
    commits (hook) and another reads through the Python API."""
    threads, edits, pause = 4, 30, 0.1
    agents = [(0, t) for t in range(threads)]
    gate = tmp_path / "edit-gate.lock"
    person = Person(repo, gate)
    base_commit(repo, person, agents)

    background = Background()
    try:
        ticks = iter(range(1 << 30))
        background.loop("commits", lambda: person.commit(f"wip {next(ticks)}"), 0.2)
        readers = api_readers(repo.root, [path_of(*a) for a in agents], background.rounds)
        background.loop("api readers", readers, 0.05)
        reports = run_agents(repo.root, 0, threads, edits, pause, gate)
    finally:
        background.stop()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    figures = check_all(repo, person, reports, edits)
    finish("threads", figures | dict(background.rounds))


# --------------------------------------------------------------------------- one file


A, B = "openai/model-a", "anthropic/model-b"


def blame_types(repo: GitRepo, path: str) -> dict[str, tuple[str, str | None]]:
    """``{line text: (type, model id)}`` from ``trace blame --format json``."""
    data = json.loads(trace(repo.root, "blame", path, "--format", "json").stdout)
    text = (repo.root / path).read_text(encoding="utf-8").splitlines()
    assert len(text) == len(data["lines"]) == len(set(text))
    return {
        text[x["line"] - 1]: (x["contributor"]["type"], x["contributor"]["model_id"])
        for x in data["lines"]
    }


def append(repo: GitRepo, path: str, *lines: str) -> None:
    with (repo.root / path).open("a", encoding="utf-8") as f:
        f.write("".join(f"{line}\n" for line in lines))


@pytest.mark.parametrize(
    ("order", "now"),
    [
        ("a closes first", {"a1": B, "b1": B}),
        ("b closes first", {"a1": A, "b1": A}),
        ("b inside a", {"a1": A, "b1": A}),
    ],
)
def test_overlapping_edit_windows_on_one_file(
    repo: GitRepo, tmp_path: Path, order: str, now: dict[str, str]
) -> None:
    """Known limitation: two recorders whose edit windows on one file overlap. Each
    window labels every line added since *its own* snapshot, so the window that closes
    last claims the other's lines too (``now``: what happens today). What must hold in
    any case: no line either agent wrote is ``human``, each is one of the two models."""
    person = Person(repo, tmp_path / "gate.lock")
    trace(repo.root, "hooks", "install")
    repo.write("f.txt", "person\n")
    person.commit("base")
    with Recorder(repo.root, model_id=A) as rec_a, Recorder(repo.root, model_id=B) as rec_b:
        window_a, window_b = rec_a.edit("f.txt"), rec_b.edit("f.txt")
        window_a.__enter__()
        window_b.__enter__()
        if order == "b inside a":
            append(repo, "f.txt", "b1")
            window_b.__exit__(None, None, None)
            append(repo, "f.txt", "a1")
            window_a.__exit__(None, None, None)
        else:
            append(repo, "f.txt", "a1")
            append(repo, "f.txt", "b1")
            first, second = (
                (window_a, window_b) if order == "a closes first" else (window_b, window_a)
            )
            first.__exit__(None, None, None)
            second.__exit__(None, None, None)
    person.commit("agents")
    got = blame_types(repo, "f.txt")
    assert got.pop("person") == ("human", None)
    assert {who for who, _ in got.values()} == {"ai"}
    assert {model for _, model in got.values()} <= {A, B}
    assert {line: model for line, (_, model) in got.items()} == now


def test_threads_with_overlapping_windows_on_one_file(repo: GitRepo, tmp_path: Path) -> None:
    """The same with real threads: two recorders append to one file in windows that
    overlap at random, while a person commits (never inside a window: see
    test_a_commit_inside_an_edit_window_does_not_make_the_agents_lines_human). Which
    model gets which line is not defined (see above); none is human, each is one of
    the two models."""
    gate = tmp_path / "gate.lock"
    person = Person(repo, gate)
    trace(repo.root, "hooks", "install")
    repo.write("f.txt", "person\n")
    person.commit("base")
    start = threading.Barrier(2)
    written: dict[str, list[str]] = {A: [], B: []}

    def agent(model: str) -> None:
        tag = model.split("/")[1]
        start.wait(timeout=TIMEOUT)
        with Recorder(repo.root, model_id=model) as rec:
            for k in range(15):
                with shared_gate(gate), rec.edit("f.txt"):
                    append(repo, "f.txt", f"{tag} {k}")
                written[model].append(f"{tag} {k}")

    background = Background()
    try:
        background.loop("commits", lambda: person.commit("wip"), 0.1)
        agents = [threading.Thread(target=agent, args=(m,)) for m in (A, B)]
        for thread in agents:
            thread.start()
        for thread in agents:
            thread.join(timeout=TIMEOUT)
    finally:
        background.stop()
    person.commit("final")
    got = blame_types(repo, "f.txt")
    assert got.pop("person") == ("human", None)
    assert sorted(got) == sorted(written[A] + written[B])
    assert {who for who, _ in got.values()} == {"ai"}
    assert {model for _, model in got.values()} <= {A, B}


# ------------------------------------------------------- problems found here, fixed


def test_two_linkers_of_one_commit_write_one_record(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two linkers of one commit, each held just before it writes until the other gets
    there too (or 3 s pass: a linker that excludes the other cannot be joined)."""
    repo.write("a.txt", "a\n")
    head = repo.commit("base")
    both = threading.Barrier(2, timeout=3)
    real_append = TraceStore.append

    def append_when_both_are_here(store: TraceStore, records: Any, **kwargs: Any) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            both.wait()
        real_append(store, records, **kwargs)

    monkeypatch.setattr(TraceStore, "append", append_when_both_are_here)
    linkers = [
        threading.Thread(target=link_commit, args=(TraceStore.open(repo.root), head))
        for _ in range(2)
    ]
    for thread in linkers:
        thread.start()
    for thread in linkers:
        thread.join(timeout=TIMEOUT)
    found = TraceStore.open(repo.root).for_revision(head)
    assert len([s for s in found if is_link_record(s.record)]) == 1


def test_a_commit_inside_an_edit_window_does_not_make_the_agents_lines_human(
    repo: GitRepo,
) -> None:
    trace(repo.root, "hooks", "install")
    repo.write("f.txt", "person\n")
    repo.commit("base")
    with Recorder(repo.root, model_id=A) as rec:
        with rec.edit("f.txt"):
            append(repo, "f.txt", "agent 1")
            repo.commit("a person commits while the agent writes")
        with rec.edit("f.txt"):
            append(repo, "f.txt", "agent 2")
    repo.commit("after")
    got = blame_types(repo, "f.txt")
    assert got["person"] == ("human", None)
    assert got["agent 2"] == ("ai", A)
    assert got["agent 1"][0] != "human"


def test_a_run_is_never_listed_without_its_manifest(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader lists the runs just before each manifest is written."""
    from agent_trace._files import atomic_write

    repo.write("f.txt", "person\n")
    repo.commit("base")
    listed: list[bool] = []

    def list_runs_then_write(path: str | os.PathLike[str], data: bytes, **kwargs: Any) -> None:
        listed.extend(run.manifest_path.exists() for run in TraceStore.open(repo.root).runs())
        atomic_write(path, data, **kwargs)

    monkeypatch.setattr("agent_trace._runs.atomic_write", list_runs_then_write)
    with Recorder(repo.root, model_id=A):
        pass
    assert listed
    assert all(listed)


def test_a_recorder_starting_never_rewrites_the_persons_index(repo: GitRepo) -> None:
    """A tracked file whose stat data changed (same content): ``git status`` would
    refresh the index. A recorder must only read it."""
    target = repo.write("f.txt", "person\n")
    repo.commit("base")
    past = time.time() - 100
    os.utime(target, (past, past))
    index = repo.root / ".git" / "index"
    before = (index.stat().st_ino, index.stat().st_mtime_ns)
    with Recorder(repo.root, model_id=A):
        pass
    assert (index.stat().st_ino, index.stat().st_mtime_ns) == before
