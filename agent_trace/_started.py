"""Git processes running in the background, and the early start of a cold ``trace blame``
and of the post-rewrite hook.

Standard library only (no attrs, no click): ``trace blame`` calls :func:`start_early`
before it imports the rest of agent-trace, so that ``git blame`` runs on one core while
Python loads on the other. What it starts is claimed by the blame (``_blame``) when it
is exactly what the blame would start itself (same repository, commit and path), and
stopped otherwise: starting early never changes an answer. The post-rewrite hook does
the same with the one ``git diff-tree --stdin`` of a rebase's commits
(:func:`start_rewrite`, claimed by ``_commits.diff_commits`` when its arguments and
input are the very same).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from typing import IO

from . import _files

__all__ = [
    "CACHE_DIRECTORY",
    "DIFF_ALGORITHM",
    "DIFF_OPTIONS",
    "GIT",
    "REWRITE_CHUNK",
    "SPLIT_MIN_COMMITS",
    "BlameStart",
    "Started",
    "blame_args",
    "big_files",
    "cached_commits",
    "claim",
    "claim_output",
    "diff_tree_stdin_args",
    "discard",
    "early_parents",
    "parent_pairs",
    "parse_rewrite_input",
    "rewritten_from",
    "start",
    "start_blame",
    "start_early",
    "start_rewrite",
]

GIT = ("git", "--no-optional-locks")
"""Every git command we run: ``--no-optional-locks`` keeps ``git status`` and ``git diff``
from refreshing the index, which takes ``index.lock`` and can make the user's own git
command fail at that moment."""

DIFF_ALGORITHM = "--diff-algorithm=myers"
"""Passed to every blame and to the diffs a blame is derived from, so a configured
``diff.algorithm`` cannot make the two disagree."""

_SPLIT_LIST_MAX = 10_000
"""How many commits touching a file are listed to split its blame in two."""

CACHE_DIRECTORY = "cache"
"""The caches' directory in ``.agent-trace/``."""


class GitNotFound(Exception):  # re-raised as ``_git.GitNotFound`` by the callers
    """``git`` is not installed."""


class Started:
    """A git process running in the background, its output going to a temporary file
    (no pipe to drain: the caller works meanwhile)."""

    def __init__(
        self, args: Sequence[str], proc: subprocess.Popen[bytes], out: IO[bytes], err: IO[bytes]
    ) -> None:
        self._args, self._proc, self._out, self._err = tuple(args), proc, out, err

    @property
    def args(self) -> tuple[str, ...]:
        """The arguments after ``git`` (and ``--no-optional-locks``)."""
        return self._args

    def result(self, ok_codes: Iterable[int] = (0,)) -> bytes:
        """Wait for the process; its standard output. Raises ``_git.GitCommandError``."""
        try:
            code = self._proc.wait()
            self._out.seek(0)
            data = self._out.read()
            if code not in tuple(ok_codes):
                self._err.seek(0)
                stderr = self._err.read().decode("utf-8", "replace")
                from ._git import GitCommandError

                raise GitCommandError(self._args, code, stderr)
            return data
        finally:
            self.close()

    def finished(self, timeout: float) -> bool:
        """Whether the process ends within ``timeout`` seconds (it keeps running if not)."""
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def close(self) -> None:
        """Stop the process if it still runs and drop its output."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._out.close()
        self._err.close()


def start(cwd: str | os.PathLike[str], args: Sequence[str], input: bytes | None = None) -> Started:
    """Start ``git ARGS`` in ``cwd`` (``input``: its standard input, from a temporary
    file, so nothing waits on a pipe); raises :class:`GitNotFound`."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 (closed by Started)
    err = tempfile.TemporaryFile()  # noqa: SIM115
    stdin: IO[bytes] | int = subprocess.DEVNULL
    try:
        if input is not None:
            stdin = tempfile.TemporaryFile()  # noqa: SIM115 (closed below)
            stdin.write(input)
            stdin.seek(0)
        proc = subprocess.Popen([*GIT, *args], cwd=cwd, stdin=stdin, stdout=out, stderr=err)
    except FileNotFoundError:
        out.close()
        err.close()
        raise GitNotFound() from None
    finally:
        if not isinstance(stdin, int):
            stdin.close()  # the child has its own descriptor
    return Started(args, proc, out, err)


def blame_args(revision: str, path: str) -> tuple[str, ...]:
    """The ``git blame`` of the whole of ``path`` at ``revision`` (a commit or a range)."""
    return ("blame", "--incremental", DIFF_ALGORITHM, revision, "--", path)


def listing_args(commit: str, path: str) -> tuple[str, ...]:
    """The newest commits touching ``path`` up to ``commit``, to split its blame."""
    return (
        "--literal-pathspecs",
        "rev-list",
        f"--max-count={_SPLIT_LIST_MAX}",
        commit,
        "--",
        path,
    )


def cache_path_dir(store_directory: str | os.PathLike[str], path: str) -> str:
    """The directory of the cached blames of ``path`` (one file per commit)."""
    digest = hashlib.sha1(path.encode("utf-8", "surrogateescape")).hexdigest()
    return os.path.join(store_directory, CACHE_DIRECTORY, "blame", digest)


def cached_commits(store_directory: str | os.PathLike[str], path: str) -> set[str]:
    """The commits whose blame of ``path`` is cached."""
    try:
        names = os.listdir(cache_path_dir(store_directory, path))
    except OSError:
        return set()
    return {n[:-5] for n in names if n.endswith(".json")}


SPLIT_MIN_COMMITS = 40
"""A whole-file blame of a commit is split in two when this many commits touched the
file (and the machine has two cores or more)."""
_SPLIT_LIST_SECONDS = 0.05


class BlameStart:
    """The ``git blame`` of a whole file, started: ``plain``, or split in two at
    ``middle`` (``top``: ``git blame MIDDLE..COMMIT``, ``bottom``: ``git blame MIDDLE``)."""

    def __init__(
        self,
        plain: Started | None = None,
        middle: str | None = None,
        top: Started | None = None,
        bottom: Started | None = None,
    ) -> None:
        self.plain, self.middle, self.top, self.bottom = plain, middle, top, bottom

    def close(self) -> None:
        for started in (self.plain, self.top, self.bottom):
            if started is not None:
                started.close()


def start_blame(
    cwd: str | os.PathLike[str], commit: str, path: str, min_commits: int = SPLIT_MIN_COMMITS
) -> BlameStart:
    """Start the blame of the whole of ``path`` in ``commit``: split in two when
    ``min_commits`` or more commits touched the file and there are two cores or more.

    The plain blame starts at once; the list of commits touching the file gets 50 ms (a
    long history with few of them is cheaper to blame than to list)."""
    plain = start(cwd, blame_args(commit, path))
    if (os.cpu_count() or 1) < 2:
        return BlameStart(plain)
    try:
        listing = start(cwd, listing_args(commit, path))
    except BaseException:
        plain.close()
        raise
    touching: list[bytes] = []
    if listing.finished(_SPLIT_LIST_SECONDS):
        touching = listing.result(ok_codes=range(256)).split()
    listing.close()
    if len(touching) < min_commits or any(len(sha) not in (40, 64) for sha in touching):
        return BlameStart(plain)
    plain.close()
    middle = touching[len(touching) // 2].decode("ascii")
    top = start(cwd, blame_args(f"{middle}..{commit}", path))
    try:
        bottom = start(cwd, blame_args(middle, path))
    except BaseException:
        top.close()
        raise
    return BlameStart(None, middle, top, bottom)


class _Early:
    """A blame started before the store was opened."""

    def __init__(self, root: str, commit: str, path: str) -> None:
        self.root, self.commit, self.path = root, commit, path
        self.started = start_blame(root, commit, path)


_early: _Early | None = None


def start_early(directory: str | os.PathLike[str], path: str) -> None:
    """Start the blame of the work-tree file ``path`` (as the user gave it, relative to
    ``directory``) in HEAD, unless its blame is cached already. Does nothing when
    anything is unusual (no repository, no commits, a path with a line break); the
    blame then starts its own processes as usual."""
    global _early
    discard()
    if "\n" in path or "\r" in path or not path:
        return
    try:
        proc = subprocess.run(
            [*GIT, "rev-parse", "--show-toplevel", "--verify", "-q", "HEAD"],
            cwd=directory,
            capture_output=True,
            check=False,
        )
    except OSError:
        return
    lines = proc.stdout.decode("utf-8", "surrogateescape").split("\n")
    if proc.returncode != 0 or len(lines) < 2:
        return
    root, commit = lines[0], lines[1]
    # As ``_blame.repo_relative`` makes it: symbolic links resolved but the file's own.
    full = os.path.normpath(os.path.join(os.path.abspath(directory), path))
    full = os.path.join(os.path.realpath(os.path.dirname(full)), os.path.basename(full))
    relative = os.path.relpath(full, os.path.realpath(root)).replace(os.sep, "/")
    if relative.startswith("../") or relative in (".", "..") or not os.path.isfile(full):
        return
    if cached_commits(os.path.join(root, ".agent-trace"), relative):
        return  # a cached blame: the blame derives from it, no git blame needed
    try:
        _early = _Early(root, commit, relative)
    except (GitNotFound, OSError):
        _early = None


def claim(root: str | os.PathLike[str], commit: str, path: str) -> BlameStart | None:
    """The blame started early, if it is that of ``path`` in ``commit`` of the
    repository at ``root``; it is the caller's to finish or close. Whatever else was
    started early is stopped."""
    global _early
    early, _early = _early, None
    if early is None:
        return None
    if (early.commit, early.path) == (commit, path) and _same_directory(early.root, root):
        return early.started
    early.started.close()
    return None


def discard() -> None:
    """Stop what was started early and not claimed."""
    global _early, _rewrite_start
    early, _early = _early, None
    if early is not None:
        early.started.close()
    rewrite, _rewrite_start = _rewrite_start, None
    if rewrite is not None and rewrite.started is not None:
        rewrite.started.close()


# ---------------------------------------------------------------------- diffs of rewrites

DIFF_OPTIONS = (
    "-r",
    "--raw",
    "-z",
    "-p",
    "-U0",
    "-M",
    "--no-abbrev",
    "--full-index",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)
"""The options of every diff linking reads (``_commits``: raw entries, then the patch)."""

REWRITE_CHUNK = 64
"""New commits of a rewrite whose diffs and files are read together (bounds memory)."""


def big_files() -> tuple[str, str]:
    """Git options making diffs treat files too large to attribute as binary: git
    neither prints their lines (a 100 MB file would be a 100 MB patch) nor reads them
    whole for that (``core.bigFileThreshold``). Such files get ``binary`` set;
    ``_commits.object_sizes`` tells them from real binary files."""
    return ("-c", f"core.bigFileThreshold={_files.MAX_ATTRIBUTED_BYTES}")


def diff_tree_stdin_args() -> tuple[str, ...]:
    """``git diff-tree --stdin`` of ``<commit> [<parent>]`` lines, as linking runs it."""
    return (*big_files(), "diff-tree", "--stdin", "--always", "--root", *DIFF_OPTIONS)


def diff_tree_input(pairs: Iterable[tuple[str, str | None]]) -> bytes:
    """The standard input of :func:`diff_tree_stdin_args` for ``(commit, parent)`` pairs
    (``None``: a root commit)."""
    return "".join(f"{c} {p}\n" if p else f"{c}\n" for c, p in pairs).encode()


def parent_pairs(
    commits: Iterable[str], parents: dict[str, list[str]]
) -> list[tuple[str, str | None]]:
    """``(commit, parent)`` for each parent of each commit; ``(commit, None)`` for a
    root commit: the diffs linking reads."""
    pairs: list[tuple[str, str | None]] = []
    for c in commits:
        pairs += [(c, p) for p in parents[c]] if parents[c] else [(c, None)]
    return pairs


_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


def parse_rewrite_input(text: str) -> list[tuple[str, str]]:
    """``(old, new)`` pairs from git's post-rewrite input, in order.

    Raises ``ValueError`` naming the line when a line is not ``<sha> <sha> [extra]``.
    """
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) < 2 or not all(_SHA.fullmatch(f) for f in fields[:2]):
            raise ValueError(f"post-rewrite input line {number}: expected '<old> <new>'")
        pairs.append((fields[0], fields[1]))
    return pairs


def rewritten_from(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Each new commit of a rewrite's ``(old, new)`` pairs and the old commits it
    replaces (several for a squash), in git's order; a commit re-picked as the very same
    commit (``old == new``) is left out: nothing changed."""
    olds_of: dict[str, list[str]] = {}
    for old, new in pairs:
        if old != new:
            olds = olds_of.setdefault(new, [])
            if old not in olds:
                olds.append(old)
    return olds_of


class _RewriteStart:
    """What :func:`start_rewrite` read and started, in the repository at ``cwd``."""

    def __init__(
        self, cwd: str, parents: dict[str, list[str]], args: tuple[str, ...], input: bytes
    ) -> None:
        self.cwd, self.parents, self.args, self.input = cwd, parents, args, input
        self.started: Started | None = None
        """The diff, until :func:`claim_output` takes it."""


_rewrite_start: _RewriteStart | None = None


def start_rewrite(directory: str | os.PathLike[str], text: str) -> None:
    """Start what the post-rewrite hook reads first, from git's ``<old> <new>`` lines
    ``text``, before the rest of agent-trace loads: the parents of the commits (one
    ``git rev-list``, kept for :func:`early_parents`) and the diffs of the first
    :data:`REWRITE_CHUNK` new commits and the commits they replace, against their
    parents (the ``git diff-tree --stdin`` that ``_rewrite.relink_rewritten`` runs,
    for :func:`claim_output`). Does nothing when anything is unusual (a line that is
    not two commit ids, a commit git does not have, no repository): the hook then runs
    its own processes."""
    global _rewrite_start
    discard()
    try:
        olds_of = rewritten_from(parse_rewrite_input(text))
    except ValueError:
        return
    chunk = list(olds_of.items())[:REWRITE_CHUNK]
    commits = list(dict.fromkeys(c for new, olds in chunk for c in (new, *olds)))
    if not commits:
        return
    cwd = os.path.abspath(directory)
    try:
        proc = subprocess.run(
            [*GIT, "rev-list", "--no-walk=unsorted", "--parents", *commits, "--"],
            cwd=cwd,
            capture_output=True,
            check=False,
        )
    except OSError:
        return
    parents: dict[str, list[str]] = {}
    for row in proc.stdout.decode("ascii", "replace").splitlines():
        if row.strip():
            sha, *rest = row.split()
            parents[sha] = rest
    if proc.returncode != 0 or not all(c in parents for c in commits):
        return
    args = diff_tree_stdin_args()
    rewrite = _RewriteStart(cwd, parents, args, diff_tree_input(parent_pairs(commits, parents)))
    _rewrite_start = rewrite
    with contextlib.suppress(GitNotFound, OSError):  # else the hook runs its own diff
        rewrite.started = start(cwd, args, rewrite.input)


def early_parents(cwd: str | os.PathLike[str]) -> dict[str, list[str]]:
    """The parents :func:`start_rewrite` read, if it ran in the repository at ``cwd``
    (commits are immutable: they hold their parents)."""
    rewrite = _rewrite_start
    if rewrite is None or not _same_directory(rewrite.cwd, cwd):
        return {}
    return rewrite.parents


def _same_directory(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def claim_output(cwd: str | os.PathLike[str], args: Sequence[str], input: bytes) -> Started | None:
    """The diff :func:`start_rewrite` started, if it is ``git ARGS`` with standard input
    ``input`` in the repository at ``cwd``; the caller's to finish (``result()``) or
    close. It is stopped otherwise (the parents read early stay)."""
    rewrite = _rewrite_start
    if rewrite is None or rewrite.started is None:
        return None
    started, rewrite.started = rewrite.started, None
    same = rewrite.args == tuple(args) and rewrite.input == input
    if same and _same_directory(rewrite.cwd, cwd):
        return started
    started.close()
    return None
