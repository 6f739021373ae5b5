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

from agent_trace import TraceStore, validate_record
from agent_trace.cli import cli
from agent_trace.cli._demo import CART, CLAUDE, GPT, TESTS
from agent_trace.events import EventReader, validate_log

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
        [str(a) for a in args], capture_output=True, text=True, env=environ, timeout=120
    )


def _blame_types(root: Path, path: str) -> list[tuple[str, str | None]]:
    result = CliRunner().invoke(cli, ["blame", path, "--format", "json", "-C", str(root)])
    assert result.exit_code == 0, result.output
    return [
        (line["contributor"]["type"], line["contributor"]["model_id"])
        for line in json.loads(result.stdout)["lines"]
    ]


@pytest.fixture(scope="module")
def demo_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("demo") / "repo"
    result = CliRunner().invoke(cli, ["demo", str(root)], env=CLEAN_ENV)
    assert result.exit_code == 0, result.output
    return root, result.stdout


def test_demo_attributes_every_line_exactly(demo_repo: tuple[Path, str]) -> None:
    root, _ = demo_repo
    types = _blame_types(root, CART)
    assert types[:12] == [("unknown", None)] * 12  # committed before agent-trace was set up
    assert types[12] == ("ai", CLAUDE)
    # The tax rate a human changed in an agent line, keeping most of it: mixed.
    assert types[13] == ("mixed", CLAUDE)
    assert types[14:16] == [("ai", CLAUDE)] * 2
    assert types[16:19] == [("human", None)] * 3  # __len__
    assert types[19:26] == [("ai", GPT)] * 7  # apply_discount, committed by a human
    assert types[26:] == [("human", None)] * 3  # uncommitted, after the agent's last edit
    assert _blame_types(root, TESTS) == [("ai", CLAUDE)] * 7


def test_demo_prints_blame_summary_and_next_steps(demo_repo: tuple[Path, str]) -> None:
    _, out = demo_repo
    assert f"$ trace blame {CART}" in out
    assert re.search(r"^[0-9a-f]{8} \(anthropic/claude-sonnet-4-5 13\) $", out, re.M)
    assert re.search(r"^00000000 \(human +29\) # TODO: currency support$", out, re.M)
    summary = "ai 34.5% (10), human 20.7% (6), mixed 3.4% (1), unknown 41.4% (12)"
    assert f"{CART}: 29 lines: {summary}" in out
    assert f"{TESTS}: 7 lines: ai 100.0% (7)" in out
    assert "Try next:" in out
    assert "trace runs" in out
    assert ANSI not in out


def test_demo_runs_records_and_hook(demo_repo: tuple[Path, str]) -> None:
    root, _ = demo_repo
    store = TraceStore.open(root)
    runs = store.runs()
    assert [r.read_manifest().model_id for r in runs] == [CLAUDE, GPT]
    assert {r.read_manifest().status for r in runs} == {"completed"}
    for run in runs:
        assert validate_log(run.events_path, strict=True).ok
        types = [e.event.type for e in EventReader(run.events_path)]
        assert types[0] == "thread.started"
        assert types[-1] == "thread.completed"
    records = [s.record for s in store.records()]
    assert len({r.revision for r in records}) == 3  # three linked commits
    for record in records:
        from agent_trace import record_to_dict

        assert [p for p in validate_record(record_to_dict(record)) if p.severity == "error"] == []
    assert (root / ".git" / "hooks" / "post-commit").read_text().count("agent-trace") >= 1


def test_demo_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(cli, ["demo", str(tmp_path)], env=CLEAN_ENV)
    assert result.exit_code == 1
    assert "is not empty" in result.stderr
    assert (tmp_path / "x").read_text(encoding="utf-8") == "keep me"


def test_demo_unwritable_dir_is_an_environment_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(cli, ["demo", "--dir", str(blocker / "sub")], env=CLEAN_ENV)
    assert result.exit_code == 3
    assert "cannot build the demo repository" in result.stderr


# --------------------------------------------------------------------------- installed scripts


def test_installed_trace_help() -> None:
    result = _run_script(_script("trace"), "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: trace" in result.stdout
    for command in ("demo", "events", "schema", "blame", "link", "hooks", "runs"):
        assert command in result.stdout


def test_installed_agent_trace_version() -> None:
    result = _run_script(_script("agent-trace"), "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("agent-trace, version ")


def test_installed_trace_demo_then_blame(tmp_path: Path) -> None:
    trace = _script("trace")
    result = _run_script(trace, "demo", tmp_path / "d")
    assert result.returncode == 0, result.stderr
    assert "Try next:" in result.stdout
    assert ANSI not in result.stdout  # a pipe, not a terminal
    blame = _run_script(trace, "blame", CART, "--format", "json", "-C", tmp_path / "d")
    assert blame.returncode == 0, blame.stderr
    summary = json.loads(blame.stdout)["summary"]
    assert summary == {"ai": 10, "human": 6, "mixed": 1, "unknown": 12}
    forced = _run_script(trace, "--color", "blame", CART, "-C", tmp_path / "d")
    assert ANSI in forced.stdout
    plain = _run_script(trace, "blame", CART, "-C", tmp_path / "d", FORCE_COLOR="1", NO_COLOR="1")
    assert ANSI not in plain.stdout
