"""The git-notes backend (``refs/notes/agent-trace``), ``trace notes fetch|push`` and the
store on top of it, on real repositories with the real ``git`` binary (no mocking)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from gitrepo import GitRepo, git

from agent_trace._git import Repository, find_repository
from agent_trace._notes import NOTES_REF, NotesBackend
from agent_trace._records import (
    Contributor,
    Conversation,
    Range,
    TraceFile,
    TraceRecord,
    Vcs,
    new_record,
    record_to_dict,
    record_to_json,
)
from agent_trace._store import TraceStore
from agent_trace._stored import StoreIssue
from agent_trace.cli import cli

REWRITE_KEY = "notes.rewriteRef"
TRACKING_REFSPEC = "+refs/notes/agent-trace:refs/notes/remotes/origin/agent-trace"
IDENTITY_ENV = (
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
    "EMAIL",
)


# --------------------------------------------------------------------------- helpers


def make_record(
    revision: str | None,
    *paths: str,
    id: str | None = None,
    model: str = "anthropic/claude-sonnet-4-5",
    content_hash: str | None = None,
) -> TraceRecord:
    """A record with one AI conversation per path (lines 1-2), attached to ``revision``."""
    files = [
        TraceFile(
            path=path,
            conversations=[
                Conversation(
                    url="https://example.com/conversations/1",
                    contributor=Contributor(type="ai", model_id=model),
                    ranges=[Range(start_line=1, end_line=2, content_hash=content_hash)],
                )
            ],
        )
        for path in (paths or ("src/app.py",))
    ]
    vcs = Vcs(type="git", revision=revision) if revision is not None else None
    return new_record(files, vcs=vcs, id=id)


def compact(record: TraceRecord) -> str:
    """The record as compact JSON, computed independently of the package's serializer."""
    return json.dumps(record_to_dict(record), separators=(",", ":"), ensure_ascii=False)


def backend(repo: GitRepo | Path) -> NotesBackend:
    return NotesBackend(find_repository(repo.root if isinstance(repo, GitRepo) else repo))


def note_lines(repo: GitRepo, commit: str) -> list[str]:
    return repo.notes()[commit].split("\n")


def ids_in_note(repo: GitRepo, commit: str) -> list[str]:
    return [json.loads(line)["id"] for line in note_lines(repo, commit)]


def local_config(repo: GitRepo, key: str) -> list[str]:
    return repo.git("config", "--local", "--get-all", key, check=False).splitlines()


def global_config_text() -> str:
    return Path(os.environ["GIT_CONFIG_GLOBAL"]).read_text(encoding="utf-8")


def run_cli(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], env={"NO_COLOR": "", "FORCE_COLOR": ""})


def commits(repo: GitRepo, n: int) -> list[str]:
    """Make ``n`` commits, each adding one file; return their SHAs in order."""
    out = []
    for i in range(n):
        repo.write(f"file{i}.txt", f"line {i}\n")
        out.append(repo.commit(f"commit {i}"))
    return out


# --------------------------------------------------------------------------- write


def test_records_of_a_commit_become_one_note_of_compact_json_lines(repo: GitRepo) -> None:
    (c,) = commits(repo, 1)
    first = make_record(c, "src/app.py")
    second = make_record(c, "src/lib.py", "README.md")
    backend(repo).append([first, second])

    notes = repo.notes()
    assert list(notes) == [c]
    assert notes[c] == f"{compact(first)}\n{compact(second)}"
    assert note_lines(repo, c) == [
        record_to_json(first).decode(),
        record_to_json(second).decode(),
    ]
    # never the default notes ref
    assert repo.notes("refs/notes/commits") == {}
    assert repo.git("notes", "list", check=False) == ""


def test_appending_the_same_record_id_again_does_not_duplicate(repo: GitRepo) -> None:
    (c,) = commits(repo, 1)
    notes = backend(repo)
    record = make_record(c)
    notes.append([record])
    before = repo.notes()[c]
    notes.append([record])
    # same id, different content: still the first one only
    notes.append([make_record(c, "other.py", id=record.id)])
    assert repo.notes()[c] == before
    assert ids_in_note(repo, c) == [record.id]


def test_appending_a_second_record_adds_a_line(repo: GitRepo) -> None:
    (c,) = commits(repo, 1)
    notes = backend(repo)
    first, second = make_record(c), make_record(c, "docs/x.md")
    notes.append([first])
    notes.append([second])
    assert note_lines(repo, c) == [compact(first), compact(second)]
    notes.append([second, first])
    assert note_lines(repo, c) == [compact(first), compact(second)]


def test_records_for_several_commits_in_one_call(repo: GitRepo) -> None:
    c1, c2, c3 = commits(repo, 3)
    r1a, r1b, r3 = make_record(c1), make_record(c1, "b.py"), make_record(c3, "c.py")
    backend(repo).append([r1a, r3, r1b])
    notes = repo.notes()
    assert set(notes) == {c1, c3}
    assert c2 not in notes
    assert notes[c1] == f"{compact(r1a)}\n{compact(r1b)}"
    assert notes[c3] == compact(r3)


def test_many_commits_in_one_notes_commit_keep_existing_notes(repo: GitRepo) -> None:
    """Several commits are written by one ``git fast-import`` (one notes commit); notes
    already there are kept, records already in them are not repeated, and git's own
    ``notes`` commands read the result (with fan-out beyond 256 notes)."""
    shas = commits(repo, 3)
    tree = repo.git("rev-parse", "HEAD^{tree}")
    many = [repo.git("commit-tree", tree, "-p", "HEAD", "-m", f"synthetic {i}") for i in range(300)]
    first = make_record(shas[0])
    backend(repo).append([first])
    before = repo.git("rev-list", "--count", NOTES_REF)
    again = [first, make_record(shas[0], "b.py"), make_record(shas[2], "c.py")]
    extra = [make_record(sha, "x.py") for sha in many]
    backend(repo).append([*again, *extra])
    assert int(repo.git("rev-list", "--count", NOTES_REF)) == int(before) + 1
    assert ids_in_note(repo, shas[0]) == [first.id, again[1].id]
    assert ids_in_note(repo, shas[2]) == [again[2].id]
    assert repo.git("notes", f"--ref={NOTES_REF}", "show", many[123]) == compact(extra[123])
    assert len(repo.notes()) == 2 + 300
    assert repo.git("log", "-1", "--format=%an <%ae>|%s", NOTES_REF) == (
        "Test Human <human@example.com>|Notes added by agent-trace"
    )
    backend(repo).append([*again, *extra])  # nothing new: no notes commit at all
    assert int(repo.git("rev-list", "--count", NOTES_REF)) == int(before) + 1


def test_upper_case_revision_is_attached_to_the_commit(repo: GitRepo) -> None:
    (c,) = commits(repo, 1)
    record = make_record(c.upper())
    backend(repo).append([record])
    assert list(repo.notes()) == [c]
    assert [s.record.id for s in backend(repo).for_revision(c)] == [record.id]


@pytest.mark.parametrize("kind", ["unknown-sha", "tree", "blob"])
def test_revision_that_is_not_a_commit_raises_and_writes_nothing(repo: GitRepo, kind: str) -> None:
    repo.write("a.txt", "alpha\n")
    (c,) = commits(repo, 1)
    bad = {
        "unknown-sha": "0123456789abcdef0123456789abcdef01234567",
        "tree": repo.git("rev-parse", "HEAD^{tree}"),
        "blob": repo.git("rev-parse", "HEAD:a.txt"),
    }[kind]
    good = make_record(c)
    with pytest.raises(ValueError, match=bad):
        backend(repo).append([good, make_record(bad)])
    assert repo.notes() == {}
    assert repo.git("rev-parse", "--verify", "--quiet", NOTES_REF, check=False) == ""
    assert local_config(repo, REWRITE_KEY) == []

    backend(repo).append([good, make_record(bad)], skip_missing=True)
    assert repo.notes() == {c: compact(good)}


def test_record_without_git_revision_raises_unless_skip_missing(repo: GitRepo) -> None:
    (c,) = commits(repo, 1)
    no_vcs = make_record(None)
    jj = new_record([], vcs=Vcs(type="jj", revision=c))
    for bad in (no_vcs, jj):
        with pytest.raises(ValueError, match="has no git revision"):
            backend(repo).append([bad])
    assert repo.notes() == {}
    good = make_record(c)
    backend(repo).append([no_vcs, jj, good], skip_missing=True)
    assert repo.notes() == {c: compact(good)}


def test_skip_missing_with_only_missing_records_writes_nothing(repo: GitRepo) -> None:
    commits(repo, 1)
    backend(repo).append([make_record("f" * 40)], skip_missing=True)
    assert repo.notes() == {}
    assert repo.git("for-each-ref", "refs/notes/") == ""


def test_rewrite_ref_is_set_once_in_the_local_config_only(repo: GitRepo) -> None:
    (c,) = commits(repo, 1)
    notes = backend(repo)
    assert local_config(repo, REWRITE_KEY) == []
    notes.append([make_record(c)])
    notes.append([make_record(c)])
    notes.append([make_record(c)])
    assert notes.ensure_rewrite_config() is False
    assert local_config(repo, REWRITE_KEY) == [NOTES_REF]
    config_text = (repo.root / ".git" / "config").read_text(encoding="utf-8")
    assert config_text.count("rewriteRef") == 1
    assert config_text.count(NOTES_REF) == 1
    assert global_config_text() == ""
    assert repo.git("config", "--global", "--list", check=False) == ""


def test_ensure_rewrite_config_reports_whether_it_added(repo: GitRepo) -> None:
    commits(repo, 1)
    notes = backend(repo)
    assert notes.ensure_rewrite_config() is True
    assert notes.ensure_rewrite_config() is False
    assert local_config(repo, REWRITE_KEY) == [NOTES_REF]
    assert global_config_text() == ""


def test_note_holds_no_file_contents(repo: GitRepo) -> None:
    secret = "API_KEY = 'sk-live-do-not-leak-7f3a9c'"
    repo.write("src/settings.py", f"{secret}\nDEBUG = False\n")
    (c,) = commits(repo, 1)
    record = make_record(c, "src/settings.py", content_hash="murmur3:9a8b7c6d")
    backend(repo).append([record])
    text = repo.notes()[c]
    assert "sk-live" not in text
    assert "DEBUG" not in text
    assert text == compact(record)
    assert json.loads(text) == record_to_dict(record)


# --------------------------------------------------------------------------- read


def test_for_revision_with_and_without_path_filter(repo: GitRepo) -> None:
    c1, c2 = commits(repo, 2)
    app = make_record(c1, "src/app.py")
    both = make_record(c1, "src/app.py", "src/lib.py")
    lib = make_record(c1, "src/lib.py")
    elsewhere = make_record(c2, "src/app.py")
    notes = backend(repo)
    notes.append([app, both, lib, elsewhere])

    every = notes.for_revision(c1)
    assert [s.record.id for s in every] == [app.id, both.id, lib.id]
    assert {s.backend for s in every} == {"notes"}
    assert {s.commit for s in every} == {c1}
    assert {s.location for s in every} == {f"{NOTES_REF}:{c1}"}
    assert not any(s.carried for s in every)
    assert [s.record for s in every] == [app, both, lib]

    assert [s.record.id for s in notes.for_revision(c1, "src/lib.py")] == [both.id, lib.id]
    assert [s.record.id for s in notes.for_revision(c1, "src/app.py")] == [app.id, both.id]
    assert notes.for_revision(c1, "missing.py") == []
    assert [s.record.id for s in notes.for_revision(c2)] == [elsewhere.id]


def test_for_revision_of_a_commit_without_note_is_empty(repo: GitRepo) -> None:
    c1, c2 = commits(repo, 2)
    notes = backend(repo)
    assert notes.for_revision(c1) == []  # no notes ref at all yet
    notes.append([make_record(c1)])
    issues: list[StoreIssue] = []
    assert notes.for_revision(c2, issues=issues) == []
    assert issues == []


def test_records_reads_every_note(repo: GitRepo) -> None:
    c1, c2, c3 = commits(repo, 3)
    notes = backend(repo)
    assert list(notes.records()) == []
    r1, r2, r3 = make_record(c1), make_record(c1, "b.py"), make_record(c3)
    notes.append([r1, r2, r3])
    found = list(notes.records())
    assert sorted((s.commit, s.record.id) for s in found) == sorted(
        [(c1, r1.id), (c1, r2.id), (c3, r3.id)]
    )
    assert {s.record.id: s.record for s in found} == {r.id: r for r in (r1, r2, r3)}
    assert notes.annotated_commits().keys() == {c1, c3}
    assert c2 not in notes.annotated_commits()


def test_hand_edited_note_with_bad_and_blank_lines(repo: GitRepo) -> None:
    c1, c2 = commits(repo, 2)
    good1, good2, other = make_record(c1), make_record(c1, "b.py"), make_record(c2)
    backend(repo).append([other])
    text = f"{compact(good1)}\n\n{{not json at all\n\n{compact(good2)}\n" + '{"id": 5}\n'
    repo.git("notes", f"--ref={NOTES_REF}", "add", "-f", "-F", "-", c1, input=text.encode())

    issues: list[StoreIssue] = []
    found = backend(repo).for_revision(c1, issues=issues)
    assert [s.record for s in found] == [good1, good2]
    assert len(issues) == 2
    bad_json, not_a_record = issues
    assert bad_json.location == f"{NOTES_REF}:{c1[:12]}:3"
    assert "not valid JSON" in bad_json.message
    assert bad_json.severity == "error"
    assert not_a_record.location == f"{NOTES_REF}:{c1[:12]}:6"
    assert not_a_record.message.endswith("skipped")
    assert c1[:12] in str(bad_json)

    all_issues: list[StoreIssue] = []
    everything = list(backend(repo).records(all_issues))
    assert sorted(s.record.id for s in everything) == sorted([good1.id, good2.id, other.id])
    assert [i.location for i in all_issues] == [
        f"{NOTES_REF}:{c1[:12]}:3",
        f"{NOTES_REF}:{c1[:12]}:6",
    ]

    # appending to the damaged note keeps its good lines and adds the new one
    third = make_record(c1, "c.py")
    backend(repo).append([third, good2])
    assert [s.record.id for s in backend(repo).for_revision(c1)] == [
        good1.id,
        good2.id,
        third.id,
    ]


# --------------------------------------------------------------------------- identity


def test_append_without_identity_uses_a_one_off_identity(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    (c,) = commits(repo, 1)
    repo.git("config", "--unset", "user.name")
    repo.git("config", "--unset", "user.email")
    for name in IDENTITY_ENV:
        monkeypatch.delenv(name, raising=False)
    # No auto-detected identity either (user@host would do on some machines), set
    # through the environment so that no config file holds it.
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "user.useConfigOnly")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "true")
    probe = repo.git("commit", "--allow-empty", "-m", "probe", check=False)
    assert repo.head() == c, probe  # git itself refuses to commit here

    record = make_record(c)
    backend(repo).append([record])
    assert repo.notes() == {c: compact(record)}
    assert repo.git("log", "-1", "--format=%an <%ae>|%cn <%ce>", NOTES_REF) == (
        "agent-trace <agent-trace@localhost>|agent-trace <agent-trace@localhost>"
    )
    assert repo.git("config", "--local", "--get-regexp", r"^user\.", check=False) == ""
    assert "user." not in (repo.root / ".git" / "config").read_text(encoding="utf-8")
    assert global_config_text() == ""
    for name in IDENTITY_ENV:
        assert name not in os.environ

    # a second append (an existing note is rewritten) works the same way
    second = make_record(c, "b.py")
    backend(repo).append([second])
    assert ids_in_note(repo, c) == [record.id, second.id]

    # and so does a batch for several commits (one fast-import)
    c2 = repo.git(
        "-c", "user.name=A", "-c", "user.email=a@b", "commit-tree", "HEAD^{tree}", "-m", "2"
    )
    third, fourth = make_record(c, "c.py"), make_record(c2)
    backend(repo).append([third, fourth])
    assert ids_in_note(repo, c) == [record.id, second.id, third.id]
    assert ids_in_note(repo, c2) == [fourth.id]
    assert repo.git("log", "-1", "--format=%cn <%ce>", NOTES_REF) == (
        "agent-trace <agent-trace@localhost>"
    )


def test_configured_identity_is_used_for_the_notes_commit(repo: GitRepo) -> None:
    (c,) = commits(repo, 1)
    backend(repo).append([make_record(c)])
    assert repo.git("log", "-1", "--format=%an <%ae>", NOTES_REF) == (
        "Test Human <human@example.com>"
    )


# --------------------------------------------------------------------------- push / fetch


class Clones:
    """A bare ``origin`` and two clones of it, ``a`` and ``b``, sharing ``base``."""

    def __init__(self, tmp_path: Path) -> None:
        self.origin = tmp_path / "origin.git"
        git(tmp_path, "init", "-q", "--bare", "-b", "main", str(self.origin))
        self.a = self._clone(tmp_path, "a", "Alice", "alice@example.com")
        self.base = commits(self.a, 3)
        self.a.git("push", "-q", "origin", "main")
        self.b = self._clone(tmp_path, "b", "Bob", "bob@example.com")
        assert self.b.head() == self.base[-1]

    @staticmethod
    def _clone(tmp_path: Path, name: str, user: str, email: str) -> GitRepo:
        git(tmp_path, "clone", "-q", "origin.git", name)
        clone = GitRepo(tmp_path / name)
        clone.git("config", "user.name", user)
        clone.git("config", "user.email", email)
        clone.git("config", "commit.gpgsign", "false")
        return clone

    def origin_notes_ref(self) -> str:
        return git(self.origin, "rev-parse", "--verify", "--quiet", NOTES_REF, check=False)

    def origin_note(self, commit: str) -> str:
        return git(self.origin, "notes", f"--ref={NOTES_REF}", "show", commit)


@pytest.fixture
def clones(tmp_path: Path) -> Clones:
    return Clones(tmp_path)


def store_ids(repo: GitRepo, commit: str) -> list[str]:
    return sorted(s.record.id for s in TraceStore.open(repo.root).for_revision(commit))


def test_push_then_fetch_shares_the_records(clones: Clones) -> None:
    a, b = clones.a, clones.b
    c0, _, c2 = clones.base
    r0, r2 = make_record(c0), make_record(c2, "b.py")
    TraceStore.open(a.root).append([r0, r2])
    assert clones.origin_notes_ref() == ""

    pushed = run_cli("notes", "push", "-C", a.root)
    assert pushed.exit_code == 0, pushed.output
    assert pushed.stdout == f"pushed {NOTES_REF} to origin\n"
    assert pushed.stderr == ""
    assert clones.origin_notes_ref() == a.git("rev-parse", NOTES_REF)
    assert clones.origin_note(c0) == compact(r0)

    b.git("fetch", "-q")
    fetched = run_cli("notes", "fetch", "origin", "-C", b.root)
    assert fetched.exit_code == 0, fetched.output
    assert fetched.stdout == f"fetched attribution notes from origin into {NOTES_REF}\n"
    assert b.git("rev-parse", NOTES_REF) == a.git("rev-parse", NOTES_REF)
    assert b.notes() == a.notes()

    assert [s.record for s in backend(b).for_revision(c0)] == [r0]
    assert [s.record for s in backend(b).for_revision(c2)] == [r2]
    assert sorted(s.record.id for s in TraceStore.open(b.root).records()) == sorted([r0.id, r2.id])
    store = TraceStore.open(b.root)
    assert [s.record for s in store.for_revision(c0)] == [r0]
    assert [s.record for s in store.for_revision(c2)] == [r2]
    assert [s.backend for s in store.for_revision(c0)] == ["notes"]
    assert local_config(b, REWRITE_KEY) == [NOTES_REF]
    assert global_config_text() == ""


def test_fresh_clone_reads_fetched_notes_through_the_store(clones: Clones) -> None:
    a, b = clones.a, clones.b
    c0 = clones.base[0]
    record = make_record(c0)
    backend(a).append([record])
    assert run_cli("notes", "push", "-C", a.root).exit_code == 0
    assert run_cli("notes", "fetch", "-C", b.root).exit_code == 0
    assert not (b.root / ".agent-trace").exists()
    found = TraceStore.open(b.root).for_revision(c0)
    assert [(s.record, s.backend) for s in found] == [(record, "notes")]


def test_trace_show_reads_fetched_notes_in_a_fresh_clone(clones: Clones) -> None:
    a, b = clones.a, clones.b
    c0 = clones.base[0]
    record = make_record(c0)
    backend(a).append([record])
    assert run_cli("notes", "push", "-C", a.root).exit_code == 0
    assert run_cli("notes", "fetch", "-C", b.root).exit_code == 0
    result = run_cli("show", c0, "--format", "jsonl", "-C", b.root)
    assert result.exit_code == 0, result.output
    assert result.stdout == compact(record) + "\n"


def test_divergent_notes_end_as_the_union_on_both_clones(clones: Clones) -> None:
    a, b = clones.a, clones.b
    c0, c1, c2 = clones.base
    shared = make_record(c0)
    TraceStore.open(a.root).append([shared])
    assert run_cli("notes", "push", "-C", a.root).exit_code == 0

    # B writes its own notes before ever fetching A's: unrelated notes histories
    b_first = make_record(c0, "b-first.py")
    TraceStore.open(b.root).append([b_first])
    result = run_cli("notes", "fetch", "-C", b.root)
    assert result.exit_code == 0, result.output
    assert (
        result.stdout == f"fetched attribution notes from origin and merged them into {NOTES_REF}\n"
    )
    assert sorted(ids_in_note(b, c0)) == sorted([shared.id, b_first.id])

    # both add records to the same commit and to different commits
    a_same, a_other = make_record(c0, "a-same.py"), make_record(c1, "a-other.py")
    b_same, b_other = make_record(c0, "b-same.py"), make_record(c2, "b-other.py")
    both = make_record(c1, "both.py")  # the same record written on both sides
    TraceStore.open(a.root).append([a_same, a_other, both])
    TraceStore.open(b.root).append([b_same, b_other, both])

    assert run_cli("notes", "push", "-C", a.root).exit_code == 0
    pushed_b = run_cli("notes", "push", "origin", "-C", b.root)
    assert pushed_b.exit_code == 0, pushed_b.output
    assert pushed_b.stdout == f"pushed {NOTES_REF} to origin\n"
    fetched_a = run_cli("notes", "fetch", "-C", a.root)
    assert fetched_a.exit_code == 0, fetched_a.output

    expected = {
        c0: sorted([shared.id, b_first.id, a_same.id, b_same.id]),
        c1: sorted([a_other.id, both.id]),
        c2: [b_other.id],
    }
    for clone in (a, b):
        notes = clone.notes()
        assert set(notes) == set(expected)
        for commit, ids in expected.items():
            lines = note_lines(clone, commit)
            assert len(lines) == len(set(lines)), f"duplicate line in {commit}"
            assert sorted(json.loads(line)["id"] for line in lines) == ids
            assert store_ids(clone, commit) == ids
    assert a.git("rev-parse", NOTES_REF) == b.git("rev-parse", NOTES_REF)
    assert clones.origin_notes_ref() == a.git("rev-parse", NOTES_REF)

    # a further round trip changes nothing
    before = a.git("rev-parse", NOTES_REF)
    assert run_cli("notes", "push", "-C", a.root).exit_code == 0
    assert run_cli("notes", "fetch", "-C", b.root).exit_code == 0
    assert a.git("rev-parse", NOTES_REF) == before == b.git("rev-parse", NOTES_REF)


def test_fetch_refspec_is_added_once_and_plain_git_fetch_uses_it(clones: Clones) -> None:
    a, b = clones.a, clones.b
    backend(a).append([make_record(clones.base[0])])
    assert run_cli("notes", "push", "-C", a.root).exit_code == 0
    default_spec = "+refs/heads/*:refs/remotes/origin/*"
    assert local_config(b, "remote.origin.fetch") == [default_spec]

    for _ in range(2):
        result = run_cli("notes", "fetch", "-C", b.root)
        assert result.exit_code == 0, result.output
    assert local_config(b, "remote.origin.fetch") == [default_spec, TRACKING_REFSPEC]
    assert local_config(b, REWRITE_KEY) == [NOTES_REF]
    assert global_config_text() == ""

    # from now on a plain `git fetch` brings A's new notes to the tracking ref
    backend(a).append([make_record(clones.base[1])])
    assert run_cli("notes", "push", "-C", a.root).exit_code == 0
    tracking = "refs/notes/remotes/origin/agent-trace"
    assert b.git("rev-parse", tracking) != a.git("rev-parse", NOTES_REF)
    b.git("fetch", "-q")
    assert b.git("rev-parse", tracking) == a.git("rev-parse", NOTES_REF)
    assert local_config(b, "remote.origin.fetch") == [default_spec, TRACKING_REFSPEC]


def test_fetch_from_a_remote_without_notes(clones: Clones) -> None:
    b = clones.b
    result = run_cli("notes", "fetch", "-C", b.root)
    assert result.exit_code == 0, result.output
    assert result.stdout == "origin has no attribution notes yet\n"
    assert result.stderr == ""
    assert b.git("for-each-ref", "refs/notes/") == ""
    assert TRACKING_REFSPEC in local_config(b, "remote.origin.fetch")


def test_push_with_no_notes_anywhere_warns(clones: Clones) -> None:
    result = run_cli("notes", "push", "-C", clones.b.root)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == "warning: no attribution notes to push yet\n"
    assert clones.origin_notes_ref() == ""


@pytest.mark.parametrize("command", ["fetch", "push"])
def test_unknown_remote_is_a_user_error(clones: Clones, command: str) -> None:
    b = clones.b
    config_before = (b.root / ".git" / "config").read_text(encoding="utf-8")
    result = run_cli("notes", command, "upstream", "-C", b.root)
    assert result.exit_code == 1, result.output
    assert "no remote named 'upstream'" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert (b.root / ".git" / "config").read_text(encoding="utf-8") == config_before


def test_remote_name_starting_with_dash_is_refused(clones: Clones) -> None:
    result = run_cli("notes", "fetch", "-C", clones.b.root, "--", "--upload-pack=touch x")
    assert result.exit_code == 1, result.output
    assert "not a remote name" in result.stderr
    assert not (clones.b.root / "x").exists()


def test_notes_fetch_outside_a_repository_is_an_environment_problem(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    result = run_cli("notes", "fetch", "-C", plain)
    assert result.exit_code == 3, result.output
    assert "not inside a git work tree" in result.stderr


def test_clobbering_notes_refspec_is_warned_about(clones: Clones) -> None:
    a, b = clones.a, clones.b
    b.git("config", "--add", "remote.origin.fetch", "+refs/notes/*:refs/notes/*")
    result = run_cli("notes", "fetch", "-C", b.root)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("warning: remote.origin.fetch maps the remote's notes")
    assert "trace notes fetch" in result.stderr
    assert result.stdout == "origin has no attribution notes yet\n"

    backend(a).append([make_record(clones.base[0])])
    assert run_cli("notes", "push", "-C", a.root).exit_code == 0
    pushed = run_cli("notes", "push", "-C", b.root)
    assert pushed.exit_code == 0, pushed.output
    assert "warning: remote.origin.fetch maps" in pushed.stderr


def test_exact_notes_refspec_is_warned_about_too(clones: Clones) -> None:
    spec = f"{NOTES_REF}:{NOTES_REF}"
    clones.b.git("config", "--add", "remote.origin.fetch", spec)
    notes = backend(clones.b)
    assert len(notes.fetch("origin").warnings) == 1
    # a normal repository has nothing to warn about
    assert backend(clones.a).fetch("origin").warnings == []


def test_fetch_with_clobbering_refspec_keeps_local_records(clones: Clones) -> None:
    a, b = clones.a, clones.b
    c0 = clones.base[0]
    theirs, ours = make_record(c0), make_record(c0, "ours.py")
    backend(a).append([theirs])
    assert run_cli("notes", "push", "-C", a.root).exit_code == 0
    backend(b).append([ours])
    b.git("config", "--add", "remote.origin.fetch", "+refs/notes/*:refs/notes/*")
    result = run_cli("notes", "fetch", "-C", b.root)
    assert result.exit_code == 0, result.output
    assert "warning:" in result.stderr
    assert sorted(ids_in_note(b, c0)) == sorted([theirs.id, ours.id])


def test_safe_notes_wildcard_refspec_is_not_warned_about(clones: Clones) -> None:
    clones.b.git(
        "config", "--add", "remote.origin.fetch", "+refs/notes/*:refs/notes/remotes/origin/*"
    )
    assert backend(clones.b).fetch("origin").warnings == []


def test_same_record_twice_in_one_call_is_written_once(repo: GitRepo) -> None:
    (c,) = commits(repo, 1)
    record = make_record(c)
    backend(repo).append([record, record])
    assert note_lines(repo, c) == [compact(record)]


# --------------------------------------------------------------------------- rewrites


def test_amend_carries_the_note_to_the_new_commit(repo: GitRepo) -> None:
    repo.write("src/app.py", "print('hi')\n")
    old = repo.commit("first message")
    record = make_record(old, "src/app.py")
    TraceStore.open(repo.root).append([record])
    assert local_config(repo, REWRITE_KEY) == [NOTES_REF]

    repo.git("commit", "-q", "--amend", "-m", "better message")
    new = repo.head()
    assert new != old
    assert repo.notes()[new] == compact(record)

    carried = backend(repo).for_revision(new)
    assert len(carried) == 1
    assert carried[0].record == record
    assert carried[0].record.revision == old
    assert carried[0].commit == new
    assert carried[0].carried is True
    assert carried[0].location == f"{NOTES_REF}:{new}"

    # the store finds it through the note of the new commit (the file is keyed by `old`)
    store = TraceStore.open(repo.root)
    found = store.for_revision(new)
    assert [(s.backend, s.record.id, s.carried) for s in found] == [("notes", record.id, True)]
    by_old = store.for_revision(old)
    assert [(s.backend, s.carried) for s in by_old] == [("file", False)]


def test_rebase_carries_each_note(repo: GitRepo) -> None:
    repo.write("base.txt", "base\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    originals = {}
    for i in range(3):
        repo.write(f"feature{i}.py", f"x = {i}\n")
        originals[f"feature {i}"] = repo.commit(f"feature {i}")
    records = {
        subject: make_record(sha, f"feature{i}.py")
        for i, (subject, sha) in enumerate(originals.items())
    }
    TraceStore.open(repo.root).append(records.values())

    repo.git("checkout", "-q", "main")
    repo.write("main.txt", "moved on\n")
    repo.commit("main moves")
    repo.git("checkout", "-q", "feature")
    repo.git("rebase", "-q", "main")

    log = repo.git("log", "--reverse", "--format=%H %s", "main..feature").splitlines()
    rebased = {subject: sha for sha, subject in (line.split(" ", 1) for line in log)}
    assert list(rebased) == list(originals)
    notes = backend(repo)
    for subject, new in rebased.items():
        old = originals[subject]
        assert new != old
        found = notes.for_revision(new)
        assert [s.record for s in found] == [records[subject]]
        assert found[0].carried is True
        assert found[0].commit == new
        assert found[0].record.revision == old
        # the original commit keeps its note as well
        assert [s.record.id for s in notes.for_revision(old)] == [records[subject].id]
        assert [s.carried for s in notes.for_revision(old)] == [False]


def test_without_rewrite_config_amend_loses_the_note(repo: GitRepo) -> None:
    """The control for the two tests above: it is notes.rewriteRef that carries notes."""
    old = repo.commit("first")
    record = make_record(old)
    repo.git("notes", f"--ref={NOTES_REF}", "add", "-m", compact(record), old)
    assert local_config(repo, REWRITE_KEY) == []
    repo.git("commit", "-q", "--amend", "--allow-empty", "-m", "second")
    assert repo.head() != old
    assert backend(repo).for_revision(repo.head()) == []


# --------------------------------------------------------------------------- store


def test_store_returns_a_record_once_although_it_is_in_file_and_note(repo: GitRepo) -> None:
    c1, c2 = commits(repo, 2)
    store = TraceStore.open(repo.root)
    r1, r1b, r2 = make_record(c1), make_record(c1, "lib.py"), make_record(c2)
    store.append([r1, r1b, r2])

    traces = store.traces_path.read_text(encoding="utf-8").splitlines()
    assert traces == [compact(r1), compact(r1b), compact(r2)]
    assert repo.notes() == {c1: f"{compact(r1)}\n{compact(r1b)}", c2: compact(r2)}

    found = TraceStore.open(repo.root).for_revision(c1)
    assert [s.record.id for s in found] == [r1.id, r1b.id]
    assert {s.backend for s in found} == {"file"}
    only_lib = TraceStore.open(repo.root).for_revision(c1, "lib.py")
    assert [s.record.id for s in only_lib] == [r1b.id]
    everything = list(TraceStore.open(repo.root).records())
    assert sorted(s.record.id for s in everything) == sorted([r1.id, r1b.id, r2.id])

    # a record only in the note (another clone's) is found as well, once
    remote_only = make_record(c1, "remote.py")
    backend(repo).append([remote_only])
    found = TraceStore.open(repo.root).for_revision(c1)
    assert [(s.record.id, s.backend) for s in found] == [
        (r1.id, "file"),
        (r1b.id, "file"),
        (remote_only.id, "notes"),
    ]


def test_store_without_notes_writes_no_notes(repo: GitRepo) -> None:
    c1, c2 = commits(repo, 2)
    store = TraceStore.open(repo.root, notes=False)
    assert store.notes is None
    r1, r2 = make_record(c1), make_record(c2)
    store.append([r1])
    store.append([r2], notes=True)
    assert repo.git("for-each-ref", "refs/notes/") == ""
    assert repo.notes() == {}
    assert local_config(repo, REWRITE_KEY) == []
    assert store.traces_path.read_text(encoding="utf-8").splitlines() == [
        compact(r1),
        compact(r2),
    ]
    assert [s.record.id for s in store.for_revision(c1)] == [r1.id]


def test_store_append_skips_notes_for_records_without_a_commit(repo: GitRepo) -> None:
    (c,) = commits(repo, 1)
    store = TraceStore.open(repo.root)
    good, dangling, loose = make_record(c), make_record("e" * 40), make_record(None)
    store.append([good, dangling, loose])
    assert repo.notes() == {c: compact(good)}
    assert len(store.traces_path.read_text(encoding="utf-8").splitlines()) == 3


def test_notes_ref_must_be_under_refs_notes(repo: GitRepo) -> None:
    repository: Repository = find_repository(repo.root)
    with pytest.raises(ValueError, match="refs/notes/"):
        NotesBackend(repository, "refs/heads/agent-trace")
