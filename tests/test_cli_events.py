"""``trace events show|stats|validate|convert`` and ``trace schema events`` (CliRunner)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from shared_files import fixture_log

from agent_trace.cli import cli
from agent_trace.events import EventReader, to_dict

ANSI = "\x1b["

BAD_LOG = "\n".join(
    [
        '{"type":"thread.started","thread_id":"t1"}',
        "not json at all",
        '{"type":"item.completed","item":{"id":"x","type":"command_execution",'
        '"command":"ls","status":"completed","exit_code":"zero"}}',
        '{"type":"thread.started"}',
        '{"type":"turn.started"}',
    ]
)


_fixture = fixture_log


def run(*args: str | Path, env: dict[str, str] | None = None, **kw: Any) -> Result:
    """Invoke ``trace`` in-process, with a clean colour environment."""
    base = {"NO_COLOR": "", "FORCE_COLOR": ""}
    return CliRunner().invoke(cli, [str(a) for a in args], env={**base, **(env or {})}, **kw)


@pytest.fixture
def bad_log(tmp_path: Path) -> Path:
    path = tmp_path / "bad.jsonl"
    path.write_text(BAD_LOG + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- root


def test_help_lists_commands_and_exit_codes() -> None:
    result = run("-h")
    assert result.exit_code == 0
    for word in ("demo", "events", "schema", "Exit codes", "NO_COLOR"):
        assert word in result.stdout
    assert "show" in run("events", "--help").stdout


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("agent-trace, version ")


def test_help_imports_stay_light() -> None:
    code = (
        "import sys\n"
        "from agent_trace.cli import main\n"
        "sys.argv = ['trace', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('git', 'jsonschema', 'agent_trace.events') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "HEAVY []" in out


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run("events", "show", tmp_path / "nope.jsonl")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_bad_format_is_a_usage_error() -> None:
    result = run("events", "stats", "--format", "yaml", _fixture("codex"))
    assert result.exit_code == 2
    assert "Invalid value for '--format'" in result.stderr


# --------------------------------------------------------------------------- show


def test_show_codex_fixture() -> None:
    result = run("events", "show", _fixture("codex"))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "● Thread 0199a213-81c0-7800-8aa1-bbab2a035a53"
    assert "━━━ Turn 1 ━━━" in lines
    assert "  $ bash -lc ls" in lines
    assert "  ── Turn complete · 24,763 in / 24,448 cached / 122 out tokens" in lines
    assert ANSI not in result.stdout  # not a terminal
    assert result.stderr == ""


def test_show_vtcode_fixture_and_verbose() -> None:
    plain = run("events", "show", _fixture("vtcode"))
    verbose = run("events", "show", "--verbose", _fixture("vtcode"))
    assert plain.exit_code == verbose.exit_code == 0
    assert plain.stdout.count("━━━ Turn ") == 6
    assert "⋯ updated" not in plain.stdout
    assert verbose.stdout.count("⋯ updated agent_message") == 203


def test_show_width_limits_previews() -> None:
    result = run("events", "show", "--width", "24", _fixture("vtcode"))
    assert result.exit_code == 0
    for line in result.stdout.splitlines():
        if line.startswith("  💬 "):
            assert len(line.removeprefix("  💬 ").encode()) <= 24
    assert run("events", "show", "--width", "2", _fixture("codex")).exit_code == 2


def test_show_colour_on_a_terminal_only() -> None:
    assert ANSI in run("events", "show", _fixture("codex"), color=True).stdout
    assert ANSI not in run("events", "show", _fixture("codex"), color=False).stdout


def test_show_no_color_env_wins_over_terminal() -> None:
    result = run("events", "show", _fixture("codex"), env={"NO_COLOR": "1"}, color=True)
    assert result.exit_code == 0
    assert ANSI not in result.stdout


def test_show_force_color_and_flags() -> None:
    assert ANSI in run("events", "show", _fixture("codex"), env={"FORCE_COLOR": "1"}).stdout
    forced = run("--color", "events", "show", _fixture("codex"), env={"NO_COLOR": "1"})
    assert ANSI in forced.stdout
    off = run("--no-color", "events", "show", _fixture("codex"), env={"FORCE_COLOR": "1"})
    assert ANSI not in off.stdout


def test_show_reports_malformed_lines_once_and_continues(bad_log: Path) -> None:
    result = run("events", "show", bad_log)
    assert result.exit_code == 0
    assert "● Thread t1" in result.stdout
    assert "━━━ Turn 1 ━━━" in result.stdout
    err = result.stderr.splitlines()
    assert err.count(f"{bad_log}:2: invalid JSON: " + err[0].split("invalid JSON: ", 1)[1]) == 1
    assert f"{bad_log}:3: $.item.exit_code: expected an integer, got string 'zero'" in err
    assert f"{bad_log}:4: $.thread_id: required field missing" in err
    assert err[-1] == f"{bad_log}: skipped 3 malformed lines"
    assert "Traceback" not in result.output


def test_show_strict_fails_on_first_bad_line(bad_log: Path) -> None:
    result = run("events", "show", "--strict", bad_log)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {bad_log}:2: invalid JSON")
    assert "Traceback" not in result.output


def test_show_reads_stdin(bad_log: Path) -> None:
    result = run("events", "show", "-", input=_fixture("codex").read_bytes())
    assert result.exit_code == 0
    assert "━━━ Turn 1 ━━━" in result.stdout


def test_show_truncated_last_line(tmp_path: Path) -> None:
    log = tmp_path / "torn.jsonl"
    log.write_text('{"type":"turn.started"}\n{"type":"turn.comp', encoding="utf-8")
    result = run("events", "show", log)
    assert result.exit_code == 0
    assert f"{log}:2: line cut short, as by a crash; skipped" in result.stderr


# --------------------------------------------------------------------------- stats


def test_stats_vtcode_fixture_table() -> None:
    result = run("events", "stats", _fixture("vtcode"))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Turns       6 started, 6 completed, 0 failed" in out
    assert "Tool calls  14 (14 tool invocations, 0 MCP calls)" in out
    assert "Unknown     none" in out


def test_stats_vtcode_fixture_json_with_force_color() -> None:
    result = run(
        "events", "stats", "--format", "json", _fixture("vtcode"),
        env={"FORCE_COLOR": "1"}, color=True,
    )  # fmt: skip
    assert result.exit_code == 0
    assert ANSI not in result.stdout
    data = json.loads(result.stdout)
    assert data["turns"] == {"started": 6, "completed": 6, "failed": 0}
    assert data["tool_calls"]["tool_invocations"] == 14
    assert data["malformed"] == 0


def test_stats_malformed_lines(bad_log: Path) -> None:
    result = run("events", "stats", "--format", "json", bad_log)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["malformed"] == 3
    assert [i["line"] for i in data["issues"]] == [2, 3, 4]
    assert data["issues"][1]["path"] == "$.item.exit_code"
    assert f"{bad_log}:4: $.thread_id: required field missing" in result.stderr
    strict = run("events", "stats", "--strict", bad_log)
    assert strict.exit_code == 1
    assert strict.stdout == ""


# --------------------------------------------------------------------------- validate


def test_validate_fixtures_ok() -> None:
    for kind in ("codex", "vtcode"):
        path = _fixture(kind)
        result = run("events", "validate", path)
        assert result.exit_code == 0, result.stdout
        assert result.stdout.startswith(f"{path}: ok (")


def test_validate_bad_log(bad_log: Path) -> None:
    result = run("events", "validate", bad_log)
    assert result.exit_code == 1
    assert f"{bad_log}:3: $.item.exit_code: expected an integer, got string 'zero'" in (
        result.stdout
    )
    assert "3 errors" in result.stderr
    data = json.loads(run("events", "validate", "--format", "json", bad_log).stdout)
    assert data["ok"] is False
    assert [e["line"] for e in data["errors"]] == [2, 3, 4]


def test_validate_unknown_types_warn_unless_strict(tmp_path: Path) -> None:
    log = tmp_path / "future.jsonl"
    log.write_text('{"type":"warp.drive","speed":9}\n', encoding="utf-8")
    lenient = run("events", "validate", log)
    assert lenient.exit_code == 0
    assert f"{log}:1: warning:" in lenient.stdout
    strict = run("events", "validate", "--strict", log)
    assert strict.exit_code == 1


def test_validate_names_the_unknown_type_not_the_whole_line(tmp_path: Path) -> None:
    log = tmp_path / "kept.jsonl"
    item = {"id": "g1", "type": "harness", "event": "verification_passed", "secret": "x" * 50}
    lines = [
        {"schema_version": "0.1.0", "event": {"type": "meerkat.text_delta", "delta": "y" * 50}},
        {"type": "item.completed", "item": item},
    ]
    log.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    result = run("events", "validate", log)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == [
        f"{log}:1: warning: $.event.type: not in the known vocabulary: "
        "event type 'meerkat.text_delta' (kept as it is)",
        f"{log}:2: warning: $.item.type: not in the known vocabulary: "
        "item type 'harness' (kept as it is)",
    ]


# --------------------------------------------------------------------------- convert


def test_convert_bare_envelope_bare_is_byte_identical(tmp_path: Path) -> None:
    source = _fixture("codex")
    envelope, back = tmp_path / "env.jsonl", tmp_path / "back.jsonl"
    first = run("events", "convert", source, "--to", "envelope", "-o", envelope)
    assert first.exit_code == 0, first.stderr
    assert "wrote 8 events" in first.stderr
    records = [e.envelope for e in EventReader(envelope)]
    assert [r.seq for r in records if r] == list(range(8))
    assert {r.run_id for r in records if r} == {"0199a213-81c0-7800-8aa1-bbab2a035a53"}
    second = run("events", "convert", envelope, "--to", "bare", "-o", back)
    assert second.exit_code == 0, second.stderr
    assert back.read_bytes() == source.read_bytes()


def test_convert_versioned_bare_versioned_keeps_events(tmp_path: Path) -> None:
    source = _fixture("vtcode")
    bare = run("events", "convert", source, "--to", "bare")
    assert bare.exit_code == 0
    assert bare.stdout.startswith('{"type":"thread.started"')
    (tmp_path / "bare.jsonl").write_text(bare.stdout, encoding="utf-8")
    again = run("events", "convert", tmp_path / "bare.jsonl", "--to", "versioned")
    assert again.exit_code == 0
    (tmp_path / "v.jsonl").write_text(again.stdout, encoding="utf-8")
    original = [to_dict(e.event) for e in EventReader(source)]
    assert [to_dict(e.event) for e in EventReader(tmp_path / "v.jsonl")] == original
    # With the original schema version, the bytes come back too.
    exact = run(
        "events", "convert", tmp_path / "bare.jsonl", "--to", "versioned",
        "--schema-version", "0.2.0",
    )  # fmt: skip
    assert exact.stdout_bytes == source.read_bytes()


def test_convert_run_id_option_and_stdin() -> None:
    result = run(
        "events", "convert", "-", "--to", "envelope", "--run-id", "my-run",
        input=b'{"type":"turn.started"}\n',
    )  # fmt: skip
    assert result.exit_code == 0
    line = json.loads(result.stdout)
    assert (line["seq"], line["run_id"], line["event"]) == (0, "my-run", {"type": "turn.started"})
    assert line["ts"].endswith("Z")


def test_convert_refuses_to_overwrite_input(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(_fixture("codex").read_bytes())
    result = run("events", "convert", log, "--to", "envelope", "-o", log)
    assert result.exit_code == 2
    assert "refusing to overwrite the input file" in result.stderr
    assert log.read_bytes() == _fixture("codex").read_bytes()


def test_convert_bad_input_leaves_no_output(bad_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = run("events", "convert", bad_log, "--to", "envelope", "-o", out)
    assert result.exit_code == 1
    assert f"Error: {bad_log}:2: invalid JSON" in result.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl"]


def test_convert_replaces_existing_output_atomically(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o640)
    result = run("events", "convert", _fixture("codex"), "--to", "bare", "-o", out)
    assert result.exit_code == 0
    assert out.read_bytes() == _fixture("codex").read_bytes()
    assert out.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


# --------------------------------------------------------------------------- schema


def test_schema_events() -> None:
    result = run("schema", "events", env={"FORCE_COLOR": "1"}, color=True)
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    strict = json.loads(run("schema", "events", "--strict").stdout)
    assert strict != schema
