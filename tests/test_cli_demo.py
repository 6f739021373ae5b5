"""``trace demo``, in-process and through the installed console scripts."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent_trace.cli import cli
from agent_trace.cli._demo import DEMO_FILE
from agent_trace.events import EventReader, WireForm, validate_log
from agent_trace.events._stats import compute_stats

ANSI = "\x1b["
CLEAN_ENV = {"NO_COLOR": "", "FORCE_COLOR": ""}


def _script(name: str) -> Path:
    """An installed console script of this environment (next to the interpreter)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        found = shutil.which(name)
        if found is None:
            pytest.fail(f"console script {name!r} is not installed (pip install -e .)")
        path = Path(found)
    return path


def _run_script(*args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **CLEAN_ENV, **env}
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, env=environ, timeout=60
    )


def test_demo_writes_a_valid_envelope_log(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "d")], env=CLEAN_ENV)
    assert result.exit_code == 0, result.output
    log = tmp_path / "d" / DEMO_FILE
    assert f"Wrote a sample agent run to {log}" in result.stdout
    entries = list(EventReader(log))
    assert {e.form for e in entries} == {WireForm.ENVELOPE}
    assert [e.envelope.seq for e in entries if e.envelope] == list(range(len(entries)))
    assert validate_log(log, strict=True).ok
    stats = compute_stats(EventReader(log))
    assert (stats.turns_started, stats.turns_completed) == (2, 2)
    assert (stats.commands_succeeded, stats.commands_failed, stats.commands_declined) == (2, 1, 1)
    assert stats.tool_calls == 2
    assert stats.duration_ms is not None
    assert stats.duration_ms > 30_000


def test_demo_prints_timeline_stats_and_next_steps(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path)], env=CLEAN_ENV)
    out = result.stdout
    log = tmp_path / DEMO_FILE
    assert "━━━ Turn 1 ━━━" in out
    assert "━━━ Turn 2 ━━━" in out
    assert re.search(r"    ✗ exit 1 \(1\.8s\): 1 failed, 11 passed in 0\.91s", out)
    assert "    ⊘ declined" in out
    assert "Commands    3 run, 2 succeeded, 1 failed, 1 declined (success rate 67%)" in out
    for command in ("show", "stats", "validate"):
        assert f"trace events {command} {log}" in out
    assert ANSI not in out


def test_demo_twice_replaces_the_log(tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["demo", "--dir", str(tmp_path)], env=CLEAN_ENV)
    first = (tmp_path / DEMO_FILE).read_text(encoding="utf-8").count("\n")
    runner.invoke(cli, ["demo", "--dir", str(tmp_path)], env=CLEAN_ENV)
    assert (tmp_path / DEMO_FILE).read_text(encoding="utf-8").count("\n") == first


def test_demo_default_dir_is_a_new_temporary_directory() -> None:
    result = CliRunner().invoke(cli, ["demo"], env=CLEAN_ENV)
    assert result.exit_code == 0
    match = re.search(r"Wrote a sample agent run to (\S+)", result.stdout)
    assert match is not None
    log = Path(match.group(1))
    try:
        assert log.parent.name.startswith("agent-trace-demo-")
        assert log.is_file()
    finally:
        shutil.rmtree(log.parent)


def test_demo_unwritable_dir_is_an_environment_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(cli, ["demo", "--dir", str(blocker / "sub")], env=CLEAN_ENV)
    assert result.exit_code == 3
    assert "cannot write the demo log" in result.stderr


# --------------------------------------------------------------------------- installed scripts


def test_installed_trace_help() -> None:
    result = _run_script(_script("trace"), "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: trace" in result.stdout
    for command in ("demo", "events", "schema"):
        assert command in result.stdout


def test_installed_agent_trace_version() -> None:
    result = _run_script(_script("agent-trace"), "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("agent-trace, version ")


def test_installed_trace_demo_then_stats(tmp_path: Path) -> None:
    trace = _script("trace")
    result = _run_script(trace, "demo", "--dir", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "━━━ Turn 1 ━━━" in result.stdout
    assert "Try next:" in result.stdout
    assert ANSI not in result.stdout  # a pipe, not a terminal
    stats = _run_script(trace, "events", "stats", tmp_path / DEMO_FILE, "--format", "json",
                        FORCE_COLOR="1")  # fmt: skip
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["turns"]["completed"] == 2


def test_installed_trace_colour_environment(tmp_path: Path) -> None:
    trace = _script("trace")
    forced = _run_script(trace, "demo", "--dir", tmp_path, FORCE_COLOR="1")
    assert forced.returncode == 0
    assert ANSI in forced.stdout
    both = _run_script(trace, "demo", "--dir", tmp_path, FORCE_COLOR="1", NO_COLOR="1")
    assert ANSI not in both.stdout
