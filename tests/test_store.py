"""TraceStore on real repositories: .agent-trace/, info/exclude, both backends, the index,
crashes, concurrency, runs, the file primitives and repository discovery."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import orjson
import pytest
from gitrepo import GitRepo

import agent_trace._index as index_module
import agent_trace._store as store_module
from agent_trace import (
    BadRevision,
    Contributor,
    ContributorType,
    Conversation,
    FileBackend,
    GitNotFound,
    NotAGitRepository,
    Range,
    StoredRecord,
    StoreIssue,
    Tool,
    TraceFile,
    TraceRecord,
    TraceStore,
    Vcs,
    new_record,
    record_from_json,
    record_to_json,
)
from agent_trace._files import LockTimeout, append_lines, atomic_write, locked
from agent_trace._git import find_repository
from agent_trace._stored import decode_record
from agent_trace.events._jsonl import CUT_SHORT
from agent_trace.events._wire import loads as wire_loads

REPO = Path(__file__).resolve().parents[1]
UUID7 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")
EXCLUDE_LINE = "/.agent-trace/"
NOT_A_COMMIT = "f" * 40


def make_record(
    path: str = "src/app.py",
    revision: str | None = None,
    *,
    vcs_type: str = "git",
    ours: dict[str, Any] | None = None,
    timestamp: str | None = None,
) -> TraceRecord:
    conversation = Conversation(
        url="https://example.com/conversations/1",
        contributor=Contributor(type=ContributorType.AI, model_id="anthropic/claude-sonnet-4-5"),
        ranges=[Range(start_line=1, end_line=3)],
    )
    return new_record(
        [TraceFile(path=path, conversations=[conversation])],
        vcs=None if revision is None else Vcs(type=vcs_type, revision=revision),
        tool=Tool(name="test-agent", version="1.0.0"),
        ours=ours,
        timestamp=timestamp,
    )


def ids(found: Iterable[StoredRecord]) -> list[str]:
    return [s.record.id for s in found]


def two_commits(repo: GitRepo) -> tuple[str, str]:
    repo.write("src/app.py", "print('one')\n")
    first = repo.commit("first")
    repo.write("src/app.py", "print('two')\n")
    repo.write("docs/guide.md", "# guide\n")
    second = repo.commit("second")
    return first, second


def exclude_lines(repo: GitRepo) -> list[str]:
    return (repo.root / ".git" / "info" / "exclude").read_text().splitlines()


def note_ids(repo: GitRepo) -> dict[str, list[str]]:
    """``{commit: [record id, ...]}`` of the agent-trace notes."""
    return {
        commit: [orjson.loads(line)["id"] for line in text.splitlines() if line.strip()]
        for commit, text in repo.notes().items()
    }


# --------------------------------------------------------------------------- .agent-trace/


def test_first_append_creates_directory_and_one_exclude_line(repo: GitRepo) -> None:
    head, _ = two_commits(repo)
    store = TraceStore.open(repo.root)
    assert not (repo.root / ".agent-trace").exists()
    assert EXCLUDE_LINE not in exclude_lines(repo)

    store.append([make_record(revision=head)])

    assert store.directory == repo.root / ".agent-trace"
    assert store.traces_path.is_file()
    assert exclude_lines(repo).count(EXCLUDE_LINE) == 1
    assert exclude_lines(repo)[-2:] == ["# agent-trace: local attribution data", EXCLUDE_LINE]
    assert not (repo.root / ".gitignore").exists()
    assert repo.git("status", "--porcelain", "--untracked-files=all") == ""
    assert repo.git("check-ignore", ".agent-trace/traces.jsonl") == ".agent-trace/traces.jsonl"


def test_exclude_is_idempotent_across_appends_and_store_instances(repo: GitRepo) -> None:
    head, _ = two_commits(repo)
    first = TraceStore.open(repo.root)
    first.append([make_record(revision=head)])
    after_first = (repo.root / ".git" / "info" / "exclude").read_bytes()
    first.append([make_record(revision=head)])
    second = TraceStore.open(repo.root / "src", notes=False)
    second.append([make_record()])
    second.ensure_directory()
    second.new_run()
    assert (repo.root / ".git" / "info" / "exclude").read_bytes() == after_first
    assert exclude_lines(repo).count(EXCLUDE_LINE) == 1
    assert repo.git("status", "--porcelain", "--untracked-files=all") == ""


def test_user_gitignore_is_untouched(repo: GitRepo) -> None:
    gitignore = b"*.pyc\n# no newline at the end\nbuild/"
    repo.write(".gitignore", gitignore)
    head = repo.commit("ignore")
    TraceStore.open(repo.root).append([make_record(revision=head)])
    assert (repo.root / ".gitignore").read_bytes() == gitignore
    assert exclude_lines(repo).count(EXCLUDE_LINE) == 1
    assert repo.git("status", "--porcelain", "--untracked-files=all") == ""


def test_exclude_without_final_newline_gets_a_line_of_its_own(repo: GitRepo) -> None:
    exclude = repo.root / ".git" / "info" / "exclude"
    exclude.write_bytes(b"*.log")
    TraceStore.open(repo.root, notes=False).append([make_record()])
    assert exclude.read_bytes() == (
        b"*.log\n# agent-trace: local attribution data\n/.agent-trace/\n"
    )
    repo.write("debug.log", "x")
    assert repo.git("status", "--porcelain", "--untracked-files=all") == ""


@pytest.mark.parametrize(
    "entry", [".agent-trace", ".agent-trace/", "/.agent-trace", "  /.agent-trace/  "]
)
def test_an_existing_exclude_entry_is_respected(repo: GitRepo, entry: str) -> None:
    exclude = repo.root / ".git" / "info" / "exclude"
    content = f"# mine\n{entry}\n".encode()
    exclude.write_bytes(content)
    TraceStore.open(repo.root, notes=False).append([make_record()])
    assert exclude.read_bytes() == content


def test_a_missing_info_directory_is_created(repo: GitRepo) -> None:
    info = repo.root / ".git" / "info"
    for child in info.iterdir():
        child.unlink()
    info.rmdir()
    TraceStore.open(repo.root, notes=False).ensure_directory()
    assert (
        info / "exclude"
    ).read_text() == f"# agent-trace: local attribution data\n{EXCLUDE_LINE}\n"


def test_store_opened_from_a_subdirectory_lives_at_the_root(repo: GitRepo) -> None:
    repo.write("src/pkg/mod.py", "x = 1\n")
    head = repo.commit("pkg")
    store = TraceStore.open(repo.root / "src" / "pkg")
    assert store.root == repo.root.resolve()
    store.append([make_record("src/pkg/mod.py", head)])
    assert (repo.root / ".agent-trace" / "traces.jsonl").is_file()
    assert not (repo.root / "src" / "pkg" / ".agent-trace").exists()
    assert exclude_lines(repo).count(EXCLUDE_LINE) == 1
    assert repo.git("status", "--porcelain", "--untracked-files=all") == ""
    # a file path works as well as a directory
    assert TraceStore.open(repo.root / "src" / "pkg" / "mod.py").root == repo.root.resolve()


def test_store_in_a_linked_worktree(repo: GitRepo, tmp_path: Path) -> None:
    head, _ = two_commits(repo)
    worktree = tmp_path / "linked"
    repo.git("worktree", "add", "-q", str(worktree), "HEAD~1")
    store = TraceStore.open(worktree / "src")
    assert store.root == worktree.resolve()
    assert store.repository.common_dir == (repo.root / ".git").resolve()
    assert store.repository.git_dir != store.repository.common_dir
    assert store.resolve("HEAD") == head

    record = make_record(revision=head)
    store.append([record])

    assert (worktree / ".agent-trace" / "traces.jsonl").is_file()
    assert not (repo.root / ".agent-trace").exists()
    assert exclude_lines(repo).count(EXCLUDE_LINE) == 1
    assert not (store.repository.git_dir / "info" / "exclude").exists()
    assert (
        subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=worktree,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        == ""
    )
    assert repo.git("status", "--porcelain", "--untracked-files=all") == ""
    assert note_ids(repo) == {head: [record.id]}  # the notes ref is shared


ENSURE_DIRECTORY = (
    "import sys\nfrom agent_trace import TraceStore\n"
    "TraceStore.open(sys.argv[1], notes=False).ensure_directory()\n"
)


def test_a_first_write_racing_another_process_adds_one_exclude_line(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    exclude = repo.root / ".git" / "info" / "exclude"
    real_read_text = Path.read_text
    raced: list[int] = []

    def read_text(self: Path, *args: Any, **kwargs: Any) -> str:
        text = real_read_text(self, *args, **kwargs)
        if self == exclude and not raced:
            # Another process makes its first write right after this one read the file.
            try:
                child = subprocess.run(
                    [sys.executable, "-c", ENSURE_DIRECTORY, str(repo.root)],
                    cwd=REPO,
                    capture_output=True,
                    timeout=15,
                    check=False,
                )
                raced.append(child.returncode)
            except subprocess.TimeoutExpired:  # it waits for us: the race is fixed
                raced.append(-1)
        return text

    monkeypatch.setattr(Path, "read_text", read_text)
    TraceStore.open(repo.root, notes=False).ensure_directory()
    monkeypatch.undo()
    assert raced in ([0], [-1])
    assert exclude.read_text().splitlines().count(EXCLUDE_LINE) == 1


# --------------------------------------------------------------------------- records


def test_records_round_trip_as_compact_json_lines(repo: GitRepo) -> None:
    head, _ = two_commits(repo)
    records = [
        make_record(revision=head, ours={"run_id": "r1", "n": 1}),
        make_record("docs/guide.md", head),
        make_record("notes.txt"),
    ]
    store = TraceStore.open(repo.root)
    store.append(records[:2])
    store.append(records[2:])
    store.append([])  # nothing to do
    data = store.traces_path.read_bytes()
    assert data == b"".join(record_to_json(r, newline=True) for r in records)
    lines = data.split(b"\n")
    assert lines[-1] == b""
    for line, record in zip(lines[:-1], records, strict=True):
        assert b"\n" not in line
        assert b": " not in line  # compact separators
        assert line == record_to_json(record)
        assert record_from_json(line) == record
    stored = list(store.records())
    assert [s.record for s in stored] == records
    assert [(s.backend, s.line) for s in stored] == [("file", 1), ("file", 2), ("file", 3)]
    assert [s.location for s in stored] == [f"{store.traces_path}:{n}" for n in (1, 2, 3)]
    assert store.issues == []


def test_for_revision_merges_file_and_notes_without_duplicates(repo: GitRepo) -> None:
    first, second = two_commits(repo)
    store = TraceStore.open(repo.root)
    both = make_record("src/app.py", second)  # file and note
    note_only = make_record("docs/guide.md", second)
    file_only = make_record("src/app.py", second)
    other_commit = make_record("src/app.py", first)
    no_commit = make_record("src/app.py", NOT_A_COMMIT)
    store.append([both, other_commit, no_commit])
    assert store.notes is not None
    store.notes.append([note_only])
    store.append([file_only], notes=False)

    assert note_ids(repo) == {
        second: [both.id, note_only.id],
        first: [other_commit.id],
    }
    assert [orjson.loads(x)["id"] for x in store.traces_path.read_bytes().splitlines()] == [
        both.id,
        other_commit.id,
        no_commit.id,
        file_only.id,
    ]

    found = store.for_revision(second)
    assert ids(found) == [both.id, file_only.id, note_only.id]
    assert [s.backend for s in found] == ["file", "file", "notes"]
    assert found[2].commit == second
    assert found[2].location == f"refs/notes/agent-trace:{second}"
    assert not found[2].carried

    assert ids(store.for_revision(second, "src/app.py")) == [both.id, file_only.id]
    assert ids(store.for_revision(second, "docs/guide.md")) == [note_only.id]
    assert ids(store.for_revision(second, "missing.py")) == []
    assert ids(store.for_revision(first)) == [other_commit.id]
    assert ids(store.for_revision(NOT_A_COMMIT)) == [no_commit.id]
    assert store.issues == []

    everything = list(store.records())
    assert Counter(ids(everything)) == Counter(
        [both.id, other_commit.id, no_commit.id, file_only.id, note_only.id]
    )
    assert [s.backend for s in everything] == ["file"] * 4 + ["notes"]

    file_view = TraceStore.open(repo.root, notes=False)
    assert ids(file_view.for_revision(second)) == [both.id, file_only.id]


def _git_commands(trace: Path) -> list[str]:
    """The git commands ``GIT_TRACE`` logged (``git`` subcommand and its first argument)."""
    out = []
    for line in trace.read_text().splitlines():
        if "trace: built-in: git" in line:
            words = line.split("trace: built-in: git ", 1)[1].split()
            words = [w for w in words if w != "--no-optional-locks"]
            out.append(" ".join(words[:2]))
    return out


def test_notes_holding_lines_of_the_file_are_recognised_not_read_again(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_commits(repo)
    store = TraceStore.open(repo.root)
    single = make_record("src/app.py", first)
    batch = [make_record("src/app.py", second), make_record("docs/guide.md", second)]
    store.append([single])
    store.append(batch)  # one note of two lines, written at once
    assert note_ids(repo) == {first: [single.id], second: [r.id for r in batch]}
    trace = tmp_path / "git-trace.log"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    everything = list(TraceStore.open(repo.root).records())
    assert ids(everything) == [single.id, *(r.id for r in batch)]
    assert {s.backend for s in everything} == {"file"}
    commands = _git_commands(trace)
    assert "notes --ref=refs/notes/agent-trace" in commands
    assert not [c for c in commands if c.startswith("cat-file")], commands

    # A note that is not lines of the file (a record from elsewhere beside ours) is read.
    foreign = make_record("src/app.py", first)
    assert store.notes is not None
    store.notes.append([foreign])
    trace.unlink()
    everything = list(TraceStore.open(repo.root).records())
    assert Counter(ids(everything)) == Counter([single.id, *(r.id for r in batch), foreign.id])
    assert [s.record.id for s in everything if s.backend == "notes"] == [foreign.id]
    assert "cat-file --batch" in _git_commands(trace)


def test_a_note_git_carried_to_an_amended_commit_is_read_from_known_lines(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, second = two_commits(repo)
    store = TraceStore.open(repo.root)
    record = make_record("src/app.py", second)
    store.append([record])
    assert store.notes is not None
    store.notes.ensure_rewrite_config()
    repo.write("docs/guide.md", "# guide, amended\n")
    repo.git("add", "docs/guide.md")
    repo.git("commit", "-q", "--amend", "--no-edit")
    amended = repo.git("rev-parse", "HEAD").strip()
    assert amended != second
    assert note_ids(repo) == {amended: [record.id], second: [record.id]}
    trace = tmp_path / "git-trace.log"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    everything = list(TraceStore.open(repo.root).records())
    carried = [s for s in everything if s.backend == "notes"]
    assert [(s.record.id, s.commit, s.carried) for s in carried] == [(record.id, amended, True)]
    assert [s.backend for s in everything if not s.carried] == ["file"]
    assert not [c for c in _git_commands(trace) if c.startswith("cat-file")]


def test_records_without_vcs_stay_in_the_file(repo: GitRepo) -> None:
    head, _ = two_commits(repo)
    store = TraceStore.open(repo.root)
    loose = make_record("scratch/notes.md")
    store.append([loose])
    assert repo.notes() == {}
    assert ids(store.records()) == [loose.id]
    assert store.for_revision(head) == []
    assert ids(store.file.for_path("scratch/notes.md")) == [loose.id]
    assert store.issues == []


def test_other_vcs_types_are_not_put_in_notes(repo: GitRepo) -> None:
    head, _ = two_commits(repo)
    store = TraceStore.open(repo.root)
    jj = make_record("src/app.py", head, vcs_type="jj")
    store.append([jj])
    assert repo.notes() == {}
    assert ids(store.for_revision(head)) == [jj.id]


def test_revision_lookup_is_case_insensitive_for_git(repo: GitRepo) -> None:
    head, _ = two_commits(repo)
    store = TraceStore.open(repo.root)
    upper = make_record(revision=head.upper())
    store.append([upper])
    assert note_ids(repo) == {head: [upper.id]}
    for query in (head, head.upper()):
        found = store.for_revision(query)
        assert ids(found) == [upper.id]
        assert found[0].record.revision == head
    assert ids(store.for_revision(head.upper(), "src/app.py")) == [upper.id]


def test_resolve_revisions(repo: GitRepo) -> None:
    first, second = two_commits(repo)
    store = TraceStore.open(repo.root)
    assert store.resolve("HEAD") == second
    assert store.resolve("HEAD~1") == first
    assert store.resolve(first[:8]) == first
    assert store.resolve(first.upper()) == first
    assert store.resolve("main") == second
    for bad in ("nope", "-x", "--all", "", "HEAD~5"):
        with pytest.raises(BadRevision) as info:
            store.resolve(bad)
        assert info.value.revision == bad


def test_lookups_before_the_first_write(repo: GitRepo) -> None:
    head, _ = two_commits(repo)
    store = TraceStore.open(repo.root)
    assert store.for_revision(head) == []
    assert store.file.for_path("src/app.py") == []
    assert not store.directory.exists()  # reading creates nothing
    store.new_run()  # .agent-trace/ without traces.jsonl
    assert store.for_revision(head) == []
    assert store.issues == []


def test_records_and_runs_before_the_first_write(repo: GitRepo) -> None:
    two_commits(repo)
    store = TraceStore.open(repo.root)
    assert list(store.records()) == []
    assert store.runs() == []
    store.rebuild_index()
    assert not store.directory.exists()


# --------------------------------------------------------------------------- the index


def _filled_store(repo: GitRepo, count: int = 30) -> tuple[TraceStore, list[TraceRecord]]:
    """A file-only store with ``count`` records spread over three fake revisions."""
    store = TraceStore.open(repo.root, notes=False)
    records = [
        make_record(f"src/m{i % 5}.py", f"{i % 3 + 1:040x}", ours={"n": i}) for i in range(count)
    ]
    store.append(records)
    return store, records


def _expected(records: list[TraceRecord], revision: str, path: str | None = None) -> list[str]:
    return [r.id for r in records if r.revision == revision and (path is None or path in r.paths)]


def test_index_is_incremental(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    store, records = _filled_store(repo)
    parsed: list[bytes | str] = []
    real_loads = wire_loads

    def counting(data: bytes | str) -> Any:
        parsed.append(data)
        return real_loads(data)

    monkeypatch.setattr(index_module, "loads", counting)
    rev = f"{1:040x}"
    assert ids(store.for_revision(rev)) == _expected(records, rev)
    assert len(parsed) == 30
    assert store.file.index.database.is_file()

    parsed.clear()
    assert ids(store.for_revision(rev, "src/m0.py")) == _expected(records, rev, "src/m0.py")
    assert parsed == []  # nothing new: nothing parsed

    new = make_record("src/m0.py", rev)
    store.append([new])
    found = store.for_revision(rev, "src/m0.py")
    assert ids(found) == [*_expected(records, rev, "src/m0.py"), new.id]
    assert found[-1].line == 31
    assert parsed == [record_to_json(new)]  # only the new line


def test_index_is_rebuilt_after_truncation(repo: GitRepo) -> None:
    store, records = _filled_store(repo)
    rev = f"{2:040x}"
    assert ids(store.for_revision(rev)) == _expected(records, rev)
    lines = store.traces_path.read_bytes().splitlines(keepends=True)
    os.truncate(store.traces_path, sum(len(x) for x in lines[:4]))
    assert ids(store.for_revision(rev)) == _expected(records[:4], rev)
    assert ids(store.for_revision(f"{1:040x}")) == _expected(records[:4], f"{1:040x}")

    store.traces_path.write_bytes(b"")
    assert store.for_revision(rev) == []
    again = make_record("src/m1.py", rev)
    store.append([again])
    assert ids(store.for_revision(rev, "src/m1.py")) == [again.id]
    assert store.issues == []


def test_index_is_rebuilt_when_the_file_is_replaced(repo: GitRepo) -> None:
    store, records = _filled_store(repo)
    rev = f"{3:040x}"
    assert ids(store.for_revision(rev)) == _expected(records, rev)
    replacement = [make_record("lib/x.py", rev, ours={"pad": "p" * 100}) for _ in range(40)]
    tmp = store.directory / "traces.new"
    tmp.write_bytes(b"".join(record_to_json(r, newline=True) for r in replacement))
    assert tmp.stat().st_size > store.traces_path.stat().st_size
    os.replace(tmp, store.traces_path)

    found = store.for_revision(rev)
    assert ids(found) == [r.id for r in replacement]
    assert [s.line for s in found] == list(range(1, 41))
    assert store.for_revision(rev, "src/m2.py") == []
    assert ids(store.for_revision(rev, "lib/x.py")) == [r.id for r in replacement]
    assert store.issues == []


@pytest.mark.parametrize(
    "damage",
    [
        b"garbage" * 1000,
        b"",
        b"SQLite format 3\x00" + b"\xff" * 4000,
        "foreign-schema",
    ],
    ids=["garbage", "empty", "bad-pages", "foreign-schema"],
)
def test_index_recovers_from_a_damaged_database(repo: GitRepo, damage: bytes | str) -> None:
    store, records = _filled_store(repo)
    rev = f"{1:040x}"
    assert ids(store.for_revision(rev)) == _expected(records, rev)
    database = store.file.index.database
    if isinstance(damage, bytes):
        database.write_bytes(damage)
    else:
        database.unlink()
        conn = sqlite3.connect(database)
        conn.execute("CREATE TABLE records (something TEXT)")
        conn.commit()
        conn.close()
    assert ids(store.for_revision(rev)) == _expected(records, rev)
    assert ids(store.for_revision(rev, "src/m3.py")) == _expected(records, rev, "src/m3.py")
    assert database.read_bytes().startswith(b"SQLite format 3\x00")
    assert store.issues == []


def test_rebuild_index_replaces_a_stale_index(repo: GitRepo) -> None:
    store, records = _filled_store(repo)
    rev = f"{1:040x}"
    assert ids(store.for_revision(rev)) == _expected(records, rev)
    conn = sqlite3.connect(store.file.index.database)
    conn.execute("DELETE FROM records")
    conn.execute("DELETE FROM paths")
    conn.commit()
    conn.close()
    assert store.for_revision(rev) == []  # stale: the index is trusted
    store.rebuild_index()
    assert ids(store.for_revision(rev)) == _expected(records, rev)
    assert store.file.index.revisions() != []
    assert sorted(store.file.index.revisions()) == [f"{n:040x}" for n in (1, 2, 3)]


def test_a_refresh_with_an_older_size_keeps_newer_rows(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, records = _filled_store(repo, count=10)
    rev = f"{1:040x}"
    assert ids(store.for_revision(rev)) == _expected(records, rev)
    later = [make_record("late.py", rev) for _ in range(5)]
    database = store.file.index.database
    real_fstat = os.fstat
    calls: list[int] = []
    indexed_meanwhile: list[int] = []

    class PausingOs:
        """``os`` for the index module: between reading the size and taking the write
        lock, another writer appends and another reader indexes the new lines."""

        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        def fstat(self, fd: int) -> os.stat_result:
            result = real_fstat(fd)
            calls.append(fd)
            if len(calls) == 1:
                store.append(later)
                if not _write_locked(database):  # else the size is read under the lock
                    other = TraceStore.open(repo.root, notes=False)
                    assert len(other.for_revision(rev, "late.py")) == 5
                indexed_meanwhile.append(_indexed_rows(database))
            return result

    monkeypatch.setattr(index_module, "os", PausingOs())
    store.file.index.refresh()
    monkeypatch.undo()
    assert len(indexed_meanwhile) == 1
    # The index never goes back: what another reader indexed meanwhile stays indexed.
    assert _indexed_rows(database) >= indexed_meanwhile[0]


def _write_locked(database: Path) -> bool:
    probe = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()
    return False


def _indexed_rows(database: Path) -> int:
    conn = sqlite3.connect(database)
    try:
        return int(conn.execute("SELECT count(*) FROM records").fetchone()[0])
    finally:
        conn.close()


def test_lookups_do_not_parse_unrelated_lines(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, records = _filled_store(repo, count=20)
    with store.traces_path.open("ab") as f:
        f.write(b'{"version":"0.1.0","id":broken}\n')
    later = [make_record("src/m0.py", f"{1:040x}"), make_record("src/m9.py", f"{9:040x}")]
    store.append(later)

    decoded: list[str] = []
    real = decode_record

    def counting(raw: bytes, location: str, issues: list[StoreIssue] | None) -> Any:
        decoded.append(location)
        return real(raw, location, issues)

    monkeypatch.setattr(store_module, "decode_record", counting)
    rev = f"{9:040x}"
    found = store.for_revision(rev)
    assert ids(found) == [later[1].id]
    assert found[0].line == 23
    assert decoded == [f"{store.traces_path}:23"]
    assert store.issues == []

    rev1 = f"{1:040x}"
    assert ids(store.for_revision(rev1)) == [*_expected(records, rev1), later[0].id]
    assert store.issues == []

    monkeypatch.setattr(store_module, "decode_record", real)
    everything = list(store.records())
    assert ids(everything) == [r.id for r in [*records, *later]]
    assert [s.line for s in everything] == [*range(1, 21), 22, 23]
    assert len(store.issues) == 1
    issue = store.issues[0]
    assert issue.location == f"{store.traces_path}:21"
    assert issue.severity == "error"
    assert "not valid JSON" in issue.message
    assert str(issue).startswith(f"{store.traces_path}:21: not valid JSON")


def test_records_that_are_json_but_not_records_are_reported(repo: GitRepo) -> None:
    store = TraceStore.open(repo.root, notes=False)
    good = make_record()
    store.append([good])
    with store.traces_path.open("ab") as f:
        f.write(b'[1, 2]\n{"version":"0.1.0","id":"x","timestamp":"t","files":"nope"}\n\n')
    store.append([good])  # the same record twice in the file is yielded once
    issues: list[StoreIssue] = []
    assert ids(store.records(issues)) == [good.id]
    assert [i.location.rsplit(":", 1)[1] for i in issues] == ["2", "3"]
    assert "$.files" in issues[1].message
    assert store.issues == []  # an explicit list was given


# --------------------------------------------------------------------------- crashes

TORN = b'{"version":"0.1.0","id":"torn-by-a-crash","timest'


def test_torn_last_line_is_reported_and_ended_by_the_next_append(repo: GitRepo) -> None:
    store = TraceStore.open(repo.root, notes=False)
    rev = f"{7:040x}"
    before = [make_record(revision=rev), make_record("b.py", rev)]
    store.append(before)
    with store.traces_path.open("ab") as f:
        f.write(TORN)
    crashed = store.traces_path.read_bytes()

    assert ids(store.records()) == [r.id for r in before]
    assert store.issues == [StoreIssue(f"{store.traces_path}:3", CUT_SHORT)]
    store.issues.clear()
    assert ids(store.for_revision(rev)) == [r.id for r in before]
    assert store.issues == []

    after = make_record("c.py", rev)
    store.append([after])
    data = store.traces_path.read_bytes()
    assert data == crashed + b"\n" + record_to_json(after, newline=True)
    assert data.split(b"\n")[2] == TORN

    found = store.for_revision(rev)
    assert ids(found) == [*(r.id for r in before), after.id]
    assert found[-1].line == 4
    assert store.issues == []
    assert ids(store.records()) == [*(r.id for r in before), after.id]
    assert len(store.issues) == 1
    assert store.issues[0].location == f"{store.traces_path}:3"
    assert "not valid JSON" in store.issues[0].message


# --------------------------------------------------------------------------- concurrency

PROCS, PER_PROC, BATCH = 4, 1000, 50


def _append_worker(root: str, proc: int, barrier: Barrier) -> None:
    store = TraceStore(find_repository(root), notes=False)
    revision = f"{proc + 1:040x}"
    barrier.wait()
    for start in range(0, PER_PROC, BATCH):
        store.append(
            make_record(f"p{proc}/f.py", revision, ours={"proc": proc, "seq": i})
            for i in range(start, start + BATCH)
        )
        if start % (4 * BATCH) == 0:
            # Lookups while the others write and index: never a foreign or torn record.
            # (Not an exact count: see test_a_refresh_with_an_older_size_keeps_newer_rows.)
            found = store.for_revision(revision, f"p{proc}/f.py")
            assert 0 < len(found) <= start + BATCH, (proc, len(found), start + BATCH)
            assert {s.record.ours["proc"] for s in found} == {proc}
    assert store.issues == []


def _check_lines(path: Path, expected: dict[int, int]) -> list[TraceRecord]:
    data = path.read_bytes()
    assert data.endswith(b"\n")
    records = [record_from_json(line) for line in data[:-1].split(b"\n")]
    assert len({r.id for r in records}) == len(records)
    by_proc: dict[int, list[int]] = defaultdict(list)
    for record in records:
        by_proc[record.ours["proc"]].append(record.ours["seq"])
    assert {p: len(s) for p, s in by_proc.items()} == expected
    for seqs in by_proc.values():
        assert seqs == list(range(len(seqs)))  # each writer's order is kept
    return records


def test_processes_append_concurrently(repo: GitRepo) -> None:
    store = TraceStore.open(repo.root, notes=False)
    store.ensure_directory()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCS)
    procs = [
        ctx.Process(target=_append_worker, args=(str(repo.root), n, barrier)) for n in range(PROCS)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0] * PROCS

    records = _check_lines(store.traces_path, dict.fromkeys(range(PROCS), PER_PROC))
    assert len(records) == PROCS * PER_PROC
    assert len(list(store.records())) == PROCS * PER_PROC
    for n in range(PROCS):
        assert len(store.for_revision(f"{n + 1:040x}")) == PER_PROC
    assert store.issues == []
    assert exclude_lines(repo).count(EXCLUDE_LINE) == 1


def test_threads_append_concurrently(repo: GitRepo) -> None:
    store = TraceStore.open(repo.root, notes=False)
    store.ensure_directory()
    threads_n, per_thread, batch = 8, 200, 20
    barrier = threading.Barrier(threads_n)
    errors: list[Exception] = []

    def work(n: int) -> None:
        try:
            backend = store.file if n % 2 else FileBackend(store.directory)
            barrier.wait()
            for start in range(0, per_thread, batch):
                backend.append(
                    make_record(f"t{n}.py", f"{n + 1:040x}", ours={"proc": n, "seq": i})
                    for i in range(start, start + batch)
                )
                found = store.for_revision(f"{n + 1:040x}")
                assert 0 < len(found) <= start + batch
                assert {s.record.ours["proc"] for s in found} == {n}
        except Exception as exc:  # noqa: BLE001 - reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    _check_lines(store.traces_path, dict.fromkeys(range(threads_n), per_thread))
    assert store.issues == []


# --------------------------------------------------------------------------- runs


def test_new_run_writes_a_manifest(repo: GitRepo) -> None:
    store = TraceStore.open(repo.root)
    run = store.new_run(tool_name="my-agent", model_id="anthropic/claude-sonnet-4-5")
    assert UUID7.match(run.run_id)
    assert run.directory == store.runs_directory / run.run_id
    assert run.directory.parent == repo.root / ".agent-trace" / "runs"
    assert sorted(p.name for p in run.directory.iterdir()) == ["run.json"]
    assert run.events_path == run.directory / "events.jsonl"
    data = json.loads(run.manifest_path.read_bytes())
    assert data["format"] == 1
    assert data["run_id"] == run.run_id
    assert data["status"] == "running"
    assert data["pid"] == os.getpid()
    assert data["tool_name"] == "my-agent"
    assert data["model_id"] == "anthropic/claude-sonnet-4-5"
    assert data["events"] == "events.jsonl"
    assert TS.match(data["created_at"])
    assert data["created_at"].endswith("Z")
    assert run.manifest_path.read_bytes().endswith(b"}\n")
    manifest = run.read_manifest()
    assert (manifest.run_id, manifest.status, manifest.pid) == (run.run_id, "running", os.getpid())
    assert exclude_lines(repo).count(EXCLUDE_LINE) == 1
    assert repo.git("status", "--porcelain", "--untracked-files=all") == ""


def test_explicit_run_ids(repo: GitRepo) -> None:
    store = TraceStore.open(repo.root)
    for run_id in ("run-1", "A.b_c-9", "x" * 128):
        assert store.new_run(run_id).run_id == run_id
        assert store.run(run_id).read_manifest().run_id == run_id


@pytest.mark.parametrize("bad", ["../x", ".hidden", "", "a/b", "-x", "x" * 129, "a b", "é"])
def test_invalid_run_ids_are_rejected(repo: GitRepo, bad: str) -> None:
    store = TraceStore.open(repo.root)
    with pytest.raises(ValueError, match="run id"):
        store.new_run(bad)
    with pytest.raises(ValueError, match="run id"):
        store.run(bad)
    assert not (repo.root / "x").exists()
    assert not store.runs_directory.exists() or list(store.runs_directory.iterdir()) == []


def test_duplicate_run_id_raises(repo: GitRepo) -> None:
    store = TraceStore.open(repo.root)
    run = store.new_run("twice", tool_name="first")
    with pytest.raises(FileExistsError):
        store.new_run("twice", tool_name="second")
    assert run.read_manifest().tool_name == "first"


def test_missing_run_is_a_key_error(repo: GitRepo) -> None:
    store = TraceStore.open(repo.root)
    with pytest.raises(KeyError, match="nope"):
        store.run("nope")
    store.new_run("exists")
    assert store.run("exists").directory == store.runs_directory / "exists"
    with pytest.raises(KeyError):
        store.run("nope")


def test_runs_are_listed_oldest_first(repo: GitRepo) -> None:
    store = TraceStore.open(repo.root)
    assert store.runs() == []
    made = [store.new_run().run_id for _ in range(5)]
    assert [r.run_id for r in store.runs()] == made
    (store.runs_directory / "stray-file").write_text("x")  # not a run
    assert [r.run_id for r in store.runs()] == made
    store.new_run("zz-last")
    store.new_run("00-first")
    assert [r.run_id for r in store.runs()] == ["00-first", *made, "zz-last"]


def test_run_update_replaces_the_manifest_atomically(repo: GitRepo) -> None:
    store = TraceStore.open(repo.root)
    run = store.new_run(tool_name="agent")
    created = run.read_manifest()
    inode = run.manifest_path.stat().st_ino
    updated = run.update(status="completed")
    assert updated.status == "completed"
    assert updated.updated_at is not None
    assert TS.match(updated.updated_at)
    assert updated.updated_at >= created.created_at
    on_disk = run.read_manifest()
    assert on_disk.status == "completed"
    assert on_disk.updated_at is not None
    assert on_disk.updated_at >= updated.updated_at
    assert (on_disk.created_at, on_disk.tool_name, on_disk.pid) == (
        created.created_at,
        "agent",
        os.getpid(),
    )
    assert run.manifest_path.stat().st_ino != inode  # renamed over, not rewritten
    assert sorted(p.name for p in run.directory.iterdir()) == ["run.json"]
    assert run.update(status="failed").status == "failed"
    assert json.loads(run.manifest_path.read_bytes())["status"] == "failed"
    assert sorted(p.name for p in run.directory.iterdir()) == ["run.json"]


def test_run_update_returns_what_it_wrote(repo: GitRepo) -> None:
    run = TraceStore.open(repo.root).new_run("stamped")
    data = json.loads(run.manifest_path.read_bytes())
    data["updated_at"] = "2000-01-01T00:00:00.000Z"
    run.manifest_path.write_text(json.dumps(data))
    returned = run.update(status="completed")
    assert returned == run.read_manifest()


def test_manifest_keys_unknown_to_this_version_are_kept(repo: GitRepo) -> None:
    run = TraceStore.open(repo.root).new_run("keeps")
    data = json.loads(run.manifest_path.read_bytes())
    data["vendor"] = {"k": [1, 2]}
    run.manifest_path.write_text(json.dumps(data))
    run.update(status="interrupted")
    after = json.loads(run.manifest_path.read_bytes())
    assert after["vendor"] == {"k": [1, 2]}
    assert after["status"] == "interrupted"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"{oops", "not valid JSON"),
        (b'{"format":1,"created_at":"2026-01-01T00:00:00.000Z"}', "run_id"),
        (b'{"format":1,"run_id":"r","created_at":5}', "created_at"),
        (b"[]", "run.json"),
        (b"", "not valid JSON"),
    ],
    ids=["malformed", "missing-field", "wrong-type", "array", "empty"],
)
def test_a_damaged_manifest_names_the_file(repo: GitRepo, content: bytes, words: str) -> None:
    store = TraceStore.open(repo.root)
    run = store.new_run("damaged")
    run.manifest_path.write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(str(run.manifest_path))) as info:
        store.run("damaged").read_manifest()
    assert words in str(info.value)
    with pytest.raises(ValueError, match=re.escape(str(run.manifest_path))):
        run.update(status="completed")
    assert run.manifest_path.read_bytes() == content


def test_a_failed_new_run_leaves_nothing_behind(repo: GitRepo) -> None:
    store = TraceStore.open(repo.root)
    with pytest.raises(TypeError):
        store.new_run("half", no_such_field=1)
    assert store.runs() == []
    assert store.new_run("half").run_id == "half"


# --------------------------------------------------------------------------- _files


def test_atomic_write_replaces_content_without_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    atomic_write(target, b"first\n")
    assert target.read_bytes() == b"first\n"
    inode = target.stat().st_ino
    atomic_write(target, b"second, longer content\n" * 1000)
    assert target.read_bytes() == b"second, longer content\n" * 1000
    assert target.stat().st_ino != inode
    atomic_write(target, b"")
    assert target.read_bytes() == b""
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_atomic_write_failure_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "inside").write_text("x")
    with pytest.raises(OSError, match="busy"):  # cannot rename a file over a directory
        atomic_write(target, b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy"]
    assert (target / "inside").read_text() == "x"
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "missing-dir" / "f", b"data")


@pytest.mark.parametrize("data", [b"no newline", b"", b"one\ntwo"])
def test_append_lines_needs_whole_lines(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "lines.jsonl"
    with pytest.raises(ValueError, match="newline"):
        append_lines(path, data)
    assert not path.exists()


def test_append_lines_returns_offsets_and_ends_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    assert append_lines(path, b"one\n") == 0
    assert append_lines(path, b"two\nthree\n", fsync=False) == 4
    with path.open("ab") as f:
        f.write(b"tor")
    assert append_lines(path, b"four\n") == 18  # after the newline that ends "tor"
    assert path.read_bytes() == b"one\ntwo\nthree\ntor\nfour\n"
    assert path.stat().st_mode & 0o111 == 0


LOCK_HOLDER = textwrap.dedent(
    """
    import sys
    from agent_trace._files import locked

    with locked(sys.argv[1]):
        print("held", flush=True)
        sys.stdin.read()
    """
)


def test_locked_excludes_another_process(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    proc = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=REPO,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline() == b"held\n"
        with pytest.raises(LockTimeout, match=re.escape(str(lock))), locked(lock, timeout=0.2):
            pytest.fail("acquired a lock another process holds")
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    with locked(lock, timeout=1.0):
        pass  # released with the process


def test_locked_excludes_another_thread(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with locked(lock):
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(30)
        with pytest.raises(LockTimeout), locked(lock, timeout=0.1):
            pytest.fail("acquired a lock another thread holds")
    finally:
        release.set()
        thread.join()
    with locked(lock, timeout=1.0):
        pass


# --------------------------------------------------------------------------- git


@pytest.fixture
def ceiling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git never looks above ``tmp_path`` for a repository."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


@pytest.mark.usefixtures("ceiling")
def test_plain_directory_is_not_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(NotAGitRepository, match="not inside a git work tree") as info:
        find_repository(plain)
    assert info.value.path == plain.resolve()
    with pytest.raises(NotAGitRepository):
        TraceStore.open(plain)


@pytest.mark.usefixtures("ceiling")
def test_bare_repository_is_not_a_work_tree(tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    with pytest.raises(NotAGitRepository) as info:
        find_repository(bare)
    assert info.value.path == bare.resolve()
    with pytest.raises(NotAGitRepository):
        TraceStore.open(bare)


@pytest.mark.usefixtures("ceiling")
def test_bare_repository_error_says_bare(tmp_path: Path) -> None:
    bare = tmp_path / "shared.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    with pytest.raises(NotAGitRepository) as info:
        find_repository(bare)
    assert "bare" in str(info.value).replace(str(bare.resolve()), "<path>")


@pytest.mark.usefixtures("ceiling")
def test_missing_path_is_not_a_repository(tmp_path: Path) -> None:
    missing = tmp_path / "does" / "not" / "exist"
    with pytest.raises(NotAGitRepository, match="no such directory") as info:
        find_repository(missing)
    assert info.value.path == missing


def test_inside_the_git_directory_is_not_a_work_tree(repo: GitRepo) -> None:
    with pytest.raises(NotAGitRepository):
        find_repository(repo.root / ".git")


def test_find_repository_from_a_file_and_a_subdirectory(repo: GitRepo) -> None:
    repo.write("a/b/c.txt", "x\n")
    for start in (repo.root, repo.root / "a" / "b", repo.root / "a" / "b" / "c.txt"):
        found = find_repository(start)
        assert found.root == repo.root.resolve()
        assert found.git_dir == (repo.root / ".git").resolve()
        assert found.common_dir == (repo.root / ".git").resolve()
        assert found.git_path("info/exclude") == (repo.root / ".git" / "info" / "exclude").resolve()


def test_missing_git_binary(repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(GitNotFound, match="not installed"):
        find_repository(repo.root)


def _children() -> dict[int, str]:
    """``{pid: command name}`` of this process's children, from /proc."""
    me = os.getpid()
    out: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == me:
            out[int(entry.name)] = stat[stat.index("(") + 1 : stat.rindex(")")]
    return out


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_no_git_processes_are_left_running(repo: GitRepo) -> None:
    first, second = two_commits(repo)
    before = _children()
    store = TraceStore.open(repo.root)
    store.append([make_record(revision=second), make_record(revision=first)])
    store.append([make_record(revision=NOT_A_COMMIT)])
    assert len(list(store.records())) == 3  # notes read with `git cat-file --batch`
    assert len(store.for_revision(store.resolve("HEAD~1"))) == 1
    assert store.issues == []
    assert _children() == before


def test_store_operations_do_not_import_gitpython(repo: GitRepo) -> None:
    head, _ = two_commits(repo)
    code = textwrap.dedent(
        f"""
        import sys
        from agent_trace import TraceStore, TraceFile, Vcs, new_record
        store = TraceStore.open({str(repo.root)!r})
        store.append([new_record([TraceFile(path="a", conversations=[])],
                                 vcs=Vcs(type="git", revision={head!r}))])
        assert len(store.for_revision(store.resolve("HEAD~1"))) == 1
        assert len(list(store.records())) == 1
        store.new_run()
        print(sorted(m for m in sys.modules if m == "git" or m.startswith("git.")))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout == "[]\n"
