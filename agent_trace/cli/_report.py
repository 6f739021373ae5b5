"""``trace report``: attribution of a revision or of a range of commits, as a table,
JSON, CSV, Markdown or a self-contained HTML page."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._app import REPO_OPTION, UserError, open_store, repo_errors

if TYPE_CHECKING:
    from agent_trace._report import Grouping

__all__ = ["report"]

FORMATS = ("table", "json", "csv", "md", "html")  # agent_trace._report_text.FORMATS


class _Progress:
    """``stage: done/total`` on one line of stderr, redrawn at most 10 times a second;
    only on a terminal, and only once the work has taken ``delay`` seconds."""

    def __init__(self, enabled: bool, delay: float = 0.5) -> None:
        self.enabled = enabled
        self.delay = delay
        self.started = time.monotonic()
        self.last = 0.0
        self.shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < self.delay or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        self.shown = True
        click.echo(f"\r\x1b[2K{stage}: {done:,}/{total:,}", err=True, nl=False)

    def close(self) -> None:
        if self.shown:
            click.echo("\r\x1b[2K", err=True, nl=False)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    target = output.absolute()
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except FileNotFoundError:
        raise UserError(f"{output}: the directory {target.parent} does not exist") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    click.echo(f"wrote {output}", err=True)


@click.command()
@click.argument("spec", metavar="[REV | BASE..TIP]", required=False, default="HEAD")
@click.option(
    "--path",
    "paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Only files under this path (repeat for several).",
)
@click.option(
    "--by",
    type=click.Choice(["file", "dir", "model", "run", "author", "commit"]),
    default="file",
    show_default=True,
    help="How to group the lines.",
)
@click.option("--depth", type=click.IntRange(min=1), help="With --by dir: the first N directories.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for people, json or csv for scripts, md for a pull-request comment, "
    "html for a self-contained page with charts.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (atomically) instead of standard output.",
)
@click.option("--top", type=click.IntRange(min=1), help="table and md: only the N first groups.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    help="git blame processes to run at once (default: one per core).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress on standard error.")
@REPO_OPTION
def report(
    spec: str,
    paths: tuple[Path, ...],
    by: Grouping,
    depth: int | None,
    fmt: str,
    output: Path | None,
    top: int | None,
    jobs: int | None,
    quiet: bool,
    repo: Path,
) -> None:
    """Attribution of the code at a revision, or of the changes of a range.

    \b
    trace report                      every line at HEAD, by file
    trace report --by model           ... by model (ai, mixed), human, unknown
    trace report main..feature --format md     a pull-request comment
    trace report --format html -o report.html  a page with charts

    A revision counts every line of its text files once, labelled as `trace blame`
    labels it. A range BASE..TIP counts the lines at TIP written by the commits after
    the merge base (added), the base's lines they removed or changed (removed), and
    per commit the lines it added. Unknown lines count in every share.
    """
    from agent_trace._blame import repo_relative
    from agent_trace._report_build import build_report
    from agent_trace._report_text import render_report

    progress = _Progress(enabled=not quiet and sys.stderr.isatty())
    with repo_errors():
        store = open_store(repo)
        relative = []
        for path in paths:
            try:
                relative.append(repo_relative(store, path, cwd=repo.absolute()))
            except ValueError as exc:
                raise UserError(str(exc)) from None
        if store.repository.read_head() is None and ".." not in spec and spec == "HEAD":
            raise UserError("no commits yet: nothing to report (commit, then run trace report)")
        try:
            result = build_report(store, spec, paths=relative, jobs=jobs, progress=progress)
        finally:
            progress.close()
    for issue in store.issues:
        click.echo(str(issue), err=True)
    if relative and result.kind == "snapshot" and not result.files and not result.skipped:
        shown = ", ".join(relative)
        raise UserError(f"no files under {shown} in {spec} ({result.revision[:12]})")
    _write(render_report(result, fmt, by=by, depth=depth, top=top), output)
