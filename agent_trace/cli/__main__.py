"""``python -m agent_trace.cli``: the ``trace`` command (used by the installed git hooks)."""

from . import main

main()
