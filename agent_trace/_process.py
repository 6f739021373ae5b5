"""Who owns a run or an edit window: a process id with what tells it from a later
process given the same id (its start time, on Linux) and the host it runs on."""

from __future__ import annotations

import functools
import os
import socket

import attrs

__all__ = ["Owner"]


def _stat(pid: int) -> tuple[bytes, int] | None:
    """Process ``pid``'s state letter and start time (clock ticks since boot), from
    ``/proc`` (Linux), or ``None``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or parentheses.
    fields = data[data.rfind(b")") + 2 :].split()
    try:
        return fields[0], int(fields[19])  # fields 3 and 22 of the whole line
    except (IndexError, ValueError):
        return None


def _start_ticks(pid: int) -> int | None:
    stat = _stat(pid)
    return stat[1] if stat is not None else None


@functools.cache
def _host() -> str:
    return socket.gethostname()


@attrs.frozen
class Owner:
    """A process that may hold state open (an edit window, a running run)."""

    pid: int
    started: int | None = None
    host: str | None = None

    @classmethod
    def me(cls) -> Owner:
        """This process."""
        return _me(os.getpid())

    def is_gone(self) -> bool:
        """Whether the process is certainly gone. A process on another host, or one this
        user may not signal, is assumed alive: only a certain death releases its state."""
        if self.host is not None and self.host != _host():
            return False
        try:
            os.kill(self.pid, 0)
        except (ProcessLookupError, OverflowError):  # no such process (or id) at all
            return True
        except PermissionError:
            return False
        stat = _stat(self.pid)
        if stat is None:
            return False
        state, started = stat
        # A zombie has exited; a different start time: the id went to a new process.
        return state == b"Z" or (self.started is not None and started != self.started)

    def to_dict(self) -> dict[str, object]:
        return {k: v for k, v in attrs.asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: object) -> Owner | None:
        if not isinstance(data, dict):
            return None
        pid, started, host = data.get("pid"), data.get("started"), data.get("host")
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            return None
        return cls(
            pid=pid,
            started=started if isinstance(started, int) else None,
            host=host if isinstance(host, str) else None,
        )


@functools.cache
def _me(pid: int) -> Owner:  # keyed by pid: a forked child is another owner
    return Owner(pid=pid, started=_start_ticks(pid), host=_host())
