"""``trace demo``: write a sample agent run and show what the event tools make of it.

Until the recorder exists, the run is scripted: a Codex-style session (reasoning,
commands, a tool call, an MCP call, file changes, a to-do list, a declined command, a
web search) written in the agent-trace envelope form through :class:`JsonlWriter`, with
timestamps spread over a realistic minute so durations show.
"""

from __future__ import annotations

import shlex
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._app import EnvironmentProblem

if TYPE_CHECKING:
    from agent_trace.events import ThreadEvent

__all__ = ["demo", "sample_run", "write_sample_run"]

DEMO_FILE = "agent-run.jsonl"

_PYTEST_FAIL = """\
F...........
=================================== FAILURES ===================================
______________________________ test_report_json ________________________________
    def test_report_json(runner):
>       result = runner.invoke(cli, ["report", "--json"])
E       TypeError: Object of type Decimal is not JSON serializable
1 failed, 11 passed in 0.91s
"""

_CLI_SOURCE = '''\
@cli.command()
@click.option("--since", type=click.DateTime(), help="Only orders after this date.")
@click.pass_obj
def report(shop: Shop, since: datetime | None) -> None:
    """Print the sales report."""
    for row in shop.sales(since):
        click.echo(f"{row.sku:<12} {row.count:>5} {row.total:>10}")
'''


def sample_run(thread_id: str) -> list[tuple[float, ThreadEvent]]:
    """The scripted run: (seconds since the start, event) pairs."""
    from agent_trace import events as ev

    def cmd(
        item_id: str, command: str, output: str = "", exit_code: int | None = None, **kw: Any
    ) -> ev.CommandExecutionItem:
        status = kw.pop("status", "in_progress" if exit_code is None else "completed")
        return ev.CommandExecutionItem(
            id=item_id,
            command=command,
            aggregated_output=output,
            exit_code=exit_code,
            status=status,
        )

    started, completed = ev.ItemStartedEvent, ev.ItemCompletedEvent
    invocation: dict[str, Any] = {
        "tool_name": "read_file",
        "arguments": {"path": "src/shop/cli.py"},
    }
    mcp: dict[str, Any] = {
        "server": "docs",
        "tool": "search",
        "arguments": {"query": "click JSON output"},
    }
    todo = [
        ("Add a --json flag to `shop report`", True),
        ("Serialize Decimal totals as strings", False),
        ("Cover the JSON output with a test", False),
    ]
    return [
        (0.0, ev.ThreadStartedEvent(thread_id=thread_id)),
        (0.1, ev.TurnStartedEvent()),
        (2.4, completed(item=ev.ReasoningItem(id="item_0", text="**Finding the report command**"))),
        (2.5, started(item=cmd("item_1", "bash -lc 'rg -n \"def report\" src'"))),
        (2.9, completed(item=cmd("item_1", "bash -lc 'rg -n \"def report\" src'",
                                 "src/shop/cli.py:42:def report(shop, since):\n", 0))),
        (3.0, started(item=ev.ToolInvocationItem(id="item_2", status="in_progress", **invocation))),
        (3.1, completed(item=ev.ToolInvocationItem(id="item_2", status="completed", **invocation))),
        (3.1, completed(item=ev.ToolOutputItem(id="item_2:output", call_id="item_2",
                                               output=_CLI_SOURCE, status="completed"))),
        (3.2, started(item=ev.McpToolCallItem(id="item_3", status="in_progress", **mcp))),
        (4.6, completed(item=ev.McpToolCallItem(
            id="item_3", status="completed", result={"content": [{"type": "text", "text":
                "click.echo(json.dumps(rows, default=str)) — use default=str for Decimal"}]},
            **mcp))),
        (6.0, completed(item=ev.TodoListItem(
            id="item_4", items=[ev.TodoEntry(text=t, completed=c) for t, c in todo]))),
        (6.1, started(item=ev.FileChangeItem(id="item_5", status="in_progress", changes=[
            ev.FileUpdateChange(path="src/shop/cli.py", kind="update"),
            ev.FileUpdateChange(path="tests/test_report_json.py", kind="add")]))),
        (6.3, completed(item=ev.FileChangeItem(id="item_5", status="completed", changes=[
            ev.FileUpdateChange(path="src/shop/cli.py", kind="update"),
            ev.FileUpdateChange(path="tests/test_report_json.py", kind="add")]))),
        (6.4, started(item=cmd("item_6", "bash -lc 'pytest -q'"))),
        (8.2, completed(item=cmd("item_6", "bash -lc 'pytest -q'", _PYTEST_FAIL, 1,
                                 status="failed"))),
        (9.8, completed(item=ev.ReasoningItem(
            id="item_7", text="**Decimal is not JSON serializable: pass `default=str`**"))),
        (10.0, completed(item=ev.FileChangeItem(id="item_8", status="completed", changes=[
            ev.FileUpdateChange(path="src/shop/cli.py", kind="update")]))),
        (10.1, started(item=cmd("item_9", "bash -lc 'pytest -q'"))),
        (11.9, completed(item=cmd("item_9", "bash -lc 'pytest -q'",
                                  "............\n12 passed in 0.88s\n", 0))),
        (13.5, completed(item=ev.AgentMessageItem(id="item_10", text=(
            "Added `--json` to `shop report`: rows are printed as a JSON array and Decimal "
            "totals are written as strings (\"12.50\"), so no precision is lost. "
            "tests/test_report_json.py covers it; all 12 tests pass.")))),
        (13.6, ev.TurnCompletedEvent(usage=ev.Usage(
            input_tokens=18234, cached_input_tokens=12800, output_tokens=1432))),
        (40.0, ev.TurnStartedEvent()),
        (41.2, completed(item=ev.AgentMessageItem(
            id="item_11", text="I'll push the branch and look up how to open the PR."))),
        (41.3, completed(item=cmd("item_12", "git push -u origin report-json",
                                  status="declined"))),
        (42.5, completed(item=ev.WebSearchItem(id="item_13", query="gh pr create --fill"))),
        (44.0, completed(item=ev.AgentMessageItem(id="item_14", text=(
            "Pushing was declined in this sandbox. Run `git push -u origin report-json` "
            "and then `gh pr create --fill` to open the pull request ✅")))),
        (44.1, ev.TurnCompletedEvent(usage=ev.Usage(
            input_tokens=21077, cached_input_tokens=18176, output_tokens=388))),
    ]  # fmt: skip


def write_sample_run(path: Path) -> str:
    """Write the scripted run to ``path`` (replacing it) as envelopes; returns the run id."""
    from agent_trace.events import (
        EventEnvelope,
        JsonlWriter,
        WireForm,
        new_event_id,
        utc_timestamp,
    )

    run_id = new_event_id()
    script = sample_run(run_id)
    start_ns = time.time_ns() - int(script[-1][0] * 1e9) - 1_000_000_000
    path.unlink(missing_ok=True)
    with JsonlWriter(path, form=WireForm.ENVELOPE, run_id=run_id, fsync="never") as writer:
        for offset, event in script:
            writer.write_record(
                EventEnvelope(
                    seq=writer.next_seq,
                    id=new_event_id(),
                    ts=utc_timestamp(start_ns + int(offset * 1e9)),
                    run_id=run_id,
                    event=event,
                )
            )
    return run_id


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the sample log (default: a new temporary directory).",
)
def demo(directory: Path | None) -> None:
    """Write a sample agent run and show its timeline and figures.

    The log is an agent-trace run log (one JSON envelope per line); try the printed
    `trace events ...` commands on it, or on your own VT Code / Codex `--json` logs.
    """
    from agent_trace.events import EventReader
    from agent_trace.events._stats import compute_stats
    from agent_trace.events._timeline import timeline

    from ._render import render_line, stats_table

    try:
        if directory is None:
            directory = Path(tempfile.mkdtemp(prefix="agent-trace-demo-"))
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / DEMO_FILE
        write_sample_run(path)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot write the demo log: {exc}") from None

    quoted = shlex.quote(str(path))
    click.secho(f"Wrote a sample agent run to {path}", bold=True)
    click.echo("\n$ trace events show " + quoted)
    for line in timeline(EventReader(path)):
        click.echo(render_line(line))
    click.echo("\n$ trace events stats " + quoted)
    for text in stats_table(compute_stats(EventReader(path))):
        click.echo(text)
    click.echo("\nTry next:")
    for command in (
        f"trace events show {quoted} --verbose",
        f"trace events stats {quoted} --format json",
        f"trace events validate {quoted}",
        f"trace events convert {quoted} --to bare",
        "trace schema events",
    ):
        click.echo(f"  {command}")
