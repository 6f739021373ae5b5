"""Attribution costs: an edit window, linking a commit, and ``trace blame``, each against a
floor measured in the same run.

The script builds its inputs in a temporary directory (nothing is downloaded): a git
repository, written with ``git fast-import``, holding ``src/big.py`` (about 5,000 lines of
generated Python, ``random.Random(seed)``) touched by most of its 500 commits (60 with
``--quick``), and ten ~300-line modules under ``src/pkg/``. A share of the history (the
newest three quarters) is then linked the way the post-commit hook links commits, with
pending AI labels written for two commits in three, so the records and notes that
``trace blame`` reads exist.

Figures (median seconds, ours and floor, and their ratio):

1. ``edit``: ``with rec.edit("src/big.py"):`` (one ``Recorder`` started once) while about
   20 scattered lines of the 5,000 are changed, not counting the write of the file itself.
   Floor: read the file before and after the change, and one
   ``git diff --no-index -U0 OLD NEW`` process on two copies (written untimed).
2. ``link``: the whole process ``python -m agent_trace.cli hook post-commit`` (what the
   installed hook runs) right after a new commit of the ten modules, which were edited in
   a ``rec.edit`` window (a ``Recorder`` with ``link=False``, so only the hook links).
   Floor: ``python -c pass`` plus ``git diff-tree -r -p -U0 HEAD``. Target: 0.25 s.
3. ``blame cold`` / ``blame warm``: the whole process ``trace blame src/big.py --format
   json`` (the console script next to ``sys.executable``; output to ``/dev/null``).
   Cold: the SQLite index of ``traces.jsonl`` and the blame cache (``.agent-trace/cache/``,
   when there is one) deleted before every run, so both are rebuilt; warm: run again with
   nothing changed. Floor: ``git blame --incremental HEAD -- src/big.py``.
4. ``blame next commit``: after one more commit (untimed: an agent's ``rec.edit`` window
   changing 3 lines of ``src/big.py``, committed and linked), ``trace blame`` with the
   blame cache as it was after a blame of the parent (copied aside after warming at the
   parent and copied back before every run). Same floor, at the new commit.

Cases are interleaved within each repeat (ours and floor alternate which goes first) so
that drift of the machine affects them alike; a ratio is the median of the per-repeat
ratios. Nothing here asserts on a time. The Python subprocesses get a bytecode cache in
the work directory (``PYTHONPYCACHEPREFIX``), as an installed package has;
``--no-pycache`` runs them compiling every module from source.

    python -m benchmarks.attribution_bench            # full run (a few minutes)
    python -m benchmarks.attribution_bench --quick    # smoke run (CI)
    python -m benchmarks.attribution_bench --json     # machine-readable output

``python -m benchmarks`` runs these figures together with all the others.
"""

from __future__ import annotations

import argparse
import array
import contextlib
import gc
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from agent_trace import Recorder
from agent_trace._lines import line_keys, split_lines
from agent_trace._link import link_commit
from agent_trace._pending import Label, PendingFile, PendingState
from agent_trace._store import TraceStore

SEED = 20240611
BIG = "src/big.py"
BIG_LINES = 5_000
MODULES = tuple(f"src/pkg/mod_{i}.py" for i in range(10))
MODULE_LINES = 300
MODEL_ID = "anthropic/claude-sonnet-4-5"
TARGET_LINK_S = 0.25
EDIT_LINES = 20
NEXT_COMMIT_LINES = 3
LINKED_SHARE = 0.75
COMMITS_FULL = 500
COMMITS_QUICK = 60
CACHE = ".agent-trace/cache"
"""The blame cache (a directory; removed before every cold run when it exists)."""
INDEX = ".agent-trace/index.sqlite3"
BLAME_FLOOR = ("git", "blame", "--incremental", "HEAD", "--", BIG)

# --------------------------------------------------------------------------- code text

NOUNS = (
    "record", "commit", "path", "line", "range", "label", "state", "buffer", "session",
    "token", "event", "writer", "reader", "index", "cache", "config", "entry", "chunk",
    "digest", "payload", "window", "snapshot", "model", "result", "request", "response",
    "handler", "queue", "batch", "offset", "author", "branch", "hunk", "note", "tree",
)  # fmt: skip
VERBS = (
    "load", "save", "parse", "render", "build", "merge", "split", "apply", "collect",
    "resolve", "update", "check", "encode", "decode", "flush", "scan", "filter", "align",
    "emit", "read", "write", "open", "close", "find", "compute", "normalize", "validate",
)  # fmt: skip
ADJECTIVES = (
    "pending", "current", "last", "raw", "new", "old", "next", "total", "local", "remote",
    "shared", "extra", "valid", "empty", "partial", "cached", "stale", "first",
)  # fmt: skip
TYPES = ("int", "str", "bytes", "bool", "float", "list[str]", "dict[str, int]", "Path", "None")


class CodeWriter:
    """Plausible Python source, a line at a time, from one seeded ``random.Random``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.counter = 0

    def _name(self) -> str:
        rng = self.rng
        if rng.random() < 0.5:
            return f"{rng.choice(ADJECTIVES)}_{rng.choice(NOUNS)}"
        return rng.choice(NOUNS)

    def _call(self) -> str:
        rng = self.rng
        args = ", ".join(self._name() for _ in range(rng.randint(0, 3)))
        if rng.random() < 0.4:
            return f"self.{rng.choice(VERBS)}_{rng.choice(NOUNS)}({args})"
        return f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}({args})"

    def _expr(self) -> str:
        rng = self.rng
        pick = rng.random()
        if pick < 0.35:
            return self._call()
        if pick < 0.5:
            return f"{self._name()}.{rng.choice(NOUNS)}"
        if pick < 0.65:
            return f"{self._name()} + {rng.randint(1, 4096)}"
        if pick < 0.8:
            return f"[{self._name()} for {rng.choice(NOUNS)} in {self._name()}s]"
        if pick < 0.9:
            return f'f"{{{self._name()}}}:{rng.choice(NOUNS)}-{rng.randint(0, 999)}"'
        return f"{self._name()}.get({rng.choice(NOUNS)!r}, {rng.randint(0, 64)})"

    def statement(self, indent: int) -> list[str]:
        """One statement (one to three lines) at ``indent`` spaces."""
        rng = self.rng
        pad = " " * indent
        inner = " " * (indent + 4)
        self.counter += 1
        pick = rng.random()
        if pick < 0.3:
            return [f"{pad}{self._name()} = {self._expr()}"]
        if pick < 0.4:
            return [f"{pad}{self._name()}.append({self._expr()})"]
        if pick < 0.5:
            return [f"{pad}if {self._name()} is None:", f"{inner}return {self._expr()}"]
        if pick < 0.6:
            item = rng.choice(NOUNS)
            return [
                f"{pad}for {item} in {self._name()}s:",
                f"{inner}{self._name()}[{item}] = {self._expr()}",
            ]
        if pick < 0.68:
            words = " ".join(rng.choice(NOUNS + VERBS + ADJECTIVES) for _ in range(6))
            return [f"{pad}# {words} ({self.counter})"]
        if pick < 0.76:
            return [
                f'{pad}log.debug("{rng.choice(VERBS)} %s of %s", {self._name()}, {self._name()})'
            ]
        if pick < 0.84:
            return [
                f"{pad}if {self._name()} > {rng.randint(0, 512)}:",
                f'{inner}raise ValueError(f"{{{self._name()}!r}}: bad {rng.choice(NOUNS)}")',
            ]
        if pick < 0.92:
            return [f"{pad}{self._name()} += {rng.randint(1, 64)}"]
        return [f"{pad}return {self._expr()}"]

    def function(self, indent: int = 0) -> list[str]:
        """A function or method of 5 to 25 lines, ending in a blank line."""
        rng = self.rng
        pad = " " * indent
        self.counter += 1
        name = f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}_{self.counter}"
        params = ["self"] if indent else []
        params += [f"{self._name()}: {rng.choice(TYPES)}" for _ in range(rng.randint(0, 3))]
        out = [f"{pad}def {name}({', '.join(params)}) -> {rng.choice(TYPES)}:"]
        out.append(f'{pad}    """{rng.choice(VERBS).capitalize()} the {self._name()}."""')
        for _ in range(rng.randint(2, 10)):
            out += self.statement(indent + 4)
        out += [f"{pad}    return {self._expr()}", ""]
        return out

    def block(self) -> list[str]:
        """A top-level function or a class with a few methods."""
        if self.rng.random() < 0.7:
            return [*self.function(), ""]
        self.counter += 1
        name = f"{self.rng.choice(NOUNS).capitalize()}{self.rng.choice(VERBS).capitalize()}er"
        out = [f"class {name}{self.counter}:", f'    """The {self._name()} of a {self._name()}."""']
        out.append("")
        for _ in range(self.rng.randint(2, 5)):
            out += self.function(4)
        return [*out, ""]

    def module(self, lines: int) -> list[str]:
        """About ``lines`` lines: a docstring, imports, then functions and classes."""
        rng = self.rng
        out = [f'"""{self._name().capitalize()} and {self._name()} helpers."""', ""]
        out += ["from __future__ import annotations", "", "import logging", "import os"]
        out += [f"from .{rng.choice(NOUNS)} import {self._call().split('(')[0]}" for _ in range(4)]
        out += ["", "log = logging.getLogger(__name__)", ""]
        out += [f"{self._name().upper()}_{i} = {rng.randint(0, 9999)}" for i in range(6)]
        out.append("")
        while len(out) < lines:
            out += self.block()
        return out[:lines]

    def chunk(self, lines: int) -> list[str]:
        """``lines`` lines of function-body statements (a replacement or insertion)."""
        out: list[str] = []
        indent = self.rng.choice((4, 8))
        while len(out) < lines:
            out += self.statement(indent)
        return out[:lines]


def _text(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def mutate(writer: CodeWriter, lines: list[str], target: int) -> None:
    """One commit's worth of edits: 1-4 blocks of 1-30 lines replaced, inserted or
    deleted, keeping the file within a few percent of ``target`` lines."""
    rng = writer.rng
    for _ in range(rng.randint(1, 4)):
        size = rng.randint(1, 30)
        at = rng.randrange(0, max(1, len(lines) - size))
        pick = rng.random()
        if len(lines) > target * 1.01:
            pick = 0.9
        elif len(lines) < target * 0.99:
            pick = 0.7
        if pick < 0.6:
            lines[at : at + size] = writer.chunk(size)
        elif pick < 0.8:
            lines[at:at] = writer.function(0) if rng.random() < 0.5 else writer.chunk(size)
        else:
            del lines[at : at + size]


def scatter(writer: CodeWriter, lines: list[str], count: int) -> None:
    """Change ``count`` lines spread over the file (same indentation, new text)."""
    rng = writer.rng
    for at in rng.sample(range(len(lines)), min(count, len(lines))):
        indent = len(lines[at]) - len(lines[at].lstrip(" "))
        lines[at] = writer.statement(min(indent, 12) or 4)[0]


# --------------------------------------------------------------------------- repository


def git(cwd: Path, *args: str, input: bytes | None = None) -> bytes:
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.decode().strip()}")
    return proc.stdout


@contextlib.contextmanager
def isolated_environment(home: Path, pycache: Path | None) -> Iterator[None]:
    """Keep git (ours and the subprocesses') away from the user's configuration, and give
    the Python subprocesses a bytecode cache in ``pycache`` (``None``: no cache, every
    module compiled from source at each start)."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / ".gitconfig"
    config.write_text(
        "[user]\n\tname = Bench Human\n\temail = human@example.com\n"
        "[commit]\n\tgpgsign = false\n[init]\n\tdefaultBranch = main\n",
        encoding="utf-8",
    )
    values = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(config),
        "GIT_TERMINAL_PROMPT": "0",
    }
    dropped: tuple[str, ...] = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")
    dropped += ("GIT_OBJECT_DIRECTORY", "PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE")
    if pycache is None:
        values["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        values["PYTHONPYCACHEPREFIX"] = str(pycache)
    saved = {k: os.environ.get(k) for k in (*values, *dropped)}
    for key in dropped:
        os.environ.pop(key, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


AUTHORS = (
    ("Coding Agent", "agent@example.com"),
    ("Ada Human", "ada@example.com"),
    ("Bob Human", "bob@example.com"),
)


class History:
    """What the generated history holds, for linking it afterwards."""

    def __init__(self) -> None:
        self.shas: list[str] = []
        self.big_keys: dict[int, array.array[int]] = {}
        """Line keys of ``src/big.py`` at the commits to be linked that touched it."""
        self.big_commits = 0
        self.big_lines = 0
        self.build_s = 0.0


def build_repository(root: Path, commits: int, seed: int) -> History:
    """``git init`` + one ``git fast-import`` stream: an initial commit with every file,
    then ``commits - 1`` commits changing ``src/big.py`` (most of them) and sometimes a
    module. Populates the work tree."""
    start = time.perf_counter()
    history = History()
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    writer = CodeWriter(random.Random(seed))
    rng = writer.rng
    big = writer.module(BIG_LINES)
    modules = [writer.module(MODULE_LINES) for _ in MODULES]
    first_linked = commits - int(commits * LINKED_SHARE)
    stream: list[bytes] = []

    def data(payload: bytes) -> None:
        stream.append(b"data %d\n" % len(payload))
        stream.append(payload)
        stream.append(b"\n")

    when = 1_700_000_000
    for n in range(commits):
        changed: dict[str, bytes] = {}
        if n == 0:
            changed[BIG] = _text(big)
            changed.update((p, _text(m)) for p, m in zip(MODULES, modules, strict=True))
            changed["README.md"] = b"# bench\n\nGenerated for attribution_bench.py.\n"
        else:
            if rng.random() < 0.85:
                mutate(writer, big, BIG_LINES)
                changed[BIG] = _text(big)
            if BIG not in changed or rng.random() < 0.2:
                i = rng.randrange(len(MODULES))
                mutate(writer, modules[i], MODULE_LINES)
                changed[MODULES[i]] = _text(modules[i])
        if BIG in changed:
            history.big_commits += 1
            if n >= first_linked and n % 3 != 0:
                history.big_keys[n] = array.array("Q", line_keys(split_lines(changed[BIG])))
        name, email = AUTHORS[n % 3]
        when += rng.randint(60, 7200)
        message = f"{'agent' if n % 3 else 'human'} change {n}\n".encode()
        stream.append(b"commit refs/heads/main\nmark :%d\n" % (n + 1))
        stream.append(f"author {name} <{email}> {when} +0000\n".encode())
        stream.append(f"committer {name} <{email}> {when} +0000\n".encode())
        data(message)
        if n:
            stream.append(b"from :%d\n" % n)
        for path, content in changed.items():
            stream.append(f"M 100644 inline {path}\n".encode())
            data(content)
        stream.append(b"\n")
    marks = root / ".git" / "bench-marks"
    git(root, "fast-import", "--quiet", f"--export-marks={marks}", input=b"".join(stream))
    by_mark = {}
    for line in marks.read_text().splitlines():
        mark, sha = line.split()
        by_mark[int(mark[1:])] = sha
    history.shas = [by_mark[n + 1] for n in range(commits)]
    git(root, "reset", "-q", "--hard", "main")
    history.big_lines = len(big)
    history.build_s = time.perf_counter() - start
    return history


def link_history(root: Path, history: History) -> tuple[int, float]:
    """Link the newest ``LINKED_SHARE`` of the commits as the post-commit hook would
    have: before each one, the pending state of ``src/big.py`` says an agent wrote all
    its lines (commits ``n % 3 == 1``) or the first half (``n % 3 == 2``); other commits
    have no pending state and link as human. Returns (commits linked, seconds)."""
    start = time.perf_counter()
    store = TraceStore.open(root)
    pending = PendingState(store.directory / "pending")
    first = len(history.shas) - int(len(history.shas) * LINKED_SHARE)
    linked = 0
    for n in range(max(first, 1), len(history.shas)):
        keys = history.big_keys.get(n)
        if keys is None:
            pending.delete(BIG)
        else:
            label = Label(
                model_id=MODEL_ID,
                run_id=f"bench-run-{n // 10}",
                turn_id=f"turn-{n % 10 + 1}",
                item_id=f"edit-{n}",
                tool_name="bench-agent",
            )
            ai = len(keys) if n % 3 == 1 else len(keys) // 2
            labels: list[Label | None] = [label] * ai + [None] * (len(keys) - ai)
            pending.save(PendingFile(path=BIG, keys=keys.tolist(), labels=labels))
        link_commit(store, history.shas[n], linked_by="hook")
        linked += 1
    pending.delete(BIG)
    return linked, time.perf_counter() - start


# --------------------------------------------------------------------------- timing


def timed_run(args: list[str], cwd: Path, *, stdout: int | None = None) -> float:
    """Wall time of one process (output captured unless ``stdout`` says otherwise)."""
    start = time.perf_counter()
    proc = subprocess.run(
        args,
        cwd=cwd,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = time.perf_counter() - start
    # The hook exits 0 even when it fails (it must never break git) but says so on
    # stderr; none of the commands timed here has anything to say when all is well.
    if proc.returncode != 0 or proc.stderr:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr.decode()}")
    return elapsed


def interleave(
    repeats: int, cases: dict[str, Callable[[], float]], warmup: bool = True
) -> dict[str, list[float]]:
    """Run every case once per repeat; the order rotates so no case always goes first."""
    names = list(cases)
    samples: dict[str, list[float]] = {name: [] for name in names}
    if warmup:
        for name in names:
            cases[name]()
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            gc.collect()
            samples[name].append(cases[name]())
    return samples


def figure(ours: list[float], floor: list[float]) -> dict[str, float]:
    """Medians of ours and of the floor, and the median of the per-repeat ratios (ours and
    the floor of one repeat ran next to each other, so drift of the machine cancels)."""
    o, f = statistics.median(ours), statistics.median(floor)
    if len(ours) == len(floor):
        ratio = statistics.median([a / b for a, b in zip(ours, floor, strict=True)])
    else:
        ratio = o / f
    return {"ours_s": o, "floor_s": f, "ratio": ratio}


def trace_command() -> list[str]:
    """The ``trace`` console script next to ``sys.executable``, else ``python -m
    agent_trace.cli``."""
    trace = Path(sys.executable).parent / "trace"
    return [str(trace)] if trace.exists() else [sys.executable, "-m", "agent_trace.cli"]


def remove_blame_caches(root: Path) -> None:
    """What a cold ``trace blame`` must rebuild: the blame cache and the SQLite index."""
    shutil.rmtree(root / CACHE, ignore_errors=True)
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{root / INDEX}{suffix}")


# --------------------------------------------------------------------------- figures


def bench_edit(root: Path, scratch: Path, repeats: int, seed: int) -> dict[str, float]:
    """Figure 1: an edit window on the 5,000-line file vs two reads and a diff process."""
    path = root / BIG
    writer = CodeWriter(random.Random(seed + 1))
    ours_lines = path.read_text().splitlines()
    floor_file = scratch / "floor-big.py"
    shutil.copyfile(path, floor_file)
    floor_lines = list(ours_lines)
    old_copy, new_copy = scratch / "old.py", scratch / "new.py"

    with Recorder(root, tool_name="bench-agent", model_id=MODEL_ID) as rec:

        def ours() -> float:
            scatter(writer, ours_lines, EDIT_LINES)
            new = _text(ours_lines)
            start = time.perf_counter()
            with rec.edit(BIG):
                write_start = time.perf_counter()
                path.write_bytes(new)
                write_s = time.perf_counter() - write_start
            return time.perf_counter() - start - write_s

        def floor() -> float:
            scatter(writer, floor_lines, EDIT_LINES)
            new = _text(floor_lines)
            start = time.perf_counter()
            before = floor_file.read_bytes()
            first = time.perf_counter() - start
            floor_file.write_bytes(new)  # the agent's write: not timed, as in ours
            old_copy.write_bytes(before)
            new_copy.write_bytes(new)
            start = time.perf_counter()
            after = floor_file.read_bytes()
            diff = ["git", "diff", "--no-index", "-U0", "--", str(old_copy), str(new_copy)]
            proc = subprocess.run(diff, capture_output=True, check=False)
            second = time.perf_counter() - start
            if proc.returncode != 1 or len(after) != len(new):
                raise RuntimeError(f"git diff --no-index: {proc.returncode} {proc.stderr!r}")
            return first + second

        samples = interleave(repeats, {"ours": ours, "floor": floor})
    if rec.dropped:
        raise RuntimeError(f"the recorder dropped {rec.dropped} events")
    git(root, "checkout", "-q", "--", BIG)
    PendingState(root / ".agent-trace" / "pending").delete(BIG)
    return figure(samples["ours"], samples["floor"])


def bench_link(root: Path, repeats: int, seed: int) -> dict[str, float]:
    """Figure 2: the post-commit hook process after a 10-file commit vs ``python -c pass``
    plus ``git diff-tree``."""
    writer = CodeWriter(random.Random(seed + 2))
    contents = [(root / p).read_text().splitlines() for p in MODULES]
    hook = [sys.executable, "-m", "agent_trace.cli", "hook", "post-commit"]
    floor_python = [sys.executable, "-c", "pass"]
    floor_git = ["git", "diff-tree", "-r", "-p", "-U0", "HEAD"]
    store = TraceStore.open(root)
    counter = [0]

    with Recorder(root, tool_name="bench-agent", model_id=MODEL_ID, link=False) as rec:

        def commit() -> str:
            with rec.edit(*MODULES):
                for path, lines in zip(MODULES, contents, strict=True):
                    scatter(writer, lines, 8)
                    (root / path).write_bytes(_text(lines))
            counter[0] += 1
            git(root, "add", "--", *MODULES)
            git(root, "commit", "-q", "-m", f"agent: ten modules ({counter[0]})", "--", *MODULES)
            return git(root, "rev-parse", "HEAD").decode().strip()

        def ours() -> float:
            sha = commit()
            elapsed = timed_run(hook, root)
            results = store.for_revision(sha)
            if not results:
                raise RuntimeError(f"the hook did not link {sha}")
            return elapsed

        def floor() -> float:
            return timed_run(floor_python, root) + timed_run(floor_git, root)

        samples = interleave(repeats, {"ours": ours, "floor": floor})
    return figure(samples["ours"], samples["floor"])


def blame_command() -> list[str]:
    return [*trace_command(), "blame", BIG, "--format", "json"]


def bench_blame(root: Path, repeats: int) -> tuple[dict[str, float], dict[str, float]]:
    """Figure 3: ``trace blame`` cold (index and blame cache rebuilt) and warm vs ``git
    blame``."""
    blame = blame_command()
    floor_args = list(BLAME_FLOOR)

    def cold() -> float:
        remove_blame_caches(root)
        return timed_run(blame, root, stdout=subprocess.DEVNULL)

    def warm() -> float:
        return timed_run(blame, root, stdout=subprocess.DEVNULL)

    def floor() -> float:
        return timed_run(floor_args, root)

    # Rotation would put cold right after warm or vice versa; keep cold -> warm pairs
    # and alternate the floor before and after them.
    def pair() -> float:
        samples["cold"].append(cold())
        samples["warm"].append(warm())
        return 0.0

    samples: dict[str, list[float]] = {"cold": [], "warm": []}
    floors = interleave(repeats, {"pair": pair, "floor": floor})["floor"]
    del samples["cold"][0], samples["warm"][0]  # the warm-up
    return figure(samples["cold"], floors), figure(samples["warm"], floors)


def bench_blame_next(root: Path, scratch: Path, repeats: int, seed: int) -> dict[str, Any]:
    """Figure 4: ``trace blame`` after a new commit changing 3 lines of the big file, with
    the blame cache of the parent restored before every run, vs ``git blame`` at the new
    commit."""
    blame = blame_command()
    floor_args = list(BLAME_FLOOR)
    cache = root / CACHE
    aside = scratch / "cache-at-parent"
    shutil.rmtree(aside, ignore_errors=True)
    timed_run(blame, root, stdout=subprocess.DEVNULL)  # warm at the parent
    timed_run(blame, root, stdout=subprocess.DEVNULL)
    had_cache = cache.is_dir()
    if had_cache:
        shutil.copytree(cache, aside, symlinks=True)
    writer = CodeWriter(random.Random(seed + 3))
    lines = (root / BIG).read_text().splitlines()
    with Recorder(root, tool_name="bench-agent", model_id=MODEL_ID) as rec:
        with rec.edit(BIG):
            scatter(writer, lines, NEXT_COMMIT_LINES)
            (root / BIG).write_bytes(_text(lines))
        git(root, "commit", "-q", "-m", "agent: three lines of big.py", "--", BIG)
        rec.link()
    if rec.dropped:
        raise RuntimeError(f"the recorder dropped {rec.dropped} events")

    def restore() -> None:
        shutil.rmtree(cache, ignore_errors=True)
        if had_cache:
            shutil.copytree(aside, cache, symlinks=True)

    def ours() -> float:
        restore()
        return timed_run(blame, root, stdout=subprocess.DEVNULL)

    def floor() -> float:
        return timed_run(floor_args, root)

    samples = interleave(repeats, {"ours": ours, "floor": floor})
    restore()
    return {
        **figure(samples["ours"], samples["floor"]),
        "changed_lines": NEXT_COMMIT_LINES,
        "cache_at_parent": had_cache,
    }


def blame_summary(root: Path) -> dict[str, int]:
    out = subprocess.run(blame_command(), cwd=root, capture_output=True, check=True).stdout
    summary: dict[str, int] = json.loads(out)["summary"]
    return summary


# --------------------------------------------------------------------------- driver


class Prepared(NamedTuple):
    """The repository the figures run on (built and linked once)."""

    root: Path
    scratch: Path
    setup: dict[str, Any]


def prepare(base: Path, commits: int, seed: int) -> Prepared:
    """Build the repository in ``base/repo`` and link the newest commits (inside
    :func:`isolated_environment`); one untimed ``trace blame`` summarises it."""
    root = base / "repo"
    if root.exists():
        shutil.rmtree(root)
    scratch = base / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    history = build_repository(root, max(commits, 4), seed)
    linked, link_s = link_history(root, history)
    traces = root / ".agent-trace" / "traces.jsonl"
    setup = {
        "commits": max(commits, 4),
        "big_lines": history.big_lines,
        "big_commits": history.big_commits,
        "build_s": history.build_s,
        "linked": linked,
        "link_history_s": link_s,
        "traces_bytes": traces.stat().st_size if traces.exists() else 0,
        "blame": blame_summary(root),
    }
    return Prepared(root, scratch, setup)


def git_version() -> str:
    return subprocess.run(
        ["git", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()


def run_benchmark(
    commits: int, repeats: int, seed: int, workdir: Path | None, pycache: bool
) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        if workdir is None:
            base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="attr-bench-")))
        else:
            base = workdir
            base.mkdir(parents=True, exist_ok=True)
        stack.enter_context(
            isolated_environment(base / "home", base / "pycache" if pycache else None)
        )
        root, scratch, setup = prepare(base, commits, seed)
        blame_cold, blame_warm = bench_blame(root, repeats)
        blame_next = bench_blame_next(root, scratch, repeats, seed)
        edit = bench_edit(root, scratch, repeats * 2, seed)
        link = bench_link(root, repeats, seed)
    return {
        "setup": setup,
        "repeats": repeats,
        "pycache": pycache,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "git": git_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "figures": {
            "edit": edit,
            "link": link,
            "blame_cold": blame_cold,
            "blame_warm": blame_warm,
            "blame_next": blame_next,
        },
    }


LABELS = {
    "edit": ("rec.edit, 5,000-line file, 20 lines", "2 reads + git diff --no-index -U0"),
    "link": ("hook post-commit, 10-file commit", "python -c pass + git diff-tree -p -U0"),
    "blame_cold": ("trace blame --format json, cold", "git blame --incremental HEAD"),
    "blame_warm": ("trace blame --format json, warm", "git blame --incremental HEAD"),
    "blame_next": ("trace blame, next commit (3 lines)", "git blame --incremental HEAD"),
}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def format_table(report: dict[str, Any]) -> str:
    setup = report["setup"]
    blame = ", ".join(f"{k} {v}" for k, v in setup["blame"].items())
    lines = [
        f"agent-trace attribution benchmark: median of {report['repeats']} runs "
        f"({report['repeats'] * 2} for rec.edit)",
        f"Python {report['implementation']} {report['python']}, {report['git']}; "
        f"{report['machine']}",
        "Python subprocesses: "
        + (
            "bytecode cache in the work directory (PYTHONPYCACHEPREFIX)"
            if report["pycache"]
            else "no bytecode cache (PYTHONDONTWRITEBYTECODE=1)"
        ),
        f"repository: {setup['commits']} commits, {BIG} {setup['big_lines']} lines touched by "
        f"{setup['big_commits']} commits; built in {setup['build_s']:.1f} s",
        f"linked {setup['linked']} commits in {setup['link_history_s']:.1f} s "
        f"(traces.jsonl {setup['traces_bytes'] / 1024:.0f} KiB); blame: {blame}",
        "",
        f"{'figure':<36}{'ours':>11}{'floor':>11}{'ratio':>8}  floor",
    ]
    for name, values in report["figures"].items():
        label, floor = LABELS[name]
        lines.append(
            f"{label:<36}{_ms(values['ours_s']):>11}{_ms(values['floor_s']):>11}"
            f"{values['ratio']:>7.2f}x  {floor}"
        )
    link = report["figures"]["link"]["ours_s"]
    verdict = "met" if link <= TARGET_LINK_S else "NOT met"
    lines += ["", f"target: hook post-commit <= {TARGET_LINK_S:g} s: {verdict} ({link:.3f} s)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small smoke run (CI)")
    parser.add_argument(
        "--json", action="store_true", help="print {name: {ours_s, floor_s, ratio}}"
    )
    parser.add_argument("-c", "--commits", type=int, help="commits in the generated history")
    parser.add_argument("-r", "--repeats", type=int, help="runs per case (median reported)")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the generated code")
    parser.add_argument(
        "--no-pycache",
        action="store_true",
        help="run the Python subprocesses without a bytecode cache (PYTHONDONTWRITEBYTECODE=1)",
    )
    parser.add_argument(
        "--workdir", type=Path, help="build in this directory and keep it (for profiling)"
    )
    args = parser.parse_args(argv)
    commits = args.commits or (COMMITS_QUICK if args.quick else COMMITS_FULL)
    repeats = args.repeats or (3 if args.quick else 9)
    report = run_benchmark(commits, max(repeats, 1), args.seed, args.workdir, not args.no_pycache)
    if args.json:
        sys.stdout.write(json.dumps(report["figures"], indent=2) + "\n")
    else:
        print(format_table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
