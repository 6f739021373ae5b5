"""``trace report`` against a real repository: every number is checked against
``trace blame --format json`` (and ``git diff --numstat``) over the same files."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from click.testing import CliRunner
from gitrepo import GitRepo, isolated_git_env
from hypothesis import given
from hypothesis import strategies as st

from agent_trace import Recorder, Report, TraceStore, blame_file, build_report, render_report
from agent_trace._commits import diff_commit, log_diffs
from agent_trace._hooks import install_hooks
from agent_trace._report import GROUPINGS, Grouping, Tally
from agent_trace.cli import cli
from agent_trace.cli._report import _Progress

SONNET = "anthropic/claude-sonnet-4-5"
GPT = "openai/gpt-5"
TYPES = ("ai", "mixed", "human", "unknown")


def lines(prefix: str, n: int) -> str:
    return "".join(f"{prefix}_{k} = compute_{prefix}_{k}(value)\n" for k in range(n))


class History:
    """main: a person's start, agent commits by two models, a person's edit of an agent
    line (mixed), a commit made without hooks; feature: agent work, a merge of main."""

    def __init__(self, root: Path) -> None:
        self.repo = GitRepo.init(root)
        TraceStore.open(root).ensure_directory()
        install_hooks(TraceStore.open(root).repository)
        self.marks: dict[str, str] = {}

    def agent(self, model: str, files: dict[str, str]) -> None:
        with Recorder(self.repo.root, model_id=model) as rec, rec.edit(*files):
            for path, text in files.items():
                self.repo.write(path, text)

    def read(self, path: str) -> str:
        return (self.repo.root / path).read_text(encoding="utf-8")

    def build(self) -> None:
        r = self.repo
        r.write("README.md", "# Project\n\nA project written by people and agents.\n")
        r.write("src/app/core.py", lines("human_core", 10))
        r.write("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0binary")
        os.symlink("README.md", r.root / "link.md")
        r.write("odd|name_*.py", lines("human_odd", 2))
        self.marks["start"] = r.commit("Start the project")
        self.agent(
            SONNET,
            {
                "src/app/core.py": self.read("src/app/core.py") + lines("sonnet_core", 6),
                "src/app/util.py": lines("sonnet_util", 8),
            },
        )
        self.marks["sonnet"] = r.commit("Add the util module (agent)")
        self.agent(GPT, {"tests/test_core.py": lines("gpt_test", 7)})
        self.marks["gpt"] = r.commit("Add tests (agent)")
        core = self.read("src/app/core.py").splitlines(keepends=True)
        core[11] = core[11].replace("(value)", "(value, strict=True)")  # an agent line, edited
        del core[2:4]  # two of the person's lines go
        core.insert(2, "human_new_1 = 'set by hand'\nhuman_new_2 = 'also by hand'\n")
        r.write("src/app/core.py", "".join(core))
        self.marks["edit"] = r.commit("A person edits core")
        # An agent's file committed without our hooks, pending state lost: unknown.
        self.agent(SONNET, {"docs/notes.txt": lines("unlinked_doc", 4)})
        r.git("-c", "core.hooksPath=/dev/null", "add", "-A")
        r.git("-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", "Notes, no hooks")
        self.marks["unlinked"] = r.head()
        r.git("checkout", "-q", "-b", "feature")
        util = self.read("src/app/util.py").splitlines(keepends=True)
        util[2:4] = [line.replace("sonnet", "gpt_rewrite") for line in util[2:4]] + [
            "gpt_rewrite_extra = compute_gpt_rewrite_extra(value)\n"
        ]
        self.agent(GPT, {"src/app/util.py": "".join(util) + lines("gpt_util", 4)})
        self.marks["f1"] = r.commit("Rework util (agent)")
        r.git("checkout", "-q", "main")
        r.write("src/other.py", lines("human_other", 3))
        self.marks["main2"] = r.commit("Other module")
        r.git("checkout", "-q", "feature")
        r.git("merge", "-q", "--no-edit", "main")
        self.marks["merge"] = r.head()
        readme = self.read("README.md").splitlines(keepends=True)
        r.write("README.md", "".join(readme[:1] + readme[2:]))
        self.agent(
            GPT, {"tests/test_core.py": self.read("tests/test_core.py") + lines("gpt_t2", 3)}
        )
        self.marks["f2"] = r.commit("More tests (agent)")
        r.git("checkout", "-q", "main")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in isolated_git_env(home).items():
            mp.setenv(key, value)
        h = History(tmp_path_factory.mktemp("report") / "repo")
        h.build()
        yield h


def run(root: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, [*args, "-C", str(root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def report_json(root: Path, *args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(run(root, "report", "--format", "json", *args).stdout)
    return data


def blame_json(root: Path, path: str, rev: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        run(root, "blame", "--format", "json", "--rev", rev, path).stdout
    )
    return data


def text_files(repo: GitRepo, rev: str) -> list[str]:
    out = []
    for entry in repo.git("ls-tree", "-r", "--full-tree", rev).splitlines():
        meta, path = entry.split("\t")
        mode, _kind, blob = meta.split()
        content = subprocess.run(
            ["git", "cat-file", "blob", blob], cwd=repo.root, capture_output=True, check=True
        ).stdout
        if mode in ("100644", "100755") and b"\0" not in content:
            out.append(path)
    return out


def tally_of(lines_: list[dict[str, Any]]) -> dict[str, Any]:
    types = Counter(line["contributor"]["type"] for line in lines_)
    models: dict[str, dict[str, int]] = {}
    for line in lines_:
        kind = line["contributor"]["type"]
        if kind in ("ai", "mixed"):
            per = models.setdefault(line["contributor"]["model_id"], {"ai": 0, "mixed": 0})
            per[kind] += 1
    return {"total": len(lines_), **{t: types.get(t, 0) for t in TYPES}, "models": models}


def same(tally: dict[str, Any], expected: dict[str, Any]) -> None:
    assert {k: tally[k] for k in ("total", *TYPES)} == {k: expected[k] for k in ("total", *TYPES)}
    assert tally["models"] == expected["models"]


# ---------------------------------------------------------------------- snapshot


def test_snapshot_counts_every_line_as_blame_does(history: History) -> None:
    root = history.repo.root
    data = report_json(root)
    assert data["schema"] == "agent-trace-report/1"
    assert data["kind"] == "snapshot"
    assert data["revision"] == history.repo.head()
    files = text_files(history.repo, "HEAD")
    assert [g["key"] for g in data["groups"]] == sorted(files)
    everything: list[dict[str, Any]] = []
    for group in data["groups"]:
        blamed = blame_json(root, group["key"], "HEAD")["lines"]
        same(group["lines"], tally_of(blamed))
        everything += blamed
    same(data["total"]["lines"], tally_of(everything))
    total = data["total"]["lines"]
    # The history has every kind of line, so the comparison is not vacuous.
    assert total["ai"] >= 20
    assert total["human"] >= 10
    assert total["mixed"] == 1
    assert total["unknown"] == 4  # the unlinked notes (the first commit is linked: human)
    assert set(total["models"]) == {SONNET, GPT}
    skipped = {s["path"]: s["reason"] for s in data["skipped"]}
    assert skipped == {"logo.png": "binary", "link.md": "not a regular file"}


def test_snapshot_by_commit_model_author_run(history: History) -> None:
    root = history.repo.root
    blamed = [
        line
        for path in text_files(history.repo, "HEAD")
        for line in blame_json(root, path, "HEAD")["lines"]
    ]
    by_commit = {g["key"]: g for g in report_json(root, "--by", "commit")["groups"]}
    expected_commits = Counter(line["commit"] for line in blamed)
    assert {k: g["lines"]["total"] for k, g in by_commit.items()} == dict(expected_commits)
    for sha, group in by_commit.items():
        subject = history.repo.git("log", "-1", "--format=%s", sha)
        assert group["label"] == f"{sha[:10]} {subject}"
        same(group["lines"], tally_of([x for x in blamed if x["commit"] == sha]))
    by_model = {g["key"]: g["lines"]["total"] for g in report_json(root, "--by", "model")["groups"]}
    expected_models = Counter(
        x["contributor"]["model_id"]
        if x["contributor"]["type"] in ("ai", "mixed")
        else f"({x['contributor']['type']})"
        for x in blamed
    )
    assert by_model == dict(expected_models)
    authors = {g["key"] for g in report_json(root, "--by", "author")["groups"]}
    assert authors == {"Test Human <human@example.com>"}
    runs = report_json(root, "--by", "run")["groups"]
    run_ids = [g["key"] for g in runs if g["key"] != "(no run)"]
    assert len(run_ids) == 2  # the two recorded runs whose lines were linked
    no_run = next(g for g in runs if g["key"] == "(no run)")["lines"]
    assert no_run["ai"] == 0
    assert no_run["mixed"] == 0


@pytest.mark.parametrize("by", GROUPINGS)
def test_every_grouping_adds_up(history: History, by: Grouping) -> None:
    report = build_report(TraceStore.open(history.repo.root), "HEAD")
    for depth in (None, 1):
        groups = report.groups(by, depth=depth)
        assert len({g.key for g in groups}) == len(groups)
        summed = Tally()
        for g in groups:
            assert g.lines.total == sum(getattr(g.lines, t) for t in TYPES)
            summed.merge(g.lines)
        assert summed == report.total


def test_dir_depth(history: History) -> None:
    deep = {g["key"] for g in report_json(history.repo.root, "--by", "dir")["groups"]}
    assert deep == {".", "src", "src/app", "tests", "docs"}
    shallow = report_json(history.repo.root, "--by", "dir", "--depth", "1")["groups"]
    assert {g["key"] for g in shallow} == {".", "src", "tests", "docs"}


def test_paths_limit_the_report(history: History) -> None:
    root = history.repo.root
    data = report_json(root, "--path", "src/app")
    assert [g["key"] for g in data["groups"]] == ["src/app/core.py", "src/app/util.py"]
    assert data["paths"] == ["src/app"]
    sub = root / "src"
    result = CliRunner().invoke(
        cli, ["report", "--format", "json", "--path", "app", "-C", str(sub)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["groups"] == data["groups"]


def test_one_job_or_two_give_the_same_report(history: History) -> None:
    store = TraceStore.open(history.repo.root)
    one = build_report(store, "HEAD", jobs=1)
    two = build_report(store, "HEAD", jobs=2)
    assert one.to_dict("file") == two.to_dict("file")
    seen: list[tuple[str, int, int]] = []
    build_report(store, "HEAD", jobs=2, progress=lambda *a: seen.append(a))
    files = len(text_files(history.repo, "HEAD"))
    assert seen[-1] == ("blaming files", files, files)
    assert [done for _, done, _ in seen] == list(range(1, files + 1))


# ---------------------------------------------------------------------- ranges


def numstat(repo: GitRepo, a: str, b: str) -> tuple[int, int]:
    added = removed = 0
    for line in repo.git("diff", "--numstat", a, b, "--").splitlines():
        plus, minus, _path = line.split("\t")
        if plus != "-":
            added += int(plus)
            removed += int(minus)
    return added, removed


def removed_lines(repo: GitRepo, base: str, tip: str) -> dict[str, list[int]]:
    """Old-side line numbers of ``git diff -U0 base tip``, per old path."""
    out: dict[str, list[int]] = {}
    path = None
    for line in repo.git("diff", "-U0", "--no-renames", base, tip, "--").splitlines():
        if line.startswith("--- "):
            path = line[6:] if line != "--- /dev/null" else None
        m = re.match(r"@@ -(\d+)(?:,(\d+))? ", line)
        if m and path is not None:
            start, count = int(m.group(1)), int(m.group(2) or "1")
            out.setdefault(path, []).extend(range(start, start + count))
    return out


def test_range_counts_what_the_range_left_and_removed(history: History) -> None:
    repo, root = history.repo, history.repo.root
    data = report_json(root, "main..feature")
    base = repo.git("merge-base", "main", "feature")
    tip = repo.git("rev-parse", "feature")
    assert data["kind"] == "range"
    assert data["range"] == {"spec": "main..feature", "base": base, "tip": tip, "commits": 3}
    in_range = set(repo.git("rev-list", "main..feature").split())
    changed = repo.git("diff", "--name-only", "--no-renames", base, tip).splitlines()
    left = [
        line
        for path in changed
        if path in text_files(repo, tip)
        for line in blame_json(root, path, tip)["lines"]
        if line["commit"] in in_range
    ]
    same(data["total"]["added"], tally_of(left))
    store = TraceStore.open(root)
    gone: list[dict[str, Any]] = []
    for path, numbers in removed_lines(repo, base, tip).items():
        blamed = blame_file(store, path, revision=base)
        gone += [line.to_dict() for line in blamed.lines if line.line in numbers]
    same(data["total"]["removed"], tally_of(gone))
    assert data["total"]["removed"]["human"] == 1  # the README line
    assert data["total"]["removed"]["ai"] == 2  # the two util lines the rework replaced
    assert data["total"]["added"]["ai"] == 3 + 4 + 3
    # groups add up to the totals, for added and removed
    for measure in ("added", "removed"):
        assert sum(g[measure]["total"] for g in data["groups"]) == data["total"][measure]["total"]


def test_range_per_commit_rows(history: History) -> None:
    repo, root = history.repo, history.repo.root
    data = report_json(root, "main~4..main")
    rows = data["commits"]
    assert [r["commit"] for r in rows] == repo.git("rev-list", "--reverse", "main~4..main").split()
    store = TraceStore.open(root)
    for row in rows:
        sha = row["commit"]
        added, removed = numstat(repo, f"{sha}~1", sha)
        assert (row["added"]["total"], row["removed"]) == (added, removed), row["subject"]
        # the labels are blame's, at that commit, for the lines that commit wrote
        mine = []
        for path in repo.git("diff", "--name-only", f"{sha}~1", sha).splitlines():
            if path in text_files(repo, sha):
                result = blame_file(store, path, revision=sha)
                mine += [x.to_dict() for x in result.lines if x.commit == sha]
        same(row["added"], tally_of(mine))
        assert row["merge"] is False
    by_subject = {r["subject"]: r for r in rows}
    assert by_subject["Notes, no hooks"]["linked"] is False
    assert by_subject["Notes, no hooks"]["added"]["unknown"] == 4
    assert by_subject["A person edits core"]["added"]["mixed"] == 1
    assert by_subject["Add tests (agent)"]["added"]["models"] == {GPT: {"ai": 7, "mixed": 0}}


def test_range_with_a_merge(history: History) -> None:
    data = report_json(history.repo.root, "main~1..feature")
    merge = next(r for r in data["commits"] if r["merge"])
    assert merge["commit"] == history.marks["merge"]
    assert merge["added"]["total"] == 0
    assert merge["removed"] == 0
    # main's own commit is reachable from main~1..feature through the merge
    assert history.marks["main2"] in {r["commit"] for r in data["commits"]}


def test_log_diffs_matches_diff_tree(history: History) -> None:
    git = TraceStore.open(history.repo.root).repository.git
    logged = log_diffs(git, ["feature"])
    assert [c.sha for c in logged] == history.repo.git(
        "rev-list", "--reverse", "--topo-order", "feature"
    ).split()
    for commit in logged:
        if len(commit.parents) == 1:
            assert list(commit.files) == diff_commit(git, commit.sha, commit.parents[0])
        elif not commit.parents:
            assert list(commit.files) == diff_commit(git, commit.sha, None)
        else:
            assert commit.files == ()
        assert commit.subject == history.repo.git("log", "-1", "--format=%s", commit.sha)


# ---------------------------------------------------------------------- formats


def test_csv_rows_match_json(history: History) -> None:
    root = history.repo.root
    for args in ((), ("main~2..feature",)):
        data = report_json(root, *args, "--by", "model")
        text = run(root, "report", *args, "--by", "model", "--format", "csv").stdout
        rows = list(csv.DictReader(io.StringIO(text)))
        measures = ("lines",) if not args else ("added", "removed")
        assert len(rows) == len(data["groups"]) * len(measures)
        for measure in measures:
            mine = [r for r in rows if r["measure"] == measure]
            for t in ("total", *TYPES):
                assert sum(int(r[t]) for r in mine) == data["total"][measure][t]


def test_markdown_for_a_pull_request(history: History) -> None:
    md = run(history.repo.root, "report", "main..feature", "--format", "md").stdout
    assert md.startswith("### Agent attribution for `main..feature`")
    assert "| Model | AI lines | Mixed lines | Share |" in md
    assert f"| {GPT} |" in md
    assert "<details><summary>By commit (3)</summary>" in md
    snapshot = run(history.repo.root, "report", "--format", "md").stdout
    assert "odd\\|name\\_\\*.py" in snapshot  # table cells escaped
    assert "| README.md |" in snapshot


def test_table_and_top(history: History) -> None:
    out = run(history.repo.root, "report", "--top", "2").stdout
    assert out.splitlines()[0].startswith("HEAD (")
    assert "FILE" in out
    assert "… 5 more (without --top)" in out
    ranged = run(history.repo.root, "report", "main..feature", "--by", "model").stdout
    assert "added:" in ranged
    assert "removed:" in ranged
    assert "SUBJECT" in ranged


def test_html_is_one_self_contained_file(history: History, tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    result = run(
        history.repo.root, "report", "main..feature", "--format", "html", "-o", str(target)
    )
    assert result.stdout == ""
    assert f"wrote {target}" in result.stderr
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count('<svg class="chart') >= 4
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page
    assert "url(" not in page
    assert "<script src" not in page
    for row in report_json(history.repo.root, "main..feature")["commits"]:
        assert row["commit"][:10] in page


def test_render_report_api(history: History) -> None:
    report = build_report(TraceStore.open(history.repo.root), "main~1..main")
    assert isinstance(report, Report)
    for fmt in ("table", "json", "csv", "md", "html"):
        assert render_report(report, fmt, by="dir").endswith("\n")
    with pytest.raises(ValueError, match="unknown report format"):
        render_report(report, "pdf")
    with pytest.raises(ValueError, match="cannot group by"):
        report.groups("colour")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- errors, CLI


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["no-such-branch"], 1, "does not name a commit"),
        (["main...feature"], 1, "symmetric ranges"),
        (["main..nope"], 1, "'nope' does not name a commit"),
        (["--path", "/etc"], 1, "outside the repository"),
        (["--path", "nothing/here"], 1, "no files under nothing/here"),
        (["--by", "colour"], 2, "Invalid value for '--by'"),
        (["--format", "pdf"], 2, "Invalid value for '--format'"),
        (["-o", "/nonexistent-dir/r.html"], 1, "does not exist"),
    ],
)
def test_errors_are_one_line(history: History, args: list[str], code: int, message: str) -> None:
    result = CliRunner().invoke(cli, ["report", *args, "-C", str(history.repo.root)])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_outside_a_repository_and_before_the_first_commit(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", "-C", str(tmp_path)])
    assert result.exit_code == 3
    assert "not inside a git work tree" in result.output
    GitRepo.init(tmp_path / "empty")
    result = CliRunner().invoke(cli, ["report", "-C", str(tmp_path / "empty")])
    assert result.exit_code == 1
    assert "no commits yet" in result.output


def test_installed_trace_command(history: History) -> None:
    trace = Path(sys.executable).parent / "trace"
    assert trace.exists(), "the trace console script is not installed beside this Python"
    proc = subprocess.run(
        [str(trace), "report", "main..feature", "--format", "json"],
        cwd=history.repo.root,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""  # not a terminal: no progress
    assert json.loads(proc.stdout) == report_json(history.repo.root, "main..feature")


def test_progress_only_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    shown = _Progress(enabled=True, delay=0)
    for done in range(1, 4):
        shown("blaming files", done, 3)
    shown.close()
    err = capsys.readouterr().err
    assert "blaming files: 3/3" in err
    assert err.endswith("\r")
    hidden = _Progress(enabled=False, delay=0)
    hidden("blaming files", 1, 1)
    hidden.close()
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------- invariants

cells = st.dictionaries(
    st.tuples(
        st.sampled_from(["a.py", "src/b.py", "src/c/d.py"]),
        st.sampled_from(["c1", "c2", "c3"]),
        st.sampled_from([*TYPES, "weird"]),
        st.sampled_from([None, SONNET, GPT]),
        st.sampled_from([None, "run_1", "run_2"]),
    ),
    st.integers(min_value=1, max_value=50),
    max_size=30,
)


@given(cells, cells)
def test_groups_always_add_up(added: Any, removed: Any) -> None:
    kinds: tuple[tuple[Literal["snapshot", "range"], Any], ...] = (
        ("snapshot", {}),
        ("range", removed),
    )
    for kind, gone in kinds:
        report = Report(kind=kind, revision="c3", spec="x", cells=added, removed_cells=gone)
        for by in GROUPINGS:
            groups = report.groups(by)
            total = Tally()
            for g in groups:
                total.merge(g.lines)
                assert g.lines.total == sum(getattr(g.lines, t) for t in TYPES)
                per_model = sum(sum(v.values()) for v in g.lines.models.values())
                assert per_model == g.lines.ai + g.lines.mixed
            assert total == report.total
            assert report.total.total == sum(added.values())
            data = report.to_dict(by)
            json.dumps(data)  # serializable
            if kind == "range":
                assert sum(g["removed"]["total"] for g in data["groups"]) == sum(gone.values())
