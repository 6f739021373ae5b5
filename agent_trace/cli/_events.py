"""``trace events show|stats|validate|convert`` and ``trace schema events``.

``agent_trace.events`` (attrs, cattrs, orjson) and jsonschema are imported inside the
commands, so ``trace --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from ._app import EnvironmentProblem, UserError

if TYPE_CHECKING:
    from agent_trace.events import EventReader, LogEntry, LogIssue, LogRecord

__all__ = ["events", "schema"]

STDIN = "-"


class StatsFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"


class ReportFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


class Form(enum.StrEnum):
    BARE = "bare"
    VERSIONED = "versioned"
    ENVELOPE = "envelope"


LOG_FILE = click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)


def _source(path: Path) -> tuple[str | IO[bytes], str]:
    """What to read (a path or stdin's bytes) and the name used in messages."""
    if str(path) == STDIN:
        return sys.stdin.buffer, "<stdin>"
    return str(path), str(path)


def _io_error(exc: OSError, path: object) -> EnvironmentProblem:
    reason = exc.strerror or str(exc)
    return EnvironmentProblem(f"{getattr(exc, 'filename', None) or path}: {reason}")


def _print_issue(issue: LogIssue) -> None:
    click.echo(str(issue), err=True)


class _IssueReporter:
    """Prints each bad line of a lenient reader once, in log order, then a count."""

    def __init__(self, reader: EventReader) -> None:
        self.reader = reader
        self.printed = 0

    def flush(self) -> None:
        issues = self.reader.issues
        while self.printed < len(issues):
            _print_issue(issues[self.printed])
            self.printed += 1

    def tap(self) -> Iterator[LogEntry]:
        """The reader's entries, reporting bad lines as they are passed."""
        for entry in self.reader:
            self.flush()
            yield entry
        self.flush()

    def finish(self) -> None:
        reader = self.reader
        if reader.malformed:
            hidden = reader.malformed - sum(1 for i in reader.issues if i.kind != "truncated")
            more = f" ({hidden} not shown)" if hidden > 0 else ""
            click.echo(
                f"{reader.name}: skipped {reader.malformed} malformed "
                f"line{'s' if reader.malformed != 1 else ''}{more}",
                err=True,
            )


@contextlib.contextmanager
def _read_errors(name: str) -> Iterator[None]:
    """Turn decoding and I/O errors into click errors (no tracebacks)."""
    from agent_trace.events import EventDecodeError

    try:
        yield
    except EventDecodeError as exc:
        where = f"{exc.source or name}:{exc.line}: " if exc.line is not None else f"{name}: "
        field = f"{exc.path}: " if exc.path != "$" else ""
        raise UserError(f"{where}{field}{exc.message}") from None
    except BrokenPipeError:
        raise  # the reader of our stdout went away: click exits quietly
    except OSError as exc:
        raise _io_error(exc, name) from None


# --------------------------------------------------------------------------- groups


@click.group()
def events() -> None:
    """Read, check and convert event logs (VT Code, Codex `exec --json`, agent-trace)."""


@click.group()
def schema() -> None:
    """Print JSON Schemas."""


# --------------------------------------------------------------------------- show


@events.command()
@click.argument("file", type=LOG_FILE)
@click.option("-v", "--verbose", is_flag=True, help="Also show streamed snapshots and times.")
@click.option(
    "--width",
    type=click.IntRange(min=8),
    metavar="BYTES",
    help="Cut every preview to this many UTF-8 bytes (default: 100 for arguments, "
    "200 for outputs, 500 for messages).",
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) at the first malformed line.")
def show(file: Path, verbose: bool, width: int | None, strict: bool) -> None:
    """Show FILE as a readable timeline (FILE may be - for stdin).

    Turns, messages, reasoning, commands with exit codes, tool calls with truncated
    arguments, ✓/✗ results (with durations when the log has timestamps) and token usage.
    Malformed lines are reported on stderr and skipped unless --strict.
    """
    from agent_trace.events import EventReader
    from agent_trace.events._timeline import TimelineConfig, timeline

    from ._render import render_line

    source, name = _source(file)
    reader = EventReader(source, strict=strict, name=name)
    reporter = _IssueReporter(reader)
    config = TimelineConfig.with_width(width, verbose=verbose)
    with _read_errors(name):
        for line in timeline(reporter.tap(), config):
            click.echo(render_line(line))
    reporter.finish()


# --------------------------------------------------------------------------- stats


@events.command()
@click.argument("file", type=LOG_FILE)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(StatsFormat, case_sensitive=False),
    default=StatsFormat.TABLE,
    show_default=True,
    help="A table for people, or JSON for programs.",
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) at the first malformed line.")
def stats(file: Path, fmt: StatsFormat, strict: bool) -> None:
    """Figures for FILE: turns, items, commands, tool calls, failures, tokens.

    Token usage is summed over turn.completed events; newer Codex versions report
    cumulative usage there, so for them the last turn's usage (in the JSON) is the total.
    """
    from agent_trace.events import EventReader
    from agent_trace.events._stats import compute_stats

    from ._render import stats_table

    source, name = _source(file)
    reader = EventReader(source, strict=strict, name=name)
    reporter = _IssueReporter(reader)
    with _read_errors(name):
        result = compute_stats(reporter.tap())
    result.source = name
    result.lines = reader.lines
    result.malformed = reader.malformed
    result.truncated = reader.truncated
    result.issues = list(reader.issues)
    reporter.finish()
    if fmt is StatsFormat.JSON:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False), color=False)
    else:
        for line in stats_table(result):
            click.echo(line, color=False)


# --------------------------------------------------------------------------- validate


@events.command()
@click.argument("file", type=LOG_FILE)
@click.option("--strict", is_flag=True, help="Unknown event/item types and enum values are errors.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(ReportFormat, case_sensitive=False),
    default=ReportFormat.TEXT,
    show_default=True,
)
def validate(file: Path, strict: bool, fmt: ReportFormat) -> None:
    """Check every line of FILE against the vocabulary and its JSON Schema.

    Prints one line per problem (FILE:LINE: PATH: MESSAGE) and a summary; exits 1 when
    there are errors. Unknown types are warnings (forward compatibility) unless --strict.
    """
    from agent_trace.events import validate_log

    source, name = _source(file)
    try:
        report = validate_log(source, strict=strict)
    except OSError as exc:
        raise _io_error(exc, name) from None
    if fmt is ReportFormat.JSON:

        def issues(items: list[LogIssue]) -> list[dict[str, Any]]:
            return [
                {"line": i.line, "path": i.path, "message": i.message, "kind": i.kind}
                for i in items
            ]

        document = {
            "source": name,
            "ok": report.ok,
            "strict": strict,
            "lines": report.lines,
            "events": report.events,
            "errors": issues(report.errors),
            "warnings": issues(report.warnings),
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False), color=False)
    else:
        for issue in report.errors:
            click.echo(str(issue), color=False)
        for issue in report.warnings:
            where = f"{issue.source}:{issue.line}: warning: "
            click.echo(where + (f"{issue.path}: " if issue.path != "$" else "") + issue.message)
        counts = (
            f"{report.lines:,} lines, {report.events:,} events, "
            f"{len(report.warnings)} warning{'s' if len(report.warnings) != 1 else ''}"
        )
        if report.ok:
            click.echo(f"{name}: ok ({counts})")
    if not report.ok:
        n = len(report.errors)
        raise UserError(f"{name}: {n} error{'s' if n != 1 else ''} ({report.lines:,} lines)")


# --------------------------------------------------------------------------- convert


def _synthesized_run_id(source: str | IO[bytes]) -> str | None:
    """The thread id of the first ``thread.started`` in a file (``None`` for stdin)."""
    if not isinstance(source, str):
        return None
    from agent_trace.events import EventReader, ThreadStartedEvent

    for entry in EventReader(source, strict=False):
        if isinstance(entry.event, ThreadStartedEvent):
            return entry.event.thread_id
    return None


class _Converter:
    """Rewrites each record in the target form."""

    def __init__(self, to: Form, run_id: str | None, schema_version: str | None) -> None:
        from agent_trace.events import EVENT_SCHEMA_VERSION

        self.to = to
        self.run_id = run_id
        self.schema_version = schema_version
        self.default_version = EVENT_SCHEMA_VERSION
        self.seq = 0

    def convert(self, entry: LogEntry, ts: str | None = None) -> LogRecord:
        from agent_trace.events import (
            EventEnvelope,
            ThreadStartedEvent,
            VersionedThreadEvent,
            new_event_id,
            utc_timestamp,
        )

        record, event = entry.record, entry.event
        version = self.schema_version or entry.schema_version or self.default_version
        if self.to is Form.BARE:
            return event
        if self.to is Form.VERSIONED:
            if isinstance(record, VersionedThreadEvent) and self.schema_version is None:
                return record
            return VersionedThreadEvent(schema_version=version, event=event)
        if isinstance(record, EventEnvelope):
            self.seq = max(self.seq, record.seq + 1)
            return record
        if self.run_id is None:
            # No thread.started before this event in a stream: a new run id.
            thread = event.thread_id if isinstance(event, ThreadStartedEvent) else None
            self.run_id = thread or new_event_id()
        envelope = EventEnvelope(
            schema_version=version,
            seq=self.seq,
            id=new_event_id(),
            ts=ts or utc_timestamp(),
            run_id=self.run_id,
            event=event,
        )
        self.seq += 1
        return envelope


@contextlib.contextmanager
def _output(out: Path | None) -> Iterator[IO[bytes]]:
    """stdout, or a temporary file beside ``out`` renamed over it on success."""
    if out is None:
        stream = sys.stdout.buffer
        yield stream
        stream.flush()
        return
    directory = out.parent
    try:
        mode = out.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as exc:
        raise _io_error(exc, directory) from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return a.resolve() == b.resolve()


@events.command()
@click.argument("file", type=LOG_FILE)
@click.option(
    "--to",
    "to",
    type=click.Choice(Form, case_sensitive=False),
    required=True,
    help="bare: Codex/VT Code stdout lines; versioned: VT Code session logs; "
    "envelope: agent-trace run logs.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write here (atomically: temp file + rename) instead of stdout.",
)
@click.option(
    "--run-id",
    help="run_id of synthesized envelopes (default: the thread id of thread.started, "
    "else a new id).",
)
@click.option(
    "--schema-version",
    help="schema_version of written versioned/envelope lines (default: the line's own, "
    "else this package's).",
)
@click.option(
    "--from",
    "source_format",
    type=click.Choice(["auto", "codex", "vtcode", "agent-trace", "claude", "meerkat", "omne"]),
    default="auto",
    show_default=True,
    help="The agent that wrote FILE (auto: told from its first line).",
)
def convert(
    file: Path,
    to: Form,
    output: Path | None,
    run_id: str | None,
    schema_version: str | None,
    source_format: str,
) -> None:
    """Rewrite FILE with every line in one form (FILE may be - for stdin).

    bare → envelope adds seq, a new id, the current time as ts and a run_id; envelope →
    bare drops them. Events are written back unchanged, unknown types included. Logs of
    Claude Code, meerkat and omne (--from, or told from the first line) are translated
    into thread events first (docs/adapters.md); envelopes then carry their timestamps.
    Any malformed line stops the conversion (exit 1) and leaves -o untouched.
    """
    from agent_trace.events import EventReader, LogEntry, record_to_bytes
    from agent_trace.events._adapters import AdapterReader

    source, name = _source(file)
    if output is not None and isinstance(source, str) and _same_file(file, output):
        raise click.BadParameter("refusing to overwrite the input file", param_hint="'-o'")
    if source_format == "auto":
        with _read_errors(name):
            source_format = _detect(source) or "agent-trace"
    if source_format in _FOREIGN:
        foreign = AdapterReader(source, format=source_format, strict=True, name=name)
        converter = _Converter(to, run_id, schema_version)
        with _read_errors(name), _output(output) as out:
            for t in foreign:
                entry = LogEntry(t.line or 0, t.event)
                out.write(record_to_bytes(converter.convert(entry, t.ts)) + b"\n")
        for issue in foreign.issues:
            _print_issue(issue)
        if output is not None:
            click.echo(f"wrote {foreign.events:,} events to {output}", err=True)
        return
    if to is Form.ENVELOPE and run_id is None:
        with _read_errors(name):
            run_id = _synthesized_run_id(source)
    converter = _Converter(to, run_id, schema_version)
    reader = EventReader(source, strict=True, name=name)
    with _read_errors(name), _output(output) as out:
        for entry in reader:
            out.write(record_to_bytes(converter.convert(entry)) + b"\n")
    for issue in reader.issues:  # a truncated last line
        _print_issue(issue)
    if output is not None:
        click.echo(f"wrote {reader.events:,} events to {output}", err=True)


_FOREIGN = ("claude", "meerkat", "omne")


def _detect(source: str | IO[bytes]) -> str | None:
    """The format of a log told from its first non-blank line (files only; stdin is read
    as thread events unless --from says otherwise)."""
    from agent_trace.events._adapters import detect_format
    from agent_trace.events._json import loads

    if not isinstance(source, str):
        return None
    with open(source, "rb") as f:
        for _ in range(1000):
            line = f.readline(1 << 24)
            if not line:
                return None
            if line.strip():
                try:
                    return detect_format(loads(line))
                except ValueError:  # also a document nested too deeply
                    return None
    return None


# --------------------------------------------------------------------------- schema


@schema.command("events")
@click.option("--strict", is_flag=True, help="Allow only the types and enum values known here.")
def schema_events(strict: bool) -> None:
    """Print the JSON Schema (draft 2020-12) of one event-log line."""
    from agent_trace.events import event_json_schema

    text = json.dumps(event_json_schema(strict=strict), indent=2, ensure_ascii=False)
    click.echo(text, color=False)
