"""Shared pytest fixtures (keep this file small and generic)."""

from __future__ import annotations

from pathlib import Path

import pytest
from shared_files import require_shared_dir


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ``../shared`` folder (fixtures, notes); see ``shared_files``."""
    return require_shared_dir()
