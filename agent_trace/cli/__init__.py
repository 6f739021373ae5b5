"""The ``trace`` command line (also installed as ``agent-trace``).

``cli`` is the click group; ``main`` is the console-script entry point.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ._app import EnvironmentProblem, UserError, cli

__all__ = ["EnvironmentProblem", "UserError", "cli", "main"]

cli.add_lazy_commands(
    {
        "events": "._events:events",
        "schema": "._records:schema",  # with `schema record` added by ._records
        "demo": "._demo:demo",
        "blame": "._blame:blame",
        "link": "._blame:link",
        "runs": "._blame:runs",
        "hooks": "._blame:hooks",
        "hook": "._blame:hook",
        "validate": "._records:validate",
        "show": "._records:show",
        "log": "._records:log",
        "notes": "._records:notes",
        "doctor": "._doctor:doctor",
        "status": "._doctor:status",
        "report": "._report:report",
        "record": "._agents:record",
        "import": "._agents:import_",
        "redact-test": "._privacy:redact_test",
        "gc": "._gc:gc",
    }
)


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``trace`` (exits the process with the command's exit code)."""
    try:
        cli.main(args=list(argv) if argv is not None else None)
    except BrokenPipeError:
        # `trace events show big.jsonl | head`: stop quietly, like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
