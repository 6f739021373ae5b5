"""``trace gc``: remove old runs and other local state the store no longer needs."""

from __future__ import annotations

from pathlib import Path

import click

from ._app import REPO_OPTION, open_store, repo_errors

__all__ = ["gc"]


def _amount(count: int, what: str) -> str:
    return f"{count} {what}{'' if count == 1 else 's'}"


@click.command()
@click.option(
    "--older-than",
    "days",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    metavar="DAYS",
    help="Remove runs, pending state and cache entries last used more than DAYS ago.",
)
@click.option("--dry-run", "-n", is_flag=True, help="Say what would be removed; remove nothing.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@REPO_OPTION
def gc(days: float, dry_run: bool, fmt: str, repo: Path) -> None:
    """Remove old runs and local state no longer needed.

    Removes runs that ended (or whose process is gone) more than DAYS ago, pending
    attribution of files that no longer hold any of its lines, temporary files left by
    killed processes, unused blame-cache entries and old hooks.log lines. Never touches
    records (traces.jsonl, notes) or git objects, nor a run whose process is alive.
    """
    from agent_trace._gc import collect_garbage

    with repo_errors():
        store = open_store(repo)
        report = collect_garbage(store, older_than_days=days, dry_run=dry_run)
    if fmt == "json":
        import orjson

        click.echo(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode())
        return
    verb = "would remove" if dry_run else "removed"
    parts = [
        _amount(len(report.runs), "run"),
        _amount(len(report.pending_files), "pending file"),
        _amount(len(report.temp_files), "temporary file"),
        _amount(report.cache_entries, "cache entry").replace("entrys", "entries"),
        _amount(report.hooks_log_lines, "hooks.log line"),
    ]
    click.echo(f"{verb} {', '.join(parts)} ({report.bytes_freed:,} bytes; cutoff {report.cutoff})")
    if report.runs_marked_interrupted:
        mark = "would mark" if dry_run else "marked"
        click.echo(
            f"{mark} {_amount(len(report.runs_marked_interrupted), 'run')} interrupted "
            "(their process is gone)"
        )
    if report.windows_recovered:
        click.echo(
            f"recovered {_amount(report.windows_recovered, 'cut-off edit window')} "
            "(their lines are now unknown)"
        )
