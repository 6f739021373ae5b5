"""Every benchmark figure of agent-trace in one run, each against its floor and target.

    python -m benchmarks                  # full run (by hand; several minutes)
    python -m benchmarks --quick          # small inputs, few repeats (CI smoke run)
    python -m benchmarks --json           # the same figures as JSON
    python -m benchmarks --only blame-cold blame-warm --repeats 5
    python -m benchmarks --check          # exit 1 when a (checked) target is missed

The inputs are built once per run, in a temporary directory (nothing is downloaded): the
attribution repository (``attribution_bench``: ~500 commits, ``src/big.py`` of ~5,000 lines
touched by most of them; 60 commits with ``--quick``), the report repository
(``report_bench``: 100 files, 400 commits; 30 small files, 60 commits) and the rebase
template (``rewrite_bench``: 50 agent commits; 10). Only the inputs of the figures asked
for (``--only``) are built. Git is kept away from the user's configuration and the
Python subprocesses get a bytecode cache (``attribution_bench.isolated_environment``),
warmed by an untimed run of every case.

Each figure is the median over repeated runs, ours and its floor interleaved (they
alternate which goes first); its ratio is the median of the per-repeat ratios. Whole
processes are timed by the wall time of a ``subprocess`` run. A missed target is reported
(``MISSED``) but the exit status stays 0 unless ``--check``; a benchmark that fails (an
exception, a wrong count) makes the exit status 1 whatever the flags.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from benchmarks import (
    attribution_bench,
    events_bench,
    report_bench,
    rewrite_bench,
    startup_bench,
)

Kind = Literal["ratio", "seconds", "bytes"]
MB = 1024 * 1024


@dataclass(frozen=True)
class Spec:
    """One figure: what ours is, what the floor is, and the target."""

    name: str
    group: str
    ours: str
    floor: str
    target: float
    kind: Kind
    informational: bool = False
    """Our own target: shown (met / MISSED) but never fails ``--check``."""


SPECS = (
    Spec(
        "event-write",
        "events",
        "JsonlWriter.write, command_execution item event, envelope form",
        "orjson.dumps(dict) + write + flush per event",
        events_bench.TARGET_WRITE_RATIO,
        "ratio",
    ),
    Spec(
        "rec-emit",
        "events",
        "Recorder.emit of the same event (default privacy policy, HEAD watched)",
        "orjson.dumps(dict) + write + flush per event",
        events_bench.TARGET_WRITE_RATIO,
        "ratio",
    ),
    Spec(
        "import-events",
        "startup",
        f"python -c '{startup_bench.IMPORT_EVENTS}'",
        f"python -c '{startup_bench.IMPORT_EVENTS_FLOOR}'",
        startup_bench.TARGET_IMPORT_RATIO,
        "ratio",
    ),
    Spec(
        "import-events-writer",
        "startup",
        f"python -c '{startup_bench.IMPORT_EVENTS_WRITER}'",
        f"python -c '{startup_bench.IMPORT_EVENTS_FLOOR}'",
        startup_bench.TARGET_IMPORT_RATIO,
        "ratio",
        informational=True,
    ),
    Spec(
        "trace-help",
        "startup",
        "trace --help",
        f"python -c '{startup_bench.HELP_FLOOR}'",
        startup_bench.TARGET_HELP_RATIO,
        "ratio",
    ),
    Spec(
        "rec-edit",
        "attribution",
        f"rec.edit of {attribution_bench.BIG}, {attribution_bench.EDIT_LINES} lines changed",
        "2 reads + git diff --no-index -U0",
        2.0,
        "ratio",
    ),
    Spec(
        "hook-link",
        "attribution",
        "hook post-commit after a 10-file commit (whole process)",
        "python -c pass + git diff-tree -p -U0",
        attribution_bench.TARGET_LINK_S,
        "seconds",
    ),
    Spec(
        "blame-cold",
        "attribution",
        f"trace blame {attribution_bench.BIG}, no index and no blame cache",
        "git blame --incremental HEAD",
        1.15,
        "ratio",
    ),
    Spec(
        "blame-warm",
        "attribution",
        f"trace blame {attribution_bench.BIG}, nothing changed",
        "git blame --incremental HEAD",
        0.5,
        "ratio",
    ),
    Spec(
        "blame-next-commit",
        "attribution",
        f"trace blame {attribution_bench.BIG} after a 3-line commit, parent's cache",
        "git blame --incremental HEAD",
        1.0,
        "ratio",
        informational=True,
    ),
    Spec(
        "report-100",
        "report",
        "trace report --format json at HEAD",
        "git blame of each file, in turn",
        1.0,
        "ratio",
    ),
    Spec(
        "rewrite-50",
        "rewrite",
        "hook post-rewrite after a rebase (whole process)",
        "git rebase (no hooks)",
        rewrite_bench.TARGET_RATIO,
        "ratio",
    ),
    Spec(
        "rewrite-50-memory",
        "rewrite",
        "peak RSS of the hook post-rewrite process",
        "peak RSS of git rebase (no hooks)",
        rewrite_bench.TARGET_MEMORY_MB * MB,
        "bytes",
    ),
)
NAMES = tuple(spec.name for spec in SPECS)
BY_NAME = {spec.name: spec for spec in SPECS}
GROUPS = ("events", "startup", "attribution", "report", "rewrite")


@dataclass(frozen=True)
class Settings:
    """Input sizes and repeats of one mode (``--repeats`` overrides every repeat count)."""

    quick: bool
    events: int
    events_repeats: int
    startup_repeats: int
    attribution_commits: int
    attribution_repeats: int
    report_commits: int
    report_files: int
    report_size: tuple[int, int]
    report_repeats: int
    rewrite_commits: int
    rewrite_repeats: int

    @classmethod
    def of(cls, quick: bool, repeats: int | None) -> Settings:
        def r(full: int, small: int) -> int:
            return max(repeats, 1) if repeats else (small if quick else full)

        return cls(
            quick=quick,
            events=5_000 if quick else 20_000,
            events_repeats=r(11, 3),
            startup_repeats=r(startup_bench.REPEATS_FULL, startup_bench.REPEATS_QUICK),
            attribution_commits=(
                attribution_bench.COMMITS_QUICK if quick else attribution_bench.COMMITS_FULL
            ),
            attribution_repeats=r(9, 3),
            report_commits=report_bench.COMMITS_QUICK if quick else report_bench.COMMITS_FULL,
            report_files=report_bench.FILES_QUICK if quick else report_bench.FILES_FULL,
            report_size=report_bench.SIZE_QUICK if quick else report_bench.SIZE_FULL,
            report_repeats=r(5, 3),
            rewrite_commits=(rewrite_bench.COMMITS_QUICK if quick else rewrite_bench.COMMITS_FULL),
            rewrite_repeats=r(7, 1),
        )

    def repeats_of(self, spec: Spec) -> int:
        """Timed runs of each case behind ``spec`` (the memory figure: one, untimed)."""
        return {
            "event-write": self.events_repeats,
            "rec-emit": self.events_repeats,
            "import-events": self.startup_repeats,
            "import-events-writer": self.startup_repeats,
            "trace-help": self.startup_repeats,
            "rec-edit": self.attribution_repeats * 2,
            "report-100": self.report_repeats,
            "rewrite-50": self.rewrite_repeats,
            "rewrite-50-memory": 1,
        }.get(spec.name, self.attribution_repeats)


Measured = dict[str, dict[str, Any]]
"""Figure name -> ``ours_s``, ``floor_s``, ``ratio`` (or ``ours_bytes``, ``floor_bytes``)
and anything else worth reporting."""


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def step(message: str) -> Iterator[None]:
    start = time.perf_counter()
    progress(f"{message} ...")
    yield
    progress(f"{message}: {time.perf_counter() - start:.1f} s")


# --------------------------------------------------------------------------- groups
#
# Each builds its inputs under ``base`` (once) and measures the figures asked for.


def run_events(base: Path, s: Settings, wanted: set[str], inputs: dict[str, Any]) -> Measured:
    out: Measured = {}
    if "event-write" in wanted:
        with step(f"event-write: {s.events:,} events x {s.events_repeats} runs"):
            out["event-write"] = events_bench.bench_write(s.events, s.events_repeats)
    if "rec-emit" in wanted:
        with step(f"rec-emit: {s.events:,} events x {s.events_repeats} runs"):
            out["rec-emit"] = events_bench.bench_emit(s.events, s.events_repeats)
    return out


def run_startup(base: Path, s: Settings, wanted: set[str], inputs: dict[str, Any]) -> Measured:
    cwd = base / "startup"
    cwd.mkdir()
    out: Measured = {}
    if "import-events" in wanted:
        with step(f"import-events: {s.startup_repeats} runs"):
            out["import-events"] = startup_bench.bench_import_events(cwd, s.startup_repeats)
    if "import-events-writer" in wanted:
        with step(f"import-events-writer: {s.startup_repeats} runs"):
            out["import-events-writer"] = startup_bench.bench_import_events_writer(
                cwd, s.startup_repeats
            )
    if "trace-help" in wanted:
        with step(f"trace-help: {s.startup_repeats} runs"):
            out["trace-help"] = startup_bench.bench_trace_help(cwd, s.startup_repeats)
    return out


def run_attribution(base: Path, s: Settings, wanted: set[str], inputs: dict[str, Any]) -> Measured:
    a = attribution_bench
    with step(f"attribution repository: {s.attribution_commits} commits, build and link"):
        root, scratch, setup = a.prepare(base / "attribution", s.attribution_commits, a.SEED)
    inputs["attribution"] = setup
    repeats = s.attribution_repeats
    out: Measured = {}
    if wanted & {"blame-cold", "blame-warm"}:
        with step(f"blame-cold, blame-warm: {repeats} runs"):
            cold, warm = a.bench_blame(root, repeats)
        out["blame-cold"], out["blame-warm"] = cold, warm
    if "blame-next-commit" in wanted:
        with step(f"blame-next-commit: {repeats} runs"):
            out["blame-next-commit"] = a.bench_blame_next(root, scratch, repeats, a.SEED)
    if "rec-edit" in wanted:
        with step(f"rec-edit: {repeats * 2} runs"):
            edit = a.bench_edit(root, scratch, repeats * 2, a.SEED)
        out["rec-edit"] = {**edit, "changed_lines": a.EDIT_LINES, "file_lines": setup["big_lines"]}
    if "hook-link" in wanted:
        with step(f"hook-link: {repeats} runs"):
            out["hook-link"] = {**a.bench_link(root, repeats, a.SEED), "files": len(a.MODULES)}
    for name in ("blame-cold", "blame-warm", "blame-next-commit"):
        if name in out:
            out[name]["command"] = " ".join(a.blame_command())
    return out


def run_report(base: Path, s: Settings, wanted: set[str], inputs: dict[str, Any]) -> Measured:
    r = report_bench
    label = f"{s.report_files} files, {s.report_commits} commits"
    with step(f"report repository: {label}, build and link"):
        built = r.build_inputs(
            base / "report", s.report_commits, s.report_files, s.report_size, r.SEED
        )
    inputs["report"] = {
        "commits": len(built.gen.shas),
        "text_files": len(built.paths),
        "lines": sum(built.counted.values()),
        "generate_s": built.gen.seconds,
    }
    with step(f"report-100: {s.report_repeats} runs"):
        measured = r.bench_snapshot(built, s.report_repeats)
    measured["floor"] = f"git blame of each of {measured['files']} files, in turn"
    measured["command"] = " ".join(r.report_commands(built)["snapshot"])
    return {"report-100": measured}


def run_rewrite(base: Path, s: Settings, wanted: set[str], inputs: dict[str, Any]) -> Measured:
    w = rewrite_bench
    with step(f"rebase template: {s.rewrite_commits} agent commits"):
        template = w.build_template(base / "rewrite", s.rewrite_commits, w.SEED)
    inputs["rewrite"] = {"commits": template.commits, "build_s": template.build_s}
    with step(f"rewrite-50: {s.rewrite_repeats} runs"):
        samples, memory = w.bench_rewrite(template, s.rewrite_repeats)
    ai_after = int(min(x["ai_after"] for x in [*samples, memory]))
    ai_hooked = int(min(x["ai_after_hooked"] for x in samples))
    if template.ai_before != ai_after or template.ai_before != ai_hooked:
        raise AssertionError(
            f"AI lines not kept by the rebase: {template.ai_before} before, {ai_after} after "
            f"the recomputation, {ai_hooked} after the rebase with hooks"
        )
    hooked = w.series("hooked_rebase_s", samples)
    ours_rss = memory["recompute_rss_mb"] * MB
    floor_rss = memory["rebase_rss_mb"] * MB
    return {
        "rewrite-50": {
            **w.series("recompute_s", samples),
            "commits": template.commits,
            "ai_lines": template.ai_before,
            "rebase_with_hooks_s": hooked["ours_s"],
            "rebase_with_hooks_ratio": hooked["ratio"],
        },
        "rewrite-50-memory": {
            "ours_bytes": int(ours_rss),
            "floor_bytes": int(floor_rss),
            "ratio": ours_rss / floor_rss,
            "commits": template.commits,
            "measured": "ru_maxrss via a python -S intermediary (about 7 MB at least)",
        },
    }


RUNNERS: dict[str, Callable[[Path, Settings, set[str], dict[str, Any]], Measured]] = {
    "events": run_events,
    "startup": run_startup,
    "attribution": run_attribution,
    "report": run_report,
    "rewrite": run_rewrite,
}

# --------------------------------------------------------------------------- report


def machine(quick: bool) -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ram = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "ram_bytes": ram,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "executable": sys.executable,
        "git": attribution_bench.git_version(),
        "platform": platform.platform(),
        "mode": "quick" if quick else "full",
    }


def make_figure(
    spec: Spec, measured: dict[str, Any] | None, error: str | None, repeats: int
) -> dict[str, Any]:
    """One entry of ``figures``: the fixed fields, then what the benchmark reported."""
    values = {"repeats": repeats, **(measured or {})}
    fig: dict[str, Any] = {
        "name": spec.name,
        "ours_s": values.pop("ours_s", None),
        "floor_s": values.pop("floor_s", None),
        "floor": values.pop("floor", spec.floor),
        "ratio": values.pop("ratio", None),
        "target": spec.target,
        "target_kind": spec.kind,
        "met": False,
        "ours": spec.ours,
    }
    if spec.informational:
        fig["informational"] = True
    if error is not None:
        fig["error"] = error
        return fig
    if spec.kind == "ratio":
        fig["met"] = fig["ratio"] <= spec.target
    elif spec.kind == "seconds":
        fig["met"] = fig["ours_s"] <= spec.target
    else:
        fig["met"] = values["ours_bytes"] <= spec.target
    fig.update(values)
    return fig


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1e-3:
        return f"{value * 1e6:.2f} us"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value / MB:.0f} MB"


def _target(fig: dict[str, Any]) -> str:
    if fig["target_kind"] == "ratio":
        return f"<= {fig['target']:g}x"
    if fig["target_kind"] == "seconds":
        return f"<= {fig['target']:g} s"
    return f"<= {_mb(fig['target'])}"


def summary(figures: list[dict[str, Any]]) -> str:
    met = sum(1 for f in figures if f["met"])
    line = f"{met} of {len(figures)} targets met"
    informational = [f["name"] for f in figures if f.get("informational")]
    if informational:
        line += f" ({', '.join(informational)}: informational, not checked)"
    errors = [f["name"] for f in figures if "error" in f]
    if errors:
        line += f"; FAILED to measure: {', '.join(errors)}"
    return line


def format_table(report: dict[str, Any]) -> str:
    m = report["machine"]
    ram = f"{m['ram_bytes'] / 1024**3:.1f} GiB RAM" if m["ram_bytes"] else "RAM unknown"
    lines = [
        f"agent-trace benchmarks ({m['mode']} mode): {m['cpu']}, {m['cores']} cores, {ram}",
        f"{m['python']} ({m['executable']}), {m['git']}, {m['platform']}",
    ]
    inputs = report["inputs"]
    if "attribution" in inputs:
        a = inputs["attribution"]
        lines.append(
            f"attribution repository: {a['commits']} commits, {attribution_bench.BIG} "
            f"{a['big_lines']:,} lines touched by {a['big_commits']}, {a['linked']} linked"
        )
    if "report" in inputs:
        r = inputs["report"]
        lines.append(
            f"report repository: {r['text_files']} text files, {r['lines']:,} lines, "
            f"{r['commits']} commits"
        )
    if "rewrite" in inputs:
        lines.append(f"rebase: {inputs['rewrite']['commits']} agent commits")
    header = (
        f"{'figure':<19}{'ours':>10}{'floor':>10}  {'floor is':<44}{'ratio':>7}"
        f"  {'target':<10}{'result'}"
    )
    lines += ["", header, "-" * len(header)]
    notes: list[str] = []
    for fig in report["figures"]:
        if fig["target_kind"] == "bytes":
            ours, floor = _mb(fig.get("ours_bytes")), _mb(fig.get("floor_bytes"))
        else:
            ours, floor = _seconds(fig["ours_s"]), _seconds(fig["floor_s"])
        ratio = "-" if fig["ratio"] is None else f"{fig['ratio']:.2f}x"
        if "error" in fig:
            result = "ERROR"
        else:
            result = "met" if fig["met"] else "MISSED"
            if fig.get("informational"):
                result += " (info)"
        lines.append(
            f"{fig['name']:<19}{ours:>10}{floor:>10}  {fig['floor']:<44}{ratio:>7}"
            f"  {_target(fig):<10}{result}"
        )
        if "error" in fig:
            notes.append(f"{fig['name']}: {fig['error']}")
        if "command_kind" in fig:
            notes.append(f"{fig['name']} ran {fig['command']} ({fig['command_kind']})")
        if "rebase_with_hooks_s" in fig:
            notes.append(
                f"{fig['name']}: git rebase with our hooks installed "
                f"{_seconds(fig['rebase_with_hooks_s'])} ({fig['rebase_with_hooks_ratio']:.2f}x "
                "the rebase without)"
            )
    lines += ["", *notes, "", summary(report["figures"])]
    return "\n".join(lines)


# --------------------------------------------------------------------------- driver


def one_line(exc: BaseException) -> str:
    """The exception's first line, and its last (a child's traceback ends with its error)."""
    lines = [x.strip() for x in f"{type(exc).__name__}: {exc}".splitlines() if x.strip()]
    return lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"


def run(settings: Settings, only: list[str]) -> dict[str, Any]:
    wanted = set(only or NAMES)
    start = time.perf_counter()
    measured: Measured = {}
    errors: dict[str, str] = {}
    inputs: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="agent-trace-bench-")))
        stack.enter_context(attribution_bench.isolated_environment(base / "home", base / "pycache"))
        for group in GROUPS:
            names = {spec.name for spec in SPECS if spec.group == group} & wanted
            if not names:
                continue
            try:
                measured.update(RUNNERS[group](base, settings, names, inputs))
            except Exception as exc:  # noqa: BLE001 - report it, measure the other groups
                traceback.print_exc()
                for name in names:
                    errors[name] = one_line(exc)
    figures = [
        make_figure(spec, measured.get(spec.name), errors.get(spec.name), settings.repeats_of(spec))
        for spec in SPECS
        if spec.name in wanted
    ]
    return {
        "machine": machine(settings.quick),
        "inputs": inputs,
        "elapsed_s": time.perf_counter() - start,
        "figures": figures,
        "summary": {
            "met": sum(1 for f in figures if f["met"]),
            "targets": len(figures),
            "errors": sorted(errors),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--quick", action="store_true", help="small inputs (CI smoke run)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--only",
        nargs="+",
        action="extend",
        choices=NAMES,
        metavar="NAME",
        help=f"measure only these figures (of: {', '.join(NAMES)})",
    )
    parser.add_argument(
        "--repeats", type=int, help="runs of every case (default: per figure and mode)"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a target (not informational) is missed"
    )
    args = parser.parse_args(argv)
    report = run(Settings.of(args.quick, args.repeats), args.only or [])
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        print(format_table(report))
        print(f"({report['elapsed_s']:.0f} s)")
    if args.json:
        progress(summary(report["figures"]))
    missed = [f for f in report["figures"] if not f["met"] and not f.get("informational")]
    if report["summary"]["errors"]:
        return 1
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
