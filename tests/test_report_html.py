"""``trace report --format html`` opened in a real headless Chromium.

The demo repository (real git, real recorder, real hooks) is reported twice, as a snapshot
of HEAD and as the range ``HEAD~3..HEAD``; each page is loaded in Chromium, which must run
its script to the end without a console message, show the four charts and a table row per
file, sort that table when a header is clicked, and print. Screenshots and the PDF are kept
in ``test-artifacts/`` at the checkout root (``$AGENT_TRACE_ARTIFACTS`` to put them
elsewhere) for a person to look at.

Console messages: with ``--enable-logging=stderr`` Chromium writes every console message
of the page, and every uncaught exception, to its standard error as a line such as
``[123:123:1122/013835.401341:INFO:CONSOLE:1] "Uncaught Error: boom", source: file://...``.
Every console call is logged at the same level (``console.error`` too), so any line with
``CONSOLE`` fails a report: its script logs nothing. ``test_console_messages_are_detected``
proves the detection on pages that throw, call ``console.error`` or do not parse.

Without Chromium (Debian: ``apt-get install chromium``) these tests are skipped, except
under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from gitrepo import GitRepo, isolated_git_env

from agent_trace.cli import cli

CLEAN_ENV = {"NO_COLOR": "", "FORCE_COLOR": ""}
RANGE = "HEAD~3..HEAD"
KINDS = ("snapshot", "range")
TIMEOUT = 60  # seconds, per Chromium run (one takes about a second)
ARTIFACTS = Path(
    os.environ.get("AGENT_TRACE_ARTIFACTS")
    or Path(__file__).resolve().parents[1] / "test-artifacts"
)
FLAGS = (
    "--headless",
    "--no-sandbox",  # the tests may run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # the network is closed: no update or sync traffic
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",  # console messages and uncaught exceptions, as CONSOLE lines
)
CHART_TITLES = ("Lines by contributor", "Agent lines by model", "Lines by directory")
TIMELINE_TITLES = {
    "snapshot": "Lines still present, by the commit that wrote them (oldest first)",
    "range": "AI share of the lines each commit added",
}
# The attributes through which a page loads something; a self-contained page has none
# that leads out of it (only in-page fragments and data: URLs).
LOADING_ATTRIBUTES = (
    "src",
    "href",
    "xlink:href",
    "srcset",
    "poster",
    "data",
    "action",
    "formaction",
    "background",
    "ping",
)


# --- Chromium ---------------------------------------------------------------------------


def _find_chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    message = (
        "Chromium is not installed (Debian: apt-get install chromium); "
        "the HTML report tests load the page in it"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@dataclass(frozen=True)
class Run:
    """One Chromium run: its command, standard output (``--dump-dom``) and error."""

    command: tuple[str, ...]
    stdout: str
    stderr: str

    @property
    def console(self) -> list[str]:
        """The page's console messages and uncaught exceptions."""
        return [line for line in self.stderr.splitlines() if "CONSOLE" in line]


class Chromium:
    """Headless Chromium, one fresh profile (and home) per run."""

    def __init__(self, binary: str, scratch: Path) -> None:
        self.binary = binary
        self.scratch = scratch

    def run(self, page: Path, *args: str) -> Run:
        profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=self.scratch))
        command = (self.binary, *FLAGS, f"--user-data-dir={profile / 'data'}", *args)
        command += (page.absolute().as_uri(),)
        env = {
            **os.environ,
            "HOME": str(profile),  # Chromium writes ~/.pki and caches under HOME
            "XDG_CONFIG_HOME": str(profile / "config"),
            "XDG_CACHE_HOME": str(profile / "cache"),
        }
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own process group: a hung run is killed whole
        )
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            pytest.fail(f"Chromium did not finish in {TIMEOUT} s: {' '.join(command)}")
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        run = Run(command, out.decode(errors="replace"), err.decode(errors="replace"))
        if proc.returncode != 0:
            pytest.fail(f"{' '.join(command)} exited {proc.returncode}:\n{run.stderr}")
        return run

    def dump_dom(self, page: Path, *args: str) -> Run:
        run = self.run(page, *args, "--dump-dom")
        if not run.stdout.lstrip().lower().startswith("<!doctype html>"):
            pytest.fail(f"no DOM from {page}: {run.stdout[:500]!r}\n{run.stderr}")
        return run


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Chromium:
    return Chromium(_find_chromium(), tmp_path_factory.mktemp("chromium"))


# --- the pages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    """A report written by ``trace report``: the HTML page and the same report as JSON."""

    kind: str
    page: Path
    data: dict[str, Any]

    @property
    def html(self) -> str:
        return self.page.read_text(encoding="utf-8")


def _trace(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=CLEAN_ENV)
    if result.exit_code != 0:
        pytest.fail(f"trace {' '.join(args)} exited {result.exit_code}: {result.output}")
    return result.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository ``trace demo`` builds (four commits, three files)."""
    root = tmp_path_factory.mktemp("demo") / "repo"
    # Module fixtures are set up before conftest's per-test git isolation: isolate here.
    with pytest.MonkeyPatch.context() as patch:
        for key, value in isolated_git_env(tmp_path_factory.mktemp("home")).items():
            patch.setenv(key, value)
        _trace("demo", str(root))
    return root


@pytest.fixture(scope="module")
def reports(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    out = tmp_path_factory.mktemp("reports")
    built = {}
    for kind, spec in (("snapshot", []), ("range", [RANGE])):
        page = out / f"{'snap' if kind == 'snapshot' else 'range'}.html"
        _trace("report", *spec, "--format", "html", "-o", str(page), "-C", str(demo))
        data = json.loads(_trace("report", *spec, "--format", "json", "-C", str(demo)))
        built[kind] = Built(kind, page, data)
    return built


@pytest.fixture(scope="module")
def doms(chromium: Chromium, reports: dict[str, Built]) -> dict[str, Run]:
    """Each report's DOM after its script ran (``--dump-dom``)."""
    return {kind: chromium.dump_dom(built.page) for kind, built in reports.items()}


def _with_script(page: Path, script: str, target: Path) -> Path:
    """A copy of ``page`` with ``script`` run last (just before ``</body>``)."""
    text = page.read_text(encoding="utf-8")
    if text.count("</body>") != 1:
        pytest.fail(f"{page}: not one </body> to put the script before")
    target.write_text(text.replace("</body>", f"<script>{script}</script></body>"), "utf-8")
    return target


def _result(dom: str) -> Any:
    """The JSON an injected script left in ``<pre id="test-result">``."""
    found = re.search(r'<pre id="test-result">(.*?)</pre>', dom, re.S)
    if found is None:
        pytest.fail("the injected script did not run to the end")
    return json.loads(html.unescape(found.group(1)))


# --- reading the DOM ----------------------------------------------------------------------


@dataclass
class Table:
    classes: list[str]
    head: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


class _Dom(HTMLParser):
    """Start tags, tables (header and cell texts), SVG titles (with the element they
    title and the classes of their ``<svg>``) of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.tables: list[Table] = []
        self.svg_titles: list[tuple[list[str], str, str]] = []
        self._svg: list[tuple[str, dict[str, str]]] = []  # open elements inside an <svg>
        self._text: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attributes))
        if tag == "svg" or self._svg:
            self._svg.append((tag, attributes))
        if tag == "table":
            self.tables.append(Table(attributes.get("class", "").split()))
        elif tag == "thead":
            self._in_head = True
        elif tag == "tbody":
            self._in_head = False
        elif tag == "tr" and self.tables and not self._in_head:
            self.tables[-1].rows.append([])
        if tag in ("th", "td", "title"):
            self._text = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        text = " ".join("".join(self._text or []).split())
        if tag in ("th", "td") and self._text is not None and self.tables:
            table = self.tables[-1]
            if tag == "th":
                table.head.append(text)
            elif table.rows:
                table.rows[-1].append(text)
            self._text = None
        if tag == "title":
            if len(self._svg) >= 2:
                svg_classes = self._svg[0][1].get("class", "").split()
                self.svg_titles.append((svg_classes, self._svg[-2][0], text))
            self._text = None
        if self._svg and self._svg[-1][0] == tag:
            self._svg.pop()

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    @property
    def html_attributes(self) -> dict[str, str]:
        return next(attrs for tag, attrs in self.tags if tag == "html")

    def charts(self) -> list[tuple[list[str], str]]:
        """``(classes, title)`` of each ``<svg class="chart ...">``."""
        return [
            (classes, title)
            for classes, parent, title in self.svg_titles
            if parent == "svg" and "chart" in classes
        ]

    def timeline_bars(self) -> list[str]:
        """The tooltip of each bar of the timeline, left to right."""
        return [
            title
            for classes, parent, title in self.svg_titles
            if parent == "rect" and "timeline" in classes
        ]

    def table(self, first_header: str) -> Table:
        (found,) = [t for t in self.tables if t.head and t.head[0] == first_header]
        return found


def _parse(text: str) -> _Dom:
    parser = _Dom()
    parser.feed(text)
    parser.close()
    return parser


def _groups(built: Built) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = built.data["groups"]
    return groups


def _lines(group: dict[str, Any]) -> int:
    counted: int = group["lines" if "lines" in group else "added"]["total"]
    return counted


def _number(text: str) -> int:
    return int(text.replace(",", ""))


# --- detection works ----------------------------------------------------------------------

BROKEN = {
    "throw": ("throw new Error('boom-thrown');", "Uncaught Error: boom-thrown"),
    "console-error": ("console.error('boom-logged');", "boom-logged"),
    "syntax-error": ("var x = ;", "Uncaught SyntaxError"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_console_messages_are_detected(chromium: Chromium, tmp_path: Path, case: str) -> None:
    """The check the reports must pass can fail: a page whose script throws, logs an
    error or does not parse shows up in the CONSOLE lines, and does not get ready."""
    script, expected = BROKEN[case]
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html>\n<html><head><title>broken</title></head><body><p>broken</p>"
        f'<script>{script} document.documentElement.setAttribute("data-ready", "1");</script>'
        "</body></html>\n",
        encoding="utf-8",
    )
    run = chromium.dump_dom(page)
    assert any(expected in line for line in run.console), run.stderr
    if case != "console-error":
        assert "data-ready" not in _parse(run.stdout).html_attributes


# --- the reports --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_report_script_runs_without_console_messages(doms: dict[str, Run], kind: str) -> None:
    run = doms[kind]
    assert run.console == [], "\n".join(run.console)
    assert _parse(run.stdout).html_attributes.get("data-ready") == "1", run.stdout[:300]


@pytest.mark.parametrize("kind", KINDS)
def test_report_draws_four_charts(doms: dict[str, Run], kind: str) -> None:
    charts = _parse(doms[kind].stdout).charts()
    titles = [title for _, title in charts]
    assert len(charts) >= 4, titles
    assert titles[:3] == list(CHART_TITLES)
    assert (["chart", "timeline"], TIMELINE_TITLES[kind]) in charts
    assert doms[kind].stdout.count('<svg class="chart') >= 4  # as serialized, not only parsed


@pytest.mark.parametrize("kind", KINDS)
def test_report_table_has_a_row_per_file(
    doms: dict[str, Run], reports: dict[str, Built], kind: str
) -> None:
    """The sortable table lists each file once, with the counts of the JSON report."""
    dom = _parse(doms[kind].stdout)
    table = dom.table("File")
    assert "sortable" in table.classes
    assert '<table class="sortable"' in doms[kind].stdout
    groups = _groups(reports[kind])
    assert len(groups) == (3 if kind == "snapshot" else 2)
    assert reports[kind].data["kind"] == kind
    lines = "Lines" if kind == "snapshot" else "Added"
    col = table.head.index(lines)
    assert [(row[0], _number(row[col])) for row in table.rows] == [
        (g["label"], _lines(g)) for g in groups
    ]
    if kind == "snapshot":
        assert [row[0] for row in table.rows] == ["README.md", "shop/cart.py", "tests/test_cart.py"]


def test_range_report_lists_each_commit(
    doms: dict[str, Run], reports: dict[str, Built], demo: Path
) -> None:
    table = _parse(doms["range"].stdout).table("Commit")
    assert "sortable" in table.classes
    commits = GitRepo(demo).git("rev-list", "--reverse", RANGE).split()
    assert len(commits) == 3
    assert [row[0] for row in table.rows] == [sha[:10] for sha in commits]
    added = table.head.index("Added")
    data = reports["range"].data["commits"]
    assert [_number(row[added]) for row in table.rows] == [c["added"]["total"] for c in data]


@pytest.mark.parametrize("kind", KINDS)
def test_report_is_self_contained(
    doms: dict[str, Run], reports: dict[str, Built], kind: str
) -> None:
    """Nothing is loaded from anywhere: no URL, no file beside the page."""
    for text in (reports[kind].html, doms[kind].stdout):
        outside = re.sub(r"http://www\.w3\.org/[\w/.#-]*", "", text)  # namespaces load nothing
        assert "http://" not in outside
        assert "https://" not in outside
        assert not re.search(r"url\(\s*['\"]?(?!#|data:)", text, re.I), "CSS url() to a file"
        assert "@import" not in text
        dom = _parse(text)
        assert not {tag for tag, _ in dom.tags} & {"link", "iframe", "object", "embed", "base"}
        for tag, attrs in dom.tags:
            for name in LOADING_ATTRIBUTES:
                value = attrs.get(name, "").strip()
                assert not value or value.startswith(("#", "data:")), f"<{tag} {name}={value!r}>"


# The script clicks the header named HEADER of the table whose first header is FIRST,
# twice, and records the order of the rows before and after each click.
SORT_SCRIPT = """
(function () {
  var table = null, th = null, out = {ready: document.documentElement.getAttribute("data-ready")};
  document.querySelectorAll("table.sortable").forEach(function (t) {
    var heads = t.querySelectorAll("th");
    if (heads.length && heads[0].textContent.trim() === FIRST) {
      heads.forEach(function (h) { if (h.textContent.trim() === HEADER) { table = t; th = h; } });
    }
  });
  function rows(col) {
    return Array.prototype.map.call(table.tBodies[0].rows, function (r) {
      return [r.cells[0].textContent.trim(), r.cells[col].textContent.trim()];
    });
  }
  if (th !== null) {
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    out.before = rows(col);
    out.clicks = [];
    for (var i = 0; i < 2; i++) {
      th.click();
      out.clicks.push({sort: th.getAttribute("aria-sort"), rows: rows(col)});
    }
  }
  var pre = document.createElement("pre");
  pre.id = "test-result";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
"""


@pytest.mark.parametrize(("kind", "header"), [("snapshot", "Lines"), ("range", "Added")])
def test_clicking_a_header_sorts_the_table(
    chromium: Chromium, reports: dict[str, Built], tmp_path: Path, kind: str, header: str
) -> None:
    """A click sorts the files by the column, ascending; a second click, descending."""
    script = SORT_SCRIPT.replace("FIRST", json.dumps("File")).replace("HEADER", json.dumps(header))
    page = _with_script(reports[kind].page, script, tmp_path / "sorting.html")
    run = chromium.dump_dom(page)
    assert run.console == [], "\n".join(run.console)
    result = _result(run.stdout)
    assert result["ready"] == "1"
    assert "clicks" in result, f"no {header!r} header in the file table"
    groups = _groups(reports[kind])
    assert [name for name, _ in result["before"]] == [g["label"] for g in groups]
    ascending, descending = result["clicks"]
    assert ascending["sort"] == "ascending"
    assert descending["sort"] == "descending"
    up = [_number(value) for _, value in ascending["rows"]]
    down = [_number(value) for _, value in descending["rows"]]
    assert up == sorted(up)
    assert down == sorted(up, reverse=True)
    assert len(set(up)) == len(up) > 1  # distinct counts: the orders say something
    by_lines = sorted(groups, key=_lines)
    assert [name for name, _ in ascending["rows"]] == [g["label"] for g in by_lines]
    assert [name for name, _ in descending["rows"]] == [g["label"] for g in reversed(by_lines)]


# --- pictures -----------------------------------------------------------------------------


def _artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.mark.parametrize("kind", KINDS)
def test_report_screenshot(chromium: Chromium, reports: dict[str, Built], kind: str) -> None:
    """A 1200x1800 screenshot, kept as ``test-artifacts/report-<kind>.png``."""
    png = _artifacts() / f"report-{kind}.png"
    png.unlink(missing_ok=True)
    run = chromium.run(
        reports[kind].page, f"--screenshot={png}", "--window-size=1200,1800", "--hide-scrollbars"
    )
    assert run.console == [], "\n".join(run.console)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1200, 1800)
    assert len(data) > 10_000, f"{png}: {len(data)} bytes, an empty page?"


def test_snapshot_report_prints(chromium: Chromium, reports: dict[str, Built]) -> None:
    """The page prints: a PDF, kept as ``test-artifacts/report-snapshot.pdf``."""
    pdf = _artifacts() / "report-snapshot.pdf"
    pdf.unlink(missing_ok=True)
    run = chromium.run(reports["snapshot"].page, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert run.console == [], "\n".join(run.console)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert re.search(rb"/Type\s*/Page\b", data)
    assert len(data) > 5_000, f"{pdf}: {len(data)} bytes, an empty page?"


# --- known problems -----------------------------------------------------------------------

# Measures, at a 740 px wide window (the printable width of a Letter page with Chromium's
# default margins), how far the page and each table reach past their boxes.
FIT_SCRIPT = """
(function () {
  var root = document.documentElement, out = {page: root.scrollWidth - root.clientWidth};
  out.tables = Array.prototype.map.call(document.querySelectorAll("table"), function (t) {
    var box = t.closest("section"), style = getComputedStyle(box);
    var inner = box.getBoundingClientRect().right - parseFloat(style.borderRightWidth)
      - parseFloat(style.paddingRight);
    return Math.round(t.getBoundingClientRect().right - inner);
  });
  var pre = document.createElement("pre");
  pre.id = "test-result";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
"""


def test_snapshot_report_fits_a_printed_page_width(
    chromium: Chromium, reports: dict[str, Built], tmp_path: Path
) -> None:
    """At 740 px (a Letter page's printable width) neither the page nor a table is wider
    than its box: long paths and model lists wrap instead of clipping the printout."""
    page = _with_script(reports["snapshot"].page, FIT_SCRIPT, tmp_path / "fit.html")
    run = chromium.dump_dom(page, "--window-size=740,1000", "--hide-scrollbars")
    result = _result(run.stdout)
    if run.console or not result["tables"]:  # the measuring script did not run
        pytest.fail(f"no measure: {run.console} {result}")
    assert result["page"] <= 1, f"the page is {result['page']} px too wide: {result}"
    assert all(over <= 1 for over in result["tables"]), f"a table overflows: {result}"


def test_snapshot_timeline_keeps_history_order_within_one_second(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits made in the same second are drawn in history order, not SHA order."""
    date = "2025-01-01T12:00:00+00:00"
    monkeypatch.setenv("GIT_AUTHOR_DATE", date)
    monkeypatch.setenv("GIT_COMMITTER_DATE", date)
    repo.write("a.py", "a = 1\n")
    first = repo.commit("first")
    repo.write("b.py", "b = 2\n")
    second = repo.commit("second")
    # Fixed dates and identity make the SHAs fixed: reword until the child's SHA sorts
    # before its parent's, the case SHA order gets wrong.
    for n in range(1, 200):
        if second < first:
            break
        repo.git("commit", "-q", "--amend", "-m", f"second ({n})")
        second = repo.head()
    times = repo.git("log", "--format=%at").split()
    if not second < first or len(set(times)) != 1:  # the case is not set up: a real failure
        pytest.fail(f"no same-second pair with the child's SHA first: {first} {second} {times}")
    page = tmp_path / "report.html"
    _trace("report", "--format", "html", "-o", str(page), "-C", str(repo.root))
    bars = _parse(page.read_text(encoding="utf-8")).timeline_bars()
    assert [bar.split()[0] for bar in bars] == [first[:10], second[:10]]
