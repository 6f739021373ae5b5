"""``trace hooks install|uninstall|status`` and the post-commit hook they install, on real
repositories: the hook runs under real ``git commit`` with this test's interpreter."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result
from gitrepo import GitRepo

from agent_trace import Recorder, TraceStore

SONNET = "anthropic/claude-sonnet-4-5"
CLEAN_ENV = {"NO_COLOR": "", "FORCE_COLOR": ""}
SAVED = "post-commit.agent-trace-saved"


def trace(repo: GitRepo, *args: str, code: int = 0) -> Result:
    from agent_trace.cli import cli

    result = CliRunner().invoke(cli, [*args, "-C", str(repo.root)], env=CLEAN_ENV)
    assert result.exit_code == code, result.output
    return result


def hooks_dir(repo: GitRepo) -> Path:
    return Path(repo.git("rev-parse", "--path-format=absolute", "--git-path", "hooks"))


def foreign_hook(path: Path, log: Path) -> bytes:
    """An executable post-commit hook of someone else's that appends to ``log``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'#!/bin/sh\n# the team\'s own hook\necho "theirs $#" >> {shlex.quote(str(log))}\n',
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path.read_bytes()


def agent_writes(repo: GitRepo, path: str, text: str) -> None:
    with Recorder(repo.root, model_id=SONNET) as rec, rec.edit(path):
        repo.write(path, text)


def states(directory: Path, *, default: str = "absent", **special: str) -> str:
    """``trace hooks`` output: each hook's state (``post_commit="foreign"``...)."""
    out = []
    for name in ("post-commit", "post-merge", "post-rewrite"):
        state = special.get(name.replace("-", "_"), default)
        out.append(f"{name}: {state}  {directory / name}\n")
    return "".join(out)


def linked_by(repo: GitRepo, commit: str) -> list[str]:
    store = TraceStore.open(repo.root)
    return [str(s.record.ours.get("linked_by")) for s in store.for_revision(commit)]


def test_status_of_a_fresh_repository(repo: GitRepo) -> None:
    out = trace(repo, "hooks", "status").stdout
    assert out == states(hooks_dir(repo))


def test_install_chains_an_existing_hook_and_uninstall_restores_it(
    repo: GitRepo, tmp_path: Path
) -> None:
    repo.write("README.md", "r\n")
    repo.commit("base")
    hook = hooks_dir(repo) / "post-commit"
    log = tmp_path / "theirs.log"
    original = foreign_hook(hook, log)
    assert trace(repo, "hooks", "status").stdout == states(hook.parent, post_commit="foreign")

    out = trace(repo, "hooks", "install").stdout
    chained = "installed (calls the hook that was there before)"
    assert out == states(hook.parent, default="installed", post_commit=chained)
    assert (hook.parent / SAVED).read_bytes() == original
    assert f"{shlex.quote(sys.executable)} -m agent_trace.cli hook post-commit" in hook.read_text()
    assert trace(repo, "hooks", "status").stdout == out

    agent_writes(repo, "a.py", "a1\na2\n")
    head = repo.commit("after the run")
    assert log.read_text() == "theirs 0\n"  # the team's hook ran ...
    assert linked_by(repo, head) == ["hook"]  # ... and so did ours
    head2 = repo.commit("empty")
    assert log.read_text() == "theirs 0\ntheirs 0\n"
    assert linked_by(repo, head2) == ["hook"]

    out = trace(repo, "hooks", "uninstall").stdout
    assert out == states(hook.parent, post_commit="foreign")
    assert hook.read_bytes() == original
    assert os.access(hook, os.X_OK)
    assert not (hook.parent / SAVED).exists()
    assert sorted(p.name for p in hook.parent.iterdir() if not p.name.endswith(".sample")) == [
        "post-commit"
    ]
    head3 = repo.commit("after uninstall")
    assert log.read_text().count("theirs") == 3
    assert linked_by(repo, head3) == []


def test_install_is_idempotent_and_uninstall_without_a_previous_hook(repo: GitRepo) -> None:
    hook = hooks_dir(repo) / "post-commit"
    first = trace(repo, "hooks", "install").stdout
    script = hook.read_bytes()
    installed = states(hook.parent, default="installed")
    assert trace(repo, "hooks", "install").stdout == first == installed
    assert hook.read_bytes() == script
    assert not (hook.parent / SAVED).exists()
    assert trace(repo, "hooks", "uninstall").stdout == states(hook.parent)
    assert not hook.exists()
    assert not (hook.parent / "post-rewrite").exists()
    assert trace(repo, "hooks", "uninstall").stdout == states(hook.parent)


def test_install_refuses_to_overwrite_a_saved_hook(repo: GitRepo, tmp_path: Path) -> None:
    hook = hooks_dir(repo) / "post-commit"
    original = foreign_hook(hook, tmp_path / "log")
    (hook.parent / SAVED).write_text("#!/bin/sh\n", encoding="utf-8")
    result = trace(repo, "hooks", "install", code=3)
    assert SAVED in result.output
    assert hook.read_bytes() == original


def test_core_hooks_path_is_honoured(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("README.md", "r\n")
    repo.commit("base")
    custom = tmp_path / "team-hooks"
    repo.git("config", "core.hooksPath", str(custom))
    log = tmp_path / "theirs.log"
    original = foreign_hook(custom / "post-commit", log)

    out = trace(repo, "hooks", "install").stdout
    chained = "installed (calls the hook that was there before)"
    assert out == states(custom, default="installed", post_commit=chained)
    assert not (repo.root / ".git" / "hooks" / "post-commit").exists()
    assert (custom / SAVED).read_bytes() == original

    agent_writes(repo, "a.py", "a1\n")
    head = repo.commit("agent")
    assert linked_by(repo, head) == ["hook"]
    assert log.read_text() == "theirs 0\n"

    trace(repo, "hooks", "uninstall")
    assert (custom / "post-commit").read_bytes() == original
    assert not (custom / SAVED).exists()


def test_a_failing_hook_never_fails_the_commit(repo: GitRepo) -> None:
    repo.write("README.md", "r\n")
    repo.commit("base")
    trace(repo, "hooks", "install")
    # A file where the store's directory should be: linking cannot read pending state.
    (repo.root / ".git" / "info").mkdir(exist_ok=True)
    with (repo.root / ".git" / "info" / "exclude").open("a") as f:
        f.write("/.agent-trace\n")
    (repo.root / ".agent-trace").write_text("not a directory\n", encoding="utf-8")
    repo.write("a.py", "a\n")
    repo.git("add", "a.py")
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "human"],
        cwd=repo.root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "agent-trace: post-commit hook failed" in proc.stderr
    assert repo.git("log", "-1", "--format=%s") == "human"


def test_commit_inside_a_run_with_the_hook_installed_is_linked_once(repo: GitRepo) -> None:
    repo.write("README.md", "r\n")
    repo.commit("base")
    trace(repo, "hooks", "install")
    with Recorder(repo.root, model_id=SONNET) as rec:
        with rec.edit("a.py"):
            repo.write("a.py", "a1\n")
        head = repo.commit("agent")  # the hook links it first
    assert [(r.commit, r.already_linked) for r in rec.links] == [(head, True)]
    assert linked_by(repo, head) == ["hook"]
    [stored] = TraceStore.open(repo.root).for_revision(head)
    [conversation] = stored.record.files[0].conversations
    assert conversation.contributor is not None
    assert (str(conversation.contributor.type), conversation.contributor.model_id) == ("ai", SONNET)


def test_a_hook_past_its_time_bound_stops_logs_and_lets_git_go_on(repo: GitRepo) -> None:
    """Another process holds the records' lock for longer than the hook may take: the
    commit still succeeds within about the time bound, the hook says so on one line and
    logs it, `trace doctor` reports it, and `trace link` links the commit afterwards."""
    import fcntl
    import time

    repo.write("README.md", "r\n")
    repo.commit("base")
    trace(repo, "hooks", "install")
    agent_writes(repo, "a.py", "print('agent')\n")
    traces = repo.root / ".agent-trace" / "traces.jsonl"
    traces.touch()
    repo.git("add", "a.py")
    env = {**os.environ, "AGENT_TRACE_HOOK_TIMEOUT": "2"}
    with traces.open("ab") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        start = time.monotonic()
        proc = subprocess.run(
            ["git", "commit", "-q", "-m", "agent"],
            cwd=repo.root, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    assert 1.5 < elapsed < 20, elapsed  # stopped by its own bound, not the 30 s lock wait
    lines = [line for line in proc.stderr.splitlines() if "agent-trace" in line]
    assert len(lines) == 1, proc.stderr
    assert "HookTimeout" in lines[0]
    assert "AGENT_TRACE_HOOK_TIMEOUT" in lines[0]
    logged = (repo.root / ".agent-trace" / "hooks.log").read_text(encoding="utf-8")
    assert "HookTimeout" in logged
    doctor = trace(repo, "doctor")  # a warning: the commit went through
    assert "1 hook failure(s) logged" in doctor.output
    assert "HookTimeout" in doctor.output
    assert TraceStore.open(repo.root).for_revision(repo.head()) == []
    trace(repo, "link", "HEAD")
    assert TraceStore.open(repo.root).for_revision(repo.head())


def test_a_stopped_post_rewrite_hook_keeps_its_pairs_for_trace_link(repo: GitRepo) -> None:
    """An amend whose post-rewrite hook runs out of time: git's old->new pairs are kept
    in the git dir, and `trace link` recomputes the new commit from the old one."""
    import fcntl

    repo.write("README.md", "r\n")
    repo.commit("base")
    trace(repo, "hooks", "install")
    agent_writes(repo, "a.py", "print('agent')\n")
    old = repo.commit("agent")
    traces = repo.root / ".agent-trace" / "traces.jsonl"
    env = {**os.environ, "AGENT_TRACE_HOOK_TIMEOUT": "1"}
    with traces.open("ab") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        proc = subprocess.run(
            ["git", "commit", "-q", "--amend", "-m", "agent, amended"],
            cwd=repo.root, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "HookTimeout" in proc.stderr
    saved = Path(repo.git("rev-parse", "--absolute-git-dir")) / "agent-trace-rewrites"
    assert saved.read_text().split() == [old, repo.head(), "amend"]
    result = trace(repo, "link")
    assert "relinked 1 rewritten commit(s)" in result.output
    assert not saved.exists()
    records = [s.record for s in TraceStore.open(repo.root).for_revision(repo.head())]
    (ours,) = [
        r.metadata["dev.agent-trace"]
        for r in records
        if r.metadata is not None and r.vcs is not None and r.vcs.revision == repo.head()
    ]
    assert ours["rewritten_from"] == [old]
    assert ours["rewrite"] == "amend"
    assert ours["linked_by"] == "post-rewrite"


def test_the_time_bound_can_be_turned_off(repo: GitRepo) -> None:
    repo.write("README.md", "r\n")
    repo.commit("base")
    trace(repo, "hooks", "install")
    agent_writes(repo, "a.py", "print('agent')\n")
    repo.git("add", "a.py")
    env = {**os.environ, "AGENT_TRACE_HOOK_TIMEOUT": "0"}
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "agent"],
        cwd=repo.root, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "agent-trace" not in proc.stderr
    assert TraceStore.open(repo.root).for_revision(repo.head())
