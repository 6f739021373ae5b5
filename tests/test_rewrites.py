"""Attribution through git's history operations (issue 5): a public scenario suite.

Each scenario builds a real repository with the real ``git`` binary: a person's base
files, then an agent's lines written inside ``Recorder.edit`` and committed (our hooks
installed unless the scenario says otherwise). It then runs one history operation
(amend, rebase, interactive rebase, cherry-pick, squash merge, reset, stash, move,
merge, or the same without our hooks) and blames every line of the result.

Every line carries a unique token, as git-ai's attribution fuzzer does: ``ai_tok_<n>``
lines were written by an agent (two models are used, so a line must also keep the
*right* model) and ``HUMAN_TOK_<n>`` lines by a person. Human lines are upper case on
purpose: the recorder labels an agent's line that replaced a person's line ``mixed`` when
it keeps most of that line's characters, and ``human_tok_6 = 6`` shares more than half
of its characters with ``ai_tok_15 = compute_15(15)``. Upper case keeps the two kinds of
line textually unrelated, so only real edits can make a line ``mixed``.

Targets (the issue's acceptance): after every local operation >= 99% of the AI lines keep
``ai`` with their model, >= 95% when only content anchors can find them (history
rewritten without our hooks, e.g. a hosting service's squash merge), and no human line
is ever labelled ``ai`` or ``mixed`` (human lines must be exactly ``human`` wherever our
hooks saw them committed).

Scenarios sharing a set-up build it once per process and copy the repository
(``prepared``); they differ only in the operation.

``python test_rewrites.py`` (from ``tests/``) runs every scenario and prints a table.
"""

from __future__ import annotations

import atexit
import functools
import json
import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from gitrepo import GitRepo

from agent_trace import NotesBackend, Recorder, TraceStore, blame_file
from agent_trace._hooks import install_hooks

SONNET = "anthropic/claude-sonnet-4-5"
GPT = "openai/gpt-5"
LOCAL_TARGET = 0.99
"""Share of AI lines that must keep ``ai`` + model after a local operation (hooks on)."""
CONTENT_TARGET = 0.95
"""The same when only content anchoring can find them (history rewritten without hooks)."""
NO_HOOKS = ("-c", "core.hooksPath=/dev/null")
TOKEN = re.compile(rb"\b(ai_tok|HUMAN_TOK)_[0-9]+\b")

Lines = list[str]
T = TypeVar("T")


# --------------------------------------------------------------------------- outcome


@dataclass
class Outcome:
    """What one scenario found, line by line, after its operation."""

    operation: str
    ai_before: int = 0
    """AI lines the result holds (each was ``ai`` with its model before the operation)."""
    ai_kept: int = 0
    """Of those, lines still ``ai`` with the right model id afterwards."""
    evidence: dict[str, int] = field(default_factory=dict)
    """How the kept AI lines were found (blame's ``evidence``), with counts."""
    human_total: int = 0
    human_mislabelled: int = 0
    """Human lines labelled ``ai`` or ``mixed`` (must be 0)."""
    target: float = LOCAL_TARGET
    failures: list[str] = field(default_factory=list)
    """Other broken expectations: a human line not exactly ``human`` where it must be, an
    edited line not ``mixed``, a wrong evidence, a check before the operation, a line
    count or a history that is not what the scenario built."""
    lost: list[str] = field(default_factory=list)
    """The AI lines not kept (reported; the target decides)."""

    @property
    def share(self) -> float:
        return self.ai_kept / self.ai_before if self.ai_before else 1.0

    def problems(self) -> list[str]:
        out = list(self.failures)
        if self.ai_before == 0:
            out.append("no AI line was checked")
        if self.share < self.target:
            out.append(
                f"AI lines kept {self.ai_kept}/{self.ai_before} ({self.share:.1%}) "
                f"< {self.target:.0%}: " + "; ".join(self.lost)
            )
        if self.human_mislabelled:
            out.append(f"{self.human_mislabelled} human line(s) labelled ai/mixed")
        return out


@dataclass
class Counts:
    ai: int = 0
    ai_kept: int = 0
    evidence: dict[str, int] = field(default_factory=dict)
    human: int = 0
    human_mislabelled: int = 0


# --------------------------------------------------------------------------- the lab


def text(lines: Sequence[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def token_of(line: str) -> str:
    found = TOKEN.search(line.encode())
    assert found is not None, line
    return found.group(0).decode()


def edited(line: str) -> str:
    """A person's small edit of a line: one number changed, most of the text kept."""
    return line.replace(")", " + 1)")


class Lab:
    """One scenario's repository, with unique lines and checks that collect failures."""

    def __init__(self, root: Path, *, hooks: bool = True, fresh: bool = True) -> None:
        self.root = root
        self.repo = GitRepo.init(root / "repo") if fresh else GitRepo(root / "repo")
        self.serial = 0
        self.models: dict[str, str] = {}
        """The model that wrote each AI line, by token."""
        self.failures: list[str] = []
        self.lost: list[str] = []
        if fresh:
            self.store().ensure_directory()
            if hooks:
                install_hooks(self.store().repository)

    # ------------------------------------------------------------------ set-up

    def store(self) -> TraceStore:
        return TraceStore.open(self.repo.root)

    def _next(self, n: int) -> list[int]:
        first = self.serial + 1
        self.serial += n
        return list(range(first, first + n))

    def ai(self, n: int, model: str = SONNET) -> Lines:
        """``n`` unique, substantive lines for an agent running ``model`` to write."""
        lines = [f"ai_tok_{k} = compute_{k}({k})" for k in self._next(n)]
        self.models.update((token_of(line), model) for line in lines)
        return lines

    def human(self, n: int) -> Lines:
        """``n`` unique, substantive lines for a person to write."""
        return [f'HUMAN_TOK_{k} = "SET BY HAND"' for k in self._next(n)]

    def function(self, n: int, model: str = SONNET) -> Lines:
        """An agent's function of ``n`` lines (a header, a body, a return)."""
        keys = self._next(n)
        body = [f"    ai_tok_{k} = compute_{k}(value)" for k in keys[1:-1]]
        lines = [f"def ai_tok_{keys[0]}(value):", *body, f"    return ai_tok_{keys[-1]} + value"]
        self.models.update((token_of(line), model) for line in lines)
        return lines

    def write(self, path: str, lines: Sequence[str]) -> None:
        """A person writes ``path``."""
        self.repo.write(path, text(lines))

    def read(self, path: str) -> Lines:
        return (self.repo.root / path).read_text(encoding="utf-8").splitlines()

    def agent(self, files: dict[str, Lines], model: str = SONNET) -> None:
        """An agent running ``model`` writes ``files`` (one edit window)."""
        with Recorder(self.repo.root, model_id=model) as rec, rec.edit(*files):
            for path, lines in files.items():
                self.repo.write(path, text(lines))

    def git(self, *args: str, check: bool = True) -> str:
        return self.repo.git(*args, check=check)

    def commit(self, message: str, *paths: str) -> str:
        return self.repo.commit(message, *paths)

    def parents(self, revision: str = "HEAD") -> int:
        return len(self.git("rev-list", "--parents", "-n", "1", revision).split()) - 1

    def forget_pending(self) -> None:
        """Delete the pending state: from here only records (and content) can help."""
        shutil.rmtree(self.store().directory / "pending", ignore_errors=True)

    def rebase_i(self, onto: str, plan: Sequence[tuple[str, str]]) -> None:
        """``git rebase -i onto`` with the todo list replaced by ``plan`` (``(action,
        subject)`` pairs in the new order; subjects are unique) by a sequence editor
        script, and ``core.editor=true`` for the messages."""
        script = self.root / "todo_editor.py"
        script.write_text(
            "import json, sys\n"
            f"plan = json.loads({json.dumps(json.dumps(plan))})\n"
            "path = sys.argv[1]\n"
            "with open(path) as f:\n"
            "    todo = f.read().splitlines()\n"
            "shas = {}\n"
            "for line in todo:\n"
            "    parts = line.split(' ', 2)\n"
            "    if len(parts) == 3 and parts[0] in ('pick', 'p'):\n"
            "        shas[parts[2]] = parts[1]\n"
            "with open(path, 'w') as f:\n"
            "    f.write(''.join(f'{a} {shas[s]} {s}\\n' for a, s in plan))\n",
            encoding="utf-8",
        )
        editor = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
        self.git(
            "-c", f"sequence.editor={editor}", "-c", "core.editor=true", "rebase", "-q", "-i", onto
        )

    # ------------------------------------------------------------------ checks

    def check(
        self,
        stage: str,
        paths: Sequence[str],
        *,
        revision: str | None = "HEAD",
        exact_human: bool = True,
        ai_evidence: str | None = None,
        special: dict[str, tuple[str, str | None]] | None = None,
        ai_lines: int | None = None,
    ) -> Counts:
        """Blame ``paths`` at ``revision`` (``None``: the work tree) and compare every
        line with its token. ``special``: tokens expected to be something else
        (``(type, model_id)``), not counted. ``ai_lines``: how many AI-token lines (the
        special ones included) there must be."""
        counts = Counts()
        store = self.store()
        sha = self.git("rev-parse", "--verify", revision) if revision is not None else None
        for path in paths:
            result = blame_file(store, path, revision=sha)
            for line in result.lines:
                found = TOKEN.search(line.text)
                shown = line.text.decode("utf-8", "replace").strip()
                where = f"{stage}: {path}:{line.line} {shown!r}"
                got = f"{line.type} {line.model_id} ({line.evidence}, {line.confidence})"
                if found is None:
                    if line.text.strip():
                        self.failures.append(f"{where}: a line without a token")
                    continue
                token = found.group(0).decode()
                if special is not None and token in special:
                    if (line.type, line.model_id) != special[token]:
                        self.failures.append(f"{where}: expected {special[token]}, got {got}")
                    continue
                if found.group(1) == b"ai_tok":
                    counts.ai += 1
                    if line.type == "ai" and line.model_id == self.models.get(token):
                        counts.ai_kept += 1
                        counts.evidence[line.evidence] = counts.evidence.get(line.evidence, 0) + 1
                        if ai_evidence is not None and line.evidence != ai_evidence:
                            self.failures.append(f"{where}: evidence {line.evidence!r}")
                    else:
                        self.lost.append(f"{where}: {got}, written by {self.models.get(token)}")
                else:
                    counts.human += 1
                    if line.type in ("ai", "mixed"):
                        counts.human_mislabelled += 1
                        self.failures.append(f"{where}: human line is {got}")
                    elif exact_human and line.type != "human":
                        self.failures.append(f"{where}: expected human, got {got}")
        if ai_lines is not None:
            found_ai = counts.ai + sum(1 for t in special or {} if t.startswith("ai_tok"))
            if found_ai != ai_lines:
                self.failures.append(f"{stage}: {found_ai} AI line(s) found, {ai_lines} expected")
        return counts

    def before(self, paths: Sequence[str], *, stage: str = "before", **kwargs: Any) -> None:
        """Before the operation (or at a step of it) every line must be exactly as
        recorded: an AI line not kept is a failure here, whatever the target."""
        lost = len(self.lost)
        self.check(stage, paths, **kwargs)
        self.failures.extend(self.lost[lost:])
        del self.lost[lost:]

    def outcome(
        self, operation: str, paths: Sequence[str], *, target: float = LOCAL_TARGET, **kwargs: Any
    ) -> Outcome:
        lost = len(self.lost)
        counts = self.check("after", paths, **kwargs)
        tracked = self.git("ls-files", "--", ".agent-trace")
        if tracked:
            self.failures.append(f".agent-trace is tracked by git: {tracked}")
        if self.git("status", "--porcelain", "--untracked-files=no"):
            self.failures.append("the work tree is not clean after the operation")
        if (self.store().directory / "hooks.log").exists():
            log = (self.store().directory / "hooks.log").read_text(encoding="utf-8")
            self.failures.append(f"a hook failed: {log.strip()}")
        return Outcome(
            operation=operation,
            ai_before=counts.ai,
            ai_kept=counts.ai_kept,
            evidence=counts.evidence,
            human_total=counts.human,
            human_mislabelled=counts.human_mislabelled,
            target=target,
            failures=list(self.failures),
            lost=self.lost[lost:],
        )


_templates: dict[str, tuple[Lab, Any]] = {}


@functools.cache
def _template_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="agent-trace-rewrite-templates-"))
    atexit.register(shutil.rmtree, root, True)
    return root


def prepared(root: Path, build: Callable[[Lab], T]) -> tuple[Lab, T]:
    """A copy, in ``root``, of the repository ``build`` makes (with our hooks), and what
    ``build`` returned. Built once per process: scenarios that share a set-up differ
    only in their operation."""
    name = build.__name__
    if name not in _templates:
        template = Lab(Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_template_root())))
        _templates[name] = (template, build(template))
    template, result = _templates[name]
    shutil.copytree(template.repo.root, root / "repo", symlinks=True)
    lab = Lab(root, fresh=False)
    lab.serial = template.serial
    lab.models = dict(template.models)
    lab.failures = list(template.failures)
    return lab, result


def _forgotten(operation: str, forget_pending: bool) -> str:
    return f"{operation}, pending forgotten" if forget_pending else operation


# --------------------------------------------------------------------------- 1. amend


def _agent_commit(lab: Lab) -> Lines:
    """a.py: a person's 12 lines, then an agent's 30 in three blocks (one commit)."""
    a = lab.human(12)
    lab.write("a.py", a)
    lab.commit("base")
    a = a[:3] + lab.ai(10) + a[3:8] + lab.ai(10, GPT) + a[8:] + lab.ai(10)
    lab.agent({"a.py": a[:18] + a[28:]})
    lab.agent({"a.py": a}, GPT)  # the other model's block
    lab.commit("agent")
    lab.before(["a.py"], ai_lines=30)
    return a


def scenario_amend_message(root: Path, *, forget_pending: bool = False) -> Outcome:
    """Reworded twice (an amend of an amend)."""
    lab, _ = prepared(root, _agent_commit)
    if forget_pending:
        lab.forget_pending()
    lab.git("commit", "-q", "--amend", "-m", "agent, reworded")
    lab.git("commit", "-q", "--amend", "-m", "agent, reworded again")
    op = _forgotten("commit --amend (message only, twice)", forget_pending)
    return lab.outcome(op, ["a.py"], ai_lines=30)


def scenario_amend_human_lines(root: Path, *, forget_pending: bool = False) -> Outcome:
    lab, a = prepared(root, _agent_commit)
    if forget_pending:
        lab.forget_pending()
    a = a[:2] + lab.human(3) + a[2:10] + lab.human(3) + a[10:] + lab.human(2)
    lab.write("a.py", a)
    lab.write("b.py", lab.human(4))
    lab.git("add", "-A")
    lab.git("commit", "-q", "--amend", "--no-edit")
    op = _forgotten("commit --amend (adding human lines)", forget_pending)
    return lab.outcome(op, ["a.py", "b.py"], ai_lines=30)


def scenario_amend_edits_ai_line(root: Path, *, forget_pending: bool = False) -> Outcome:
    """A person edits an agent's committed line (one number) and rewrites another, then
    amends: the same as ``scenario_human_edits_ai_lines`` but folded into the agent's
    commit. The edited line must be ``mixed`` as it is after a new commit."""
    lab, a = prepared(root, _agent_commit)
    if forget_pending:
        lab.forget_pending()
    small, rewritten = a[5], a[20]
    a = [edited(line) if line == small else line for line in a]
    a[a.index(rewritten)] = lab.human(1)[0]
    lab.write("a.py", a)
    lab.git("commit", "-q", "-a", "--amend", "--no-edit")
    op = _forgotten("commit --amend after a person edits AI lines", forget_pending)
    special = {token_of(small): ("mixed", lab.models[token_of(small)])}
    return lab.outcome(op, ["a.py"], special=special, ai_lines=29)


def scenario_amend_partial(root: Path) -> Outcome:
    """Amend with part of the work staged: one whole file, and the first hunk of
    another (``git apply --cached`` of a partial patch); the rest is committed later."""
    lab = Lab(root)
    a, b, c = lab.human(8), lab.human(8), lab.human(10)
    for path, lines in (("a.py", a), ("b.py", b), ("c.py", c)):
        lab.write(path, lines)
    lab.commit("base")
    a = a[:3] + lab.ai(10) + a[3:]
    lab.agent({"a.py": a})
    lab.commit("agent 1")
    a = a + lab.ai(8)
    b = b[:4] + lab.ai(8) + b[4:]
    top, bottom = lab.ai(6), lab.ai(6)
    c = c[:1] + top + c[1:] + bottom
    lab.agent({"a.py": a, "b.py": b, "c.py": c})
    b = b[:2] + lab.human(3) + b[2:]
    lab.write("b.py", b)
    lab.git("add", "a.py")
    patch = lab.git("diff", "-U0", "--", "c.py")
    first_hunk = "".join(re.split(r"(?m)^(?=@@ )", patch)[:2]) + "\n"
    lab.repo.git("apply", "--cached", "--unidiff-zero", input=first_hunk.encode())
    lab.git("commit", "-q", "--amend", "--no-edit")
    if lab.git("show", "HEAD:c.py") != "\n".join(c[: -len(bottom)]):
        lab.failures.append("the partial patch did not stage the top hunk only")
    lab.before(["a.py", "c.py"], stage="amended", ai_lines=10 + 8 + 6)
    if not lab.git("status", "--porcelain", "--untracked-files=no"):
        lab.failures.append("nothing left unstaged after the partial amend")
    lab.commit("the rest")
    return lab.outcome(
        "commit --amend (partially staged)", ["a.py", "b.py", "c.py"], ai_lines=18 + 8 + 12
    )


# --------------------------------------------------------------------------- 2. rebase


def _diverged(lab: Lab) -> None:
    """main: a.py, b.py of a person's. feature: two agent commits (two models). main
    then moves: a person adds lines above the agent's (a.py), in another file (b.py),
    and a new file. Leaves ``feature`` checked out."""
    a, b = lab.human(12), lab.human(6)
    lab.write("a.py", a)
    lab.write("b.py", b)
    lab.commit("base")
    lab.git("checkout", "-q", "-b", "feature")
    fa = a[:4] + lab.ai(10) + a[4:9] + lab.ai(10) + a[9:]
    lab.agent({"a.py": fa})
    lab.commit("feature 1")
    fa = fa + lab.ai(10, GPT)
    fb = b + lab.ai(6, GPT)
    lab.agent({"a.py": fa, "b.py": fb}, GPT)
    lab.commit("feature 2")
    lab.before(["a.py", "b.py"], ai_lines=36)
    lab.git("checkout", "-q", "main")
    lab.write("a.py", lab.human(4) + a)
    lab.write("b.py", lab.human(3) + b)
    lab.write("c.py", lab.human(4))
    lab.commit("upstream")
    lab.git("checkout", "-q", "feature")


def scenario_rebase(root: Path, *, forget_pending: bool = False) -> Outcome:
    lab, _ = prepared(root, _diverged)
    if forget_pending:
        lab.forget_pending()
    lab.git("rebase", "-q", "main")
    op = _forgotten("rebase onto a moved branch", forget_pending)
    return lab.outcome(op, ["a.py", "b.py", "c.py"], ai_lines=36)


def _conflicting(lab: Lab) -> tuple[Lines, Lines, Lines, Lines]:
    """Both branches replace lines 6-7 of a person's a.py: the agent on ``feature``
    (and it appends lines), a person on ``main``. Leaves ``main`` checked out and
    returns the base, the agent's two blocks and the person's lines."""
    h = lab.human(14)
    lab.write("a.py", h)
    lab.commit("base")
    lab.git("checkout", "-q", "-b", "feature")
    block, tail = lab.ai(10), lab.ai(8)
    lab.agent({"a.py": h[:5] + block + h[7:] + tail})
    lab.commit("feature: agent")
    lab.before(["a.py"], ai_lines=18)
    lab.git("checkout", "-q", "main")
    theirs = lab.human(4)
    lab.write("a.py", h[:5] + theirs + h[7:])
    lab.commit("main: a person")
    return h, block, tail, theirs


def scenario_rebase_conflict(root: Path, *, forget_pending: bool = False) -> Outcome:
    """The rebase stops on a conflict; a person resolves it (both sides kept, and
    lines of their own) and continues."""
    lab, (h, block, tail, theirs) = prepared(root, _conflicting)
    lab.git("checkout", "-q", "feature")
    if forget_pending:
        lab.forget_pending()
    lab.git("rebase", "-q", "main", check=False)
    if "a.py" not in lab.git("diff", "--name-only", "--diff-filter=U"):
        lab.failures.append("the rebase did not conflict")
    lab.write("a.py", h[:5] + theirs + lab.human(2) + block + h[7:] + tail)
    lab.git("add", "a.py")
    lab.git("-c", "core.editor=true", "rebase", "--continue")
    op = _forgotten("rebase with a conflict resolved by a person", forget_pending)
    return lab.outcome(op, ["a.py"], ai_lines=18)


def scenario_rebase_onto_renamed(root: Path) -> Outcome:
    """Upstream renamed the file the agent changed (``git mv``) and added lines to it;
    the rebase applies the agent's lines to the renamed file."""
    lab = Lab(root)
    a = lab.human(12)
    lab.write("a.py", a)
    lab.commit("base")
    lab.git("checkout", "-q", "-b", "feature")
    lab.agent({"a.py": a[:4] + lab.ai(10) + a[4:]})
    lab.commit("feature 1")
    lab.agent({"a.py": lab.read("a.py") + lab.ai(10, GPT)}, GPT)
    lab.commit("feature 2")
    lab.before(["a.py"], ai_lines=20)
    lab.git("checkout", "-q", "main")
    lab.git("mv", "a.py", "lib.py")
    lab.write("lib.py", lab.human(3) + a)
    lab.commit("upstream: rename")
    lab.git("checkout", "-q", "feature")
    lab.git("rebase", "-q", "main")
    if lab.git("ls-files") != "lib.py":
        lab.failures.append(f"files after the rebase: {lab.git('ls-files').split()}")
    return lab.outcome("rebase onto a branch that renamed the file", ["lib.py"], ai_lines=20)


# --------------------------------------------------------------------------- 3. rebase -i


SUBJECTS = ("one", "two", "three", "four", "five")
SERIES = [("pick", s) for s in SUBJECTS]
SERIES_FILES = ["a.py", "b.py", "c.py"]


def _series(lab: Lab) -> None:
    """main: a.py, b.py, c.py of a person's; feature: five commits: one (agent, a.py
    top), two (agent, b.py), three (the other model, a.py middle), four (a person, a.py
    end), five (agent, c.py). Leaves ``feature`` checked out."""
    a, b, c = lab.human(16), lab.human(8), lab.human(8)
    for path, lines in (("a.py", a), ("b.py", b), ("c.py", c)):
        lab.write(path, lines)
    lab.commit("base")
    lab.git("checkout", "-q", "-b", "feature")
    a = a[:2] + lab.ai(8) + a[2:]
    lab.agent({"a.py": a})
    lab.commit("one")
    b = b + lab.ai(8)
    lab.agent({"b.py": b})
    lab.commit("two")
    a = a[:16] + lab.ai(8, GPT) + a[16:]  # after the base's line 8 (of 16)
    lab.agent({"a.py": a}, GPT)
    lab.commit("three")
    a = a + lab.human(4)
    lab.write("a.py", a)
    lab.commit("four")
    c = c + lab.ai(8)
    lab.agent({"c.py": c})
    lab.commit("five")
    lab.before(SERIES_FILES, ai_lines=32)


def _subjects(lab: Lab) -> list[str]:
    return lab.git("log", "--format=%s", "main..HEAD").splitlines()[::-1]


def scenario_rebase_i(
    root: Path,
    *,
    plan: Sequence[tuple[str, str]],
    operation: str,
    ai_lines: int = 32,
    forget_pending: bool = False,
) -> Outcome:
    lab, _ = prepared(root, _series)
    if forget_pending:
        lab.forget_pending()
    lab.rebase_i("main", plan)
    expected = [s for a, s in plan if a in ("pick", "reword", "edit")]
    if _subjects(lab) != expected:
        lab.failures.append(f"history after the rebase: {_subjects(lab)} (expected {expected})")
    op = _forgotten(f"rebase -i: {operation}", forget_pending)
    return lab.outcome(op, SERIES_FILES, ai_lines=ai_lines)


def scenario_rebase_i_edit(root: Path, *, forget_pending: bool = False) -> Outcome:
    """``edit``: at the stop, the agent and a person both add lines and amend."""
    lab, _ = prepared(root, _series)
    if forget_pending:
        lab.forget_pending()
    lab.rebase_i("main", [("pick", "one"), ("edit", "two"), *SERIES[2:]])
    if lab.git("log", "-1", "--format=%s") != "two":
        lab.failures.append("the rebase did not stop at 'two'")
    b = lab.read("b.py")
    b = b[:3] + lab.ai(6) + b[3:]
    lab.agent({"b.py": b})
    lab.write("b.py", b + lab.human(3))
    lab.git("commit", "-q", "-a", "--amend", "--no-edit")
    lab.git("-c", "core.editor=true", "rebase", "--continue")
    if _subjects(lab) != list(SUBJECTS):
        lab.failures.append(f"history after the rebase: {_subjects(lab)}")
    op = _forgotten("rebase -i: edit (agent and person amend at the stop)", forget_pending)
    return lab.outcome(op, SERIES_FILES, ai_lines=38)


# --------------------------------------------------------------------------- 4. cherry-pick


def _picked(lab: Lab) -> tuple[str, str]:
    """feature: two agent commits (a.py; then a.py and a new b.py, the other model);
    main moves (a person's lines on top of a.py). Returns the two commits; leaves main
    checked out."""
    a = lab.human(12)
    lab.write("a.py", a)
    lab.commit("base")
    lab.git("checkout", "-q", "-b", "feature")
    fa = a[:3] + lab.ai(10) + a[3:]
    lab.agent({"a.py": fa})
    first = lab.commit("feature 1")
    fa = fa + lab.ai(10, GPT)
    lab.agent({"a.py": fa, "b.py": lab.ai(10, GPT)}, GPT)
    second = lab.commit("feature 2")
    lab.before(["a.py", "b.py"], ai_lines=30)
    lab.git("checkout", "-q", "main")
    lab.write("a.py", lab.human(3) + a)
    lab.commit("upstream")
    return first, second


def scenario_cherry_pick(root: Path, *, forget_pending: bool = False) -> Outcome:
    lab, (first, second) = prepared(root, _picked)
    if forget_pending:
        lab.forget_pending()
    lab.git("cherry-pick", first, second)
    op = _forgotten("cherry-pick (to another branch)", forget_pending)
    return lab.outcome(op, ["a.py", "b.py"], ai_lines=30)


def scenario_cherry_pick_no_commit(root: Path, *, forget_pending: bool = False) -> Outcome:
    lab, (first, second) = prepared(root, _picked)
    if forget_pending:
        lab.forget_pending()
    lab.git("cherry-pick", "--no-commit", first, second)
    lab.git("commit", "-q", "-m", "picked by hand")
    op = _forgotten("cherry-pick --no-commit + commit", forget_pending)
    return lab.outcome(op, ["a.py", "b.py"], ai_lines=30)


# --------------------------------------------------------------------------- 5. squash merge


def _squashable(lab: Lab) -> None:
    """feature: agent, person, agent (the other model) commits; main moves (b.py).
    Leaves main checked out."""
    a, b = lab.human(12), lab.human(6)
    lab.write("a.py", a)
    lab.write("b.py", b)
    lab.commit("base")
    lab.git("checkout", "-q", "-b", "feature")
    a = a[:3] + lab.ai(10) + a[3:8] + lab.ai(8) + a[8:]
    lab.agent({"a.py": a})
    lab.commit("feature: agent")
    a = a[:1] + lab.human(4) + a[1:]
    lab.write("a.py", a)
    lab.commit("feature: a person")
    a = a + lab.ai(10, GPT)
    b = b[:3] + lab.ai(10, GPT) + b[3:]
    lab.agent({"a.py": a, "b.py": b}, GPT)
    lab.commit("feature: agent again")
    lab.before(["a.py", "b.py"], ai_lines=38)
    lab.git("checkout", "-q", "main")
    lab.write("b.py", lab.human(3) + b[:3] + b[-3:])
    lab.commit("upstream")


def scenario_squash_merge(root: Path, *, forget_pending: bool = False) -> Outcome:
    lab, _ = prepared(root, _squashable)
    if forget_pending:
        lab.forget_pending()
    lab.git("merge", "-q", "--squash", "feature")
    lab.git("commit", "-q", "-m", "feature, squashed")
    op = _forgotten("merge --squash + commit", forget_pending)
    return lab.outcome(op, ["a.py", "b.py"], ai_lines=38)


# --------------------------------------------------------------------------- 6. reset --soft


def _two_agent_commits(lab: Lab) -> None:
    a, b = lab.human(10), lab.human(6)
    lab.write("a.py", a)
    lab.write("b.py", b)
    lab.commit("base")
    a = a[:2] + lab.ai(10) + a[2:]
    lab.agent({"a.py": a})
    lab.commit("agent 1")
    a = a[:8] + lab.human(3) + a[8:]
    lab.write("a.py", a)
    lab.agent({"a.py": a + lab.ai(10, GPT), "b.py": b + lab.ai(10, GPT)}, GPT)
    lab.commit("agent 2")
    lab.before(["a.py", "b.py"], ai_lines=30)


def scenario_reset_soft(root: Path, *, forget_pending: bool = False) -> Outcome:
    lab, _ = prepared(root, _two_agent_commits)
    lab.git("reset", "-q", "--soft", "HEAD~1")
    if forget_pending:
        lab.forget_pending()
    lab.git("commit", "-q", "-m", "agent 2, recommitted")
    op = _forgotten("reset --soft HEAD~1 + recommit", forget_pending)
    return lab.outcome(op, ["a.py", "b.py"], ai_lines=30)


# --------------------------------------------------------------------------- 7. stash


def scenario_stash(root: Path) -> Outcome:
    """Uncommitted agent work (and a person's) is stashed; a person commits lines on
    top of the same file meanwhile; the stash is popped (merged) and committed."""
    lab = Lab(root)
    a, b = lab.human(10), lab.human(8)
    lab.write("a.py", a)
    lab.write("b.py", b)
    lab.commit("base")
    work = a[:3] + lab.ai(12) + a[3:] + lab.ai(12, GPT)
    lab.agent({"a.py": work[:22]})
    lab.agent({"a.py": work}, GPT)
    work = work[:1] + lab.human(2) + work[1:]
    lab.write("a.py", work)
    lab.write("b.py", b[:4] + lab.human(3) + b[4:])
    lab.before(["a.py", "b.py"], revision=None, exact_human=False, ai_lines=24)
    lab.git("stash", "-q")
    lab.write("a.py", lab.human(3) + a)
    lab.write("c.py", lab.human(5))
    lab.commit("meanwhile")
    lab.git("stash", "pop", "-q")
    lab.before(["a.py", "b.py"], stage="popped", revision=None, exact_human=False, ai_lines=24)
    lab.commit("after the stash")
    return lab.outcome("stash / stash pop, then commit", ["a.py", "b.py", "c.py"], ai_lines=24)


def scenario_stash_agent_meanwhile(root: Path) -> Outcome:
    """The agent's uncommitted work is stashed; while it is, the agent changes the same
    file again and that is committed; then the stash is popped and committed."""
    lab = Lab(root)
    a = lab.human(10)
    lab.write("a.py", a)
    lab.commit("base")
    lab.agent({"a.py": a[:3] + lab.ai(12) + a[3:]})
    lab.before(["a.py"], revision=None, exact_human=False, ai_lines=12)
    lab.git("stash", "-q")
    lab.agent({"a.py": a + lab.ai(8, GPT)}, GPT)
    lab.commit("the agent, meanwhile")
    lab.git("stash", "pop", "-q")
    lab.commit("the stashed work")
    return lab.outcome("stash, the agent edits the file meanwhile, pop", ["a.py"], ai_lines=20)


# --------------------------------------------------------------------------- 8. moves


def scenario_git_mv(root: Path) -> Outcome:
    lab = Lab(root)
    a = lab.human(10)
    lab.write("a.py", a)
    lab.commit("base")
    lab.agent({"a.py": a[:5] + lab.ai(12) + a[5:] + lab.ai(12)})
    lab.commit("agent")
    lab.before(["a.py"], ai_lines=24)
    lab.git("mv", "a.py", "moved.py")
    lab.commit("rename")
    return lab.outcome("git mv of a file with AI lines", ["moved.py"], ai_lines=24)


def scenario_move_function(root: Path) -> Outcome:
    """A person cuts two of an agent's functions out of a.py and pastes them into b.py."""
    lab = Lab(root)
    a, b = lab.human(10), lab.human(10)
    lab.write("a.py", a)
    lab.write("b.py", b)
    lab.commit("base")
    small, large = lab.function(6), lab.function(10)
    stay = lab.ai(8)
    a = a[:3] + small + a[3:6] + stay + large + a[6:]
    lab.agent({"a.py": a})
    lab.commit("agent")
    lab.before(["a.py", "b.py"], ai_lines=24)
    a = [line for line in a if line not in small and line not in large]
    b = b[:2] + large + b[2:7] + small + b[7:]
    lab.write("a.py", a)
    lab.write("b.py", b)
    lab.commit("a person moves two functions")
    return lab.outcome("a person moves AI functions between files", ["a.py", "b.py"], ai_lines=24)


# --------------------------------------------------------------------------- 9. merges


def scenario_merge_conflict(root: Path) -> Outcome:
    """Both branches change the same lines of a.py (main: a person, and an agent
    elsewhere); the merge conflicts. An agent resolves it (keeping both sides, adding
    lines), then a person adds resolution lines of their own."""
    lab, (h, block, tail, theirs) = prepared(root, _conflicting)
    main_ai = lab.ai(8, GPT)
    lab.agent({"a.py": h[:2] + main_ai + h[2:5] + theirs + h[7:]}, GPT)
    lab.commit("main: agent")
    lab.git("merge", "-q", "feature", check=False)
    if "a.py" not in lab.git("diff", "--name-only", "--diff-filter=U"):
        lab.failures.append("the merge did not conflict")
    resolving = lab.ai(4)
    resolved = h[:2] + main_ai + h[2:5] + block + resolving + theirs + h[7:] + tail
    lab.agent({"a.py": resolved})
    people = lab.human(3)
    lab.write("a.py", resolved[: -len(tail)] + people + tail)
    lab.git("add", "a.py")
    lab.git("commit", "-q", "--no-edit")
    if lab.parents() != 2:
        lab.failures.append("HEAD is not a merge commit")
    return lab.outcome("merge, conflict resolved by an agent and a person", ["a.py"], ai_lines=30)


def scenario_merge_resolution_edits_ai_line(root: Path) -> Outcome:
    """A person resolves the conflict and, doing so, changes one number in one of the
    agent's lines: ``mixed``, as the same edit in an ordinary commit is."""
    lab, (h, block, tail, theirs) = prepared(root, _conflicting)
    lab.git("merge", "-q", "feature", check=False)
    small = block[3]
    block = [edited(line) if line == small else line for line in block]
    lab.write("a.py", h[:5] + block + theirs + h[7:] + tail)
    lab.git("add", "a.py")
    lab.git("commit", "-q", "--no-edit")
    if lab.parents() != 2:
        lab.failures.append("HEAD is not a merge commit")
    special = {token_of(small): ("mixed", SONNET)}
    return lab.outcome(
        "merge, a person's resolution edits an AI line", ["a.py"], special=special, ai_lines=18
    )


def scenario_merge_clean(root: Path) -> Outcome:
    lab = Lab(root)
    a, b = lab.human(12), lab.human(8)
    lab.write("a.py", a)
    lab.write("b.py", b)
    lab.commit("base")
    lab.git("checkout", "-q", "-b", "feature")
    lab.agent({"a.py": a + lab.ai(12), "c.py": lab.ai(10)})
    lab.commit("feature: agent")
    lab.git("checkout", "-q", "main")
    lab.agent({"a.py": a[:2] + lab.ai(8, GPT) + a[2:]}, GPT)
    lab.write("b.py", b + lab.human(4))
    lab.commit("main: agent and a person")
    lab.git("merge", "-q", "--no-ff", "-m", "merge feature", "feature")
    if lab.parents() != 2:
        lab.failures.append("HEAD is not a merge commit")
    return lab.outcome("clean merge (merge commit)", ["a.py", "b.py", "c.py"], ai_lines=30)


# --------------------------------------------------------------------------- 10. no hooks


def _records_of(lab: Lab, commit: str) -> list[str]:
    """Ids of the records about ``commit`` (not notes git copied to it from another)."""
    return [s.record.id for s in lab.store().for_revision(commit) if s.record.revision == commit]


def _unlinked(lab: Lab, what: str) -> None:
    if _records_of(lab, lab.git("rev-parse", "HEAD")):
        lab.failures.append(f"{what} has a record: our hooks ran")


def _by_content(lab: Lab, operation: str, paths: Sequence[str], ai_lines: int) -> Outcome:
    return lab.outcome(
        operation,
        paths,
        target=CONTENT_TARGET,
        exact_human=False,
        ai_evidence="content",
        ai_lines=ai_lines,
    )


def scenario_hosted_squash_merge(root: Path) -> Outcome:
    """A hosting service squash-merges the feature: the commit is made without our
    hooks and without the pending state; only content anchors can find the lines."""
    lab, _ = prepared(root, _squashable)
    lab.forget_pending()
    lab.git("merge", "-q", "--squash", "feature")
    lab.git(*NO_HOOKS, "commit", "-q", "-m", "feature (#1)")
    _unlinked(lab, "the squash commit")
    return _by_content(lab, "squash merge without hooks (hosting service)", ["a.py", "b.py"], 38)


def scenario_hosted_squash_merge_interleaved(root: Path) -> Outcome:
    """The same with the agent's lines interleaved with a person's, one or two at a
    time, two models side by side (each line found through its context lines)."""
    lab = Lab(root)
    h = lab.human(30)
    lab.write("a.py", h)
    lab.commit("base")
    lab.git("checkout", "-q", "-b", "feature")
    a: Lines = []
    for i, line in enumerate(h):
        a.append(line)
        if i % 3 == 0:  # two lines, two models
            a += lab.ai(1) + lab.ai(1, GPT)
        else:
            a += lab.ai(1, GPT if i % 2 else SONNET)
    lab.agent({"a.py": [x for x in a if lab.models.get(token_of(x)) != GPT]})
    lab.agent({"a.py": a}, GPT)
    lab.commit("feature: agents")
    lab.before(["a.py"], ai_lines=40)
    lab.git("checkout", "-q", "main")
    lab.write("b.py", lab.human(4))
    lab.commit("upstream")
    lab.forget_pending()
    lab.git("merge", "-q", "--squash", "feature")
    lab.git(*NO_HOOKS, "commit", "-q", "-m", "feature (#2)")
    _unlinked(lab, "the squash commit")
    op = "squash merge without hooks, single AI lines interleaved"
    return _by_content(lab, op, ["a.py", "b.py"], 40)


def scenario_hookless_rebase(root: Path) -> Outcome:
    lab, _ = prepared(root, _diverged)
    lab.forget_pending()
    lab.git(*NO_HOOKS, "rebase", "-q", "main")
    _unlinked(lab, "the rebased commit")
    return _by_content(lab, "rebase without hooks", ["a.py", "b.py", "c.py"], 36)


def scenario_clone_cherry_pick(root: Path) -> Outcome:
    """The agent works in a clone (hooks there). The original cherry-picks its commit
    without hooks, then fetches the clone's notes (merged into its own by
    ``NotesBackend.fetch``, as ``trace notes fetch`` does): found by content."""
    lab = Lab(root)
    a = lab.human(12)
    lab.write("a.py", a)
    lab.commit("base")
    clone = GitRepo(root / "clone")
    lab.git("clone", "-q", str(lab.repo.root), str(clone.root))
    clone.git("config", "user.name", "Clone Human")
    clone.git("config", "user.email", "clone@example.com")
    clone_store = TraceStore.open(clone.root)
    clone_store.ensure_directory()
    install_hooks(clone_store.repository)
    NotesBackend(clone_store.repository).fetch("origin")
    clone.git("checkout", "-q", "-b", "feature")
    fa = a[:4] + lab.ai(12, GPT) + a[4:] + lab.ai(8, GPT)
    with Recorder(clone.root, model_id=GPT) as rec, rec.edit("a.py", "b.py"):
        clone.write("a.py", text(fa))
        clone.write("b.py", text(lab.ai(10, GPT)))
    picked = clone.commit("agent, in the clone")
    if not TraceStore.open(clone.root).for_revision(picked):
        lab.failures.append("the clone's commit was not linked")
    lab.write("a.py", lab.human(3) + a)
    lab.commit("upstream")
    lab.git("fetch", "-q", str(clone.root), "feature")
    lab.git(*NO_HOOKS, "cherry-pick", "FETCH_HEAD")
    _unlinked(lab, "the cherry-picked commit")
    lab.git("remote", "add", "clone", str(clone.root))
    NotesBackend(lab.store().repository).fetch("clone")
    op = "cherry-pick from a clone without hooks, notes fetched"
    return _by_content(lab, op, ["a.py", "b.py"], 30)


# --------------------------------------------------------------------------- 11. mixed


def scenario_human_edits_ai_lines(root: Path) -> Outcome:
    """A person changes one number in an agent's committed line (``mixed``, the
    agent's model) and rewrites another completely (``human``), in a new commit."""
    lab, a = prepared(root, _agent_commit)
    small, rewritten = a[5], a[20]
    a = [edited(line) if line == small else line for line in a]
    a[a.index(rewritten)] = lab.human(1)[0]
    lab.write("a.py", a)
    lab.commit("a person edits two of the agent's lines")
    special = {token_of(small): ("mixed", lab.models[token_of(small)])}
    return lab.outcome(
        "a person edits AI lines (mixed / human)", ["a.py"], special=special, ai_lines=29
    )


# --------------------------------------------------------------------------- the suite


Scenario = Callable[[Path], Outcome]

STASH_BUG = (  # known limitation, reported for planning
    "stashed agent lines are labelled human after the pop when the agent edited the same "
    "file while they were stashed: the pending state keeps one state per path, and "
    "Recorder._attribute_one replaces it with the new edit's content (labels carried from "
    "HEAD's content), dropping the stashed lines' labels; they were never committed, so "
    "no record or content anchor has them either"
)


def _case(
    name: str, scenario: Callable[..., Outcome], *, xfail: str | None = None, **kwargs: Any
) -> Any:
    """A ``pytest.param`` of ``scenario`` with ``kwargs`` bound."""
    func = functools.partial(scenario, **kwargs) if kwargs else scenario
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(func, id=name, marks=marks)


REORDER = [("pick", s) for s in ("three", "one", "two", "five", "four")]

CASES = [
    _case("amend-message", scenario_amend_message),
    _case("amend-message-forgotten", scenario_amend_message, forget_pending=True),
    _case("amend-human-lines", scenario_amend_human_lines),
    _case("amend-human-lines-forgotten", scenario_amend_human_lines, forget_pending=True),
    _case("amend-partial", scenario_amend_partial),
    _case("amend-edits-ai-line", scenario_amend_edits_ai_line),
    _case("rebase", scenario_rebase),
    _case("rebase-forgotten", scenario_rebase, forget_pending=True),
    _case("rebase-onto-renamed", scenario_rebase_onto_renamed),
    _case("rebase-conflict", scenario_rebase_conflict),
    _case("rebase-conflict-forgotten", scenario_rebase_conflict, forget_pending=True),
    _case("rebase-i-reorder", scenario_rebase_i, plan=REORDER, operation="reorder"),
    _case(
        "rebase-i-reorder-forgotten",
        scenario_rebase_i,
        plan=REORDER,
        operation="reorder",
        forget_pending=True,
    ),
    _case(
        "rebase-i-squash",
        scenario_rebase_i,
        plan=[*SERIES[:2], ("squash", "three"), *SERIES[3:]],
        operation="squash (two models into one commit)",
        forget_pending=True,
    ),
    _case(
        "rebase-i-fixup",
        scenario_rebase_i,
        plan=[SERIES[0], ("fixup", "four"), *SERIES[1:3], SERIES[4]],
        operation="fixup (a person's commit into the agent's)",
        forget_pending=True,
    ),
    _case(
        "rebase-i-drop-reword",
        scenario_rebase_i,
        plan=[("drop", "one"), ("reword", "two"), *SERIES[2:]],
        operation="drop + reword",
        ai_lines=24,
        forget_pending=True,
    ),
    _case("rebase-i-edit", scenario_rebase_i_edit),
    _case("rebase-i-edit-forgotten", scenario_rebase_i_edit, forget_pending=True),
    _case("cherry-pick", scenario_cherry_pick),
    _case("cherry-pick-forgotten", scenario_cherry_pick, forget_pending=True),
    _case("cherry-pick-no-commit", scenario_cherry_pick_no_commit, forget_pending=True),
    _case("squash-merge", scenario_squash_merge),
    _case("squash-merge-forgotten", scenario_squash_merge, forget_pending=True),
    _case("reset-soft", scenario_reset_soft),
    _case("reset-soft-forgotten", scenario_reset_soft, forget_pending=True),
    _case("stash", scenario_stash),
    _case("stash-agent-meanwhile", scenario_stash_agent_meanwhile, xfail=STASH_BUG),
    _case("git-mv", scenario_git_mv),
    _case("move-function", scenario_move_function),
    _case("merge-conflict", scenario_merge_conflict),
    _case("merge-edits-ai-line", scenario_merge_resolution_edits_ai_line),
    _case("merge-clean", scenario_merge_clean),
    _case("hosted-squash-merge", scenario_hosted_squash_merge),
    _case("hosted-squash-merge-interleaved", scenario_hosted_squash_merge_interleaved),
    _case("hookless-rebase", scenario_hookless_rebase),
    _case("clone-cherry-pick", scenario_clone_cherry_pick),
    _case("human-edits-ai-lines", scenario_human_edits_ai_lines),
]


@pytest.mark.parametrize("scenario", CASES)
def test_attribution_survives(scenario: Scenario, tmp_path: Path) -> None:
    outcome = scenario(tmp_path)
    problems = outcome.problems()
    assert problems == [], f"{outcome.operation}:\n" + "\n".join(problems)
    assert outcome.share >= outcome.target
    assert outcome.human_mislabelled == 0


# --------------------------------------------------------------------------- the table


def main() -> int:  # pragma: no cover - run by hand: python test_rewrites.py
    import os
    import time

    from gitrepo import isolated_git_env

    rows = []
    notes = []
    failed = 0
    with tempfile.TemporaryDirectory(prefix="agent-trace-rewrites-") as tmp:
        base = Path(tmp)
        os.environ.update(isolated_git_env(base))
        for number, case in enumerate(CASES):
            [scenario] = case.values
            root = base / f"case-{number}"
            root.mkdir()
            started = time.perf_counter()
            try:
                outcome = scenario(root)
            except Exception as exc:  # noqa: BLE001 - reported in the table
                outcome = Outcome(operation=case.id, failures=[f"{type(exc).__name__}: {exc}"])
            elapsed = time.perf_counter() - started
            problems = outcome.problems()
            if not problems:
                status = "ok" if not case.marks else "XPASS"
            else:
                status = "xfail" if case.marks else "FAIL"
            failed += status in ("FAIL", "XPASS")
            rows.append(
                (
                    outcome.operation,
                    f"{outcome.ai_kept} / {outcome.ai_before}",
                    f"{outcome.share:.1%}",
                    f"{outcome.human_mislabelled} / {outcome.human_total}",
                    ", ".join(f"{k} {v}" for k, v in sorted(outcome.evidence.items())),
                    status,
                    f"{elapsed:.1f}s",
                )
            )
            notes += [f"{case.id} ({status}): {problem}" for problem in problems]
    header = (
        "operation",
        "AI kept / before",
        "%",
        "human mislabelled",
        "AI evidence",
        "status",
        "time",
    )
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if notes:
        print()
        print("\n".join(notes))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
