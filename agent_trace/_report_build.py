"""Building reports: which files and commits to blame for a revision or a range, and
the per-commit changes of a range (see ``_report`` for what is counted)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence

from ._anchors import ContentIndex
from ._blame import BlameLine, blame_many
from ._commits import (
    FileDiff,
    LoggedCommit,
    blob_sizes,
    diff_commit,
    log_diffs,
    merge_added,
    text_files,
    under,
)
from ._files import over_limit, over_limit_reason
from ._git import BadRevision, Git
from ._lines import is_binary, split_lines
from ._lookup import Hit, RecordLookup
from ._report import Cell, CommitChange, CommitInfo, Progress, Report, Tally
from ._store import TraceStore

__all__ = ["build_report", "parse_range"]


def parse_range(git: Git, spec: str) -> tuple[str | None, str]:
    """``(left, tip)`` full SHAs for ``LEFT..TIP`` (either side may be omitted: HEAD),
    or ``(None, sha)`` for a single revision. Raises :class:`BadRevision`."""
    if "..." in spec:
        raise BadRevision(spec, "symmetric ranges (A...B) are not supported; use BASE..TIP")
    if ".." not in spec:
        return None, git.resolve_commit(spec)
    left, _, right = spec.partition("..")
    return git.resolve_commit(left or "HEAD"), git.resolve_commit(right or "HEAD")


class _Runs:
    """The run (or conversation) a labelled line belongs to, cached per range."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int, int], str | None] = {}

    def of(self, hit: Hit | None) -> str | None:
        if hit is None:
            return None
        key = (hit.record.id, hit.file, hit.conversation)
        if key not in self._cache:
            detail = hit.detail() or {}
            run = detail.get("run_id")
            self._cache[key] = run if isinstance(run, str) else hit.conversation_url
        return self._cache[key]


def _cells(lines: Iterable[BlameLine], path: str, runs: _Runs, into: dict[Cell, int]) -> None:
    for line in lines:
        run = runs.of(line.hit) if line.type in ("ai", "mixed") else None
        cell = (path, line.commit or "", line.type, line.model_id, run)
        into[cell] = into.get(cell, 0) + 1


def _info(sha: str, headers: dict[str, str]) -> CommitInfo:
    seconds = headers.get("author-time", "0")
    return CommitInfo(
        sha=sha,
        author=headers.get("author", ""),
        email=headers.get("author-mail", "").strip("<>"),
        time=int(seconds) if seconds.isdigit() else 0,
        subject=headers.get("summary", ""),
    )


def build_report(
    store: TraceStore,
    spec: str = "HEAD",
    *,
    paths: Sequence[str] = (),
    jobs: int | None = None,
    progress: Progress | None = None,
) -> Report:
    """The report for ``spec``: a revision (every line of its text files) or a range
    ``BASE..TIP`` (what the commits after the merge base of BASE and TIP changed).

    ``paths`` limits the report to files under these repository-relative paths; ``jobs``
    is the number of ``git blame`` processes run at once (default: one per core);
    ``progress(stage, done, total)`` is called as work advances. Raises
    :class:`BadRevision` for a spec that names no commit."""
    git = store.repository.git
    prefixes = tuple(p.strip("/") for p in paths if p.strip("/"))
    left, tip = parse_range(git, spec)
    index = functools.cache(lambda: ContentIndex(s.record for s in store.records()))
    if left is None:
        return _snapshot(store, spec, tip, prefixes, jobs, progress, index)
    return _range(store, spec, left, tip, prefixes, jobs, progress, index)


def _blame_progress(progress: Progress | None, stage: str, total: int) -> Callable[[int], None]:
    def report(done: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    return report


def _snapshot(
    store: TraceStore,
    spec: str,
    revision: str,
    prefixes: tuple[str, ...],
    jobs: int | None,
    progress: Progress | None,
    index: Callable[[], ContentIndex],
) -> Report:
    git = store.repository.git
    texts, skipped = text_files(git, revision, prefixes)
    meta: dict[str, dict[str, str]] = {}
    results = blame_many(
        store,
        revision,
        texts,
        jobs=jobs,
        progress=_blame_progress(progress, "blaming files", len(texts)),
        content_index=index,
        commit_info=meta,
    )
    cells: dict[Cell, int] = {}
    runs = _Runs()
    for result in results:
        _cells(result.lines, result.path, runs, cells)
    order = _history_order(git, revision, {cell[1] for cell in cells})
    return Report(
        order=order,
        kind="snapshot",
        revision=revision,
        spec=spec,
        paths=prefixes,
        commits={sha: _info(sha, headers) for sha, headers in meta.items()},
        skipped=tuple(sorted(skipped)),
        cells=cells,
    )


def _history_order(git: Git, revision: str, commits: set[str]) -> dict[str, int]:
    """Positions of ``commits`` (ancestors of ``revision``) in history, 0 the oldest: one
    ``rev-list --topo-order``, read only until the oldest of them."""
    wanted = set(commits)
    newest_first: list[str] = []
    for raw in git.iter_lines("rev-list", "--topo-order", revision, "--"):
        sha = raw.decode()
        if sha in wanted:
            newest_first.append(sha)
            wanted.discard(sha)
            if not wanted:
                break
    return {sha: i for i, sha in enumerate(reversed(newest_first))}


def _merge_base(git: Git, left: str, tip: str) -> str | None:
    proc = git.run("merge-base", left, tip, ok_codes=(0, 1))
    out = proc.stdout.decode().split()
    return out[0] if out else None


def _range(
    store: TraceStore,
    spec: str,
    left: str,
    tip: str,
    prefixes: tuple[str, ...],
    jobs: int | None,
    progress: Progress | None,
    index: Callable[[], ContentIndex],
) -> Report:
    git = store.repository.git
    base = _merge_base(git, left, tip)
    logged = log_diffs(git, [tip, f"^{left}"])
    in_range = {c.sha for c in logged}
    meta: dict[str, dict[str, str]] = {}
    # What the range leaves at TIP: the files that differ from the base, blamed at TIP.
    diffs = [
        d
        for d in diff_commit(git, tip, base)
        if not d.submodule and (under(d.new_path, prefixes) or under(d.old_path, prefixes))
    ]
    new_blobs = [d.new_blob for d in diffs if d.new_blob and under(d.new_path, prefixes)]
    old_blobs = [d.old_blob for d in diffs if d.old_blob and under(d.old_path, prefixes)]
    # Sizes first: files too large to attribute are skipped, never read.
    sizes = blob_sizes(git, sorted(set(new_blobs) | set(old_blobs)))
    blobs = git.read_blobs(sorted(b for b in sizes if not over_limit(sizes[b])))
    skipped: list[tuple[str, str]] = []
    tip_texts: list[tuple[str, bytes]] = []
    base_texts: list[tuple[str, bytes]] = []
    removed_ranges: dict[str, list[tuple[int, int]]] = {}
    for d in diffs:
        if over_limit(sizes.get(d.new_blob or "")) or over_limit(sizes.get(d.old_blob or "")):
            too_large = over_limit(sizes.get(d.new_blob or ""))
            reason = over_limit_reason() if too_large else f"{over_limit_reason()} at the base"
            skipped.append((d.new_path or d.old_path or "", reason))
            continue
        new = blobs.get(d.new_blob or "", b"")
        old = blobs.get(d.old_blob or "", b"")
        if d.binary or is_binary(new) or is_binary(old):
            skipped.append((d.new_path or d.old_path or "", "binary"))
            continue
        if d.new_path is not None and d.new_blob and under(d.new_path, prefixes):
            tip_texts.append((d.new_path, new))
        if (
            d.old_path is not None
            and d.old_blob
            and base is not None
            and under(d.old_path, prefixes)
        ):
            spans = [(s, s + n - 1) for s, n, _, _ in d.hunks if n > 0]
            if spans:
                base_texts.append((d.old_path, old))
                removed_ranges[d.old_path] = spans
    runs = _Runs()
    cells: dict[Cell, int] = {}
    for result in blame_many(
        store,
        tip,
        tip_texts,
        jobs=jobs,
        progress=_blame_progress(progress, "blaming files", len(tip_texts)),
        content_index=index,
        commit_info=meta,
    ):
        _cells((x for x in result.lines if x.commit in in_range), result.path, runs, cells)
    removed_cells: dict[Cell, int] = {}
    if base is not None and base_texts:
        for result in blame_many(
            store,
            base,
            base_texts,
            line_ranges=removed_ranges,
            jobs=jobs,
            progress=_blame_progress(progress, "blaming removed lines", len(base_texts)),
            content_index=index,
            commit_info=meta,
        ):
            _cells(result.lines, result.path, runs, removed_cells)
    commits = {sha: _info(sha, headers) for sha, headers in meta.items()}
    changes = _changes(store, logged, prefixes, index, progress)
    for change in changes:
        commits[change.info.sha] = change.info
    return Report(
        kind="range",
        revision=tip,
        spec=spec,
        base=base,
        paths=prefixes,
        commits=commits,
        changes=tuple(changes),
        skipped=tuple(sorted(set(skipped))),
        order={change.info.sha: i for i, change in enumerate(changes)},
        cells=cells,
        removed_cells=removed_cells,
    )


def _changes(
    store: TraceStore,
    logged: Sequence[LoggedCommit],
    prefixes: tuple[str, ...],
    index: Callable[[], ContentIndex],
    progress: Progress | None,
) -> list[CommitChange]:
    """Per commit of the range: the lines it added, labelled as blame labels them in
    that commit (its records, then content), and the number of lines it removed."""
    git = store.repository.git
    per_commit: list[tuple[LoggedCommit, list[FileDiff]]] = []
    merges = sum(1 for c in logged if len(c.parents) > 1)
    merged = 0
    for commit in logged:
        if len(commit.parents) > 1:
            files = merge_added([diff_commit(git, commit.sha, p) for p in commit.parents])
            merged += 1
            if progress is not None:
                progress("diffing merges", merged, merges)
        else:
            files = list(commit.files)
        kept = [
            d
            for d in files
            if not d.binary
            and not d.submodule
            and (under(d.new_path, prefixes) or under(d.old_path, prefixes))
        ]
        per_commit.append((commit, kept))
    lookup = RecordLookup(
        store,
        (c.sha for c, _ in per_commit),
        (d.new_path for _, files in per_commit for d in files if d.new_path),
    )
    labels: dict[tuple[str, str], dict[int, Hit | None]] = {}
    needs_content: set[str] = set()
    for commit, files in per_commit:
        linked = lookup.has_records(commit.sha)
        for d in files:
            if d.new_path is None or not under(d.new_path, prefixes):
                continue
            table = lookup.lines(commit.sha, d.new_path) if linked else {}
            found = {line: table.get(line) for line in d.added_lines()}
            labels[(commit.sha, d.new_path)] = found
            if d.new_blob and any(h is None or h.type == "unknown" for h in found.values()):
                needs_content.add(d.new_blob)
    sizes = blob_sizes(git, sorted(needs_content)) if needs_content else {}
    blobs = git.read_blobs(sorted(b for b in sizes if not over_limit(sizes[b])))
    out = []
    for commit, files in per_commit:
        added = Tally()
        removed = 0
        for d in files:
            if len(commit.parents) <= 1 and under(d.old_path, prefixes):
                removed += sum(old_count for _, old_count, _, _ in d.hunks)
            labelled = labels.get((commit.sha, d.new_path or ""))
            if not labelled:
                continue
            content = blobs.get(d.new_blob or "")
            matches = index().match(split_lines(content)) if content else []
            for line, hit in sorted(labelled.items()):
                if hit is None or hit.type == "unknown":
                    anchor = matches[line - 1] if line - 1 < len(matches) else None
                    if anchor is not None:
                        hit = Hit(anchor.record, anchor.file, anchor.conversation, anchor.range)
                added.add(hit.type if hit else "unknown", hit.model_id if hit else None)
        out.append(
            CommitChange(
                info=CommitInfo(
                    sha=commit.sha,
                    author=commit.author,
                    email=commit.email,
                    time=commit.time,
                    subject=commit.subject,
                ),
                added=added,
                removed=removed,
                merge=len(commit.parents) > 1,
                linked=lookup.has_records(commit.sha),
            )
        )
    return out
