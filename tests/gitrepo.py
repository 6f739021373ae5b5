"""Real git repositories for tests: built with the real ``git`` binary in ``tmp_path``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

__all__ = ["GitRepo", "git"]


def git(cwd: Path, *args: str, input: bytes | None = None, check: bool = True) -> str:
    """Run git in ``cwd`` and return its stdout (text, stripped)."""
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"git {' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode()}"
        )
    return proc.stdout.decode().strip()


class GitRepo:
    """A work tree with helpers to write files and commit them."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def init(cls, root: Path, *, branch: str = "main") -> GitRepo:
        root.mkdir(parents=True, exist_ok=True)
        git(root, "init", "-q", "-b", branch)
        git(root, "config", "user.name", "Test Human")
        git(root, "config", "user.email", "human@example.com")
        git(root, "config", "commit.gpgsign", "false")
        return cls(root)

    def git(self, *args: str, input: bytes | None = None, check: bool = True) -> str:
        return git(self.root, *args, input=input, check=check)

    def write(self, path: str, text: str | bytes) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text, encoding="utf-8")
        return target

    def commit(self, message: str = "change", *paths: str) -> str:
        """Stage ``paths`` (everything when none) and commit; return the new HEAD SHA."""
        self.git("add", "-A", "--", *(paths or (".",)))
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def notes(self, ref: str = "refs/notes/agent-trace") -> dict[str, str]:
        """``{commit: note text}`` for every note under ``ref``."""
        out = {}
        for line in self.git("notes", f"--ref={ref}", "list", check=False).splitlines():
            _, commit = line.split()
            out[commit] = self.git("notes", f"--ref={ref}", "show", commit)
        return out


def isolated_git_env(home: Path) -> dict[str, str]:
    """Environment variables that keep git away from the user's own configuration."""
    (home / ".gitconfig").write_text("", encoding="utf-8")
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_TERMINAL_PROMPT": "0",
    }


if os.name == "nt":  # pragma: no cover
    raise ImportError("the tests need a POSIX system")
