"""Events/second for writing and reading JSONL event logs, against a floor from the same run.

Writing: ``JsonlWriter`` in envelope and bare form, for an ``item.completed`` event holding a
``command_execution`` item (about 200 bytes of output) and one holding a ``file_change`` item
(5 files). Floors: ``orjson.dumps`` of an equivalent prebuilt dict, then either one
``os.write`` on an ``O_APPEND`` fd, or ``write`` + ``flush`` on a buffered file, per event.

Reading: ``EventReader`` over the written file. Floor: read the file, split on ``\\n`` and
``orjson.loads`` each line.

Each figure is the median over repeated runs; cases are interleaved within each repeat so
that drift of the machine affects them alike. Ratios compare against floors measured in the
same run. Target: writing within 2x of the floor.

    python -m benchmarks.events_bench            # full run
    python -m benchmarks.events_bench --quick    # smoke run (CI)
    python -m benchmarks.events_bench --json     # machine-readable output

``python -m benchmarks`` runs the write figure (``bench_write``) and the recorder's
figure (``bench_emit``: ``Recorder.emit`` of the same event in a git repository, with the
default privacy policy and HEAD watched for commits) with all the others.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson

from agent_trace import Recorder
from agent_trace.events import (
    CommandExecutionItem,
    CommandExecutionStatus,
    EventReader,
    FileChangeItem,
    FileUpdateChange,
    ItemCompletedEvent,
    JsonlWriter,
    PatchApplyStatus,
    PatchChangeKind,
    ThreadEvent,
    WireForm,
    new_event_id,
    to_dict,
    utc_timestamp,
)
from benchmarks.attribution_bench import figure, git, interleave

TARGET_WRITE_RATIO = 2.0
RUN_ID = "0199a213-81c0-7800-8aa1-bbab2a035a53"

OUTPUT = (
    "total 48\n"
    "drwxr-xr-x  5 dev dev 4096 Mar 12 11:33 .\n"
    "-rw-r--r--  1 dev dev 1203 Mar 12 11:33 README.md\n"
    "-rw-r--r--  1 dev dev  815 Mar 12 11:33 pyproject.toml\n"
    "drwxr-xr-x  2 dev dev 4096 Mar 12 11:33 src\n"
)


def command_event() -> ThreadEvent:
    return ItemCompletedEvent(
        item=CommandExecutionItem(
            id="item_1",
            command="bash -lc 'ls -la'",
            aggregated_output=OUTPUT,
            exit_code=0,
            status=CommandExecutionStatus.COMPLETED,
        ),
    )


def file_change_event() -> ThreadEvent:
    kinds = [PatchChangeKind.UPDATE, PatchChangeKind.ADD, PatchChangeKind.UPDATE]
    kinds += [PatchChangeKind.DELETE, PatchChangeKind.UPDATE]
    return ItemCompletedEvent(
        item=FileChangeItem(
            id="item_2",
            changes=[
                FileUpdateChange(path=f"/home/dev/project/src/module_{i}.py", kind=kind)
                for i, kind in enumerate(kinds)
            ],
            status=PatchApplyStatus.COMPLETED,
        ),
    )


EVENTS: dict[str, Callable[[], ThreadEvent]] = {
    "command_execution": command_event,
    "file_change": file_change_event,
}
FORMS = (WireForm.ENVELOPE, WireForm.BARE)


def equivalent_dict(event: ThreadEvent, form: WireForm) -> dict[str, Any]:
    """A plain dict that serializes to a line like the writer's (same keys, same sizes)."""
    body = to_dict(event)
    if form is WireForm.ENVELOPE:
        return {
            "schema_version": "0.1.0",
            "seq": 123456,
            "id": new_event_id(),
            "ts": utc_timestamp(),
            "run_id": RUN_ID,
            "event": body,
        }
    return body


# --------------------------------------------------------------------------- timed cases
#
# Each case takes (directory, number of events) and returns the seconds it took.


def write_ours(event: ThreadEvent, form: WireForm) -> Callable[[Path, int], float]:
    def run(directory: Path, n: int) -> float:
        path = directory / "ours.jsonl"
        writer = JsonlWriter(path, form=form, run_id=RUN_ID, fsync="never")
        write = writer.write
        start = time.perf_counter()
        for _ in range(n):
            write(event)
        elapsed = time.perf_counter() - start
        writer.close()
        path.unlink()
        return elapsed

    return run


def write_floor_os_write(data: dict[str, Any]) -> Callable[[Path, int], float]:
    def run(directory: Path, n: int) -> float:
        path = directory / "floor.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        dumps, write = orjson.dumps, os.write
        start = time.perf_counter()
        for _ in range(n):
            write(fd, dumps(data) + b"\n")
        elapsed = time.perf_counter() - start
        os.close(fd)
        path.unlink()
        return elapsed

    return run


def write_floor_flush(data: dict[str, Any]) -> Callable[[Path, int], float]:
    def run(directory: Path, n: int) -> float:
        path = directory / "floor.jsonl"
        dumps = orjson.dumps
        with path.open("ab") as f:
            write, flush = f.write, f.flush
            start = time.perf_counter()
            for _ in range(n):
                write(dumps(data) + b"\n")
                flush()
            elapsed = time.perf_counter() - start
        path.unlink()
        return elapsed

    return run


def read_ours(path: Path) -> Callable[[Path, int], float]:
    def run(_directory: Path, n: int) -> float:
        start = time.perf_counter()
        count = 0
        for _entry in EventReader(path):
            count += 1
        elapsed = time.perf_counter() - start
        assert count == n, (count, n)
        return elapsed

    return run


def read_floor(path: Path) -> Callable[[Path, int], float]:
    def run(_directory: Path, n: int) -> float:
        loads = orjson.loads
        start = time.perf_counter()
        count = 0
        with path.open("rb") as f:
            for line in f.read().split(b"\n"):
                if line:
                    loads(line)
                    count += 1
        elapsed = time.perf_counter() - start
        assert count == n, (count, n)
        return elapsed

    return run


# --------------------------------------------------------------------------- driver


def measure_samples(
    cases: dict[str, Callable[[Path, int], float]], directory: Path, n: int, repeats: int
) -> dict[str, list[float]]:
    """Seconds of each case in every repeat (after a warm-up), the cases interleaved."""
    bound: dict[str, Callable[[], float]] = {
        name: functools.partial(case, directory, n) for name, case in cases.items()
    }
    return interleave(repeats, bound)


def measure(
    cases: dict[str, Callable[[Path, int], float]], directory: Path, n: int, repeats: int
) -> dict[str, float]:
    """Median events/second of each case, interleaving the cases in every repeat."""
    samples = measure_samples(cases, directory, n, repeats)
    return {name: statistics.median(n / s for s in values) for name, values in samples.items()}


def bench_write(
    n: int,
    repeats: int,
    event_name: str = "command_execution",
    form: WireForm = WireForm.ENVELOPE,
) -> dict[str, Any]:
    """Seconds per event of ``JsonlWriter.write`` against the write + flush floor
    (``orjson.dumps`` of the equivalent dict, ``write`` and ``flush`` per event), the
    target figure of ``python -m benchmarks``."""
    event = EVENTS[event_name]()
    data = equivalent_dict(event, form)
    with tempfile.TemporaryDirectory(prefix="events-bench-") as tmp:
        cases = {"ours": write_ours(event, form), "floor": write_floor_flush(data)}
        samples = measure_samples(cases, Path(tmp), n, repeats)
    return {
        **figure([s / n for s in samples["ours"]], [s / n for s in samples["floor"]]),
        "event": event_name,
        "form": form.value,
        "line_bytes": len(orjson.dumps(data)) + 1,
        "events_per_run": n,
    }


def emit_ours(rec: Recorder, event: ThreadEvent) -> Callable[[Path, int], float]:
    def run(_directory: Path, n: int) -> float:
        emit = rec.emit
        start = time.perf_counter()
        for _ in range(n):
            emit(event)
        return time.perf_counter() - start

    return run


def bench_emit(n: int, repeats: int, event_name: str = "command_execution") -> dict[str, Any]:
    """Seconds per event of ``Recorder.emit`` (a recorder as ``with Recorder(repo)``
    opens it: the default privacy policy, which redacts the command and keeps no output,
    and HEAD watched for new commits) against the same write + flush floor as
    :func:`bench_write`, for the full event."""
    event = EVENTS[event_name]()
    data = equivalent_dict(event, WireForm.ENVELOPE)
    with tempfile.TemporaryDirectory(prefix="events-bench-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        (repo / "README.md").write_text("bench\n", encoding="utf-8")
        for args in (["init", "-q"], ["add", "README.md"], ["commit", "-qm", "init"]):
            git(repo, *args)
        with Recorder(repo, tool_name="bench-agent") as rec:
            cases = {"ours": emit_ours(rec, event), "floor": write_floor_flush(data)}
            samples = measure_samples(cases, Path(tmp), n, repeats)
            written = rec.events_path.stat().st_size
        if rec.dropped:
            raise RuntimeError(f"the recorder dropped {rec.dropped} events")
    return {
        **figure([s / n for s in samples["ours"]], [s / n for s in samples["floor"]]),
        "event": event_name,
        "floor_line_bytes": len(orjson.dumps(data)) + 1,
        "line_bytes": written // (n * (repeats + 1)),
        "events_per_run": n,
    }


def run_benchmark(n: int, repeats: int) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="events-bench-") as tmp:
        directory = Path(tmp)
        cases: dict[str, Callable[[Path, int], float]] = {}
        for event_name, make in EVENTS.items():
            event = make()
            for form in FORMS:
                data = equivalent_dict(event, form)
                key = f"{event_name}/{form.value}"
                cases[f"write/{key}"] = write_ours(event, form)
                cases[f"floor-os-write/{key}"] = write_floor_os_write(data)
                cases[f"floor-flush/{key}"] = write_floor_flush(data)
                log = directory / f"read-{event_name}-{form.value}.jsonl"
                with JsonlWriter(log, form=form, run_id=RUN_ID, fsync="never") as writer:
                    for _ in range(n):
                        writer.write(event)
                cases[f"read/{key}"] = read_ours(log)
                cases[f"floor-read/{key}"] = read_floor(log)
        rates = measure(cases, directory, n, repeats)
        for event_name in EVENTS:
            for form in FORMS:
                key = f"{event_name}/{form.value}"
                log = directory / f"read-{event_name}-{form.value}.jsonl"
                line_bytes = log.stat().st_size // n
                ours = rates[f"write/{key}"]
                floor = rates[f"floor-os-write/{key}"]
                flush = rates[f"floor-flush/{key}"]
                results.append(
                    {
                        "op": "write",
                        "event": event_name,
                        "form": form.value,
                        "line_bytes": line_bytes,
                        "events_per_s": ours,
                        "floor_events_per_s": floor,
                        "ratio": floor / ours,
                        "floor_flush_events_per_s": flush,
                        "ratio_flush": flush / ours,
                    }
                )
                ours = rates[f"read/{key}"]
                floor = rates[f"floor-read/{key}"]
                results.append(
                    {
                        "op": "read",
                        "event": event_name,
                        "form": form.value,
                        "line_bytes": line_bytes,
                        "events_per_s": ours,
                        "floor_events_per_s": floor,
                        "ratio": floor / ours,
                    }
                )
    return {
        "events_per_run": n,
        "repeats": repeats,
        "target_write_ratio": TARGET_WRITE_RATIO,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "orjson": version("orjson"),
        "cattrs": version("cattrs"),
        "attrs": version("attrs"),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "results": results,
    }


def _rate(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f} M"
    return f"{value / 1e3:.0f} k"


def format_table(report: dict[str, Any]) -> str:
    lines = [
        f"agent-trace events benchmark: {report['events_per_run']} events per run, "
        f"median of {report['repeats']} runs",
        f"Python {report['implementation']} {report['python']}, orjson {report['orjson']}, "
        f"cattrs {report['cattrs']}, attrs {report['attrs']}; {report['machine']}",
        "",
        "write floor: orjson.dumps(dict) + os.write on an O_APPEND fd, per event",
        "  (flush floor: orjson.dumps(dict) + write + flush on a buffered file, per event)",
        "read floor:  read the file, split on \\n, orjson.loads per line",
        "",
        f"{'op':<6}{'event':<19}{'form':<10}{'bytes':>6}{'ours ev/s':>12}"
        f"{'floor ev/s':>12}{'ratio':>7}{'flush ev/s':>12}{'ratio':>7}",
    ]
    for row in report["results"]:
        line = (
            f"{row['op']:<6}{row['event']:<19}{row['form']:<10}{row['line_bytes']:>6}"
            f"{_rate(row['events_per_s']):>12}{_rate(row['floor_events_per_s']):>12}"
            f"{row['ratio']:>6.2f}x"
        )
        if "ratio_flush" in row:
            line += f"{_rate(row['floor_flush_events_per_s']):>12}{row['ratio_flush']:>6.2f}x"
        lines.append(line)
    writes = [r for r in report["results"] if r["op"] == "write"]
    target = report["target_write_ratio"]
    lines.append("")
    for label, key in (("os.write floor", "ratio"), ("write+flush floor", "ratio_flush")):
        worst = max(r[key] for r in writes)
        verdict = "met" if worst <= target else "NOT met"
        lines.append(
            f"target: writing within {target:g}x of the {label}: {verdict} (worst {worst:.2f}x)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small smoke run (CI)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("-n", "--events", type=int, help="events per run")
    parser.add_argument("-r", "--repeats", type=int, help="runs per case (median reported)")
    args = parser.parse_args(argv)
    n = args.events or (1_000 if args.quick else 20_000)
    repeats = args.repeats or (3 if args.quick else 11)
    report = run_benchmark(n, repeats)
    if args.json:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(format_table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
