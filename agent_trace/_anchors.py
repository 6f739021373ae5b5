"""Content anchors: find lines of known origin again when the commit they are in has no
record (a squash-merge by a hosting service, a cherry-pick made without our hooks, a
rebase with hooks disabled, code moved between files).

Our link records keep, per range, a 48-bit key of each line *and of the line before and
after it* (``metadata["dev.agent-trace"]["conversations"][i]["anchors"]``: base64, six
bytes per key, big-endian; key 0 = no line there). Keys ignore leading and trailing
whitespace, so re-indented code is still found. Records written by other tools are
anchored by their ranges' ``content_hash`` instead (the whole range, exactly).

A line is never matched alone: the target file must contain a *run* of consecutive lines
equal to consecutive lines of one source (its range plus the context lines), and the run
must hold at least two substantive lines (four or more letters or digits besides common
keywords, and not repeated all over the sources). ``}``, blank lines or ``return None``
only ever ride along inside such a run. Only the source's own range lines are labelled,
never its context lines.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence

import attrs
import mmh3

from ._hashing import content_hash, parse_content_hash
from ._records import TraceRecord

__all__ = [
    "ANCHOR_CONFIDENCE",
    "Anchor",
    "ContentIndex",
    "anchor_keys",
    "decode_anchors",
    "encode_anchors",
    "substantive",
]

ANCHOR_CONFIDENCE = 0.8
"""Confidence of a label found by content rather than by a record of the line's commit."""

_MASK = (1 << 48) - 1
_COMMON = 64
"""A key found at more places than this in the sources is common: it never starts a run."""
_MIN_SUBSTANTIVE = 2
_MAX_WINDOW_WORK = 2_000_000


def anchor_keys(lines: Sequence[bytes]) -> list[int]:
    """A 48-bit key per line (never 0), ignoring surrounding whitespace."""
    hash64 = mmh3.hash64
    return [(hash64(line.strip(), 0, signed=False)[0] & _MASK) or 1 for line in lines]


_WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[\x80-\xff]+")
_KEYWORDS = frozenset(
    b"""return None null nil true false True False pass break continue else elif end self
    this undefined def fn func function let const var if for while in not and or is do try
    except catch finally raise throw new public private static void int str bool async
    await yield import from as with then fi done esac begin super""".split()
)


_LONG_NAME = re.compile(rb"(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]{3,}")
"""A whole name of four characters or more: one that is not a keyword settles it."""


def substantive(line: bytes) -> bool:
    """A line specific enough to anchor a match: four or more letters or digits outside
    the keywords every program repeats (``return None``, ``} else {`` are not)."""
    for match in _LONG_NAME.finditer(line, 0, 400):  # most lines: one name is enough
        if match.group() not in _KEYWORDS:
            return True
    words = _WORD.findall(line, 0, 400)
    return sum(len(w) for w in words if w not in _KEYWORDS) >= 4


def encode_anchors(keys: Sequence[int]) -> str:
    return base64.b64encode(b"".join(k.to_bytes(6, "big") for k in keys)).decode("ascii")


def decode_anchors(text: str) -> list[int]:
    """The keys of an ``anchors`` string; ``ValueError`` when it is not one."""
    data = base64.b64decode(text.encode("ascii"), validate=True)
    if len(data) % 6:
        raise ValueError("anchor data is not a whole number of 6-byte keys")
    from_bytes = int.from_bytes
    return [from_bytes(data[i : i + 6], "big") for i in range(0, len(data), 6)]


def range_anchors(keys: Sequence[int], start: int, end: int) -> str:
    """The anchors of lines ``start..end`` (1-based) of a file with line keys ``keys``:
    the line before, the range, the line after (0 at the ends of the file)."""
    before = keys[start - 2] if start >= 2 else 0
    after = keys[end] if end < len(keys) else 0
    return encode_anchors([before, *keys[start - 1 : end], after])


@attrs.frozen
class Anchor:
    """Where a line was found: a range of a record, and the line in it."""

    record: TraceRecord
    file: int
    conversation: int
    range: int
    line: int
    """The line's number in the source record's file (its ``orig_line``)."""
    run: int
    """How many consecutive lines matched around it (context lines included)."""

    @property
    def path(self) -> str:
        return self.record.files[self.file].path


@attrs.frozen
class _Source:
    record: TraceRecord
    file: int
    conversation: int
    range: int
    start_line: int
    keys: tuple[int, ...]
    """Context before, the range's lines, context after."""


class ContentIndex:
    """Every anchored range of a set of records, searchable by line key."""

    def __init__(self, records: Iterable[TraceRecord]) -> None:
        self._sources: list[_Source] = []
        self._by_key: dict[int, list[tuple[int, int]]] = {}
        self._hashed: dict[int, dict[str, list[tuple[TraceRecord, int, int, int]]]] = {}
        seen: set[str] = set()
        for record in records:
            if record.id in seen:
                continue
            seen.add(record.id)
            self._add(record)

    def __len__(self) -> int:
        return len(self._sources) + sum(len(v) for v in self._hashed.values())

    def _add(self, record: TraceRecord) -> None:
        anchored: set[tuple[int, int]] = set()
        for detail in record.ours.get("conversations", ()):
            if not isinstance(detail, dict) or not isinstance(detail.get("anchors"), list):
                continue
            fi, ci = detail.get("file"), detail.get("conversation")
            try:
                conv = record.files[fi].conversations[ci]  # type: ignore[index]
            except (IndexError, TypeError):
                continue
            anchored.add((fi, ci))  # type: ignore[arg-type]
            for ri, (text, rng) in enumerate(zip(detail["anchors"], conv.ranges, strict=False)):
                try:
                    keys = decode_anchors(text) if isinstance(text, str) else []
                except ValueError:
                    continue
                if len(keys) != rng.end_line - rng.start_line + 3:
                    continue
                self._add_source(_Source(record, fi, ci, ri, rng.start_line, tuple(keys)))  # type: ignore[arg-type]
        for fi, f in enumerate(record.files):
            for ci, conv in enumerate(f.conversations):
                if (fi, ci) in anchored:
                    continue
                for ri, rng in enumerate(conv.ranges):
                    parsed = parse_content_hash(rng.content_hash) if rng.content_hash else None
                    length = rng.end_line - rng.start_line + 1
                    if parsed is None or parsed[0] != "murmur3" or length < 2:
                        continue
                    by_hash = self._hashed.setdefault(length, {})
                    by_hash.setdefault(rng.content_hash or "", []).append((record, fi, ci, ri))

    def _add_source(self, source: _Source) -> None:
        sid = len(self._sources)
        self._sources.append(source)
        by_key = self._by_key
        for pos, key in enumerate(source.keys):
            if key:
                places = by_key.get(key)
                if places is None:
                    by_key[key] = [(sid, pos)]
                else:
                    places.append((sid, pos))

    def match(self, lines: Sequence[bytes], *, exclude: str | None = None) -> list[Anchor | None]:
        """For each line of a file, where the same line was found in the sources (or
        ``None``). Longer runs win; among equal runs, the newer record. Records of
        revision ``exclude`` (the commit being linked) are not sources."""
        out: list[Anchor | None] = [None] * len(lines)
        if not lines or not len(self):
            return out
        keys = anchor_keys(lines)
        by_key = self._by_key
        # Only lines whose key is in a source can be in a run: the others need no test.
        pairs = zip(keys, lines, strict=True)
        strong = [key in by_key and substantive(line) for key, line in pairs]
        runs = [
            run
            for run in self._runs(keys, strong)
            if exclude is None or self._sources[run[0]].record.revision != exclude
        ]
        runs.sort(key=lambda r: (r[3] - r[2], self._sources[r[0]].record.timestamp))
        for sid, pos0, start, end in runs:  # weakest first: stronger ones overwrite
            source = self._sources[sid]
            length = len(source.keys) - 2
            for i in range(start, end + 1):
                pos = pos0 + (i - start)
                if 1 <= pos <= length:
                    out[i] = Anchor(
                        source.record,
                        source.file,
                        source.conversation,
                        source.range,
                        source.start_line + pos - 1,
                        end - start + 1,
                    )
        self._match_hashes(lines, out, exclude)
        return out

    def _runs(self, keys: Sequence[int], strong: Sequence[bool]) -> list[tuple[int, int, int, int]]:
        """Accepted runs: ``(source, position of the first line in the source, first
        target line, last target line)`` (0-based)."""
        by_key = self._by_key
        sources = self._sources
        accepted: list[tuple[int, int, int, int]] = []
        active: dict[tuple[int, int], int] = {}
        # counted[i]: lines before line i that are substantive and rare in the sources
        counted = [0] * (len(keys) + 1)
        total = 0
        for i, key in enumerate(keys):
            if strong[i] and len(by_key.get(key, ())) <= _COMMON:
                total += 1
            counted[i + 1] = total

        def close(sid: int, pos: int, start: int, end: int) -> None:
            if end > start and counted[end + 1] - counted[start] >= _MIN_SUBSTANTIVE:
                accepted.append((sid, pos - (end - start), start, end))

        for i, key in enumerate(keys):
            nxt: dict[tuple[int, int], int] = {}
            for (sid, pos), start in active.items():
                skeys = sources[sid].keys
                if pos + 1 < len(skeys) and skeys[pos + 1] == key:
                    nxt[(sid, pos + 1)] = start
                else:
                    close(sid, pos, start, i - 1)
            places = by_key.get(key, ()) if strong[i] else ()
            if len(places) <= _COMMON:
                for place in places:
                    if place in nxt:
                        continue
                    # A run starts here; weak lines just before it that match join it.
                    sid, pos = place
                    skeys = sources[sid].keys
                    back = 0
                    while back < min(i, pos) and skeys[pos - back - 1] == keys[i - back - 1]:
                        back += 1
                    nxt[place] = i - back
            active = nxt
        for (sid, pos), start in active.items():
            close(sid, pos, start, len(keys) - 1)
        return accepted

    def _match_hashes(
        self, lines: Sequence[bytes], out: list[Anchor | None], exclude: str | None
    ) -> None:
        """Ranges of other tools' records found whole by their ``content_hash``."""
        budget = _MAX_WINDOW_WORK
        for length, by_hash in sorted(self._hashed.items(), reverse=True):
            if length > len(lines):
                continue
            budget -= length * (len(lines) - length + 1)
            if budget < 0:
                break
            for start in range(len(lines) - length + 1):
                window = lines[start : start + length]
                if sum(1 for line in window if substantive(line)) < _MIN_SUBSTANTIVE:
                    continue
                hits = [
                    h
                    for h in by_hash.get(content_hash(window), ())
                    if exclude is None or h[0].revision != exclude
                ]
                if not hits:
                    continue
                record, fi, ci, ri = max(hits, key=lambda h: h[0].timestamp)
                first = record.files[fi].conversations[ci].ranges[ri].start_line
                for k in range(length):
                    if out[start + k] is None:
                        out[start + k] = Anchor(record, fi, ci, ri, first + k, length)


def anchors_detail(keys: Sequence[int], ranges: Iterable[tuple[int, int]]) -> list[str]:
    """The ``anchors`` list of one conversation: one string per ``(start, end)`` range."""
    return [range_anchors(keys, start, end) for start, end in ranges]
