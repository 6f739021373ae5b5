"""Every call to the ``git`` binary goes through this module.

Commands run as argument lists (never through a shell), with user paths after ``--`` and
user revisions resolved to full SHAs first (:meth:`Git.resolve_commit`). A subprocess per
command is what GitPython does as well for everything but object reads; calling git
directly keeps ``import git`` (about 120 ms) out of hooks and ``trace blame``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import attrs

from . import _started
from ._started import GIT, Started

__all__ = [
    "BadRevision",
    "Git",
    "GitCommandError",
    "GitError",
    "GitNotFound",
    "IDENTITY_ENV",
    "NotAGitRepository",
    "Repository",
    "Started",
    "blob_id",
    "find_repository",
]


class GitError(Exception):
    """Base of the errors of this module."""


class GitNotFound(GitError):
    """The ``git`` executable is not installed or not on ``PATH``."""

    def __init__(self) -> None:
        super().__init__("git is not installed or not on PATH; install git 2.31 or newer")


class NotAGitRepository(GitError):
    """The directory is not inside a git work tree."""

    def __init__(self, path: Path, detail: str = "") -> None:
        message = f"{path} is not inside a git work tree"
        if detail and "not a git repository" not in detail:
            message += f" ({detail.removeprefix('fatal: ')})"
        super().__init__(f"{message}; run this inside a repository or pass -C PATH")
        self.path = path


class BadRevision(GitError):
    """A user-supplied revision does not name a commit."""

    def __init__(self, revision: str, detail: str = "") -> None:
        message = f"{revision!r} does not name a commit in this repository"
        super().__init__(f"{message}: {detail}" if detail else message)
        self.revision = revision


class GitCommandError(GitError):
    """``git`` exited non-zero."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        detail = stderr.strip().splitlines()
        text = detail[-1] if detail else f"exit status {returncode}"
        super().__init__(f"git {' '.join(args[:3])}{' …' if len(args) > 3 else ''}: {text}")
        self.args_ = tuple(args)
        self.returncode = returncode
        self.stderr = stderr


IDENTITY_ENV = {  # who commits notes when the repository has no identity configured
    "GIT_AUTHOR_NAME": "agent-trace",
    "GIT_AUTHOR_EMAIL": "agent-trace@localhost",
    "GIT_COMMITTER_NAME": "agent-trace",
    "GIT_COMMITTER_EMAIL": "agent-trace@localhost",
}


class Git:
    """Runs ``git`` in one directory (``git -C cwd``)."""

    def __init__(self, cwd: str | os.PathLike[str]) -> None:
        self.cwd = Path(cwd)

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        ok_codes: Iterable[int] = (0,),
    ) -> subprocess.CompletedProcess[bytes]:
        """Run ``git ARGS`` and return the completed process (stdout/stderr as bytes).

        Raises :class:`GitCommandError` for an exit code outside ``ok_codes`` and
        :class:`GitNotFound` when there is no git.
        """
        full_env = None
        if env:
            full_env = dict(os.environ)
            full_env.update(env)
        try:
            proc = subprocess.run(
                [*GIT, *args],
                cwd=self.cwd,
                input=input,
                capture_output=True,
                env=full_env,
                check=False,
            )
        except FileNotFoundError:
            raise GitNotFound() from None
        if proc.returncode not in tuple(ok_codes):
            raise GitCommandError(args, proc.returncode, proc.stderr.decode("utf-8", "replace"))
        return proc

    def iter_lines(self, *args: str) -> Iterator[bytes]:
        """The lines of ``git ARGS``'s standard output as they come (for long outputs
        read only as far as needed: the process is stopped when the caller stops).
        A failing command yields what it printed; its stderr is discarded."""
        try:
            proc = subprocess.Popen(
                [*GIT, *args], cwd=self.cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
        except FileNotFoundError:
            raise GitNotFound() from None
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                yield line.rstrip(b"\n")
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            proc.wait()

    def output(self, *args: str, input: bytes | None = None) -> str:
        """Standard output of ``git ARGS`` as text, without the final newline."""
        out = self.run(*args, input=input).stdout.decode("utf-8", "surrogateescape")
        return out[:-1] if out.endswith("\n") else out

    def run_as_committer(self, *args: str, input: bytes | None = None) -> None:
        """Run a command that creates commits (``git notes add``): if git has no identity
        configured for this repository, retry as ``agent-trace <agent-trace@localhost>``
        for this command only (the user's config is never changed)."""
        try:
            self.run(*args, input=input)
        except GitCommandError as exc:
            lowered = exc.stderr.lower()
            if "identity" not in lowered and "tell me who you are" not in lowered:
                raise
            self.run(*args, input=input, env=IDENTITY_ENV)

    # ------------------------------------------------------------------ revisions

    def resolve_commit(self, revision: str) -> str:
        """The full SHA of the commit ``revision`` names (``HEAD~2``, a branch, a short SHA).

        Raises :class:`BadRevision`; revisions starting with ``-`` are refused.
        """
        if not revision or revision.startswith("-"):
            raise BadRevision(revision, "revisions may not start with '-'")
        proc = self.run(
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            f"{revision}^{{commit}}",
            ok_codes=(0, 1, 128),
        )
        if proc.returncode != 0:
            raise BadRevision(revision)
        return proc.stdout.decode().strip()

    def head(self) -> str | None:
        """The SHA of ``HEAD``, or ``None`` in a repository with no commits yet."""
        proc = self.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", ok_codes=(0, 1, 128))
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def existing_commits(self, shas: Iterable[str]) -> set[str]:
        """Which of ``shas`` (full hex ids) are commits in this repository (one process)."""
        wanted = sorted(set(shas))
        if not wanted:
            return set()
        text = "".join(f"{sha}\n" for sha in wanted).encode()
        out = self.run("cat-file", "--batch-check", input=text).stdout.decode()
        found = set()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] == "commit":
                found.add(parts[0])
        return found

    # ------------------------------------------------------------------ config

    def config_get_all(self, key: str) -> list[str]:
        """Every value of ``key`` in the repository's own config (``--local``)."""
        proc = self.run("config", "--local", "--get-all", key, ok_codes=(0, 1))
        return proc.stdout.decode("utf-8", "surrogateescape").splitlines()

    def config_scope(self, key: str) -> tuple[str, str, str] | None:
        """Where the value of ``key`` in effect comes from: ``(scope, origin, value)``
        (scope ``local``, ``worktree``, ``global``, ``system``, ``command``), or ``None``."""
        proc = self.run(
            "config", "--show-scope", "--show-origin", "--get", key, ok_codes=(0, 1, 129)
        )
        parts = proc.stdout.decode("utf-8", "surrogateescape").rstrip("\n").split("\t", 2)
        if proc.returncode != 0 or len(parts) != 3:
            return None
        return parts[0], parts[1], parts[2]

    def config_add(self, key: str, value: str) -> None:
        """Add ``key = value`` to the repository's own config (never the global one)."""
        self.run("config", "--local", "--add", key, value)

    # ------------------------------------------------------------------ objects

    def read_blobs(self, shas: Sequence[str]) -> dict[str, bytes]:
        """The contents of many blobs with one ``git cat-file --batch``."""
        return {
            sha: data
            for sha, data in zip(shas, self.read_objects(shas), strict=True)
            if data is not None
        }

    def read_objects(self, names: Sequence[str]) -> list[bytes | None]:
        """The contents of the blobs ``names`` name (SHAs, ``tree:path``...), in order,
        with one ``git cat-file --batch``; ``None`` for a name that is missing or not a
        blob."""
        return [
            found[2] if found is not None and found[1] == "blob" else None
            for found in self.batch(names)
        ]

    def batch(
        self, names: Sequence[str], *, contents: bool = True
    ) -> list[tuple[str, str, bytes] | None]:
        """``(id, type, contents)`` of the objects ``names`` name, in order, with one
        ``git cat-file --batch`` (``--batch-check`` and empty contents when ``contents``
        is false); ``None`` for a name that is missing. Names may not contain newlines."""
        if not names:
            return []
        text = "".join(f"{name}\n" for name in names).encode("utf-8", "surrogateescape")
        mode = "--batch" if contents else "--batch-check"
        out = self.run("cat-file", mode, input=text).stdout
        found: list[tuple[str, str, bytes] | None] = []
        pos = 0
        for _ in names:
            end = out.index(b"\n", pos)
            header = out[pos:end].split(b" ")
            pos = end + 1
            if len(header) != 3:  # "<name> missing" / "ambiguous"
                found.append(None)
                continue
            size = int(header[2]) if contents else 0
            found.append((header[0].decode(), header[1].decode(), out[pos : pos + size]))
            if contents:
                pos += size + 1
        return found

    def start(self, *args: str) -> Started:
        """Start ``git ARGS`` in the background, its output going to a temporary file
        (no pipe to drain: the caller works meanwhile); :meth:`Started.result` waits."""
        try:
            return _started.start(self.cwd, args)
        except _started.GitNotFound:
            raise GitNotFound() from None


@attrs.frozen
class Repository:
    """Where a repository lives: the work-tree root, its git dir and the common git dir
    (shared by linked work trees)."""

    root: Path
    git_dir: Path
    common_dir: Path

    @property
    def git(self) -> Git:
        return Git(self.root)

    def read_head(self) -> str | None:
        """The SHA ``HEAD`` points to, or ``None`` before the first commit.

        Read from the ref files (about 50 µs, no process), so a recorder can watch for new
        commits on every event; falls back to ``git rev-parse`` for anything unusual
        (reftable, symbolic refs to symbolic refs).
        """
        try:
            text = (self.git_dir / "HEAD").read_text("utf-8").strip()
        except OSError:
            return self.git.head()
        if not text.startswith("ref: "):
            return text.lower() if _is_sha(text) else self.git.head()
        ref = text[5:].strip()
        if (self.common_dir / "reftable").exists():
            return self.git.head()
        for base in (self.git_dir, self.common_dir):
            try:
                value = (base / ref).read_text("utf-8").strip()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                continue
            except OSError:
                return self.git.head()
            return value.lower() if _is_sha(value) else self.git.head()
        try:
            packed = (self.common_dir / "packed-refs").read_text("utf-8")
        except FileNotFoundError:
            return None  # an unborn branch
        except OSError:
            return self.git.head()
        for line in packed.splitlines():
            sha, _, name = line.partition(" ")
            if name == ref and _is_sha(sha):
                return sha.lower()
        return None

    def git_path(self, name: str) -> Path:
        """A path inside the git dir as ``git rev-parse --git-path`` resolves it
        (``info/exclude`` lives in the common dir of linked work trees)."""
        return Path(self.git.output("rev-parse", "--path-format=absolute", "--git-path", name))


def blob_id(content: bytes, width: int = 40) -> str:
    """The id git gives ``content`` as a blob (SHA-1, or SHA-256 for ``width`` 64),
    computed without a process."""
    digest = hashlib.sha256() if width == 64 else hashlib.sha1()
    digest.update(b"blob %d\0" % len(content))
    digest.update(content)
    return digest.hexdigest()


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdefABCDEF" for c in text)


def find_repository(path: str | os.PathLike[str] = ".") -> Repository:
    """The git work tree containing ``path``.

    Raises :class:`NotAGitRepository` (also for a bare repository: attribution needs
    a work tree) and :class:`GitNotFound`.
    """
    start = Path(path)
    if not start.exists():
        raise NotAGitRepository(start, "no such directory")
    cwd = start if start.is_dir() else start.parent
    try:
        out = Git(cwd).output(
            "rev-parse",
            "--path-format=absolute",
            "--is-bare-repository",
            "--absolute-git-dir",
            "--git-common-dir",
            "--show-toplevel",
        )
    except GitCommandError as exc:
        bare = Git(cwd).run("rev-parse", "--is-bare-repository", ok_codes=(0, 128))
        if bare.stdout.strip() == b"true":
            raise NotAGitRepository(start.resolve(), "a bare repository has no work tree") from None
        detail = exc.stderr.strip().splitlines()
        raise NotAGitRepository(start.resolve(), detail[-1] if detail else "") from None
    lines = out.splitlines()
    if lines and lines[0] == "true":
        raise NotAGitRepository(start.resolve(), "a bare repository has no work tree")
    if len(lines) < 4:
        raise NotAGitRepository(start.resolve(), "inside the .git directory, not a work tree")
    _, git_dir, common_dir, root = lines[:4]
    return Repository(root=Path(root), git_dir=Path(git_dir), common_dir=Path(common_dir))
