"""Reading JSON Lines files line by line, tolerating crashes: no dependencies, so the
trace store reads ``traces.jsonl`` without loading the event vocabulary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

__all__ = ["CUT_SHORT", "DEFAULT_MAX_LINE_BYTES", "iter_lines"]

DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024
"""Lines longer than this are reported and skipped instead of being read into memory."""

CUT_SHORT = "line cut short, as by a crash; skipped"


def iter_lines(f: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None, bool]]:
    """``(number, line, complete)`` for each non-blank line, split on ``\\n`` only.

    ``line`` is ``None`` for a line over ``limit`` bytes (skipped without being held in
    memory); ``complete`` is false for a last line with no newline. A ``\\r`` before the
    newline is dropped.
    """
    number = 0
    while True:
        raw = f.readline(limit + 1)
        if not raw:
            return
        number += 1
        complete = raw.endswith(b"\n")
        if not complete and len(raw) > limit:
            while True:  # skip the rest of the line
                rest = f.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None, False
            continue
        line = raw.rstrip(b"\r\n") if complete else raw
        if line.strip():
            yield number, line, complete
