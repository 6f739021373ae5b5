"""Every kind of repository an agent may work in: a shallow clone, a superproject and its
submodule, a detached HEAD, a repository without commits, a bare repository, a global
``core.hooksPath``, hooks whose Python lost agent-trace, files over 64 MiB, and files
that are not UTF-8. Each behaves as documented, and never with a traceback.

Real repositories built with the real ``git`` in temporary directories (the user's own
git configuration is never read: see ``conftest._isolated_git``), real files, the real
CLI."""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result
from gitrepo import GitRepo, git
from test_agents_e2e import installed_trace
from test_agents_e2e import trace as cli_trace
from test_attribution import (
    GPT,
    SONNET,
    _change,
    blame,
    events_of,
    file_changes,
    lines,
    record_of,
    trace,
    who,
)
from test_hooks import hooks_dir, linked_by, states
from test_privacy import no_traceback

from agent_trace import NotAGitRepository, Recorder, TraceStore
from agent_trace._lines import is_binary
from agent_trace.events import ItemCompletedEvent, ItemStartedEvent, PatchApplyStatus

UNKNOWN = "unknown"
MiB = 1024 * 1024


def one_line(result: Result) -> str:
    """The single line a failing command printed (and no traceback)."""
    no_traceback(result)
    [line] = result.output.strip().splitlines()
    return line


def commit_with_hooks(repo: GitRepo, message: str, *paths: str) -> subprocess.CompletedProcess[str]:
    """``git commit`` of ``paths`` (the hooks run); asserts it succeeded."""
    repo.git("add", "--", *paths)
    argv, root = ["git", "commit", "-q", "-m", message], repo.root
    proc = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def pending_paths(repo: GitRepo) -> list[str]:
    directory = repo.root / ".agent-trace" / "pending"
    return sorted(
        json.loads(p.read_text(encoding="utf-8"))["path"] for p in directory.glob("*.json")
    )


# --------------------------------------------------------------------------- 1. shallow


def test_shallow_clone_boundary_lines_are_unknown_until_notes_are_fetched(
    tmp_path: Path,
) -> None:
    origin = GitRepo.init(tmp_path / "origin")
    origin.write("README.md", "# project\n")
    origin.commit("c0")
    origin.write("a.py", lines("h1", "h2"))
    origin.commit("c1: a person")
    with Recorder(origin.root, model_id=GPT) as rec, rec.edit("a.py"):
        origin.write("a.py", lines("h1", "h2", "agent3"))
    head = origin.commit("c2: the agent")
    trace(origin, "link")
    assert head in origin.notes()
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin.root}", "shallow")
    shallow = GitRepo(tmp_path / "shallow")
    assert (shallow.root / ".git" / "shallow").read_text().split() == [head]

    out = trace(shallow, "link").stdout
    assert out == f"{head[:12]} linked: 0 AI line(s), 0 human line(s), 4 unknown line(s)\n"
    record = record_of(shallow, head)
    assert record.files == []  # no human range, no range at all
    assert record.ours["parents"] == []
    assert who(blame(shallow, "a.py")) == [
        (1, UNKNOWN, None),
        (2, UNKNOWN, None),
        (3, UNKNOWN, None),
    ]
    assert who(blame(shallow, "README.md")) == [(1, UNKNOWN, None)]

    doctor = trace(shallow, "doctor")
    no_traceback(doctor)
    assert "warning: this is a shallow clone" in doctor.output
    assert "git fetch --unshallow && trace notes fetch" in doctor.output

    fetched = trace(shallow, "notes", "fetch", "origin").stdout
    assert fetched == "fetched attribution notes from origin and merged them into " + (
        "refs/notes/agent-trace\n"
    )
    assert who(blame(shallow, "a.py")) == [(1, UNKNOWN, None), (2, UNKNOWN, None), (3, "ai", GPT)]


def test_a_full_clone_links_the_same_commit_as_human(tmp_path: Path) -> None:
    """The contrast: with the parents there, lines nothing labels are a person's."""
    origin = GitRepo.init(tmp_path / "origin")
    origin.write("a.py", lines("h1"))
    origin.commit("c0")
    origin.write("a.py", lines("h1", "h2"))
    head = origin.commit("c1")
    git(tmp_path, "clone", "-q", f"file://{origin.root}", "full")
    full = GitRepo(tmp_path / "full")
    assert trace(full, "link").stdout == f"{head[:12]} linked: 0 AI line(s), 1 human line(s)\n"


# --------------------------------------------------------------------------- 2. submodule


@pytest.fixture
def superproject(tmp_path: Path) -> GitRepo:
    """A repository with a submodule at ``sub`` (holding ``file.txt``)."""
    library = GitRepo.init(tmp_path / "library")
    library.write("file.txt", lines("s1"))
    library.commit("library")
    top = GitRepo.init(tmp_path / "super")
    top.write("README.md", "r\n")
    top.commit("base")
    top.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library.root), "sub")
    top.commit("add the submodule")
    sub = GitRepo(top.root / "sub")
    sub.git("config", "user.name", "Test Human")
    sub.git("config", "user.email", "human@example.com")
    return top


def test_submodule_files_are_refused_in_the_superproject(
    superproject: GitRepo, caplog: pytest.LogCaptureFixture
) -> None:
    top = superproject
    sub = GitRepo(top.root / "sub")
    caplog.set_level(logging.WARNING, logger="agent_trace")
    with Recorder(top.root, model_id=GPT) as rec:
        with pytest.raises(ValueError, match=r"^sub/file\.txt: inside sub, another git repo"):
            rec.edit("sub/file.txt")
        rec.emit(ItemStartedEvent(item=_change("fc", PatchApplyStatus.IN_PROGRESS, "sub/file.txt")))
        sub.write("file.txt", lines("s1", "agent"))
        rec.emit(ItemCompletedEvent(item=_change("fc", PatchApplyStatus.COMPLETED, "sub/file.txt")))
        with rec.edit("top.py"):
            top.write("top.py", lines("top"))
    reported = [(t, [c.path for c in item.changes]) for t, item in file_changes(events_of(rec))]
    assert ("item.completed", ["sub/file.txt"]) in reported  # logged ...
    assert "sub/file.txt" in caplog.text
    assert "another git repository" in caplog.text
    assert pending_paths(top) == ["top.py"]  # ... not attributed

    refused = trace(top, "blame", "sub/file.txt", code=1)
    line = one_line(refused)
    assert "sub/file.txt" in line
    assert "inside sub" in line

    sub.commit("in the submodule")
    head = top.commit("bump the submodule, add top.py")
    out = trace(top, "link").stdout
    assert out == f"{head[:12]} linked: 1 AI line(s), 0 human line(s); sub skipped (submodule)\n"
    record = record_of(top, head)
    assert [f.path for f in record.files] == ["top.py"]
    assert record.ours["skipped"] == [{"path": "sub", "reason": "submodule"}]


def test_a_recorder_inside_the_submodule_works(superproject: GitRepo) -> None:
    sub = GitRepo(superproject.root / "sub")
    with Recorder(sub.root, model_id=SONNET) as rec:
        with rec.edit("file.txt"):
            sub.write("file.txt", lines("s1", "agent2"))
        head = sub.commit("agent in the submodule")
    assert [(r.commit, r.ai_lines) for r in rec.links] == [(head, 1)]
    assert who(blame(sub, "file.txt")) == [(1, UNKNOWN, None), (2, "ai", SONNET)]
    assert (sub.root / ".agent-trace" / "traces.jsonl").exists()
    assert not (superproject.root / ".agent-trace").exists()
    assert sub.git("status", "--porcelain") == ""  # the store is excluded in sub's git dir


# --------------------------------------------------------------------------- 3. detached


def test_detached_head_commits_are_linked_by_the_hook(repo: GitRepo) -> None:
    repo.write("README.md", "r\n")
    repo.commit("base")
    repo.write("README.md", "r\nr2\n")
    repo.commit("second")
    repo.git("checkout", "-q", "--detach", "HEAD~1")
    trace(repo, "hooks", "install")
    with Recorder(repo.root, model_id=GPT) as rec:
        with rec.edit("a.py"):
            repo.write("a.py", lines("a1", "a2"))
        commit_with_hooks(repo, "detached, in the run", "a.py")
        head = repo.head()
    assert repo.git("rev-parse", "--abbrev-ref", "HEAD") == "HEAD"  # still detached
    assert [(r.commit, r.already_linked) for r in rec.links] == [(head, True)]
    assert linked_by(repo, head) == ["hook"]
    with Recorder(repo.root, model_id=GPT) as rec2, rec2.edit("b.py"):
        repo.write("b.py", lines("b1"))
    commit_with_hooks(repo, "detached, after the run", "b.py")
    assert linked_by(repo, repo.head()) == ["hook"]
    data = blame(repo, "a.py")
    assert who(data) == [(1, "ai", GPT), (2, "ai", GPT)]
    assert [line["commit"] for line in data["lines"]] == [head, head]
    assert who(blame(repo, "b.py")) == [(1, "ai", GPT)]


# --------------------------------------------------------------------------- 4. unborn


def test_a_repository_without_commits(repo: GitRepo) -> None:
    for args in (["show"], ["show", "HEAD"], ["link"], ["link", "HEAD"]):
        line = one_line(trace(repo, *args, code=1))
        assert "'HEAD' does not name a commit" in line, args
    assert "no commits yet" in one_line(trace(repo, "report", code=1))
    repo.write("untracked.txt", lines("u1", "u2"))
    data = blame(repo, "untracked.txt")
    assert who(data) == [(1, UNKNOWN, None), (2, UNKNOWN, None)]
    assert [line["commit"] for line in data["lines"]] == [None, None]

    trace(repo, "hooks", "install")
    with Recorder(repo.root, model_id=SONNET) as rec, rec.edit("a.py"):
        repo.write("a.py", lines("a1", "a2"))
    proc = commit_with_hooks(repo, "the first commit", "a.py")
    assert "agent-trace" not in proc.stderr
    head = repo.head()
    assert linked_by(repo, head) == ["hook"]
    assert record_of(repo, head).ours["parents"] == []
    assert who(blame(repo, "a.py")) == [(1, "ai", SONNET), (2, "ai", SONNET)]
    assert one_line(trace(repo, "show", "HEAD~1", code=1)).startswith("Error: ")


# --------------------------------------------------------------------------- 5. bare


def test_a_bare_repository_is_refused_everywhere(tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    for args in (["runs"], ["blame", "x"], ["hooks", "install"], ["gc"], ["link"]):
        result = cli_trace(*args, "-C", str(bare), code=3)
        line = one_line(result)
        assert "bare" in line, args
    assert not (bare / "hooks" / "post-commit").exists()
    proc = installed_trace("runs", cwd=bare)
    assert proc.returncode == 3
    no_traceback(proc)
    with pytest.raises(NotAGitRepository, match="bare"), Recorder(bare):
        pass
    assert sorted(p.name for p in bare.iterdir()) == sorted(
        ["HEAD", "branches", "config", "description", "hooks", "info", "objects", "refs"]
    )


# --------------------------------------------------------------------------- 6. hooksPath


def test_a_global_hooks_path_is_refused_unless_shared(repo: GitRepo, tmp_path: Path) -> None:
    global_config = Path(os.environ["GIT_CONFIG_GLOBAL"])
    assert global_config.is_relative_to(Path(os.environ["HOME"]))  # a temporary home
    shared = tmp_path / "everyones-hooks"
    git(repo.root, "config", "--global", "core.hooksPath", str(shared))
    repo.write("README.md", "r\n")
    repo.commit("base")

    line = one_line(trace(repo, "hooks", "install", code=1))
    assert f"core.hooksPath is set to {shared} in your global git configuration" in line
    assert str(global_config) in line
    assert "trace hooks install --shared" in line
    assert not shared.exists()

    out = trace(repo, "hooks", "install", "--shared").stdout
    assert out == states(shared, default="installed")
    with Recorder(repo.root, model_id=GPT) as rec, rec.edit("a.py"):
        repo.write("a.py", lines("a1"))
    commit_with_hooks(repo, "agent", "a.py")
    assert linked_by(repo, repo.head()) == ["hook"]
    assert not (repo.root / ".git" / "hooks" / "post-commit").exists()


def test_a_repository_hooks_path_wins_over_the_global_one(repo: GitRepo, tmp_path: Path) -> None:
    shared = tmp_path / "everyones-hooks"
    own = tmp_path / "own-hooks"
    git(repo.root, "config", "--global", "core.hooksPath", str(shared))
    repo.git("config", "core.hooksPath", str(own))
    result = trace(repo, "hooks", "install")
    assert result.output == states(own, default="installed")
    assert not shared.exists()


# --------------------------------------------------------------------------- 7. interpreter


def python_without_agent_trace(tmp_path: Path) -> str:
    python = "/usr/bin/python3"
    if not Path(python).exists():
        pytest.skip(f"{python} is not installed")
    proc = subprocess.run(
        [python, "-c", "import agent_trace.cli"], cwd=tmp_path, capture_output=True, check=False
    )
    if proc.returncode == 0:
        pytest.skip(f"{python} can import agent_trace")
    return python


@pytest.fixture(params=["without-agent-trace", "missing"])
def broken_hook(request: pytest.FixtureRequest, repo: GitRepo, tmp_path: Path) -> tuple[str, str]:
    """The post-commit hook made to run a Python that cannot run it: ``(python, why)``."""
    if request.param == "missing":
        python, why = str(tmp_path / "gone" / "python3"), "which no longer exists"
    else:
        python, why = python_without_agent_trace(tmp_path), "which cannot import agent-trace"
    repo.write("README.md", "r\n")
    repo.commit("base")
    trace(repo, "hooks", "install")
    TraceStore.open(repo.root).ensure_directory()
    hook = hooks_dir(repo) / "post-commit"
    script = hook.read_text(encoding="utf-8")
    assert shlex.quote(sys.executable) in script
    hook.write_text(script.replace(shlex.quote(sys.executable), python), encoding="utf-8")
    return python, why


def test_a_hook_whose_python_cannot_run_it(
    repo: GitRepo, broken_hook: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    python, why = broken_hook
    repo.write("a.py", lines("a1"))
    proc = commit_with_hooks(repo, "a commit", "a.py")
    assert repo.git("log", "-1", "--format=%s") == "a commit"
    ours = [line for line in proc.stderr.splitlines() if "agent-trace" in line]
    assert len(ours) == 1, proc.stderr
    assert "post-commit hook could not run" in ours[0]
    assert python in ours[0]
    assert "trace doctor" in ours[0]
    others = [line for line in proc.stderr.splitlines() if "agent-trace" not in line]
    assert len(others) <= 1, proc.stderr  # the shell's or Python's own complaint
    [logged] = (repo.root / ".agent-trace" / "hooks.log").read_text().splitlines()
    assert "post-commit hook could not run" in logged
    assert f"from {python} -m agent_trace.cli" in logged

    monkeypatch.chdir(repo.root)  # where the hook runs
    doctor = trace(repo, "doctor", code=1)
    no_traceback(doctor)
    assert f"error: the post-commit hook runs {python}, {why}" in doctor.output
    assert "1 hook failure(s) logged" in doctor.output
    assert TraceStore.open(repo.root).for_revision(repo.head()) == []


def test_doctor_checks_the_interpreter_where_the_hook_runs(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python = python_without_agent_trace(tmp_path)
    trace(repo, "hooks", "install")
    hook = hooks_dir(repo) / "post-commit"
    hook.write_text(hook.read_text().replace(shlex.quote(sys.executable), python))
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "agent_trace").mkdir(parents=True)
    (elsewhere / "agent_trace" / "__init__.py").write_text("")
    (elsewhere / "agent_trace" / "cli.py").write_text("")
    monkeypatch.chdir(elsewhere)
    doctor = trace(repo, "doctor", code=1)
    assert f"the post-commit hook runs {python}, which cannot import agent-trace" in doctor.output


# --------------------------------------------------------------------------- 8. 64 MiB


def test_a_file_grown_past_64_mib_is_an_update_not_attributed(
    repo: GitRepo, caplog: pytest.LogCaptureFixture
) -> None:
    repo.write("big.txt", lines("b1", "b2"))
    repo.commit("base")
    caplog.set_level(logging.WARNING, logger="agent_trace")
    with Recorder(repo.root, model_id=GPT) as rec:
        with rec.edit("big.txt"):
            repo.write("big.txt", lines("b1", "b2", "agent3"))
        assert pending_paths(repo) == ["big.txt"]
        with rec.edit("big.txt"), (repo.root / "big.txt").open("r+b") as f:
            f.truncate(65 * MiB)  # sparse: no real disk use
    info = os.stat(repo.root / "big.txt")
    assert info.st_size == 65 * MiB
    assert info.st_blocks * 512 < MiB
    [(_, first), (_, second)] = [
        (t, item) for t, item in file_changes(events_of(rec)) if t == "item.completed"
    ]
    assert [(c.path, str(c.kind)) for c in first.changes] == [("big.txt", "update")]
    [change] = second.changes
    assert (change.path, str(change.kind)) == ("big.txt", "update")
    assert "not attributed" in change.extra["agent_trace"]
    assert pending_paths(repo) == []  # its pending state dropped
    assert "big.txt" in caplog.text
    assert "not attributed" in caplog.text


# --------------------------------------------------------------------------- 9. encodings


def test_is_binary() -> None:
    assert is_binary(b"text\x00with a NUL\n")
    assert not is_binary(b"caf\xe9\nna\xefve \xff\xfe\n")
    assert not is_binary("plain ∑ text\n".encode())


def test_latin_1_and_invalid_utf8_lines_are_attributed(repo: GitRepo) -> None:
    repo.write("latin.txt", b"caf\xe9\n")
    repo.commit("base")
    with Recorder(repo.root, model_id=GPT) as rec, rec.edit("latin.txt", "nul.txt"):
        repo.write("latin.txt", b"caf\xe9\nna\xefve \xff\xfe\n\xc3\x28 not utf-8\n")
        repo.write("nul.txt", b"text\x00with a NUL\n")
    expected = [(1, UNKNOWN, None), (2, "ai", GPT), (3, "ai", GPT)]
    assert who(blame(repo, "latin.txt")) == expected
    assert who(blame(repo, "nul.txt")) == [(1, UNKNOWN, None)]  # binary: not attributed
    assert pending_paths(repo) == ["latin.txt"]
    head = repo.commit("agent")
    out = trace(repo, "link").stdout
    assert out == f"{head[:12]} linked: 2 AI line(s), 0 human line(s); nul.txt skipped (binary)\n"
    assert who(blame(repo, "latin.txt")) == expected
    text = trace(repo, "blame", "latin.txt")
    no_traceback(text)
    assert "na\ufffdve" in text.output
    proc = installed_trace("blame", "latin.txt", cwd=repo.root)
    assert proc.returncode == 0
    no_traceback(proc)
    assert b"caf" in proc.stdout
    no_traceback(trace(repo, "blame", "nul.txt"))
