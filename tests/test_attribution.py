"""Attribution end to end: the recorder drives real edits in a real git repository, real
``git commit`` makes the commits, and ``trace blame --format json`` must name the exact
contributor of every line.

Each scenario asserts the full per-line list ``(line, type, model_id)``, the commit each
line comes from and the summary counts, and ends by validating every record the store
holds (no problem of severity ``error``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner, Result
from gitrepo import GitRepo

from agent_trace import (
    Recorder,
    TraceRecord,
    TraceStore,
    content_hash,
    current_recorder,
    record_to_dict,
    validate_record,
)
from agent_trace.cli import cli
from agent_trace.events import (
    AgentMessageItem,
    CommandExecutionItem,
    EventReader,
    FileChangeItem,
    FileUpdateChange,
    ItemCompletedEvent,
    ItemStartedEvent,
    JsonlEmitter,
    PatchApplyStatus,
    PatchChangeKind,
    ThreadCompletedEvent,
    ThreadErrorEvent,
    ThreadEvent,
    TurnFailedEvent,
    Usage,
    to_dict,
)

SONNET = "anthropic/claude-sonnet-4-5"
GPT = "openai/gpt-5"
CLEAN_ENV = {"NO_COLOR": "", "FORCE_COLOR": ""}

Who = tuple[int, str, str | None]


# --------------------------------------------------------------------------- helpers


def trace(repo: GitRepo, *args: str, code: int = 0) -> Result:
    """``trace ARGS -C repo`` in process; asserts the exit code."""
    result = CliRunner().invoke(cli, [*args, "-C", str(repo.root)], env=CLEAN_ENV)
    assert result.exit_code == code, result.output
    return result


def blame(repo: GitRepo, path: str, *args: str) -> dict[str, Any]:
    """``trace blame PATH --format json -C repo`` parsed; the summary is checked against
    the lines."""
    data: dict[str, Any] = json.loads(trace(repo, "blame", path, "--format", "json", *args).stdout)
    counts = {"ai": 0, "human": 0, "mixed": 0, "unknown": 0}
    for line in data["lines"]:
        counts[line["contributor"]["type"]] += 1
    assert data["summary"] == counts
    numbers = [line["line"] for line in data["lines"]]
    assert numbers == sorted(numbers)
    return data


def who(data: dict[str, Any]) -> list[Who]:
    return [
        (line["line"], line["contributor"]["type"], line["contributor"]["model_id"])
        for line in data["lines"]
    ]


def commits(data: dict[str, Any]) -> list[str | None]:
    return [line["commit"] for line in data["lines"]]


def evidence(data: dict[str, Any]) -> list[str]:
    return [line["evidence"] for line in data["lines"]]


def summary(ai: int = 0, human: int = 0, unknown: int = 0) -> dict[str, int]:
    return {"human": human, "ai": ai, "mixed": 0, "unknown": unknown}


def lines(*texts: str) -> str:
    return "".join(f"{t}\n" for t in texts)


def link_records(repo: GitRepo) -> list[TraceRecord]:
    """The records in ``traces.jsonl``, in file order."""
    store = TraceStore.open(repo.root)
    return [s.record for s in store.file.records()]


def record_of(repo: GitRepo, commit: str) -> TraceRecord:
    found = [r for r in link_records(repo) if r.revision == commit]
    assert len(found) == 1, found
    return found[0]


def assert_records_valid(repo: GitRepo) -> int:
    """Every record of the store (file and notes) validates; returns how many there are."""
    store = TraceStore.open(repo.root)
    records = [s.record for s in store.records()]
    assert store.issues == []
    for record in records:
        errors = [p for p in validate_record(record_to_dict(record)) if p.severity == "error"]
        assert errors == [], (record.id, errors)
    return len(records)


def events_of(rec: Recorder) -> list[ThreadEvent]:
    return [entry.event for entry in EventReader(rec.events_path)]


def types_of(events: list[ThreadEvent]) -> list[str]:
    return [str(event.type) for event in events]


def file_changes(events: list[ThreadEvent]) -> list[tuple[str, FileChangeItem]]:
    out = []
    for event in events:
        if isinstance(event, ItemStartedEvent | ItemCompletedEvent) and isinstance(
            event.item, FileChangeItem
        ):
            out.append((str(event.type), event.item))
    return out


def ten(prefix: str) -> list[str]:
    return [f"{prefix}{i} = {i}" for i in range(1, 11)]


# --------------------------------------------------------------------------- 1. agent only


def test_agent_only_commit_is_linked_by_the_recorder(repo: GitRepo) -> None:
    repo.write("README.md", "# project\n")
    base = repo.commit("base")
    url = "https://example.com/conversations/42"
    with Recorder(
        repo.root, tool_name="my-agent", tool_version="1.2.3", model_id=SONNET, conversation_url=url
    ) as rec:
        with rec.turn(), rec.edit("src/app.py"):
            repo.write("src/app.py", lines("import os", "", "print(os.getcwd())"))
        head = repo.commit("agent: app")
        assert rec.links == []  # linked when the recorder next looks
        rec.emit(ItemCompletedEvent(item=AgentMessageItem(id="m1", text="done")))
        assert [link.commit for link in rec.links] == [head]
    assert len(rec.links) == 1  # exit found nothing new
    result = rec.links[0]
    assert (result.ai_lines, result.human_lines, result.already_linked) == (3, 0, False)
    assert result.record is not None
    assert result.record.ours["linked_by"] == "recorder"
    assert result.record.ours["parents"] == [base]
    [detail] = result.record.ours["conversations"]
    assert detail["run_id"] == rec.run_id
    assert (detail["tool_name"], detail["tool_version"]) == ("my-agent", "1.2.3")
    assert (detail["turn_ids"], detail["item_ids"]) == (["turn-1"], ["edit-1"])

    data = blame(repo, "src/app.py")
    assert who(data) == [(1, "ai", SONNET), (2, "ai", SONNET), (3, "ai", SONNET)]
    assert commits(data) == [head] * 3
    assert data["summary"] == summary(ai=3)
    for line in data["lines"]:
        assert line["trace_id"] == result.record.id
        assert (line["conversation_url"], line["confidence"]) == (url, 1.0)
        assert line["evidence"] == "edit-window"
        assert line["orig_path"] == "src/app.py"
    readme = blame(repo, "README.md")
    assert who(readme) == [(1, "unknown", None)]
    assert evidence(readme) == ["no-record"]
    assert assert_records_valid(repo) == 1


def test_events_look_at_head_at_most_once_per_poll_but_file_changes_always(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent_trace import _recorder

    monkeypatch.setattr(_recorder, "_HEAD_POLL_NS", 10**15)  # one look, then none by poll
    repo.write("README.md", "# project\n")
    repo.commit("base")
    with Recorder(repo.root, model_id=SONNET) as rec:
        rec.emit(ItemCompletedEvent(item=AgentMessageItem(id="m1", text="one")))
        repo.write("a.py", "x = 1\n")
        head = repo.commit("human: a")
        rec.emit(ItemCompletedEvent(item=AgentMessageItem(id="m2", text="two")))
        assert rec.links == []  # inside the poll window: not looked yet
        rec.emit(ItemStartedEvent(item=_change("fc1", PatchApplyStatus.IN_PROGRESS, "b.py")))
        assert [link.commit for link in rec.links] == [head]  # a file change always looks


def test_root_commit_made_during_the_run_is_linked(repo: GitRepo) -> None:
    with Recorder(repo.root, model_id=SONNET) as rec:
        with rec.edit("a.py"):
            repo.write("a.py", lines("a", "b"))
        head = repo.commit("root")
    assert [(r.commit, r.ai_lines) for r in rec.links] == [(head, 2)]
    assert rec.links[0].record is not None
    assert rec.links[0].record.ours["parents"] == []
    assert who(blame(repo, "a.py")) == [(1, "ai", SONNET), (2, "ai", SONNET)]
    assert assert_records_valid(repo) == 1


def test_blame_before_the_first_commit(repo: GitRepo) -> None:
    with Recorder(repo.root, model_id=SONNET) as rec, rec.edit("a.py"):
        repo.write("a.py", lines("a", "b"))
    repo.write("b.py", lines("b"))
    data = blame(repo, "a.py")
    assert who(data) == [(1, "ai", SONNET), (2, "ai", SONNET)]
    assert commits(data) == [None, None]
    assert evidence(data) == ["pending:edit-window"] * 2
    assert who(blame(repo, "a.py", "-L", "2,2")) == [(2, "ai", SONNET)]
    other = blame(repo, "b.py")
    assert who(other) == [(1, "unknown", None)]
    assert evidence(other) == ["uncommitted"]


# --------------------------------------------------------------------------- 2. human, then agent


@pytest.mark.parametrize("human_linked", [False, True], ids=["pre-tool-human", "linked-human"])
def test_agent_edits_a_file_a_human_committed(repo: GitRepo, human_linked: bool) -> None:
    repo.write("f.py", lines("h1", "h2", "h3", "h4", "h5"))
    c0 = repo.commit("human")
    if human_linked:
        out = trace(repo, "link").stdout
        assert out == f"{c0[:12]} linked: 0 AI line(s), 5 human line(s)\n"
    with Recorder(repo.root, model_id=SONNET) as rec:
        with rec.edit("f.py"):
            repo.write("f.py", lines("h1", "A2", "h3", "A3b", "h4", "h5", "A6", "A7"))
        c1 = repo.commit("agent")
    assert [(r.commit, r.ai_lines, r.human_lines) for r in rec.links] == [(c1, 4, 0)]

    old = "human" if human_linked else "unknown"
    data = blame(repo, "f.py")
    assert who(data) == [
        (1, old, None),
        (2, "ai", SONNET),
        (3, old, None),
        (4, "ai", SONNET),
        (5, old, None),
        (6, old, None),
        (7, "ai", SONNET),
        (8, "ai", SONNET),
    ]
    assert commits(data) == [c0, c1, c0, c1, c0, c0, c1, c1]
    assert [line["orig_line"] for line in data["lines"]] == [1, 2, 3, 4, 4, 5, 7, 8]
    was = "commit" if human_linked else "no-record"
    agent = "edit-window"
    assert evidence(data) == [was, agent, was, agent, was, was, agent, agent]
    assert data["summary"] == (summary(ai=4, human=4) if human_linked else summary(ai=4, unknown=4))
    # The same at the commit, and for a range only.
    assert who(blame(repo, "f.py", "--rev", c1)) == who(data)
    assert who(blame(repo, "f.py", "--rev", "HEAD", "-L", "2,4")) == who(data)[1:4]
    assert assert_records_valid(repo) == (2 if human_linked else 1)


# --------------------------------------------------------------------------- 3. human fixes


def test_human_fixes_agent_lines_before_committing(repo: GitRepo) -> None:
    repo.write("README.md", "r\n")
    repo.commit("base")
    with Recorder(repo.root, model_id=SONNET) as rec, rec.edit("n.py"):
        repo.write("n.py", lines("n1", "n2", "n3", "n4", "n5"))
    repo.write("n.py", lines("n1", "H2", "n3", "H4", "n5", "H6"))  # the human's fixes

    pending = blame(repo, "n.py")
    expected = [
        (1, "ai", SONNET),
        (2, "human", None),
        (3, "ai", SONNET),
        (4, "human", None),
        (5, "ai", SONNET),
        (6, "human", None),
    ]
    assert who(pending) == expected
    assert commits(pending) == [None] * 6
    assert evidence(pending) == ["pending:edit-window", "pending:human"] * 3

    head = repo.commit("agent work, fixed")
    assert trace(repo, "link").stdout == f"{head[:12]} linked: 3 AI line(s), 3 human line(s)\n"
    data = blame(repo, "n.py")
    assert who(data) == expected
    assert commits(data) == [head] * 6
    assert evidence(data) == ["edit-window", "commit"] * 3
    assert data["summary"] == summary(ai=3, human=3)
    assert assert_records_valid(repo) == 1


def test_human_edits_outside_edit_windows_are_never_ai(repo: GitRepo) -> None:
    repo.write("f.py", lines("b1", "b2", "b3", "b4"))
    c0 = repo.commit("base")
    with Recorder(repo.root, model_id=SONNET) as rec:
        with rec.edit("f.py"):
            repo.write("f.py", lines("a0", "b1", "b2", "b3", "b4"))
        # The human, while the agent runs: changes a line, adds one, writes another file.
        repo.write("f.py", lines("a0", "b1", "b2", "b3", "h4", "h5"))
        repo.write("g.py", lines("g1", "g2"))
        with rec.edit("f.py"):
            repo.write("f.py", lines("a0", "b1", "a2", "b3", "h4", "h5"))
        # ... and once more after the agent's last edit.
        repo.write("f.py", lines("a0", "b1", "h15", "a2", "b3", "h4", "h5"))
        c1 = repo.commit("together")
    assert [(r.commit, r.ai_lines, r.human_lines) for r in rec.links] == [(c1, 2, 5)]

    data = blame(repo, "f.py")
    assert who(data) == [
        (1, "ai", SONNET),
        (2, "unknown", None),
        (3, "human", None),
        (4, "ai", SONNET),
        (5, "unknown", None),
        (6, "human", None),
        (7, "human", None),
    ]
    assert commits(data) == [c1, c0, c1, c1, c0, c1, c1]
    assert data["summary"] == summary(ai=2, human=3, unknown=2)
    other = blame(repo, "g.py")
    assert who(other) == [(1, "human", None), (2, "human", None)]
    assert commits(other) == [c1, c1]
    assert assert_records_valid(repo) == 1


# --------------------------------------------------------------------------- 4. two models


def test_two_runs_with_two_models_in_one_file(repo: GitRepo) -> None:
    repo.write("f.py", lines("h1", "h2", "h3", "h4"))
    c0 = repo.commit("human")
    trace(repo, "link")
    with Recorder(repo.root, tool_name="claude-code", model_id=SONNET) as first, first.edit("f.py"):
        repo.write("f.py", lines("s1", "h1", "h2", "h3", "h4"))
    with Recorder(repo.root, tool_name="codex", model_id=GPT) as second:
        with second.edit("f.py"):
            repo.write("f.py", lines("s1", "h1", "h2", "s2", "h3", "h4", "g1", "g2"))
        c1 = repo.commit("both agents")
    assert first.links == []
    assert [(r.commit, r.ai_lines, r.human_lines) for r in second.links] == [(c1, 4, 0)]

    data = blame(repo, "f.py")
    assert who(data) == [
        (1, "ai", SONNET),
        (2, "human", None),
        (3, "human", None),
        (4, "ai", GPT),
        (5, "human", None),
        (6, "human", None),
        (7, "ai", GPT),
        (8, "ai", GPT),
    ]
    assert commits(data) == [c1, c0, c0, c1, c0, c0, c1, c1]
    assert data["summary"] == summary(ai=4, human=4)

    record = record_of(repo, c1)
    [trace_file] = record.files
    conversations = [
        (c.contributor and c.contributor.model_id, [(r.start_line, r.end_line) for r in c.ranges])
        for c in trace_file.conversations
    ]
    assert conversations == [(SONNET, [(1, 1)]), (GPT, [(4, 4), (7, 8)])]
    details = record.ours["conversations"]
    assert [(d["run_id"], d["tool_name"]) for d in details] == [
        (first.run_id, "claude-code"),
        (second.run_id, "codex"),
    ]
    runs = json.loads(trace(repo, "runs", "--format", "json").stdout)
    assert [(r["run_id"], r["model_id"], r["status"]) for r in runs] == [
        (first.run_id, SONNET, "completed"),
        (second.run_id, GPT, "completed"),
    ]
    assert assert_records_valid(repo) == 2


# --------------------------------------------------------------------------- 5. later commits


def test_commit_after_the_run_is_linked_by_trace_link(repo: GitRepo) -> None:
    repo.write("README.md", "r\n")
    repo.commit("base")
    with Recorder(repo.root, model_id=GPT) as rec, rec.edit("x.py"):
        repo.write("x.py", lines("x1", "x2", "x3"))
    head = repo.commit("after the run")
    assert rec.links == []

    before = blame(repo, "x.py")
    assert who(before) == [(1, "unknown", None), (2, "unknown", None), (3, "unknown", None)]
    assert evidence(before) == ["no-record"] * 3

    assert trace(repo, "link").stdout == f"{head[:12]} linked: 3 AI line(s), 0 human line(s)\n"
    data = blame(repo, "x.py")
    assert who(data) == [(1, "ai", GPT), (2, "ai", GPT), (3, "ai", GPT)]
    assert commits(data) == [head] * 3
    assert record_of(repo, head).ours["linked_by"] == "manual"

    size = TraceStore.open(repo.root).traces_path.stat().st_size
    notes = repo.notes()
    assert trace(repo, "link", "HEAD").stdout == f"{head[:12]} already linked\n"
    assert trace(repo, "link", "HEAD~1..HEAD").stdout == f"{head[:12]} already linked\n"
    assert TraceStore.open(repo.root).traces_path.stat().st_size == size
    assert repo.notes() == notes
    assert len(link_records(repo)) == 1

    # --force writes a new record; blame uses the newest and still says the same.
    trace(repo, "link", "--force")
    assert len(link_records(repo)) == 2
    assert who(blame(repo, "x.py")) == who(data)
    assert assert_records_valid(repo) == 2


def test_commit_after_the_run_is_linked_by_the_post_commit_hook(repo: GitRepo) -> None:
    repo.write("README.md", "r\n")
    repo.commit("base")
    out = trace(repo, "hooks", "install").stdout
    hook = Path(repo.git("rev-parse", "--path-format=absolute", "--git-path", "hooks"))
    assert out == "".join(
        f"{name}: installed  {hook / name}\n"
        for name in ("post-commit", "post-merge", "post-rewrite")
    )
    script = (hook / "post-commit").read_text()
    assert f"{sys.executable} -m agent_trace.cli hook post-commit" in script
    assert os.access(hook / "post-commit", os.X_OK)

    with Recorder(repo.root, model_id=SONNET) as rec, rec.edit("y.py"):
        repo.write("y.py", lines("y1", "y2"))
    repo.write("human.txt", "by hand\n")
    head = repo.commit("after the run")  # the hook links it

    assert record_of(repo, head).ours["linked_by"] == "hook"
    assert who(blame(repo, "y.py")) == [(1, "ai", SONNET), (2, "ai", SONNET)]
    assert who(blame(repo, "human.txt")) == [(1, "human", None)]
    assert head in repo.notes()
    assert trace(repo, "link").stdout == f"{head[:12]} already linked\n"
    assert len(link_records(repo)) == 1
    assert not (TraceStore.open(repo.root).directory / "hooks.log").exists()
    assert assert_records_valid(repo) == 1


def test_commits_fast_forwarded_into_during_a_run_are_not_claimed(repo: GitRepo) -> None:
    repo.write("README.md", "r\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "teammate")
    repo.write("theirs.py", lines("written", "long ago"))
    theirs = repo.commit("a teammate's work, not recorded")
    repo.git("checkout", "-q", "main")
    with Recorder(repo.root, model_id=SONNET) as rec:
        repo.git("merge", "-q", "--ff-only", "teammate")
    assert rec.links == []
    data = blame(repo, "theirs.py")
    assert commits(data) == [theirs, theirs]
    assert who(data) == [(1, "unknown", None), (2, "unknown", None)]


# --------------------------------------------------------------------------- 6. files come and go


def test_new_deleted_and_renamed_files(repo: GitRepo) -> None:
    repo.write("keep.py", lines(*ten("k")))
    repo.write("gone.py", lines("g1", "g2"))
    c0 = repo.commit("base")
    with Recorder(repo.root, model_id=SONNET) as rec:
        with rec.edit("new.py", "gone.py", "keep.py"):
            repo.write("new.py", lines("n1", "n2"))
            (repo.root / "gone.py").unlink()
            repo.write("keep.py", lines(*ten("k"), "agent11", "agent12"))
        c1 = repo.commit("agent: add, delete, extend")
    completed = [item for kind, item in file_changes(events_of(rec)) if kind == "item.completed"]
    assert [(c.path, str(c.kind)) for c in completed[0].changes] == [
        ("new.py", "add"),
        ("gone.py", "delete"),
        ("keep.py", "update"),
    ]
    assert [(r.commit, r.ai_lines, r.human_lines) for r in rec.links] == [(c1, 4, 0)]

    repo.git("mv", "keep.py", "moved.py")
    c2 = repo.commit("human: rename")
    assert trace(repo, "link").stdout == f"{c2[:12]} linked: 0 AI line(s), 0 human line(s)\n"

    assert who(blame(repo, "new.py")) == [(1, "ai", SONNET), (2, "ai", SONNET)]
    data = blame(repo, "moved.py")
    assert who(data) == [(i, "unknown", None) for i in range(1, 11)] + [
        (11, "ai", SONNET),
        (12, "ai", SONNET),
    ]
    assert commits(data) == [c0] * 10 + [c1] * 2
    assert {line["orig_path"] for line in data["lines"]} == {"keep.py"}
    assert data["summary"] == summary(ai=2, unknown=10)
    gone = trace(repo, "blame", "gone.py", code=1)
    assert "gone.py: no such file in the work tree" in gone.output
    assert who(blame(repo, "gone.py", "--rev", c0)) == [(1, "unknown", None), (2, "unknown", None)]
    assert assert_records_valid(repo) == 2


def test_rename_in_the_commit_of_the_agent_edit_and_a_move_by_the_agent(repo: GitRepo) -> None:
    repo.write("old.py", lines(*ten("o")))
    c0 = repo.commit("base")
    with Recorder(repo.root, model_id=SONNET) as rec, rec.edit("old.py"):
        repo.write("old.py", lines(*ten("o"), "s11", "s12"))
    repo.git("mv", "old.py", "new.py")  # a human renames the file the agent just edited
    c1 = repo.commit("rename and agent lines")
    assert trace(repo, "link").stdout == f"{c1[:12]} linked: 2 AI line(s), 0 human line(s)\n"
    data = blame(repo, "new.py")
    assert who(data) == [(i, "unknown", None) for i in range(1, 11)] + [
        (11, "ai", SONNET),
        (12, "ai", SONNET),
    ]
    assert commits(data) == [c0] * 10 + [c1] * 2
    assert [line["orig_path"] for line in data["lines"]] == ["old.py"] * 10 + ["new.py"] * 2

    # An agent moves the file itself (one edit of both paths) and adds a line.
    with Recorder(repo.root, model_id=GPT) as rec2:
        with rec2.edit("new.py", "moved.py"):
            (repo.root / "new.py").rename(repo.root / "moved.py")
            with (repo.root / "moved.py").open("a") as f:
                f.write("g13\n")
        repo.git("add", "-A")
        c2 = repo.commit("agent: move")
    assert [(r.commit, r.ai_lines, r.human_lines) for r in rec2.links] == [(c2, 1, 0)]
    moved = blame(repo, "moved.py")
    assert who(moved) == [(i, "unknown", None) for i in range(1, 11)] + [
        (11, "ai", SONNET),
        (12, "ai", SONNET),
        (13, "ai", GPT),
    ]
    assert commits(moved) == [c0] * 10 + [c1] * 2 + [c2]
    assert moved["summary"] == summary(ai=3, unknown=10)
    assert assert_records_valid(repo) == 2


# --------------------------------------------------------------------------- 7. line endings


def test_crlf_and_missing_final_newline(repo: GitRepo) -> None:
    repo.write("crlf.txt", b"one\r\ntwo\r\nthree\r\n")
    repo.write("tail.txt", b"a\nb")
    c0 = repo.commit("base")
    with Recorder(repo.root, model_id=SONNET) as rec:
        with rec.edit("crlf.txt", "tail.txt", "new.txt"):
            repo.write("crlf.txt", b"one\r\nTWO\r\nthree\r\nfour\r\n")
            repo.write("tail.txt", b"a\nb\nc")
            repo.write("new.txt", b"x\r\ny")
        c1 = repo.commit("agent")
    # tail.txt line 2 gained its newline: git counts it as changed in c1, but its text
    # is the human's (not in the agent's edit), so it is human.
    assert [(r.commit, r.ai_lines, r.human_lines) for r in rec.links] == [(c1, 5, 1)]

    crlf = blame(repo, "crlf.txt")
    assert who(crlf) == [
        (1, "unknown", None),
        (2, "ai", SONNET),
        (3, "unknown", None),
        (4, "ai", SONNET),
    ]
    assert commits(crlf) == [c0, c1, c0, c1]
    assert (repo.root / "crlf.txt").read_bytes().count(b"\r\n") == 4
    [crlf_file] = [f for f in record_of(repo, c1).files if f.path == "crlf.txt"]
    ranges = crlf_file.conversations[0].ranges
    assert [(r.start_line, r.end_line, r.content_hash) for r in ranges] == [
        (2, 2, content_hash([b"TWO"])),
        (4, 4, content_hash([b"four"])),
    ]
    tail = blame(repo, "tail.txt")
    assert who(tail) == [(1, "unknown", None), (2, "human", None), (3, "ai", SONNET)]
    assert commits(tail) == [c0, c1, c1]
    new = blame(repo, "new.txt")
    assert who(new) == [(1, "ai", SONNET), (2, "ai", SONNET)]
    assert new["summary"] == summary(ai=2)

    # Another model appends to the file without a final newline: the last line only
    # gains a newline, so it keeps its model.
    with Recorder(repo.root, model_id=GPT) as rec2:
        with rec2.edit("tail.txt"):
            repo.write("tail.txt", b"a\nb\nc\nd")
        c2 = repo.commit("another agent")
    assert [(r.commit, r.ai_lines, r.human_lines) for r in rec2.links] == [(c2, 2, 0)]
    tail = blame(repo, "tail.txt")
    assert who(tail) == [
        (1, "unknown", None),
        (2, "human", None),
        (3, "ai", SONNET),
        (4, "ai", GPT),
    ]
    assert commits(tail) == [c0, c1, c2, c2]
    assert assert_records_valid(repo) == 2


# --------------------------------------------------------------------------- 8. binary files


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\nmore\n"


def test_binary_file_is_not_attributed(repo: GitRepo) -> None:
    repo.write("README.md", "r\n")
    repo.commit("base")
    with Recorder(repo.root, model_id=SONNET) as rec:
        with rec.edit("logo.png", "notes.txt"):
            repo.write("logo.png", PNG)
            repo.write("notes.txt", lines("n1"))
        head = repo.commit("agent: logo")
    [completed] = [item for kind, item in file_changes(events_of(rec)) if kind == "item.completed"]
    logo, notes = completed.changes
    assert logo.path == "logo.png"
    assert logo.extra == {"agent_trace": "binary file, not attributed"}
    assert (notes.path, str(notes.kind), notes.extra) == ("notes.txt", "add", {})

    [result] = rec.links
    assert result.skipped == (("logo.png", "binary"),)
    assert (result.ai_lines, result.human_lines) == (1, 0)
    record = record_of(repo, head)
    assert record.ours["skipped"] == [{"path": "logo.png", "reason": "binary"}]
    assert [f.path for f in record.files] == ["notes.txt"]
    assert who(blame(repo, "notes.txt")) == [(1, "ai", SONNET)]
    data = blame(repo, "logo.png")  # no crash; nothing claimed
    assert {line["contributor"]["type"] for line in data["lines"]} == {"unknown"}
    assert set(evidence(data)) == {"not-in-record"}
    out = trace(repo, "link", "--force").stdout
    assert out == f"{head[:12]} linked: 1 AI line(s), 0 human line(s); logo.png skipped (binary)\n"
    assert assert_records_valid(repo) == 2


def test_binary_file_changes_keep_their_kind(repo: GitRepo) -> None:
    repo.write("old.bin", b"\x00\x01")
    repo.commit("base")
    with Recorder(repo.root, model_id=SONNET) as rec, rec.edit("old.bin", "new.bin"):
        (repo.root / "old.bin").unlink()
        repo.write("new.bin", b"\x00\x02")
    [completed] = [item for kind, item in file_changes(events_of(rec)) if kind == "item.completed"]
    assert [(c.path, str(c.kind)) for c in completed.changes] == [
        ("old.bin", "delete"),
        ("new.bin", "add"),
    ]


# --------------------------------------------------------------------------- 9. uncommitted lines


def test_pending_lines_survive_the_recording_process(repo: GitRepo) -> None:
    repo.write("app.py", lines("h1", "h2", "h3"))
    repo.write("other.py", lines("o1"))
    c0 = repo.commit("base")
    repo.write("app.py", lines("h1", "h2", "h3", "human4"))  # a person's uncommitted line
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from agent_trace import Recorder
        root = Path({str(repo.root)!r})
        with Recorder(root, tool_name="sub", model_id={GPT!r}) as rec:
            with rec.edit("app.py", "fresh.py"):
                (root / "app.py").write_text("h1\\nAI2\\nh3\\nhuman4\\nAI5\\n")
                (root / "fresh.py").write_text("f1\\nf2\\n")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    repo.write("other.py", lines("o1", "o2"))  # no agent ever touched it

    app = blame(repo, "app.py")
    assert who(app) == [
        (1, "unknown", None),
        (2, "ai", GPT),
        (3, "unknown", None),
        (4, "human", None),
        (5, "ai", GPT),
    ]
    assert commits(app) == [c0, None, c0, None, None]
    assert evidence(app) == [
        "no-record",
        "pending:edit-window",
        "no-record",
        "pending:human",
        "pending:edit-window",
    ]
    assert [line["confidence"] for line in app["lines"]] == [None, 1.0, None, 1.0, 1.0]
    assert app["summary"] == summary(ai=2, human=1, unknown=2)
    fresh = blame(repo, "fresh.py")
    assert who(fresh) == [(1, "ai", GPT), (2, "ai", GPT)]
    assert commits(fresh) == [None, None]
    assert all(e.startswith("pending:") for e in evidence(fresh))
    other = blame(repo, "other.py")
    assert who(other) == [(1, "unknown", None), (2, "unknown", None)]
    assert evidence(other) == ["no-record", "uncommitted"]

    # The installed console script says the same.
    script = Path(sys.executable).parent / "trace"
    proc = subprocess.run(
        [str(script), "blame", "app.py", "--format", "json"],
        cwd=repo.root,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **CLEAN_ENV},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == app

    head = repo.commit("commit it all")
    assert trace(repo, "link").stdout == f"{head[:12]} linked: 4 AI line(s), 2 human line(s)\n"
    assert who(blame(repo, "app.py")) == [
        (1, "unknown", None),
        (2, "ai", GPT),
        (3, "unknown", None),
        (4, "human", None),
        (5, "ai", GPT),
    ]
    assert who(blame(repo, "other.py")) == [(1, "unknown", None), (2, "human", None)]
    assert assert_records_valid(repo) == 1


# --------------------------------------------------------------------------- 10. reported changes


def _change(item_id: str, status: PatchApplyStatus, *paths: str) -> FileChangeItem:
    return FileChangeItem(
        id=item_id,
        changes=[FileUpdateChange(path=p, kind=PatchChangeKind.UPDATE) for p in paths],
        status=status,
    )


def test_reported_file_changes_are_attributed_like_edit_windows(repo: GitRepo) -> None:
    repo.write("a.py", lines("a1", "a2"))
    repo.write("b.py", lines("b1", "b2"))
    c0 = repo.commit("base")
    with Recorder(repo.root, model_id=SONNET) as rec:
        with rec.turn():
            absolute = str(repo.root / "a.py")
            rec.emit(ItemStartedEvent(item=_change("fc1", PatchApplyStatus.IN_PROGRESS, absolute)))
            repo.write("a.py", lines("a1", "A2", "a3"))
            rec.emit(ItemCompletedEvent(item=_change("fc1", PatchApplyStatus.COMPLETED, absolute)))
        with rec.turn():
            # Completed without a start: diffed against the last state known (HEAD).
            repo.write("b.py", lines("b1", "B2", "b3"))
            rec.emit(ItemCompletedEvent(item=_change("fc2", PatchApplyStatus.COMPLETED, "b.py")))
        pending = blame(repo, "b.py")
        assert evidence(pending) == ["no-record", "pending:no-snapshot", "pending:no-snapshot"]
        assert [line["confidence"] for line in pending["lines"]] == [None, 0.9, 0.9]
        c1 = repo.commit("agent")

    a = blame(repo, "a.py")
    assert who(a) == [(1, "unknown", None), (2, "ai", SONNET), (3, "ai", SONNET)]
    assert commits(a) == [c0, c1, c1]
    assert evidence(a) == ["no-record", "edit-window", "edit-window"]
    b = blame(repo, "b.py")
    assert who(b) == [(1, "unknown", None), (2, "ai", SONNET), (3, "ai", SONNET)]
    assert evidence(b) == ["no-record", "no-snapshot", "no-snapshot"]
    assert [line["confidence"] for line in b["lines"]] == [None, 0.9, 0.9]

    record = record_of(repo, c1)
    assert [f.path for f in record.files] == ["a.py", "b.py"]
    details = [
        (d["file"], d["evidence"], d["confidence"], d["turn_ids"], d["item_ids"])
        for d in record.ours["conversations"]
    ]
    assert details == [
        (0, "edit-window", 1.0, ["turn-1"], ["fc1"]),
        (1, "no-snapshot", 0.9, ["turn-2"], ["fc2"]),
    ]
    assert types_of(events_of(rec)) == [
        "thread.started",
        "turn.started",
        "item.started",
        "item.completed",
        "turn.completed",
        "turn.started",
        "item.completed",
        "turn.completed",
        "thread.completed",
    ]
    assert assert_records_valid(repo) == 1


def test_completed_change_listing_a_path_its_start_did_not(repo: GitRepo) -> None:
    repo.write("a.py", lines("a1"))
    repo.write("b.py", lines("b1"))
    repo.commit("base")
    repo.write("b.py", lines("b1", "human2"))
    with Recorder(repo.root, model_id=SONNET) as rec:
        with rec.edit("b.py"):
            repo.write("b.py", lines("b1", "human2", "agent3"))
        assert who(blame(repo, "b.py"))[1] == (2, "human", None)
        rec.emit(ItemStartedEvent(item=_change("fc1", PatchApplyStatus.IN_PROGRESS, "a.py")))
        repo.write("a.py", lines("a1", "agent2"))
        done = _change("fc1", PatchApplyStatus.COMPLETED, "a.py", "b.py")
        rec.emit(ItemCompletedEvent(item=done))
    assert who(blame(repo, "b.py")) == [(1, "unknown", None), (2, "human", None), (3, "ai", SONNET)]


# --------------------------------------------------------------------------- 11. life cycle


def test_run_events_and_manifest(repo: GitRepo) -> None:
    repo.write("README.md", "r\n")
    head = repo.commit("base")
    rec = Recorder(repo.root, tool_name="t", tool_version="0.1", model_id="claude-sonnet-4-5")
    with rec:
        assert rec.model_id == SONNET  # normalized
        assert rec.run.read_manifest().status == "running"
        with rec.turn() as turn:
            turn.usage = Usage(input_tokens=10, cached_input_tokens=2, output_tokens=3)
        with rec.turn(Usage(input_tokens=5, cached_input_tokens=0, output_tokens=1)):
            pass
    events = events_of(rec)
    assert types_of(events) == [
        "thread.started",
        "turn.started",
        "turn.completed",
        "turn.started",
        "turn.completed",
        "thread.completed",
    ]
    done = events[-1]
    assert isinstance(done, ThreadCompletedEvent)
    assert (done.thread_id, done.num_turns, str(done.subtype)) == (rec.run_id, 2, "success")
    assert (done.usage.input_tokens, done.usage.cached_input_tokens, done.usage.output_tokens) == (
        15,
        2,
        4,
    )
    manifest = rec.run.read_manifest()
    assert (manifest.status, manifest.head, manifest.model_id) == ("completed", head, SONNET)
    assert (manifest.tool_name, manifest.tool_version) == ("t", "0.1")
    runs = TraceStore.open(repo.root).runs_directory
    assert rec.events_path == runs / rec.run_id / "events.jsonl"


def test_exception_in_the_run_is_recorded_and_reraised(repo: GitRepo) -> None:
    rec = Recorder(repo.root, model_id=SONNET)

    def agent() -> None:
        with rec:
            with rec.edit("a.py"):
                repo.write("a.py", lines("partial"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        agent()
    events = events_of(rec)
    assert types_of(events) == ["thread.started", "item.started", "item.completed", "error"]
    error = events[-1]
    assert isinstance(error, ThreadErrorEvent)
    assert error.message == "RuntimeError: boom"
    assert rec.run.read_manifest().status == "failed"
    out = trace(repo, "runs").stdout
    assert rec.run_id in out
    assert "failed" in out
    assert current_recorder() is None


def test_turn_failed_and_interrupted_run(repo: GitRepo) -> None:
    rec = Recorder(repo.root, model_id=SONNET)
    with pytest.raises(KeyboardInterrupt), rec, rec.turn():
        raise KeyboardInterrupt
    events = events_of(rec)
    assert types_of(events) == ["thread.started", "turn.started", "turn.failed", "error"]
    failed = events[2]
    assert isinstance(failed, TurnFailedEvent)
    assert failed.message == "KeyboardInterrupt: "
    assert rec.run.read_manifest().status == "interrupted"

    rec2 = Recorder(repo.root)
    with rec2, pytest.raises(ValueError, match="bad step"), rec2.turn():
        raise ValueError("bad step")
    assert types_of(events_of(rec2)) == [
        "thread.started",
        "turn.started",
        "turn.failed",
        "thread.completed",
    ]
    assert rec2.run.read_manifest().status == "completed"


def test_async_with_recorder(repo: GitRepo) -> None:
    repo.write("README.md", "r\n")
    repo.commit("base")

    async def agent() -> Recorder:
        async with Recorder(repo.root, model_id=GPT) as rec:
            assert current_recorder() is rec
            async with rec.turn(), rec.edit("async.py"):
                await asyncio.sleep(0)
                repo.write("async.py", lines("a1", "a2"))
            repo.commit("async agent")
        return rec

    rec = asyncio.run(agent())
    assert current_recorder() is None
    assert types_of(events_of(rec)) == [
        "thread.started",
        "turn.started",
        "item.started",
        "item.completed",
        "turn.completed",
        "thread.completed",
    ]
    assert len(rec.links) == 1
    assert who(blame(repo, "async.py")) == [(1, "ai", GPT), (2, "ai", GPT)]
    assert assert_records_valid(repo) == 1


def test_decorator_form_and_current_recorder(repo: GitRepo) -> None:
    repo.write("README.md", "r\n")
    repo.commit("base")
    decorator = Recorder(repo.root, tool_name="deco", model_id=SONNET)

    @decorator
    def step(name: str) -> Recorder:
        rec = current_recorder()
        assert rec is not None
        with rec.edit(name):
            repo.write(name, lines(name))
        return rec

    @decorator
    async def async_step(name: str) -> Recorder:
        rec = current_recorder()
        assert rec is not None
        with rec.edit(name):
            repo.write(name, lines(name))
        return rec

    assert current_recorder() is None
    first = step("one.py")
    second = step("two.py")
    third = asyncio.run(async_step("three.py"))
    assert current_recorder() is None
    assert len({first.run_id, second.run_id, third.run_id}) == 3
    assert decorator not in (first, second, third)
    assert [r.run.read_manifest().status for r in (first, second, third)] == ["completed"] * 3
    assert [r.read_manifest().tool_name for r in TraceStore.open(repo.root).runs()] == ["deco"] * 3
    repo.commit("three steps")
    trace(repo, "link")
    for name in ("one.py", "two.py", "three.py"):
        assert who(blame(repo, name)) == [(1, "ai", SONNET)]
    assert assert_records_valid(repo) == 1


def test_decorator_emitters_receive_every_call(repo: GitRepo, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror.jsonl"

    @Recorder(repo.root, emitters=[JsonlEmitter(mirror)])
    def step() -> None:
        pass

    step()
    step()
    mirrored = types_of([e.event for e in EventReader(mirror)])
    assert mirrored == ["thread.started", "thread.completed"] * 2


def test_emitters_get_every_event_and_a_failing_one_is_harmless(
    repo: GitRepo, caplog: pytest.LogCaptureFixture
) -> None:
    received: list[ThreadEvent] = []
    calls = 0

    def broken(event: ThreadEvent) -> None:
        nonlocal calls
        calls += 1
        raise OSError("emitter down")

    caplog.set_level(logging.WARNING, logger="agent_trace")
    with Recorder(repo.root, model_id=SONNET, emitters=[broken, received.append]) as rec:
        with rec.turn(), rec.edit("a.py"):
            repo.write("a.py", lines("a"))
        rec.emit(ItemCompletedEvent(item=AgentMessageItem(id="m", text="hi")))
    written = events_of(rec)
    assert [to_dict(e) for e in received] == [to_dict(e) for e in written]
    assert types_of(received)[0] == "thread.started"
    assert types_of(received)[-1] == "thread.completed"
    assert calls == len(written) == 7
    assert rec.dropped == 0
    assert rec.run.read_manifest().status == "completed"
    assert any("emitter down" in r.getMessage() for r in caplog.records)


def test_an_event_with_a_value_its_type_does_not_allow_is_written_but_not_emitted(
    repo: GitRepo, caplog: pytest.LogCaptureFixture
) -> None:
    received: list[ThreadEvent] = []
    odd = ItemCompletedEvent(
        item=CommandExecutionItem(
            id="c", command="ls", exit_code=cast(int, "zero"), status="completed"
        )
    )
    caplog.set_level(logging.WARNING, logger="agent_trace")
    with Recorder(repo.root, emitters=[received.append]) as rec:
        rec.emit(odd)
    lines_written = rec.events_path.read_text(encoding="utf-8").splitlines()
    [item] = [json.loads(line)["event"].get("item") for line in lines_written[1:-1]]
    assert (item["id"], item["exit_code"]) == ("c", "zero")  # written as given
    assert types_of(received) == ["thread.started", "thread.completed"]
    assert rec.dropped == 0
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning.startswith("agent-trace: event not passed to the emitters: $.item.exit_code")


def test_paths_outside_the_repository_are_refused(repo: GitRepo, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    with Recorder(repo.root, model_id=SONNET) as rec:
        for path in (outside, "../outside.txt", str(outside)):
            with pytest.raises(ValueError, match="outside the repository"):
                rec.edit(path)
        with pytest.raises(ValueError, match="not a file of the work tree"):
            rec.edit(".git/config")
        with pytest.raises(ValueError, match="at least one path"):
            rec.edit()
        with rec.edit(repo.root / "inside.txt") as relative:
            repo.write("inside.txt", "ok\n")
        assert relative == ["inside.txt"]
    assert not outside.exists()
    assert types_of(events_of(rec)) == [
        "thread.started",
        "item.started",
        "item.completed",
        "thread.completed",
    ]


def test_unsnapshotted_change_does_not_claim_uncommitted_human_work(repo: GitRepo) -> None:
    repo.write("a.py", lines("one"))
    repo.commit("base")
    repo.write("a.py", lines("one", "typed by a person before the run"))
    with Recorder(repo.root, model_id=GPT) as rec:
        repo.write("a.py", lines("one", "typed by a person before the run", "agent"))
        change = FileUpdateChange(path="a.py", kind=PatchChangeKind.UPDATE)
        item = FileChangeItem(id="fc", changes=[change], status=PatchApplyStatus.COMPLETED)
        rec.emit(ItemCompletedEvent(item=item))
    data = blame(repo, "a.py")
    assert who(data) == [(1, "unknown", None), (2, "human", None), (3, "ai", GPT)]
    evidence = [line["evidence"] for line in data["lines"]]
    assert evidence[1:] == ["pending:human", "pending:no-snapshot"]


@pytest.mark.parametrize("kind", ["outside", "inside", "fifo", "device", "directory"])
def test_links_and_special_files_are_never_read(
    repo: GitRepo, tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A symbolic link (to a file outside the repository or inside it), a FIFO, a
    device and a directory named in an edit: refused with a warning, never read (a FIFO
    would block, /dev/zero never ends), and the rest of the edit is attributed."""
    repo.write("README.md", "r\n")
    repo.write("inside.txt", "inside\n")
    repo.commit("base")
    secret = tmp_path / "outside.txt"
    secret.write_text("outside secret\n", encoding="utf-8")
    target = repo.root / "special"
    if kind == "outside":
        target.symlink_to(secret)
    elif kind == "inside":
        target.symlink_to(repo.root / "inside.txt")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":
        target.symlink_to("/dev/zero")
    else:
        target.mkdir()
    with (
        caplog.at_level("WARNING", logger="agent_trace"),
        Recorder(repo.root, model_id=SONNET) as rec,
        rec.edit("special", "a.py"),
    ):
        repo.write("a.py", "print('agent')\n")
    assert "special" in caplog.text
    assert "not attributed" in caplog.text
    pending = (repo.root / ".agent-trace" / "pending").glob("*.json")
    texts = [p.read_text(encoding="utf-8") for p in pending]
    assert len(texts) == 1
    assert '"a.py"' in texts[0]
    events = (rec.events_path).read_text(encoding="utf-8")
    assert "outside secret" not in events
    assert secret.read_text(encoding="utf-8") == "outside secret\n"
