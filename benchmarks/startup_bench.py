"""Start-up: importing ``agent_trace.events`` and ``trace --help``, each a whole process,
against a process importing only the libraries it cannot do without, in the same run.

Figures (median seconds of ours and of the floor, and the median of the per-repeat
ratios; ours and the floor alternate which goes first):

1. ``import-events``: ``python -c 'import agent_trace.events'`` against
   ``python -c 'import attrs, cattrs, orjson'``. Target: 1.5x.
2. ``import-events-writer``: ``python -c 'from agent_trace.events import JsonlWriter,
   ItemCompletedEvent, CommandExecutionItem'`` against the same floor. ``agent_trace.events``
   loads its submodules on first use, so (1) costs little; this is what a program that
   writes events imports. Target (ours): 1.5x.
3. ``trace-help``: ``trace --help`` (the console script next to ``sys.executable``, else
   ``python -m agent_trace.cli --help``) against ``python -c 'import click'``. Target: 1.5x.

Every process is ``sys.executable`` (or the console script it runs), started in an empty
directory, with a bytecode cache in the work directory (``PYTHONPYCACHEPREFIX``), as an
installed package has, warmed by one untimed run of every case; ``--no-pycache`` runs them
compiling every module from source. Nothing here asserts on a time.

    python -m benchmarks.startup_bench            # 21 runs of each case
    python -m benchmarks.startup_bench --quick    # 5 runs (CI smoke run)
    python -m benchmarks.startup_bench --json     # machine-readable output

``python -m benchmarks`` runs these figures with all the others.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.attribution_bench import (
    figure,
    git_version,
    interleave,
    isolated_environment,
    timed_run,
)

TARGET_IMPORT_RATIO = 1.5
TARGET_HELP_RATIO = 1.5
REPEATS_FULL = 21
REPEATS_QUICK = 5
IMPORT_EVENTS = "import agent_trace.events"
IMPORT_EVENTS_FLOOR = "import attrs, cattrs, orjson"
IMPORT_EVENTS_WRITER = (
    "from agent_trace.events import JsonlWriter, ItemCompletedEvent, CommandExecutionItem"
)
HELP_FLOOR = "import click"


def python_c(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def help_command() -> tuple[list[str], str]:
    """``trace --help`` and which form of it: the console script next to
    ``sys.executable`` when there is one, else ``python -m agent_trace.cli --help``."""
    trace = Path(sys.executable).parent / "trace"
    if trace.exists():
        return [str(trace), "--help"], "console script"
    return [sys.executable, "-m", "agent_trace.cli", "--help"], "python -m agent_trace.cli"


def compare(cwd: Path, repeats: int, ours: list[str], floor: list[str]) -> dict[str, float]:
    """Whole-process wall times of ``ours`` and ``floor``, interleaved after a warm-up."""
    samples = interleave(
        repeats,
        {"ours": lambda: timed_run(ours, cwd), "floor": lambda: timed_run(floor, cwd)},
    )
    return figure(samples["ours"], samples["floor"])


def bench_import_events(cwd: Path, repeats: int) -> dict[str, Any]:
    """``import-events``: ``python -c 'import agent_trace.events'`` against ``python -c
    'import attrs, cattrs, orjson'`` (inside :func:`isolated_environment`)."""
    ours = python_c(IMPORT_EVENTS)
    return compare(cwd, repeats, ours, python_c(IMPORT_EVENTS_FLOOR))


def bench_import_events_writer(cwd: Path, repeats: int) -> dict[str, Any]:
    """``import-events-writer``: what a program writing events imports, against the
    same floor as ``import-events``."""
    return compare(cwd, repeats, python_c(IMPORT_EVENTS_WRITER), python_c(IMPORT_EVENTS_FLOOR))


def bench_trace_help(cwd: Path, repeats: int) -> dict[str, Any]:
    """``trace-help``: ``trace --help`` against ``python -c 'import click'``."""
    command, kind = help_command()
    return {
        **compare(cwd, repeats, command, python_c(HELP_FLOOR)),
        "command": " ".join(command),
        "command_kind": kind,
    }


def run_benchmark(repeats: int, pycache: bool) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="startup-bench-")))
        stack.enter_context(
            isolated_environment(base / "home", base / "pycache" if pycache else None)
        )
        cwd = base / "cwd"
        cwd.mkdir()
        figures = {
            "import-events": bench_import_events(cwd, repeats),
            "import-events-writer": bench_import_events_writer(cwd, repeats),
            "trace-help": bench_trace_help(cwd, repeats),
        }
    return {
        "repeats": repeats,
        "pycache": pycache,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "git": git_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "figures": figures,
    }


def format_table(report: dict[str, Any]) -> str:
    figures = report["figures"]
    rows = (
        ("import-events", f"python -c '{IMPORT_EVENTS}'", f"python -c '{IMPORT_EVENTS_FLOOR}'"),
        ("import-events-writer", f"python -c '{IMPORT_EVENTS_WRITER}'",
         f"python -c '{IMPORT_EVENTS_FLOOR}'"),
        ("trace-help", f"trace --help ({figures['trace-help']['command_kind']})",
         f"python -c '{HELP_FLOOR}'"),
    )  # fmt: skip
    targets = {
        "import-events": TARGET_IMPORT_RATIO,
        "import-events-writer": TARGET_IMPORT_RATIO,
        "trace-help": TARGET_HELP_RATIO,
    }
    lines = [
        f"agent-trace start-up benchmark: median of {report['repeats']} runs (after a warm-up)",
        f"Python {report['implementation']} {report['python']} ({report['executable']}); "
        f"{report['machine']}",
        "Python subprocesses: "
        + (
            "bytecode cache in the work directory (PYTHONPYCACHEPREFIX)"
            if report["pycache"]
            else "no bytecode cache (PYTHONDONTWRITEBYTECODE=1)"
        ),
        "",
        f"{'figure':<50}{'ours':>10}{'floor':>10}{'ratio':>8}  floor",
    ]
    for name, ours, floor in rows:
        values = figures[name]
        verdict = "met" if values["ratio"] <= targets[name] else "MISSED"
        lines.append(
            f"{ours:<50}{values['ours_s'] * 1000:>7.1f} ms{values['floor_s'] * 1000:>7.1f} ms"
            f"{values['ratio']:>7.2f}x  {floor}  (target {targets[name]:g}x: {verdict})"
        )
    lines.append(f"trace --help ran: {figures['trace-help']['command']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="5 runs of each case (CI)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("-r", "--repeats", type=int, help="runs per case (median reported)")
    parser.add_argument(
        "--no-pycache",
        action="store_true",
        help="run the Python subprocesses without a bytecode cache (PYTHONDONTWRITEBYTECODE=1)",
    )
    args = parser.parse_args(argv)
    repeats = max(args.repeats or (REPEATS_QUICK if args.quick else REPEATS_FULL), 1)
    report = run_benchmark(repeats, not args.no_pycache)
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
