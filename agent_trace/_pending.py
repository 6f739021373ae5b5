"""Pending attribution: which lines of the work tree an agent wrote, before they are
committed. Kept on disk in ``.agent-trace/pending/`` (never in git objects), so it
survives the process that recorded it.

For each file the agent touched we keep the last content the recorder saw, as one 64-bit
key per line (no text), and a label per line: the AI edit that wrote it, or none. Any
later content is aligned to it: lines that are still there keep their label, lines that
are not (a human changed them) lose it. Labels only ever come from edit windows, so a
human line is never relabelled AI.
"""

from __future__ import annotations

import array
import base64
import contextlib
import itertools
import operator
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import mmh3
import orjson

from ._files import atomic_write, locked
from ._lines import align
from .events._clock import utc_timestamp
from .events._json import loads

__all__ = [
    "Label",
    "PendingFile",
    "PendingState",
    "carry_labels",
    "decode_keys",
    "encode_keys",
]

_FORMAT = 1


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True, cache_hash=True)
class Label:
    """The AI edit a line came from."""

    model_id: str | None = None
    run_id: str | None = None
    turn_id: str | None = None
    item_id: str | None = None
    conversation_url: str | None = None
    tool_name: str | None = None
    tool_version: str | None = None
    evidence: str = "edit-window"
    """``edit-window`` (snapshots before and after the edit) or ``no-snapshot`` (a
    file change reported without a prior snapshot, diffed against the last state known)."""
    confidence: float = 1.0
    timestamp: str = attrs.field(factory=utc_timestamp)
    kind: str | None = None
    """``None``: the agent wrote the line (``ai``); ``"mixed"``: it edited a person's
    line and kept most of its text. While linking, also ``"human"``."""
    turn_ids: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    item_ids: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    origin: str | None = None
    """While linking: the commit the label was carried from (a rewrite, or content)."""

    @property
    def type(self) -> str:
        return self.kind or "ai"

    def to_dict(self) -> dict[str, Any]:
        """The fields that are not ``None`` (as ``attrs.asdict`` gives them)."""
        return {
            name: value
            for name, value in zip(_LABEL_NAMES, _label_values(self), strict=True)
            if value is not None
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Label:
        if not isinstance(data, dict):
            raise TypeError(f"a label is an object, not {type(data).__name__}")
        names = _LABEL_NAMES
        return cls(**{k: v for k, v in data.items() if k in names})

    @property
    def conversation_key(self) -> tuple[str | None, ...]:
        """Lines with the same key go into one Agent Trace conversation."""
        return (self.kind, self.model_id, self.conversation_url, self.run_id, self.tool_name)


@attrs.define
class PendingFile:
    """The last state the recorder knew of one file: a key and a label per line."""

    path: str
    keys: list[int]
    labels: list[Label | None]
    updated_at: str = attrs.field(factory=utc_timestamp)

    def ai_lines(self) -> int:
        return len(self.labels) - self.labels.count(None)


_LABEL_NAMES = tuple(a.name for a in attrs.fields(Label))
_label_values = operator.attrgetter(*_LABEL_NAMES)


def carry_labels(known: PendingFile | None, keys: Sequence[int]) -> list[Label | None]:
    """Labels for content ``keys``: each line that is still the line ``known`` had keeps
    its label; anything else (changed since, or no known state) has none."""
    if known is None or not known.keys:
        return [None] * len(keys)
    if list(known.keys) == list(keys):
        return list(known.labels)
    labels = known.labels
    return [labels[i] if i is not None else None for i in align(known.keys, keys)]


def encode_keys(keys: Sequence[int]) -> str:
    """Line keys as text (base64 of little-endian 64-bit integers)."""
    return base64.b64encode(array.array("Q", keys).tobytes()).decode("ascii")


def decode_keys(text: str) -> list[int]:
    data = array.array("Q")
    data.frombytes(base64.b64decode(text))
    return data.tolist()


class PendingState:
    """The pending files of one store (``.agent-trace/pending/``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _file(self, path: str) -> Path:
        digest = mmh3.hash_bytes(path.encode("utf-8", "surrogateescape")).hex()
        return self.directory / f"{digest}.json"

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive access for a read-modify-write of pending state (all processes)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with locked(self.directory / ".lock"):
            yield

    def load(self, path: str) -> PendingFile | None:
        """The pending state of ``path`` (repository-relative), or ``None``. A damaged
        state file is treated as absent (attribution falls back to human/unknown)."""
        try:
            raw = self._file(path).read_bytes()
        except FileNotFoundError:
            return None
        try:
            return self._decode(raw, path)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None

    def _decode(self, raw: bytes, path: str) -> PendingFile | None:
        data = loads(raw)
        if not isinstance(data, dict):
            return None
        if data.get("format") != _FORMAT or data.get("path") != path:
            return None
        keys = decode_keys(data["keys"])
        table = [Label.from_dict(d) for d in data["labels"]]
        labels: list[Label | None] = [None] * len(keys)
        for start, end, index in data["spans"]:
            if not 0 <= start <= end <= len(keys):
                raise ValueError(f"span {start}-{end} outside the {len(keys)} lines")
            labels[start:end] = [table[index]] * (end - start)
        return PendingFile(
            path=path, keys=keys, labels=labels[: len(keys)], updated_at=data["updated_at"]
        )

    def save(self, pending: PendingFile) -> None:
        """Write (atomically) the state of one file; a file with no AI line is removed."""
        if pending.ai_lines() == 0:
            self.delete(pending.path)
            return
        table: list[Label] = []
        index: dict[Label, int] = {}
        spans: list[list[int]] = []
        start = 0
        # Runs of one label object first (a C loop), then equal labels share an index.
        for _, run in itertools.groupby(pending.labels, key=id):
            block = list(run)
            label = block[0]
            end = start + len(block)
            if label is not None:
                j = index.get(label)
                if j is None:
                    j = index[label] = len(table)
                    table.append(label)
                if spans and spans[-1][1] == start and spans[-1][2] == j:
                    spans[-1][1] = end
                else:
                    spans.append([start, end, j])
            start = end
        data = {
            "format": _FORMAT,
            "path": pending.path,
            "updated_at": utc_timestamp(),
            "keys": encode_keys(pending.keys),
            "labels": [label.to_dict() for label in table],
            "spans": spans,
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        # Plain orjson: base64 keys often contain "e+", which sends `dumps` down its slow
        # path for serde-style floats; nothing here needs it.
        atomic_write(self._file(pending.path), orjson.dumps(data) + b"\n", fsync=False)

    def delete(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._file(path))

    def all(self) -> list[PendingFile]:
        """Every file with pending AI lines."""
        if not self.directory.is_dir():
            return []
        out = []
        for entry in sorted(self.directory.glob("*.json")):
            try:
                raw = entry.read_bytes()
                pending = self._decode(raw, str(loads(raw).get("path")))
            except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
                continue
            if pending is not None:
                out.append(pending)
        return out
