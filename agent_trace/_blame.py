"""``trace blame``: the spec's lookup (§6.5) for every line of a file.

1. ``git blame --incremental`` gives each line's commit and its line number and path *in
   that commit* (the revision Agent Trace ranges refer to).
2. The records of those commits come from ``traces.jsonl`` (through the index, one query
   per path) and from the notes (two git processes in all).
3. The range containing the original line number says who wrote it.
4. A line no record covers (its commit has none: a squash-merge made by a hosting
   service, a cherry-pick without our hooks) is looked for by content among all records
   (``_anchors``): found, it gets ``evidence="content"`` and a lower confidence; not
   found, it is ``unknown``. Nothing is guessed.

Lines not committed yet (blame of the work tree) are attributed from the pending state.
"""

from __future__ import annotations

import contextlib
import functools
import operator
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from . import _started
from ._blame_hunks import (
    DIFF_ALGORITHM,
    UNCOMMITTED,
    BlameCache,
    Hunk,
    compose,
    derive_hunks,
    parse_incremental,
    restrict,
)
from ._git import GitCommandError, GitNotFound, Started
from ._git import blob_id as blob_id_of
from ._hashing import split_lines

if TYPE_CHECKING:  # loaded when a blame is labelled, not when it comes from the cache
    from ._anchors import Anchor, ContentIndex
    from ._lookup import Hit, RecordLookup
    from ._store import TraceStore
    from ._stored import StoredRecord

_TYPES = ("human", "ai", "mixed", "unknown")
"""The contributor types (``ContributorType``), in its order."""

__all__ = [
    "EVIDENCE",
    "BlameLine",
    "BlameResult",
    "available_cores",
    "blame_file",
    "blame_many",
    "explain_line",
    "repo_relative",
]


@attrs.frozen(kw_only=True)
class BlameLine:
    """Who wrote one line, and why we say so."""

    line: int
    commit: str | None
    """The commit that last touched the line; ``None`` when it is not committed yet."""
    orig_line: int
    orig_path: str
    type: str
    model_id: str | None = None
    trace_id: str | None = None
    conversation_url: str | None = None
    confidence: float | None = None
    evidence: str
    text: bytes = b""
    hit: Hit | None = attrs.field(default=None, eq=False, repr=False)
    """The record range the label comes from (for ``--explain``)."""
    anchor: Anchor | None = attrs.field(default=None, eq=False, repr=False)
    """For ``evidence="content"``: where the line was found."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "commit": self.commit,
            "orig_line": self.orig_line,
            "orig_path": self.orig_path,
            "contributor": {"type": self.type, "model_id": self.model_id},
            "trace_id": self.trace_id,
            "conversation_url": self.conversation_url,
            "confidence": self.confidence,
            "evidence": self.evidence,
        }


EVIDENCE = {
    "edit-window": "the recorder saw the file before and after the agent's edit",
    "no-snapshot": "the agent reported the change; it was diffed against the last state known",
    "commit": "committed with agent-trace linking and not written inside an agent's edit",
    "edited": "a person edited an agent's line and kept most of its text",
    "content": "the commit has no record of the line; the same lines, in order, were found "
    "in another record",
    "record": "a record of the line's commit covers it",
    "no-record": "the line's commit has no record, and its content was not found elsewhere",
    "not-in-record": "the commit's records do not cover this line",
    "uncommitted": "not committed, and no agent edit of this file is pending",
    "pending:human": "not committed; the agent's last known state of the file did not have it",
    "reported-snapshot": "the agent reported changing the file; work-tree snapshots before "
    "and after (trace record)",
    "command-snapshot": "the file changed while a command or tool of the agent ran "
    "(work-tree snapshots)",
    "unreported-snapshot": "the file changed during the agent's run without being reported "
    "(work-tree snapshots)",
    "claude-hook": "Claude Code's hook gave the file before the edit and the exact patch",
    "imported-edit": "an imported log holds the exact edit that wrote the line",
    "cut-off-window": "the line appeared inside an agent's edit window that never ended (the "
    "agent's process was killed): it may or may not be the agent's",
    "open-window": "committed while the agent's edit window that wrote it was still open",
    "shallow": "the line's commit is where this shallow clone's history stops: its parents "
    "are not here, so whether the line is new there is not known",
}
"""What each ``evidence`` value means (``trace blame --explain``)."""


def explain_line(line: BlameLine) -> dict[str, Any]:
    """Why ``line`` got its label: its commit, the record and range that say so, the
    run / turns / items it came from, and the evidence (for ``--explain``)."""
    out: dict[str, Any] = line.to_dict()
    out["text"] = line.text.decode("utf-8", "replace")
    kind = line.evidence.removeprefix("pending:") if line.evidence.startswith("pending:") else ""
    out["evidence_means"] = EVIDENCE.get(line.evidence) or (
        f"not committed; {EVIDENCE.get(kind, kind)}" if kind else line.evidence
    )
    hit = line.hit
    if hit is not None:
        record = hit.record
        conv = record.files[hit.file].conversations[hit.conversation]
        rng = conv.ranges[hit.range]
        ours = record.ours
        source: dict[str, Any] = {
            "trace_id": record.id,
            "revision": record.revision,
            "timestamp": record.timestamp,
            "path": record.files[hit.file].path,
            "range": [rng.start_line, rng.end_line],
            "content_hash": rng.content_hash,
        }
        for key in ("linked_by", "rewrite", "rewritten_from"):
            if key in ours:
                source[key] = ours[key]
        detail = hit.detail() or {}
        for key in ("run_id", "turn_ids", "item_ids", "origins", "tool_name"):
            if key in detail:
                source[key] = detail[key]
        if record.tool is not None:
            source["tool"] = " ".join(x for x in (record.tool.name, record.tool.version) if x)
        out["record"] = source
    if line.anchor is not None:
        out["found_at"] = {
            "revision": line.anchor.record.revision,
            "path": line.anchor.path,
            "line": line.anchor.line,
            "matched_lines": line.anchor.run,
        }
    return out


@attrs.frozen
class BlameResult:
    path: str
    revision: str | None
    """The blamed commit, or ``None`` for the work tree."""
    lines: tuple[BlameLine, ...]

    @property
    def summary(self) -> dict[str, int]:
        """Lines per contributor type; the four counts add up to the number of lines."""
        counts = dict.fromkeys(_TYPES, 0)
        for line in self.lines:
            counts[line.type if line.type in counts else "unknown"] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "revision": self.revision,
            "lines": [line.to_dict() for line in self.lines],
            "summary": self.summary,
        }


def repo_relative(store: TraceStore, path: str | os.PathLike[str], cwd: Path | None = None) -> str:
    """``path`` (absolute, or relative to ``cwd``) as a '/'-separated path from the root
    of the work tree. Raises ``ValueError`` when it is outside the repository."""
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = (cwd or Path.cwd()) / candidate
    root = store.root.resolve()
    resolved = Path(os.path.normpath(candidate.absolute()))
    try:
        # Resolve symlinked parents (e.g. /tmp -> /private/tmp) but keep the file name.
        resolved = resolved.parent.resolve() / resolved.name
        return resolved.relative_to(root).as_posix()
    except ValueError:
        raise ValueError(f"{path} is outside the repository {store.root}") from None


def work_tree_file(store: TraceStore, path: str | os.PathLike[str]) -> str:
    """``path`` (absolute, or relative to the work tree's root) as a path of a file of the
    work tree. Raises ``ValueError`` for a path outside it, the root itself, or ``.git``."""
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = store.root / candidate
    try:
        relative = repo_relative(store, candidate)
    except ValueError:
        raise ValueError(f"{path}: outside the repository {store.root}; not recorded") from None
    if relative in ("", ".") or relative.startswith(".git/") or relative == ".git":
        raise ValueError(f"{path}: not a file of the work tree")
    check_not_nested(store, relative)
    return relative


def check_not_nested(store: TraceStore, relative: str) -> None:
    """Raise ``ValueError`` when ``relative`` is inside another repository's work tree
    (a submodule, a nested clone): its lines are that repository's to record."""
    parts = relative.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        directory = "/".join(parts[:depth])
        if os.path.lexists(store.root / directory / ".git"):
            raise ValueError(
                f"{relative}: inside {directory}, another git repository (a submodule?); "
                "record and blame it there"
            )


def blame_file(
    store: TraceStore,
    path: str,
    *,
    revision: str | None = None,
    line_range: tuple[int, int] | None = None,
    by_content: bool = True,
    content_index: Callable[[], ContentIndex] | None = None,
    cache: bool = True,
) -> BlameResult:
    """Blame ``path`` (repository-relative) at ``revision`` (a full SHA) or in the work
    tree (``None``), optionally only lines ``line_range`` (1-based, inclusive).

    Lines no record covers are looked for by content in every record (unless
    ``by_content=False``): found ones get ``evidence="content"`` and a lower confidence.
    ``content_index`` returns the index of all records when callers blame many files
    (built once for all of them); by default each call builds its own.

    Blames are cached per (commit, path) in ``.agent-trace/cache/blame/`` (with their
    labels, while the records stay the same); a commit whose parent's blame is cached
    is blamed from it and one diff, and a modified work tree from HEAD's blame and one
    diff (``_blame_hunks``). ``cache=False`` runs ``git blame`` and writes nothing."""
    state = _read_state(store, path, revision)
    lines = split_lines(state.content)
    if line_range is not None:
        if line_range[0] > len(lines):
            raise ValueError(f"{path} has no line {line_range[0]} (it has {len(lines)})")
        line_range = (line_range[0], min(line_range[1], len(lines)))
    blame_cache = (
        BlameCache(store.directory, store.ensure_directory) if cache and state.cacheable else None
    )
    whole = line_range is None and by_content and content_index is None
    preloaded: list[StoredRecord] | None = None
    matches: list[Anchor | None] | None = None

    def preload() -> None:
        """While ``git blame`` runs (on the other core): read every record and look for
        the file's lines among them, which the labelling then needs."""
        nonlocal preloaded, matches
        if whole:
            from . import _lines, _lookup, _pending  # noqa: F401 (loaded now, used after git)
            from ._anchors import ContentIndex

            preloaded = list(store.records())
            index = ContentIndex(s.record for s in preloaded)
            matches = index.match(lines) if len(index) else []

    # The records' generation is read before them: a record appended meanwhile makes the
    # labels cached below stale at once rather than fresh-looking.
    generation = _generation(store, state) if blame_cache is not None and whole else None
    entry: dict[str, Any] | None = None
    hunks: list[Hunk] | None = None
    if not state.cacheable:  # a path git cannot be asked about in a batch: plain git blame
        hunks = _uncached_blame(store, path, revision, line_range, len(lines))
    elif state.commit is None or state.blob is None:
        # Not in HEAD (a new file, or no commits yet): every line is uncommitted.
        hunks = [Hunk(UNCOMMITTED, 1, 1, len(lines), path)] if lines else []
    elif blame_cache is not None or line_range is None:
        hunks, entry = _commit_hunks(store, state.commit, path, blame_cache, line_range, preload)
        if hunks is not None and sum(h.count for h in hunks) != len(lines) and state.clean:
            # A cache entry that does not fit the file: blamed again, and replaced.
            hunks = _run_blame(store, path, state.commit, None, preload)
            entry = {"hunks": hunks}
            if blame_cache is not None:
                blame_cache.save(state.commit, path, hunks)
        if hunks is not None and not state.clean:
            hunks = _work_tree_hunks(store, state.commit, path, hunks, len(lines))
    if hunks is None:  # a part of a file nobody blamed whole yet: git blame -L
        hunks = _run_blame(store, path, revision, line_range, None)
    if line_range is not None:
        hunks = restrict(hunks, *line_range)
    if generation is not None and state.clean and entry and entry.get("generation") == generation:
        return BlameResult(path, revision, tuple(_from_labels(hunks, lines, entry)))
    from ._lines import line_keys
    from ._lookup import RecordLookup
    from ._pending import PendingState, carry_labels

    committed = [h for h in hunks if h.commit != UNCOMMITTED]
    lookup = RecordLookup(
        store,
        (h.commit for h in committed),
        (h.orig_path for h in committed),
        records=preloaded,
    )
    pending_labels = None
    has_pending = False
    if revision is None and any(h.commit == UNCOMMITTED for h in hunks):
        from ._windows import recover_windows

        pending = PendingState(store.directory / "pending")
        with contextlib.suppress(OSError):  # a read-only store: shown as it is
            recover_windows(pending, store.root)
        known = pending.load(path)
        has_pending = known is not None
        pending_labels = carry_labels(known, line_keys(lines))
    out: list[BlameLine] = []
    for hunk in sorted(hunks, key=lambda h: h.final_line):
        if hunk.commit == UNCOMMITTED:
            for k in range(hunk.count):
                final = hunk.final_line + k
                text = lines[final - 1] if final - 1 < len(lines) else b""
                out.append(_uncommitted(final, path, text, pending_labels, has_pending))
        else:
            out.extend(_committed(hunk, lines, lookup))
    if by_content and any(line.type == "unknown" for line in out):
        if matches is None:
            index = content_index() if content_index is not None else _all_records(store)
            matches = index.match(lines) if len(index) else []
        out = _by_content(matches, out)
    if generation is not None and blame_cache and state.commit and state.clean and entry:
        blame_cache.save(state.commit, path, entry["hunks"], _labels(out, generation))
    return BlameResult(path=path, revision=revision, lines=tuple(out))


@attrs.frozen
class _State:
    """What is blamed: the commit (``revision`` or HEAD), the file's blob in it and the
    content blamed (the work tree's file, or the blob)."""

    commit: str | None
    """``None``: the repository has no commits yet."""
    blob: str | None
    """The file's blob id in ``commit``; ``None`` when it is not in it."""
    content: bytes
    clean: bool
    """The content blamed is the blob (always for a revision)."""
    notes: str | None
    """The notes' tip: with ``traces.jsonl``, what the cached labels depend on."""
    cacheable: bool


def _read_state(store: TraceStore, path: str, revision: str | None) -> _State:
    """One ``git cat-file`` for the commit, the blob and the notes' tip (for a revision,
    one for their sizes and one for the blob). A file too large to attribute is refused
    (:class:`~agent_trace._files.TooLarge`) before it is read."""
    git = store.repository.git
    cacheable = "\n" not in path and "\r" not in path
    notes_ref = [store.notes.ref] if store.notes is not None and cacheable else []
    if revision is not None:
        if not cacheable:
            proc = git.run("cat-file", "-s", f"{revision}:{path}", ok_codes=(0, 128))
            if proc.returncode != 0:
                raise FileNotFoundError(f"{path}: no such file in commit {revision[:12]}")
            _refuse_too_large(path, int(proc.stdout))
            proc = git.run("cat-file", "blob", f"{revision}:{path}", ok_codes=(0, 128))
            if proc.returncode != 0:
                raise FileNotFoundError(f"{path}: no such file in commit {revision[:12]}")
            return _State(revision, "", proc.stdout, True, None, False)
        from ._commits import object_sizes

        sized, *tips = object_sizes(git, [f"{revision}:{path}", *notes_ref])
        if sized is None or sized[1] != "blob":
            raise FileNotFoundError(f"{path}: no such file in commit {revision[:12]}")
        _refuse_too_large(path, sized[2])
        content = git.read_blobs([sized[0]]).get(sized[0])
        if content is None:
            raise FileNotFoundError(f"{path}: no such file in commit {revision[:12]}")
        tip = tips[0][0] if tips and tips[0] is not None else None
        return _State(revision, sized[0], content, True, tip, True)
    try:
        content = _read_work_tree_file(store.root / path, path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file in the work tree") from None
    except IsADirectoryError:
        raise FileNotFoundError(f"{path}: a directory, not a file") from None
    if not cacheable:
        return _State(store.repository.read_head(), "", content, False, None, False)
    head, blob, *notes = git.batch(["HEAD", f"HEAD:{path}", *notes_ref], contents=False)
    commit = head[0] if head is not None and head[1] == "commit" else None
    blob_id = blob[0] if blob is not None and blob[1] == "blob" and commit else None
    tip = notes[0][0] if notes and notes[0] is not None else None
    clean = blob_id is not None and blob_id_of(content, len(blob_id)) == blob_id
    return _State(commit, blob_id, content, clean, tip, True)


def _refuse_too_large(path: str, size: int) -> None:
    """Raise :class:`~agent_trace._files.TooLarge` (a ``ValueError``) for a file over
    ``_files.MAX_ATTRIBUTED_BYTES``: it is not blamed."""
    from . import _files

    if _files.over_limit(size):
        raise _files.TooLarge(path, size)


def _read_work_tree_file(full: Path, path: str) -> bytes:
    """The contents of ``full``, refused before reading when it is too large."""
    with open(full, "rb") as f:
        _refuse_too_large(path, os.fstat(f.fileno()).st_size)
        content = f.read()
    _refuse_too_large(path, len(content))  # it grew meanwhile
    return content


def _generation(store: TraceStore, state: _State) -> str:
    try:
        st = store.traces_path.stat()
        traces = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
    except OSError:
        traces = "-"
    return f"{traces}|{state.notes or '-'}"


def _commit_hunks(
    store: TraceStore,
    commit: str,
    path: str,
    cache: BlameCache | None,
    line_range: tuple[int, int] | None,
    during: Callable[[], None],
) -> tuple[list[Hunk] | None, dict[str, Any] | None]:
    """The blame of the whole of ``path`` in ``commit`` and its cache entry: cached,
    derived from the parent's cached blame, or from ``git blame`` (``during`` runs
    while it does). ``(None, None)`` for a part of a file (``line_range``) that would
    need a whole new blame."""
    git = store.repository.git
    cached = cache.commits(path) if cache is not None else set()
    if cache is not None and commit in cached:
        entry = cache.load(commit, path)
        if entry is not None:
            return entry["hunks"], entry
    hunks: list[Hunk] | None = None
    if cache is not None and cached:
        show = git.run(
            "--literal-pathspecs", "show", *_DIFF_FLAGS, "--format=%P", commit, "--", path
        ).stdout
        first, _, patch = show.partition(b"\n")
        parents = first.decode().split()
        if len(parents) == 1 and parents[0] in cached:
            base = cache.load(parents[0], path)
            if base is not None:
                hunks = derive_hunks(base["hunks"], patch, commit, path)
    if hunks is None:
        if line_range is not None:
            return None, None
        hunks = _blame_commit(store, path, commit, during)
    entry = {"hunks": hunks}
    if cache is not None:
        cache.save(commit, path, hunks)
    return hunks, entry


_DIFF_FLAGS = (
    "--no-color",
    "--no-ext-diff",
    "-U0",
    "--inter-hunk-context=0",  # a configured diff.interHunkContext would merge hunks
    DIFF_ALGORITHM,
)
"""The diffs a blame is derived from: exactly the changed lines, as ``git blame`` sees them."""


def _work_tree_hunks(
    store: TraceStore, head: str, path: str, hunks: list[Hunk], count: int
) -> list[Hunk]:
    """The blame of a modified work-tree file from HEAD's blame and ``git diff``."""
    patch = store.repository.git.run(
        "--literal-pathspecs", "diff", *_DIFF_FLAGS, head, "--", path
    ).stdout
    derived = derive_hunks(hunks, patch, UNCOMMITTED, path)
    if derived is not None and sum(h.count for h in derived) == count:
        return derived
    return _run_blame(store, path, None, None, None)


def _uncached_blame(
    store: TraceStore,
    path: str,
    revision: str | None,
    line_range: tuple[int, int] | None,
    count: int,
) -> list[Hunk]:
    """``git blame`` as it is; for a work-tree file not in HEAD (or before the first
    commit) every line is uncommitted."""
    try:
        return _run_blame(store, path, revision, line_range, None)
    except GitCommandError as exc:
        if revision is not None or not (
            "no such path" in exc.stderr or "no such ref" in exc.stderr
        ):
            raise
        return [Hunk(UNCOMMITTED, 1, 1, count, path)] if count else []


SPLIT_MIN_COMMITS = _started.SPLIT_MIN_COMMITS
"""A whole-file blame of a commit is split in two when this many commits touched the
file (and the machine has two cores or more)."""


def _blame_commit(
    store: TraceStore, path: str, commit: str, during: Callable[[], None]
) -> list[Hunk]:
    """``git blame`` of the whole of ``path`` in ``commit``, on two cores when its
    history is long (``_started.start_blame``): the newer half of the commits that
    touched it (``git blame MIDDLE..COMMIT``) and the blame of the file in ``MIDDLE``
    run side by side, and the lines the first leaves at ``MIDDLE`` take their origin
    from the second. The answer is the one plain ``git blame`` gives (blame passes lines
    from each commit to its parents, one commit at a time); a history where the range
    stops anywhere but at ``MIDDLE`` (a branch that forked before it) is blamed plainly.

    ``trace blame`` may have started it already (``_started.start_early``)."""
    started = _started.claim(store.root, commit, path)
    if started is None:
        try:
            started = _started.start_blame(store.root, commit, path, SPLIT_MIN_COMMITS)
        except _started.GitNotFound:
            raise GitNotFound() from None
    top, bottom, middle = started.top, started.bottom, started.middle
    if started.plain is not None or top is None or bottom is None or middle is None:
        assert started.plain is not None
        return _finish_blame(started.plain, during)
    try:
        boundaries: set[str] = set()
        top_hunks = list(parse_incremental(_finish(top, during), boundaries=boundaries))
        try:
            bottom_hunks: list[Hunk] | None = list(parse_incremental(bottom.result()))
        except GitCommandError:  # the file is not in MIDDLE: fine if no line stops there
            bottom_hunks = None
    finally:
        started.close()
    composed = compose(top_hunks, middle, bottom_hunks, path) if boundaries <= {middle} else None
    return composed if composed is not None else _run_blame(store, path, commit, None, None)


def _start_blame(store: TraceStore, path: str, revision: str) -> Started:
    return store.repository.git.start(*_started.blame_args(revision, path))


def _finish(started: Started, during: Callable[[], None] | None) -> bytes:
    """The output of ``started``, running ``during`` first while it works."""
    try:
        if during is not None:
            during()
    except BaseException:
        started.close()
        raise
    return started.result()


def _finish_blame(started: Started, during: Callable[[], None] | None) -> list[Hunk]:
    return list(parse_incremental(_finish(started, during)))


def _run_blame(
    store: TraceStore,
    path: str,
    revision: str | None,
    line_range: tuple[int, int] | None,
    during: Callable[[], None] | None,
) -> list[Hunk]:
    """``git blame --incremental`` of ``path`` at ``revision`` (or of the work tree)."""
    args = ["blame", "--incremental", DIFF_ALGORITHM]
    if line_range is not None:
        args += ["-L", f"{line_range[0]},{line_range[1]}"]
    if revision is not None:
        args.append(revision)
    args += ["--", path]
    return _finish_blame(store.repository.git.start(*args), during)


_LABEL_FIELDS = ("type", "model_id", "trace_id", "conversation_url", "confidence", "evidence")


def _labels(out: Sequence[BlameLine], generation: str) -> dict[str, Any]:
    """The labels of a blame, for the cache: a table of distinct labels, one index a line."""
    table: dict[tuple[Any, ...], int] = {}
    fields = operator.attrgetter(*_LABEL_FIELDS)
    per_line = [table.setdefault(fields(line), len(table)) for line in out]
    return {"generation": generation, "labels": list(table), "line_labels": per_line}


def _from_labels(
    hunks: Sequence[Hunk], lines: Sequence[bytes], entry: dict[str, Any]
) -> Iterator[BlameLine]:
    table = [dict(zip(_LABEL_FIELDS, row, strict=True)) for row in entry["labels"]]
    per_line = entry["line_labels"]
    count = len(lines)
    for hunk in sorted(hunks, key=lambda h: h.final_line):
        for k in range(hunk.count):
            final = hunk.final_line + k
            yield BlameLine(
                line=final,
                commit=hunk.commit,
                orig_line=hunk.orig_line + k,
                orig_path=hunk.orig_path,
                text=lines[final - 1] if final <= count else b"",
                **table[per_line[final - 1]],
            )


def _committed(hunk: Hunk, lines: Sequence[bytes], lookup: RecordLookup) -> list[BlameLine]:
    """The lines of one blame hunk, labelled by the records of the hunk's commit."""
    commit, path = hunk.commit, hunk.orig_path
    has_records = lookup.has_records(commit)
    table = lookup.lines(commit, path) if has_records else {}
    unlabelled = {"type": "unknown", "evidence": "not-in-record" if has_records else "no-record"}
    label = lookup.label
    count = len(lines)
    delta = hunk.orig_line - hunk.final_line
    out: list[BlameLine] = []
    append = out.append
    for final in range(hunk.final_line, hunk.final_line + hunk.count):
        orig = final + delta
        hit = table.get(orig)
        append(
            BlameLine(
                line=final,
                commit=commit,
                orig_line=orig,
                orig_path=path,
                text=lines[final - 1] if final <= count else b"",
                hit=hit,
                **(unlabelled if hit is None else label(hit)),
            )
        )
    return out


def blame_many(
    store: TraceStore,
    revision: str,
    files: Sequence[tuple[str, bytes]],
    *,
    line_ranges: Mapping[str, Sequence[tuple[int, int]]] | None = None,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    content_index: Callable[[], ContentIndex] | None = None,
    commit_info: dict[str, dict[str, str]] | None = None,
) -> list[BlameResult]:
    """Blame many files of one commit (``revision``, a full SHA) the way
    :func:`blame_file` blames one: the same labels, line for line.

    ``files`` are ``(path, content)`` pairs (the content at ``revision``). The ``git
    blame`` processes run ``jobs`` at a time (default: one per core); the records of
    every commit involved are read once. ``line_ranges`` limits a file to some lines
    (1-based, inclusive; a file mapped to no range is skipped). ``progress`` is called
    with the number of files done after each one; ``commit_info`` receives each blamed
    commit's headers (``author``, ``author-mail``, ``author-time``, ``summary``)."""
    git = store.repository.git
    meta: dict[str, dict[str, str]] = commit_info if commit_info is not None else {}
    lock = threading.Lock()

    def run(item: tuple[str, bytes]) -> list[Hunk]:
        path = item[0]
        args = ["blame", "--incremental"]
        if line_ranges is not None:
            for start, end in line_ranges.get(path, ()):
                args += ["-L", f"{start},{end}"]
        args += [revision, "--", path]
        data = git.run(*args).stdout
        found: dict[str, dict[str, str]] = {}
        hunks = list(parse_incremental(data, found))
        with lock:
            for sha, headers in found.items():
                meta.setdefault(sha, {}).update(headers)
        return hunks

    todo = [f for f in files if line_ranges is None or line_ranges.get(f[0])]
    workers = max(1, jobs if jobs is not None else available_cores())
    all_hunks: list[list[Hunk]] = []
    import concurrent.futures  # only for many files (13 ms to import)

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for done, hunks in enumerate(pool.map(run, todo), 1):
            all_hunks.append(hunks)
            if progress is not None:
                progress(done)
    commits = {h.commit for hunks in all_hunks for h in hunks}
    paths = {h.orig_path for hunks in all_hunks for h in hunks}
    from ._lookup import RecordLookup

    lookup = RecordLookup(store, commits, paths)
    index = (
        content_index if content_index is not None else functools.cache(lambda: _all_records(store))
    )
    results = []
    for (path, content), hunks in zip(todo, all_hunks, strict=True):
        lines = split_lines(content)
        out: list[BlameLine] = []
        for hunk in sorted(hunks, key=lambda h: h.final_line):
            out.extend(_committed(hunk, lines, lookup))
        if any(line.type == "unknown" for line in out):
            found = index()
            out = _by_content(found.match(lines) if len(found) else [], out)
        results.append(BlameResult(path=path, revision=revision, lines=tuple(out)))
    return results


def available_cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _all_records(store: TraceStore) -> ContentIndex:
    from ._anchors import ContentIndex

    return ContentIndex(s.record for s in store.records())


def _by_content(matches: Sequence[Anchor | None], out: list[BlameLine]) -> list[BlameLine]:
    """Re-anchor lines no record covers by their content (``matches``: where each line
    of the file was found among the records, ``ContentIndex.match``)."""
    from ._anchors import ANCHOR_CONFIDENCE
    from ._lookup import Hit

    if not matches:
        return out
    result = []
    for line in out:
        anchor = matches[line.line - 1] if line.line - 1 < len(matches) else None
        if line.type != "unknown" or anchor is None:
            result.append(line)
            continue
        hit = Hit(anchor.record, anchor.file, anchor.conversation, anchor.range)
        source_confidence, _ = hit.provenance()
        confidence = min(ANCHOR_CONFIDENCE, source_confidence or ANCHOR_CONFIDENCE)
        result.append(
            attrs.evolve(
                line,
                type=hit.type,
                model_id=hit.model_id,
                trace_id=hit.record.id,
                conversation_url=hit.conversation_url,
                confidence=confidence,
                evidence="content",
                hit=hit,
                anchor=anchor,
            )
        )
    return result


def _uncommitted(
    line: int, path: str, text: bytes, labels: Sequence[Any] | None, has_pending: bool
) -> BlameLine:
    label = labels[line - 1] if labels is not None and line - 1 < len(labels) else None
    base = BlameLine(
        line=line,
        commit=None,
        orig_line=line,
        orig_path=path,
        type="unknown",
        evidence="uncommitted",
        text=text,
    )
    if label is not None:
        return attrs.evolve(
            base,
            type=label.type,
            model_id=label.model_id,
            conversation_url=label.conversation_url,
            confidence=label.confidence,
            evidence=f"pending:{label.evidence}",
        )
    if has_pending:
        # The agent's last known state of this file did not have this line, or had it
        # from a person: not an agent's line.
        return attrs.evolve(base, type="human", confidence=1.0, evidence="pending:human")
    return base
