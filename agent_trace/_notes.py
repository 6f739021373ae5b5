"""The git-notes backend: one note per commit under ``refs/notes/agent-trace`` holding the
records of that commit as JSON Lines, so attribution travels with ``git push``/``fetch``.

Notes are merged line-wise (``cat_sort_uniq``): one record per line makes a union of two
clones' notes a plain union of lines. ``notes.rewriteRef`` in the repository's own config
makes git copy the notes when commits are amended or rebased.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from ._files import locked
from ._git import IDENTITY_ENV, Repository, blob_id
from ._stored import StoredRecord, StoreIssue, decode_record

if TYPE_CHECKING:
    from ._records import TraceRecord

__all__ = ["NOTES_REF", "NotesBackend", "NotesSyncResult"]

NOTES_REF = "refs/notes/agent-trace"
"""The notes ref our records live under (never ``refs/notes/commits``)."""


class NotesSyncResult:
    """What ``trace notes fetch``/``push`` did."""

    def __init__(self, remote: str) -> None:
        self.remote = remote
        self.fetched = False
        self.merged = False
        self.created = False
        self.pushed = False
        self.warnings: list[str] = []


class NotesBackend:
    """Records in git notes of ``repository`` under ``ref``."""

    def __init__(self, repository: Repository, ref: str = NOTES_REF) -> None:
        if not ref.startswith("refs/notes/"):
            raise ValueError(f"notes ref must start with refs/notes/: {ref!r}")
        self.repository = repository
        self.ref = ref
        self.git = repository.git
        self._texts: dict[str, bytes] = {}
        """Note blobs read by :meth:`for_commits` and :meth:`_append_many`, by blob id (a
        blob never changes: a rebase's notes, read for the old commits and copied by git to
        the new ones, are read once)."""

    def _read_notes(self, blobs: Iterable[str]) -> dict[str, bytes]:
        """The texts of note blobs, read once per backend (one ``git cat-file --batch``
        for those not read yet)."""
        wanted = sorted(set(blobs))
        missing = [sha for sha in wanted if sha not in self._texts]
        if missing:
            self._texts.update(self.git.read_blobs(missing))
        return {sha: self._texts[sha] for sha in wanted if sha in self._texts}

    @property
    def _lock_path(self) -> str:
        return str(self.repository.common_dir / "agent-trace-notes.lock")

    # ------------------------------------------------------------------ config

    def ensure_rewrite_config(self) -> bool:
        """Add ``notes.rewriteRef = <ref>`` to the repository's config if missing, so git
        copies our notes on ``commit --amend`` and ``rebase``. Returns whether it was added."""
        if self.ref in self.git.config_get_all("notes.rewriteRef"):
            return False
        self.git.config_add("notes.rewriteRef", self.ref)
        return True

    # ------------------------------------------------------------------ write

    def append(self, records: Iterable[TraceRecord], *, skip_missing: bool = False) -> None:
        from ._records import VcsType

        """Add records to the notes of their commits (``vcs.revision``). A record already
        in the note (same ``id``) is not added twice.

        Raises ``ValueError`` for a record without a git revision or whose revision is not
        a commit of this repository (nothing is written then); with ``skip_missing`` such
        records are left out instead.
        """
        by_commit: dict[str, list[TraceRecord]] = defaultdict(list)
        for record in records:
            revision = record.revision
            if record.vcs is None or record.vcs.type != VcsType.GIT or revision is None:
                if skip_missing:
                    continue
                raise ValueError(f"record {record.id} has no git revision to attach a note to")
            by_commit[revision].append(record)
        if not by_commit:
            return
        missing = set(by_commit) - self.git.existing_commits(by_commit)
        if missing and skip_missing:
            for commit in missing:
                del by_commit[commit]
            if not by_commit:
                return
        elif missing:
            raise ValueError(
                f"not a commit in this repository: {', '.join(sorted(missing))} "
                "(a note can only be attached to an existing commit)"
            )
        self.ensure_rewrite_config()
        with locked(self._lock_path):
            if len(by_commit) > 1:
                self._append_many(by_commit)
                return
            from ._records import record_to_json

            for commit, new in by_commit.items():
                existing = self._note_text(commit)
                known = {r.id for r in self._decode(existing, commit, None)}
                lines = []
                for r in new:
                    if r.id not in known:
                        known.add(r.id)
                        lines.append(record_to_json(r, newline=True))
                if not lines:
                    continue
                body = existing.rstrip(b"\n") + b"\n" if existing.strip() else b""
                self.git.run_as_committer(
                    "notes",
                    f"--ref={self.ref}",
                    "add",
                    "-f",
                    "-F",
                    "-",
                    commit,
                    input=body + b"".join(lines),
                )

    def _append_many(self, by_commit: dict[str, list[TraceRecord]]) -> None:
        """Several commits' notes in one notes commit, written by one ``git fast-import``
        (``git notes add`` is two processes per commit). Caller holds the lock."""
        from ._records import record_to_json

        annotated = self.annotated_commits()
        blobs = self._read_notes(annotated[c] for c in by_commit if c in annotated)
        stream: list[bytes] = []
        for commit, new in by_commit.items():
            existing = blobs.get(annotated.get(commit, ""), b"")
            known = {r.id for r in self._decode(existing, commit, None)}
            lines = []
            for r in new:
                if r.id not in known:
                    known.add(r.id)
                    lines.append(record_to_json(r, newline=True))
            if not lines:
                continue
            body = (existing.rstrip(b"\n") + b"\n" if existing.strip() else b"") + b"".join(lines)
            stream.append(b"N inline %s\ndata %d\n%s\n" % (commit.encode(), len(body), body))
        if not stream:
            return
        ident = self.git.run("var", "GIT_COMMITTER_IDENT", ok_codes=(0, 128))
        env = None
        if ident.returncode != 0:
            env = IDENTITY_ENV
            ident = self.git.run("var", "GIT_COMMITTER_IDENT", env=env)
        tip = self.git.run("rev-parse", "--verify", "-q", self.ref, ok_codes=(0, 1))
        message = b"Notes added by agent-trace"
        head = b"commit %s\ncommitter %s\ndata %d\n%s\n" % (
            self.ref.encode(),
            ident.stdout.strip(),
            len(message),
            message,
        )
        if tip.returncode == 0:
            head += b"from %s\n" % tip.stdout.strip()
        self.git.run("fast-import", "--quiet", input=head + b"".join(stream) + b"done\n", env=env)

    # ------------------------------------------------------------------ read

    def _note_text(self, commit: str) -> bytes:
        proc = self.git.run("notes", f"--ref={self.ref}", "show", commit, ok_codes=(0, 1))
        return proc.stdout if proc.returncode == 0 else b""

    def _decode(
        self, text: bytes, commit: str, issues: list[StoreIssue] | None
    ) -> Iterator[TraceRecord]:
        for number, raw in enumerate(text.split(b"\n"), 1):
            line = raw.strip()
            if not line:
                continue  # git's "concatenate" rewrite mode separates notes with blank lines
            record = decode_record(line, f"{self.ref}:{commit[:12]}:{number}", issues)
            if record is not None:
                yield record

    def for_revision(
        self, revision: str, path: str | None = None, issues: list[StoreIssue] | None = None
    ) -> list[StoredRecord]:
        """The records in the note of commit ``revision`` (a full SHA), optionally only
        those touching ``path``."""
        text = self._note_text(revision)
        return [
            self._stored(record, revision)
            for record in self._decode(text, revision, issues)
            if path is None or path in record.paths
        ]

    def annotated_commits(self) -> dict[str, str]:
        """``{commit: note blob}`` for every commit with a note."""
        proc = self.git.run("notes", f"--ref={self.ref}", "list", ok_codes=(0, 1, 128))
        if proc.returncode != 0:
            return {}
        out: dict[str, str] = {}
        for line in proc.stdout.decode().splitlines():
            blob, _, commit = line.partition(" ")
            if commit:
                out[commit] = blob
        return out

    def records(
        self, issues: list[StoreIssue] | None = None, *, known: Iterable[bytes] = ()
    ) -> Iterator[StoredRecord]:
        """Every record in every note (two git processes in all). ``known``: texts that
        notes may hold, already read elsewhere; a note whose blob id is one of theirs is
        not read again."""
        commits = self.annotated_commits()
        wanted = set(commits.values())
        blobs: dict[str, bytes] = {}
        if wanted:
            width = len(next(iter(wanted)))
            for text in known:
                sha = blob_id(text, width)
                if sha in wanted:
                    blobs[sha] = text
        blobs.update(self.git.read_blobs(sorted(wanted - blobs.keys())))
        for commit, blob in sorted(commits.items()):
            for record in self._decode(blobs.get(blob, b""), commit, issues):
                yield self._stored(record, commit)

    def for_commits(
        self, commits: Iterable[str], issues: list[StoreIssue] | None = None
    ) -> dict[str, list[StoredRecord]]:
        """The records in the notes of ``commits`` (full SHAs), in two git processes."""
        annotated = self.annotated_commits()
        wanted = {c: annotated[c] for c in set(commits) if c in annotated}
        blobs = self._read_notes(wanted.values())
        return {
            commit: [
                self._stored(record, commit)
                for record in self._decode(blobs.get(blob, b""), commit, issues)
            ]
            for commit, blob in wanted.items()
        }

    def _stored(self, record: TraceRecord, commit: str) -> StoredRecord:
        return StoredRecord(
            record=record, backend="notes", location=f"{self.ref}:{commit}", commit=commit
        )

    # ------------------------------------------------------------------ sync

    def tracking_ref(self, remote: str) -> str:
        """Where the remote's notes are fetched to: ``refs/notes/remotes/<remote>/…``."""
        return f"refs/notes/remotes/{remote}/{self.ref.removeprefix('refs/notes/')}"

    def _check_remote(self, remote: str) -> None:
        if remote.startswith("-") or not remote:
            raise ValueError(f"not a remote name: {remote!r}")
        if not self.git.config_get_all(f"remote.{remote}.url"):
            raise ValueError(f"no remote named {remote!r} in this repository (see `git remote -v`)")

    def _clobbers(self, spec: str) -> bool:
        """Whether a fetch refspec writes the remote's notes straight onto our ref."""
        _, sep, dst = spec.lstrip("+").partition(":")
        if not sep:
            return False
        if dst.endswith("*"):
            return self.ref.startswith(dst[:-1])
        return dst == self.ref

    def fetch(self, remote: str = "origin") -> NotesSyncResult:
        """Fetch the remote's notes and merge them into ours (union of lines).

        Adds a fetch refspec for the notes to ``remote.<remote>.fetch`` in this
        repository's config, so a plain ``git fetch`` brings them from then on.
        """
        self._check_remote(remote)
        result = NotesSyncResult(remote)
        tracking = self.tracking_ref(remote)
        refspec = f"+{self.ref}:{tracking}"
        fetch_specs = self.git.config_get_all(f"remote.{remote}.fetch")
        if refspec not in fetch_specs:
            self.git.config_add(f"remote.{remote}.fetch", refspec)
        if any(self._clobbers(spec) for spec in fetch_specs):
            result.warnings.append(
                f"remote.{remote}.fetch maps the remote's notes straight onto local notes refs; "
                "a plain `git fetch` can overwrite local attribution notes. Remove that refspec "
                "and use `trace notes fetch`."
            )
        self.ensure_rewrite_config()
        proc = self.git.run("ls-remote", "--", remote, self.ref)
        if not proc.stdout.strip():
            return result  # the remote has no notes yet
        # --refmap= : only our refspec, not the remote's configured ones (a configured
        # `+refs/notes/*:refs/notes/*` would overwrite our notes before the merge).
        self.git.run("fetch", "--no-tags", "--refmap=", "--", remote, refspec)
        result.fetched = True
        with locked(self._lock_path):
            local = self.git.run("rev-parse", "--verify", "--quiet", self.ref, ok_codes=(0, 1))
            if local.returncode != 0:
                theirs = self.git.output("rev-parse", "--verify", tracking)
                self.git.run("update-ref", self.ref, theirs)
                result.created = True
            else:
                self.git.run_as_committer(
                    "notes",
                    f"--ref={self.ref}",
                    "merge",
                    "--quiet",
                    "-s",
                    "cat_sort_uniq",
                    tracking,
                )
                result.merged = True
        return result

    def push(self, remote: str = "origin") -> NotesSyncResult:
        """Merge the remote's notes first (so the push is a fast-forward), then push ours."""
        result = self.fetch(remote)
        local = self.git.run("rev-parse", "--verify", "--quiet", self.ref, ok_codes=(0, 1))
        if local.returncode != 0:
            result.warnings.append("no attribution notes to push yet")
            return result
        self.git.run("push", "--", remote, f"{self.ref}:{self.ref}")
        result.pushed = True
        return result
