"""The ``trace`` command line (also installed as ``agent-trace``).

``cli`` is the click group; ``main`` is the console-script entry point.
"""

from __future__ import annotations

import gc
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


_SHORT_LIVED = frozenset({"blame", "hook", "link"})
"""Commands whose process ends within seconds and holds no reference cycles worth
collecting: the cyclic garbage collector stays off for them (about 6 % of a cold
``trace blame``'s instructions). Long-running ones (``trace record``) keep it."""


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``trace`` (exits the process with the command's exit code).

    Called without ``argv`` (the console script, ``python -m agent_trace.cli``), the
    process ends when the command does: what it allocated is frozen first, so the
    interpreter's last garbage collection does not walk all of it again (a cold ``trace
    blame`` spent 20 ms exiting)."""
    args = list(argv) if argv is not None else sys.argv[1:]
    paused = bool(args) and args[0] in _SHORT_LIVED and gc.isenabled()
    if paused:
        gc.disable()
    try:
        cli.main(args=args)
    except BrokenPipeError:
        # `trace events show big.jsonl | head`: stop quietly, like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    finally:
        if argv is None:
            gc.freeze()  # the process exits now
        elif paused:  # main(argv) called in a process that goes on
            gc.enable()
