"""``trace gc``: remove what the store no longer needs.

Only local state under ``.agent-trace/`` is touched, never records (``traces.jsonl``,
notes) or git objects:

* **runs** that ended (or whose process is gone) and were last updated before the
  cutoff: their directory (events, manifest, snapshots) and their lock files;
* **pending** attribution of files that no longer exist, or none of whose labelled lines
  are still in the file, last updated before the cutoff;
* **edit windows** cut off by a killed process: recovered (their lines become
  ``unknown``), as any recorder or link would do;
* **temporary files** (``.*.tmp``) left by a killed process, older than an hour;
* the **blame cache** entries not used since the cutoff (it is only a cache);
* **hooks.log** lines from before the cutoff.

Runs still running (their process alive) are never removed; a ``running`` run whose
process is gone is marked ``interrupted`` (and removed once it is old enough), and so is
a resumed run (an agent's hooks) not continued since the cutoff.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import attrs

from . import _files
from ._files import atomic_write, read_regular
from ._lines import line_keys, split_lines
from ._pending import PendingState, carry_labels
from ._runs import RunStatus
from ._store import TraceStore
from ._windows import WindowJournal, recover_windows

__all__ = ["GcReport", "collect_garbage"]

TEMP_AGE_SECONDS = 3600
"""A temporary file this old is left over from a killed process (writes take ms)."""


@attrs.define
class GcReport:
    """What ``collect_garbage`` removed (or, with ``dry_run``, would remove)."""

    dry_run: bool
    cutoff: str
    runs: list[str] = attrs.Factory(list)
    runs_marked_interrupted: list[str] = attrs.Factory(list)
    pending_files: list[str] = attrs.Factory(list)
    windows_recovered: int = 0
    temp_files: list[str] = attrs.Factory(list)
    cache_entries: int = 0
    hooks_log_lines: int = 0
    bytes_freed: int = 0

    def to_dict(self) -> dict[str, object]:
        return attrs.asdict(self)


def _size(path: Path) -> int:
    if path.is_dir() and not path.is_symlink():
        return sum(_size(p) for p in path.iterdir())
    with contextlib.suppress(OSError):
        return os.lstat(path).st_size
    return 0


def _epoch(timestamp: str | None) -> float | None:
    if not timestamp:
        return None
    try:
        return dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _mtime(path: Path) -> float:
    try:
        return os.lstat(path).st_mtime
    except OSError:
        return 0.0


def collect_garbage(
    store: TraceStore, *, older_than_days: float = 30.0, dry_run: bool = False
) -> GcReport:
    """Remove what ``store`` no longer needs (see the module docstring)."""
    if older_than_days < 0:
        raise ValueError("older_than_days must be 0 or more")
    now = time.time()
    cutoff = now - older_than_days * 86400
    report = GcReport(
        dry_run=dry_run,
        cutoff=dt.datetime.fromtimestamp(cutoff, dt.UTC).isoformat(timespec="seconds"),
    )
    directory = store.directory
    if not directory.is_dir():
        return report
    pending = PendingState(directory / "pending")
    if dry_run:
        windows = WindowJournal(pending)
        report.windows_recovered = len(windows.entries()) - len(windows.open_windows())
    else:
        report.windows_recovered = recover_windows(pending, store.root)
    _runs(store, cutoff, report)
    _pending(store, pending, cutoff, report)
    _temp_files(directory, now - TEMP_AGE_SECONDS, report)
    _cache(directory / "cache", cutoff, report)
    _hooks_log(directory / "hooks.log", cutoff, report)
    return report


def _runs(store: TraceStore, cutoff: float, report: GcReport) -> None:
    locks = store.directory / "locks"
    for run in store.runs():
        try:
            manifest = run.read_manifest()
        except (OSError, ValueError):
            manifest = None  # damaged: judged by its age alone
        status = manifest.current_status() if manifest is not None else None
        updated = None
        if manifest is not None:
            updated = _epoch(manifest.updated_at) or _epoch(manifest.created_at)
        last = max(updated or 0.0, _mtime(run.events_path), _mtime(run.manifest_path))
        if manifest is not None and status != manifest.status:
            report.runs_marked_interrupted.append(run.run_id)
            if not report.dry_run and last >= cutoff:
                with contextlib.suppress(OSError, ValueError):
                    run.update(status=RunStatus.INTERRUPTED)
        if last >= cutoff:
            continue
        if status == RunStatus.RUNNING and manifest is not None and manifest.owner() is not None:
            continue  # its process is alive
        # (A resumed run between its processes has no owner: old enough, it is over.)
        report.runs.append(run.run_id)
        owned = [run.directory, *(locks.glob(f"{run.run_id}.*") if locks.is_dir() else ())]
        for path in owned:
            report.bytes_freed += _size(path)
            if not report.dry_run:
                _remove(path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _pending(store: TraceStore, pending: PendingState, cutoff: float, report: GcReport) -> None:
    if not pending.directory.is_dir():
        return
    with pending.lock():
        for known in pending.all():
            if (_epoch(known.updated_at) or 0.0) >= cutoff:
                continue
            try:
                content = read_regular(store.root / known.path, _files.MAX_ATTRIBUTED_BYTES)
            except OSError:
                continue
            if content is not None:
                labels = carry_labels(known, line_keys(split_lines(content)))
                if any(label is not None for label in labels):
                    continue  # some labelled line is still there, maybe uncommitted
            report.pending_files.append(known.path)
            if not report.dry_run:
                pending.delete(known.path)


def _walk(directory: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(directory):
        dirs[:] = [
            d
            for d in dirs
            if not os.path.islink(os.path.join(root, d))
            and not (d.startswith(".") and d.endswith(".tmp"))  # staged runs: whole
        ]
        for name in files:
            yield Path(root, name)


def _temp_files(directory: Path, cutoff: float, report: GcReport) -> None:
    runs = directory / "runs"
    staged = [p for p in runs.glob(".*.tmp") if p.is_dir()] if runs.is_dir() else []
    removed = {runs / run_id for run_id in report.runs}  # gone already, or going (dry run)
    for path in [*staged, *_walk(directory)]:
        if removed and any(parent in removed for parent in path.parents):
            continue
        if path.name.startswith(".") and path.name.endswith(".tmp") and _mtime(path) < cutoff:
            report.temp_files.append(str(path.relative_to(directory)))
            report.bytes_freed += _size(path)
            if not report.dry_run:
                _remove(path)


def _cache(directory: Path, cutoff: float, report: GcReport) -> None:
    if not directory.is_dir():
        return
    for path in _walk(directory):
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if max(info.st_atime, info.st_mtime) < cutoff:
            report.cache_entries += 1
            report.bytes_freed += info.st_size
            if not report.dry_run:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
    if not report.dry_run:
        for root, dirs, _files in os.walk(directory, topdown=False):
            for name in dirs:
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.join(root, name))  # only if empty


def _hooks_log(path: Path, cutoff: float, report: GcReport) -> None:
    try:
        lines = path.read_bytes().splitlines(keepends=True)
    except OSError:
        return
    kept = []
    for line in lines:
        stamp = line.split(b" ", 1)[0].decode("ascii", "replace")
        when = _epoch(stamp)
        if when is not None and when < cutoff:
            report.hooks_log_lines += 1
            report.bytes_freed += len(line)
        else:
            kept.append(line)
    if report.hooks_log_lines and not report.dry_run:
        atomic_write(path, b"".join(kept), fsync=False)
