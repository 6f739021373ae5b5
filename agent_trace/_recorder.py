"""The recorder: wraps an agent loop, writes its events, attributes the lines it writes.

```python
with Recorder(repo=".", tool_name="my-agent", model_id="anthropic/claude-sonnet-4-5") as rec:
    with rec.turn():
        with rec.edit("src/app.py"):
            ...  # the agent writes the file
```
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import functools
import inspect
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import attrs

from . import _files
from ._blame import work_tree_file
from ._config import load_limits, load_privacy
from ._files import read_regular
from ._git import GitError, Repository
from ._lines import align, is_binary, line_keys, pair_edits, split_lines, unmatched_gaps
from ._link import LinkResult, link_commit
from ._model_ids import normalize_model_id
from ._pending import Label, PendingFile, PendingState, carry_labels
from ._runs import Run, RunStatus, owner_fields
from ._store import TraceStore
from ._windows import WindowJournal, recover_windows
from .events import (
    EventEmitter,
    FileChangeItem,
    FileUpdateChange,
    ItemCompletedEvent,
    ItemStartedEvent,
    JsonlWriter,
    PatchApplyStatus,
    PatchChangeKind,
    ThreadCompletedEvent,
    ThreadErrorEvent,
    ThreadEvent,
    ThreadStartedEvent,
    TurnCompletedEvent,
    TurnFailedEvent,
    TurnStartedEvent,
    Usage,
    utc_timestamp,
)
from .events._codec import dump_event
from .events._limits import Limits
from .events._privacy import PrivacyPolicy, safe_url

__all__ = ["Recorder", "current_recorder"]

log = logging.getLogger("agent_trace")

F = TypeVar("F", bound=Callable[..., Any])

_current: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar(
    "agent_trace_recorder", default=None
)

_START_FILES = 500
_START_BYTES = 4 * 1024 * 1024
_HEAD_POLL_NS = 2_000_000
"""Events that attribute nothing look at HEAD at most once per 2 ms (reading it costs
about 30 µs); file changes, ``edit``, ``link`` and the end of the run always look."""
_TURN_ENDS = (TurnCompletedEvent, TurnFailedEvent)  # a tuple: isinstance is faster with it
_RETRYABLE = {errno.EINTR, errno.EAGAIN, errno.EBUSY, errno.ENOSPC, errno.EIO}


def current_recorder() -> Recorder | None:
    """The recorder active in this context (inside ``with Recorder(...)`` or a function
    decorated with one), or ``None``."""
    return _current.get()


class _Snapshot:
    """Contents of some files at one moment (``None``: the file did not exist)."""

    def __init__(self, root: Path, paths: Iterable[str]) -> None:
        self.contents: dict[str, bytes | None] = {}
        for path in paths:
            self.contents[path] = _read(root / path)

    @classmethod
    def of(cls, contents: Mapping[str, bytes | None]) -> _Snapshot:
        snapshot = cls.__new__(cls)
        snapshot.contents = dict(contents)
        return snapshot


def _read(path: Path) -> bytes | None:
    return read_regular(path, _files.MAX_ATTRIBUTED_BYTES)


def _not_a_file(path: Path) -> str | None:
    """Why ``path`` cannot be attributed (``None``: a regular file, or none yet)."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return f"cannot be examined ({exc.strerror or exc})"
    if stat.S_ISLNK(mode):
        return "is a symbolic link (git keeps the link, not the file it points to)"
    if stat.S_ISDIR(mode):
        return "is a directory (name its files)"
    if not stat.S_ISREG(mode):
        return "is not a regular file"
    return None


class _Window:
    """``with rec.edit(...)`` / ``with rec.turn()``: also usable with ``async with``."""

    def __init__(self, enter: Callable[[], Any], leave: Callable[[BaseException | None], None]):
        self._enter = enter
        self._leave = leave

    def __enter__(self) -> Any:
        return self._enter()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._leave(exc)

    async def __aenter__(self) -> Any:
        return self._enter()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._leave(exc)


class Recorder:
    """Record one agent run in a git repository.

    On enter: a run in ``.agent-trace/runs/<run_id>/`` and ``thread.started``. Every
    :meth:`emit` writes an event (and passes it to ``emitters``); :meth:`edit` windows and
    reported ``file_change`` items attribute the lines the agent wrote; commits made while
    the recorder runs are linked when it next sees HEAD move and on exit. On exit:
    ``thread.completed``, or ``error`` when the block raised (the exception propagates).
    """

    def __init__(
        self,
        repo: str | Path = ".",
        *,
        tool_name: str = "agent",
        tool_version: str | None = None,
        model_id: str | None = None,
        conversation_url: str | None = None,
        run_id: str | None = None,
        emitters: Iterable[EventEmitter] = (),
        fsync: str = "boundary",
        link: bool = True,
        thread_events: bool = True,
        resume: bool = False,
        capture: str | Iterable[str] | None = None,
        privacy: PrivacyPolicy | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.repo = Path(repo)
        self.tool_name = tool_name
        self.tool_version = tool_version
        self.model_id = normalize_model_id(model_id) if model_id else None
        self.conversation_url = safe_url(conversation_url) if conversation_url else None
        self.requested_run_id = run_id
        self.emitters = list(emitters)
        self.fsync = fsync
        self.auto_link = link
        self.thread_events = thread_events
        """Write ``thread.started``/``thread.completed`` (off when the events come from an
        agent's own stream, which has its own)."""
        self._capture = capture
        self.privacy = privacy
        """What of each event is written (:class:`PrivacyPolicy`); by default the store's
        ``config.toml`` with ``capture`` (kinds of content kept; none by default)."""
        self.limits = limits
        """Caps on event and log size (:class:`~agent_trace.events.Limits`); by default
        the store's ``config.toml`` ``[limits]`` (1 MiB per event, 256 MiB per run)."""
        self.resume = resume
        """Continue the run ``run_id`` (created if missing) instead of starting a new one:
        for agents whose hooks run as separate processes."""
        self.dropped = 0
        """Events that could not be written (after retries); logged, never raised."""
        self.links: list[LinkResult] = []
        """Commits linked by this recorder, in order."""
        self._lock = threading.RLock()
        self._store: TraceStore | None = None
        self._run: Run | None = None
        self._writer: JsonlWriter | None = None
        self._pending: PendingState | None = None
        self._windows: WindowJournal | None = None
        self._journalled: dict[str, Path] = {}
        self._head: str | None = None
        self._head_read_ns = -_HEAD_POLL_NS
        self._baseline_head: str | None = None
        self._snapshots: dict[str, _Snapshot] = {}
        # The last contents attributed per path and their line keys: the next edit of the
        # file usually starts from them.
        self._keyed: dict[str, tuple[bytes, list[bytes], list[int]]] = {}
        self._turn = 0
        self._turn_id: str | None = None
        self._items = 0
        self._usage = [0, 0, 0]
        self._token: contextvars.Token[Recorder | None] | None = None
        self._reflog_seen = 0
        self._start_state: dict[str, bytes | None] = {}

    # ------------------------------------------------------------------ properties

    @property
    def store(self) -> TraceStore:
        if self._store is None:
            raise RuntimeError("the recorder is not started: use `with Recorder(...) as rec:`")
        return self._store

    @property
    def run(self) -> Run:
        if self._run is None:
            raise RuntimeError("the recorder is not started: use `with Recorder(...) as rec:`")
        return self._run

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def repository(self) -> Repository:
        return self.store.repository

    @property
    def events_path(self) -> Path:
        return self.run.events_path

    # ------------------------------------------------------------------ life cycle

    def start(self) -> Recorder:
        """Open the run (what ``with`` does on enter)."""
        if self._run is not None:
            raise RuntimeError("this recorder is already running; create a new one per run")
        store = TraceStore.open(self.repo)
        if self.privacy is None:
            self.privacy = load_privacy(store.directory, self._capture)
        if self.limits is None:
            self.limits = load_limits(store.directory)
        self._store = store
        self._pending = PendingState(store.directory / "pending")
        self._windows = WindowJournal(self._pending)
        try:
            recover_windows(self._pending, store.root)
        except OSError as exc:
            log.warning("agent-trace: could not recover cut-off edit windows: %s", exc)
        self._head = self._baseline_head = store.repository.read_head()
        self._reflog_seen = len(self._reflog())
        fields: dict[str, Any] = {
            "tool_name": self.tool_name,
            "tool_version": self.tool_version,
            "model_id": self.model_id,
            "conversation_url": self.conversation_url,
            "head": self._head,
        }
        if self.resume and self.requested_run_id is not None:
            # A later process of the same run: what it knew is in the pending state.
            self._start_state = {}
            try:
                self._run = store.new_run(self.requested_run_id, **fields)
            except FileExistsError:
                self._run = store.run(self.requested_run_id)
                try:
                    self._run.update(status=RunStatus.RUNNING, **owner_fields())
                except (OSError, ValueError):  # none yet, or damaged: a new one
                    from ._runs import RunManifest

                    self._run.write_manifest(
                        RunManifest(
                            run_id=self._run.run_id,
                            created_at=utc_timestamp(),
                            **fields,
                            **owner_fields(),
                        )
                    )
        else:
            self._start_state = self._dirty_files()
            self._run = store.new_run(self.requested_run_id, **fields)
        self._writer = JsonlWriter(
            self._run.events_path,
            run_id=self._run.run_id,
            fsync=self.fsync,  # type: ignore[arg-type]
            limits=self.limits,
        )
        self._token = _current.set(self)
        if self.thread_events:
            self._write(ThreadStartedEvent(thread_id=self._run.run_id))
        return self

    def finish(self, exc: BaseException | None = None) -> None:
        """Close the run (what ``with`` does on exit)."""
        if self._run is None or self._writer is None:
            return
        with self._lock:
            if self._journalled and self._pending is not None:
                # Items started and never completed: their lines are nobody's for sure.
                try:
                    recover_windows(self._pending, self.store.root, list(self._journalled.values()))
                except OSError as error:
                    log.warning("agent-trace: could not close edit windows: %s", error)
                self._journalled.clear()
            self._check_commits()
            if not self.thread_events:
                status = RunStatus.COMPLETED if exc is None else RunStatus.FAILED
            elif exc is None:
                usage = Usage(
                    input_tokens=self._usage[0],
                    cached_input_tokens=self._usage[1],
                    output_tokens=self._usage[2],
                )
                self._write(
                    ThreadCompletedEvent(
                        thread_id=self._run.run_id,
                        session_id=self._run.run_id,
                        subtype="success",
                        outcome_code="success",
                        usage=usage,
                        num_turns=self._turn,
                    )
                )
                status = RunStatus.COMPLETED
            else:
                self._write(ThreadErrorEvent(message=f"{type(exc).__name__}: {exc}"))
                interrupted = isinstance(exc, KeyboardInterrupt | GeneratorExit)
                status = RunStatus.INTERRUPTED if interrupted else RunStatus.FAILED
            self._writer.close()
            ended: dict[str, Any] = {}
            if self.resume and exc is None:
                status = RunStatus.RUNNING  # the run goes on in the next process
                ended = {"pid": None, "pid_started": None, "host": None}
            try:
                self._run.update(status=status, model_id=self.model_id, **ended)
            except (OSError, ValueError) as error:
                log.warning("agent-trace: could not update %s: %s", self._run.manifest_path, error)
            if self._token is not None:
                with contextlib.suppress(ValueError):
                    _current.reset(self._token)
                self._token = None

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.finish(exc)

    async def __aenter__(self) -> Recorder:
        return self.start()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.finish(exc)

    def _fresh(self) -> Recorder:
        return Recorder(
            self.repo,
            tool_name=self.tool_name,
            tool_version=self.tool_version,
            model_id=self.model_id,
            conversation_url=self.conversation_url,
            emitters=self.emitters,
            fsync=self.fsync,
            link=self.auto_link,
        )

    def __call__(self, func: F) -> F:
        """Use as a decorator: each call of ``func`` is one run; inside it,
        :func:`current_recorder` returns that run's recorder."""
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                async with self._fresh():
                    return await func(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run_sync(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return func(*args, **kwargs)

        return run_sync  # type: ignore[return-value]

    # ------------------------------------------------------------------ events

    def emit(self, event: ThreadEvent) -> None:
        """Record one event. ``file_change`` items are attributed: ``item.started``
        snapshots their paths, ``item.completed`` diffs and labels the lines. Never raises
        for I/O problems (they are retried, then logged and counted in ``dropped``)."""
        with self._lock:
            found = getattr(event, "item", None)
            item = found if isinstance(found, FileChangeItem) else None
            # Only a file change needs HEAD current (its lines must not go to an earlier
            # commit); other events leave the commits made since to the next look, at
            # most _HEAD_POLL_NS later.
            if item is not None or time.monotonic_ns() - self._head_read_ns >= _HEAD_POLL_NS:
                self._check_commits()
            self._count(event)
            if item is not None:
                paths = [c.path for c in item.changes]
                if isinstance(event, ItemStartedEvent):
                    snapshot = self._snapshot(self._relative_paths(paths))
                    self._snapshots[item.id] = snapshot
                    self._open_window(item.id, snapshot)
                elif isinstance(event, ItemCompletedEvent):
                    before = self._snapshots.pop(item.id, None)
                    self._attribute_reported(item, paths, before)
                    self._close_window(item.id)
            self._write(event)

    def _count(self, event: ThreadEvent) -> None:
        if isinstance(event, TurnStartedEvent):
            self._turn += 1
            self._turn_id = f"turn-{self._turn}"
        elif isinstance(event, _TURN_ENDS):
            usage = event.usage
            if usage is not None:
                self._usage[0] += usage.input_tokens
                self._usage[1] += usage.cached_input_tokens
                self._usage[2] += usage.output_tokens

    def _pass_through(self, event: ThreadEvent, ts: str | None = None) -> None:
        """Write an event of an agent's own stream as it is (``ts``: when the agent says it
        happened): counted, linked, but not attributed: the caller attributes from
        work-tree snapshots (:meth:`_attribute_from`)."""
        with self._lock:
            self._check_commits()
            self._count(event)
            self._write(event, ts)

    def _attribute_from(
        self,
        before: Mapping[str, bytes | None],
        *,
        item_id: str | None,
        evidence: str,
        confidence: float,
        exact: Mapping[str, list[int | None]] | None = None,
    ) -> list[FileUpdateChange]:
        """Attribute to this run's agent the lines of the files in ``before`` that differ
        now from the contents given there (``None``: the file did not exist). ``exact``
        maps a path to the old line of each new line (``None``: written), as an agent's
        own patch says; it replaces the diff where it fits the contents."""
        with self._lock:
            contents: dict[str, bytes | None] = {}
            mappings: dict[str, list[int | None]] = {}
            for path, content in before.items():
                for relative in self._relative_paths([path]):
                    contents[relative] = content
                    if exact is not None and path in exact:
                        mappings[relative] = exact[path]
            label = self._label(item_id, evidence, confidence)
            return self._attribute(list(contents), _Snapshot.of(contents), label, mappings)

    def _attribute_reported_paths(self, paths: Iterable[str], item_id: str | None) -> None:
        """Attribute changes to ``paths`` reported without a copy from before: against
        the last state the run knew (pending state, else the start of the run)."""
        with self._lock:
            relative = self._relative_paths(paths)
            if relative:
                self._attribute(relative, None, self._label(item_id, "no-snapshot", 0.9))

    def _watch_from(self, head: str | None, reflog_seen: int) -> None:
        """Continue watching for commits from where an earlier process of the run was."""
        with self._lock:
            self._head, self._reflog_seen = head, reflog_seen

    def _watch_state(self) -> tuple[str | None, int]:
        return self._head, self._reflog_seen

    def _write(self, event: ThreadEvent, ts: str | None = None) -> None:
        writer = self._writer
        if writer is None:
            raise RuntimeError("the recorder is not started: use `with Recorder(...) as rec:`")
        # The one place events are filtered, for every output: the policy works on the
        # event's JSON object, and event objects are built from it only for emitters.
        privacy = self.privacy
        body = dump_event(event)
        if privacy is not None:
            body = privacy.apply_dict(body)
        try:
            writer.write_dict(body, ts)
        except (OSError, ValueError) as exc:
            self._write_again(writer, body, ts, exc)
        else:
            if writer.not_written == 1:
                self._warn_full(writer)
        if self.emitters:
            if privacy is not None:
                try:
                    event = privacy.apply(event)
                except ValueError as exc:  # built in Python with a value its type has not
                    log.warning("agent-trace: event not passed to the emitters: %s", exc)
                    return
            self._to_emitters(event)

    def _write_again(
        self, writer: JsonlWriter, body: dict[str, Any], ts: str | None, exc: Exception
    ) -> None:
        """A write failed with ``exc``: retried (brief I/O errors), else dropped and logged."""
        for attempt in range(4):
            if isinstance(exc, ValueError):  # a closed writer
                self.dropped += 1
                log.warning("agent-trace: event not written: %s", exc)
                return
            assert isinstance(exc, OSError)
            if exc.errno not in _RETRYABLE or attempt == 3:
                self.dropped += 1
                log.warning("agent-trace: event not written to %s: %s", writer.path, exc)
                return
            time.sleep(0.01 * (attempt + 1))
            try:
                writer.write_dict(body, ts)
            except (OSError, ValueError) as again:
                exc = again
            else:
                if writer.not_written == 1:
                    self._warn_full(writer)
                return

    @staticmethod
    def _warn_full(writer: JsonlWriter) -> None:
        log.warning(
            "agent-trace: %s reached its size cap (max_log_bytes); later events "
            "of this run are not recorded (attribution goes on)",
            writer.path,
        )

    def _to_emitters(self, event: ThreadEvent) -> None:
        for emitter in self.emitters:
            try:
                emitter(event)
            except Exception as exc:  # noqa: BLE001 - a failing emitter must not stop the agent
                log.warning("agent-trace: emitter %r failed: %s", emitter, exc)

    # ------------------------------------------------------------------ turns

    def turn(self, usage: Usage | None = None) -> _Window:
        """``with rec.turn():`` emits ``turn.started``, then ``turn.completed`` (with
        ``usage``, or the usage set on the yielded handle) or ``turn.failed``."""
        handle = _TurnHandle(usage)

        def enter() -> _TurnHandle:
            self.emit(TurnStartedEvent())
            return handle

        def leave(exc: BaseException | None) -> None:
            if exc is None:
                self.emit(TurnCompletedEvent(usage=handle.usage or _zero_usage()))
            else:
                message = f"{type(exc).__name__}: {exc}"
                self.emit(TurnFailedEvent(message=message, usage=handle.usage))

        return _Window(enter, leave)

    # ------------------------------------------------------------------ edits

    def edit(self, *paths: str | Path) -> _Window:
        """``with rec.edit("a.py", "b.py"):`` snapshots the files, and on exit attributes
        every line the block added or changed in them to this recorder's model, emitting
        ``item.started``/``item.completed`` events for a ``file_change`` item."""
        if not paths:
            raise ValueError("edit() needs at least one path")
        relative = self._attributable([self._relative(p) for p in paths])
        state: dict[str, Any] = {}

        def enter() -> list[str]:
            with self._lock:
                self._check_commits()
                self._items += 1
                item_id = f"edit-{self._items}"
                snapshot = self._snapshot(relative)
                state["id"], state["snapshot"] = item_id, snapshot
                self._open_window(item_id, snapshot)
                changes = [
                    FileUpdateChange(
                        path=p,
                        kind=PatchChangeKind.UPDATE
                        if snapshot.contents[p] is not None
                        else PatchChangeKind.ADD,
                    )
                    for p in relative
                ]
                item = FileChangeItem(
                    id=item_id, changes=changes, status=PatchApplyStatus.IN_PROGRESS
                )
                self._write(ItemStartedEvent(item=item))
            return relative

        def leave(exc: BaseException | None) -> None:
            with self._lock:
                label = self._label(state["id"], "edit-window", 1.0)
                changes = self._attribute(relative, state["snapshot"], label)
                self._close_window(state["id"])
                status = PatchApplyStatus.COMPLETED if exc is None else PatchApplyStatus.FAILED
                item = FileChangeItem(id=state["id"], changes=changes, status=status)
                self._write(ItemCompletedEvent(item=item))

        return _Window(enter, leave)

    def _open_window(self, item_id: str, snapshot: _Snapshot) -> None:
        """Journal an edit window (see ``_windows``): if this process dies inside it, the
        lines it changed become ``unknown``, not a person's."""
        if self._windows is None or not snapshot.contents:
            return
        before: dict[str, list[int] | None] = {}
        for path, content in snapshot.contents.items():
            if content is None:
                before[path] = None
            elif not is_binary(content):
                before[path] = self._line_keys(path, content)[1]
        try:
            label = self._label(item_id, "edit-window", 1.0)
            self._journalled[item_id] = self._windows.open(self.run_id, item_id, label, before)
        except OSError as exc:
            log.warning("agent-trace: edit window %s not journalled: %s", item_id, exc)

    def _close_window(self, item_id: str) -> None:
        entry = self._journalled.pop(item_id, None)
        if entry is not None and self._windows is not None:
            self._windows.close(entry)

    def _relative(self, path: str | Path) -> str:
        return work_tree_file(self.store, path)

    def _snapshot(self, paths: Iterable[str]) -> _Snapshot:
        return _Snapshot(self.store.root, paths)

    def _label(self, item_id: str | None, evidence: str, confidence: float) -> Label:
        return Label(
            model_id=self.model_id,
            run_id=self.run_id,
            turn_id=self._turn_id,
            item_id=item_id,
            conversation_url=self.conversation_url,
            tool_name=self.tool_name,
            tool_version=self.tool_version,
            evidence=evidence,
            confidence=confidence,
        )

    def _attribute_reported(
        self, item: FileChangeItem, paths: list[str], before: _Snapshot | None
    ) -> None:
        """A ``file_change`` reported by the agent: diff each path against its
        ``item.started`` snapshot, or else (not snapshotted) against the last state the
        recorder knew."""
        relative = self._relative_paths(paths)
        snapshotted = [p for p in relative if before is not None and p in before.contents]
        others = [p for p in relative if p not in snapshotted]
        if snapshotted:
            self._attribute(snapshotted, before, self._label(item.id, "edit-window", 1.0))
        if others:
            self._attribute_reported_paths(others, item.id)

    def _relative_paths(self, paths: Iterable[str]) -> list[str]:
        """Repository-relative forms of reported paths; paths outside the work tree are
        logged and left out (an agent's report must not make the recorder raise)."""
        out: list[str] = []
        for path in paths:
            try:
                relative = self._relative(path)
            except ValueError as exc:
                log.warning("agent-trace: %s", exc)
                continue
            if relative not in out:
                out.append(relative)
        return self._attributable(out)

    def _attributable(self, paths: list[str]) -> list[str]:
        """``paths`` without symbolic links, directories and special files (logged)."""
        out = []
        for path in paths:
            refusal = _not_a_file(self.store.root / path)
            if refusal is None:
                out.append(path)
            else:
                log.warning("agent-trace: %s %s; not attributed", path, refusal)
        return out

    def _dirty_files(self) -> dict[str, bytes | None]:
        """Contents at the start of the run of the files that differ from HEAD (modified,
        added, untracked; ``None`` for deleted ones), so that a change reported later
        without a snapshot is not credited with a person's uncommitted work. Up to
        ``_START_FILES`` files of at most ``_START_BYTES`` each; others fall back to HEAD."""
        proc = self.store.repository.git.run(
            "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames",
            ok_codes=(0, 128),
        )  # fmt: skip
        if proc.returncode != 0:
            return {}
        state: dict[str, bytes | None] = {}
        root = self.store.root
        for entry in proc.stdout.split(b"\0"):
            if len(entry) < 4 or len(state) >= _START_FILES:
                continue
            path = entry[3:].decode("utf-8", "surrogateescape")
            target = root / path
            try:
                info = os.lstat(target)
                # Links and special files are never read (a FIFO blocks); big files fall back.
                if not stat.S_ISREG(info.st_mode) or info.st_size > _START_BYTES:
                    continue
                state[path] = _read(target)
            except (FileNotFoundError, NotADirectoryError):
                state[path] = None
            except OSError:
                continue
        return state

    def _last_known(self, path: str) -> bytes | None:
        """The file as of the start of the run: as it was in the work tree if it differed
        from HEAD then, else its content at the HEAD the run started from (pending state
        covers what the recorder saw since)."""
        if path in self._start_state:
            return self._start_state[path]
        head = self._baseline_head
        if head is None:
            return None
        proc = self.store.repository.git.run(
            "cat-file", "blob", f"{head}:{path}", ok_codes=(0, 128)
        )
        return proc.stdout if proc.returncode == 0 else None

    def _attribute(
        self,
        paths: list[str],
        before: _Snapshot | None,
        label: Label,
        exact: Mapping[str, list[int | None]] | None = None,
    ) -> list[FileUpdateChange]:
        """Label the lines that changed in ``paths`` since ``before`` (``None``: since the
        last state known) and save the pending state. Returns the changes made."""
        pending = self._pending
        assert pending is not None
        root = self.store.root
        changes: list[FileUpdateChange] = []
        try:
            with pending.lock():
                after = {p: _read(root / p) for p in paths}
                deleted: dict[str, tuple[list[int], list[Label | None]]] = {}
                order = sorted(paths, key=lambda p: after[p] is not None)  # deletions first
                for path in order:
                    change = self._attribute_one(
                        path, before, after[path], label, deleted, (exact or {}).get(path)
                    )
                    if change is not None:
                        changes.append(change)
        except OSError as exc:
            log.warning("agent-trace: attribution of %s failed: %s", ", ".join(paths), exc)
        changes.sort(key=lambda c: paths.index(c.path))
        return changes

    def _attribute_one(
        self,
        path: str,
        before: _Snapshot | None,
        after: bytes | None,
        label: Label,
        deleted: dict[str, tuple[list[int], list[Label | None]]],
        exact: list[int | None] | None = None,
    ) -> FileUpdateChange | None:
        pending = self._pending
        assert pending is not None
        if after is None and os.path.lexists(self.store.root / path):
            # There, but not readable as a regular file within the size cap.
            log.warning(
                "agent-trace: %s is over %d bytes or not a regular file; not attributed",
                path,
                _files.MAX_ATTRIBUTED_BYTES,
            )
            pending.delete(path)
            return FileUpdateChange(
                path=path,
                kind=PatchChangeKind.UPDATE,
                extra={"agent_trace": "over 64 MiB or not a regular file, not attributed"},
            )
        known = pending.load(path)
        if before is not None and path in before.contents:
            old = before.contents[path]
        elif known is not None:
            old = None  # compared through the pending keys below
        else:
            old = self._last_known(path)
        if (old is not None and is_binary(old)) or (after is not None and is_binary(after)):
            log.info("agent-trace: %s is binary; not attributed", path)
            existed_before = old is not None or known is not None
            if after is None:
                kind = PatchChangeKind.DELETE if existed_before else None
            else:
                kind = PatchChangeKind.UPDATE if existed_before else PatchChangeKind.ADD
            if kind is None or (old is not None and old == after):
                return None
            pending.delete(path)
            return FileUpdateChange(
                path=path, kind=kind, extra={"agent_trace": "binary file, not attributed"}
            )
        if old is None and known is not None and (before is None or path not in before.contents):
            old_keys = known.keys
            old_labels = list(known.labels)
            existed = True
        else:
            old_lines, old_keys = self._line_keys(path, old) if old is not None else ([], [])
            old_labels = carry_labels(known, old_keys)
            existed = old is not None
        if after is None:
            self._keyed.pop(path, None)
            if existed:
                deleted[path] = (old_keys, old_labels)
                pending.delete(path)
                return FileUpdateChange(path=path, kind=PatchChangeKind.DELETE)
            return None
        new_lines, new_keys = self._line_keys(path, after)
        if not existed and deleted:
            # A file created while another disappeared in the same edit: a move. Carry
            # the labels of the one it shares most lines with.
            best = max(deleted.values(), key=lambda d: _shared(d[0], new_keys))
            if _shared(best[0], new_keys) * 2 >= len(new_keys):
                old_keys, old_labels = best
        if existed and old_keys == new_keys:
            if known is None or known.keys != new_keys:
                pending.save(PendingFile(path=path, keys=new_keys, labels=old_labels))
            return None
        fits = (
            exact is not None
            and len(exact) == len(new_keys)
            and all(m is None or (0 <= m < len(old_keys) and old_keys[m] == new_keys[i])
                    for i, m in enumerate(exact))
        )  # fmt: skip
        mapping = exact if fits and exact is not None else align(old_keys, new_keys)
        labels = [old_labels[m] if m is not None else label for m in mapping]
        if old is not None:
            _mark_mixed(old_lines, new_lines, mapping, old_labels, labels)
        pending.save(PendingFile(path=path, keys=new_keys, labels=labels))
        return FileUpdateChange(
            path=path, kind=PatchChangeKind.UPDATE if existed else PatchChangeKind.ADD
        )

    def _line_keys(self, path: str, content: bytes) -> tuple[list[bytes], list[int]]:
        """The lines of ``content`` and their keys, remembered for the file's next edit."""
        keyed = self._keyed.get(path)
        if keyed is not None and keyed[0] == content:
            return keyed[1], keyed[2]
        lines = split_lines(content)
        keys = line_keys(lines)
        self._keyed.pop(path, None)
        if len(self._keyed) >= 16:
            del self._keyed[next(iter(self._keyed))]  # the least recently keyed
        self._keyed[path] = (content, lines, keys)
        return lines, keys

    # ------------------------------------------------------------------ commits

    def link(self) -> list[LinkResult]:
        """Link commits made since the recorder last looked (also done automatically)."""
        with self._lock:
            return self._check_commits(force_check=True)

    def _check_commits(self, force_check: bool = False) -> list[LinkResult]:
        """Link the commits made since the last look at HEAD (:meth:`emit` looks for
        events that attribute nothing at most every :data:`_HEAD_POLL_NS`: they can come
        thousands a second, and a commit takes a git process, far longer)."""
        if not self.auto_link and not force_check:
            return []
        store = self._store
        if store is None:
            return []
        self._head_read_ns = time.monotonic_ns()
        try:
            head = store.repository.read_head()
            if head == self._head or head is None:
                return []
            commits = self._commits_made_since(head)
            results = [link_commit(store, c, linked_by="recorder") for c in commits]
            self._head = head
        except (GitError, OSError, ValueError) as exc:
            log.warning("agent-trace: linking new commits failed: %s", exc)
            return []
        self.links.extend(results)
        for result in results:
            for emitter in self.emitters:
                on_link = getattr(emitter, "on_link", None)
                if on_link is None:
                    continue
                try:
                    on_link(result)
                except Exception as exc:  # noqa: BLE001 - never stop the agent
                    log.warning("agent-trace: emitter %r failed on a link: %s", emitter, exc)
        return results

    def _reflog(self) -> list[tuple[str, str]]:
        """HEAD's reflog, newest first: ``(sha, subject)``; empty when there is none."""
        proc = self.store.repository.git.run(
            "reflog", "show", "--format=%H%x00%gs", "HEAD", "--", ok_codes=(0, 128)
        )
        if proc.returncode != 0:
            return []
        out = []
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            sha, _, subject = line.partition("\0")
            out.append((sha, subject))
        return out

    def _commits_made_since(self, head: str) -> list[str]:
        """Commits created in this work tree since the last look, oldest first.

        HEAD's reflog tells creation (``commit``, ``commit (amend)``, ``cherry-pick``,
        ``rebase``, ``revert``, a merge that made a merge commit) from mere movement
        (checkout, fast-forward, reset): commits that only arrive were not seen being
        written, so they are not claimed. Without a reflog, every new commit counts.
        """
        reflog = self._reflog()
        fresh = reflog[: max(0, len(reflog) - self._reflog_seen)]
        self._reflog_seen = len(reflog)
        if not reflog:
            args = ["rev-list", "--reverse", head]
            if self._head is not None:
                args.append(f"^{self._head}")
            return self.store.repository.git.output(*args, "--").split()
        made: list[str] = []
        for sha, subject in reversed(fresh):
            action = subject.partition(":")[0]
            created = action.startswith(("commit", "cherry-pick", "revert")) or (
                action.startswith("rebase")
                and not any(x in action for x in ("(start)", "(finish)", "(abort)"))
            )
            if action.startswith("merge") and "Merge made by" in subject:
                created = True
            if created and sha not in made:
                made.append(sha)
        return made


def _mark_mixed(
    old: Sequence[bytes],
    new: Sequence[bytes],
    mapping: Sequence[int | None],
    old_labels: Sequence[Label | None],
    labels: list[Label | None],
) -> None:
    """Lines the agent changed from a person's line, keeping most of its text, become
    ``mixed`` (the agent's model id): between two lines the edit kept, new lines are
    paired one-to-one with the most similar person's lines they replaced."""
    for new_gap, old_gap in unmatched_gaps(mapping, len(old)):
        people = [i for i in old_gap if old_labels[i] is None]
        agent = [j for j in new_gap if labels[j] is not None]
        for k in pair_edits([old[i] for i in people], [new[j] for j in agent]):
            label = labels[agent[k]]
            assert label is not None
            labels[agent[k]] = attrs.evolve(label, kind="mixed")


def _shared(old: list[int], new: list[int]) -> int:
    return sum(1 for m in align(old, new) if m is not None)


def _zero_usage() -> Usage:
    return Usage(input_tokens=0, cached_input_tokens=0, output_tokens=0)


class _TurnHandle:
    """Yielded by ``rec.turn()``: set ``usage`` before the block ends."""

    def __init__(self, usage: Usage | None) -> None:
        self.usage = usage
