"""``trace import FORMAT FILE``: an agent's existing log becomes a run; where the log
carries exact edits (Claude Code transcripts), the commits that hold those lines are
linked to it.

The edits are replayed on the files as the log gives them (``originalFile`` and
``structuredPatch``, or ``Write`` content) into a private pending state, in log order; each
commit made after the session started that touches an edited file is linked against the
edits made before its commit time. Only commits where some line is the agent's get a
record; commits that already have one are left alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

from ._blame import work_tree_file
from ._config import load_limits, load_privacy
from ._git import GitError
from ._hashing import split_lines
from ._lines import align, line_keys, patch_mapping
from ._link import LinkResult, LinkSources, link_commit
from ._model_ids import normalize_model_id
from ._pending import Label, PendingFile, PendingState, carry_labels
from ._runs import RunStatus, check_run_id
from ._store import TraceStore
from .events import JsonlWriter, ThreadCompletedEvent, parse_timestamp, to_dict
from .events._adapters import AdapterReader, Translated
from .events._privacy import PrivacyPolicy

__all__ = ["ImportOutcome", "import_log"]


@attrs.define
class ImportOutcome:
    run_id: str
    format: str
    events: int = 0
    edits: int = 0
    """Exact file edits found in the log (inside the repository)."""
    linked: list[LinkResult] = attrs.Factory(list)
    model_id: str | None = None
    skipped: list[str] = attrs.Factory(list)
    """Edits not replayed (path outside the repository, no earlier content known)."""


@attrs.frozen
class _Edit:
    ts: int
    path: str
    label: Label
    before: bytes | None
    """The file before the edit when the log says, else ``None`` (continue from the last)."""
    hunks: tuple[tuple[int, tuple[str, ...]], ...] | None
    content: bytes | None


def import_log(
    source: str | os.PathLike[str],
    *,
    repo: str | os.PathLike[str] = ".",
    format: str = "auto",
    run_id: str | None = None,
    model_id: str | None = None,
    tool_name: str | None = None,
    link: bool = True,
    capture: str | Iterable[str] | None = None,
    privacy: PrivacyPolicy | None = None,
) -> ImportOutcome:
    """Import the log at ``source`` as a run of the repository at ``repo``.

    The events are written under the store's privacy policy (``config.toml``; content
    kinds ``capture`` kept, none by default; secrets redacted), or ``privacy``.

    Raises ``EventDecodeError`` (file, line, field) for a malformed log, ``FileExistsError``
    when the run exists (the log was imported before), ``ValueError`` for a bad run id.
    """
    store = TraceStore.open(repo)
    if privacy is None:
        privacy = load_privacy(store.directory, capture)
    limits = load_limits(store.directory)
    reader = AdapterReader(source, format=format, strict=True)
    events: list[Translated] = list(reader)
    adapter = reader.adapter
    fmt = reader.format or format
    session = adapter.session_id if adapter is not None else None
    if run_id is None:
        run_id = f"{fmt}-{session}" if session else None
    if run_id is not None:
        run_id = check_run_id("".join(c if c.isalnum() or c in "._-" else "_" for c in run_id))
    model = model_id
    if model is None and adapter is not None and adapter.model:
        try:
            model = normalize_model_id(adapter.model, adapter.provider)
        except ValueError:
            model = None
    names = {"claude": "claude-code", "codex": "codex", "vtcode": "vtcode"}
    run = store.new_run(run_id, tool_name=tool_name or names.get(fmt, fmt), model_id=model)
    outcome = ImportOutcome(run_id=run.run_id, format=fmt, model_id=model)
    status = RunStatus.COMPLETED
    policy = privacy
    with JsonlWriter(run.events_path, run_id=run.run_id, fsync="never", limits=limits) as writer:
        for t in events:
            writer.write_dict(policy.apply_dict(to_dict(t.event)), ts=t.ts)
            outcome.events += 1
            if isinstance(t.event, ThreadCompletedEvent) and t.event.subtype != "success":
                status = RunStatus.FAILED
    run.update(status=status)
    edits = list(
        _edits(store, events, run.run_id, model, tool_name or names.get(fmt, fmt), outcome)
    )
    outcome.edits = len(edits)
    if link and edits:
        outcome.linked = _link(store, edits, outcome)
    return outcome


def _edits(
    store: TraceStore,
    events: list[Translated],
    run_id: str,
    model: str | None,
    tool_name: str,
    outcome: ImportOutcome,
) -> Iterator[_Edit]:
    turn = 0
    last_ts = 0
    for t in events:
        if t.event.type == "turn.started":
            turn += 1
        if t.ts is not None:
            with contextlib.suppress(ValueError):
                last_ts = parse_timestamp(t.ts)
        for edit in getattr(t, "edits", ()):
            relative = _inside(store, edit.path)
            if relative is None:
                outcome.skipped.append(f"{edit.path}: outside the repository")
                continue
            label = Label(
                model_id=model,
                run_id=run_id,
                turn_id=f"turn-{turn}" if turn else None,
                item_id=edit.tool_use_id,
                tool_name=tool_name,
                evidence="imported-edit",
                confidence=1.0,
            )
            hunks = (
                tuple((h.old_start, h.lines) for h in edit.hunks)
                if edit.hunks is not None
                else None
            )
            yield _Edit(
                ts=last_ts,
                path=relative,
                label=label,
                before=edit.original.encode() if edit.original is not None else None,
                hunks=hunks,
                content=edit.content.encode() if edit.content is not None else None,
            )


def _inside(store: TraceStore, path: str) -> str | None:
    """``path`` relative to the work tree, or ``None`` when it is not a file in it."""
    try:
        return work_tree_file(store, path)
    except ValueError:
        return None


def _apply(edit: _Edit, before: list[bytes] | None) -> tuple[list[bytes], list[int | None]] | None:
    """The file's lines after ``edit`` and, for each, its line before (``None``: written);
    ``None`` when the edit cannot be applied to ``before``."""
    if edit.content is not None:
        after = split_lines(edit.content)
        return after, align(line_keys(before or []), line_keys(after))
    if before is None or edit.hunks is None:
        return None
    mapping = patch_mapping(len(before), edit.hunks)
    if mapping is None:
        return None
    added = iter(line[1:].encode() for h in edit.hunks for line in h[1] if line.startswith("+"))
    return [before[m] if m is not None else next(added, b"") for m in mapping], mapping


def _link(store: TraceStore, edits: list[_Edit], outcome: ImportOutcome) -> list[LinkResult]:
    paths = sorted({e.path for e in edits})
    start = min(e.ts for e in edits) // 1_000_000_000
    git = store.repository.git
    try:
        log = git.output(
            "log", "--reverse", "--format=%H %ct", f"--since={max(start - 60, 0)}", "HEAD", "--",
            *paths,
        )  # fmt: skip
    except GitError:
        return []
    commits = [(line.split()[0], int(line.split()[1])) for line in log.splitlines() if line]
    if not commits:
        return []
    tmp = Path(tempfile.mkdtemp(prefix="import-", dir=store.ensure_directory()))
    try:
        pending = PendingState(tmp)
        contents: dict[str, list[bytes]] = {}
        queue = sorted(edits, key=lambda e: e.ts)
        sources = LinkSources(store)
        linked: list[LinkResult] = []
        for commit, when in commits:
            while queue and queue[0].ts // 1_000_000_000 <= when:
                _replay(queue.pop(0), pending, contents, outcome)
            result = link_commit(
                store, commit, linked_by="import", sources=sources, pending=pending, write=False
            )
            if result.already_linked or result.ai_lines + result.mixed_lines == 0:
                continue
            if result.record is not None:
                store.append([result.record])
            linked.append(result)
        return linked
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _replay(
    edit: _Edit, pending: PendingState, contents: dict[str, list[bytes]], outcome: ImportOutcome
) -> None:
    before = split_lines(edit.before) if edit.before is not None else contents.get(edit.path)
    applied = _apply(edit, before)
    if applied is None:
        outcome.skipped.append(f"{edit.path}: edit {edit.label.item_id} does not apply")
        return
    after, mapping = applied
    old_labels = carry_labels(pending.load(edit.path), line_keys(before or []))
    labels = [old_labels[m] if m is not None else edit.label for m in mapping]
    pending.save(PendingFile(path=edit.path, keys=line_keys(after), labels=labels))
    contents[edit.path] = after
