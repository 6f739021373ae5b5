"""Linking: turn pending attribution into final Agent Trace records for a commit.

For each file a commit changed, the lines it added (in the committed blob's numbering)
are matched against the pending state of that file: lines an agent wrote and nobody
changed since are ``ai`` with the agent's model; every other added line is ``human``.
Lines carried from a parent are not re-recorded: blame finds them in older commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from ._commits import FileDiff, commit_parents, diff_commit, line_runs, merge_added
from ._hashing import content_hash
from ._lines import line_keys, split_lines
from ._pending import Label, PendingState, carry_labels
from ._records import (
    Contributor,
    ContributorType,
    Conversation,
    Range,
    Tool,
    TraceFile,
    TraceRecord,
    Vcs,
    VcsType,
    new_record,
)
from ._store import TraceStore

__all__ = ["LINK_KIND", "LinkResult", "is_link_record", "link_commit", "link_commits"]

LINK_KIND = "commit"
"""``metadata["dev.agent-trace"]["kind"]`` of the records linking writes."""


@attrs.frozen
class LinkResult:
    """What linking one commit did."""

    commit: str
    record: TraceRecord | None
    already_linked: bool = False
    ai_lines: int = 0
    human_lines: int = 0
    skipped: tuple[tuple[str, str], ...] = ()
    """``(path, reason)`` of files not attributed (binary files, submodules)."""


def is_link_record(record: TraceRecord) -> bool:
    return record.ours.get("kind") == LINK_KIND


def _tool() -> Tool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return Tool(name="agent-trace", version=version("agent-trace"))
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return Tool(name="agent-trace")


def _changes(store: TraceStore, commit: str) -> tuple[list[str], list[FileDiff]]:
    git = store.repository.git
    parents = commit_parents(git, commit)
    if len(parents) <= 1:
        return parents, diff_commit(git, commit, parents[0] if parents else None)
    return parents, merge_added([diff_commit(git, commit, p) for p in parents])


def link_commit(
    store: TraceStore,
    commit: str,
    *,
    linked_by: str = "manual",
    force: bool = False,
    write: bool = True,
) -> LinkResult:
    """Write the final record of ``commit`` (a full SHA) from the pending state.

    Idempotent: a commit that already has a link record is left alone unless ``force``.
    """
    if not force and any(is_link_record(s.record) for s in store.for_revision(commit)):
        return LinkResult(commit=commit, record=None, already_linked=True)
    parents, diffs = _changes(store, commit)
    pending = PendingState(store.directory / "pending")
    wanted = [
        d
        for d in diffs
        if d.new_path is not None and d.added and not d.binary and not d.submodule and d.new_blob
    ]
    skipped = tuple(
        (d.new_path or d.old_path or "?", "binary" if d.binary else "submodule")
        for d in diffs
        if (d.binary or d.submodule) and d.new_path is not None
    )
    blobs = store.repository.git.read_blobs([d.new_blob for d in wanted if d.new_blob])
    files: list[TraceFile] = []
    details: list[dict[str, Any]] = []
    ai_total = human_total = 0
    for d in wanted:
        assert d.new_path is not None
        assert d.new_blob is not None
        lines = split_lines(blobs.get(d.new_blob, b""))
        known = pending.load(d.new_path)
        if known is None and d.old_path is not None and d.old_path != d.new_path:
            known = pending.load(d.old_path)
        labels = carry_labels(known, line_keys(lines))
        groups: dict[tuple[Any, ...], tuple[Label | None, list[int]]] = {}
        for line in sorted(d.added_lines()):
            if line > len(lines):
                continue
            label = labels[line - 1]
            key = label.conversation_key if label is not None else ("human",)
            groups.setdefault(key, (label, []))[1].append(line)
        conversations: list[Conversation] = []
        for label, group in groups.values():
            ranges = [
                Range(start_line=s, end_line=e, content_hash=content_hash(lines[s - 1 : e]))
                for s, e in ((start, start + count - 1) for start, count in line_runs(group))
            ]
            if label is None:
                human_total += len(group)
                contributor = Contributor(type=ContributorType.HUMAN)
                conversations.append(Conversation(contributor=contributor, ranges=ranges))
                continue
            ai_total += len(group)
            contributor = Contributor(type=ContributorType.AI, model_id=label.model_id)
            conversations.append(
                Conversation(url=label.conversation_url, contributor=contributor, ranges=ranges)
            )
            details.append(_detail(len(files), len(conversations) - 1, label, group, labels))
        files.append(TraceFile(path=d.new_path, conversations=conversations))
    ours: dict[str, Any] = {"kind": LINK_KIND, "linked_by": linked_by, "parents": parents}
    if details:
        ours["conversations"] = details
    if skipped:
        ours["skipped"] = [{"path": p, "reason": r} for p, r in skipped]
    record = new_record(files, vcs=Vcs(type=VcsType.GIT, revision=commit), tool=_tool(), ours=ours)
    if write:
        store.append([record])
    return LinkResult(
        commit=commit,
        record=record,
        ai_lines=ai_total,
        human_lines=human_total,
        skipped=skipped,
    )


def _detail(
    file_index: int,
    conversation_index: int,
    label: Label,
    group: Sequence[int],
    labels: Sequence[Label | None],
) -> dict[str, Any]:
    """Per-conversation provenance for ``metadata["dev.agent-trace"]["conversations"]``."""
    items = sorted({lb.item_id for line in group if (lb := labels[line - 1]) and lb.item_id})
    turns = sorted({lb.turn_id for line in group if (lb := labels[line - 1]) and lb.turn_id})
    evidence = sorted({lb.evidence for line in group if (lb := labels[line - 1])})
    confidence = min(lb.confidence for line in group if (lb := labels[line - 1]))
    out: dict[str, Any] = {
        "file": file_index,
        "conversation": conversation_index,
        "evidence": evidence[0] if len(evidence) == 1 else evidence,
        "confidence": confidence,
    }
    for key, value in (
        ("run_id", label.run_id),
        ("tool_name", label.tool_name),
        ("tool_version", label.tool_version),
    ):
        if value is not None:
            out[key] = value
    if turns:
        out["turn_ids"] = turns
    if items:
        out["item_ids"] = items
    return out


def link_commits(
    store: TraceStore, commits: Iterable[str], *, linked_by: str = "manual", force: bool = False
) -> list[LinkResult]:
    """Link several commits, oldest first as given."""
    return [link_commit(store, c, linked_by=linked_by, force=force) for c in commits]
