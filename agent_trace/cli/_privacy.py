"""``trace redact-test``: what the recorder would redact from a text."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._app import REPO_OPTION, UserError

__all__ = ["redact_test"]


@click.command("redact-test")
@click.argument("source", metavar="TEXT|FILE|-")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: the redacted text, findings on stderr; json: the findings and the text.",
)
@REPO_OPTION
def redact_test(source: str, fmt: str, repo: Path) -> None:
    """Show what would be redacted from TEXT, from the file FILE, or from standard input
    (-), with the patterns of this repository's .agent-trace/config.toml (the defaults
    outside a repository). Exits 0 whether or not secrets were found."""
    from agent_trace._config import ConfigError, load_privacy
    from agent_trace._git import GitError, find_repository
    from agent_trace.events._privacy import Redactor

    text = _read_source(source)
    try:
        directory = find_repository(repo).root / ".agent-trace"
    except GitError:
        directory = None
    try:
        redactor = load_privacy(directory).redactor or Redactor(())
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    # Every round's findings (a secret glued to another shows in a later round), at
    # their places in the text: exactly what the redacted text replaced.
    redacted, findings = redactor.redact_with_findings(text)
    if fmt == "json":
        import orjson

        rows = [
            {
                "pattern": f.name,
                "line": text.count("\n", 0, f.start) + 1,
                "start": f.start,
                "end": f.end,
            }
            for f in findings
        ]
        data = {"findings": rows, "redacted": redacted}
        sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
        return
    sys.stdout.write(redacted if redacted.endswith("\n") or not redacted else redacted + "\n")
    sys.stdout.flush()
    if not findings:
        click.echo("no secrets found", err=True)
        return
    click.echo(f"{len(findings)} secret{'s' if len(findings) != 1 else ''} redacted:", err=True)
    for f in findings:
        line = text.count("\n", 0, f.start) + 1
        click.echo(f"  line {line}: {f.name} ({f.end - f.start} characters)", err=True)


def _read_source(source: str) -> str:
    """The text to test: standard input, a file's contents, or the argument itself."""
    if source == "-":
        data = sys.stdin.buffer.read()
        where = "standard input"
    else:
        path = Path(source)
        try:
            is_file = path.is_file()
        except (OSError, ValueError):  # a long text is not a path
            is_file = False
        if not is_file:
            return source
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UserError(f"{source}: {exc.strerror or exc}") from None
        where = source
    if b"\0" in data[:8000]:
        raise UserError(f"{where}: a binary file; redaction applies to text")
    return data.decode("utf-8", "replace")
