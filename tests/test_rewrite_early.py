"""The post-rewrite hook starts the parents' ``git rev-list`` and the ``git diff-tree
--stdin`` of a rebase's commits before it loads the rest (``_started.start_rewrite``):
the diff is used only when it is exactly the one the recomputation asks for, and
stopped otherwise, so the records written are the same with or without the head start."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from gitrepo import GitRepo

from agent_trace import Recorder, TraceStore, _started, blame_file
from agent_trace._records import record_to_dict
from agent_trace.cli import cli

SONNET = "anthropic/claude-sonnet-4-5"


def tokens(prefix: str, count: int) -> str:
    return "".join(f"{prefix}_token_{i} = compute_{prefix}({i})\n" for i in range(count))


def rebased(repo: GitRepo, commits: int = 3) -> tuple[str, dict[str, list[str]]]:
    """A feature branch of agent commits rebased onto a new main commit without hooks;
    git's post-rewrite input and the branch's AI lines per file before the rebase."""
    repo.write("a.py", tokens("human", 5))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    for i in range(commits):
        with Recorder(repo.root, model_id=SONNET) as rec:
            with rec.edit(f"f{i}.py"):
                repo.write(f"f{i}.py", tokens(f"agent{i}", 4))
            repo.commit(f"agent {i}")
            rec.link()
    before = repo.git("rev-list", "--reverse", "main..feature").split()
    repo.git("checkout", "-q", "main")
    repo.write("a.py", "# header\n" + tokens("human", 5))
    repo.commit("upstream")
    repo.git("checkout", "-q", "feature")
    shutil.rmtree(repo.root / ".agent-trace" / "pending")  # labels must be carried
    repo.git("-c", "core.hooksPath=/dev/null", "rebase", "-q", "main")
    after = repo.git("rev-list", "--reverse", "main..feature").split()
    text = "".join(f"{old} {new}\n" for old, new in zip(before, after, strict=True))
    return text, {f"f{i}.py": types(repo, f"f{i}.py") for i in range(commits)}


def types(repo: GitRepo, path: str) -> list[str]:
    return [line.type for line in blame_file(TraceStore.open(repo.root), path).lines]


def run_hook(repo: GitRepo, text: str) -> None:
    old = Path.cwd()
    os.chdir(repo.root)  # git runs hooks at the top of the work tree
    try:
        result = CliRunner().invoke(cli, ["hook", "post-rewrite", "rebase"], input=text)
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    assert result.output == "", result.output


def recomputed(repo: GitRepo) -> list[tuple[str, Any, Any]]:
    store = TraceStore.open(repo.root)
    out = []
    for commit in repo.git("rev-list", "--reverse", "main..feature").split():
        for stored in store.for_revision(commit):
            ours = stored.record.ours
            if stored.record.revision == commit and ours.get("linked_by") == "post-rewrite":
                files = record_to_dict(stored.record)["files"]
                out.append((commit, ours.get("rewritten_from"), files))
    return out


@pytest.fixture
def claimed(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each ``git diff-tree --stdin`` found the one started early."""
    seen: list[bool] = []
    real = _started.claim_output

    def spy(cwd: Any, args: Any, input: bytes) -> _started.Started | None:
        started = real(cwd, args, input)
        seen.append(started is not None)
        return started

    monkeypatch.setattr(_started, "claim_output", spy)
    return seen


def test_the_early_diff_is_claimed_and_the_records_are_the_same(
    repo: GitRepo, tmp_path: Path, claimed: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    text, before = rebased(repo)
    twin = GitRepo(tmp_path / "twin")
    shutil.copytree(repo.root, twin.root, symlinks=True)
    run_hook(repo, text)
    assert claimed == [True]
    assert _started._rewrite_start is None  # discarded
    assert {p: types(repo, p) for p in before} == before
    # The same recomputation with no head start writes the very same ranges.
    monkeypatch.setattr(_started, "start_rewrite", lambda directory, text: None)
    claimed.clear()
    run_hook(twin, text)
    assert claimed == [False]
    assert recomputed(twin) == recomputed(repo)
    assert len(recomputed(repo)) == 3


def test_an_early_diff_that_is_not_the_one_asked_for_is_stopped(
    repo: GitRepo, claimed: list[bool]
) -> None:
    text, before = rebased(repo)
    # A pair saved by an earlier hook that ran out of time: the batch differs from stdin.
    git_dir = Path(repo.git("rev-parse", "--absolute-git-dir"))
    first_old, first_new = text.split("\n")[0].split()
    (git_dir / "agent-trace-rewrites").write_text(f"{first_new} {first_old} rebase\n")
    run_hook(repo, text)
    assert claimed[0] is False
    assert {p: types(repo, p) for p in before} == before


def test_what_started_early_is_stopped_by_another_claim(repo: GitRepo) -> None:
    text, _ = rebased(repo, 2)
    _started.start_rewrite(repo.root, text)
    early = _started._rewrite_start
    assert early is not None
    assert early.started is not None
    process = early.started._proc
    assert _started.early_parents(repo.root)  # the parents, read for the hook
    assert _started.claim_output(repo.root, early.args, early.input + b"\n") is None
    assert process.poll() is not None  # stopped
    left = _started._rewrite_start
    assert left is not None
    assert left.started is None
    _started.start_rewrite(repo.root, text)
    found = _started.claim_output(repo.root, early.args, early.input)
    assert found is not None
    assert found.result().startswith(early.input.split()[0] + b"\0")
    _started.discard()
    assert _started.early_parents(repo.root) == {}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        "not a sha\n",
        f"{'a' * 40}\n",
        f"{'a' * 40} {'b' * 40}\n",
        "A" * 40 + " " + "B" * 40,
    ],
)
def test_nothing_starts_early_for_unusual_input(repo: GitRepo, text: str) -> None:
    rebased(repo, 1)
    _started.start_rewrite(repo.root, text)  # malformed, or commits git does not have
    assert _started._rewrite_start is None
    assert _started.early_parents(repo.root) == {}


def test_nothing_starts_early_outside_a_repository(repo: GitRepo, tmp_path: Path) -> None:
    text, _ = rebased(repo, 1)
    _started.start_rewrite(tmp_path, text)
    assert _started._rewrite_start is None


def test_a_malformed_line_is_still_reported_by_the_installed_hook(repo: GitRepo) -> None:
    """The whole process, as git's hook runs it: the head start changes no message."""
    rebased(repo, 1)
    proc = subprocess.run(
        [sys.executable, "-m", "agent_trace.cli", "hook", "post-rewrite", "rebase"],
        cwd=repo.root,
        input=b"not a sha\n",
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0  # a hook never fails git
    assert b"post-rewrite input line 1" in proc.stderr
    log = (repo.root / ".agent-trace" / "hooks.log").read_text()
    assert "post-rewrite input line 1" in log
