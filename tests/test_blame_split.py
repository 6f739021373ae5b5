"""Whole-file blames split in two (``_blame._blame_commit``): ``git blame MIDDLE..COMMIT``
and ``git blame MIDDLE`` side by side, composed (``_blame_hunks.compose``).

The reference is ``git blame --incremental`` itself, parsed by ``test_blame_cache``'s
own parser. Every test checks that the split really ran (or really fell back), so none
passes by taking the plain path.
"""

from __future__ import annotations

import random
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from gitrepo import GitRepo
from hypothesis import given
from hypothesis import strategies as st
from test_blame_cache import PROPERTY_SETTINGS, git_blame, rows

from agent_trace import TraceStore, blame_file
from agent_trace import _blame as blame_module
from agent_trace._blame_hunks import Hunk, compose, parse_incremental

PATH = "src/module.py"


class Calls:
    """Which way ``_blame_commit`` went: ``split`` (composed), ``plain`` (too short a
    history) or ``fallback`` (split, then blamed plainly)."""

    def __init__(self) -> None:
        self.ways: list[str] = []


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """A low split threshold and a record of each whole-file blame's way."""
    seen = Calls()
    real_compose = compose
    real_finish = blame_module._finish_blame
    real_run = blame_module._run_blame

    def spy_compose(*args: object, **kwargs: object) -> object:
        out = real_compose(*args, **kwargs)  # type: ignore[arg-type]
        seen.ways.append("split" if out is not None else "unfit")
        return out

    def spy_finish(*args: object, **kwargs: object) -> object:
        seen.ways.append("plain")
        return real_finish(*args, **kwargs)  # type: ignore[arg-type]

    def spy_run(*args: object, **kwargs: object) -> object:
        seen.ways.append("run")
        return real_run(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(blame_module, "SPLIT_MIN_COMMITS", 4)
    monkeypatch.setattr(blame_module, "compose", spy_compose)
    monkeypatch.setattr(blame_module, "_finish_blame", spy_finish)
    monkeypatch.setattr(blame_module, "_run_blame", spy_run)
    return seen


def blamed(root: Path, path: str, revision: str) -> list[tuple[str | None, int, str, bytes]]:
    result = blame_file(TraceStore.open(root), path, revision=revision, cache=False)
    return rows(result)


def lines_text(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def random_history(repo: GitRepo, rng: random.Random, commits: int) -> list[str]:
    lines = [f"line {i}" for i in range(rng.randint(5, 40))]
    made = []
    for n in range(commits):
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(lines) + 1)
            kind = rng.random()
            if kind < 0.4 or not lines:
                lines[at:at] = [f"c{n} {k}" for k in range(rng.randint(1, 4))]
            elif kind < 0.8:
                lines[at : at + rng.randint(1, 3)] = [
                    f"c{n} r{k}" for k in range(rng.randint(1, 3))
                ]
            else:
                del lines[at : at + rng.randint(1, 3)]
        if rng.random() < 0.15:
            lines.append(rng.choice(["}", "", "    pass"]))
        repo.write(PATH, lines_text(lines))
        if rng.random() < 0.2:
            repo.write("other.txt", f"{n}\n")
        made.append(repo.commit(f"commit {n}"))
    return made


# --------------------------------------------------------------------------- composed


@PROPERTY_SETTINGS
@given(seed=st.integers(0, 2**32 - 1), commits=st.integers(4, 14))
def test_split_blames_of_linear_histories_are_git_blames(seed: int, commits: int) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as directory, pytest.MonkeyPatch.context() as patch:
        patch.setattr(blame_module, "SPLIT_MIN_COMMITS", 2)
        root = Path(directory) / "repo"
        repo = GitRepo.init(root)
        made = random_history(repo, rng, commits)
        for commit in (made[-1], made[len(made) // 2]):
            assert blamed(root, PATH, commit) == git_blame(root, PATH, commit)


def test_a_long_history_is_split_and_composed(repo: GitRepo, calls: Calls) -> None:
    made = random_history(repo, random.Random(7), 12)
    assert blamed(repo.root, PATH, made[-1]) == git_blame(repo.root, PATH, made[-1])
    assert calls.ways == ["split"]
    # Through the CLI with the cache: the same lines, and a cache entry written.
    store = TraceStore.open(repo.root)
    cached = blame_file(store, PATH, revision=made[-1])
    assert rows(cached) == git_blame(repo.root, PATH, made[-1])


def test_a_short_history_is_blamed_plainly(repo: GitRepo, calls: Calls) -> None:
    made = random_history(repo, random.Random(3), 3)
    assert blamed(repo.root, PATH, made[-1]) == git_blame(repo.root, PATH, made[-1])
    assert calls.ways == ["plain"]


def test_a_file_made_in_the_middle_commit(repo: GitRepo, calls: Calls) -> None:
    """Every line stops at the boundary (the commit that created the file)."""
    repo.write("other.txt", "x\n")
    repo.commit("unrelated")
    repo.write(PATH, lines_text([f"first {i}" for i in range(10)]))
    repo.commit("create")
    made = random_history_on(repo, 6)
    assert blamed(repo.root, PATH, made[-1]) == git_blame(repo.root, PATH, made[-1])
    assert calls.ways == ["split"]


def random_history_on(repo: GitRepo, commits: int) -> list[str]:
    rng = random.Random(commits)
    lines = (repo.root / PATH).read_text().splitlines()
    made = []
    for n in range(commits):
        at = rng.randrange(len(lines) + 1)
        lines[at:at] = [f"later {n}"]
        repo.write(PATH, lines_text(lines))
        made.append(repo.commit(f"later {n}"))
    return made


def test_a_side_branch_older_than_the_middle_falls_back(repo: GitRepo, calls: Calls) -> None:
    """A branch forked before the middle commit and merged after it, whose version keeps
    a line main deleted: blame passes that line down the branch to the fork, where the
    range stops too, so the split is dropped for a plain blame (same answer)."""
    base = [f"base {i}" for i in range(12)]
    repo.write(PATH, lines_text(base))
    fork = repo.commit("base")
    repo.git("checkout", "-q", "-b", "side")
    repo.write(PATH, lines_text(["side top", *base]))
    side = repo.commit("side")
    repo.git("checkout", "-q", "main")
    main = [line for line in base if line != "base 8"]
    for n in range(8):
        main.append(f"main {n}")
        repo.write(PATH, lines_text(main))
        repo.commit(f"main {n}")
    repo.git("merge", "-q", "--no-ff", "--no-commit", "side", check=False)
    merged = ["side top", *base, *main[len(base) - 1 :]]
    repo.write(PATH, lines_text(merged))
    head = repo.commit("merge, keeping base 8")
    assert blamed(repo.root, PATH, head) == git_blame(repo.root, PATH, head)
    assert calls.ways == ["run", "plain"], calls.ways  # split, found unfit, then plain
    by_text = {text: commit for commit, _, _, text in blamed(repo.root, PATH, head)}
    assert (by_text[b"base 8"], by_text[b"side top"]) == (fork, side)


def test_rename_below_the_middle(repo: GitRepo, calls: Calls) -> None:
    repo.write("old.py", lines_text([f"old {i}" for i in range(10)]))
    repo.commit("old")
    (repo.root / PATH).parent.mkdir(parents=True, exist_ok=True)
    repo.git("mv", "old.py", PATH)
    repo.commit("rename")
    made = random_history_on(repo, 8)
    assert blamed(repo.root, PATH, made[-1]) == git_blame(repo.root, PATH, made[-1])
    assert calls.ways == ["split"]
    assert any(path == "old.py" for _, _, path, _ in blamed(repo.root, PATH, made[-1]))


# --------------------------------------------------------------------------- compose


def _git(root: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, check=True).stdout


@pytest.mark.parametrize("seed", range(6))
def test_compose_of_real_range_blames(repo: GitRepo, seed: int) -> None:
    made = random_history(repo, random.Random(seed), 10)
    head = made[-1]
    for middle in made[2:-1:3]:
        boundaries: set[str] = set()
        top = list(
            parse_incremental(
                _git(repo.root, "blame", "--incremental", f"{middle}..{head}", "--", PATH),
                boundaries=boundaries,
            )
        )
        bottom = list(
            parse_incremental(_git(repo.root, "blame", "--incremental", middle, "--", PATH))
        )
        assert boundaries <= {middle}
        composed = compose(top, middle, bottom, PATH)
        assert composed is not None
        whole = list(parse_incremental(_git(repo.root, "blame", "--incremental", head, "--", PATH)))
        assert per_line(composed) == per_line(whole)
        if any(h.commit == middle for h in top):  # lines stop at the boundary
            assert compose(top, middle, None, PATH) is None
            assert compose(top, middle, [], PATH) is None
        else:
            assert compose(top, middle, None, PATH) == top


def per_line(hunks: Sequence[Hunk]) -> dict[int, tuple[str, int, str]]:
    out = {}
    for h in hunks:
        for k in range(h.count):
            out[h.final_line + k] = (h.commit, h.orig_line + k, h.orig_path)
    return out
