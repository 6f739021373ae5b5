"""Randomized invariants of attribution through history rewrites, with the git hooks
installed and real git doing the work.

Hypothesis draws a short sequence of steps: agent edits (through the recorder), human
edits (new lines, replaced lines, an agent's line edited slightly, deletions), commits,
``commit --amend``, ``reset --soft`` + commit, a squash of the last two commits, a
``rebase -i`` fixup and a rebase onto a side branch. Every line is unique (a token
``ai_<n>_...`` or ``hu_<n>_...``) and the test remembers who wrote it. After each step,
blame of every file must say:

- the four counts add up to the number of lines of the file;
- a line a person wrote is never ``ai``; it is ``mixed`` only when it is an agent's line
  a person edited (with that agent's model id);
- a line the agent wrote and nobody touched since is ``ai`` with the agent's model id,
  committed or not, after amends, rebases and squashes alike;
- every commit on the branch has a link record, and no hook failed.
"""

from __future__ import annotations

import os
import random
import string
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from gitrepo import GitRepo, isolated_git_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_trace import BlameResult, Recorder, TraceStore, blame_file
from agent_trace._hooks import install_hooks
from agent_trace._lookup import is_link_record

SONNET = "anthropic/claude-sonnet-4-5"
GPT = "openai/gpt-5"
MODELS = (SONNET, GPT)
FILES = ("a.py", "b.py")

AGENT_OPS = ("agent_insert", "agent_replace", "agent_delete")
HUMAN_OPS = ("human_insert", "human_replace", "human_tweak", "human_delete")
GIT_OPS = ("commit", "amend", "reset_commit", "squash_two", "fixup_rebase", "rebase_onto_side")

Step = tuple[str, int, int, int, int]
"""``(operation, file, position, count, model)``; each operation reads what it needs."""

Origin = tuple[str, str | None]
"""``("ai", model)``: the agent's line, untouched; ``("derived", model)``: an agent's line
a person edited; ``("human", None)``: a person's line."""

steps = st.lists(
    st.tuples(
        st.sampled_from(AGENT_OPS + HUMAN_OPS + GIT_OPS),
        st.integers(0, len(FILES) - 1),
        st.integers(0, 60),
        st.integers(1, 3),
        st.integers(0, len(MODELS) - 1),
    ),
    min_size=1,
    max_size=9,
)


AGENT_ALPHABET = string.ascii_uppercase + string.digits + "!$%&*+-/<=>?@^|~"


def agent_text(n: int) -> str:
    """An agent's line: 48 random characters none of which a person's line has, so no
    line keeps most of another's text (which would make an edit of it ``mixed``): two
    agent lines share at most about a third of their text."""
    letters = "".join(random.Random(n).choices(AGENT_ALPHABET, k=48))
    return f"ai_{n}_{letters}"


def human_text(n: int) -> str:
    letters = "".join(random.Random(-n).choices(string.ascii_lowercase, k=12))
    return f"hu_{n}_typed by a person {letters}"


class History:
    """A repository with the hooks installed, and what the test knows of every line."""

    def __init__(self, root: Path) -> None:
        self.repo = GitRepo.init(root)
        install_hooks(TraceStore.open(root).repository)
        self.counter = 0
        self.sides = 0
        self.files: dict[str, list[str]] = {}
        self.origin: dict[str, Origin] = {}
        for path in FILES:
            self.files[path] = [self.new_human() for _ in range(3)]
            self.write(path)
        self.repo.commit("base")
        self.log: list[str] = []

    # ------------------------------------------------------------------ helpers

    def token(self) -> int:
        self.counter += 1
        return self.counter

    def new_human(self) -> str:
        line = human_text(self.token())
        self.origin[line] = ("human", None)
        return line

    def new_agent(self, model: str) -> str:
        line = agent_text(self.token())
        self.origin[line] = ("ai", model)
        return line

    def write(self, path: str) -> None:
        self.repo.write(path, "".join(f"{line}\n" for line in self.files[path]))

    def commits(self) -> int:
        return int(self.repo.git("rev-list", "--count", "HEAD"))

    def dirty(self) -> bool:
        return bool(self.repo.git("status", "--porcelain"))

    # ------------------------------------------------------------------ steps

    def apply(self, step: Step) -> None:
        op, file, position, count, model_index = step
        path = FILES[file]
        lines = self.files[path]
        model = MODELS[model_index]
        at = position % (len(lines) + 1)
        some = position % len(lines) if lines else None
        self.log.append(repr(step))
        if op in AGENT_OPS:
            new = list(lines)
            if op == "agent_insert":
                new[at:at] = [self.new_agent(model) for _ in range(count)]
            elif op == "agent_replace" and some is not None:
                new[some : some + count] = [self.new_agent(model) for _ in range(count % 2 + 1)]
            elif op == "agent_delete" and some is not None:
                del new[some]
            with Recorder(self.repo.root, model_id=model) as rec, rec.edit(path):
                self.files[path] = new
                self.write(path)
        elif op in HUMAN_OPS:
            if op == "human_insert":
                lines[at:at] = [self.new_human() for _ in range(count)]
            elif op == "human_replace" and some is not None:
                lines[some : some + count] = [self.new_human() for _ in range(count % 2 + 1)]
            elif op == "human_tweak" and some is not None:
                old = lines[some]
                tweaked = f"{old} # hu_{self.token()}"
                kind, source_model = self.origin[old]
                self.origin[tweaked] = (
                    ("human", None) if kind == "human" else ("derived", source_model)
                )
                lines[some] = tweaked
            elif op == "human_delete" and some is not None:
                del lines[some]
            self.write(path)
        else:
            self.git_step(op, position)

    def git_step(self, op: str, position: int) -> None:
        repo = self.repo
        commits = self.commits()
        if op == "amend":
            repo.git("add", "-A")
            repo.git("commit", "-q", "--amend", "--allow-empty", "--no-edit")
        elif op == "reset_commit" and commits >= 2:
            repo.git("reset", "-q", "--soft", "HEAD~1")
            repo.commit("recommitted")
        elif op == "squash_two" and commits >= 3:
            repo.git("reset", "-q", "--soft", "HEAD~2")
            repo.commit("squashed")
        elif op == "fixup_rebase" and commits >= 3:
            repo.git(
                "-c",
                "sequence.editor=sed -i -e 2s/^pick/fixup/",
                "rebase",
                "-q",
                "-i",
                "--autostash",
                "HEAD~2",
            )
        elif op == "rebase_onto_side" and commits >= 2:
            if self.dirty():
                repo.commit("before the rebase")
                commits += 1
            back = 1 + position % min(3, commits - 1)
            self.sides += 1
            side = f"side-{self.sides}"
            repo.git("checkout", "-q", "-b", side, f"HEAD~{back}")
            path = f"{side}.txt"
            self.files[path] = [self.new_human(), self.new_human()]
            self.write(path)
            repo.commit("a teammate's work")
            repo.git("checkout", "-q", "main")
            repo.git("rebase", "-q", side)
        else:
            repo.commit("work")

    # ------------------------------------------------------------------ checks

    def check(self) -> None:
        """The invariants, on every file of the work tree (uncommitted lines included)."""
        where = " -> ".join(self.log)
        store = TraceStore.open(self.repo.root)
        log = store.directory / "hooks.log"
        assert not log.exists(), f"{where}: {log.read_text()}"
        for commit in self.repo.git("rev-list", "HEAD").split():
            linked = [s.record for s in store.for_revision(commit)]
            assert any(is_link_record(r) for r in linked), f"{where}: {commit} not linked"
        for path, lines in self.files.items():
            result = blame_file(store, path)
            assert [b.text.decode() for b in result.lines] == lines, where
            self.check_lines(result, f"{where}: {path}")

    def check_history(self) -> None:
        """The invariants at every commit of the branch: a line's text tells who wrote
        it, whichever commit it is blamed at."""
        store = TraceStore.open(self.repo.root)
        for commit in self.repo.git("rev-list", "HEAD").split():
            for path in self.repo.git("ls-tree", "--name-only", commit).split():
                result = blame_file(store, path, revision=commit)
                self.check_lines(result, f"{' -> '.join(self.log)}: {path} at {commit[:12]}")

    def check_lines(self, result: BlameResult, where: str) -> None:
        assert sum(result.summary.values()) == len(result.lines), where
        for b in result.lines:
            text = b.text.decode()
            kind, model = self.origin[text]
            got = (b.type, b.model_id)
            context = f"{where}:{b.line} {text!r} ({kind}) is {got} [{b.evidence}]"
            if kind == "ai":
                assert got == ("ai", model), context
            elif kind == "derived":
                assert got in {("mixed", model), ("human", None), ("unknown", None)}, context
            else:
                assert got in {("human", None), ("unknown", None)}, context


def run_history(root: Path, plan: Sequence[Step]) -> History:
    history = History(root)
    history.check()
    for step in plan:
        history.apply(step)
        history.check()
    history.check_history()
    return history


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps)
def test_attribution_survives_random_histories(
    plan: list[Step], monkeypatch: pytest.MonkeyPatch
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory) / "home"
        home.mkdir()
        for key, value in isolated_git_env(home).items():
            monkeypatch.setenv(key, value)
        run_history(Path(directory) / "repo", plan)


def test_every_operation_once(tmp_path: Path) -> None:
    """A fixed history that goes through every operation (the random one may not)."""
    plan: list[Step] = [
        ("agent_insert", 0, 1, 3, 0),
        ("commit", 0, 0, 1, 0),
        ("human_tweak", 0, 2, 1, 0),
        ("agent_replace", 1, 0, 2, 1),
        ("human_insert", 1, 1, 2, 0),
        ("commit", 0, 0, 1, 0),
        ("human_replace", 0, 4, 1, 0),
        ("amend", 0, 0, 1, 0),
        ("agent_delete", 0, 0, 1, 0),
        ("agent_insert", 1, 9, 2, 0),
        ("human_delete", 1, 0, 1, 0),
        ("fixup_rebase", 0, 0, 1, 0),
        ("agent_insert", 0, 0, 1, 1),
        ("commit", 0, 0, 1, 0),
        ("rebase_onto_side", 0, 1, 1, 0),
        ("human_tweak", 1, 5, 1, 0),
        ("reset_commit", 0, 0, 1, 0),
        ("agent_insert", 1, 3, 2, 1),
        ("commit", 0, 0, 1, 0),
        ("squash_two", 0, 0, 1, 0),
    ]
    history = run_history(tmp_path / "repo", plan)
    assert history.sides == 1
    kinds = {kind for kind, _ in history.origin.values()}
    assert kinds == {"ai", "human", "derived"}
    assert os.path.exists(tmp_path / "repo" / "side-1.txt")
