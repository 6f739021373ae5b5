"""The report as one self-contained HTML page: summary figures, charts drawn as inline
SVG (by model, by directory, AI share per commit), and a sortable table per file.

No network, no external scripts, styles or fonts; the only script sorts tables. Charts
are plain SVG, so the page prints as it shows.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from importlib import metadata

from ._report import CommitInfo, Grouping, Report, ReportGroup, Tally
from ._report_text import share

__all__ = ["report_html"]

COLORS = {"ai": "#6246ea", "mixed": "#f0a202", "human": "#2a9d8f", "unknown": "#b9c0c9"}
LABELS = {"ai": "AI", "mixed": "Mixed", "human": "Human", "unknown": "Unknown"}
MODEL_COLORS = ("#6246ea", "#d6336c", "#1c7ed6", "#7048e8", "#e8590c", "#0ca678", "#ae3ec9")
TYPES = ("ai", "mixed", "human", "unknown")

_CSS = """
:root { --ink:#1f2430; --muted:#5f6b7a; --line:#e3e7ee; --bg:#f6f7fb; --card:#fff; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,
  sans-serif; color:var(--ink); background:var(--bg);
  -webkit-print-color-adjust:exact; print-color-adjust:exact; }
main { max-width:1100px; margin:0 auto; padding:28px 24px 48px; }
h1 { font-size:22px; margin:0 0 4px; } h2 { font-size:16px; margin:0 0 12px; }
.sub { color:var(--muted); margin:0 0 20px; }
.note { color:var(--muted); font-size:12px; margin:8px 0 0; }
code { font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(110px,1fr)); gap:12px;
  margin-bottom:16px; }
.card, section { background:var(--card); border:1px solid var(--line); border-radius:10px; }
.card { padding:12px 14px; } .card b { display:block; font-size:22px; white-space:nowrap; }
.card span { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
section { padding:16px 18px; margin-bottom:16px; }
section.chart-box { break-inside:avoid; }
.grid2 { display:grid; grid-template-columns:1fr 1fr; gap:16px; margin-bottom:16px; }
.grid2 section { margin-bottom:0; }
.legend { display:flex; flex-wrap:wrap; gap:14px; margin:8px 0 0; color:var(--muted);
  font-size:12px; }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:5px; }
svg { display:block; width:100%; height:auto; }
svg text { font:12px system-ui,sans-serif; fill:var(--ink); }
svg .muted { fill:var(--muted); }
.scroll { overflow-x:auto; }
table { width:100%; border-collapse:collapse; font-size:13px; }
th, td { padding:5px 8px; border-bottom:1px solid var(--line); text-align:right; }
td { font-variant-numeric:tabular-nums; }
th:first-child, td:first-child, td.text, th.text { text-align:left; }
td.path, td.text { overflow-wrap:anywhere; }
td.models { font-size:12px; color:var(--muted); min-width:9em; }
th { background:#fafbfd; position:sticky; top:0; white-space:nowrap; }
th[data-sort] { cursor:pointer; user-select:none; }
th[aria-sort=ascending]::after { content:" \\25B2"; }
th[aria-sort=descending]::after { content:" \\25BC"; }
tbody tr:hover { background:#f3f1ff; }
.bar { display:flex; width:90px; height:10px; border-radius:3px; overflow:hidden;
  background:#eef0f4; }
.bar i { display:block; height:100%; }
.empty { color:var(--muted); }
footer { color:var(--muted); font-size:12px; margin-top:24px; }
@media (max-width:800px) { .grid2 { grid-template-columns:1fr; } }
@media print {
  body { background:#fff; font-size:11px; } main { max-width:none; padding:0; }
  section, .card { border-color:#ccc; } th { position:static; }
  th[aria-sort]::after { content:""; }
  .bar-col { display:none; } .scroll { overflow:visible; }
  tr { break-inside:avoid; } table { font-size:11px; } th, td { padding:3px 5px; }
}
"""

_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.querySelectorAll("th[data-sort]");
  heads.forEach(function (th) {
    var col = th.cellIndex, numeric = th.getAttribute("data-sort") === "number";
    function sort() {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-v"), y = b.cells[col].getAttribute("data-v");
        var r = numeric ? parseFloat(x) - parseFloat(y)
          : x.localeCompare(y, undefined, {numeric: true});
        return asc ? r : -r;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    }
    th.tabIndex = 0;
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
    });
  });
});
document.documentElement.setAttribute("data-ready", "1");
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _pct(part: int, whole: int) -> str:
    return share(part, whole)


def _legend(items: Sequence[tuple[str, str]]) -> str:
    spans = "".join(f'<span><i style="background:{c}"></i>{_e(t)}</span>' for t, c in items)
    return f'<div class="legend">{spans}</div>'


def _type_legend() -> str:
    return _legend([(LABELS[k], COLORS[k]) for k in TYPES])


def _stacked_bars(
    rows: Sequence[tuple[str, Sequence[tuple[int, str, str]]]],
    title: str,
    *,
    label_w: int = 200,
    bar_w: int = 730,
) -> str:
    """Horizontal stacked bars: ``rows`` of ``(label, [(value, colour, name), ...])``."""
    if not rows:
        return '<p class="empty">No lines.</p>'
    row_h = 24
    biggest = max(sum(v for v, _, _ in parts) for _, parts in rows) or 1
    height = row_h * len(rows) + 8
    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {label_w + bar_w + 70} {height}">'
        f"<title>{_e(title)}</title>"
    ]
    for i, (label, parts) in enumerate(rows):
        y = 4 + i * row_h
        room = label_w // 7
        short = label if len(label) <= room else "…" + label[-(room - 1) :]
        out.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{_e(short)}'
            f"<title>{_e(label)}</title></text>"
        )
        x = float(label_w)
        total = sum(v for v, _, _ in parts)
        for value, colour, name in parts:
            if value <= 0:
                continue
            w = value / biggest * bar_w
            out.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{max(w, 0.5):.1f}" height="{row_h - 8}" '
                f'fill="{colour}"><title>{_e(label)}: {_e(name)} {value:,} '
                f"({_pct(value, total)})</title></rect>"
            )
            x += w
        out.append(f'<text class="muted" x="{x + 6:.1f}" y="{y + 15}">{total:,}</text>')
    out.append("</svg>")
    return "".join(out)


def _type_parts(t: Tally) -> list[tuple[int, str, str]]:
    return [(getattr(t, k), COLORS[k], LABELS[k]) for k in TYPES]


def _model_chart(total: Tally, title: str) -> str:
    models = sorted(total.models.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    rows = [
        (m, [(per["ai"], COLORS["ai"], "AI"), (per["mixed"], COLORS["mixed"], "Mixed")])
        for m, per in models
    ]
    if not rows:
        return '<p class="empty">No lines attributed to an agent.</p>'
    return _stacked_bars(rows, title, label_w=215, bar_w=205) + _legend(
        [("AI", COLORS["ai"]), ("Mixed (edited by a person)", COLORS["mixed"])]
    )


def _dir_chart(groups: Sequence[ReportGroup], title: str, limit: int = 14) -> str:
    biggest = sorted(groups, key=lambda g: (-g.lines.total, g.key))[:limit]
    rows = [
        (g.label if g.key != "." else "(root)", _type_parts(g.lines))
        for g in sorted(biggest, key=lambda g: g.key)
    ]
    note = ""
    if len(groups) > limit:
        note = f'<p class="note">The {limit} largest of {len(groups)} directories.</p>'
    return _stacked_bars(rows, title, label_w=140, bar_w=280) + _type_legend() + note


BAR_GREY = "#c9d0dc"


def _timeline(points: Sequence[tuple[CommitInfo, Tally]], title: str) -> str:
    """Bars: lines per commit (right axis); line: the commit's AI share (left axis)."""
    if not points:
        return '<p class="empty">No commits.</p>'
    n = len(points)
    labelled = n <= 30
    width, height, left, right, top = 1000, 260, 48, 56, 12
    bottom = 62 if labelled else 36
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / n
    biggest = max(t.total for _, t in points) or 1
    out = [
        f'<svg class="chart timeline" role="img" viewBox="0 0 {width} {height}">'
        f"<title>{_e(title)}</title>"
    ]
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h - pct / 100 * plot_h
        count = round(biggest * pct / 100)
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e7ee"/>'
            f'<text class="muted" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{pct}%</text>'
            f'<text class="muted" x="{left + plot_w + 6}" y="{y + 4:.1f}">{count:,}</text>'
        )
    path = []
    for i, (info, t) in enumerate(points):
        x = left + i * step
        h = t.total / biggest * plot_h
        tip = (
            f"{info.sha[:10]} {info.subject}\n{info.date[:10]} {info.author}\n"
            f"{t.total:,} lines: AI {t.ai:,}, mixed {t.mixed:,}, human {t.human:,}, "
            f"unknown {t.unknown:,} (AI {_pct(t.ai, t.total)})"
        )
        out.append(
            f'<rect class="commit" x="{x + step * 0.15:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{max(step * 0.7, 0.6):.1f}" height="{h:.1f}" fill="{BAR_GREY}">'
            f"<title>{_e(tip)}</title></rect>"
        )
        if labelled:
            cx, cy = x + step / 2, top + plot_h + 14
            out.append(
                f'<text class="muted" x="{cx:.1f}" y="{cy:.1f}" text-anchor="end" '
                f'transform="rotate(-35 {cx:.1f} {cy:.1f})">{_e(info.sha[:7])}</text>'
            )
        if t.total:
            y = top + plot_h - (t.ai / t.total) * plot_h
            path.append(f"{x + step / 2:.1f},{y:.1f}")
    if path:
        out.append(
            f'<polyline points="{" ".join(path)}" fill="none" stroke="{COLORS["ai"]}" '
            'stroke-width="2" stroke-linejoin="round"/>'
        )
        if len(path) <= 120:
            for point in path:
                cx_, cy_ = point.split(",")
                out.append(f'<circle cx="{cx_}" cy="{cy_}" r="3.5" fill="{COLORS["ai"]}"/>')
    first, last = points[0][0], points[-1][0]
    span = (
        first.date[:10]
        if first.date[:10] == last.date[:10]
        else (f"{first.date[:10]} to {last.date[:10]}")
    )
    out.append(
        f'<text class="muted" x="{left + plot_w / 2:.0f}" y="{height - 6}" '
        f'text-anchor="middle">{n:,} commit{"" if n == 1 else "s"}, oldest first'
        f" ({_e(span)})</text>"
    )
    out.append("</svg>")
    return "".join(out) + _legend(
        [("AI share of the commit's lines (left axis)", COLORS["ai"]),
         ("lines (right axis)", BAR_GREY)]
    )  # fmt: skip


def _bar(t: Tally) -> str:
    if not t.total:
        return '<div class="bar"></div>'
    parts = "".join(
        f'<i style="width:{getattr(t, k) / t.total * 100:.2f}%;background:{COLORS[k]}"></i>'
        for k in TYPES
        if getattr(t, k)
    )
    return f'<div class="bar">{parts}</div>'


def _num(value: int) -> str:
    return f'<td data-v="{value}">{value:,}</td>'


def _models_text(t: Tally) -> str:
    items = sorted(t.models.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    return ", ".join(f"{m} {sum(per.values()):,}" for m, per in items)


def _head(columns: Sequence[tuple[str, str | None]]) -> str:
    """``<th>`` cells: ``(label, "text" | "number" | None)``; ``None`` does not sort."""
    out = []
    for label, kind in columns:
        classes = ' class="text"' if kind == "text" else ""
        if kind is None:
            out.append(f'<th class="bar-col" scope="col">{_e(label)}</th>')
        else:
            out.append(f'<th{classes} scope="col" data-sort="{kind}">{_e(label)}</th>')
    return "".join(out)


def _table(columns: Sequence[tuple[str, str | None]], rows: Sequence[str]) -> str:
    return (
        f'<div class="scroll"><table class="sortable"><thead><tr>{_head(columns)}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _group_table(groups: Sequence[ReportGroup], by: str, ranged: bool) -> str:
    columns: list[tuple[str, str | None]] = [(by.capitalize(), "text")]
    columns += [("Added" if ranged else "Lines", "number"), ("AI", "number")]
    columns += [("Mixed", "number"), ("Human", "number"), ("Unknown", "number")]
    columns += [("AI share", "number"), ("", None)]
    columns += [("Removed", "number")] if ranged else []
    columns.append(("Models", "text"))
    rows = []
    for g in groups:
        t = g.lines
        ai_share = t.ai_share if t.ai_share is not None else -1
        cells = [f'<td class="path" data-v="{_e(g.label)}">{_e(g.label)}</td>']
        cells += [_num(t.total), _num(t.ai), _num(t.mixed), _num(t.human), _num(t.unknown)]
        cells.append(f'<td data-v="{ai_share:.4f}">{_pct(t.ai, t.total)}</td>')
        cells.append(f'<td class="bar-col">{_bar(t)}</td>')
        if ranged:
            cells.append(_num(g.removed.total if g.removed is not None else 0))
        models = _models_text(t)
        cells.append(f'<td class="text models" data-v="{_e(models)}">{_e(models)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return _table(columns, rows)


def _commit_table(report: Report) -> str:
    columns: list[tuple[str, str | None]] = [
        ("Commit", "number"),
        ("Date", "text"),
        ("Author", "text"),
        ("Added", "number"),
        ("AI", "number"),
        ("Mixed", "number"),
        ("Human", "number"),
        ("Unknown", "number"),
        ("Removed", "number"),
        ("Subject", "text"),
    ]
    rows = []
    for i, c in enumerate(report.changes):
        t = c.added
        note = " (merge)" if c.merge else ("" if c.linked else " (no record)")
        cells = [
            f'<td data-v="{i}"><code>{_e(c.info.sha[:10])}</code></td>',
            f'<td class="text" data-v="{c.info.time}">{_e(c.info.date[:10])}</td>',
            f'<td class="text" data-v="{_e(c.info.author)}">{_e(c.info.author)}</td>',
            _num(t.total),
            _num(t.ai),
            _num(t.mixed),
            _num(t.human),
            _num(t.unknown),
            _num(c.removed),
            f'<td class="text path" data-v="{_e(c.info.subject)}">{_e(c.info.subject)}'
            f"{_e(note)}</td>",
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return _table(columns, rows)


def _card(value: str, label: str) -> str:
    return f'<div class="card"><b>{_e(value)}</b><span>{_e(label)}</span></div>'


def _version() -> str:
    try:
        return metadata.version("agent-trace")
    except metadata.PackageNotFoundError:
        return "dev"


def report_html(
    report: Report,
    by: Grouping = "file",
    *,
    depth: int | None = None,
    title: str | None = None,
) -> str:
    """The report as one self-contained HTML document. The table groups ``by`` (files
    by default); the charts always show models, directories and commits."""
    total = report.total
    ranged = report.kind == "range"
    removed = report.removed or Tally()
    heading = title or (
        f"Agent attribution: {report.spec}"
        if ranged
        else f"Agent attribution of {report.spec} ({report.revision[:12]})"
    )
    if ranged:
        base = report.base[:12] if report.base else "the root commit"
        sub = (
            f"{len(report.changes):,} commits after {base} up to {report.revision[:12]}; "
            "lines added are those at the tip written by these commits."
        )
        cards = [
            _card(f"+{total.total:,}" if total.total else "0", "added"),
            _card(f"-{removed.total:,}" if removed.total else "0", "removed"),
            _card(_pct(total.ai, total.total), "AI share"),
        ]
    else:
        sub = f"Every line of {report.files:,} text files, labelled as trace blame labels it."
        cards = [
            _card(f"{total.total:,}", "lines"),
            _card(f"{report.files:,}", "files"),
            _card(_pct(total.ai, total.total), "AI share"),
        ]
    cards += [
        _card(f"{total.ai:,}", "AI"),
        _card(f"{total.mixed:,}", "mixed"),
        _card(f"{total.human:,}", "human"),
        _card(f"{total.unknown:,}", "unknown"),
        _card(f"{len(total.models):,}", "models"),
    ]
    overall = _stacked_bars(
        [("added" if ranged else "all lines", _type_parts(total))]
        + ([("removed", _type_parts(removed))] if ranged and removed.total else []),
        "Lines by contributor",
    )
    dirs = report.groups("dir", depth=depth)
    if ranged:
        points = [(c.info, c.added) for c in report.changes]
        timeline_title = "AI share of the lines each commit added"
    else:
        points = [
            (g.info or CommitInfo(sha=g.key), g.lines) for g in report.groups("commit", depth=depth)
        ]
        timeline_title = "Lines still present, by the commit that wrote them (oldest first)"
    table_groups = report.groups(by, depth=depth)
    sections = [
        '<section class="chart-box"><h2>Lines by contributor</h2>'
        f"{overall}{_type_legend()}</section>",
        '<div class="grid2">'
        '<section class="chart-box"><h2>By model</h2>'
        f"{_model_chart(total, 'Agent lines by model')}</section>"
        '<section class="chart-box"><h2>By directory</h2>'
        f"{_dir_chart(dirs, 'Lines by directory')}</section>"
        "</div>",
        f'<section class="chart-box"><h2>{_e(timeline_title)}</h2>'
        f"{_timeline(points, timeline_title)}</section>",
    ]
    if ranged and report.changes:
        sections.append(
            f"<section><h2>Commits</h2>{_commit_table(report)}"
            '<p class="note">Per commit: the lines each commit added and removed. A line '
            "added and removed again inside the range counts in both commits, but not in "
            "the totals above, which compare the tip with the base.</p></section>"
        )
    sections.append(
        f"<section><h2>By {_e(by)} ({len(table_groups):,})</h2>"
        f"{_group_table(table_groups, by, ranged)}</section>"
    )
    if report.skipped:
        items = "".join(f"<li><code>{_e(p)}</code>: {_e(r)}</li>" for p, r in report.skipped)
        sections.append(f"<section><h2>Not counted</h2><ul>{items}</ul></section>")
    generated = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    footer = (
        f"<footer>Generated by agent-trace {_e(_version())} on {generated}. "
        "AI: written by an agent. Mixed: an agent's line a person edited (or the reverse), "
        "keeping most of it. Unknown: no record covers the line and its content was not "
        "found elsewhere; unknown lines count in every share, so shares are lower bounds."
        "</footer>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(heading)}</title><style>{_CSS}</style></head><body><main>"
        f'<h1>{_e(heading)}</h1><p class="sub">{_e(sub)}</p>'
        f'<div class="cards">{"".join(cards)}</div>'
        + "".join(sections)
        + footer
        + f"</main><script>{_SCRIPT}</script></body></html>\n"
    )
