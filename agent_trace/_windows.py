"""Open edit windows, journalled, so that an agent killed inside one does not leave its
lines to pass for a person's.

An edit window (``rec.edit(...)``, a ``file_change`` item between ``item.started`` and
``item.completed``) ends by labelling the lines it changed. A process killed inside the
window never gets there: without more, those lines would have no label and be committed
as ``human``. So the window's start is written to ``.agent-trace/pending/windows/`` (the
files' line keys then, the owner process, the label it would give) and removed when the
window ends. A journal entry whose process is gone is *recovered*: every line that is in
the file now and was not when the window opened, and that no later window labelled, is
labelled ``unknown`` (``evidence="cut-off-window"``): the agent may or may not have
written it, and nothing is claimed either way.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
import mmh3
import orjson

from . import _files
from ._files import atomic_write, read_regular
from ._lines import align, is_binary, line_keys, split_lines
from ._pending import Label, PendingFile, PendingState, carry_labels, decode_keys, encode_keys
from ._process import Owner
from .events._json import loads

__all__ = ["CUT_OFF_EVIDENCE", "OPEN_EVIDENCE", "Window", "WindowJournal", "recover_windows"]

log = logging.getLogger("agent_trace")

CUT_OFF_EVIDENCE = "cut-off-window"
OPEN_EVIDENCE = "open-window"
"""A line committed while the agent's window that wrote it was still open."""
_FORMAT = 1


class WindowJournal:
    """The open windows of one store (``.agent-trace/pending/windows/``)."""

    def __init__(self, pending: PendingState) -> None:
        self.pending = pending
        self.directory = pending.directory / "windows"

    def open(
        self, run_id: str, item_id: str, label: Label, before: Mapping[str, Sequence[int] | None]
    ) -> Path:
        """Journal a window opening on the files of ``before`` (each file's line keys,
        ``None`` for a file that does not exist yet); returns what :meth:`close` takes."""
        digest = mmh3.hash_bytes(f"{run_id}\0{item_id}".encode("utf-8", "surrogateescape")).hex()
        entry = self.directory / f"{digest}.json"
        data = {
            "format": _FORMAT,
            "owner": Owner.me().to_dict(),
            "label": label.to_dict(),
            "files": {p: encode_keys(k) if k is not None else None for p, k in before.items()},
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        atomic_write(entry, orjson.dumps(data) + b"\n", fsync=False)
        return entry

    def close(self, entry: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry)

    def entries(self) -> list[Path]:
        try:
            return sorted(p for p in self.directory.iterdir() if p.suffix == ".json")
        except (FileNotFoundError, NotADirectoryError):
            return []

    def open_windows(self) -> list[Window]:
        """The windows whose process is alive (damaged entries are skipped)."""
        out = []
        for entry in self.entries():
            try:
                window = _decode(entry)
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                continue
            if window.owner is None or not window.owner.is_gone():
                out.append(window)
        return out


@attrs.frozen
class Window:
    """A journalled window: its owner, the label it gives, its files' keys when it
    opened (``None``: the file did not exist)."""

    owner: Owner | None
    label: Label
    files: dict[str, list[int] | None]

    def new_lines(self, path: str, keys: Sequence[int]) -> list[int]:
        """Indexes of the lines of ``keys`` (the file's content) that were not in it
        when the window opened; none when the window is not on ``path``."""
        if path not in self.files:
            return []
        before = self.files[path]
        mapping = align(before, keys) if before else [None] * len(keys)
        return [i for i, origin in enumerate(mapping) if origin is None]


def _decode(entry: Path) -> Window:
    data = loads(entry.read_bytes())
    files = {
        str(p): decode_keys(k) if isinstance(k, str) else None for p, k in data["files"].items()
    }
    return Window(Owner.from_dict(data.get("owner")), Label.from_dict(data["label"]), files)


def recover_windows(pending: PendingState, root: Path, only: Sequence[Path] | None = None) -> int:
    """Label ``unknown`` the lines of the windows whose process is gone (see the module
    docstring), or of the entries ``only`` (windows a finished recorder never closed),
    and drop their journal entries; returns how many were recovered. Cheap when there
    is nothing to do (one directory listing). Never raises for a damaged entry (it is
    logged and removed)."""
    journal = WindowJournal(pending)
    if only is None and not journal.entries():
        return 0
    recovered = 0
    with pending.lock():
        for entry in journal.entries() if only is None else only:
            try:
                window = _decode(entry)
                owner, label = window.owner, window.label
                if only is None and owner is not None and not owner.is_gone():
                    continue
            except FileNotFoundError:
                continue
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                log.warning("agent-trace: %s is damaged (%s); removed", entry, exc)
                journal.close(entry)
                continue
            cut = attrs.evolve(label, kind="unknown", evidence=CUT_OFF_EVIDENCE, confidence=0.0)
            for path in window.files:
                _recover_file(pending, root, path, window, cut)
            journal.close(entry)
            recovered += 1
    return recovered


def _recover_file(pending: PendingState, root: Path, path: str, window: Window, cut: Label) -> None:
    if path.startswith("/") or ".." in Path(path).parts:
        return  # journal entries are written with repository-relative paths only
    try:
        content = read_regular(root / path, _files.MAX_ATTRIBUTED_BYTES)
    except OSError:
        return
    if content is None or is_binary(content):
        return
    keys = line_keys(split_lines(content))
    labels = carry_labels(pending.load(path), keys)
    changed = False
    for i in window.new_lines(path, keys):
        if labels[i] is None:
            labels[i] = cut
            changed = True
    if changed:
        pending.save(PendingFile(path=path, keys=keys, labels=labels))
