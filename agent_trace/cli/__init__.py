"""The ``trace`` command line (also installed as ``agent-trace``).

``cli`` is the click group; ``main`` is the console-script entry point.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ._app import EnvironmentProblem, UserError, cli
from ._demo import demo
from ._events import events, schema

__all__ = ["EnvironmentProblem", "UserError", "cli", "main"]

cli.add_command(events)
cli.add_command(schema)
cli.add_command(demo)


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``trace`` (exits the process with the command's exit code)."""
    try:
        cli.main(args=list(argv) if argv is not None else None)
    except BrokenPipeError:
        # `trace events show big.jsonl | head`: stop quietly, like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
