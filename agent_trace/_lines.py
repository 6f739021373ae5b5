"""Lines as git counts them, a 64-bit key per line, and the alignment of two versions of a
file (which line of the new version is which line of the old one)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

import mmh3

from ._hashing import split_lines

__all__ = ["MIXED_KEPT", "align", "is_mixed_edit", "kept_share", "line_keys", "split_lines"]

MIXED_KEPT = 0.5
"""An edited line is ``mixed`` when it keeps more than this share of the original's text
(and the original has four or more letters or digits: a short line replaced is rewritten)."""

_ALNUM = re.compile(rb"[A-Za-z0-9\x80-\xff]")


def line_keys(lines: Sequence[bytes]) -> list[int]:
    """A 64-bit MurmurHash3 key per line: equal lines, equal keys (collisions are
    negligible: 2^-64 per pair)."""
    hash64 = mmh3.hash64
    return [hash64(line, 0, signed=False)[0] for line in lines]


def align(old: Sequence[int], new: Sequence[int]) -> list[int | None]:
    """For each line of ``new``, the index of the same line in ``old`` (kept by the edit),
    or ``None`` (added or changed by it).

    Keys are compared with patience diff (Breezy's ``patiencediff``, compiled): unique
    lines anchor the alignment, so repeated lines such as ``}`` or blank lines cannot pull
    it off course, and the cost stays near-linear on repetitive input.
    """
    from patiencediff import PatienceSequenceMatcher

    out: list[int | None] = [None] * len(new)
    matcher = PatienceSequenceMatcher(None, old, new)
    for a, b, size in matcher.get_matching_blocks():
        for k in range(size):
            out[b + k] = a + k
    return out


def kept_share(old: bytes, new: bytes) -> float:
    """The share of ``old``'s characters still in ``new``, in order (0.0 to 1.0)."""
    if not old:
        return 0.0
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(old)


def is_mixed_edit(old: bytes, new: bytes) -> bool:
    """Whether ``new`` is an edit of ``old`` that keeps most of it (``MIXED_KEPT``)."""
    old, new = old.strip(), new.strip()
    return len(_ALNUM.findall(old, 0, 400)) >= 4 and kept_share(old, new) > MIXED_KEPT
