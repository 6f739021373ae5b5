"""``trace record -- CMD``: run an agent, keep its event stream as a run, attribute the
lines it writes from work-tree snapshots taken around each change it reports."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import attrs
import orjson

from ._lines import patch_mapping, split_lines
from ._model_ids import normalize_model_id
from ._recorder import Recorder
from ._runs import RunStatus
from ._snapshots import TreeSnapshots
from ._store import TraceStore
from .events import (
    AgentMessageItem,
    EventDecodeError,
    FileChangeItem,
    ItemCompletedEvent,
    ItemStartedEvent,
    PlanItem,
    ReasoningItem,
    ThreadCompletedEvent,
    ThreadErrorEvent,
    TodoListItem,
    TurnCompletedEvent,
    TurnFailedEvent,
    WebSearchItem,
)
from .events._adapters import Adapter, AdapterError, Translated, adapter_for, detect_format

__all__ = [
    "RecordOutcome",
    "model_from_argv",
    "record_command",
    "SnapshotAttributor",
    "tool_from_argv",
]

_NO_FILES = (AgentMessageItem, ReasoningItem, PlanItem, TodoListItem, WebSearchItem)


@attrs.define
class RecordOutcome:
    """What ``record_command`` did."""

    exit_code: int
    run_id: str
    format: str | None = None
    events: int = 0
    other_lines: int = 0
    """Standard-output lines that were not events (passed through, not recorded)."""
    attributed: dict[str, str] = attrs.Factory(dict)
    """Path → how its lines were attributed (``reported``, ``command``, ``unreported``)."""
    problems: list[str] = attrs.Factory(list)
    model_id: str | None = None


def model_from_argv(argv: Sequence[str]) -> str | None:
    """The model an agent command line asks for (``-m X``, ``--model X``, ``--model=X``,
    ``-c model=X``), if it names one."""
    for i, arg in enumerate(argv):
        value: str | None = None
        if arg in ("-m", "--model") and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--model="):
            value = arg.partition("=")[2]
        elif arg in ("-c", "--config") and i + 1 < len(argv):
            key, sep, rest = argv[i + 1].partition("=")
            if sep and key.strip() == "model":
                value = rest
        if value:
            return value.strip().strip("'\"") or None
    return None


def _exact(translated: Translated) -> tuple[dict[str, bytes | None], dict[str, Any]]:
    """Before-contents and line mappings from the exact edits an event carries."""
    before: dict[str, bytes | None] = {}
    exact: dict[str, Any] = {}
    for edit in getattr(translated, "edits", ()):
        path = edit.path
        if edit.original is not None:
            original = edit.original.encode()
            before[path] = original
            if edit.hunks is not None:
                hunks = [(h.old_start, h.lines) for h in edit.hunks]
                mapping = patch_mapping(len(split_lines(original)), hunks)
                if mapping is not None:
                    exact[path] = mapping
        elif edit.created:
            before[path] = None
    return before, exact


class SnapshotAttributor:
    """Attributes what changed in the work tree between events to the agent."""

    def __init__(self, rec: Recorder, snapshots: TreeSnapshots) -> None:
        self.rec = rec
        self.snapshots = snapshots
        self.tree = snapshots.take()
        self.attributed: dict[str, str] = {}
        self._waiting: dict[str, str] = {}
        self._by_command: dict[str, tuple[str, str]] = {}
        """Files last attributed to a command → (the tree before, the tree after)."""
        """Changed files no item has explained yet → the tree they were last seen in."""

    def observe(self, translated: Translated) -> None:
        """Attribute what changed up to this event (call before it is written)."""
        event = translated.event
        item = getattr(event, "item", None)
        completed = isinstance(event, ItemCompletedEvent) and not isinstance(item, _NO_FILES)
        started = isinstance(event, ItemStartedEvent) and isinstance(item, FileChangeItem)
        ends = (TurnCompletedEvent, TurnFailedEvent, ThreadCompletedEvent, ThreadErrorEvent)
        if not (completed or started or isinstance(event, ends)):
            return
        reported: set[str] = set()
        if completed and isinstance(item, FileChangeItem):
            reported = set(self.rec._relative_paths(c.path for c in item.changes))
        before, exact = _exact(translated)
        self.step(
            reported,
            item.id if completed and item is not None else None,
            command=completed and not isinstance(item, FileChangeItem),
            before=before,
            exact=exact,
            final=isinstance(event, ends),  # what a turn changed is settled at its end
        )

    def step(
        self,
        reported: set[str],
        item_id: str | None,
        *,
        command: bool,
        before: Mapping[str, bytes | None] = {},
        exact: Mapping[str, Any] = {},
        final: bool = False,
    ) -> None:
        """Snapshot now and attribute the files changed since their last snapshot: to the
        item that reports them, else to a command or tool item that just completed, else
        (``final``) as unreported. Other changes wait for an item to explain them: the
        agent may have run ahead of the line being read."""
        new = self.snapshots.take()
        for path in self.snapshots.changed(self.tree, new):
            self._waiting.setdefault(path, self.tree)
        own: dict[str, str] = {}  # relative path -> the path as the exact edit names it
        for path in before:
            for relative in self.rec._relative_paths([path]):
                own[relative] = path
                if relative in reported:
                    self._waiting.setdefault(relative, self.tree)
        for path in reported:
            claimed = self._by_command.get(path)
            if path not in self._waiting and claimed is not None and claimed[1] == self.tree:
                # A tool's command ran first and the agent reports the file after it (VT
                # Code): the report is the better evidence; the lines are labelled again.
                self._waiting[path] = claimed[0]
        due = [p for p in self._waiting if p in reported or command or final]
        groups: dict[tuple[str | None, str, float], dict[str, bytes | None]] = {}
        by_tree: dict[str, list[str]] = {}
        for path in due:
            by_tree.setdefault(self._waiting.pop(path), []).append(path)
        for tree, paths in by_tree.items():
            old = self.snapshots.contents(tree, paths)
            for path in paths:
                if path in reported:
                    key: tuple[str | None, str, float] = (item_id, "reported", 1.0)
                elif command:
                    key = (item_id, "command", 0.9)
                else:
                    key = (None, "unreported", 0.6)
                content = before[own[path]] if path in own else old.get(path)
                groups.setdefault(key, {})[path] = content
                self.attributed[path] = key[1]
                if key[1] == "command":
                    self._by_command[path] = (tree, new)
                else:
                    self._by_command.pop(path, None)
        mappings = {relative: exact[p] for relative, p in own.items() if p in exact}
        for (item, evidence, confidence), contents in groups.items():
            self.rec._attribute_from(
                contents,
                item_id=item,
                evidence=f"{evidence}-snapshot",
                confidence=confidence,
                exact=mappings,
            )
        self.tree = new


_RUNNERS = frozenset({"python", "python3", "node", "bun", "deno", "npx", "uv", "uvx", "bash",
                      "sh", "env", "pipx"})  # fmt: skip


def tool_from_argv(argv: Sequence[str]) -> str:
    """A name for the agent a command line runs (``codex``; ``fake_codex`` for
    ``python examples/fake_codex.py``)."""
    for arg in argv:
        name = Path(arg).name
        base = name.split(".")[0] if name.endswith((".py", ".js", ".mjs", ".ts", ".sh")) else name
        if arg.startswith("-") or base.rstrip("0123456789.") in _RUNNERS or base == "run":
            continue
        return base or "agent"
    return "agent"


class _Forward:
    """While the command runs, ``SIGTERM`` and ``SIGHUP`` sent to us go to it (a second
    one kills it), so that it is never orphaned and its run ends ``interrupted`` with
    what it wrote attributed. Main thread only (elsewhere signals stay as they were)."""

    SIGNALS = ("SIGTERM", "SIGHUP")

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.interrupted = False
        self.previous: dict[int, Any] = {}
        for name in self.SIGNALS:
            number = getattr(signal, name, None)
            if number is None:
                continue
            try:
                self.previous[number] = signal.signal(number, self._forward)
            except ValueError:  # not the main thread
                break

    def _forward(self, signum: int, frame: object) -> None:
        again, self.interrupted = self.interrupted, True
        with contextlib.suppress(OSError):
            if again:
                self.proc.kill()
            else:
                self.proc.send_signal(signum)

    def restore(self) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        self.previous.clear()


def _exit_code(code: int) -> int:
    return 128 - code if code < 0 else code


def record_command(
    argv: Sequence[str],
    *,
    repo: str | os.PathLike[str] = ".",
    format: str = "auto",
    model_id: str | None = None,
    tool_name: str | None = None,
    echo: IO[bytes] | None = None,
    keep_content: bool = False,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    capture: str | Iterable[str] | None = None,
) -> RecordOutcome:
    """Run ``argv`` in ``repo``, record its stdout events as a run and attribute the lines
    it writes. ``echo`` receives every stdout line as it comes. Returns the outcome; the
    command's exit code is in ``exit_code`` (128+N for a signal). ``capture``: content
    kinds written to the events file (default: the store's ``config.toml``, else none);
    ``keep_content``: keep file contents in translated Claude Code/meerkat events."""
    store = TraceStore.open(repo)
    explicit_model = model_id  # the stream's own model comes before the command line's
    rec = Recorder(
        store.root,
        tool_name=tool_name or tool_from_argv(argv),
        model_id=model_id or model_from_argv(argv),
        thread_events=False,
        capture=capture,
    )
    rec.start()
    outcome = RecordOutcome(exit_code=0, run_id=rec.run_id, model_id=rec.model_id)
    snapshots = TreeSnapshots(store.repository, rec.run.directory / "snapshot.index")
    attributor = SnapshotAttributor(rec, snapshots)
    adapter: Adapter | None = (
        None if format == "auto" else adapter_for(format, keep_content=keep_content)
    )
    outcome.format = None if format == "auto" else format
    run_env = dict(os.environ)
    run_env.update(env or {})
    run_env["AGENT_TRACE_RUN_ID"] = rec.run_id
    try:
        proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, env=run_env, cwd=cwd)
    except OSError:
        rec.finish(None)
        snapshots.close()
        shutil.rmtree(rec.run.directory, ignore_errors=True)  # nothing ran: no run
        raise
    assert proc.stdout is not None
    forward = _Forward(proc)
    try:
        number = 0
        while True:
            try:
                raw = proc.stdout.readline()
            except KeyboardInterrupt:  # the agent got the signal too; let it finish
                forward.interrupted = True
                continue
            if not raw:
                break
            number += 1
            if echo is not None:
                echo.write(raw)
                echo.flush()
            adapter = _handle(
                raw, number, adapter, outcome, attributor, explicit_model, keep_content
            )
        while True:
            try:
                code = proc.wait()
                break
            except KeyboardInterrupt:
                forward.interrupted = True
                proc.send_signal(signal.SIGINT)
        outcome.exit_code = _exit_code(code)
        attributor.step(set(), None, command=False, final=True)
    finally:
        forward.restore()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        rec.finish(None)
        snapshots.close()
    status = RunStatus.COMPLETED if outcome.exit_code == 0 else RunStatus.FAILED
    if forward.interrupted:
        status = RunStatus.INTERRUPTED
    rec.run.update(status=status, model_id=rec.model_id)
    outcome.attributed = attributor.attributed
    outcome.model_id = rec.model_id
    return outcome


def _handle(
    raw: bytes,
    number: int,
    adapter: Adapter | None,
    outcome: RecordOutcome,
    attributor: SnapshotAttributor,
    explicit_model: str | None,
    keep_content: bool = False,
) -> Adapter | None:
    """Translate, attribute and record one stdout line; returns the adapter in use."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        outcome.other_lines += 1
        return adapter
    if adapter is None:
        detected = detect_format(obj)
        if detected is None:
            outcome.other_lines += 1
            return None
        adapter = adapter_for(detected, keep_content=keep_content)
        outcome.format = detected
    if type(obj) is not dict:
        outcome.other_lines += 1
        return adapter
    try:
        translated = adapter.translate(obj)
    except (AdapterError, EventDecodeError) as exc:
        path = getattr(exc, "path", "$")
        outcome.problems.append(f"stdout line {number}: {path}: {getattr(exc, 'message', exc)}")
        return adapter
    rec = attributor.rec
    for item in translated:
        if explicit_model is None and adapter.model:
            try:
                model = normalize_model_id(adapter.model, adapter.provider)
            except ValueError:
                model = None
            if model and model != rec.model_id:
                rec.model_id = model
        attributor.observe(item)
        rec._pass_through(item.event)
        outcome.events += 1
    return adapter
