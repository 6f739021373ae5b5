"""Reports as text: an aligned table for the terminal, Markdown for a pull-request
comment, CSV for spreadsheets (JSON is :meth:`Report.to_dict`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from ._report import CommitChange, Grouping, Report, ReportGroup, Tally

__all__ = [
    "FORMATS",
    "render_report",
    "report_csv",
    "report_markdown",
    "report_table",
    "share",
    "summary_line",
]

FORMATS = ("table", "json", "csv", "md", "html")
"""What :func:`render_report` can write."""

CSV_COLUMNS = ("group", "label", "measure", "total", "ai", "mixed", "human", "unknown", "ai_share")


def share(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "-"


def _models(tally: Tally, limit: int = 3) -> str:
    items = sorted(tally.models.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    text = ", ".join(f"{m} {sum(per.values())}" for m, per in items[:limit])
    if len(items) > limit:
        text += f", +{len(items) - limit} more"
    return text


def _counts(t: Tally) -> list[str]:
    """total, ai, mixed, human, unknown as table cells."""
    return [f"{n:,}" for n in (t.total, t.ai, t.mixed, t.human, t.unknown)]


def summary_line(tally: Tally) -> str:
    """``ai 17 (50.0%) · mixed 1 (2.9%) · human 3 (8.8%) · unknown 13 (38.2%)``"""
    total = tally.total
    return " · ".join(
        f"{kind} {getattr(tally, kind):,} ({share(getattr(tally, kind), total)})"
        for kind in ("ai", "mixed", "human", "unknown")
    )


def _title(report: Report) -> str:
    if report.kind == "snapshot":
        files = f"{report.files} file{'' if report.files == 1 else 's'}"
        return f"{report.spec} ({report.revision[:12]}): {files}, {report.total.total:,} lines"
    base = report.base[:12] if report.base else "root"
    count = len(report.changes)
    removed = report.removed.total if report.removed is not None else 0
    return (
        f"{report.spec}: {count} commit{'' if count == 1 else 's'} after {base}, "
        f"+{report.total.total:,} -{removed:,} lines"
    )


def _columns(rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if right[i] else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        out.append("  ".join(cells).rstrip())
    return out


def _group_rows(groups: Sequence[ReportGroup], by: str, ranged: bool) -> list[list[str]]:
    head = [by.upper(), "ADDED" if ranged else "LINES", "AI", "MIXED", "HUMAN", "UNKNOWN", "AI%"]
    if ranged:
        head.append("REMOVED")
    head.append("MODELS")
    rows = [head]
    for g in groups:
        t = g.lines
        row = [g.label, *_counts(t), share(t.ai, t.total)]
        if ranged:
            row.append(f"{g.removed.total:,}" if g.removed is not None else "")
        row.append(_models(t))
        rows.append(row)
    return rows


def report_table(
    report: Report, by: Grouping = "file", *, depth: int | None = None, top: int | None = None
) -> list[str]:
    """The terminal report, one string per line."""
    out = [_title(report)]
    if report.kind == "range":
        out.append(f"  added:   {summary_line(report.total)}")
        if report.removed is not None:
            out.append(f"  removed: {summary_line(report.removed)}")
    else:
        out.append(f"  {summary_line(report.total)}")
    if report.total.models:
        out.append(f"  models:  {_models(report.total, limit=8)}")
    if report.skipped:
        out.append(f"  not counted: {len(report.skipped)} binary, too large or non-regular file(s)")
    groups = report.groups(by, depth=depth)
    shown = groups[:top] if top is not None else groups
    out.append("")
    right = [False, True, True, True, True, True, True] + ([True] if report.kind == "range" else [])
    out += _columns(_group_rows(shown, by, report.kind == "range"), [*right, False])
    if len(shown) < len(groups):
        out.append(f"… {len(groups) - len(shown)} more (without --top)")
    if report.kind == "range" and report.changes:
        out.append("")
        out += _columns(_commit_rows(report.changes), [False, False, False] + [True] * 6 + [False])
    return out


def _commit_rows(changes: Sequence[CommitChange]) -> list[list[str]]:
    rows = [["COMMIT", "DATE", "AUTHOR", "ADDED", "AI", "MIXED", "HUMAN", "UNKNOWN", "REMOVED"]]
    rows[0].append("SUBJECT")
    for c in changes:
        t = c.added
        subject = ("(merge) " if c.merge else "") + ("" if c.linked else "(no record) ")
        rows.append(
            [
                c.info.sha[:10],
                c.info.date[:10],
                c.info.author,
                *_counts(t),
                f"{c.removed:,}",
                subject + c.info.subject,
            ]
        )
    return rows


# ---------------------------------------------------------------------- Markdown


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("\n", " ")
        .replace("<", "&lt;")
        .replace("`", "\\`")
        .replace("*", "\\*")
        .replace("_", "\\_")
    )


def _md_table(head: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    lines = ["| " + " | ".join(head) + " |"]
    lines.append("|" + "|".join("--:" if r else "---" for r in right) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _md_models(tally: Tally) -> str:
    rows = [
        [_md(m), f"{per['ai']:,}", f"{per['mixed']:,}", share(sum(per.values()), tally.total)]
        for m, per in sorted(tally.models.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    ]
    return _md_table(["Model", "AI lines", "Mixed lines", "Share"], rows, [False, True, True, True])


def _md_groups(report: Report, by: Grouping, depth: int | None, top: int | None) -> str:
    groups = report.groups(by, depth=depth)
    shown = groups[:top] if top is not None else groups
    ranged = report.kind == "range"
    head = [by.capitalize(), "Added" if ranged else "Lines", "AI", "Mixed", "Human", "Unknown"]
    head += ["AI share"] + (["Removed"] if ranged else [])
    rows = []
    for g in shown:
        t = g.lines
        row = [_md(g.label), *_counts(t), share(t.ai, t.total)]
        if ranged:
            row.append(f"{g.removed.total:,}" if g.removed is not None else "")
        rows.append(row)
    text = _md_table(head, rows, [False] + [True] * (len(head) - 1))
    if len(shown) < len(groups):
        text += f"\n\n… and {len(groups) - len(shown)} more."
    return text


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def report_markdown(
    report: Report, by: Grouping = "file", *, depth: int | None = None, top: int | None = None
) -> str:
    """The report as GitHub-flavoured Markdown (a pull-request comment for a range)."""
    total = report.total
    parts = []
    if report.kind == "range":
        removed = report.removed or Tally()
        n = len(report.changes)
        parts.append(f"### Agent attribution for `{report.spec}`")
        commits = f"{n} commit{'' if n == 1 else 's'}"
        parts.append(
            f"**+{total.total:,} / -{removed.total:,} lines** in {commits}: "
            f"**{total.ai:,} AI ({share(total.ai, total.total)})**, {total.mixed:,} mixed, "
            f"{total.human:,} human, {total.unknown:,} unknown."
        )
        if removed.total:
            parts.append(
                f"Removed lines were written by: {removed.ai:,} AI, {removed.mixed:,} mixed, "
                f"{removed.human:,} human, {removed.unknown:,} unknown."
            )
        unlinked = [c for c in report.changes if not c.linked and not c.merge]
        if unlinked:
            parts.append(
                f"> {len(unlinked)} commit(s) have no agent-trace record; their lines are "
                "matched by content or counted as unknown."
            )
    else:
        parts.append(f"### Agent attribution of `{report.spec}` ({report.revision[:12]})")
        parts.append(
            f"**{total.total:,} lines** in {report.files:,} files: "
            f"**{total.ai:,} AI ({share(total.ai, total.total)})**, {total.mixed:,} mixed, "
            f"{total.human:,} human, {total.unknown:,} unknown."
        )
    if total.models:
        parts.append(_md_models(total))
    if report.kind == "range" and report.changes:
        rows = []
        for c in report.changes:
            t = c.added
            subject = ("(merge) " if c.merge else "") + c.info.subject
            rows.append(
                [
                    f"`{c.info.sha[:10]}`",
                    _md(subject),
                    *_counts(t),
                    f"{c.removed:,}",
                ]
            )
        head = ["Commit", "Subject", "Added", "AI", "Mixed", "Human", "Unknown", "Removed"]
        table = _md_table(head, rows, [False, False] + [True] * 6)
        parts.append(_details(f"By commit ({len(rows)})", table))
    groups = report.groups(by, depth=depth)
    if groups:
        parts.append(
            _details(f"By {by} ({len(groups)})", _md_groups(report, by, depth, top)),
        )
    parts.append(
        "<sub>agent-trace: lines counted as `trace blame` labels them; unknown lines "
        "(no record, content not found) count in the share.</sub>"
    )
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------------- CSV


def report_csv(report: Report, by: Grouping = "file", *, depth: int | None = None) -> str:
    """One row per group and measure (``lines``; ``added`` and ``removed`` for a range),
    columns :data:`CSV_COLUMNS`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for g in report.groups(by, depth=depth):
        measures = [("lines", g.lines)] if g.removed is None else [("added", g.lines)]
        if g.removed is not None:
            measures.append(("removed", g.removed))
        for measure, t in measures:
            ai_share = t.ai_share
            writer.writerow(
                [
                    g.key,
                    g.label,
                    measure,
                    t.total,
                    t.ai,
                    t.mixed,
                    t.human,
                    t.unknown,
                    f"{ai_share:.4f}" if ai_share is not None else "",
                ]
            )
    return buffer.getvalue()


def render_report(
    report: Report,
    format: str = "table",
    *,
    by: Grouping = "file",
    depth: int | None = None,
    top: int | None = None,
) -> str:
    """``report`` as text in one of :data:`FORMATS`: ``table`` (terminal), ``json``,
    ``csv``, ``md`` (Markdown) or ``html`` (a self-contained page). ``top`` limits the
    groups of ``table`` and ``md``; ``json``, ``csv`` and ``html`` always have them all."""
    if format == "json":
        import orjson

        data = report.to_dict(by, depth=depth)
        return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"
    if format == "csv":
        return report_csv(report, by, depth=depth)
    if format == "md":
        return report_markdown(report, by, depth=depth, top=top)
    if format == "html":
        from ._report_html import report_html

        return report_html(report, by, depth=depth)
    if format == "table":
        return "\n".join(report_table(report, by, depth=depth, top=top)) + "\n"
    raise ValueError(f"unknown report format {format!r}; choose one of {', '.join(FORMATS)}")
