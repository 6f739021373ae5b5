"""The ``trace`` command line (also installed as ``agent-trace``).

``cli`` is the click group; ``main`` is the console-script entry point.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ._agents import import_, record
from ._app import EnvironmentProblem, UserError, cli
from ._blame import blame, hook, hooks, link, runs
from ._demo import demo
from ._doctor import doctor, status
from ._events import events, schema
from ._gc import gc
from ._privacy import redact_test
from ._records import log, notes, schema_record, show, validate
from ._report import report

__all__ = ["EnvironmentProblem", "UserError", "cli", "main"]

cli.add_command(events)
cli.add_command(schema)
cli.add_command(demo)
cli.add_command(blame)
cli.add_command(link)
cli.add_command(runs)
cli.add_command(hooks)
cli.add_command(hook)
cli.add_command(validate)
cli.add_command(show)
cli.add_command(log)
cli.add_command(notes)
cli.add_command(doctor)
cli.add_command(status)
cli.add_command(report)
cli.add_command(record)
cli.add_command(import_)
cli.add_command(redact_test)
cli.add_command(gc)
schema.add_command(schema_record)


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``trace`` (exits the process with the command's exit code)."""
    try:
        cli.main(args=list(argv) if argv is not None else None)
    except BrokenPipeError:
        # `trace events show big.jsonl | head`: stop quietly, like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
