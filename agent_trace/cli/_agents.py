"""``trace record``, ``trace import`` and ``trace hook claude``: other agents' runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ._app import REPO_OPTION, UserError, repo_errors

__all__ = ["claude_hook", "import_", "record"]

_RECORD_FORMATS = ["auto", "codex", "claude", "vtcode", "meerkat", "omne"]
_IMPORT_FORMATS = ["auto", "codex", "vtcode", "agent-trace", "claude", "meerkat", "omne"]


_CAPTURE_HELP = (
    "Content kept in the events file: messages, reasoning, command_output, tool_io "
    "(comma-separated), all or none. Default: .agent-trace/config.toml, else none."
)


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_RECORD_FORMATS),
    default="auto",
    show_default=True,
    help="The agent's stdout event format (auto: told from its first event line).",
)
@click.option("--model", help="Model id to credit (default: from the stream or -m/--model).")
@click.option("--tool", "tool_name", help="Agent name in the records (default: the command's).")
@click.option("--capture", metavar="KINDS", help=_CAPTURE_HELP)
@REPO_OPTION
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def record(
    fmt: str, model: str | None, tool_name: str | None, capture: str | None, repo: Path,
    quiet: bool, command: tuple[str, ...],
) -> None:  # fmt: skip
    """Run an agent COMMAND (after --), record its event stream as a run and attribute
    the lines it writes to it.

    \b
      trace record -- codex exec --json "add a test"
      trace record -- claude -p "fix the bug" --output-format stream-json --verbose

    The command's standard output is passed through unchanged; its exit code is trace's.
    The work tree is snapshotted (a private git index, `write-tree`; your index is not
    touched) around each change the agent reports, after each command it runs, and at the
    end, so changes it did not report are attributed too (marked as such).
    """
    from agent_trace._wrap import record_command

    args = list(command)
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        raise click.UsageError("no command given: trace record -- COMMAND ARGS...")
    with repo_errors():
        try:
            outcome = record_command(
                args,
                repo=repo,
                format=fmt,
                model_id=model,
                tool_name=tool_name,
                echo=sys.stdout.buffer,
                cwd=repo,
                capture=_capture(capture),
            )
        except FileNotFoundError:
            raise UserError(f"{args[0]}: command not found") from None
        except PermissionError:
            raise UserError(f"{args[0]}: permission denied") from None
    for problem in outcome.problems[:20]:
        click.echo(f"agent-trace: {problem} (line skipped)", err=True)
    if not quiet:
        files = len(outcome.attributed)
        model_text = outcome.model_id or "model unknown: pass --model"
        click.echo(
            f"agent-trace: run {outcome.run_id} ({outcome.format or 'no events'}, "
            f"{outcome.events} events, {files} file{'s' if files != 1 else ''} attributed, "
            f"{model_text})",
            err=True,
        )
    sys.exit(outcome.exit_code)


@click.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(_IMPORT_FORMATS))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--run-id", help="Id of the new run (default: FORMAT-<the log's session id>).")
@click.option("--model", help="Model id to credit (default: what the log names).")
@click.option("--tool", "tool_name", help="Agent name (default: from FORMAT).")
@click.option("--no-link", is_flag=True, help="Only import the events; link no commits.")
@click.option("--capture", metavar="KINDS", help=_CAPTURE_HELP)
@REPO_OPTION
def import_(
    fmt: str, file: Path, run_id: str | None, model: str | None, tool_name: str | None,
    no_link: bool, capture: str | None, repo: Path,
) -> None:  # fmt: skip
    """Import an agent's log FILE as a run of this repository.

    Where the log carries exact edits (Claude Code transcripts: ~/.claude/projects/*/
    SESSION.jsonl), the commits that hold the lines it wrote are linked to the run.
    """
    from agent_trace._import import import_log
    from agent_trace.events import EventDecodeError

    with repo_errors():
        try:
            outcome = import_log(
                file,
                repo=repo,
                format=fmt,
                run_id=run_id,
                model_id=model,
                tool_name=tool_name,
                link=not no_link,
                capture=_capture(capture),
            )
        except EventDecodeError as exc:
            raise UserError(str(exc)) from None
        except FileExistsError:
            raise UserError(
                f"{file}: a run with this id exists (imported before?); see `trace runs`, "
                "or pass --run-id"
            ) from None
        except ValueError as exc:
            raise UserError(str(exc)) from None
    click.echo(
        f"imported {outcome.events} events from {file} ({outcome.format}) as run {outcome.run_id}"
    )
    for problem in outcome.skipped[:20]:
        click.echo(f"  skipped: {problem}", err=True)
    if outcome.edits:
        click.echo(f"  {outcome.edits} exact edit(s); {len(outcome.linked)} commit(s) linked")
        for result in outcome.linked:
            click.echo(
                f"  {result.commit[:12]}: {result.ai_lines} AI, {result.mixed_lines} mixed, "
                f"{result.human_lines} human line(s)"
            )


def claude_hook(args: tuple[str, ...]) -> None:
    """``trace hook claude``: one Claude Code hook payload on stdin. Never fails the tool:
    problems are printed on one line (stderr) and the exit code is 0."""
    if "--print-settings" in args:
        from agent_trace._claude_hook import CLAUDE_SETTINGS

        click.echo(json.dumps(CLAUDE_SETTINGS, indent=2))
        return
    from agent_trace._claude_hook import handle_claude_hook

    payload = b""
    try:
        payload = sys.stdin.buffer.read()
        handle_claude_hook(payload)
    except Exception as exc:  # noqa: BLE001 - a hook must never break the agent
        click.echo(f"agent-trace: claude hook: {exc}", err=True)
        _log(f"claude hook: {type(exc).__name__}: {exc}", _payload_cwd(payload))


def _capture(value: str | None) -> str | None:
    """``--capture``, checked (a usage error names the unknown kind)."""
    if value is None:
        return None
    from agent_trace.events._privacy import Capture

    try:
        Capture.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--capture") from None
    return value


def _payload_cwd(payload: bytes) -> str:
    """The payload's ``cwd`` (the session's project), else ``.``."""
    import orjson

    try:
        cwd = orjson.loads(payload).get("cwd")
    except (ValueError, AttributeError):  # orjson limits nesting: no RecursionError
        return "."
    return cwd if isinstance(cwd, str) and cwd else "."


def _log(message: str, where: str = ".") -> None:
    from agent_trace._git import GitError, find_repository
    from agent_trace.events import utc_timestamp

    try:
        root = find_repository(where).root
        directory = root / ".agent-trace"
        if directory.is_dir():
            with (directory / "hooks.log").open("a", encoding="utf-8") as f:
                f.write(f"{utc_timestamp()} agent-trace: {message}\n")
    except (GitError, OSError):
        pass
