"""Runs in the store: ``.agent-trace/runs/<run_id>/events.jsonl`` and a ``run.json``
manifest (written atomically) that says what the run was and how it ended."""

from __future__ import annotations

import errno
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import attrs

from ._files import atomic_write
from ._process import Owner
from .events._clock import new_event_id, utc_timestamp
from .events._wire import WireError, WireObject, converter, dumps, loads, optional

__all__ = ["RUN_MANIFEST_FORMAT", "Run", "RunManifest", "RunStatus", "check_run_id", "owner_fields"]

RUN_MANIFEST_FORMAT = 1

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class RunStatus:
    """Values of ``RunManifest.status``."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@attrs.frozen(kw_only=True, repr=False)
class RunManifest(WireObject):
    """``run.json``: who ran, with which model, from which commit, and how it ended."""

    format: int = RUN_MANIFEST_FORMAT
    run_id: str
    created_at: str
    updated_at: str | None = optional()
    status: str = RunStatus.RUNNING
    tool_name: str | None = optional()
    tool_version: str | None = optional()
    model_id: str | None = optional()
    conversation_url: str | None = optional()
    head: str | None = optional()
    pid: int | None = optional()
    """The process recording the run while it is ``running`` (none between the processes
    of a resumed run)."""
    pid_started: int | None = optional()
    """When that process started (clock ticks since boot, Linux): tells it from a later
    process given the same id."""
    host: str | None = optional()
    events: str = "events.jsonl"

    def owner(self) -> Owner | None:
        if self.pid is None or self.pid <= 0:  # 0 and below would name process groups
            return None
        return Owner(self.pid, self.pid_started, self.host)

    def current_status(self) -> str:
        """``status``, except that a ``running`` run whose process is gone (killed: it
        could not say how it ended) is ``interrupted``."""
        owner = self.owner()
        if self.status == RunStatus.RUNNING and owner is not None and owner.is_gone():
            return RunStatus.INTERRUPTED
        return self.status


def owner_fields() -> dict[str, Any]:
    """The :class:`RunManifest` fields naming this process as the run's owner."""
    owner = Owner.me()
    return {"pid": owner.pid, "pid_started": owner.started, "host": owner.host}


def check_run_id(run_id: str) -> str:
    """``run_id`` if it is safe as a directory name (letters, digits, ``.``, ``_``,
    ``-``; up to 128; not starting with ``.`` or ``-``), else ``ValueError``."""
    if not _RUN_ID.fullmatch(run_id):
        raise ValueError(
            f"run id {run_id!r} must be 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return run_id


class Run:
    """One run's directory in the store."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.run_id = directory.name

    @property
    def manifest_path(self) -> Path:
        return self.directory / "run.json"

    @property
    def events_path(self) -> Path:
        return self.directory / "events.jsonl"

    def read_manifest(self) -> RunManifest:
        """The manifest. Raises ``ValueError`` naming the file and field when damaged,
        ``FileNotFoundError`` when the run has none."""
        data = self.manifest_path.read_bytes()
        try:
            value: Any = loads(data)
            manifest: RunManifest = converter.structure(value, RunManifest)
        except WireError as exc:
            raise ValueError(f"{self.manifest_path}: {exc}") from None
        except ValueError as exc:
            raise ValueError(f"{self.manifest_path}: not valid JSON ({exc})") from None
        return manifest

    def write_manifest(self, manifest: RunManifest) -> RunManifest:
        """Replace the manifest atomically, with ``updated_at`` set to now; returns what
        was written."""
        manifest = attrs.evolve(manifest, updated_at=utc_timestamp())
        atomic_write(self.manifest_path, dumps(converter.unstructure(manifest)) + b"\n")
        return manifest

    def update(self, **changes: Any) -> RunManifest:
        """Read, change and write back the manifest."""
        return self.write_manifest(attrs.evolve(self.read_manifest(), **changes))

    def __repr__(self) -> str:
        return f"Run({str(self.directory)!r})"


def create_run(runs_dir: Path, run_id: str | None = None, **fields: Any) -> Run:
    """A new run directory with its manifest; ``fields`` go into :class:`RunManifest`.

    Raises ``FileExistsError`` if a run with that id exists.
    """
    run_id = check_run_id(run_id if run_id is not None else new_event_id())
    if "pid" not in fields:
        fields.update(owner_fields())
    manifest = RunManifest(run_id=run_id, created_at=utc_timestamp(), **fields)  # checks fields
    directory = runs_dir / run_id
    runs_dir.mkdir(parents=True, exist_ok=True)
    if directory.exists():
        raise FileExistsError(errno.EEXIST, "a run with this id exists", str(directory))
    # Built aside and renamed into place: a reader never sees a run without its manifest.
    staging = runs_dir / f".{run_id}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    os.mkdir(staging)
    try:
        Run(staging).write_manifest(manifest)
        os.rename(staging, directory)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):  # created meanwhile
            raise FileExistsError(
                errno.EEXIST, "a run with this id exists", str(directory)
            ) from None
        raise
    return Run(directory)
