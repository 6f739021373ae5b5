"""Shared pytest fixtures (keep this file small and generic)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import GitRepo
from shared_files import require_shared_dir


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ``../shared`` folder (fixtures, notes); see ``shared_files``."""
    return require_shared_dir()


@pytest.fixture(autouse=True)
def _isolated_git(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the user's global or system git configuration."""
    from gitrepo import isolated_git_env

    home = tmp_path_factory.mktemp("home")
    for key, value in isolated_git_env(home).items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """A fresh git work tree with an identity configured (no commits yet)."""
    return GitRepo.init(tmp_path / "repo")
