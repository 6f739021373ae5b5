"""agent-trace: which lines came from which model, in which conversation, and which from humans.

Subpackages: :mod:`agent_trace.events` (the thread-event vocabulary, JSONL logs and
emitters) and :mod:`agent_trace.cli` (the ``trace`` command).
"""

from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    # Served lazily: importlib.metadata costs several milliseconds at import time.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("agent-trace")
        except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
            return "0.0.0+unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
