"""Turning timeline lines and log statistics into terminal text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from agent_trace.events._stats import LogStats
    from agent_trace.events._timeline import Style, TimelineLine

__all__ = ["STYLES", "render_line", "stats_table"]

STYLES: dict[str, dict[str, Any]] = {
    "header": {"bold": True},
    "turn": {"fg": "cyan", "bold": True},
    "message": {},
    "reasoning": {"fg": "magenta", "italic": True},
    "plan": {"fg": "blue"},
    "command": {"fg": "yellow"},
    "tool": {"fg": "blue"},
    "ok": {"fg": "green"},
    "fail": {"fg": "red", "bold": True},
    "warn": {"fg": "yellow"},
    "dim": {"dim": True},
    "usage": {"fg": "cyan"},
    "unknown": {"fg": "magenta"},
}
"""click.style arguments per timeline style; click drops them when colour is off."""


def _styled(text: str, style: Style | None) -> str:
    if not text or style is None:
        return text
    return click.style(text, **STYLES.get(style, {}))


def render_line(line: TimelineLine) -> str:
    """The line with ANSI styles (stripped by ``click.echo`` when colour is off)."""
    return "".join(_styled(s.text, s.style) for s in line.segments)


def _counts(counter: dict[str, int], indent: str = "  ") -> list[str]:
    if not counter:
        return []
    width = max(len(k) for k in counter)
    return [f"{indent}{name:<{width}}  {count:>7,}" for name, count in counter.items()]


def stats_table(stats: LogStats) -> list[str]:
    """The ``--format table`` report of ``trace events stats``, one string per line."""
    data = stats.to_dict()
    out = [f"Log         {stats.source or '-'}"]
    forms = ", ".join(f"{n} {form}" for form, n in data["forms"].items()) or "none"
    out.append(f"Lines       {stats.lines:,} ({stats.events:,} events: {forms})")
    if stats.malformed or stats.truncated:
        bad = f"{stats.malformed:,} malformed line(s) skipped"
        out.append(f"Problems    {bad}" + ("; last line cut short" if stats.truncated else ""))
    threads = ", ".join(stats.thread_ids) or "none"
    out.append(f"Threads     {threads}")
    if stats.first_ts is not None:
        took = stats.duration_ms
        span = f" ({took / 1000:.1f}s)" if took is not None else ""
        out.append(f"Time        {stats.first_ts} → {stats.last_ts}{span}")
    turns = data["turns"]
    out.append(
        f"Turns       {turns['started']} started, {turns['completed']} completed, "
        f"{turns['failed']} failed"
    )
    out += ["", "Items completed, by type", *(_counts(data["items_by_type"]) or ["  none"])]
    cmd = data["commands"]
    rate = cmd["success_rate"]
    out += [
        "",
        f"Commands    {cmd['run']} run, {cmd['succeeded']} succeeded, {cmd['failed']} failed, "
        f"{cmd['declined']} declined" + (f" (success rate {rate:.0%})" if rate is not None else ""),
    ]
    tools = data["tool_calls"]
    out.append(
        f"Tool calls  {tools['total']} ({tools['tool_invocations']} tool invocations, "
        f"{tools['mcp_tool_calls']} MCP calls)"
    )
    by_name = tools["by_name"]
    if by_name:
        width = max(len(k) for k in by_name)
        for name, t in by_name.items():
            failed = f"  ({t['failed']} failed)" if t["failed"] else ""
            out.append(f"  {name:<{width}}  {t['calls']:>7,}{failed}")
    failures = data["failures"]
    out += ["", f"Failures    {failures['total']}"]
    out += _counts(failures["by_kind"])
    for f in failures["first"][:10]:
        message = " ".join(f["message"].split())
        message = message if len(message) <= 90 else message[:89] + "…"
        out.append(f"    line {f['line']}: {message}")
    if failures["total"] > 10:
        out.append(f"    … {failures['total'] - 10} more (--format json lists up to 50)")
    usage = data["usage"]["sum"]
    out += [
        "",
        f"Tokens (sum over {stats.turns_completed} turn.completed)",
        f"  input        {usage['input_tokens']:>12,}",
        f"  cached input {usage['cached_input_tokens']:>12,}",
        f"  output       {usage['output_tokens']:>12,}",
    ]
    if usage["reasoning_output_tokens"]:
        out.append(f"  reasoning    {usage['reasoning_output_tokens']:>12,}")
    if stats.thread_usage is not None:
        total = stats.thread_usage
        out.append(
            f"  thread.completed reports {total.input_tokens:,} in / "
            f"{total.cached_input_tokens:,} cached / {total.output_tokens:,} out"
        )
    unknown = data["unknown"]
    out.append("")
    if unknown["event_types"] or unknown["item_types"]:
        out.append("Unknown types (kept verbatim)")
        out += _counts({f"event {k}": v for k, v in unknown["event_types"].items()})
        out += _counts({f"item {k}": v for k, v in unknown["item_types"].items()})
    else:
        out.append("Unknown     none")
    return out
