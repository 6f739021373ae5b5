"""``trace validate``, ``trace show``, ``trace log``, ``trace notes push|fetch`` and
``trace schema record``: Agent Trace records and where they are stored."""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._app import REPO_OPTION, UserError, open_store, repo_errors
from ._events import ReportFormat, schema

if TYPE_CHECKING:
    from agent_trace._notes import NotesSyncResult
    from agent_trace._records import TraceRecord
    from agent_trace._store import TraceStore
    from agent_trace._stored import StoredRecord, StoreIssue
    from agent_trace._validation import RecordReport

__all__ = ["log", "notes", "schema_record", "show", "validate"]


class OutputFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    JSONL = "jsonl"


def _print_issues(issues: Iterable[StoreIssue]) -> None:
    for issue in issues:
        click.echo(str(issue), err=True)


def _styled_type(kind: str) -> str:
    colours = {"ai": "magenta", "human": "green", "mixed": "yellow", "unknown": "bright_black"}
    return click.style(f"{kind:<7}", fg=colours.get(kind))


def _record_lines(stored: StoredRecord, *, header: bool = True) -> list[str]:
    """A readable block for one record."""
    record = stored.record
    out: list[str] = []
    if header:
        parts = (record.tool.name, record.tool.version) if record.tool else ()
        tool = " ".join(x for x in parts if x)
        title = click.style(f"record {record.id}", bold=True)
        out.append(f"{title}  {record.timestamp}" + (f"  {tool}" if tool else ""))
        revision = record.revision
        if revision is not None:
            out.append(f"  revision {revision}")
        if stored.carried:
            out.append(
                f"  note carried to {stored.commit} by git (line numbers are at "
                f"{(revision or '?')[:12]})"
            )
        out.append(click.style(f"  from {stored.location}", dim=True))
        if record.version != "0.1.0":
            out.append(click.style(f"  version {record.version}", fg="yellow"))
    for f in record.files:
        out.append(f"  {f.path}")
        for conv in f.conversations:
            label = f"    conversation {conv.url}" if conv.url else "    conversation (no url)"
            out.append(click.style(label, dim=True))
            for rng in conv.ranges:
                contributor = conv.contributor_of(rng)
                kind = str(contributor.type) if contributor is not None else "unknown"
                model = contributor.model_id if contributor is not None else None
                lines = (
                    f"{rng.start_line}"
                    if rng.start_line == rng.end_line
                    else f"{rng.start_line}-{rng.end_line}"
                )
                extra = f"  {rng.content_hash}" if rng.content_hash else ""
                row = f"      {lines:>11}  {_styled_type(kind)} {model or '':<36}{extra}"
                out.append(row.rstrip())
    if record.metadata:
        out.append(
            click.style(
                "  metadata " + _json_text(record.metadata, sort_keys=True),
                dim=True,
            )
        )
    return out


def _json_text(value: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """``value`` as JSON text; one nested deeper than the standard library writes (a
    record can hold what orjson reads, up to 1024 levels) comes out compact."""
    try:
        return json.dumps(value, indent=indent, ensure_ascii=False, sort_keys=sort_keys)
    except RecursionError:
        from agent_trace.events._json import dumps

        return dumps(value).decode("utf-8", "surrogateescape")


def _emit_records(records: Sequence[StoredRecord], fmt: OutputFormat) -> None:
    from agent_trace._records import record_to_dict, record_to_json

    if fmt is OutputFormat.JSON:
        data = [record_to_dict(s.record) for s in records]
        click.echo(_json_text(data, indent=2))
    elif fmt is OutputFormat.JSONL:
        out = sys.stdout.buffer
        for stored in records:
            out.write(record_to_json(stored.record, newline=True))
        out.flush()
    else:
        for i, stored in enumerate(records):
            if i:
                click.echo("")
            for line in _record_lines(stored):
                click.echo(line)


# --------------------------------------------------------------------------- validate


@click.command()
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(ReportFormat, case_sensitive=False),
    default=ReportFormat.TEXT,
    show_default=True,
    help="Report as text or as JSON.",
)
def validate(files: tuple[Path, ...], strict: bool, fmt: ReportFormat) -> None:
    """Check Agent Trace records against the v0.1.0 schema and the spec's rules.

    Each FILE is a JSON record, a JSON array of records, or JSON Lines (one record per
    line, e.g. .agent-trace/traces.jsonl); `-` reads standard input. Every problem is
    printed with its file, line and JSON path. Exit status 1 if any record is invalid
    (or, with --strict, has warnings).
    """
    from agent_trace._validation import validate_records_data, validate_records_file

    reports: list[RecordReport] = []
    for path in files:
        try:
            if str(path) == "-":
                reports += validate_records_data(sys.stdin.buffer.read(), "<stdin>")
            else:
                reports += validate_records_file(path)
        except OSError as exc:
            from ._app import EnvironmentProblem

            raise EnvironmentProblem(f"{path}: {exc.strerror or exc}") from None
    errors = sum(len(r.errors) for r in reports)
    warnings = sum(len(r.warnings) for r in reports)
    invalid = sum(1 for r in reports if not r.valid)
    failed = invalid > 0 or (strict and warnings > 0)
    if fmt is ReportFormat.JSON:
        data = {
            "valid": not failed,
            "records": len(reports),
            "invalid": invalid,
            "errors": errors,
            "warnings": warnings,
            "reports": [
                {
                    "source": r.source,
                    "line": r.line,
                    "index": r.index,
                    "id": r.record_id,
                    "valid": r.valid,
                    "problems": [
                        {"path": p.path, "message": p.message, "severity": p.severity}
                        for p in r.problems
                    ],
                }
                for r in reports
            ],
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for report in reports:
            for problem in report.problems:
                colour = "red" if problem.severity == "error" else "yellow"
                label = click.style(problem.severity, fg=colour)
                click.echo(f"{report.where}: {label}: {problem.path}: {problem.message}")
        noun = "record" if len(reports) == 1 else "records"
        summary = (
            f"{len(reports)} {noun}: {len(reports) - invalid} valid, {invalid} invalid "
            f"({errors} error{'s' if errors != 1 else ''}, "
            f"{warnings} warning{'s' if warnings != 1 else ''})"
        )
        click.echo(summary, err=True)
    if failed:
        sys.exit(1)


# --------------------------------------------------------------------------- show / log


@click.command()
@click.argument("revision", default="HEAD")
@click.option("--path", "paths", multiple=True, help="Only records touching this file.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(OutputFormat, case_sensitive=False),
    default=OutputFormat.TEXT,
    show_default=True,
    help="text for people; json (an array) or jsonl (one record per line) for tools.",
)
@REPO_OPTION
def show(revision: str, paths: tuple[str, ...], fmt: OutputFormat, repo: Path) -> None:
    """Show the Agent Trace records of one commit (default HEAD).

    Records are read from .agent-trace/traces.jsonl and from the commit's git note
    (refs/notes/agent-trace), each once.
    """
    with repo_errors():
        store = open_store(repo)
        sha = store.resolve(revision)
        found: list[StoredRecord] = []
        if paths:
            seen: set[str] = set()
            for path in paths:
                for stored in store.for_revision(sha, _repo_path(store, path, repo) or None):
                    if stored.record.id not in seen:
                        seen.add(stored.record.id)
                        found.append(stored)
        else:
            found = store.for_revision(sha)
    _print_issues(store.issues)
    if not found:
        where = f" touching {', '.join(paths)}" if paths else ""
        click.echo(f"no records for commit {sha[:12]}{where}", err=True)
        if fmt is OutputFormat.JSON:
            click.echo("[]")
        return
    _emit_records(found, fmt)


def _repo_path(store: TraceStore, path: str, repo: Path) -> str:
    """A path as records hold it: relative to the work-tree root, '/'-separated. A path
    relative to ``-C DIR`` (default: the current directory) that exists there is
    converted; any other relative path is taken as relative to the root."""
    from agent_trace._blame import repo_relative

    candidate = Path(path)
    if candidate.is_absolute() or (repo / candidate).exists():
        try:
            relative = repo_relative(store, candidate, cwd=repo.absolute())
        except ValueError as exc:
            raise UserError(str(exc)) from None
        return "" if relative == "." else relative  # the root: every path
    return path.replace("\\", "/").removeprefix("./")


def _parse_ts(value: str) -> int:
    from agent_trace.events import parse_timestamp

    try:
        return parse_timestamp(value)
    except ValueError:
        return 0


def _matches_model(record: TraceRecord, wanted: str) -> bool:
    for model in record.model_ids():
        if model == wanted or model.rpartition("/")[2] == wanted:
            return True
    return False


def _matches_path(record: TraceRecord, wanted: str) -> bool:
    if not wanted:
        return True
    prefix = wanted.rstrip("/") + "/"
    return any(p == wanted or p.startswith(prefix) for p in record.paths)


@click.command()
@click.option(
    "--path", "paths", multiple=True, help="Only records touching this file or directory."
)
@click.option(
    "--model",
    "models",
    multiple=True,
    help="Only records with this model id (`anthropic/claude-sonnet-4-5` or `claude-sonnet-4-5`).",
)
@click.option(
    "--contributor",
    "contributors",
    multiple=True,
    type=click.Choice(["ai", "human", "mixed", "unknown"], case_sensitive=False),
    help="Only records with ranges of this contributor type.",
)
@click.option("-n", "--max-count", type=click.IntRange(min=1), help="Show at most N records.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(OutputFormat, case_sensitive=False),
    default=OutputFormat.TEXT,
    show_default=True,
)
@REPO_OPTION
def log(
    paths: tuple[str, ...],
    models: tuple[str, ...],
    contributors: tuple[str, ...],
    max_count: int | None,
    fmt: OutputFormat,
    repo: Path,
) -> None:
    """List the repository's records, newest first.

    Filters combine: a record is shown when it matches one value of each option given.
    """
    with repo_errors():
        store = open_store(repo)
        wanted_paths = [_repo_path(store, p, repo) for p in paths]
        selected = [
            stored
            for stored in store.records()
            if (not wanted_paths or any(_matches_path(stored.record, p) for p in wanted_paths))
            and (not models or any(_matches_model(stored.record, m) for m in models))
            and (
                not contributors
                or stored.record.contributor_types() & {c.lower() for c in contributors}
            )
        ]
    _print_issues(store.issues)
    selected.sort(key=lambda s: (_parse_ts(s.record.timestamp), s.record.timestamp), reverse=True)
    if max_count is not None:
        selected = selected[:max_count]
    if fmt is not OutputFormat.TEXT:
        _emit_records(selected, fmt)
        return
    if not selected:
        click.echo("no records", err=True)
        return
    for stored in selected:
        click.echo(_log_line(stored))


def _log_line(stored: StoredRecord) -> str:
    record = stored.record
    revision = (record.revision or "-")[:12]
    tool = record.tool.name if record.tool and record.tool.name else "-"
    kinds = ",".join(sorted(record.contributor_types())) or "-"
    models = ",".join(record.model_ids()) or "-"
    more = len(record.paths) - 3
    files = ", ".join(record.paths[:3]) + (f" (+{more})" if more > 0 else "")
    return (
        f"{click.style(record.timestamp, fg='cyan')}  {click.style(revision, fg='yellow'):<12}  "
        f"{record.id[:8]}  {tool:<12} {kinds:<10} {models:<32} {files}"
    )


# --------------------------------------------------------------------------- notes


@click.group()
def notes() -> None:
    """Share attribution through git notes (refs/notes/agent-trace).

    Notes travel only when pushed and fetched explicitly. These commands set up this
    repository only (never your global git config): a fetch refspec for the notes and
    notes.rewriteRef, so git carries notes over amend and rebase.
    """


def _sync(repo: Path, remote: str, push: bool) -> tuple[NotesSyncResult, str]:
    """Run a notes fetch or push, turning errors into one-line messages; print warnings."""
    from agent_trace._notes import NotesBackend

    with repo_errors():
        backend = NotesBackend(open_store(repo).repository)
        try:
            result = backend.push(remote) if push else backend.fetch(remote)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    return result, backend.ref


@notes.command("fetch")
@click.argument("remote", default="origin")
@REPO_OPTION
def notes_fetch(remote: str, repo: Path) -> None:
    """Fetch REMOTE's attribution notes and merge them into yours (union of records)."""
    result, ref = _sync(repo, remote, push=False)
    if not result.fetched:
        click.echo(f"{remote} has no attribution notes yet")
    elif result.created:
        click.echo(f"fetched attribution notes from {remote} into {ref}")
    else:
        click.echo(f"fetched attribution notes from {remote} and merged them into {ref}")


@notes.command("push")
@click.argument("remote", default="origin")
@REPO_OPTION
def notes_push(remote: str, repo: Path) -> None:
    """Push your attribution notes to REMOTE (after merging REMOTE's first)."""
    result, ref = _sync(repo, remote, push=True)
    if result.pushed:
        click.echo(f"pushed {ref} to {remote}")


# --------------------------------------------------------------------------- schema


@click.command("record")
def schema_record() -> None:
    """The Agent Trace v0.1.0 record schema records are validated against."""
    from agent_trace._validation import record_json_schema

    click.echo(json.dumps(record_json_schema(), indent=2, ensure_ascii=False))


schema.add_command(schema_record)  # `trace schema record` (the group is in ._events)
