"""Where the tests find ``../shared`` (real VT Code and Codex logs, notes).

Missing material is skipped locally but fails under CI (``$CI`` set), where it must exist.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


def locate_shared_dir() -> Path:
    """``$AGENT_TRACE_SHARED`` if set, else ``../shared`` beside the checkout."""
    override = os.environ.get("AGENT_TRACE_SHARED")
    return Path(override) if override else DEFAULT_SHARED_DIR


def missing(message: str) -> None:
    """Skip, or fail under CI."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def require_shared_dir() -> Path:
    path = locate_shared_dir()
    if not path.is_dir():
        missing(
            f"shared material not found at {path} "
            "(set AGENT_TRACE_SHARED or put ../shared beside the checkout)"
        )
    return path


def fixture_log(kind: str) -> Path:
    """The one ``fixtures/<kind>/*.jsonl`` file of ``../shared``."""
    shared = locate_shared_dir()
    files = sorted((shared / "fixtures" / kind).glob("*.jsonl"))
    if not files:
        missing(f"no {kind} fixture under {shared}/fixtures (set AGENT_TRACE_SHARED)")
    return files[0]
