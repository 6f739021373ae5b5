"""Recomputing attribution after a rebase, against the rebase itself, in the same run.

The script builds (in a temporary directory, nothing downloaded) a repository with ten
~300-line modules, then a feature branch of 50 commits (10 with ``--quick``), each an
agent's edit of one or two modules recorded in a ``rec.edit`` window and linked the way
the post-commit hook links commits. ``main`` then gets a commit that inserts lines at the
top of every module, so every line number of the feature branch shifts on rebase.

Each repeat (on a fresh copy of that repository):

1. ``rebase``: ``git rebase main`` of the feature branch with hooks disabled
   (``core.hooksPath=/dev/null``): the floor, git's own work.
2. ``recompute``: the whole process ``python -m agent_trace.cli hook post-rewrite rebase``
   with git's ``<old> <new>`` lines on standard input, exactly what the installed
   post-rewrite hook runs after that rebase.
3. ``rebase + hooks``: the same rebase with our hooks installed (post-commit runs for
   every picked commit, then post-rewrite once), against the floor of step 1.

Peak memory (of the recomputation, and of the plain rebase for comparison) is taken in one
more, untimed, repeat: each process is started by a small intermediary (``python -S``)
that reads ``ru_maxrss`` from its own ``wait4``. (On Linux a process started by fork or
vfork + exec inherits the peak RSS of the process that started it, so ``ru_maxrss`` of a
child of this script would be at least this script's own RSS; through the intermediary
it is at least the intermediary's, about 7 MB.)

The copies have no pending state (``.agent-trace/pending`` removed), so every label must
be carried from the old commits' records: the worst case. Afterwards the AI lines of the
rebased branch are counted with ``blame_file`` and compared with the count before the
rebase (every AI line must keep its attribution). Nothing here asserts on a time.

    python -m benchmarks.rewrite_bench            # 50 commits (a few minutes)
    python -m benchmarks.rewrite_bench --quick    # 10 commits (CI smoke run)
    python -m benchmarks.rewrite_bench --json

``python -m benchmarks`` runs these figures (``build_template`` + ``bench_rewrite``) with
all the others.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

from agent_trace import Recorder, blame_file
from agent_trace._hooks import install_hooks
from agent_trace._store import TraceStore
from benchmarks.attribution_bench import (
    CodeWriter,
    _text,
    figure,
    git,
    git_version,
    isolated_environment,
)

SEED = 20261121
MODULES = tuple(f"src/pkg/mod_{i}.py" for i in range(10))
MODULE_LINES = 300
MODEL_ID = "anthropic/claude-sonnet-4-5"
TARGET_RATIO = 1.0
TARGET_MEMORY_MB = 200
COMMITS_FULL = 50
COMMITS_QUICK = 10


def build(root: Path, commits: int, seed: int) -> None:
    """The repository described in the module docstring, with branch ``feature``."""
    rng = random.Random(seed)
    writer = CodeWriter(rng)
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    contents = {path: writer.module(MODULE_LINES) for path in MODULES}
    for path, lines in contents.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(_text(lines))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "feature")
    with Recorder(root, model_id=MODEL_ID) as rec:
        for i in range(commits):
            paths = rng.sample(MODULES, rng.randint(1, 2))
            with rec.edit(*paths):
                for path in paths:
                    lines = contents[path]
                    at = rng.randrange(0, len(lines))
                    lines[at:at] = writer.function(4 if rng.random() < 0.5 else 0)
                    (root / path).write_bytes(_text(lines))
            git(root, "add", "-A")
            git(root, "commit", "-q", "-m", f"agent change {i}")
            rec.link()
    git(root, "checkout", "-q", "main")
    for path in MODULES:
        lines = (root / path).read_text().splitlines()
        (root / path).write_bytes(_text([f"# upstream header of {path}", "", *lines]))
    git(root, "commit", "-q", "-am", "upstream headers")
    git(root, "checkout", "-q", "feature")


def ai_lines(root: Path) -> int:
    store = TraceStore.open(root)
    return sum(blame_file(store, path, revision=None).summary["ai"] for path in MODULES)


def branch_commits(root: Path, spec: str) -> list[str]:
    return git(root, "rev-list", "--reverse", spec).decode().split()


PEAK_RSS = """\
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""``python -S -c PEAK_RSS FILE ARGS...``: run ARGS as a child of a small process (so that
its ``ru_maxrss`` does not start at the RSS of this script) and write its ``ru_maxrss``."""


def run_child(
    args: list[str], cwd: Path, input: bytes | None = None, *, peak: bool = False
) -> tuple[float, int]:
    """Wall time of one process, and with ``peak`` its peak resident memory (KiB, Linux
    ``ru_maxrss``, measured through :data:`PEAK_RSS`; the wall time then includes the
    intermediary's start); else 0."""
    with tempfile.TemporaryDirectory(prefix="peak-") as tmp:
        result = Path(tmp) / "rss"
        command = [sys.executable, "-S", "-c", PEAK_RSS, str(result), *args] if peak else args
        elapsed = _run_child(command, cwd, input)
        return elapsed, int(result.read_text()) if peak else 0


def _run_child(args: list[str], cwd: Path, input: bytes | None) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if input is not None and proc.stdin is not None:
        proc.stdin.write(input)
        proc.stdin.close()
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.wait()
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or err.strip():
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {err.decode()}")
    return elapsed


def one_repeat(
    template: Path, scratch: Path, with_hooks: bool = True, peak: bool = False
) -> dict[str, float]:
    """One repeat on fresh copies of ``template``; ``with_hooks``: also the rebase with our
    hooks installed; ``peak``: measure peak memory (``*_rss_mb``) instead of time."""
    out: dict[str, float] = {}
    # 1 + 2: plain rebase, then the recomputation the hook would run.
    root = scratch / "plain"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(template, root, symlinks=True)
    # No pending state: every label must come from the old commits' records.
    shutil.rmtree(root / ".agent-trace" / "pending", ignore_errors=True)
    before = branch_commits(root, "main..feature")
    out["rebase_s"], rss = run_child(
        ["git", "-c", "core.hooksPath=/dev/null", "rebase", "-q", "main"], root, peak=peak
    )
    if peak:
        out["rebase_rss_mb"] = rss / 1024
    after = branch_commits(root, "main..feature")
    mapping = "".join(f"{old} {new}\n" for old, new in zip(before, after, strict=True))
    out["recompute_s"], rss = run_child(
        [sys.executable, "-m", "agent_trace.cli", "hook", "post-rewrite", "rebase"],
        root,
        input=mapping.encode(),
        peak=peak,
    )
    if peak:
        out["recompute_rss_mb"] = rss / 1024
    out["ai_after"] = ai_lines(root)
    if not with_hooks:
        return out
    # 3: the same rebase with our hooks installed.
    hooked = scratch / "hooked"
    shutil.rmtree(hooked, ignore_errors=True)
    shutil.copytree(template, hooked, symlinks=True)
    shutil.rmtree(hooked / ".agent-trace" / "pending", ignore_errors=True)
    install_hooks(TraceStore.open(hooked).repository)
    out["hooked_rebase_s"], _ = run_child(["git", "rebase", "-q", "main"], hooked)
    out["ai_after_hooked"] = ai_lines(hooked)
    return out


class Template(NamedTuple):
    """The repository every repeat copies, before the rebase."""

    path: Path
    scratch: Path
    commits: int
    build_s: float
    ai_before: int


def build_template(base: Path, commits: int, seed: int) -> Template:
    """Build the repository in ``base/template`` (inside :func:`isolated_environment`)."""
    path = base / "template"
    start = time.perf_counter()
    build(path, commits, seed)
    build_s = time.perf_counter() - start
    scratch = base / "scratch"
    scratch.mkdir(parents=True)
    return Template(path, scratch, commits, build_s, ai_lines(path))


def bench_rewrite(
    template: Template, repeats: int, with_hooks: bool = True
) -> tuple[list[dict[str, float]], dict[str, float]]:
    """Every repeat's figures (:func:`one_repeat`), after an untimed warm-up, and the
    untimed repeat that measures peak memory (``recompute_rss_mb``, ``rebase_rss_mb``)."""
    one_repeat(template.path, template.scratch, with_hooks)  # bytecode cache, page cache
    samples = [one_repeat(template.path, template.scratch, with_hooks) for _ in range(repeats)]
    return samples, one_repeat(template.path, template.scratch, with_hooks=False, peak=True)


def series(key: str, samples: list[dict[str, float]]) -> dict[str, float]:
    """Median of ``key`` and of the plain rebase over the repeats, and of their ratios."""
    return figure([s[key] for s in samples], [s["rebase_s"] for s in samples])


def run_benchmark(commits: int, repeats: int, seed: int) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rewrite-bench-")))
        stack.enter_context(isolated_environment(base / "home", base / "pycache"))
        template = build_template(base, commits, seed)
        samples, memory = bench_rewrite(template, repeats)
    return {
        "commits": commits,
        "repeats": repeats,
        "build_s": template.build_s,
        "ai_before": template.ai_before,
        "ai_after": int(min(s["ai_after"] for s in [*samples, memory])),
        "ai_after_hooked": int(min(s["ai_after_hooked"] for s in samples)),
        "python": platform.python_version(),
        "git": git_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "figures": {
            "recompute": {
                **series("recompute_s", samples),
                "peak_rss_mb": memory["recompute_rss_mb"],
                "rebase_peak_rss_mb": memory["rebase_rss_mb"],
            },
            "rebase_with_hooks": series("hooked_rebase_s", samples),
        },
    }


def format_table(report: dict[str, Any]) -> str:
    recompute = report["figures"]["recompute"]
    hooked = report["figures"]["rebase_with_hooks"]
    lines = [
        f"agent-trace rewrite benchmark: rebase of {report['commits']} agent commits, "
        f"median of {report['repeats']} runs",
        f"Python {report['python']}, {report['git']}; {report['machine']}",
        f"built in {report['build_s']:.1f} s; AI lines before {report['ai_before']}, after "
        f"recompute {report['ai_after']}, after rebase with hooks {report['ai_after_hooked']}",
        "",
        f"{'figure':<40}{'ours':>10}{'floor':>10}{'ratio':>8}  floor",
        f"{'hook post-rewrite (recompute)':<40}{recompute['ours_s']:>9.2f}s"
        f"{recompute['floor_s']:>9.2f}s{recompute['ratio']:>7.2f}x  git rebase (no hooks)",
        f"{'git rebase with our hooks':<40}{hooked['ours_s']:>9.2f}s"
        f"{hooked['floor_s']:>9.2f}s{hooked['ratio']:>7.2f}x  git rebase (no hooks)",
        "",
        f"peak memory of the recompute process: {recompute['peak_rss_mb']:.0f} MB "
        f"(target <= {TARGET_MEMORY_MB} MB; git rebase: "
        f"{recompute['rebase_peak_rss_mb']:.0f} MB)",
        f"target: recompute <= {TARGET_RATIO:g}x the rebase: "
        + ("met" if recompute["ratio"] <= TARGET_RATIO else "NOT met"),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10 commits, 1 repeat (CI)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("-c", "--commits", type=int, help="commits on the rebased branch")
    parser.add_argument("-r", "--repeats", type=int, help="runs (median reported)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    commits = args.commits or (COMMITS_QUICK if args.quick else COMMITS_FULL)
    repeats = args.repeats or (1 if args.quick else 7)
    report = run_benchmark(commits, repeats, args.seed)
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0 if report["ai_after"] == report["ai_before"] else 1


if __name__ == "__main__":
    sys.exit(main())
