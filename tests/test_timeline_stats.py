"""The timeline formatter and the log statistics (agent_trace.events._timeline/_stats)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shared_files import fixture_log

from agent_trace.events import (
    EventEnvelope,
    EventReader,
    LogEntry,
    Usage,
    from_dict,
    utc_timestamp,
)
from agent_trace.events._stats import LogStats, compute_stats
from agent_trace.events._timeline import (
    ELLIPSIS,
    TimelineConfig,
    collapse_whitespace,
    format_duration,
    format_usage,
    timeline,
    truncate_bytes,
)

# --------------------------------------------------------------------------- fixtures


_fixture = fixture_log


def _entries(*events: dict[str, Any]) -> list[LogEntry]:
    return [LogEntry(n, from_dict(e)) for n, e in enumerate(events, 1)]


def _enveloped(*timed: tuple[float, dict[str, Any]]) -> list[LogEntry]:
    base = 1_700_000_000 * 10**9
    return [
        LogEntry(
            n,
            EventEnvelope(
                seq=n - 1,
                id=f"id-{n}",
                ts=utc_timestamp(base + int(at * 1e9)),
                run_id="run-1",
                event=from_dict(event),
            ),
        )
        for n, (at, event) in enumerate(timed, 1)
    ]


def _text(entries: list[LogEntry], **config: Any) -> list[str]:
    return [line.text for line in timeline(entries, TimelineConfig(**config))]


def _item(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"type": f"item.{kind}", "item": item}


# --------------------------------------------------------------------------- truncation


def test_truncate_keeps_short_text() -> None:
    assert truncate_bytes("hello", 5) == "hello"


def test_truncate_cuts_ascii_with_ellipsis_inside_budget() -> None:
    out = truncate_bytes("abcdefghij", 8)
    assert out == "abcde" + ELLIPSIS
    assert len(out.encode()) == 8


def test_truncate_never_splits_a_character() -> None:
    # "é" is 2 bytes: 6 bytes leave 3 for text, so only one "é" fits.
    assert truncate_bytes("é" * 10, 6) == "é" + ELLIPSIS
    # A 4-byte emoji cannot be cut: nothing of it is kept.
    assert truncate_bytes("😀😀😀", 9) == "😀" + ELLIPSIS
    assert truncate_bytes("😀😀😀", 6) == ELLIPSIS


def test_truncate_budget_smaller_than_ellipsis() -> None:
    assert truncate_bytes("abcdef", 2) == "ab"
    assert truncate_bytes("éé", 1) == ""
    assert truncate_bytes("abc", 0) == ""


def test_truncate_collapses_newlines_and_escapes_controls() -> None:
    assert truncate_bytes("a\n\n  b\r\nc\t d", 100) == "a b c d"
    assert collapse_whitespace("red \x1b[31mtext") == "red \\x1b[31mtext"


def test_truncate_lone_surrogate_still_encodes() -> None:
    out = truncate_bytes("a\ud800b", 10)
    out.encode("utf-8")
    assert out == "a?b"


@given(text=st.text(), budget=st.integers(min_value=0, max_value=64))
def test_truncate_property_valid_utf8_within_budget(text: str, budget: int) -> None:
    out = truncate_bytes(text, budget)
    data = out.encode("utf-8")  # raises on a lone surrogate
    assert len(data) <= budget
    assert "\n" not in out
    flat = collapse_whitespace(text).encode("utf-8", "replace").decode()
    if len(flat.encode()) <= budget:
        assert out == flat
    else:
        assert flat.startswith(out.removesuffix(ELLIPSIS).rstrip())
        if budget >= len(ELLIPSIS.encode()):
            assert out.endswith(ELLIPSIS)


@pytest.mark.parametrize(
    ("ns", "text"),
    [(0, "0ms"), (850_000_000, "850ms"), (1_240_000_000, "1.2s"), (123 * 10**9, "2m03s")],
)
def test_format_duration(ns: int, text: str) -> None:
    assert format_duration(ns) == text


# --------------------------------------------------------------------------- timeline


def test_timeline_codex_fixture() -> None:
    lines = _text(list(EventReader(_fixture("codex"))))
    assert lines[0] == "● Thread 0199a213-81c0-7800-8aa1-bbab2a035a53"
    assert "━━━ Turn 1 ━━━" in lines
    assert "  💭 **Searching for README files**" in lines
    assert "  $ bash -lc ls" in lines
    result = next(line for line in lines if "✓ exit 0" in line)
    assert result.startswith("    ✓ exit 0: 2025-09-11 AGENTS.md CHANGELOG.md")
    assert len(result.split(": ", 1)[1].encode()) <= 200
    assert "  💬 Yep — there\u2019s a `README.md` in the repository root." in lines
    assert lines[-1] == ("  ── Turn complete · 24,763 in / 24,448 cached / 122 out tokens")


def test_timeline_vtcode_fixture_turns_and_tools() -> None:
    entries = list(EventReader(_fixture("vtcode")))
    lines = _text(entries)
    assert sum(line.startswith("━━━ Turn ") for line in lines) == 6
    assert sum(line.startswith("  → ") for line in lines) == 14
    results = [line for line in lines if line.startswith(("  ✓ ", "  ✗ "))]
    assert len(results) == 14
    assert "  ✗ unified_search: Tool execution failed: invalid structural search args" in lines
    assert not any("⋯" in line for line in lines)
    verbose = _text(entries, verbose=True)
    assert sum("⋯ updated agent_message" in line for line in verbose) == 203


def test_timeline_width_budget_applies_to_every_preview() -> None:
    lines = _text(list(EventReader(_fixture("vtcode"))), max_args_bytes=30,
                  max_result_bytes=30, max_text_bytes=30)  # fmt: skip
    for line in lines:
        if line.startswith("  💬 "):
            assert len(line.removeprefix("  💬 ").encode()) <= 30
        if line.startswith("  → "):
            args = line.removeprefix("  → ").split(" ", 1)[1]
            assert len(args.encode()) <= 30


def test_timeline_durations_from_envelope_timestamps() -> None:
    command = {"id": "c1", "type": "command_execution", "command": "pytest -q",
               "aggregated_output": "", "status": "in_progress"}  # fmt: skip
    done = {**command, "aggregated_output": "collected 3\n1 failed, 2 passed\n",
            "exit_code": 1, "status": "failed"}  # fmt: skip
    tool = {"id": "t1", "type": "tool_invocation", "tool_name": "read_file",
            "arguments": {"path": "a.py"}, "status": "in_progress"}  # fmt: skip
    entries = _enveloped(
        (0.0, {"type": "thread.started", "thread_id": "th"}),
        (0.0, {"type": "turn.started"}),
        (1.0, _item("started", command)),
        (2.5, _item("completed", done)),
        (3.0, _item("started", tool)),
        (3.1, _item("completed", {**tool, "status": "completed"})),
        (3.3, _item("completed", {"id": "t1:out", "type": "tool_output", "call_id": "t1",
                                  "output": "print('hi')", "status": "completed"})),
        (4.0, {"type": "turn.completed",
               "usage": {"input_tokens": 10, "cached_input_tokens": 5, "output_tokens": 2}}),
    )  # fmt: skip
    lines = _text(entries)
    assert lines[0].startswith("● Thread th  run run-1  2023-11-14T22:13:20.000Z")
    # A failed command shows its last line, where the summary usually is.
    assert "    ✗ exit 1 (1.5s): 1 failed, 2 passed" in lines
    assert '  → read_file {"path":"a.py"}' in lines
    assert "  ✓ read_file (300ms): print('hi')" in lines
    assert "  ── Turn complete in 4.0s · 10 in / 5 cached / 2 out tokens" in lines
    verbose = _text(entries, verbose=True)
    assert "00:02.5     ✗ exit 1 (1.5s): 1 failed, 2 passed" in verbose


def test_timeline_other_items_and_events() -> None:
    entries = _entries(
        {"type": "turn.started"},
        _item("completed", {"id": "p", "type": "plan", "text": "1. read\n2. fix"}),
        _item("completed", {"id": "d", "type": "command_execution", "command": "rm -rf /",
                            "aggregated_output": "", "status": "declined"}),
        _item("completed", {"id": "m", "type": "mcp_tool_call", "server": "gh", "tool": "pr",
                            "arguments": {"n": 1}, "error": {"message": "rate limited"},
                            "status": "failed"}),
        _item("completed", {"id": "w", "type": "web_search", "query": "click NO_COLOR"}),
        _item("completed", {"id": "f", "type": "file_change", "status": "failed",
                            "changes": [{"path": "a.py", "kind": "add"}]}),
        _item("completed", {"id": "l", "type": "todo_list", "items": [
            {"text": "one", "completed": True}, {"text": "two", "completed": False}]}),
        _item("completed", {"id": "e", "type": "error", "message": "retrying"}),
        _item("completed", {"id": "u", "type": "hologram", "x": 1}),
        {"type": "rocket.launched"},
        {"type": "turn.failed", "error": {"message": "context window exceeded"}},
        {"type": "error", "message": "stream disconnected"},
    )  # fmt: skip
    assert _text(entries)[1:] == [
        "━━━ Turn 1 ━━━",
        "  📋 Plan: 1. read 2. fix",
        "  $ rm -rf /",
        "    ⊘ declined",
        '  → mcp gh.pr {"n":1}',
        "  ✗ gh.pr: rate limited",
        "  🔎 click NO_COLOR",
        "  ✗ A a.py (failed)",
        "  📋 To-do (1/2 done)",
        "     ☑ one",
        "     ☐ two",
        "  ⚠ retrying",
        "  ? item hologram",
        "  ? rocket.launched",
        "  ✗ Turn failed: context window exceeded",
        "  ✗ Error: stream disconnected",
    ]


def test_timeline_styles_are_marked() -> None:
    entries = _entries(
        _item("completed", {"id": "c", "type": "command_execution", "command": "false",
                            "aggregated_output": "", "exit_code": 1, "status": "failed"}),
    )  # fmt: skip
    styles = {s.style for line in timeline(entries) for s in line.segments}
    assert {"command", "fail"} <= styles


def test_format_usage_with_reasoning() -> None:
    usage = Usage(
        input_tokens=1000, cached_input_tokens=0, output_tokens=5, reasoning_output_tokens=7
    )
    assert format_usage(usage) == "1,000 in / 0 cached / 5 out / 7 reasoning tokens"


# --------------------------------------------------------------------------- stats


def test_stats_vtcode_fixture() -> None:
    stats = compute_stats(EventReader(_fixture("vtcode"), strict=False))
    assert (stats.turns_started, stats.turns_completed, stats.turns_failed) == (6, 6, 0)
    assert stats.tool_invocations == 14
    assert stats.tool_calls == 14
    assert stats.tools["unified_search"].calls + stats.tools["unified_file"].calls == 14
    assert stats.items_by_type == {"agent_message": 15, "tool_invocation": 14, "tool_output": 14}
    assert stats.events == stats.lines == 288
    assert stats.forms == {"versioned": 288}
    assert stats.thread_ids == ["session-vtcode-20260312T113304Z_360153-80579"]
    # A failed call is counted once, explained by its output.
    assert stats.failures_by_kind == {"failed:tool_invocation": 8}
    assert stats.failures[0].message.startswith("unified_search: Tool execution failed")
    assert stats.malformed == 0
    assert not stats.truncated


def test_stats_codex_fixture() -> None:
    stats = compute_stats(_fixture("codex"))
    data = stats.to_dict()
    assert data["commands"] == {"run": 1, "succeeded": 1, "failed": 0, "declined": 0,
                                "success_rate": 1.0}  # fmt: skip
    assert data["usage"]["sum"]["input_tokens"] == 24763
    assert data["usage"]["last_turn"]["output_tokens"] == 122
    assert data["threads"] == ["0199a213-81c0-7800-8aa1-bbab2a035a53"]


def test_stats_to_dict_shape_is_stable() -> None:
    assert list(LogStats().to_dict()) == [
        "source", "lines", "events", "malformed", "truncated", "issues", "forms", "threads",
        "first_ts", "last_ts", "duration_ms", "events_by_type", "turns", "items_by_type",
        "commands", "tool_calls", "failures", "usage", "unknown",
    ]  # fmt: skip


def test_stats_commands_tools_failures_unknowns(tmp_path: Path) -> None:
    def cmd(i: str, status: str, code: int | None) -> str:
        item = {"id": i, "type": "command_execution", "command": "make",
                "aggregated_output": "", "exit_code": code, "status": status}  # fmt: skip
        return json.dumps({"type": "item.completed", "item": item})

    log = tmp_path / "run.jsonl"
    log.write_text(
        "\n".join([
            '{"type":"thread.started","thread_id":"a"}',
            '{"type":"turn.started"}',
            cmd("1", "completed", 0), cmd("2", "failed", 2), cmd("3", "completed", 1),
            cmd("4", "declined", None),
            '{"type":"item.completed","item":{"id":"m","type":"mcp_tool_call","server":"s",'
            '"tool":"t","status":"completed"}}',
            '{"type":"item.completed","item":{"id":"n","type":"mcp_tool_call","server":"s",'
            '"tool":"t","status":"failed","error":{"message":"nope"}}}',
            "this is not json",
            '{"type":"item.completed","item":{"id":"u","type":"hologram"}}',
            '{"type":"warp.drive"}',
            '{"type":"turn.failed","message":"out of budget"}',
            '{"type":"error","message":"fatal"}',
            '{"type":"turn.compl',
        ]),
        encoding="utf-8",
    )  # fmt: skip
    stats = compute_stats(EventReader(log, strict=False))
    assert (stats.commands_run, stats.commands_succeeded, stats.commands_failed) == (3, 1, 2)
    assert stats.commands_declined == 1
    assert stats.command_success_rate == pytest.approx(1 / 3)
    assert stats.mcp_tool_calls == 2
    assert stats.tools["s.t"].to_dict() == {"calls": 2, "failed": 1}
    assert stats.unknown_event_types == {"warp.drive": 1}
    assert stats.unknown_item_types == {"hologram": 1}
    assert stats.turns_failed == 1
    assert stats.failures_by_kind == {
        "failed:command_execution": 2, "failed:mcp_tool_call": 1, "turn.failed": 1, "error": 1,
    }  # fmt: skip
    assert stats.malformed == 1
    assert stats.truncated
    data = stats.to_dict()
    assert data["issues"][0]["line"] == 9
    assert data["commands"]["success_rate"] == 0.3333


def test_stats_sum_and_envelope_duration() -> None:
    usage = {"input_tokens": 100, "cached_input_tokens": 10, "output_tokens": 1}
    stats = compute_stats(
        _enveloped(
            (0.0, {"type": "turn.completed", "usage": usage}),
            (90.5, {"type": "turn.completed", "usage": {**usage, "input_tokens": 300}}),
        )
    )
    assert stats.usage.input_tokens == 400
    assert stats.last_usage is not None
    assert stats.last_usage.input_tokens == 300
    assert stats.duration_ms == 90_500
    assert stats.lines == 2


def test_timeline_and_stats_thread_completed() -> None:
    usage = {"input_tokens": 5, "cached_input_tokens": 1, "output_tokens": 2}
    entries = _entries(
        {"type": "thread.started", "thread_id": "t"},
        {"type": "thread.completed", "thread_id": "t", "session_id": "s",
         "subtype": "error_max_turns", "outcome_code": "max_turns",
         "result": "Stopped after 3 turns.\nPartial work saved.", "usage": usage,
         "total_cost_usd": 0.0123, "num_turns": 3},
    )  # fmt: skip
    assert _text(entries)[-2:] == [
        "✗ Thread error_max_turns (max_turns) · 3 turns · 5 in / 1 cached / 2 out tokens · $0.0123",
        "  Stopped after 3 turns. Partial work saved.",
    ]
    stats = compute_stats(entries)
    assert stats.thread_usage is not None
    assert stats.thread_usage.input_tokens == 5
    assert stats.thread_ids == ["t"]
