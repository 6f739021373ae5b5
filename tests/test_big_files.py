"""Files too large to attribute (over ``_files.MAX_ATTRIBUTED_BYTES``, 64 MiB) in ``trace
link`` (the hooks, the post-rewrite recomputation), ``trace blame`` and ``trace report``:
skipped with a reason or refused with one line, and never read into memory.

Real git repositories and the real CLI. Most tests lower our own cap to 1,000 bytes so
they need no 64 MiB file; the last ones commit a real sparse file just over 64 MiB with
the hooks installed, under the real constant."""

from __future__ import annotations

import contextlib
import json
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

import pytest
from click.testing import CliRunner, Result
from gitrepo import GitRepo

import agent_trace._files
from agent_trace import Recorder, TraceStore, blame_file, record_to_dict
from agent_trace._files import TooLarge
from agent_trace._git import Git
from agent_trace._link import is_link_record, link_commit
from agent_trace._rewrite import relink_rewritten
from agent_trace.cli import cli

SONNET = "anthropic/claude-sonnet-4-5"
CLEAN_ENV = {"NO_COLOR": "", "FORCE_COLOR": ""}
CAP = 1000
BIG = "".join(f"big line {i:04d} of a file too large to attribute\n" for i in range(50))
"""2,350 bytes: over the lowered cap."""


def trace(repo: GitRepo, *args: str, code: int = 0) -> Result:
    """``trace ARGS -C repo`` in process; asserts the exit code and no traceback."""
    result = CliRunner().invoke(cli, [*args, "-C", str(repo.root)], env=CLEAN_ENV)
    assert result.exit_code == code, (result.output, result.exc_info)
    assert "Traceback" not in result.output
    return result


def lines(*texts: str) -> str:
    return "".join(f"{t}\n" for t in texts)


def agent_writes(repo: GitRepo, path: str, text: str) -> None:
    with Recorder(repo.root, model_id=SONNET) as rec, rec.edit(path):
        repo.write(path, text)


def link_record(repo: GitRepo, commit: str, linked_by: str | None = None) -> dict[str, Any]:
    """The link record of ``commit`` (exactly one; made by ``linked_by``), in short."""
    store = TraceStore.open(repo.root)
    found = [
        s.record
        for s in store.for_revision(commit)
        if is_link_record(s.record)
        and s.record.revision == commit  # not a note git copied from the amended commit
        and linked_by in (None, s.record.ours.get("linked_by"))
    ]
    assert len(found) == 1, found
    data = record_to_dict(found[0])
    return {
        "files": {
            f["path"]: [
                (c["contributor"]["type"], c["contributor"].get("model_id"))
                for c in f["conversations"]
            ]
            for f in data["files"]
        },
        "skipped": found[0].ours.get("skipped", []),
        "linked_by": found[0].ours.get("linked_by"),
        "rewritten_from": found[0].ours.get("rewritten_from"),
    }


@pytest.fixture
def small_cap(monkeypatch: pytest.MonkeyPatch) -> int:
    """Files over 1,000 bytes are too large to attribute (our constant, read at call time)."""
    monkeypatch.setattr(agent_trace._files, "MAX_ATTRIBUTED_BYTES", CAP)
    return CAP


@pytest.fixture
def contents_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every object name whose contents our code asks git for (``cat-file --batch``): the
    real ``Git.batch`` runs, the names are only noted."""
    names: list[str] = []
    real = Git.batch

    def noting(
        self: Git, wanted: Sequence[str], *, contents: bool = True
    ) -> list[tuple[str, str, bytes] | None]:
        if contents:
            names.extend(wanted)
        return real(self, wanted, contents=contents)

    monkeypatch.setattr(Git, "batch", noting)
    return names


def blob(repo: GitRepo, revision: str, path: str) -> str:
    return repo.git("rev-parse", f"{revision}:{path}")


# --------------------------------------------------------------------------- link


def test_link_skips_a_file_over_the_limit_and_attributes_the_rest(
    repo: GitRepo, small_cap: int, contents_read: list[str]
) -> None:
    agent_writes(repo, "app.py", lines("a1", "a2"))
    repo.write("big.txt", BIG)
    repo.write("notes.txt", lines("n1"))
    head = repo.commit("agent work and a big file")
    out = trace(repo, "link").stdout
    assert out == (
        f"{head[:12]} linked: 2 AI line(s), 1 human line(s); big.txt skipped (over 1000 bytes)\n"
    )
    record = link_record(repo, head)
    assert record["files"] == {"app.py": [("ai", SONNET)], "notes.txt": [("human", None)]}
    assert record["skipped"] == [{"path": "big.txt", "reason": "over 1000 bytes"}]
    assert blob(repo, head, "big.txt") not in contents_read  # its size was enough
    assert blob(repo, head, "app.py") in contents_read


def test_link_result_reports_the_skipped_file(repo: GitRepo, small_cap: int) -> None:
    repo.write("small.py", lines("s"))
    repo.commit("base")
    repo.write("big.txt", BIG)
    repo.write("small.py", lines("s", "t"))
    head = repo.commit("big")
    result = link_commit(TraceStore.open(repo.root), head)
    assert result.skipped == (("big.txt", "over 1000 bytes"),)
    assert (result.human_lines, result.ai_lines) == (1, 0)


def test_a_modified_big_file_is_skipped_and_never_read(
    repo: GitRepo, small_cap: int, contents_read: list[str]
) -> None:
    repo.write("big.txt", BIG)
    repo.commit("big")
    trace(repo, "link")
    repo.write("big.txt", BIG + lines("one more"))
    head = repo.commit("bigger")
    assert "big.txt skipped (over 1000 bytes)" in trace(repo, "link").stdout
    assert link_record(repo, head)["skipped"] == [{"path": "big.txt", "reason": "over 1000 bytes"}]
    read = set(contents_read)
    assert blob(repo, "HEAD~1", "big.txt") not in read
    assert blob(repo, "HEAD", "big.txt") not in read


def test_a_file_shrunk_below_the_limit_is_skipped_saying_why(repo: GitRepo, small_cap: int) -> None:
    """Git does not diff a file whose old version is over the limit (it shows it as
    binary), so the lines the commit added are not known: the file is skipped, and the
    reason names the parent's version."""
    repo.write("f.txt", BIG)
    repo.commit("big")
    repo.write("f.txt", lines("small now"))
    head = repo.commit("shrunk")
    out = trace(repo, "link").stdout
    assert out.endswith("; f.txt skipped (over 1000 bytes in the parent)\n")
    assert link_record(repo, head)["files"] == {}


def test_a_forced_text_diff_of_a_big_file_is_still_not_read(
    repo: GitRepo, small_cap: int, contents_read: list[str]
) -> None:
    """``.gitattributes`` can make git diff any file as text; our size check comes first
    all the same."""
    repo.write(".gitattributes", "*.txt diff\n")
    repo.commit("attributes")
    repo.write("big.txt", BIG)
    repo.write("ok.py", lines("x"))
    head = repo.commit("big")
    out = trace(repo, "link").stdout
    assert out == (
        f"{head[:12]} linked: 0 AI line(s), 1 human line(s); big.txt skipped (over 1000 bytes)\n"
    )
    assert blob(repo, head, "big.txt") not in contents_read


def test_binary_files_keep_their_reason(repo: GitRepo, small_cap: int) -> None:
    repo.write("logo.png", b"\x89PNG\0\0\0")
    repo.write("big.bin", b"\0" * 2000)
    head = repo.commit("binaries")
    assert link_commit(TraceStore.open(repo.root), head).skipped == (
        ("big.bin", "over 1000 bytes"),
        ("logo.png", "binary"),
    )


@pytest.mark.parametrize("text_diff", [False, True], ids=["as-git-diffs-it", "forced-text-diff"])
def test_rewrite_recomputation_never_reads_a_big_blob(
    repo: GitRepo, small_cap: int, contents_read: list[str], text_diff: bool
) -> None:
    """The post-rewrite recomputation (amend here) reads the old commit's files too."""
    if text_diff:
        repo.write(".gitattributes", "*.txt diff\n")
        repo.commit("attributes")
    agent_writes(repo, "app.py", lines("a1", "a2"))
    repo.write("big.txt", BIG)
    old = repo.commit("agent work")
    trace(repo, "link")
    repo.write("big.txt", BIG + lines("amended"))
    repo.git("commit", "-q", "-a", "--amend", "-m", "amended")
    new = repo.head()
    results = relink_rewritten(TraceStore.open(repo.root), [(old, new)], rewrite="amend")
    assert [(r.commit, r.ai_lines, r.skipped) for r in results] == [
        (new, 2, (("big.txt", "over 1000 bytes"),))
    ]
    record = link_record(repo, new, "post-rewrite")
    assert record["files"] == {"app.py": [("ai", SONNET)]}
    assert record["rewritten_from"] == [old]
    read = set(contents_read)
    assert blob(repo, old, "big.txt") not in read
    assert blob(repo, new, "big.txt") not in read


# --------------------------------------------------------------------------- blame


def test_blame_refuses_a_big_work_tree_file(repo: GitRepo, small_cap: int) -> None:
    repo.write("big.txt", BIG)
    result = trace(repo, "blame", "big.txt", code=1)
    assert result.output == (
        "Error: big.txt: 2.3 KiB, over agent-trace's limit of 1000 bytes; not blamed\n"
    )
    repo.commit("big")
    assert "big.txt: 2.3 KiB, over" in trace(repo, "blame", "big.txt", code=1).output


def test_blame_refuses_a_big_file_of_a_revision(
    repo: GitRepo, small_cap: int, contents_read: list[str]
) -> None:
    repo.write("big.txt", BIG)
    head = repo.commit("big")
    (repo.root / "big.txt").unlink()  # the work tree plays no part
    message = "Error: big.txt: 2.3 KiB, over agent-trace's limit of 1000 bytes; not blamed\n"
    for more in ((), ("--format", "json"), ("-L", "1,2"), ("--explain", "1")):
        assert trace(repo, "blame", "big.txt", "--rev", "HEAD", *more, code=1).output == message
    assert blob(repo, head, "big.txt") not in contents_read
    assert f"{head}:big.txt" not in contents_read


def test_blame_file_raises_a_value_error(repo: GitRepo, small_cap: int) -> None:
    repo.write("big.txt", BIG)
    head = repo.commit("big")
    store = TraceStore.open(repo.root)
    for revision in (None, head):
        with pytest.raises(TooLarge) as caught:
            blame_file(store, "big.txt", revision=revision)
        assert isinstance(caught.value, ValueError)
        assert (caught.value.path, caught.value.size) == ("big.txt", len(BIG))


def test_blame_of_files_at_the_limit_still_works(repo: GitRepo, small_cap: int) -> None:
    exact = "x" * (CAP - 1) + "\n"
    repo.write("exact.txt", exact)
    repo.commit("exactly the limit")
    trace(repo, "link")
    data = json.loads(trace(repo, "blame", "exact.txt", "--format", "json").stdout)
    assert data["summary"]["human"] == 1
    data = json.loads(trace(repo, "blame", "exact.txt", "--rev", "HEAD", "--format", "json").stdout)
    assert data["summary"]["human"] == 1


# --------------------------------------------------------------------------- report


def test_report_leaves_big_files_out_and_lists_them_as_skipped(
    repo: GitRepo, small_cap: int, contents_read: list[str]
) -> None:
    repo.write("base.py", lines("b"))
    repo.commit("base")
    agent_writes(repo, "app.py", lines("a1", "a2"))
    repo.write("big.txt", BIG)
    head = repo.commit("agent work and a big file")
    trace(repo, "link")
    snapshot = json.loads(trace(repo, "report", "--format", "json").stdout)
    assert snapshot["skipped"] == [{"path": "big.txt", "reason": "over 1000 bytes"}]
    assert sorted(g["key"] for g in snapshot["groups"]) == ["app.py", "base.py"]
    assert snapshot["total"]["lines"]["total"] == 3
    ranged = json.loads(trace(repo, "report", "HEAD~1..HEAD", "--format", "json").stdout)
    assert ranged["skipped"] == [{"path": "big.txt", "reason": "over 1000 bytes"}]
    assert ranged["total"]["added"]["ai"] == 2
    text = trace(repo, "report").stdout
    assert "not counted: 1 binary, too large or non-regular file(s)" in text
    assert blob(repo, head, "big.txt") not in contents_read


# --------------------------------------------------------------------------- the real limit

REAL_LIMIT = 64 * 1024 * 1024
TEXT = "".join(f"line {i:03d} of text before a long run of zero bytes\n" for i in range(200))
"""10,200 bytes: git looks for NUL bytes in the first 8,000 only, so the file is text to
git and, before the limit, it would be diffed (a 64 MiB patch) and read whole."""


def sparse_file(repo: GitRepo, path: str) -> None:
    """A file one byte over 64 MiB that takes no disk space (and little for git)."""
    (repo.root / path).parent.mkdir(parents=True, exist_ok=True)
    with open(repo.root / path, "w", encoding="utf-8") as f:
        f.write(TEXT)
        f.truncate(REAL_LIMIT + 1)


def peak_bytes(call: Any, *args: Any, **kwargs: Any) -> int:
    """The most memory Python allocated during ``call`` (``tracemalloc``)."""
    tracemalloc.start()
    try:
        with contextlib.suppress(TooLarge):
            call(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_real_limit_in_the_hooks_and_blame(repo: GitRepo) -> None:
    assert agent_trace._files.MAX_ATTRIBUTED_BYTES == REAL_LIMIT
    repo.write("README.md", "r\n")
    repo.commit("base")
    trace(repo, "hooks", "install")
    agent_writes(repo, "app.py", lines("a1", "a2", "a3"))
    sparse_file(repo, "data/huge.dat")
    started = time.monotonic()
    head = repo.commit("agent work and a huge file")  # the post-commit hook links it
    assert time.monotonic() - started < 8  # well within the hook's 10 s time bound
    record = link_record(repo, head)
    assert record["linked_by"] == "hook"
    assert record["files"] == {"app.py": [("ai", SONNET)]}
    assert record["skipped"] == [{"path": "data/huge.dat", "reason": "over 64 MiB"}]
    assert not (repo.root / ".agent-trace" / "hooks.log").exists()

    # The post-rewrite hook's recomputation skips it the same way.
    repo.git("commit", "-q", "--amend", "-m", "amended")
    amended = repo.head()
    record = link_record(repo, amended, "post-rewrite")
    assert record["rewritten_from"] == [head]
    assert record["files"] == {"app.py": [("ai", SONNET)]}
    assert record["skipped"] == [{"path": "data/huge.dat", "reason": "over 64 MiB"}]

    message = (
        "Error: data/huge.dat: 67,108,865 bytes, over agent-trace's limit of 64 MiB; not blamed\n"
    )
    assert trace(repo, "blame", "data/huge.dat", code=1).output == message
    assert trace(repo, "blame", "data/huge.dat", "--rev", "HEAD", code=1).output == message

    # Nothing of the file's size is ever held in memory.
    store = TraceStore.open(repo.root)
    assert peak_bytes(link_commit, store, amended, force=True, write=False) < 8 << 20
    assert peak_bytes(blame_file, store, "data/huge.dat") < 8 << 20
    assert peak_bytes(blame_file, store, "data/huge.dat", revision=amended) < 8 << 20
