"""``trace report`` (a snapshot of HEAD, a range, HTML) against ``git blame`` of every
file, measured in the same run.

The script builds (in a temporary directory, nothing downloaded) a git repository of
about 100 Python files of a few hundred lines in 10 directories (30 small files with
``--quick``), plus a README and a binary file, and a history of about 400 commits (60):

- commit 1 imports every other file and is never linked (its lines stay ``unknown``
  unless later commits replace them); commit 2, a person's, adds the others and is
  linked (``human``);
- then agent *sessions* of 4-14 commits, each a real :class:`~agent_trace.Recorder`
  (three models in turn): three commits in four are an agent's ``rec.edit`` window over
  1-3 files (blocks replaced, inserted or deleted, and sometimes a few existing lines
  tweaked, which makes ``mixed`` lines out of people's lines); the others are a person's
  plain writes (new lines, or tweaks of agent lines). Each commit is made with ``git
  commit`` and linked at once, in process, by ``rec.link()`` (``link_commit``, the code
  the post-commit hook runs, without starting Python 400 times; linking must follow each
  commit because the pending state it reads is the state of that commit);
- after every second session, one or two commits of a person with no recorder running
  and no hooks: never linked, so their lines are ``unknown``.

Each case below is run as a whole process (the ``trace`` console script next to
``sys.executable``, or ``git``), median of 3 runs after a warm-up, interleaved so drift
affects all cases alike:

- floor A: ``git blame --incremental HEAD -- FILE`` for every text file, one after another;
- floor B: the same blames, two at a time (a pool of two threads, one process each): the
  best a 2-core machine can do;
- ``trace report --format json -q`` (default ``-j``: one blame per core) and ``-j 1``;
- ``trace report C10..HEAD --format json -q`` (C10: the 10th commit);
- ``trace report --format html -q -o FILE``.

The snapshot report's total (and each file's) must equal the lines of the text files
(``git ls-files``, newlines counted here): the benchmark checks that every line was
counted, untimed. Peak memory of the snapshot report comes from a separate run in a
fresh process (``VmHWM`` for the Python process, ``RUSAGE_CHILDREN`` for its largest
``git`` child: an upper bound, see :func:`peak_memory`). Nothing here asserts on a time.

    python -m benchmarks.report_bench             # 400 commits, 100 files (a few minutes)
    python -m benchmarks.report_bench --quick     # 60 commits, 30 small files (CI)
    python -m benchmarks.report_bench --keep DIR  # keep the repository (DIR/repo)

``python -m benchmarks`` runs the snapshot against floor A (``bench_snapshot``) with all
the other figures.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from agent_trace import Recorder
from benchmarks.attribution_bench import (
    NOUNS,
    CodeWriter,
    _text,
    figure,
    git,
    git_version,
    interleave,
    isolated_environment,
    mutate,
    trace_command,
)

SEED = 20250301
MODELS = ("anthropic/claude-sonnet-4-5", "openai/gpt-5-codex", "google/gemini-2.5-pro")
DIRECTORIES = (
    "src/app",
    "src/app/api",
    "src/app/core",
    "src/app/storage",
    "src/cli",
    "src/util",
    "lib/parsing",
    "lib/render",
    "tools",
    "tests",
)
AGENT = ("Coding Agent", "agent@example.com")
HUMANS = (("Ada Human", "ada@example.com"), ("Bob Human", "bob@example.com"))
BINARY = "assets/logo.bin"
REPEATS = 3
COMMITS_FULL, FILES_FULL, SIZE_FULL = 400, 100, (150, 450)
COMMITS_QUICK, FILES_QUICK, SIZE_QUICK = 60, 30, (30, 90)

# --------------------------------------------------------------------------- repository


class Generated:
    """What :func:`generate` made."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.shas: list[str] = []
        self.agent_commits = 0
        self.human_linked = 0
        self.human_unlinked = 0
        self.sessions = 0
        self.seconds = 0.0


def tweak(writer: CodeWriter, lines: list[str], count: int) -> None:
    """Change ``count`` code lines a little (most of each line kept): what a reviewer
    does to an agent's line, or an agent to a person's."""
    rng = writer.rng
    code = [i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")]
    for at in rng.sample(code, min(count, len(code))):
        line = lines[at]
        word = rng.choice(NOUNS)
        if word in line and rng.random() < 0.5:
            lines[at] = line.replace(word, f"{word}_{rng.randint(1, 9)}", 1)
        else:
            lines[at] = f"{line}  # {word}"


def commit(root: Path, author: tuple[str, str], message: str, when: int) -> None:
    name, email = author
    git(
        root,
        *("-c", f"user.name={name}", "-c", f"user.email={email}"),
        *("commit", "-q", "-a", f"--date=@{when} +0000", "-m", message),
    )


def generate(root: Path, commits: int, files: int, size: tuple[int, int], seed: int) -> Generated:
    """The repository and history described in the module docstring."""
    start = time.perf_counter()
    out = Generated(root)
    rng = random.Random(seed)
    writer = CodeWriter(rng)
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    targets: dict[str, int] = {}
    contents: dict[str, list[str]] = {}
    for i in range(files):
        path = f"{DIRECTORIES[i % len(DIRECTORIES)]}/{rng.choice(NOUNS)}_{i}.py"
        targets[path] = rng.randint(*size)
        contents[path] = writer.module(targets[path])
    paths = sorted(contents)

    def write(path: str) -> None:
        (root / path).write_bytes(_text(contents[path]))

    legacy, rest = paths[::2], paths[1::2]
    for path in legacy:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        write(path)
    (root / "README.md").write_text("# report bench\n\nGenerated by report_bench.py.\n")
    (root / BINARY).parent.mkdir(parents=True, exist_ok=True)
    (root / BINARY).write_bytes(bytes(rng.randrange(256) for _ in range(4096)) + b"\0")
    when = 1_700_000_000
    git(root, "add", "-A")
    commit(root, HUMANS[0], "import the legacy code", when)
    with Recorder(root, tool_name="bench-agent") as rec:
        for path in rest:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            write(path)
        git(root, "add", "-A")
        commit(root, HUMANS[1], "add the rest of the project", when + 3600)
        rec.link()
    out.human_linked = 1
    made = 2
    unlinked_done = False

    def human_change() -> None:
        for path in rng.sample(paths, rng.randint(1, 2)):
            if rng.random() < 0.5:
                tweak(writer, contents[path], rng.randint(2, 8))
            else:
                mutate(writer, contents[path], targets[path])
            write(path)

    while made < commits:
        when += rng.randint(600, 7200)
        if out.sessions and out.sessions % 2 == 0 and not unlinked_done:
            # After every second session: no recorder, no hooks, never linked.
            for _ in range(min(rng.randint(1, 2), commits - made)):
                human_change()
                commit(root, rng.choice(HUMANS), f"unlinked change {made}", when)
                out.human_unlinked += 1
                made += 1
            unlinked_done = True
            continue
        unlinked_done = False
        model = MODELS[out.sessions % len(MODELS)]
        out.sessions += 1
        with Recorder(root, tool_name="bench-agent", model_id=model) as rec:
            for _ in range(min(rng.randint(4, 14), commits - made)):
                when += rng.randint(60, 1800)
                if rng.random() < 0.75:
                    chosen = rng.sample(paths, rng.randint(1, 3))
                    with rec.edit(*chosen):
                        for path in chosen:
                            mutate(writer, contents[path], targets[path])
                            if rng.random() < 0.3:
                                tweak(writer, contents[path], rng.randint(1, 6))
                            write(path)
                    commit(root, AGENT, f"agent ({model}) change {made}", when)
                    out.agent_commits += 1
                else:
                    human_change()
                    commit(root, rng.choice(HUMANS), f"human change {made}", when)
                    out.human_linked += 1
                rec.link()
                made += 1
        if rec.dropped:
            raise RuntimeError(f"the recorder dropped {rec.dropped} events")
    out.shas = git(root, "rev-list", "--reverse", "HEAD").decode().split()
    out.seconds = time.perf_counter() - start
    return out


def text_files(root: Path) -> dict[str, int]:
    """Lines of every text file of the index (``git ls-files``; binary: a NUL byte in the
    first 8,000), counted here independently of agent_trace."""
    out = {}
    for path in git(root, "ls-files", "-z").decode().split("\0"):
        if not path:
            continue
        data = (root / path).read_bytes()
        if b"\0" in data[:8000]:
            continue
        out[path] = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    return out


# --------------------------------------------------------------------------- running


def run(args: list[str], cwd: Path, *, keep: bool = False) -> tuple[float, bytes]:
    """Wall time of one process, and its output when ``keep`` (else read and dropped).
    Fails on a non-zero exit or anything on stderr but ``wrote FILE`` (``-o``)."""
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    err = b"\n".join(x for x in proc.stderr.splitlines() if not x.startswith(b"wrote "))
    if proc.returncode != 0 or err.strip():
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stderr.decode()}")
    return elapsed, proc.stdout if keep else b""


def blame_all(root: Path, paths: list[str], workers: int) -> float:
    """Floor: ``git blame --incremental HEAD`` of every path, ``workers`` at a time."""
    start = time.perf_counter()

    def one(path: str) -> None:
        run(["git", "blame", "--incremental", "HEAD", "--", path], root)

    if workers == 1:
        for path in paths:
            one(path)
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(one, paths))
    return time.perf_counter() - start


PEAK = """\
import atexit, resource, runpy, sys
out, sys.argv = sys.argv[1], ["trace", *sys.argv[2:]]
def dump():
    s = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:  # ru_maxrss includes the RSS of the process that started this one; VmHWM does not
        with open("/proc/self/status") as f:
            s = next(int(x.split()[1]) for x in f if x.startswith("VmHWM:"))
    except (OSError, StopIteration):
        pass
    c = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    open(out, "w").write(f"{s} {c}")
atexit.register(dump)
runpy.run_module("agent_trace.cli", run_name="__main__", alter_sys=True)
"""


def peak_memory(root: Path, scratch: Path, args: list[str]) -> tuple[float, float]:
    """``(python MB, largest child MB)`` of ``trace ARGS`` in a fresh process, read at
    exit: ``VmHWM`` of ``/proc/self/status`` (else ``ru_maxrss`` of ``RUSAGE_SELF``) and
    ``ru_maxrss`` of ``RUSAGE_CHILDREN``. On Linux a child started by fork or vfork + exec
    inherits the peak RSS of its parent, so the child figure is an upper bound: at least
    the trace process's RSS when it started that child."""
    result = scratch / "peak.txt"
    run([sys.executable, "-c", PEAK, str(result), *args], root)
    own, children = (int(x) / 1024 for x in result.read_text().split())
    return own, children


# --------------------------------------------------------------------------- driver


class Inputs(NamedTuple):
    """The generated repository (``base/repo``) and what it holds."""

    root: Path
    scratch: Path
    gen: Generated
    counted: dict[str, int]
    """Lines of every text file, counted independently of agent_trace."""

    @property
    def paths(self) -> list[str]:
        return sorted(self.counted)


def build_inputs(base: Path, commits: int, files: int, size: tuple[int, int], seed: int) -> Inputs:
    """Generate the repository in ``base/repo`` (inside :func:`isolated_environment`)."""
    root = base / "repo"
    scratch = base / "scratch"
    scratch.mkdir(parents=True)
    gen = generate(root, max(commits, 12), max(files, 2), size, seed)
    return Inputs(root, scratch, gen, text_files(root))


def range_spec(inputs: Inputs) -> str:
    """``C10..HEAD``: from the 10th commit."""
    shas = inputs.gen.shas
    return f"{shas[min(9, len(shas) - 2)]}..HEAD"


def report_commands(inputs: Inputs) -> dict[str, list[str]]:
    trace = [*trace_command(), "report"]
    return {
        "snapshot": [*trace, "--format", "json", "-q"],
        "snapshot -j 1": [*trace, "--format", "json", "-q", "-j", "1"],
        "range": [*trace, range_spec(inputs), "--format", "json", "-q"],
        "html": [*trace, "--format", "html", "-q", "-o", str(inputs.scratch / "report.html")],
    }


def checked_snapshot(inputs: Inputs) -> dict[str, Any]:
    """The snapshot report (untimed), checked against the files' lines."""
    snapshot: dict[str, Any] = json.loads(
        run(report_commands(inputs)["snapshot"], inputs.root, keep=True)[1]
    )
    check_snapshot(snapshot, inputs.counted)
    return snapshot


def bench_snapshot(inputs: Inputs, repeats: int) -> dict[str, Any]:
    """``trace report --format json`` at HEAD against floor A (``git blame`` of every text
    file, one after another), interleaved; the report's counts checked first."""
    snapshot = checked_snapshot(inputs)
    command = report_commands(inputs)["snapshot"]
    root, paths = inputs.root, inputs.paths
    samples = interleave(
        repeats,
        {"ours": lambda: run(command, root)[0], "floor": lambda: blame_all(root, paths, 1)},
    )
    return {
        **figure(samples["ours"], samples["floor"]),
        "files": len(paths),
        "lines": sum(inputs.counted.values()),
        "commits": len(inputs.gen.shas),
        "lines_counted": {
            kind: snapshot["total"]["lines"][kind]
            for kind in ("total", "ai", "mixed", "human", "unknown")
        },
    }


def run_benchmark(
    commits: int,
    files: int,
    size: tuple[int, int],
    seed: int,
    keep: Path | None,
    repeats: int = REPEATS,
) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        if keep is None:
            base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="report-bench-")))
        else:
            if keep.exists() and any(keep.iterdir()):
                raise SystemExit(f"--keep {keep}: not empty (nothing is reused between runs)")
            base = keep.absolute()
            base.mkdir(parents=True, exist_ok=True)
        stack.enter_context(isolated_environment(base / "home", base / "pycache"))
        inputs = build_inputs(base, commits, files, size, seed)
        root, scratch, gen, counted = inputs
        paths = inputs.paths
        commands = report_commands(inputs)
        html = scratch / "report.html"

        # Untimed: what the reports count.
        snapshot = checked_snapshot(inputs)
        ranged = json.loads(run(commands["range"], root, keep=True)[1])
        own_mb, child_mb = peak_memory(root, scratch, commands["snapshot"][len(trace_command()) :])

        def case(args: list[str]) -> Callable[[], float]:
            return lambda: run(args, root)[0]

        cases = {
            "floor A": lambda: blame_all(root, paths, 1),
            "floor B": lambda: blame_all(root, paths, 2),
            **{name: case(args) for name, args in commands.items()},
        }
        samples = interleave(repeats, cases)
        if not html.stat().st_size:
            raise RuntimeError(f"{html} is empty")
        traces = root / ".agent-trace" / "traces.jsonl"
        return {
            "setup": {
                "commits": len(gen.shas),
                "agent_commits": gen.agent_commits,
                "human_linked": gen.human_linked,
                "human_unlinked": gen.human_unlinked,
                "sessions": gen.sessions,
                "generate_s": gen.seconds,
                "text_files": len(paths),
                "lines": sum(counted.values()),
                "traces_kib": traces.stat().st_size / 1024 if traces.exists() else 0.0,
                "range": range_spec(inputs),
                "repo": str(root) if keep is not None else None,
            },
            "snapshot": snapshot["total"]["lines"],
            "range": {
                "commits": ranged["range"]["commits"],
                "added": ranged["total"]["added"],
                "removed": ranged["total"]["removed"],
            },
            "peak_mb": {"python": own_mb, "git_child": child_mb},
            "medians": {name: statistics.median(s) for name, s in samples.items()},
            "repeats": repeats,
            "python": platform.python_version(),
            "git": git_version(),
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        }


def check_snapshot(report: dict[str, Any], counted: dict[str, int]) -> None:
    """Every line of every text file counted once, by file and in total; the four
    contributor types add up; the binary file skipped."""
    total = report["total"]["lines"]
    if total["total"] != sum(counted.values()):
        raise AssertionError(f"report total {total['total']} != {sum(counted.values())} lines")
    if total["ai"] + total["mixed"] + total["human"] + total["unknown"] != total["total"]:
        raise AssertionError(f"contributor types do not add up: {total}")
    by_file = {g["key"]: g["lines"]["total"] for g in report["groups"]}
    expected = {path: n for path, n in counted.items() if n}
    if by_file != expected:
        wrong = sorted(set(by_file.items()) ^ set(expected.items()))[:5]
        raise AssertionError(f"per-file counts differ from the files: {wrong}")
    skipped = [s["path"] for s in report["skipped"]]
    if skipped != [BINARY]:
        raise AssertionError(f"skipped {skipped}, expected [{BINARY!r}]")
    missing = [kind for kind in ("ai", "human", "unknown") if not total[kind]]
    if missing:
        raise AssertionError(f"no {', '.join(missing)} lines in the generated repository")


def _tally(t: dict[str, Any]) -> str:
    return (
        f"{t['total']:,} (ai {t['ai']:,}, mixed {t['mixed']:,}, human {t['human']:,}, "
        f"unknown {t['unknown']:,})"
    )


def format_table(report: dict[str, Any]) -> str:
    setup = report["setup"]
    medians = report["medians"]
    floor_a, floor_b = medians["floor A"], medians["floor B"]
    labels = {
        "floor A": "git blame x files, sequential",
        "floor B": "git blame x files, 2 at a time",
        "snapshot": "trace report --format json",
        "snapshot -j 1": "trace report --format json -j 1",
        "range": "trace report C10..HEAD --format json",
        "html": "trace report --format html -o F",
    }
    lines = [
        f"agent-trace report benchmark: median of {report['repeats']} runs (after a warm-up)",
        f"Python {report['python']}, {report['git']}; {report['machine']}",
        f"repository: {setup['commits']} commits ({setup['agent_commits']} agent in "
        f"{setup['sessions']} recorder sessions, {setup['human_linked']} human linked, "
        f"{setup['human_unlinked']} human unlinked), {setup['text_files']} text files, "
        f"{setup['lines']:,} lines; traces.jsonl {setup['traces_kib']:.0f} KiB; "
        f"generated in {setup['generate_s']:.1f} s",
        f"snapshot lines counted: {_tally(report['snapshot'])} = the files' lines (checked)",
        f"range {setup['range'][:10]}..HEAD: {report['range']['commits']} commits, added "
        f"{_tally(report['range']['added'])}, removed {_tally(report['range']['removed'])}",
        "",
        f"{'command':<40}{'median':>9}{'/ floor A':>11}{'/ floor B':>11}",
    ]
    for name, seconds in medians.items():
        lines.append(
            f"{labels[name]:<40}{seconds:>8.3f}s{seconds / floor_a:>10.2f}x"
            f"{seconds / floor_b:>10.2f}x"
        )
    peak = report["peak_mb"]
    lines += [
        "",
        f"peak memory of the snapshot report: {peak['python']:.0f} MB (trace process, "
        f"VmHWM); largest git child <= {peak['git_child']:.0f} MB (RUSAGE_CHILDREN, "
        "which counts the RSS the trace process had when it started the child)",
    ]
    if setup["repo"]:
        lines.append(f"repository kept in {setup['repo']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="60 commits, 30 small files (CI)")
    parser.add_argument("-c", "--commits", type=int, help="commits in the generated history")
    parser.add_argument("-f", "--files", type=int, help="Python files in the repository")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the generated code")
    parser.add_argument("--keep", type=Path, help="build in this (new or empty) directory, keep it")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("-r", "--repeats", type=int, help="runs per case (median reported)")
    args = parser.parse_args(argv)
    commits = args.commits or (COMMITS_QUICK if args.quick else COMMITS_FULL)
    files = args.files or (FILES_QUICK if args.quick else FILES_FULL)
    size = SIZE_QUICK if args.quick else SIZE_FULL
    repeats = max(args.repeats or REPEATS, 1)
    report = run_benchmark(commits, files, size, args.seed, args.keep, repeats)
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
