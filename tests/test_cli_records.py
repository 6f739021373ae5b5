"""``trace show`` and ``trace log`` on real repositories (CliRunner), and one run of the
installed console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from click.testing import CliRunner, Result
from gitrepo import GitRepo

from agent_trace import (
    Contributor,
    ContributorType,
    Conversation,
    NotesBackend,
    Range,
    Tool,
    TraceFile,
    TraceRecord,
    TraceStore,
    Vcs,
    new_record,
    record_to_json,
)
from agent_trace.cli import cli

CLEAN_ENV = {"NO_COLOR": "", "FORCE_COLOR": ""}
SONNET = "anthropic/claude-sonnet-4-5"
OPUS = "anthropic/claude-opus-4-1"
GPT = "openai/gpt-5"


def run(*args: str | Path, **kw: Any) -> Result:
    """Invoke ``trace`` in-process, with a clean colour environment."""
    return CliRunner().invoke(cli, [str(a) for a in args], env=CLEAN_ENV, **kw)


def make_record(
    path: str,
    revision: str,
    timestamp: str,
    conversation: Conversation,
    record_id: str,
) -> TraceRecord:
    return new_record(
        [TraceFile(path=path, conversations=[conversation])],
        vcs=Vcs(type="git", revision=revision),
        tool=Tool(name="test-agent", version="1.0.0"),
        timestamp=timestamp,
        id=record_id,
    )


def conversation(kind: ContributorType, model: str | None = None) -> Conversation:
    return Conversation(
        url="https://example.com/c/1",
        contributor=Contributor(type=kind, model_id=model),
        ranges=[Range(start_line=1, end_line=3)],
    )


class History(NamedTuple):
    repo: GitRepo
    first: str
    second: str
    store: TraceStore
    old: TraceRecord  # first commit, src/app.py, ai (sonnet)
    app: TraceRecord  # HEAD, src/app.py, human
    doc: TraceRecord  # HEAD, docs/guide.md, ai (gpt-5)
    util: TraceRecord  # HEAD, src/lib/util.py, mixed + an ai range (opus)


@pytest.fixture
def history(repo: GitRepo) -> History:
    repo.write("src/app.py", "a = 1\nb = 2\nc = 3\n")
    first = repo.commit("first")
    repo.write("src/app.py", "a = 10\nb = 20\nc = 30\n")
    repo.write("src/lib/util.py", "def f():\n    return 1\n")
    repo.write("docs/guide.md", "# Guide\n")
    second = repo.commit("second")
    util_conversation = Conversation(
        contributor=Contributor(type=ContributorType.MIXED),
        ranges=[
            Range(start_line=1, end_line=1),
            Range(
                start_line=2,
                end_line=2,
                contributor=Contributor(type=ContributorType.AI, model_id=OPUS),
            ),
        ],
    )
    records = History(
        repo=repo,
        first=first,
        second=second,
        store=TraceStore.open(repo.root),
        old=make_record(
            "src/app.py",
            first,
            "2025-01-01T10:00:00.000Z",
            conversation(ContributorType.AI, SONNET),
            "00000000-0000-4000-8000-000000000001",
        ),
        app=make_record(
            "src/app.py",
            second,
            "2025-01-03T10:00:00.000Z",
            conversation(ContributorType.HUMAN),
            "00000000-0000-4000-8000-000000000002",
        ),
        doc=make_record(
            "docs/guide.md",
            second,
            "2025-01-02T10:00:00.000Z",
            conversation(ContributorType.AI, GPT),
            "00000000-0000-4000-8000-000000000003",
        ),
        util=make_record(
            "src/lib/util.py",
            second,
            "2025-01-04T10:00:00.000Z",
            util_conversation,
            "00000000-0000-4000-8000-000000000004",
        ),
    )
    records.store.append([records.old, records.app, records.doc, records.util])
    return records


def json_ids(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    return [item["id"] for item in data]


def jsonl_ids(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [json.loads(line)["id"] for line in result.stdout.splitlines()]


# --------------------------------------------------------------------------- show


def test_show_defaults_to_head(history: History) -> None:
    result = run("show", "-C", history.repo.root)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    traces = history.store.traces_path
    blocks = result.stdout.split("\n\n")
    assert len(blocks) == 3
    app = blocks[0].splitlines()
    assert app[0] == f"record {history.app.id}  2025-01-03T10:00:00.000Z  test-agent 1.0.0"
    assert app[1] == f"  revision {history.second}"
    assert app[2] == f"  from {traces}:2"
    assert app[3] == "  src/app.py"
    assert app[4] == "    conversation https://example.com/c/1"
    assert app[5].split() == ["1-3", "human"]
    util = blocks[2].splitlines()
    assert util[0].startswith(f"record {history.util.id}  ")
    assert "    conversation (no url)" in util
    assert [line.split() for line in util[-2:]] == [["1", "mixed"], ["2", "ai", OPUS]]
    assert history.old.id not in result.stdout
    assert json_ids(run("show", "-C", history.repo.root, "--format", "json")) == [
        history.app.id,
        history.doc.id,
        history.util.id,
    ]


@pytest.mark.parametrize("revision", ["first", "short", "HEAD~1", "HEAD^", "main~1"])
def test_show_accepts_any_revision_git_understands(history: History, revision: str) -> None:
    given = {"first": history.first, "short": history.first[:7]}.get(revision, revision)
    result = run("show", given, "-C", history.repo.root, "--format", "json")
    assert json_ids(result) == [history.old.id]
    assert result.stderr == ""


def test_show_json_is_an_array_of_records(history: History) -> None:
    result = run("show", "HEAD", "-C", history.repo.root, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data == [json.loads(record_to_json(r)) for r in (history.app, history.doc, history.util)]
    assert list(data[0]) == ["version", "id", "timestamp", "vcs", "tool", "files"]


def test_show_jsonl_is_one_record_per_line(history: History) -> None:
    result = run("show", "-C", history.repo.root, "--format", "JSONL")
    assert result.exit_code == 0
    assert result.stdout_bytes == b"".join(
        record_to_json(r, newline=True) for r in (history.app, history.doc, history.util)
    )


def test_show_path_filter(history: History) -> None:
    root = history.repo.root
    for args, expected in [
        (("--path", "src/app.py"), [history.app.id]),
        (("--path", "./src/app.py"), [history.app.id]),
        (("--path", str(root / "src" / "app.py")), [history.app.id]),
        (("--path", "docs/guide.md", "--path", "src/app.py"), [history.doc.id, history.app.id]),
        (("--path", "src/app.py", "--path", "src/app.py"), [history.app.id]),
    ]:
        assert json_ids(run("show", "-C", root, "--format", "json", *args)) == expected, args
    older = run("show", "HEAD~1", "-C", root, "--format", "json", "--path", "src/app.py")
    assert json_ids(older) == [history.old.id]


def test_show_path_relative_to_the_dash_c_directory(history: History) -> None:
    src = history.repo.root / "src"
    result = run("show", "-C", src, "--path", "app.py", "--format", "json")
    assert json_ids(result) == [history.app.id]
    result = run("show", "-C", src, "--path", "lib/util.py", "--format", "json")
    assert json_ids(result) == [history.util.id]
    # a path that does not exist under -C DIR is taken from the root
    result = run("show", "-C", src, "--path", "docs/guide.md", "--format", "json")
    assert json_ids(result) == [history.doc.id]


def test_show_path_relative_to_the_current_directory(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(history.repo.root / "src" / "lib")
    assert json_ids(run("show", "--path", "util.py", "--format", "json")) == [history.util.id]
    assert json_ids(run("show", "--path", "../app.py", "--format", "json")) == [history.app.id]


def test_show_path_outside_the_repository(history: History, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.py"
    outside.write_text("x\n")
    result = run("show", "-C", history.repo.root, "--path", outside)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "outside the repository" in result.stderr


def test_show_with_no_records(history: History) -> None:
    history.repo.write("new.txt", "x\n")
    third = history.repo.commit("third")
    root = history.repo.root
    text = run("show", "-C", root)
    assert (text.exit_code, text.stdout) == (0, "")
    assert text.stderr == f"no records for commit {third[:12]}\n"
    as_json = run("show", "-C", root, "--format", "json")
    assert (as_json.exit_code, as_json.stdout) == (0, "[]\n")
    as_jsonl = run("show", "-C", root, "--format", "jsonl")
    assert (as_jsonl.exit_code, as_jsonl.stdout) == (0, "")
    filtered = run("show", "HEAD~1", "-C", root, "--path", "missing.py")
    assert filtered.exit_code == 0
    assert filtered.stderr == f"no records for commit {history.second[:12]} touching missing.py\n"


def test_show_unknown_revision(history: History) -> None:
    result = run("show", "no-such-branch", "-C", history.repo.root)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "Error: 'no-such-branch' does not name a commit in this repository\n"


def test_show_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    plain = tmp_path / "plain"
    plain.mkdir()
    for directory in (plain, tmp_path / "missing"):
        result = run("show", "-C", directory)
        assert result.exit_code == 3, result.output
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1
        assert result.stderr.startswith("Error: ")
        assert "not inside a git work tree" in result.stderr
    monkeypatch.chdir(plain)
    result = run("log")
    assert result.exit_code == 3
    assert "git" in result.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--", "-x"), 1),
        (("--", "--output=stolen"), 1),
        (("--", "--all"), 1),
        (("-x",), 2),
        (("--all",), 2),
    ],
)
def test_show_refuses_revisions_starting_with_a_dash(
    history: History, args: tuple[str, ...], code: int
) -> None:
    result = run("show", "-C", history.repo.root, *args)
    assert result.exit_code == code
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    if code == 1:
        assert "may not start with '-'" in result.stderr
    assert not (history.repo.root / "stolen").exists()


def test_show_reads_a_version_1_0_record_with_a_warning(history: History) -> None:
    traces = history.store.traces_path
    reference = {
        "version": "1.0",
        "id": "reference-implementation-record",
        "timestamp": "2025-02-01T00:00:00Z",
        "vcs": {"type": "git", "revision": history.second},
        "files": [
            {
                "path": "src/app.py",
                "conversations": [
                    {"contributor": {"type": "ai"}, "ranges": [{"start_line": 1, "end_line": 1}]}
                ],
            }
        ],
    }
    with traces.open("ab") as f:
        f.write(json.dumps(reference).encode() + b"\n")
    result = run("show", "-C", history.repo.root, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [d["id"] for d in data][-1] == "reference-implementation-record"
    assert data[-1]["version"] == "1.0"
    assert result.stderr.splitlines() == [
        f"warning: {traces}:5: version '1.0' is not an Agent Trace version "
        "(X.Y.Z, e.g. '0.1.0'); read anyway"
    ]
    text = run("show", "-C", history.repo.root, "--path", "src/app.py")
    assert text.exit_code == 0
    assert "record reference-implementation-record  2025-02-01T00:00:00Z" in text.stdout
    assert "  version 1.0" in text.stdout
    assert f"{traces}:5" in text.stderr


def test_show_reports_a_broken_line_and_shows_the_rest(history: History) -> None:
    traces = history.store.traces_path
    with traces.open("ab") as f:
        f.write(b'{"version":"0.1.0","id":"x","timestamp":"t","vcs":{"type":"git","revision":"')
        f.write(history.second.encode() + b'"},"files":[{"path":5}]}\n')
    result = run("show", "-C", history.repo.root, "--format", "json")
    assert json_ids(result) == [history.app.id, history.doc.id, history.util.id]
    assert result.stderr.startswith(f"{traces}:5: ")
    assert "$.files[0].path" in result.stderr


def test_show_reads_notes_without_a_store_directory(repo: GitRepo) -> None:
    repo.write("a.py", "x = 1\n")
    head = repo.commit("a")
    record = make_record(
        "a.py", head, "2025-01-01T00:00:00.000Z", conversation(ContributorType.AI, SONNET), "n-1"
    )
    # as in a fresh clone that fetched the notes: no .agent-trace/ at all
    NotesBackend(TraceStore.open(repo.root).repository).append([record])
    result = run("show", "-C", repo.root, "--format", "json")
    assert json_ids(result) == ["n-1"]
    assert result.stderr == ""
    log = run("log", "-C", repo.root, "--format", "jsonl")
    assert jsonl_ids(log) == ["n-1"]
    assert not (repo.root / ".agent-trace").exists()


# --------------------------------------------------------------------------- log


def test_log_lists_newest_first(history: History) -> None:
    result = run("log", "-C", history.repo.root)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    expected = [history.util, history.app, history.doc, history.old]
    assert len(lines) == 4
    for line, record in zip(lines, expected, strict=True):
        assert line.startswith(
            f"{record.timestamp}  {(record.revision or '')[:12]}  {record.id[:8]}  test-agent "
        )
        assert line.endswith(record.paths[0])
    assert lines[0].split()[4:6] == ["ai,mixed", OPUS]
    assert lines[1].split()[4:6] == ["human", "-"]
    json_order = json_ids(run("log", "-C", history.repo.root, "--format", "json"))
    assert json_order == [r.id for r in expected]


def test_log_orders_by_instant_not_by_text(history: History) -> None:
    later_text = make_record(  # 23:30Z, written with an offset
        "a.py",
        history.second,
        "2025-01-05T00:30:00+01:00",
        conversation(ContributorType.AI, SONNET),
        "tz-offset",
    )
    later_instant = make_record(
        "a.py",
        history.second,
        "2025-01-04T23:45:00Z",
        conversation(ContributorType.AI, SONNET),
        "utc",
    )
    history.store.append([later_text, later_instant])
    ids = jsonl_ids(run("log", "-C", history.repo.root, "--format", "jsonl", "-n", "3"))
    assert ids == ["utc", "tz-offset", history.util.id]


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["src/app.py"], ["app", "old"]),
        (["src"], ["util", "app", "old"]),
        (["src/"], ["util", "app", "old"]),
        (["./src"], ["util", "app", "old"]),
        (["src/lib"], ["util"]),
        (["docs/guide.md"], ["doc"]),
        (["docs", "src/lib"], ["util", "doc"]),
        (["sr"], []),
        (["src/app"], []),
        (["missing/dir"], []),
    ],
)
def test_log_path_filter(history: History, paths: list[str], expected: list[str]) -> None:
    args = [a for p in paths for a in ("--path", p)]
    result = run("log", "-C", history.repo.root, "--format", "json", *args)
    assert json_ids(result) == [getattr(history, name).id for name in expected]


def test_log_path_relative_to_the_dash_c_directory(history: History) -> None:
    src = history.repo.root / "src"
    ids = json_ids(run("log", "-C", src, "--format", "json", "--path", "app.py"))
    assert ids == [history.app.id, history.old.id]
    ids = json_ids(run("log", "-C", src, "--format", "json", "--path", "lib"))
    assert ids == [history.util.id]
    ids = json_ids(run("log", "-C", src, "--format", "json", "--path", "."))
    assert ids == [history.util.id, history.app.id, history.old.id]


def test_log_path_dot_at_the_root_matches_everything(history: History) -> None:
    ids = json_ids(run("log", "-C", history.repo.root, "--format", "json", "--path", "."))
    assert ids == [history.util.id, history.app.id, history.doc.id, history.old.id]


@pytest.mark.parametrize(
    ("models", "expected"),
    [
        ([SONNET], ["old"]),
        (["claude-sonnet-4-5"], ["old"]),
        ([GPT], ["doc"]),
        (["gpt-5"], ["doc"]),
        (["claude-opus-4-1"], ["util"]),  # a range's own contributor counts
        (["gpt-5", "claude-sonnet-4-5"], ["doc", "old"]),
        (["anthropic"], []),
        (["claude"], []),
        (["openai/claude-sonnet-4-5"], []),
    ],
)
def test_log_model_filter(history: History, models: list[str], expected: list[str]) -> None:
    args = [a for m in models for a in ("--model", m)]
    result = run("log", "-C", history.repo.root, "--format", "json", *args)
    assert json_ids(result) == [getattr(history, name).id for name in expected]


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        (["human"], ["app"]),
        (["ai"], ["util", "doc", "old"]),
        (["AI"], ["util", "doc", "old"]),
        (["mixed"], ["util"]),
        (["unknown"], []),
        (["human", "mixed"], ["util", "app"]),
    ],
)
def test_log_contributor_filter(history: History, kinds: list[str], expected: list[str]) -> None:
    args = [a for k in kinds for a in ("--contributor", k)]
    result = run("log", "-C", history.repo.root, "--format", "json", *args)
    assert json_ids(result) == [getattr(history, name).id for name in expected]


def test_log_rejects_an_unknown_contributor_type(history: History) -> None:
    result = run("log", "-C", history.repo.root, "--contributor", "robot")
    assert result.exit_code == 2
    assert "robot" in result.stderr


def test_log_filters_combine(history: History) -> None:
    root = history.repo.root
    both = run("log", "-C", root, "--format", "json", "--path", "src", "--contributor", "ai")
    assert json_ids(both) == [history.util.id, history.old.id]
    three = run(
        "log", "-C", root, "--format", "json",
        "--path", "src", "--contributor", "ai", "--model", "claude-sonnet-4-5",
    )  # fmt: skip
    assert json_ids(three) == [history.old.id]
    none = run("log", "-C", root, "--path", "docs", "--contributor", "human")
    assert (none.exit_code, none.stdout, none.stderr) == (0, "", "no records\n")


def test_log_max_count(history: History) -> None:
    root = history.repo.root
    ids = json_ids(run("log", "-C", root, "--format", "json", "-n", "2"))
    assert ids == [history.util.id, history.app.id]
    text = run("log", "-C", root, "--max-count", "1")
    assert text.exit_code == 0
    assert len(text.stdout.splitlines()) == 1
    assert history.util.id[:8] in text.stdout
    filtered = json_ids(run("log", "-C", root, "--format", "json", "-n", "1", "--path", "docs"))
    assert filtered == [history.doc.id]
    zero = run("log", "-C", root, "-n", "0")
    assert zero.exit_code == 2


def test_log_jsonl_passes_validate(history: History) -> None:
    result = run("log", "-C", history.repo.root, "--format", "jsonl")
    assert result.exit_code == 0
    assert len(result.stdout_bytes.splitlines()) == 4
    assert result.stdout_bytes == b"".join(
        record_to_json(r, newline=True)
        for r in (history.util, history.app, history.doc, history.old)
    )
    checked = run("validate", "--strict", "-", input=result.stdout_bytes)
    assert checked.exit_code == 0, checked.output
    assert checked.stderr == "4 records: 4 valid, 0 invalid (0 errors, 0 warnings)\n"


def test_log_jsonl_of_an_invalid_record_fails_validate(history: History) -> None:
    bad = make_record(
        "a.py",
        history.second,
        "2025-03-01T00:00:00.000Z",
        Conversation(ranges=[Range(start_line=5, end_line=2)]),
        "backwards-range",
    )
    history.store.append([bad])
    result = run("log", "-C", history.repo.root, "--format", "jsonl", "-n", "1")
    assert jsonl_ids(result) == ["backwards-range"]
    checked = run("validate", "-", input=result.stdout_bytes)
    assert checked.exit_code == 1
    assert "1 invalid" in checked.stderr


def test_log_on_an_empty_store(repo: GitRepo) -> None:
    repo.commit("empty")
    result = run("log", "-C", repo.root)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "no records\n")
    as_json = run("log", "-C", repo.root, "--format", "json")
    assert (as_json.exit_code, as_json.stdout) == (0, "[]\n")
    assert not (repo.root / ".agent-trace").exists()


def test_log_lists_each_record_once_from_file_and_notes(history: History) -> None:
    assert len(history.repo.notes()) == 2  # the records are in the notes too
    notes_only = make_record(
        "docs/guide.md",
        history.second,
        "2025-01-02T12:00:00.000Z",
        conversation(ContributorType.HUMAN),
        "notes-only",
    )
    assert history.store.notes is not None
    history.store.notes.append([notes_only])
    ids = json_ids(run("log", "-C", history.repo.root, "--format", "json"))
    assert ids == [history.util.id, history.app.id, "notes-only", history.doc.id, history.old.id]
    assert len(set(ids)) == len(ids)


def test_log_warns_about_a_version_1_0_record(history: History) -> None:
    traces = history.store.traces_path
    line = {
        "version": "1.0",
        "id": "v1",
        "timestamp": "2026-01-01T00:00:00Z",
        "files": [{"path": "src/app.py", "conversations": []}],
    }
    with traces.open("ab") as f:
        f.write(json.dumps(line).encode() + b"\n")
    result = run("log", "-C", history.repo.root, "--path", "src/app.py", "--format", "json")
    assert json_ids(result) == ["v1", history.app.id, history.old.id]
    assert result.stderr.startswith(f"warning: {traces}:5: version '1.0'")


# --------------------------------------------------------------------------- console script


def _script(name: str) -> Path:
    path = Path(sys.executable).parent / name
    if not path.exists():
        found = shutil.which(name)
        if found is None:
            pytest.fail(f"console script {name!r} is not installed (pip install -e .)")
        path = Path(found)
    return path


def test_console_script_show_json(history: History) -> None:
    proc = subprocess.run(
        [str(_script("trace")), "show", "--format", "json"],
        cwd=history.repo.root / "src",
        capture_output=True,
        text=True,
        env={**os.environ, **CLEAN_ENV},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert [d["id"] for d in json.loads(proc.stdout)] == [
        history.app.id,
        history.doc.id,
        history.util.id,
    ]
    bad = subprocess.run(
        [str(_script("trace")), "show", "nope"],
        cwd=history.repo.root,
        capture_output=True,
        text=True,
        env={**os.environ, **CLEAN_ENV},
        timeout=60,
    )
    assert bad.returncode == 1
    assert bad.stderr == "Error: 'nope' does not name a commit in this repository\n"
