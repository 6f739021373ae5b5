"""The command-line side of surviving rewrites: the post-rewrite and post-merge hooks
under real git (stdin passed to a chained hook, fast-forwards not claimed, rebases
deferred to one recomputation), ``trace blame --explain`` and ``trace doctor``."""

from __future__ import annotations

import json
import shlex
import shutil
import stat
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from gitrepo import GitRepo

from agent_trace import Recorder, TraceStore, blame_file
from agent_trace._rewrite import parse_rewrite_input
from agent_trace.cli import cli

SONNET = "anthropic/claude-sonnet-4-5"
CLEAN_ENV = {"NO_COLOR": "", "FORCE_COLOR": ""}


def trace(repo: GitRepo, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, [*args, "-C", str(repo.root)], env=CLEAN_ENV)
    assert result.exit_code == code, result.output
    return result


def tokens(prefix: str, count: int, start: int = 0) -> str:
    return "".join(f"{prefix}_token_{i} = compute_{prefix}({i})\n" for i in range(start, count))


def agent_writes(repo: GitRepo, path: str, text: str) -> None:
    with Recorder(repo.root, model_id=SONNET, link=False) as rec, rec.edit(path):
        repo.write(path, text)


def types(repo: GitRepo, path: str, revision: str | None = None) -> list[str]:
    store = TraceStore.open(repo.root)
    return [line.type for line in blame_file(store, path, revision=revision).lines]


def hooked_repo(repo: GitRepo) -> GitRepo:
    repo.write("a.py", tokens("human", 5))
    repo.commit("base")
    trace(repo, "hooks", "install")
    return repo


def records_of(repo: GitRepo, commit: str) -> list[Mapping[str, Any]]:
    store = TraceStore.open(repo.root)
    return [s.record.ours for s in store.for_revision(commit) if s.record.revision == commit]


# --------------------------------------------------------------------------- post-rewrite


def test_parse_rewrite_input() -> None:
    a, b, c = "a" * 40, "b" * 40, "c" * 64
    assert parse_rewrite_input(f"{a} {b}\n\n{b} {a} extra\n") == [(a, b), (b, a)]
    assert parse_rewrite_input(f"{c} {c}\n") == [(c, c)]
    assert parse_rewrite_input("") == []
    with pytest.raises(ValueError, match="line 2"):
        parse_rewrite_input(f"{a} {b}\nnot a sha\n")
    with pytest.raises(ValueError, match="line 1"):
        parse_rewrite_input(f"{a}\n")


def test_amend_writes_a_recomputed_record_with_the_mapping(repo: GitRepo) -> None:
    hooked_repo(repo)
    agent_writes(repo, "a.py", tokens("human", 5) + tokens("agent", 6))
    old = repo.commit("agent work")
    shutil.rmtree(repo.root / ".agent-trace" / "pending")
    repo.write("b.py", tokens("later", 3))
    repo.git("add", "b.py")
    repo.git("commit", "-q", "--amend", "-m", "agent work, amended")
    new = repo.head()
    ours = records_of(repo, new)
    rewritten = [o for o in ours if o.get("linked_by") == "post-rewrite"]
    assert len(rewritten) == 1
    assert rewritten[0]["rewritten_from"] == [old]
    assert rewritten[0]["rewrite"] == "amend"
    assert types(repo, "a.py") == ["unknown"] * 5 + ["ai"] * 6
    assert types(repo, "b.py") == ["human"] * 3


def test_a_chained_post_rewrite_hook_gets_gits_input(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("a.py", tokens("human", 3))
    repo.commit("base")
    hooks = Path(repo.git("rev-parse", "--path-format=absolute", "--git-path", "hooks"))
    log = tmp_path / "theirs.log"
    theirs = hooks / "post-rewrite"
    theirs.parent.mkdir(parents=True, exist_ok=True)
    theirs.write_text(f'#!/bin/sh\n{{ echo "$1"; cat; }} >> {shlex.quote(str(log))}\n')
    theirs.chmod(theirs.stat().st_mode | stat.S_IXUSR)
    trace(repo, "hooks", "install")
    old = repo.head()
    repo.git("commit", "-q", "--amend", "-m", "reworded")
    assert log.read_text().split() == ["amend", old, repo.head()]
    trace(repo, "hooks", "uninstall")
    assert theirs.read_text().startswith("#!/bin/sh\n{ echo")


def test_rebase_defers_post_commit_to_one_recomputation(repo: GitRepo) -> None:
    hooked_repo(repo)
    repo.git("checkout", "-q", "-b", "feature")
    for i in range(3):
        agent_writes(repo, f"f{i}.py", tokens(f"agent{i}", 4))
        repo.commit(f"agent {i}")
    repo.git("checkout", "-q", "main")
    repo.write("a.py", "# header\n" + tokens("human", 5))
    repo.commit("upstream")
    repo.git("checkout", "-q", "feature")
    shutil.rmtree(repo.root / ".agent-trace" / "pending")
    repo.git("rebase", "-q", "main")
    git_dir = Path(repo.git("rev-parse", "--absolute-git-dir"))
    assert not (git_dir / "agent-trace-deferred").exists()
    for commit in repo.git("rev-list", "main..HEAD").split():
        linked = [o["linked_by"] for o in records_of(repo, commit)]
        assert linked == ["post-rewrite"]  # the post-commit hook left them to it
    for i in range(3):
        assert types(repo, f"f{i}.py") == ["ai"] * 4


def test_a_commit_made_during_a_rebase_stop_is_linked(repo: GitRepo, tmp_path: Path) -> None:
    hooked_repo(repo)
    agent_writes(repo, "b.py", tokens("agent", 4))
    repo.commit("agent")
    editor = tmp_path / "add-break.sh"
    editor.write_text('#!/bin/sh\necho break >> "$1"\n')
    editor.chmod(0o755)
    repo.git("-c", f"sequence.editor={editor}", "rebase", "-q", "-i", "--force-rebase", "HEAD~1")
    repo.write("c.py", tokens("stop", 3))
    extra = repo.commit("made while the rebase stopped")
    git_dir = Path(repo.git("rev-parse", "--absolute-git-dir"))
    assert (git_dir / "agent-trace-deferred").read_text().split()[-1] == extra
    repo.git("rebase", "--continue")
    assert not (git_dir / "agent-trace-deferred").exists()
    assert types(repo, "c.py") == ["human"] * 3
    assert [o["linked_by"] for o in records_of(repo, extra)] == ["hook"]
    assert types(repo, "b.py") == ["ai"] * 4


def test_post_merge_links_a_merge_commit_but_not_a_fast_forward(repo: GitRepo) -> None:
    hooked_repo(repo)
    repo.git("checkout", "-q", "-b", "side")
    agent_writes(repo, "side.py", tokens("side", 4))
    side = repo.commit("side work")
    repo.git("checkout", "-q", "main")
    # A fast-forward moves main to a commit that exists already: nothing to claim.
    repo.git("merge", "-q", "--ff-only", "side")
    assert [o["linked_by"] for o in records_of(repo, side)] == ["hook"]
    repo.git("checkout", "-q", "-b", "other", "HEAD~1")
    repo.write("other.py", tokens("other", 3))
    repo.commit("other")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-edit", "other")
    merge = repo.head()
    assert len(repo.git("rev-list", "--parents", "-n1", "HEAD").split()) == 3
    assert [o["linked_by"] for o in records_of(repo, merge)] == ["hook"]
    assert types(repo, "side.py") == ["ai"] * 4
    assert types(repo, "other.py") == ["human"] * 3


# --------------------------------------------------------------------------- explain


def test_blame_explain_names_commit_record_run_and_evidence(repo: GitRepo) -> None:
    hooked_repo(repo)
    with Recorder(repo.root, model_id=SONNET, link=False) as rec, rec.edit("a.py"):
        repo.write("a.py", tokens("human", 5) + tokens("agent", 2))
        run_id = rec.run_id
    commit = repo.commit("agent work")
    out = trace(repo, "blame", "a.py", "--explain", "6").stdout
    assert out.startswith(f"a.py:6: {SONNET}, confidence 1\n")
    assert "  text      agent_token_0 = compute_agent(0)\n" in out
    assert f"  commit    {commit[:12]} 'agent work' (line 6 of a.py there)\n" in out
    assert f"of {commit[:12]} (linked by hook)" in out
    assert "  range     lines 6-7 of a.py murmur3:" in out
    assert f"run {run_id}" in out
    assert "  evidence  edit-window: the recorder saw the file before and after" in out

    data = json.loads(trace(repo, "blame", "--explain", "a.py:2", "--format", "json").stdout)
    assert data["contributor"] == {"type": "unknown", "model_id": None}
    assert data["evidence"] == "no-record"
    assert data["commit_subject"] == "base"
    assert "record" not in data


def test_blame_explain_content_evidence_says_where_it_was_found(repo: GitRepo) -> None:
    hooked_repo(repo)
    agent_writes(repo, "a.py", tokens("human", 5) + tokens("agent", 6))
    source = repo.commit("agent work")
    trace(repo, "hooks", "uninstall")
    shutil.rmtree(repo.root / ".agent-trace" / "pending")
    repo.write("moved.py", tokens("agent", 6))  # a person copies the agent's code
    repo.commit("copy without hooks")
    data = json.loads(trace(repo, "blame", "--explain", "moved.py:3", "--format", "json").stdout)
    assert data["contributor"] == {"type": "ai", "model_id": SONNET}
    assert data["evidence"] == "content"
    assert data["confidence"] == 0.8
    assert data["found_at"] == {"revision": source, "path": "a.py", "line": 8, "matched_lines": 6}
    text = trace(repo, "blame", "--explain", "moved.py:3").stdout
    assert f"  found at  line 8 of a.py in {source[:12]} (6 lines matched in order)" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["blame", "--explain", "x"], "is not LINE or FILE:LINE"),
        (["blame", "--explain", "0", "a.py"], "is not LINE or FILE:LINE"),
        (["blame", "--explain", "3"], "--explain LINE needs PATH"),
        (["blame"], "missing PATH"),
        (["blame", "b.py", "--explain", "a.py:1"], "names another file"),
    ],
)
def test_blame_explain_usage_errors(repo: GitRepo, args: list[str], message: str) -> None:
    hooked_repo(repo)
    assert message in trace(repo, *args, code=2).output


def test_blame_explain_past_the_end_is_a_user_error(repo: GitRepo) -> None:
    hooked_repo(repo)
    result = trace(repo, "blame", "--explain", "a.py:99", code=1)
    assert "a.py has no line 99 (it has 5)" in result.output


# --------------------------------------------------------------------------- doctor


def test_doctor_reports_coverage_and_set_up_problems(repo: GitRepo) -> None:
    repo.write("a.py", tokens("human", 5))
    repo.write("logo.bin", b"\0\1\2")
    repo.commit("base")
    out = trace(repo, "doctor").stdout
    assert ": 1 file, 5 lines\n" in out  # the binary file is not counted
    assert "post-rewrite hook not installed" in out
    assert "fix: trace hooks install" in out

    trace(repo, "hooks", "install")
    agent_writes(repo, "a.py", tokens("human", 5) + tokens("agent", 4))
    repo.commit("agent")
    trace(repo, "hooks", "uninstall")
    shutil.rmtree(repo.root / ".agent-trace" / "pending")
    repo.write("copy.py", tokens("agent", 4))
    repo.commit("copy")
    trace(repo, "hooks", "install")
    data = json.loads(trace(repo, "doctor", "--format", "json").stdout)
    cov = data["coverage"]
    assert (cov["files"], cov["lines"]) == (2, 13)
    assert (cov["by_record"], cov["by_content"], cov["unknown"]) == (4, 4, 5)
    assert cov["types"] == {"ai": 8, "human": 0, "mixed": 0, "unknown": 5}
    assert cov["skipped"] == [{"path": "logo.bin", "reason": "binary"}]
    assert data["problems"] == []
    assert "no problems found" in trace(repo, "status").stdout
    only = json.loads(trace(repo, "doctor", "--path", "copy.py", "--format", "json").stdout)
    assert only["coverage"]["lines"] == 4


def test_doctor_fails_when_the_hook_interpreter_is_gone(repo: GitRepo) -> None:
    hooked_repo(repo)
    hook = Path(repo.git("rev-parse", "--path-format=absolute", "--git-path", "hooks"))
    script = hook / "post-commit"
    script.write_text(script.read_text().replace(sys.executable, "/nonexistent/python3"))
    result = trace(repo, "doctor", code=1)
    assert "the post-commit hook runs /nonexistent/python3, which no longer exists" in (
        result.output
    )


def test_doctor_in_a_repository_without_commits(repo: GitRepo) -> None:
    assert "no commits yet" in trace(repo, "doctor").stdout


def test_doctor_outside_a_repository(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["doctor", "-C", str(tmp_path)], env=CLEAN_ENV)
    assert result.exit_code == 3, result.output


def test_installed_trace_blame_explain(repo: GitRepo) -> None:
    hooked_repo(repo)
    agent_writes(repo, "a.py", tokens("human", 5) + tokens("agent", 2))
    repo.commit("agent work")
    script = Path(sys.executable).with_name("trace")
    proc = subprocess.run(
        [str(script), "blame", "--explain", "a.py:7"],
        cwd=repo.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"a.py:7: {SONNET}")
