"""Which record says who wrote line N of a file in commit C (the spec's lookup, §6.5),
and how sure it is. Shared by blame (every line of a file) and linking (the lines of a
rewritten commit's predecessors)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from ._records import Contributor, TraceRecord
from ._store import TraceStore
from ._stored import StoredRecord

__all__ = ["LINK_KIND", "Hit", "RecordLookup", "detail_of", "is_link_record", "provenance"]

LINK_KIND = "commit"
"""``metadata["dev.agent-trace"]["kind"]`` of the records linking writes."""


def is_link_record(record: TraceRecord) -> bool:
    return record.ours.get("kind") == LINK_KIND


def detail_of(record: TraceRecord, file: int, conversation: int) -> dict[str, Any] | None:
    """Our provenance entry for one conversation of a record, if it has one."""
    for detail in record.ours.get("conversations", ()):
        if (
            isinstance(detail, dict)
            and detail.get("file") == file
            and detail.get("conversation") == conversation
        ):
            return detail
    return None


def provenance(record: TraceRecord, fi: int, ci: int) -> tuple[float | None, str]:
    """Confidence and evidence of one conversation of a record."""
    detail = detail_of(record, fi, ci)
    if detail is not None and "evidence" in detail:
        evidence = detail["evidence"]
        confidence = detail.get("confidence")
        return (
            float(confidence) if isinstance(confidence, int | float) else None,
            evidence if isinstance(evidence, str) else ",".join(map(str, evidence)),
        )
    if is_link_record(record):
        return 1.0, "commit"
    return None, "record"


@attrs.frozen
class Hit:
    """The range of a record that covers a line."""

    record: TraceRecord
    file: int
    conversation: int
    range: int

    @property
    def contributor(self) -> Contributor | None:
        conv = self.record.files[self.file].conversations[self.conversation]
        return conv.contributor_of(conv.ranges[self.range])

    @property
    def type(self) -> str:
        contributor = self.contributor
        return str(contributor.type) if contributor is not None else "unknown"

    @property
    def model_id(self) -> str | None:
        contributor = self.contributor
        return contributor.model_id if contributor is not None else None

    @property
    def conversation_url(self) -> str | None:
        return self.record.files[self.file].conversations[self.conversation].url

    def provenance(self) -> tuple[float | None, str]:
        return provenance(self.record, self.file, self.conversation)

    def detail(self) -> dict[str, Any] | None:
        return detail_of(self.record, self.file, self.conversation)


class RecordLookup:
    """The records of a set of commits (from ``traces.jsonl`` through the index, and
    from the notes), and per (commit, path) a table line → covering range.

    Only records *about* a commit count for it: notes git copied to a rewritten commit
    (``StoredRecord.carried``) describe another commit's lines and are ignored here.
    """

    def __init__(
        self,
        store: TraceStore,
        commits: Iterable[str],
        paths: Iterable[str],
        *,
        records: Iterable[StoredRecord] | None = None,
    ) -> None:
        """``records``: every record of the store, already read (``store.records()``);
        by default the records of ``commits`` are read from the store."""
        commits = set(commits)
        found: dict[str, list[StoredRecord]] = {}
        if records is not None:
            for stored in records:
                revision = stored.record.revision
                if revision in commits and (stored.commit is None or stored.commit == revision):
                    found.setdefault(revision, []).append(stored)
        elif commits:
            for stored in store.file.for_commits(commits, set(paths), store.issues):
                revision = stored.record.revision
                if revision in commits:
                    found.setdefault(revision, []).append(stored)
            if store.notes is not None:
                for commit, stored_list in store.notes.for_commits(commits, store.issues).items():
                    for stored in stored_list:
                        if stored.record.revision == commit:
                            found.setdefault(commit, []).append(stored)
        self.records = found
        self._lines: dict[tuple[str, str], dict[int, Hit]] = {}
        self._labels: dict[int, dict[str, Any]] = {}

    def label(self, hit: Hit) -> dict[str, Any]:
        """``type``, ``model_id``, ``trace_id``, ``conversation_url``, ``confidence`` and
        ``evidence`` of the lines ``hit`` covers (computed once per range)."""
        found = self._labels.get(id(hit))
        if found is None:
            confidence, evidence = hit.provenance()
            found = {
                "type": hit.type,
                "model_id": hit.model_id,
                "trace_id": hit.record.id,
                "conversation_url": hit.conversation_url,
                "confidence": confidence,
                "evidence": evidence,
            }
            self._labels[id(hit)] = found
        return found

    def has_records(self, commit: str) -> bool:
        return commit in self.records

    def lines(self, commit: str, path: str) -> dict[int, Hit]:
        """``{line: hit}`` for ``path`` in ``commit``; when several records cover a line
        the newest wins."""
        key = (commit, path)
        table = self._lines.get(key)
        if table is not None:
            return table
        table = {}
        seen: set[str] = set()
        stored_list = sorted(
            self.records.get(commit, []), key=lambda s: (s.record.timestamp, s.record.id)
        )
        for stored in stored_list:
            record = stored.record
            if record.id in seen:
                continue
            seen.add(record.id)
            for fi, f in enumerate(record.files):
                if f.path != path:
                    continue
                for ci, conv in enumerate(f.conversations):
                    for ri, rng in enumerate(conv.ranges):
                        hit = Hit(record, fi, ci, ri)
                        for line in range(rng.start_line, rng.end_line + 1):
                            table[line] = hit
        self._lines[key] = table
        return table
