"""File primitives for the store: an inter-process lock, appends that cannot interleave,
and atomic replacement of small state files."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "MAX_ATTRIBUTED_BYTES",
    "LockTimeout",
    "TooLarge",
    "append_lines",
    "atomic_write",
    "format_size",
    "locked",
    "over_limit",
    "over_limit_reason",
    "read_regular",
]

import sys

_HAVE_FLOCK = sys.platform != "win32"
if _HAVE_FLOCK:
    import fcntl


MAX_ATTRIBUTED_BYTES = 64 * 1024 * 1024
"""Files larger than this are not read to be attributed (nor linked, nor blamed). Read
it as ``_files.MAX_ATTRIBUTED_BYTES`` at call time, as the helpers below do."""


def over_limit(size: int | None) -> bool:
    """Whether a file of ``size`` bytes (``None``: unknown) is too large to attribute."""
    return size is not None and size > MAX_ATTRIBUTED_BYTES


def format_size(size: int) -> str:
    """``size`` bytes for people: ``64 MiB``, ``100.0 MiB``, ``1.5 KiB``, ``900 bytes``."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size // scale} {unit}" if size % scale == 0 else f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def over_limit_reason() -> str:
    """Why a file too large to attribute is skipped (``LinkResult.skipped``, reports)."""
    return f"over {format_size(MAX_ATTRIBUTED_BYTES)}"


class TooLarge(ValueError):
    """A file too large to attribute (over :data:`MAX_ATTRIBUTED_BYTES`) was to be read."""

    def __init__(self, path: str, size: int, action: str = "not blamed") -> None:
        limit = format_size(MAX_ATTRIBUTED_BYTES)
        shown = format_size(size)
        if shown.replace(".0 ", " ") == limit:  # "64.0 MiB" next to a limit of 64 MiB
            shown = f"{size:,} bytes"
        super().__init__(f"{path}: {shown}, over agent-trace's limit of {limit}; {action}")
        self.path = path
        self.size = size


class LockTimeout(OSError):
    """Another process held a lock for longer than the timeout."""


def _flock(fd: int, path: Path, timeout: float) -> None:
    if not _HAVE_FLOCK:  # pragma: no cover - Windows: O_APPEND writes still land whole
        return
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockTimeout(
                    f"{path} is locked by another process (waited {timeout:g} s)"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.05)


@contextlib.contextmanager
def locked(path: str | os.PathLike[str], *, timeout: float = 30.0) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if missing) for the block.

    The lock belongs to this open file, so threads of one process exclude each other too.
    """
    lock_path = Path(path)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        _flock(fd, lock_path, timeout)
        yield
    finally:
        os.close(fd)  # releases the lock


def append_lines(path: str | os.PathLike[str], data: bytes, *, fsync: bool = True) -> int:
    """Append ``data`` (whole lines, ending in ``\\n``) to ``path`` under an exclusive lock
    on the file itself, with one ``write(2)``. A last line torn by a crash (no newline) is
    ended first, so it cannot swallow the new lines. Returns the offset ``data`` landed at.
    """
    if not data.endswith(b"\n"):
        raise ValueError("append_lines needs whole lines ending in a newline")
    file_path = Path(path)
    fd = os.open(file_path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        _flock(fd, file_path, 30.0)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
            size += 1
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if fsync:
            os.fsync(fd)
        return size
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], data: bytes, *, fsync: bool = True) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never a mix
    (a temporary file in the same directory, fsynced unless ``fsync=False``, then renamed
    over it). Without fsync the replacement is still atomic for other processes and
    survives the writer being killed; only an OS crash may lose it."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def read_regular(path: Path, limit: int) -> bytes | None:
    """A regular file's contents; ``None`` when there is none to attribute: absent,
    larger than ``limit`` bytes, a symbolic link (never followed: git keeps the link, not
    what it points to) or not a regular file (a FIFO would block, a device never end)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # the last component is a symbolic link
            return None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
        return data if len(data) <= limit else None
    finally:
        os.close(fd)
