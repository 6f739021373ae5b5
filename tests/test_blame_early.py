"""``trace blame`` starts ``git blame`` before it loads the rest (``_started.start_early``):
what it starts is used only when it is exactly the blame needed, and stopped otherwise,
so the answer is the same however the file is named and whatever changed meanwhile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from gitrepo import GitRepo

from agent_trace import TraceStore, _started, blame_file
from agent_trace import _blame as blame_module
from agent_trace.cli import cli

PATH = "src/pkg/module.py"


def history(repo: GitRepo, commits: int = 12) -> list[str]:
    lines = [f"value_{i} = {i}" for i in range(30)]
    made = []
    for n in range(commits):
        lines[(n * 7) % len(lines)] = f"value_{n} = compute_{n}()"
        lines.insert(n % 5, f"# note {n}")
        repo.write(PATH, "".join(f"{line}\n" for line in lines))
        made.append(repo.commit(f"change {n}"))
    return made


def cli_lines(repo: GitRepo, path: str, cwd: Path) -> list[tuple[object, ...]]:
    """``trace blame PATH --format json`` run from ``cwd`` (CliRunner, real git)."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, ["blame", path, "--format", "json"])
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    return [
        (x["line"], x["commit"], x["orig_line"], x["contributor"]["type"]) for x in data["lines"]
    ]


def library_lines(repo: GitRepo) -> list[tuple[object, ...]]:
    result = blame_file(TraceStore.open(repo.root), PATH, cache=False)
    return [(x.line, x.commit, x.orig_line, x.type) for x in result.lines]


@pytest.fixture
def claims(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each whole-file blame found a blame started early (a low split
    threshold, so the early start splits too)."""
    seen: list[bool] = []
    real = _started.claim

    def spy(root: str | os.PathLike[str], commit: str, path: str) -> _started.BlameStart | None:
        started = real(root, commit, path)
        seen.append(started is not None)
        return started

    monkeypatch.setattr(_started, "claim", spy)
    monkeypatch.setattr(_started, "SPLIT_MIN_COMMITS", 4)
    monkeypatch.setattr(blame_module, "SPLIT_MIN_COMMITS", 4)
    return seen


@pytest.mark.parametrize(
    "how", ["root", "subdirectory", "dot-slash", "absolute", "parent", "symlinked-directory"]
)
def test_the_early_blame_is_claimed_however_the_file_is_named(
    repo: GitRepo, claims: list[bool], tmp_path: Path, how: str
) -> None:
    history(repo)
    expected = library_lines(repo)
    claims.clear()
    root = repo.root
    link = tmp_path / "link"
    link.symlink_to(root, target_is_directory=True)
    path, cwd = {
        "root": (PATH, root),
        "subdirectory": ("module.py", root / "src" / "pkg"),
        "dot-slash": (f"./{PATH}", root),
        "absolute": (str(root / PATH), root / "src"),
        "parent": (f"../{root.name}/{PATH}", root),
        "symlinked-directory": (PATH, link),
    }[how]
    assert cli_lines(repo, path, cwd) == expected
    assert claims == [True]


def test_a_cached_blame_starts_nothing_early(repo: GitRepo, claims: list[bool]) -> None:
    history(repo)
    expected = library_lines(repo)
    claims.clear()
    assert cli_lines(repo, PATH, repo.root) == expected
    assert claims == [True]
    (repo.root / PATH).write_text("changed\n", encoding="utf-8")  # uncommitted: HEAD's cache
    assert len(cli_lines(repo, PATH, repo.root)) == 1
    assert claims == [True]  # the cached blame of HEAD was used: no whole-file blame ran


def test_an_early_blame_of_another_commit_or_path_is_stopped(repo: GitRepo) -> None:
    commits = history(repo, 3)
    _started.start_early(repo.root, PATH)
    early = _started._early
    assert early is not None
    assert (early.commit, early.path) == (commits[-1], PATH)
    processes = [s._proc for s in (early.started.plain, early.started.top) if s is not None]
    assert _started.claim(repo.root, commits[0], PATH) is None  # another commit
    assert _started._early is None
    assert all(p.poll() is not None for p in processes)
    _started.start_early(repo.root, PATH)
    assert _started.claim(repo.root, commits[-1], "src/other.py") is None  # another path
    _started.start_early(repo.root, PATH)
    _started.discard()
    assert _started._early is None


@pytest.mark.parametrize("path", ["", "a\nb", "../../outside.py", "."])
def test_nothing_starts_early_for_unusual_paths(repo: GitRepo, path: str) -> None:
    history(repo, 1)
    _started.start_early(repo.root / "src", path)
    assert _started._early is None


def test_nothing_starts_early_outside_a_repository_or_before_a_commit(
    tmp_path: Path, repo: GitRepo
) -> None:
    _started.start_early(tmp_path, "file.py")
    assert _started._early is None
    _started.start_early(repo.root, PATH)  # no commits yet
    assert _started._early is None
    result = CliRunner().invoke(cli, ["blame", "--repo", str(tmp_path), "file.py"])
    assert result.exit_code == 3, result.output
    assert "not inside a git work tree" in result.output


def test_the_installed_command_answers_as_the_library(repo: GitRepo) -> None:
    history(repo, 45)  # long enough to split with the real threshold
    trace = Path(sys.executable).parent / "trace"
    command = [str(trace)] if trace.exists() else [sys.executable, "-m", "agent_trace.cli"]
    out = subprocess.run(
        [*command, "blame", "pkg/module.py", "--format", "json"],
        cwd=repo.root / "src",
        capture_output=True,
        check=True,
    ).stdout
    data = json.loads(out)
    got = [
        (x["line"], x["commit"], x["orig_line"], x["contributor"]["type"]) for x in data["lines"]
    ]
    assert got == library_lines(repo)
