"""Shared pytest fixtures (keep this file small and generic)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


def locate_shared_dir() -> Path:
    """``$AGENT_TRACE_SHARED`` if set, else ``../shared`` beside the checkout."""
    override = os.environ.get("AGENT_TRACE_SHARED")
    return Path(override) if override else DEFAULT_SHARED_DIR


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ``../shared`` folder (fixtures, notes).

    Missing: skipped locally, but a failure under CI (``$CI`` set), where it must exist.
    """
    path = locate_shared_dir()
    if not path.is_dir():
        message = (
            f"shared material not found at {path} "
            "(set AGENT_TRACE_SHARED or put ../shared beside the checkout)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
