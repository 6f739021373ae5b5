"""Randomized invariants of attribution through history rewrites, with the git hooks
installed and real git doing the work.

Hypothesis draws a short sequence of steps: agent edits (through the recorder), human
edits (new lines, replaced lines, an agent's line edited slightly, deletions), commits,
``commit --amend``, ``reset --soft HEAD~1`` + commit, a squash of the last two commits
(``reset --soft HEAD~2`` + commit), a ``rebase -i`` fixup of the last two commits and a
rebase onto a side branch the test makes. Every line is unique (a token ``ai_<n>_...``
or ``hu_<n>_...``), so its text tells who wrote it. After each step, blame of every file
of the work tree must say:

- the four counts add up to the number of lines of the file;
- a line a person wrote is never ``ai``; it is ``mixed`` only when it is an agent's line
  a person edited, with that agent's model id (else ``human`` or ``unknown``);
- a line the agent wrote and nobody touched since is ``ai`` with the agent's model id,
  committed or not, after amends, rebases and squashes alike;
- every commit on the branch has a link record, and no hook failed.

At the end the same holds for blame at every commit of the branch. The first commit is
made with or without the hooks installed (its lines ``unknown``, nothing invented).

Agent lines and person lines are drawn from disjoint alphabets and agent lines share at
most about a third of their text: when a commit replaces an agent's line, a person's
line in the same hunk that keeps more than half of its text is ``mixed`` by design, and
look-alike lines would make that happen between unrelated lines.
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
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from agent_trace import BlameResult, Recorder, TraceStore, blame_file, link_commit
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
        st.sampled_from(AGENT_OPS + HUMAN_OPS + GIT_OPS + GIT_OPS[1:]),  # rewrites: twice
        st.integers(0, len(FILES) - 1),
        st.integers(0, 60),
        st.integers(1, 3),
        st.integers(0, len(MODELS) - 1),
    ),
    min_size=3,
    max_size=10,
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

    def __init__(self, root: Path, *, hooks_first: bool = True) -> None:
        """``hooks_first=False``: the first commit is made before the hooks are
        installed (it has no record: its lines are ``unknown``)."""
        self.repo = GitRepo.init(root)
        if hooks_first:
            install_hooks(TraceStore.open(root).repository)
        self.counter = 0
        self.sides = 0
        self.files: dict[str, list[str]] = {}
        self.origin: dict[str, Origin] = {}
        for path in FILES:
            self.files[path] = [self.new_human() for _ in range(3)]
            self.write(path)
        base = self.repo.commit("base")
        self.unlinked = set() if hooks_first else {base}
        if not hooks_first:
            install_hooks(TraceStore.open(root).repository)
        self.log: list[str] = []
        self.done: list[str] = []
        """The git operations done (those too early in the history are commits)."""

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
        """A git operation; one whose history is too short for it commits instead."""
        repo = self.repo
        commits = self.commits()
        head = repo.head()
        if op == "amend":
            repo.git("add", "-A")
            repo.git("commit", "-q", "--amend", "--allow-empty", "--no-edit")
            expected = commits
        elif op == "reset_commit" and commits >= 2:
            repo.git("reset", "-q", "--soft", "HEAD~1")
            repo.commit("recommitted")
            expected = commits
        elif op == "squash_two" and commits >= 3:
            repo.git("reset", "-q", "--soft", "HEAD~2")
            repo.commit("squashed")
            expected = commits - 1
        elif op == "fixup_rebase" and commits >= 3:
            # ``rebase -i HEAD~2`` with the second pick turned into a fixup (any
            # uncommitted work is stashed and put back).
            repo.git(
                "-c",
                "sequence.editor=sed -i -e 2s/^pick/fixup/",
                "rebase",
                "-q",
                "-i",
                "--autostash",
                "HEAD~2",
            )
            expected = commits - 1
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
            expected = commits + 1
        else:
            op = "commit"
            repo.commit("work")
            expected = commits + 1
        self.done.append(op)
        assert self.commits() == expected, (op, self.log)
        if op in ("commit", "fixup_rebase", "rebase_onto_side"):
            # (an amend or a re-commit in the same second may make the same commit)
            assert repo.head() != head, (op, self.log)
        if op != "fixup_rebase":  # which puts uncommitted work back
            assert not self.dirty(), (op, self.log)

    # ------------------------------------------------------------------ checks

    def check(self) -> None:
        """The invariants, on every file of the work tree (uncommitted lines included)."""
        where = " -> ".join(self.log)
        store = TraceStore.open(self.repo.root)
        log = store.directory / "hooks.log"
        assert not log.exists(), f"{where}: {log.read_text()}"
        for commit in self.repo.git("rev-list", "HEAD").split():
            if commit in self.unlinked:
                continue
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
                where = f"{' -> '.join(self.log)}: {path} at {commit[:12]}"
                content = self.repo.git("cat-file", "blob", f"{commit}:{path}")
                assert [b.text.decode() for b in result.lines] == content.splitlines(), where
                self.check_lines(result, where)

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


def run_history(root: Path, plan: Sequence[Step], *, hooks_first: bool = True) -> History:
    history = History(root, hooks_first=hooks_first)
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
@given(plan=steps, hooks_first=st.booleans())
def test_attribution_survives_random_histories(
    plan: list[Step], hooks_first: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory) / "home"
        home.mkdir()
        for key, value in isolated_git_env(home).items():
            monkeypatch.setenv(key, value)
        history = run_history(Path(directory) / "repo", plan, hooks_first=hooks_first)
    for op in sorted(set(history.done)):
        event(f"git: {op}")


@pytest.mark.parametrize("hooks_first", [True, False], ids=["linked-base", "unlinked-base"])
def test_every_operation_once(tmp_path: Path, hooks_first: bool) -> None:
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
    history = run_history(tmp_path / "repo", plan, hooks_first=hooks_first)
    assert sorted(set(history.done)) == sorted(GIT_OPS)
    assert history.sides == 1
    kinds = {kind for kind, _ in history.origin.values()}
    assert kinds == {"ai", "human", "derived"}
    assert os.path.exists(tmp_path / "repo" / "side-1.txt")


# --------------------------------------------------------------------------- moved lines
# Outside the random model above (which never moves a line): a person moving an agent's
# lines verbatim, without changing a character.


def _moved(repo: GitRepo, *, commit_first: bool) -> list[tuple[str, str]]:
    """A person moves two lines the agent wrote (below three of their own lines);
    ``(type, evidence)`` of those two lines in blame of the work tree."""
    people = [human_text(n) for n in range(1, 5)]
    agent = [agent_text(n) for n in range(5, 7)]
    repo.write("f.py", "".join(f"{line}\n" for line in people))
    repo.commit("base")
    with Recorder(repo.root, model_id=SONNET) as rec, rec.edit("f.py"):
        repo.write("f.py", "".join(f"{line}\n" for line in [people[0], *agent, *people[1:]]))
    if commit_first:
        repo.commit("agent")
        link_commit(TraceStore.open(repo.root), repo.head())
    repo.write("f.py", "".join(f"{line}\n" for line in [*people, *agent]))
    result = blame_file(TraceStore.open(repo.root), "f.py")
    assert [b.text.decode() for b in result.lines] == [*people, *agent]
    return [(b.type, b.evidence) for b in result.lines[4:]]


@pytest.mark.xfail(
    strict=True,
    reason=(
        "Pending labels do not follow moved lines: carry_labels() (_pending.py) maps the "
        "agent's last known state onto the file with align() (patience diff, order-"
        "preserving), so two agent lines a person moved below three other lines lose "
        "their label although the pending state has them, labelled AI; blame's "
        "_uncommitted() then says 'human' / 'pending:human' ('the agent's last known "
        "state of the file did not have it'), and the commit is linked as human too"
    ),
)
def test_agent_lines_moved_before_their_commit_stay_ai(repo: GitRepo) -> None:
    assert _moved(repo, commit_first=False) == [("ai", "pending:edit-window")] * 2


@pytest.mark.xfail(
    strict=True,
    reason=(
        "Blame of the work tree and the record the commit then gets disagree on the "
        "committed agent lines a person moved: _blame.blame_file() re-anchors by content "
        "only lines of type 'unknown', and _uncommitted() already typed them 'human' "
        "('pending:human', same carry_labels() cause); link_commit() finds them by content "
        "and records them as ai (evidence 'content')"
    ),
)
def test_committed_agent_lines_moved_are_ai_before_and_after_the_commit(repo: GitRepo) -> None:
    assert _moved(repo, commit_first=True) == [("ai", "content")] * 2
