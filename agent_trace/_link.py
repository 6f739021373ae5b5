"""Linking: turn pending attribution into final Agent Trace records for a commit.

For each file a commit changed, each line it added (in the committed blob's numbering)
gets, in this order of precedence:

1. the pending state's label: an agent wrote the line in an edit window and nobody
   changed it since (``ai``, or ``mixed`` when it kept most of a person's line);
2. for a rewritten commit (amend, rebase, squash: ``rewritten_from``), the label the
   same line had in the commit it was rewritten from, found by aligning the two versions
   of the file (line numbers re-mapped through the actual contents, not copied);
3. the label of the same content in another record (``_anchors``): code moved between
   files, cherry-picked or squash-merged; lower confidence, ``evidence="content"``;
4. ``human``, or ``mixed`` when the commit edited an agent's line and kept most of its
   text (its model id is kept). A line carried from a predecessor that had no record
   stays ``unknown``: nothing is invented.

Lines carried from a parent are not re-recorded: blame finds them in older commits.
Each range also gets anchors (line keys with context) so its lines can be found again
by content after history is rewritten without our hooks.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from . import _files
from ._anchors import ANCHOR_CONFIDENCE, ContentIndex, anchor_keys, range_anchors
from ._commits import (
    FileDiff,
    blob_sizes,
    commit_parents,
    diff_commit,
    diff_commits,
    line_runs,
    merge_added,
    parents_of,
)
from ._files import locked
from ._hashing import content_hash
from ._lines import align, line_keys, pair_edits, split_lines, unmatched_gaps
from ._lookup import LINK_KIND, Hit, RecordLookup, is_link_record
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
from ._started import parent_pairs
from ._store import TraceStore
from ._windows import OPEN_EVIDENCE, Window, WindowJournal, recover_windows

__all__ = [
    "LINK_KIND",
    "LinkResult",
    "LinkSources",
    "is_link_record",
    "link_commit",
    "link_commits",
]

MIXED_CONFIDENCE = 0.9
HUMAN_ANCHOR_LIMIT = 5000
"""Human ranges of a file get anchors up to this many lines (AI and mixed ranges always)."""

_HUMAN = Label(kind="human", evidence="commit")
_UNKNOWN = Label(kind="unknown", evidence="no-record", confidence=0.0)
_SHALLOW = Label(kind="unknown", evidence="shallow", confidence=0.0)
"""Lines of a shallow clone's boundary commit: its parents are not here, so lines that
look added may be old ones, of anyone."""


@attrs.frozen
class LinkResult:
    """What linking one commit did."""

    commit: str
    record: TraceRecord | None
    already_linked: bool = False
    ai_lines: int = 0
    human_lines: int = 0
    mixed_lines: int = 0
    unknown_lines: int = 0
    skipped: tuple[tuple[str, str], ...] = ()
    """``(path, reason)`` of files not attributed (binary files, submodules, files too
    large to attribute: ``over 64 MiB``)."""


@functools.cache
def _tool() -> Tool:
    from ._version import __version__

    return Tool(name="agent-trace", version=__version__)


_Changes = tuple[list[str], list[FileDiff], list[dict[str | None, FileDiff]]]


def _changes(sources: LinkSources, commit: str) -> _Changes:
    """The commit's parents, its changes (for a merge: lines differing from every
    parent) and, per parent, the diff against it by path."""
    parents = sources.parents(commit)
    per_parent = [sources.diff(commit, p) for p in parents] or [sources.diff(commit, None)]
    by_path = [{d.new_path: d for d in diffs} for diffs in per_parent]
    if len(parents) <= 1:
        return parents, per_parent[0], by_path
    return parents, merge_added(per_parent), by_path


def _label_of(hit: Hit, origin: str | None, *, evidence: str | None = None) -> Label:
    """A line's label as a record says it, to carry it to another commit."""
    kind = hit.type
    if kind not in ("ai", "mixed", "human"):
        return _UNKNOWN
    confidence, recorded = hit.provenance()
    detail = hit.detail() or {}

    def strings(key: str) -> tuple[str, ...]:
        value = detail.get(key)
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

    def string(key: str) -> str | None:
        value = detail.get(key)
        return value if isinstance(value, str) else None

    if evidence is not None:
        confidence = min(ANCHOR_CONFIDENCE, confidence if confidence is not None else 1.0)
    return Label(
        kind=None if kind == "ai" else kind,
        model_id=hit.model_id,
        conversation_url=hit.conversation_url,
        run_id=string("run_id"),
        tool_name=string("tool_name"),
        tool_version=string("tool_version"),
        turn_ids=strings("turn_ids"),
        item_ids=strings("item_ids"),
        evidence=evidence or recorded,
        confidence=confidence if confidence is not None else 1.0,
        origin=origin,
        timestamp="",
    )


class LinkSources:
    """What linking reads besides the commit itself, loaded when first needed and
    shared by the commits of one batch (a rebase links many): every record, for
    content anchoring, and the changes of the commits being rewritten. Blobs too large to
    attribute (``_files.MAX_ATTRIBUTED_BYTES``) are never read: their sizes come first."""

    def __init__(self, store: TraceStore, rewritten: Iterable[str] = ()) -> None:
        self.store = store
        self._index: ContentIndex | None = None
        self._old: dict[str, tuple[list[FileDiff], dict[str, bytes]]] = {}
        self._rewritten = set(rewritten)
        self._lookup: RecordLookup | None = None
        self._looked_up: set[str] = set()
        self._parents: dict[str, list[str]] = {}
        self._diffs: dict[tuple[str, str | None], list[FileDiff]] = {}
        self._blobs: dict[str, bytes] = {}
        self._sizes: dict[str, int] = {}
        self.recover_windows = True
        self._shallow: frozenset[str] | None = None
        """Whether the first link of the batch recovers cut-off edit windows first."""

    def is_shallow_boundary(self, commit: str) -> bool:
        """Whether ``commit`` is where a shallow clone's history stops (git hides its
        parents), from ``.git/shallow``."""
        if self._shallow is None:
            try:
                text = (self.store.repository.common_dir / "shallow").read_text("ascii")
            except (OSError, UnicodeDecodeError):
                text = ""
            self._shallow = frozenset(text.split())
        return commit in self._shallow

    def prefetch_changes(self, commits: Iterable[str]) -> None:
        """Read the diffs of many commits against their parents (one ``git diff-tree
        --stdin``) and the files they change (one ``git cat-file --batch``)."""
        git = self.store.repository.git
        wanted = list(dict.fromkeys(commits))
        self.prefetch_parents(wanted)
        pairs = parent_pairs(wanted, {c: self.parents(c) for c in wanted})
        self._diffs.update(diff_commits(git, [p for p in pairs if p not in self._diffs]))
        self.blobs(
            d.new_blob
            for pair in pairs
            for d in self._diffs.get(pair, ())
            if d.new_blob and d.added and not d.binary
        )

    def diff(self, commit: str, parent: str | None) -> list[FileDiff]:
        """``commit``'s changes against ``parent`` (``None``: a root commit)."""
        found = self._diffs.get((commit, parent))
        if found is None:
            git = self.store.repository.git
            found = self._diffs[(commit, parent)] = diff_commit(git, commit, parent)
        return found

    def blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """The contents of blobs, read once per batch; blobs too large to attribute are
        left out (not read)."""
        wanted = list(dict.fromkeys(shas))
        missing = [sha for sha in wanted if sha not in self._blobs]
        if missing:
            sizes = self.sizes(missing)
            small = [sha for sha in missing if not _files.over_limit(sizes.get(sha))]
            self._blobs.update(self.store.repository.git.read_blobs(small))
        return {sha: self._blobs[sha] for sha in wanted if sha in self._blobs}

    def sizes(self, shas: Iterable[str]) -> dict[str, int]:
        """The sizes of blobs (one ``git cat-file --batch-check`` for those not known)."""
        wanted = list(dict.fromkeys(shas))
        missing = [sha for sha in wanted if sha not in self._sizes]
        if missing:
            self._sizes.update(blob_sizes(self.store.repository.git, missing))
        return {sha: self._sizes[sha] for sha in wanted if sha in self._sizes}

    def forget_files(self) -> None:
        """Drop the file contents read so far (between chunks of a long rewrite)."""
        self._blobs.clear()

    def prefetch_parents(self, commits: Iterable[str]) -> None:
        """Read the parents of many commits in one git process."""
        wanted = [c for c in dict.fromkeys(commits) if c not in self._parents]
        self._parents.update(parents_of(self.store.repository.git, wanted))

    def parents(self, commit: str) -> list[str]:
        found = self._parents.get(commit)
        if found is None:
            found = self._parents[commit] = commit_parents(self.store.repository.git, commit)
        return found

    def lookup(self, commits: Iterable[str]) -> RecordLookup:
        """The records of ``commits`` — and of every commit the batch rewrites, read
        together (three git processes and one index query per path for a whole rebase)."""
        wanted = set(commits)
        if self._lookup is None or not wanted <= self._looked_up:
            every = wanted | self._rewritten
            paths = {d.new_path for c in every for d in self.old_commit(c)[0] if d.new_path}
            self._lookup = RecordLookup(self.store, every, paths)
            self._looked_up = every
        return self._lookup

    def content(self) -> ContentIndex:
        if self._index is None:
            self._index = ContentIndex(s.record for s in self.store.records())
        return self._index

    def old_commit(self, old: str) -> tuple[list[FileDiff], dict[str, bytes]]:
        cached = self._old.get(old)
        if cached is None:
            parents = self.parents(old)
            diffs = self.diff(old, parents[0] if parents else None)
            blobs = self.blobs(d.new_blob for d in diffs if d.new_blob and d.added)
            cached = self._old[old] = (diffs, blobs)
        return cached


class _Linker:
    """The sources of labels for one commit."""

    def __init__(self, sources: LinkSources, commit: str, rewritten_from: Sequence[str]) -> None:
        self.store = sources.store
        self.sources = sources
        self.commit = commit
        self.rewritten_from = [c for c in rewritten_from if c != commit]

    def carried(self, d: FileDiff, lines: Sequence[bytes], wanted: set[int]) -> dict[int, Label]:
        """Labels of ``wanted`` lines found in the commits this one was rewritten from
        (newest first), through an alignment of the file's versions."""
        out: dict[int, Label] = {}
        if not self.rewritten_from or not wanted:
            return out
        lookup = self.sources.lookup(self.rewritten_from)
        keys = line_keys(lines)
        names = {d.new_path, d.old_path} - {None}
        for old in reversed(self.rewritten_from):
            diffs, blobs = self.sources.old_commit(old)
            od = next((x for x in diffs if x.new_path in names and x.new_blob in blobs), None)
            if od is None or od.new_path is None or od.new_blob is None:
                continue
            old_added = od.added_lines()
            table = lookup.lines(old, od.new_path)
            has_records = lookup.has_records(old)
            old_lines = split_lines(blobs[od.new_blob])
            mapping = align(line_keys(old_lines), keys)
            for line in sorted(wanted - out.keys()):
                index = mapping[line - 1]
                if index is None or index + 1 not in old_added:
                    continue
                hit = table.get(index + 1) if has_records else None
                out[line] = _label_of(hit, old) if hit is not None else _UNKNOWN
            # Lines changed since the old commit: a person's edit of one of its AI lines
            # that kept most of it is mixed.
            for new_gap, old_gap in unmatched_gaps(mapping, len(old_lines)):
                edited = [n + 1 for n in new_gap if n + 1 in wanted and n + 1 not in out]
                agents = [
                    i + 1
                    for i in old_gap
                    if (h := table.get(i + 1)) is not None and h.type in ("ai", "mixed")
                ]
                if not edited or not agents:
                    continue
                pairs = pair_edits(
                    [old_lines[i - 1] for i in agents], [lines[n - 1] for n in edited]
                )
                for k, i in pairs.items():
                    h = table[agents[i]]
                    out[edited[k]] = _mixed_label(h.model_id, h.conversation_url, old, _run_of(h))
        return out

    def by_content(self, lines: Sequence[bytes], wanted: set[int]) -> dict[int, Label]:
        out: dict[int, Label] = {}
        if not wanted:
            return out
        index = self.sources.content()
        if not len(index):
            return out
        for line, anchor in enumerate(index.match(lines, exclude=self.commit), start=1):
            if anchor is None or line not in wanted:
                continue
            hit = Hit(anchor.record, anchor.file, anchor.conversation, anchor.range)
            label = _label_of(hit, anchor.record.revision, evidence="content")
            if label is not _UNKNOWN:
                out[line] = label
        return out

    def mixed(
        self, d: FileDiff, parent: str, lines: Sequence[bytes], wanted: set[int]
    ) -> dict[int, Label]:
        """Of ``wanted`` (lines a person wrote), those that edit an agent's line of
        ``parent`` and keep most of its text: ``mixed``, with the agent's model id."""
        from ._blame import blame_file
        from ._files import TooLarge

        hunks = [
            h for h in d.hunks
            if h[1] and any(h[2] + k in wanted for k in range(h[3]))
        ]  # fmt: skip
        if not hunks or d.old_path is None:
            return {}
        first = min(h[0] for h in hunks)
        last = max(h[0] + h[1] - 1 for h in hunks)
        try:
            blamed = blame_file(
                self.store,
                d.old_path,
                revision=parent,
                line_range=(first, last),
                content_index=self.sources.content,
            )
        except TooLarge:  # the parent's version is too large to attribute: no AI lines
            return {}
        old = {b.line: b for b in blamed.lines if b.type in ("ai", "mixed") and b.model_id}
        out: dict[int, Label] = {}
        for old_start, old_count, new_start, new_count in hunks:
            candidates = [old[n] for n in range(old_start, old_start + old_count) if n in old]
            edited = [
                line
                for line in range(new_start, new_start + new_count)
                if line in wanted and line <= len(lines)
            ]
            pairs = pair_edits([c.text for c in candidates], [lines[n - 1] for n in edited])
            for k, i in pairs.items():
                best = candidates[i]
                out[edited[k]] = _mixed_label(
                    best.model_id, best.conversation_url, best.commit, _run_of(best.hit)
                )
        return out


def _run_of(hit: Hit | None) -> str | None:
    """The run of the agent line a hit points to, if its record says."""
    run = (hit.detail() or {}).get("run_id") if hit is not None else None
    return run if isinstance(run, str) else None


def _mixed_label(
    model_id: str | None, url: str | None, origin: str | None, run_id: str | None = None
) -> Label:
    """A person's edit of an agent's line that kept most of it (in the agent's run)."""
    return Label(
        kind="mixed",
        model_id=model_id,
        run_id=run_id,
        conversation_url=url,
        evidence="edited",
        confidence=MIXED_CONFIDENCE,
        origin=origin,
        timestamp="",
    )


def link_commit(
    store: TraceStore,
    commit: str,
    *,
    linked_by: str = "manual",
    force: bool = False,
    write: bool = True,
    rewritten_from: Sequence[str] = (),
    rewrite: str | None = None,
    sources: LinkSources | None = None,
    pending: PendingState | None = None,
) -> LinkResult:
    """Write the final record of ``commit`` (a full SHA) from the pending state.

    ``rewritten_from``: the commits it replaces (oldest first), as git's post-rewrite
    hook reports them; their lines keep their labels. ``rewrite`` names the operation
    (``amend``, ``rebase``) for the record's metadata. ``sources`` shares what is read
    besides the commit between the commits of a batch. ``pending``: labels from elsewhere
    than the repository's pending state (an imported log).

    Idempotent: a commit that already has a link record is left alone unless ``force``;
    linkers in other processes and threads (the hook, ``trace link``, recorders) take
    turns, so a commit gets one record however many link it at once.
    """
    args = (commit, linked_by, force, write, rewritten_from, rewrite, sources, pending)
    if not force and _linked(store, commit):
        return LinkResult(commit=commit, record=None, already_linked=True)
    if not write:
        return _link_commit(store, *args)
    directory = store.directory if store.directory.is_dir() else store.ensure_directory()
    with locked(directory / "link.lock"):
        return _link_commit(store, *args)


def _linked(store: TraceStore, commit: str) -> bool:
    return any(is_link_record(s.record) for s in store.for_revision(commit))


def _link_commit(
    store: TraceStore,
    commit: str,
    linked_by: str,
    force: bool,
    write: bool,
    rewritten_from: Sequence[str],
    rewrite: str | None,
    sources: LinkSources | None,
    pending: PendingState | None,
) -> LinkResult:
    if not force and _linked(store, commit):  # linked while we waited for the lock
        return LinkResult(commit=commit, record=None, already_linked=True)
    sources = sources or LinkSources(store)
    parents, diffs, per_parent = _changes(sources, commit)
    windows: list[Window] = []
    if pending is None:
        pending = PendingState(store.directory / "pending")
        if sources.recover_windows:  # once per batch: windows cut off by a killed agent
            sources.recover_windows = False
            recover_windows(pending, store.root)
        windows = WindowJournal(pending).open_windows()
    linker = _Linker(sources, commit, rewritten_from)
    # Sizes first (one git process): a file too large to attribute is never read. Git's
    # diff shows such a file as binary (``_commits``); its sizes say which it is.
    sizes = sources.sizes(
        blob
        for d in diffs
        if d.new_path is not None and not d.submodule and (d.added or d.binary)
        for blob in (d.new_blob, d.old_blob if d.binary else None)
        if blob
    )
    skipped = tuple(
        (d.new_path, reason)
        for d in diffs
        if d.new_path is not None and (reason := _skip_reason(d, sizes)) is not None
    )
    wanted = [
        d
        for d in diffs
        if d.new_path is not None
        and d.added
        and not d.binary
        and not d.submodule
        and d.new_blob
        and not _files.over_limit(sizes.get(d.new_blob))
    ]
    blobs = sources.blobs(d.new_blob for d in wanted if d.new_blob)
    files: list[TraceFile] = []
    details: list[dict[str, Any]] = []
    counts = dict.fromkeys(("ai", "human", "mixed", "unknown"), 0)
    for d in wanted:
        assert d.new_path is not None
        assert d.new_blob is not None
        lines = split_lines(blobs.get(d.new_blob, b""))
        versus = [
            (p, by_path.get(d.new_path)) for p, by_path in zip(parents, per_parent, strict=False)
        ]
        fallback = _SHALLOW if sources.is_shallow_boundary(commit) else _HUMAN
        labels = _labels(linker, pending, d, lines, versus, fallback, windows)
        anchors: list[int] | None = None
        groups: dict[tuple[Any, ...], tuple[Label, list[int]]] = {}
        for line in sorted(labels):
            label = labels[line]
            groups.setdefault(label.conversation_key, (label, []))[1].append(line)
        conversations: list[Conversation] = []
        for label, group in groups.values():
            counts[label.type] += len(group)
            if label.type == "unknown":
                continue
            runs = [(start, start + count - 1) for start, count in line_runs(group)]
            ranges = [
                Range(start_line=s, end_line=e, content_hash=content_hash(lines[s - 1 : e]))
                for s, e in runs
            ]
            contributor = Contributor(
                type=ContributorType(label.type),
                model_id=label.model_id if label.type != "human" else None,
            )
            conversations.append(
                Conversation(
                    url=_url(label.conversation_url), contributor=contributor, ranges=ranges
                )
            )
            detail = _detail(len(files), len(conversations) - 1, label, group, labels)
            if label.type != "human" or len(group) <= HUMAN_ANCHOR_LIMIT:
                if anchors is None:
                    anchors = anchor_keys(lines)
                detail["anchors"] = [range_anchors(anchors, s, e) for s, e in runs]
            details.append(detail)
        if conversations:
            files.append(TraceFile(path=d.new_path, conversations=conversations))
    ours: dict[str, Any] = {"kind": LINK_KIND, "linked_by": linked_by, "parents": parents}
    if rewritten_from:
        ours["rewritten_from"] = list(rewritten_from)
        if rewrite:
            ours["rewrite"] = rewrite
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
        ai_lines=counts["ai"],
        human_lines=counts["human"],
        mixed_lines=counts["mixed"],
        unknown_lines=counts["unknown"],
        skipped=skipped,
    )


def _skip_reason(d: FileDiff, sizes: dict[str, int]) -> str | None:
    """Why the file of ``d`` is not attributed (``None``: it is): ``binary``,
    ``submodule``, or too large (``over 64 MiB``, in this commit or in the parent: git
    did not diff it)."""
    too_large = d.new_blob is not None and _files.over_limit(sizes.get(d.new_blob))
    if d.binary:
        if too_large:
            return _files.over_limit_reason()
        if d.old_blob and _files.over_limit(sizes.get(d.old_blob)):
            return f"{_files.over_limit_reason()} in the parent"
        return "binary"
    if d.submodule:
        return "submodule"
    return _files.over_limit_reason() if too_large and d.added else None


def _labels(
    linker: _Linker,
    pending: PendingState,
    d: FileDiff,
    lines: Sequence[bytes],
    parents: Sequence[tuple[str, FileDiff | None]],
    fallback: Label = _HUMAN,
    windows: Sequence[Window] = (),
) -> dict[int, Label]:
    """The label of every line ``d`` added (see the module docstring for the order);
    ``parents``: each parent with the file's diff against it; ``fallback``: the label of
    lines nothing else labels (``human``; ``unknown`` at a shallow clone's boundary);
    ``windows``: edit windows still open (a commit made while an agent writes: the lines
    new since a window opened are the window's, as its end would have said)."""
    assert d.new_path is not None
    added = {line for line in d.added_lines() if line <= len(lines)}
    known = pending.load(d.new_path)
    if known is None and d.old_path is not None and d.old_path != d.new_path:
        known = pending.load(d.old_path)
    out: dict[int, Label] = {}
    if known is not None:
        for line, label in enumerate(carry_labels(known, line_keys(lines)), start=1):
            if label is not None and line in added:
                out[line] = label
    if windows and added - out.keys():
        keys = line_keys(lines)
        for window in windows:
            label = attrs.evolve(window.label, evidence=OPEN_EVIDENCE, confidence=0.9)
            for index in window.new_lines(d.new_path, keys):
                if index + 1 in added and index + 1 not in out:
                    out[index + 1] = label
    out.update(linker.carried(d, lines, added - out.keys()))
    rest = added - {line for line, label in out.items() if label.type != "unknown"}
    out.update(linker.by_content(lines, rest))
    human = added - out.keys()
    for parent, diff in parents:  # for a merge: an edit of either side's AI line
        if human and diff is not None:
            out.update(linker.mixed(diff, parent, lines, human))
            human -= out.keys()
    for line in added - out.keys():
        out[line] = fallback
    return out


def _detail(
    file_index: int,
    conversation_index: int,
    label: Label,
    group: Sequence[int],
    labels: dict[int, Label],
) -> dict[str, Any]:
    """Per-conversation provenance for ``metadata["dev.agent-trace"]["conversations"]``."""
    members = [labels[line] for line in group]
    out: dict[str, Any] = {"file": file_index, "conversation": conversation_index}
    if label is _HUMAN:
        return out
    items = sorted({i for lb in members for i in (*lb.item_ids, lb.item_id) if i})
    turns = sorted({t for lb in members for t in (*lb.turn_ids, lb.turn_id) if t})
    evidence = sorted({lb.evidence for lb in members})
    origins = sorted({lb.origin for lb in members if lb.origin})
    out["evidence"] = evidence[0] if len(evidence) == 1 else evidence
    out["confidence"] = min(lb.confidence for lb in members)
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
    if origins:
        out["origins"] = origins
    return out


def link_commits(
    store: TraceStore, commits: Iterable[str], *, linked_by: str = "manual", force: bool = False
) -> list[LinkResult]:
    """Link several commits, oldest first as given."""
    sources = LinkSources(store)
    return [
        link_commit(store, c, linked_by=linked_by, force=force, sources=sources) for c in commits
    ]


def _url(url: str | None) -> str | None:
    """What of a conversation URL may go into a git note: no credentials, no secrets."""
    from .events._redact import safe_url

    return safe_url(url) if url else url
