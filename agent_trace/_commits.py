"""What a commit changed: files, renames, and the line ranges it added, from one
``git diff-tree`` per parent (raw and ``-U0`` patch in one stream)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from . import _files, _started
from ._git import Git
from ._lines import is_binary
from ._started import DIFF_OPTIONS as _DIFF_OPTIONS
from ._started import big_files as _big_files

__all__ = [
    "FileDiff",
    "LoggedCommit",
    "blob_sizes",
    "commit_parents",
    "diff_commit",
    "diff_commits",
    "line_runs",
    "log_diffs",
    "merge_added",
    "object_sizes",
    "parents_of",
    "text_files",
    "tree_files",
    "under",
]

_HUNK = re.compile(rb"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_SUBMODULE = "160000"


@attrs.frozen
class FileDiff:
    """One changed file. ``added`` are ``(start, count)`` ranges of new-side lines
    (1-based) the commit added or changed; ``status`` is git's letter (A, M, D, R, C, T)."""

    status: str
    old_path: str | None
    new_path: str | None
    old_blob: str | None
    new_blob: str | None
    binary: bool
    added: tuple[tuple[int, int], ...]
    submodule: bool = False
    hunks: tuple[tuple[int, int, int, int], ...] = ()
    """``(old_start, old_count, new_start, new_count)`` of each hunk of the ``-U0`` diff."""

    def added_lines(self) -> set[int]:
        return {start + k for start, count in self.added for k in range(count)}


def commit_parents(git: Git, commit: str) -> list[str]:
    """The parents of ``commit`` (a full SHA), first parent first."""
    out = git.output("rev-list", "--parents", "-n", "1", commit, "--")
    return out.split()[1:]


def parents_of(git: Git, commits: Sequence[str]) -> dict[str, list[str]]:
    """The parents of many commits (full SHAs) in one process (none for those the
    post-rewrite hook's early start read: ``_started.early_parents``)."""
    known = _started.early_parents(git.cwd)
    result: dict[str, list[str]] = {c: list(known[c]) for c in commits if c in known}
    commits = [c for c in commits if c not in result]
    if not commits:
        return result
    out = git.output("rev-list", "--no-walk=unsorted", "--parents", *commits, "--")
    for line in out.splitlines():
        sha, *parents = line.split()
        result[sha] = parents
    return result


def diff_commit(git: Git, commit: str, parent: str | None) -> list[FileDiff]:
    """The files ``commit`` changed against ``parent`` (``None``: a root commit, against
    the empty tree), with renames detected (``-M``)."""
    args = [*_big_files(), "diff-tree", "--no-commit-id", *_DIFF_OPTIONS]
    if parent is None:
        args += ["--root", commit]
    else:
        args += [parent, commit]
    return _parse_diff(git.run(*args, "--").stdout)


def diff_commits(
    git: Git, pairs: Sequence[tuple[str, str | None]]
) -> dict[tuple[str, str | None], list[FileDiff]]:
    """:func:`diff_commit` of many ``(commit, parent)`` pairs in one ``git diff-tree
    --stdin`` (a rebase's commits, old and new, in one stream instead of one process
    each)."""
    wanted = list(dict.fromkeys(pairs))
    if not wanted:
        return {}
    args, text = _started.diff_tree_stdin_args(), _started.diff_tree_input(wanted)
    early = _started.claim_output(git.cwd, args, text)  # the post-rewrite hook's
    out = early.result() if early is not None else git.run(*args, input=text).stdout
    result: dict[tuple[str, str | None], list[FileDiff]] = {}
    pos = 0
    for i, pair in enumerate(wanted):
        header = pair[0].encode() + b"\0"
        if not out.startswith(header, pos):
            raise ValueError(f"git diff-tree --stdin: no diff of {pair[0]} where expected")
        start = pos + len(header)
        end = len(out)
        if i + 1 < len(wanted):  # the next diff starts with its commit id, after a line end
            following = wanted[i + 1][0].encode() + b"\0"
            end = out.find(following, start)
            while end > start and out[end - 1] not in b"\n\0":
                end = out.find(following, end + 1)
            if end < 0:
                raise ValueError(f"git diff-tree --stdin: no diff of {wanted[i + 1][0]}")
        result[pair] = _parse_diff(out[start:end])
        pos = end
    return result


def object_sizes(git: Git, names: Sequence[str]) -> list[tuple[str, str, int] | None]:
    """``(id, type, size)`` of the objects ``names`` name (SHAs, ``rev:path``...), in
    order, with one ``git cat-file --batch-check`` (nothing read); ``None`` for a name
    that is missing. Names may not contain newlines."""
    if not names:
        return []
    text = "".join(f"{name}\n" for name in names).encode("utf-8", "surrogateescape")
    lines = git.run("cat-file", "--batch-check", input=text).stdout.split(b"\n")
    found: list[tuple[str, str, int] | None] = []
    for line in lines[: len(names)]:
        fields = line.split(b" ")
        if len(fields) == 3 and fields[2].isdigit():
            found.append((fields[0].decode(), fields[1].decode(), int(fields[2])))
        else:  # "<name> missing" / "ambiguous"
            found.append(None)
    return found


def blob_sizes(git: Git, shas: Sequence[str]) -> dict[str, int]:
    """The sizes of the blobs ``shas`` (those that exist), from :func:`object_sizes`."""
    wanted = list(dict.fromkeys(shas))
    return {
        sha: found[2]
        for sha, found in zip(wanted, object_sizes(git, wanted), strict=True)
        if found is not None and found[1] == "blob"
    }


def _parse_diff(data: bytes) -> list[FileDiff]:
    """The files of one ``--raw -z -p -U0`` diff."""
    entries, patch_start = _parse_raw(data)
    segments = _split_patch(data[patch_start:])
    out = []
    for i, entry in enumerate(entries):
        status, old_mode, new_mode, old_blob, new_blob, old_path, new_path = entry
        segment = segments[i] if i < len(segments) else b""
        binary = b"\nBinary files " in b"\n" + segment or b"\nGIT binary patch" in segment
        added: list[tuple[int, int]] = []
        hunks: list[tuple[int, int, int, int]] = []
        for m in _HUNK.finditer(segment):
            old_start = int(m.group(1))
            old_count = int(m.group(2)) if m.group(2) is not None else 1
            start = int(m.group(3))
            count = int(m.group(4)) if m.group(4) is not None else 1
            hunks.append((old_start, old_count, start, count))
            if count:
                added.append((start, count))
        out.append(
            FileDiff(
                status=status,
                old_path=old_path,
                new_path=new_path,
                old_blob=old_blob,
                new_blob=new_blob,
                binary=binary,
                added=tuple(added),
                submodule=_SUBMODULE in (old_mode, new_mode),
                hunks=tuple(hunks),
            )
        )
    return out


_Raw = tuple[str, str, str, str | None, str | None, str | None, str | None]


def _parse_raw(data: bytes) -> tuple[list[_Raw], int]:
    """The ``--raw -z`` entries at the start of ``data`` and where the patch begins."""
    entries: list[_Raw] = []
    pos = 0
    zero = "0" * 40
    while pos < len(data) and data[pos : pos + 1] == b":":
        end = data.index(b"\0", pos)
        old_mode, new_mode, old_blob, new_blob, status = data[pos + 1 : end].decode().split(" ")
        pos = end + 1
        paths: list[str] = []
        for _ in range(2 if status[0] in "RC" else 1):
            end = data.index(b"\0", pos)
            paths.append(data[pos:end].decode("utf-8", "surrogateescape"))
            pos = end + 1
        letter = status[0]
        old_path = paths[0] if letter != "A" else None
        new_path = paths[-1] if letter != "D" else None
        entries.append(
            (
                letter,
                old_mode,
                new_mode,
                None if old_blob.strip("0") == "" or old_blob == zero else old_blob,
                None if new_blob.strip("0") == "" else new_blob,
                old_path,
                new_path,
            )
        )
    while pos < len(data) and data[pos : pos + 1] == b"\0":
        pos += 1
    return entries, pos


def _split_patch(patch: bytes) -> list[bytes]:
    """The per-file segments of a patch, in order (each starts at ``diff --git``)."""
    if not patch:
        return []
    parts = re.split(rb"(?m)^(?=diff --git )", patch)
    return [p for p in parts if p.startswith(b"diff --git ")]


def merge_added(diffs_per_parent: Sequence[list[FileDiff]]) -> list[FileDiff]:
    """For a merge: the lines that differ from every parent (what the merge itself
    resolved or wrote), per file of the first parent's diff."""
    first = diffs_per_parent[0]
    others = [{d.new_path: d for d in diffs} for diffs in diffs_per_parent[1:]]
    out = []
    for d in first:
        lines = d.added_lines()
        for other in others:
            od = other.get(d.new_path)
            lines &= od.added_lines() if od is not None else set()
        out.append(attrs.evolve(d, added=line_runs(sorted(lines))))
    return out


def line_runs(lines: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """Sorted 1-based line numbers as ``(start, count)`` runs of consecutive lines."""
    out: list[tuple[int, int]] = []
    for line in lines:
        if out and out[-1][0] + out[-1][1] == line:
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((line, 1))
    return tuple(out)


def under(path: str | None, prefixes: Sequence[str]) -> bool:
    """``path`` is one of ``prefixes`` or inside one (no prefixes: every path)."""
    if path is None:
        return False
    return not prefixes or any(path == p or path.startswith(p + "/") for p in prefixes)


def text_files(
    git: Git, revision: str, prefixes: Sequence[str] = ()
) -> tuple[list[tuple[str, bytes]], list[tuple[str, str]]]:
    """``(path, content)`` of the text files of ``revision`` under ``prefixes`` (one
    ``ls-tree``, one ``cat-file --batch-check`` and one ``cat-file --batch``), and
    ``(path, reason)`` of those skipped (binary, too large to attribute: never read, not
    a regular file)."""
    files, others = tree_files(git, revision)
    files = [f for f in files if under(f[0], prefixes)]
    skipped = [(p, "not a regular file") for p in others if under(p, prefixes)]
    sizes = blob_sizes(git, [blob for _, blob in files])
    too_large = {p for p, b in files if _files.over_limit(sizes.get(b))}
    skipped += [(p, _files.over_limit_reason()) for p, _ in files if p in too_large]
    files = [(p, b) for p, b in files if p not in too_large]
    blobs = git.read_blobs([blob for _, blob in files])
    texts = []
    for path, blob in files:
        data = blobs.get(blob, b"")
        if is_binary(data):
            skipped.append((path, "binary"))
        else:
            texts.append((path, data))
    return texts, skipped


def tree_files(git: Git, revision: str) -> tuple[list[tuple[str, str]], list[str]]:
    """``(path, blob)`` of the regular files of ``revision``, and the paths skipped
    (symbolic links, submodules)."""
    out = git.run("ls-tree", "-r", "-z", "--full-tree", revision, "--").stdout
    files, skipped = [], []
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        mode, kind, blob = meta.decode().split()
        path = name.decode("utf-8", "surrogateescape")
        if kind == "blob" and mode in ("100644", "100755"):
            files.append((path, blob))
        else:
            skipped.append(path)
    return files, skipped


@attrs.frozen
class LoggedCommit:
    """One commit of :func:`log_diffs`: its header and what it changed against its first
    parent (merges: no files; see :func:`merge_added`)."""

    sha: str
    parents: tuple[str, ...]
    author: str
    email: str
    time: int
    subject: str
    files: tuple[FileDiff, ...]


_FORMAT = "%x01%H%x02%P%x02%an%x02%ae%x02%at%x02%s"
_COMMIT_START = re.compile(rb"(?:^|(?<=[\n\0]))\x01")


def log_diffs(git: Git, revisions: Sequence[str]) -> list[LoggedCommit]:
    """The commits ``git rev-list REVISIONS`` lists (oldest first, parents before
    children) with their diffs, from one ``git log`` process."""
    data = git.run(
        *_big_files(),
        "log",
        "--reverse",
        "--topo-order",
        f"--format={_FORMAT}",
        *_DIFF_OPTIONS,
        *revisions,
        "--",
    ).stdout
    out = []
    for chunk in _COMMIT_START.split(data):
        if not chunk:
            continue
        header, _, rest = chunk.partition(b"\0")
        sha, parents, author, email, time, subject = (
            header.decode("utf-8", "replace").split("\x02", 5) + [""] * 6
        )[:6]
        files = _parse_diff(rest.lstrip(b"\n")) if rest.strip(b"\n\0") else []
        out.append(
            LoggedCommit(
                sha=sha,
                parents=tuple(parents.split()),
                author=author,
                email=email,
                time=int(time) if time.isdigit() else 0,
                subject=subject,
                files=tuple(files),
            )
        )
    return out
