"""``trace doctor`` (also ``trace status``): attribution coverage of a commit and set-up
problems."""

from __future__ import annotations

from pathlib import Path

import click

from ._app import REPO_OPTION, UserError, open_store, repo_errors

__all__ = ["doctor", "status"]


def _percent(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "-"


def _run(rev: str, paths: tuple[str, ...], fmt: str, repo: Path) -> None:
    from agent_trace._doctor import coverage, problems

    with repo_errors():
        store = open_store(repo)
        for _ in store.records():  # reading every record collects damaged ones
            pass
        head = store.repository.read_head() if rev == "HEAD" else None
        sha = store.resolve(rev) if rev != "HEAD" or head is not None else None
        report = coverage(store, sha, paths) if sha is not None else None
        found = problems(store)
    if fmt == "json":
        import orjson

        data = {
            "coverage": report.to_dict() if report is not None else None,
            "problems": [p.to_dict() for p in found],
        }
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
    else:
        if report is None:
            click.echo("no commits yet: nothing to attribute")
        else:
            total = report.lines
            files = f"{report.files} file{'' if report.files == 1 else 's'}"
            click.echo(f"{rev} {report.revision[:12]}: {files}, {total} lines")
            kinds = ", ".join(f"{k} {n}" for k, n in report.types.items() if n and k != "unknown")
            rows = [
                ("attributed by trace records", report.by_record),
                ("attributed by content", report.by_content),
                ("unknown", report.unknown),
            ]
            for label, count in rows:
                click.echo(f"  {label:<28} {count:>8}  {_percent(count, total):>6}")
            if kinds:
                click.echo(f"  by contributor: {kinds}")
            if report.skipped:
                click.echo(
                    f"  not counted: {len(report.skipped)} binary, too large or non-regular file(s)"
                )
        if not found:
            click.echo(click.style("no problems found", fg="green"))
        for problem in found:
            colour = "red" if problem.severity == "error" else "yellow"
            click.echo(click.style(f"{problem.severity}: ", fg=colour) + problem.message)
            if problem.fix:
                click.echo(f"  fix: {problem.fix}")
    if any(p.severity == "error" for p in found):
        raise UserError("problems found (see above)")


_OPTIONS = [
    click.option("--rev", default="HEAD", show_default=True, help="The commit to measure."),
    click.option("--path", "paths", multiple=True, help="Only files under this path (repeat)."),
    click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text"),
    REPO_OPTION,
]


def _command(name: str, hidden: bool = False) -> click.Command:
    def run(rev: str, paths: tuple[str, ...], fmt: str, repo: Path) -> None:
        """How much of a commit's code is attributed (by records, by content, unknown),
        and what in this repository's set-up weakens attribution: missing or broken
        hooks, notes not copied on rewrite, logged hook failures, damaged records.

        Exits 1 when a problem is an error (a hook that cannot run, unreadable records).
        """
        _run(rev, paths, fmt, repo)

    for option in reversed(_OPTIONS):
        run = option(run)
    return click.command(name, hidden=hidden)(run)


doctor = _command("doctor")
status = _command("status", hidden=True)
