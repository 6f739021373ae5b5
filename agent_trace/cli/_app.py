"""The root ``trace`` group: help, version, colour, and the errors commands raise.

Exit codes: 0 success; 1 a user error (bad file content, validation errors); 2 a usage
error (click: bad option, missing file); 3 an environment problem (I/O errors).
Imports stay light here: ``trace --help`` must not load GitPython or jsonschema.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from agent_trace._version import __version__

if TYPE_CHECKING:
    from agent_trace._store import TraceStore

__all__ = [
    "REPO_OPTION",
    "EXIT_ENVIRONMENT",
    "EXIT_USER",
    "EnvironmentProblem",
    "UserError",
    "cli",
    "color_from_env",
    "open_store",
    "repo_errors",
]

EXIT_USER = 1
EXIT_ENVIRONMENT = 3

_EPILOG = """\b
Exit codes: 0 ok, 1 bad input (malformed log, invalid record, unknown
revision), 2 usage error, 3 environment problem (I/O, not a git repository,
git missing or failing).
Colour: only on a terminal; NO_COLOR disables it, FORCE_COLOR forces it,
--color/--no-color override both."""


class UserError(click.ClickException):
    """Bad input from the user: a malformed log, a failed validation (exit 1)."""

    exit_code = EXIT_USER


class EnvironmentProblem(click.ClickException):
    """Something outside the input failed: a file could not be read or written (exit 3)."""

    exit_code = EXIT_ENVIRONMENT


@contextlib.contextmanager
def repo_errors() -> Iterator[None]:
    """Turn git and store errors into one-line click errors (no tracebacks)."""
    from agent_trace._config import ConfigError
    from agent_trace._files import LockTimeout
    from agent_trace._git import BadRevision, GitError

    try:
        yield
    except (BadRevision, ConfigError) as exc:
        raise UserError(str(exc)) from None
    except GitError as exc:  # not a repository, git missing, git failing
        raise EnvironmentProblem(str(exc)) from None
    except LockTimeout as exc:
        raise EnvironmentProblem(str(exc)) from None
    except BrokenPipeError:
        raise
    except OSError as exc:
        where = getattr(exc, "filename", None)
        reason = exc.strerror or str(exc)
        raise EnvironmentProblem(f"{where}: {reason}" if where else reason) from None


REPO_OPTION = click.option(
    "-C",
    "--repo",
    "repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Run as if started in this directory (any directory of the work tree).",
)


def open_store(repo: Path) -> TraceStore:
    from agent_trace._store import TraceStore

    return TraceStore.open(repo)


def color_from_env() -> bool | None:
    """``False`` when ``NO_COLOR`` is set and non-empty, ``True`` when ``FORCE_COLOR`` is,
    ``None`` (autodetect: colour only on a terminal) otherwise. See no-color.org."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return None


class LazyGroup(click.Group):
    """A group whose subcommands are imported when one is run or listed: ``trace blame``
    and the hooks load their own module, not every command's."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy: dict[str, str] = {}
        """``{name: "module:attribute"}``, modules relative to ``agent_trace.cli``."""

    def add_lazy_commands(self, table: Mapping[str, str]) -> None:
        self.lazy.update(table)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, _, attribute = self.lazy[cmd_name].partition(":")
            command = getattr(importlib.import_module(module, "agent_trace.cli"), attribute)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "AGENT_TRACE"},
    epilog=_EPILOG,
)
@click.version_option(__version__, prog_name="agent-trace")
@click.option(
    "--color/--no-color",
    default=None,
    help="Force colour on or off (default: on a terminal, unless NO_COLOR is set).",
)
@click.pass_context
def cli(ctx: click.Context, color: bool | None) -> None:
    """agent-trace: record what coding agents do, and read their event logs.

    Reads VT Code and Codex `exec --json` event logs as well as agent-trace run logs.
    Start with `trace demo`.
    """
    ctx.color = color if color is not None else color_from_env()
