"""``trace hook claude``: Claude Code hook payloads (one process per hook) become one run
per session, ``claude-<session_id>``, and the lines its tools write are attributed.

* ``PreToolUse`` of a file tool saves the file as it is; of ``Bash`` and other tools that
  may write, a work-tree snapshot (a git tree, see :mod:`._snapshots`).
* ``PostToolUse`` of a file tool attributes the file against ``originalFile`` with the
  exact hunks of ``structuredPatch`` (else against the saved copy, else against the last
  state known); of other tools, every file changed since the snapshot.
* The model comes from the transcript (the assistant message that asked for the tool),
  else from ``SessionStart``, else from what the run last knew.
* Commits the session made since the last hook are linked (HEAD's reflog, as the
  recorder does).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs
import orjson

from ._files import atomic_write, locked
from ._git import find_repository
from ._model_ids import normalize_model_id
from ._recorder import Recorder
from ._runs import RunStatus, check_run_id
from ._snapshots import TreeSnapshots
from ._store import TraceStore
from ._wrap import _exact
from .events._adapters import AdapterError
from .events._claude import FILE_TOOLS, ClaudeAdapter

__all__ = ["HookOutcome", "handle_claude_hook", "model_in_transcript", "CLAUDE_SETTINGS"]

_READ_ONLY = frozenset(
    {"Read", "Grep", "Glob", "LS", "WebFetch", "WebSearch", "TodoWrite", "Task", "NotebookRead",
     "ExitPlanMode", "BashOutput", "KillShell", "SlashCommand", "Skill"}
)  # fmt: skip
_TAIL = 8 * 1024 * 1024

CLAUDE_SETTINGS: dict[str, Any] = {
    "hooks": {
        event: [{**({"matcher": "*"} if "Tool" in event else {}),
                 "hooks": [{"type": "command", "command": "trace hook claude"}]}]
        for event in ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse",
                      "PostToolUseFailure", "Stop", "SessionEnd")
    }
}  # fmt: skip
"""The ``.claude/settings.json`` fragment that sends every needed hook to us."""


@attrs.define
class HookOutcome:
    hook: str
    run_id: str | None = None
    attributed: list[str] = attrs.Factory(list)
    linked: list[str] = attrs.Factory(list)
    skipped: str | None = None
    """Why nothing was recorded (not a git repository, ...)."""


def model_in_transcript(path: str | os.PathLike[str], tool_use_id: str | None) -> str | None:
    """The model of the assistant message that asked for ``tool_use_id`` (or of the last
    assistant message), read from the end of a Claude Code transcript."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            start = max(0, size - _TAIL)
            f.seek(start)
            data = f.read()
    except OSError:
        return None
    lines = data.split(b"\n")
    if start:
        lines = lines[1:]  # a partial first line
    needle = tool_use_id.encode() if tool_use_id else b'"assistant"'
    for line in reversed(lines):
        if needle not in line or b'"model"' not in line:
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        message = obj.get("message") if isinstance(obj, dict) else None
        if isinstance(message, dict) and message.get("role") == "assistant":
            model = message.get("model")
            if isinstance(model, str) and model and not model.startswith("<"):
                return model
    return None


class _State:
    """What one hook process leaves to the next: the HEAD/reflog seen, snapshots."""

    def __init__(self, directory: Path, before_dir: Path) -> None:
        self.path = directory / "claude-hook.json"
        try:
            data = orjson.loads(self.path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            data = {}
        self.data: dict[str, Any] = data if isinstance(data, dict) else {}
        self.before_dir = before_dir
        """Copies of files taken at PreToolUse (outside the run: removed at PostToolUse)."""

    def save(self) -> None:
        atomic_write(self.path, orjson.dumps(self.data), fsync=False)

    def save_file(self, tool_use_id: str, content: bytes | None) -> None:
        self.before_dir.mkdir(exist_ok=True)
        target = self.before_dir / _safe(tool_use_id)
        atomic_write(target, b"\0missing" if content is None else b"\0file" + content, fsync=False)

    def take_file(self, tool_use_id: str) -> tuple[bool, bytes | None]:
        target = self.before_dir / _safe(tool_use_id)
        try:
            data = target.read_bytes()
        except OSError:
            return False, None
        target.unlink(missing_ok=True)
        if data.startswith(b"\0file"):
            return True, data[5:]
        return True, None


def _safe(name: str) -> str:
    return (
        "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "_" for c in name)[:120]
        or "tool"
    )


def handle_claude_hook(payload: bytes, *, cwd: str | os.PathLike[str] | None = None) -> HookOutcome:
    """Record one Claude Code hook payload. Raises ``ValueError`` (one line, naming the
    field) for a payload that is not a hook payload."""
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"hook payload on stdin is not JSON: {exc}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("hook_event_name"), str):
        raise ValueError("hook payload: $.hook_event_name: expected a string")
    hook = obj["hook_event_name"]
    session = obj.get("session_id")
    if not isinstance(session, str) or not session:
        raise ValueError("hook payload: $.session_id: expected a string")
    outcome = HookOutcome(hook=hook)
    given = obj.get("cwd")
    where: str | os.PathLike[str] = given if isinstance(given, str) else cwd or "."
    from ._git import NotAGitRepository

    try:
        repository = find_repository(where)
    except NotAGitRepository:
        outcome.skipped = f"{where}: not in a git repository"
        return outcome
    run_id = check_run_id(f"claude-{_safe(session)}"[:128])
    outcome.run_id = run_id
    adapter = ClaudeAdapter()
    try:
        translated = adapter.translate(obj)
    except AdapterError as exc:
        raise ValueError(f"hook payload: {exc.path}: {exc.message}") from None
    store = TraceStore.open(repository.root)
    locks = store.ensure_directory() / "locks"
    locks.mkdir(exist_ok=True)
    with locked(locks / f"{run_id}.lock"):
        _handle(store, run_id, obj, adapter, translated, outcome)
    return outcome


def _handle(
    store: TraceStore,
    run_id: str,
    obj: dict[str, Any],
    adapter: ClaudeAdapter,
    translated: list[Any],
    outcome: HookOutcome,
) -> None:
    hook = outcome.hook
    tool = str(obj.get("tool_name") or "")
    tool_use_id = obj.get("tool_use_id") if isinstance(obj.get("tool_use_id"), str) else None
    model = adapter.model
    transcript = obj.get("transcript_path")
    if model is None and isinstance(transcript, str) and hook.startswith("PostToolUse"):
        model = model_in_transcript(transcript, tool_use_id)
    directory = store.runs_directory / run_id
    state = _State(directory, store.directory / "locks" / f"{run_id}.before")
    if model is None and isinstance(state.data.get("model"), str):
        model = state.data["model"]
    model_id = None
    if model:
        try:
            model_id = normalize_model_id(model, "anthropic")
        except ValueError:
            model_id = None
    rec = Recorder(
        store.root,
        tool_name="claude-code",
        model_id=model_id,
        run_id=run_id,
        resume=True,
        thread_events=False,
    )
    rec.start()
    try:
        snapshots = TreeSnapshots(store.repository, directory / "snapshot.index")
        trees: dict[str, str] = state.data.setdefault("trees", {})
        if hook == "PreToolUse" and tool_use_id:
            if tool in FILE_TOOLS:
                path = _tool_path(obj)
                if path is not None:
                    state.save_file(tool_use_id, _read_inside(rec, path))
            elif tool not in _READ_ONLY:
                trees[tool_use_id] = snapshots.take()
        for item in translated:
            if hook.startswith("PostToolUse") and tool_use_id:
                outcome.attributed += _attribute(rec, snapshots, state, trees, tool, obj, item)
        # Commits made since the last hook (a Bash tool's `git commit`), after the lines
        # they hold were attributed.
        head, seen = state.data.get("head"), state.data.get("reflog")
        if isinstance(seen, int):
            rec._watch_from(head if isinstance(head, str) else None, seen)
            outcome.linked = [r.commit for r in rec.link()]
        for item in translated:
            rec._pass_through(item.event)
        if model:
            state.data["model"] = model
        state.data["head"], state.data["reflog"] = rec._watch_state()
        state.save()
    finally:
        rec.finish(None)
    if hook == "SessionEnd":
        rec.run.update(status=RunStatus.COMPLETED)


def _tool_path(obj: dict[str, Any]) -> str | None:
    tool_input = obj.get("tool_input")
    if not isinstance(tool_input, dict):
        return None
    path = tool_input.get("file_path") or tool_input.get("notebook_path")
    return path if isinstance(path, str) and path else None


def _read_inside(rec: Recorder, path: str) -> bytes | None:
    relative = rec._relative_paths([path])
    if not relative:
        return None
    try:
        return (rec.store.root / relative[0]).read_bytes()
    except OSError:
        return None


def _attribute(
    rec: Recorder,
    snapshots: TreeSnapshots,
    state: _State,
    trees: dict[str, str],
    tool: str,
    obj: dict[str, Any],
    item: Any,
) -> list[str]:
    tool_use_id = str(obj["tool_use_id"])
    failed = obj.get("hook_event_name") == "PostToolUseFailure"
    if tool in FILE_TOOLS:
        path = _tool_path(obj)
        saved, content = state.take_file(tool_use_id)
        if path is None or failed:
            return []
        before, exact = _exact(item)
        if not before and saved:
            before = {path: content}
        if not before:  # no copy from before the tool: against the last state known
            rec._attribute_reported_paths([path], tool_use_id)
            return rec._relative_paths([path])
        changes = rec._attribute_from(
            before, item_id=tool_use_id, evidence="claude-hook", confidence=1.0, exact=exact
        )
        return [c.path for c in changes]
    tree = trees.pop(tool_use_id, None)
    if tree is None:
        return []
    new = snapshots.take()
    paths = snapshots.changed(tree, new)
    if not paths:
        return []
    old = snapshots.contents(tree, paths)
    changes = rec._attribute_from(
        old, item_id=tool_use_id, evidence="command-snapshot", confidence=0.9
    )
    return [c.path for c in changes]
