"""Range content hashes: ``murmur3:`` + 8 hex digits, position-independent.

Normalization (``docs/records.md``): the range's lines, each without its line terminator
(``\\n``, or ``\\r\\n`` as one terminator), joined with ``\\n`` (no trailing newline), as
the file's bytes (UTF-8 for text). MurmurHash3 x86_32, seed 0, lower-case hex:
``content_hash("hello world") == "murmur3:5e928f0f"``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence

import mmh3

__all__ = [
    "CONTENT_HASH_ALGORITHM",
    "content_hash",
    "hash_matches",
    "line_hashes",
    "parse_content_hash",
    "range_content_hash",
    "split_lines",
]

CONTENT_HASH_ALGORITHM = "murmur3"

_HASH = re.compile(r"([a-z][a-z0-9_.+-]*):([0-9a-fA-F]+)")


def _murmur3(data: bytes) -> str:
    return f"{mmh3.hash(data, 0, signed=False):08x}"


def _fnv1a64(data: bytes) -> str:  # VT Code's alternative (``fnv1a:`` + 16 hex digits)
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def _hashlib(name: str) -> Callable[[bytes], str]:
    return lambda data: hashlib.new(name, data).hexdigest()


_ALGORITHMS: dict[str, Callable[[bytes], str]] = {
    "murmur3": _murmur3,
    "fnv1a": _fnv1a64,
    "sha256": _hashlib("sha256"),
    "sha1": _hashlib("sha1"),
}


def _as_bytes(line: str | bytes) -> bytes:
    return line.encode("utf-8", "surrogateescape") if isinstance(line, str) else line


def content_hash(lines: str | bytes | Iterable[str | bytes]) -> str:
    """``murmur3:xxxxxxxx`` of text (``str``/``bytes``, hashed as given) or of lines
    (joined with ``\\n``; each line must not carry its terminator)."""
    if isinstance(lines, str | bytes):
        data = _as_bytes(lines)
    else:
        data = b"\n".join(_as_bytes(line) for line in lines)
    return f"{CONTENT_HASH_ALGORITHM}:{_murmur3(data)}"


def split_lines(content: bytes | str) -> list[bytes]:
    """The lines of a file as git counts them: split on ``\\n``, terminators (``\\n`` or
    ``\\r\\n``) removed; a last line without a newline is still a line."""
    data = _as_bytes(content)
    lines = data.split(b"\n")
    last = lines.pop()  # after the last newline: a line only if not empty, and unterminated
    if b"\r" not in data:  # the common case: nothing to strip (a 5,000-line file: 0.1 ms)
        if last:
            lines.append(last)
        return lines
    out = [line[:-1] if line.endswith(b"\r") else line for line in lines]
    if last:
        out.append(last)
    return out


def range_content_hash(lines: Sequence[bytes], start_line: int, end_line: int) -> str:
    """The hash of lines ``start_line..end_line`` (1-based, inclusive) of ``lines``
    (as returned by :func:`split_lines`). Raises ``ValueError`` outside the file."""
    if not 1 <= start_line <= end_line <= len(lines):
        raise ValueError(f"range {start_line}-{end_line} is outside a file of {len(lines)} lines")
    return content_hash(lines[start_line - 1 : end_line])


def line_hashes(lines: Sequence[bytes]) -> list[int]:
    """A 32-bit murmur3 hash per line (for matching single lines cheaply)."""
    return [mmh3.hash(line, 0, signed=False) for line in lines]


def parse_content_hash(value: str) -> tuple[str, str]:
    """``("murmur3", "5e928f0f")`` for ``"murmur3:5e928f0f"``: any ``algo:hex`` is
    accepted (hex digits lower-cased). Raises ``ValueError`` for anything else."""
    m = _HASH.fullmatch(value)
    if m is None:
        raise ValueError(f"not a content hash of the form 'algorithm:hexdigits': {value!r}")
    return m.group(1), m.group(2).lower()


def hash_matches(value: str, lines: Iterable[str | bytes]) -> bool | None:
    """Whether ``value`` (any supported ``algo:hex``) is the hash of ``lines``; ``None``
    when the algorithm is not one this library computes (murmur3, fnv1a, sha256, sha1)
    or ``value`` is not a content hash."""
    try:
        algo, digest = parse_content_hash(value)
    except ValueError:
        return None
    function = _ALGORITHMS.get(algo)
    if function is None:
        return None
    data = b"\n".join(_as_bytes(line) for line in lines)
    return function(data) == digest
