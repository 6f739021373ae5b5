"""Lines as git counts them, a 64-bit key per line, and the alignment of two versions of a
file (which line of the new version is which line of the old one)."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence
from operator import itemgetter

import mmh3

from ._hashing import split_lines

__all__ = [
    "patch_mapping",
    "MIXED_KEPT",
    "MIXED_SIMILAR",
    "align",
    "is_binary",
    "is_mixed_edit",
    "kept_share",
    "line_keys",
    "pair_edits",
    "split_lines",
    "unmatched_gaps",
]

MIXED_KEPT = 0.5
"""An edited line is ``mixed`` when it keeps more than this share of the original's text,
the two lines are similar overall (``MIXED_SIMILAR``), and the original has four or more
letters or digits (a short line replaced is rewritten)."""
MIXED_SIMILAR = 0.6

_ALNUM = re.compile(rb"[A-Za-z0-9\x80-\xff]")


def is_binary(data: bytes) -> bool:
    """Git's rule: a NUL byte in the first 8000 bytes."""
    return b"\0" in data[:8000]


def line_keys(lines: Sequence[bytes]) -> list[int]:
    """A 64-bit MurmurHash3 key per line: equal lines, equal keys (collisions are
    negligible: 2^-64 per pair)."""
    # mmh3.hash64(line, 0, signed=False)[0], without its argument parsing (mmh3 >= 5).
    return list(map(_FIRST, map(mmh3.mmh3_x64_128_utupledigest, lines)))


_FIRST = itemgetter(0)


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
        if size:
            out[b : b + size] = range(a, a + size)
    return out


def _matched(old: bytes, new: bytes) -> int:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks())


def kept_share(old: bytes, new: bytes) -> float:
    """The share of ``old``'s characters still in ``new``, in order (0.0 to 1.0)."""
    return _matched(old, new) / len(old) if old else 0.0


def is_mixed_edit(old: bytes, new: bytes) -> bool:
    """Whether ``new`` is an edit of ``old`` that keeps most of it: more than half of
    ``old``'s text, and similar overall (``2 * matched / (len(old) + len(new))``)."""
    return _mixed_share(old.strip(), new.strip()) is not None


def _is_mixed(old: bytes, new: bytes, matched: int) -> bool:
    return matched / len(old) > MIXED_KEPT and 2 * matched / (len(old) + len(new)) >= MIXED_SIMILAR


def _mixed_share(old: bytes, new: bytes) -> float | None:
    """``kept_share(old, new)`` when ``new`` is a mixed edit of ``old`` (both stripped),
    else ``None``."""
    if len(_ALNUM.findall(old, 0, 400)) < 4:
        return None
    # The characters the two lines have in common bound what difflib can match: most
    # unrelated pairs are ruled out without running it.
    common = Counter(old) & Counter(new)
    if not _is_mixed(old, new, sum(common.values())):
        return None
    matched = _matched(old, new)
    return matched / len(old) if _is_mixed(old, new, matched) else None


def pair_edits(old: Sequence[bytes], new: Sequence[bytes]) -> dict[int, int]:
    """One-to-one pairs ``{new index: old index}`` of lines where the new line is a
    mixed edit of the old one (``is_mixed_edit``), most similar pairs first."""
    if len(old) * len(new) > 2500:
        return {}
    scored = []
    old_stripped = [o.strip() for o in old]
    for j, n in enumerate(new):
        n = n.strip()
        for i, o in enumerate(old_stripped):
            share = _mixed_share(o, n)
            if share is not None:
                scored.append((share, -abs(i - j), j, i))
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for _, _, j, i in sorted(scored, reverse=True):
        if j not in pairs and i not in used:
            pairs[j] = i
            used.add(i)
    return pairs


def unmatched_gaps(
    mapping: Sequence[int | None], old_length: int
) -> list[tuple[list[int], list[int]]]:
    """The runs of new lines an alignment (``align``) left unmatched, each with the old
    lines between the same matched neighbours (0-based indexes): what replaced what."""
    out: list[tuple[list[int], list[int]]] = []
    count = len(mapping)
    unmatched = [j for j, m in enumerate(mapping) if m is None]
    k = 0
    while k < len(unmatched):
        start = unmatched[k]
        end = start + 1
        k += 1
        while k < len(unmatched) and unmatched[k] == end:  # the run of unmatched lines
            end += 1
            k += 1
        previous = mapping[start - 1] if start else None
        following = mapping[end] if end < count else None
        old_start = previous + 1 if previous is not None else 0
        old_end = following if following is not None else old_length
        out.append((list(range(start, end)), list(range(old_start, old_end))))
    return out


def patch_mapping(
    old_count: int, hunks: Sequence[tuple[int, Sequence[str]]]
) -> list[int | None] | None:
    """For each line after a unified patch, the 0-based line it was before (``None``:
    added), from ``(old_start, lines)`` hunks (``old_start`` 1-based; lines prefixed
    ``' '``, ``'-'`` or ``'+'``). ``None`` when the hunks do not fit ``old_count`` lines."""
    mapping: list[int | None] = []
    old = 0
    for start, lines in hunks:
        first = max(start - 1, 0)  # jsdiff's structuredPatch: 1-based, also when inserting
        if first < old or first > old_count:
            return None
        mapping.extend(range(old, first))
        old = first
        for line in lines:
            sign = line[:1]
            if sign == " ":
                mapping.append(old)
                old += 1
            elif sign == "-":
                old += 1
            elif sign == "+":
                mapping.append(None)
            elif sign != "\\":  # "\ No newline at end of file"
                return None
        if old > old_count:
            return None
    mapping.extend(range(old, old_count))
    return mapping
