"""After git rewrites history (``commit --amend``, ``rebase``): give each new commit a
record recomputed from the commits it replaces.

Git's ``post-rewrite`` hook receives ``<old-sha> <new-sha> [<extra>]`` lines. Several
old commits map to one new commit when commits are squashed or fixed up; a dropped
commit maps to nothing. For each new commit, its lines are aligned with the old
commits' versions of its files (``link_commit(..., rewritten_from=...)``), so line
numbers follow the actual content; the old→new mapping is kept in the record's metadata
(``rewritten_from``, ``rewrite``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Set
from pathlib import Path

from ._hooks import DEFERRED, REWRITES
from ._link import LinkResult, LinkSources, link_commit
from ._started import _SHA, REWRITE_CHUNK, parse_rewrite_input, rewritten_from
from ._store import TraceStore

__all__ = [
    "link_deferred",
    "parse_rewrite_input",
    "relink_rewritten",
    "relink_saved",
    "save_rewrites",
]


def relink_rewritten(
    store: TraceStore, pairs: Iterable[tuple[str, str]], *, rewrite: str | None = None
) -> list[LinkResult]:
    """Write a recomputed record for every new commit of ``pairs``, in the order git
    made them (parents first). Old commits git no longer has are ignored."""
    olds_of = rewritten_from(pairs)
    everything = {*olds_of, *(old for olds in olds_of.values() for old in olds)}
    present = store.repository.git.existing_commits(everything)
    sources = LinkSources(
        store, rewritten=(o for olds in olds_of.values() for o in olds if o in present)
    )
    sources.prefetch_parents(c for c in everything if c in present)
    results = []
    if rewrite == "rebase":
        results += link_deferred(store, skip=olds_of.keys(), sources=sources)
    todo = [(new, [o for o in olds if o in present]) for new, olds in olds_of.items()]
    todo = [(new, olds) for new, olds in todo if new in present]
    recomputed = []
    for start in range(0, len(todo), REWRITE_CHUNK):
        chunk = todo[start : start + REWRITE_CHUNK]
        # Each chunk's diffs in one git process and its files in another.
        sources.prefetch_changes([c for new, olds in chunk for c in (new, *olds)])
        recomputed += [
            link_commit(
                store,
                new,
                linked_by="post-rewrite",
                force=True,
                write=False,
                rewritten_from=olds,
                rewrite=rewrite,
                sources=sources,
            )
            for new, olds in chunk
        ]
        sources.forget_files()
    # One write for all: one append to traces.jsonl, one notes commit.
    store.append([r.record for r in recomputed if r.record is not None])
    return results + recomputed


@contextlib.contextmanager
def _claimed(path: Path) -> Iterator[str | None]:
    """The text of the work file ``path`` (``None``: there is none), claimed by renaming
    it, so one process does the work. When the work fails or is stopped (the hook's time
    bound), the text goes back to the file for the next hook or ``trace link``."""
    claimed = path.with_name(f"{path.name}.{os.getpid()}")
    try:
        os.replace(path, claimed)
    except FileNotFoundError:
        yield None
        return
    try:
        text = claimed.read_text(encoding="ascii", errors="replace")
    except OSError:
        text = ""
    try:
        yield text
    except BaseException:
        with contextlib.suppress(OSError), path.open("a", encoding="ascii") as f:
            f.write(text if text.endswith("\n") or not text else text + "\n")
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            claimed.unlink()


def save_rewrites(store: TraceStore, pairs: Iterable[tuple[str, str]], rewrite: str | None) -> None:
    """Keep git's ``(old, new)`` pairs in the git dir until their commits are relinked
    (:func:`relink_saved`): a hook stopped by its time bound loses nothing."""
    kind = rewrite if rewrite in ("amend", "rebase") else "-"
    lines = "".join(f"{old} {new} {kind}\n" for old, new in pairs)
    if lines:
        with (store.repository.git_dir / REWRITES).open("a", encoding="ascii") as f:
            f.write(lines)


def relink_saved(store: TraceStore) -> list[LinkResult]:
    """Relink the rewritten commits :func:`save_rewrites` kept (in the order saved, one
    batch per kind of rewrite); they stay saved if this is stopped."""
    with _claimed(store.repository.git_dir / REWRITES) as text:
        if not text:
            return []
        batches: list[tuple[str | None, list[tuple[str, str]]]] = []
        for line in text.splitlines():
            fields = line.split()
            if len(fields) != 3 or not all(_SHA.fullmatch(f) for f in fields[:2]):
                continue
            kind = None if fields[2] == "-" else fields[2]
            if not batches or batches[-1][0] != kind:
                batches.append((kind, []))
            batches[-1][1].append((fields[0], fields[1]))
        results: list[LinkResult] = []
        for kind, pairs in batches:
            results += relink_rewritten(store, pairs, rewrite=kind)
        return results


def link_deferred(
    store: TraceStore, *, skip: Set[str] = frozenset(), sources: LinkSources | None = None
) -> list[LinkResult]:
    """Link the commits the post-commit hook set aside during a rebase (its file in the
    git dir), except ``skip`` (recomputed from their predecessors instead) and commits
    HEAD does not contain (an aborted rebase's). The file is removed once they are."""
    with _claimed(store.repository.git_dir / DEFERRED) as text:
        if not text:
            return []
        wanted = [c for c in dict.fromkeys(text.split()) if _SHA.fullmatch(c) and c not in skip]
        git = store.repository.git
        results = []
        sources = sources or LinkSources(store)
        for commit in wanted:
            ancestor = git.run("merge-base", "--is-ancestor", commit, "HEAD", ok_codes=(0, 1, 128))
            if ancestor.returncode == 0:
                results.append(link_commit(store, commit, linked_by="hook", sources=sources))
        return results
