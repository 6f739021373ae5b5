"""Work-tree snapshots as git trees, built in a private index.

``git add -A`` into a copy of the user's index (so unchanged files are not hashed again)
and ``git write-tree`` give one tree id per moment; two ids tell which files changed in
between and what they held. The user's index, HEAD and refs are never touched; the blobs
written are unreachable objects that ``git gc`` prunes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from ._git import Repository

__all__ = ["TreeSnapshots"]

_CONFIG = ("-c", "core.safecrlf=false", "-c", "advice.addEmbeddedRepo=false")
_SKIPPED_MODES = (b"160000", b"120000")  # submodules, symlinks


class TreeSnapshots:
    """Trees of the work tree at chosen moments (``index``: a file of ours)."""

    def __init__(self, repository: Repository, index: Path) -> None:
        self.git = repository.git
        self.index = index
        self._env = {"GIT_INDEX_FILE": str(index)}
        if not index.exists():
            index.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):
                shutil.copyfile(repository.git_dir / "index", index)

    def take(self) -> str:
        """The id of a tree holding the work tree as it is now (ignored files left out)."""
        self.git.run(*_CONFIG, "add", "-A", "--ignore-errors", "--", ".", env=self._env,
                     ok_codes=(0, 1))  # fmt: skip
        return self.git.run("write-tree", env=self._env).stdout.decode().strip()

    def changed(self, old: str, new: str) -> list[str]:
        """Paths of regular files that differ between two trees (added, changed, deleted)."""
        if old == new:
            return []
        out = self.git.run("diff-tree", "-r", "-z", "--no-renames", old, new, "--").stdout
        fields = out.split(b"\0")
        paths: list[str] = []
        for i in range(0, len(fields) - 1, 2):
            meta, path = fields[i], fields[i + 1]
            modes = meta.lstrip(b":").split(b" ")[:2]
            if any(mode in _SKIPPED_MODES for mode in modes):
                continue
            paths.append(os.fsdecode(path))
        return paths

    def contents(self, tree: str, paths: list[str]) -> dict[str, bytes | None]:
        """Each path's content in ``tree`` (``None``: not there), with one ``cat-file``."""
        return dict(
            zip(paths, self.git.read_objects([f"{tree}:{path}" for path in paths]), strict=True)
        )

    def close(self) -> None:
        """Remove the private index."""
        with contextlib.suppress(FileNotFoundError):
            self.index.unlink()
