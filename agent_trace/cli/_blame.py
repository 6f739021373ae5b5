"""``trace blame``, ``trace link``, ``trace runs``, ``trace hooks`` and the hidden
``trace hook`` that installed git hooks call."""

from __future__ import annotations

import contextlib
import enum
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._app import REPO_OPTION, EnvironmentProblem, UserError, open_store, repo_errors

if TYPE_CHECKING:
    from agent_trace._blame import BlameLine, BlameResult
    from agent_trace._hooks import HookState
    from agent_trace._store import TraceStore

__all__ = ["blame", "hook", "hooks", "link", "runs"]


class BlameFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    PORCELAIN = "porcelain"


_COLOURS = {"ai": "magenta", "human": "green", "mixed": "yellow", "unknown": "bright_black"}


def _line_range(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    start_text, sep, end_text = value.partition(",")
    try:
        start = int(start_text)
        end = int(end_text) if sep and end_text else start
    except ValueError:
        raise click.BadParameter(f"{value!r} is not START,END (e.g. 10,20)") from None
    if start < 1 or end < start:
        raise click.BadParameter(f"{value!r}: need 1 <= START <= END")
    return start, end


def _who(line: BlameLine) -> str:
    if line.type == "ai":
        return line.model_id or "ai"
    return line.type


def _summary_text(result: BlameResult) -> str:
    counts = result.summary
    total = sum(counts.values()) or 1
    parts = [
        click.style(f"{kind} {counts[kind] * 100 / total:.1f}% ({counts[kind]})", fg=_COLOURS[kind])
        for kind in ("ai", "human", "mixed", "unknown")
        if counts[kind] or kind in ("ai", "human")
    ]
    return f"{result.path}: {len(result.lines)} lines: " + ", ".join(parts)


def _text(result: BlameResult, *, summary_to_stderr: bool = True) -> None:
    width = max((len(_who(line)) for line in result.lines), default=5)
    digits = len(str(result.lines[-1].line)) if result.lines else 1
    for line in result.lines:
        commit = line.commit[:8] if line.commit else "00000000"
        who = click.style(f"{_who(line):<{width}}", fg=_COLOURS.get(line.type))
        text = line.text.decode("utf-8", "replace")
        click.echo(f"{commit} ({who} {line.line:>{digits}}) {text}")
    click.echo(_summary_text(result), err=summary_to_stderr)


def _porcelain(result: BlameResult) -> None:
    out = []
    for line in result.lines:
        out.append(f"{line.commit or '0' * 40} {line.orig_line} {line.line}")
        out.append(f"contributor {line.type}")
        for key, value in (
            ("model-id", line.model_id),
            ("trace-id", line.trace_id),
            ("conversation-url", line.conversation_url),
            ("confidence", line.confidence),
        ):
            if value is not None:
                out.append(f"{key} {value}")
        out.append(f"evidence {line.evidence}")
        out.append(f"filename {line.orig_path}")
        out.append("\t" + line.text.decode("utf-8", "replace"))
    sys.stdout.write("".join(f"{x}\n" for x in out))


@click.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.option("--rev", help="Blame the file as of this commit (default: the work tree).")
@click.option("-L", "lines", metavar="START,END", help="Only these lines (1-based, inclusive).")
@click.option(
    "--explain",
    metavar="LINE|FILE:LINE",
    help="Say why one line got its label: commit, record, run/turn/item, evidence.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(BlameFormat, case_sensitive=False),
    default=BlameFormat.TEXT,
    show_default=True,
    help="text for people (summary on stderr), json, or porcelain for scripts.",
)
@REPO_OPTION
def blame(
    path: Path | None,
    rev: str | None,
    lines: str | None,
    explain: str | None,
    fmt: BlameFormat,
    repo: Path,
) -> None:
    """Who wrote each line of PATH: which model, which conversation, or a human.

    Follows the Agent Trace lookup: git blame gives each line's commit and its line
    number in that commit; that commit's records say who wrote it. Lines whose commit
    has no record are looked for by content in other records (evidence `content`, e.g.
    after a squash-merge made by a hosting service); otherwise they are `unknown`.
    Uncommitted lines (no --rev) are attributed from the recorder's pending state.
    """
    from agent_trace import _started

    path, explain_line = _explain_target(path, explain)
    line_range = (explain_line, explain_line) if explain_line else _line_range(lines)
    if rev is None and line_range is None:
        # git blame starts now, on the other core, while the rest loads (the blame
        # claims it when it is the blame it needs, and stops it otherwise).
        _started.start_early(repo, os.fspath(path))
    try:
        _blame(path, rev, line_range, explain_line, fmt, repo)
    finally:
        _started.discard()


def _blame(
    path: Path,
    rev: str | None,
    line_range: tuple[int, int] | None,
    explain_line: int | None,
    fmt: BlameFormat,
    repo: Path,
) -> None:
    from agent_trace._blame import blame_file, check_not_nested, repo_relative

    with repo_errors():
        store = open_store(repo)
        try:
            relative = repo_relative(store, path, cwd=repo.absolute())
            check_not_nested(store, relative)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        sha = store.resolve(rev) if rev is not None else None
        try:
            result = blame_file(store, relative, revision=sha, line_range=line_range)
        except (FileNotFoundError, ValueError) as exc:
            raise UserError(str(exc)) from None
        if explain_line is not None:
            if not result.lines:
                raise UserError(f"{relative} has no line {explain_line}")
            _explain(store, relative, result.lines[0], fmt)
            return
    for issue in store.issues:
        click.echo(str(issue), err=True)
    if fmt is BlameFormat.JSON:
        _json(result.to_dict())
    elif fmt is BlameFormat.PORCELAIN:
        _porcelain(result)
    else:
        _text(result)


def _json(data: object) -> None:
    import orjson  # 40x faster than json.dumps(indent=2) on a 5,000-line blame

    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    sys.stdout.buffer.write(b"\n")
    sys.stdout.buffer.flush()


def _explain_target(path: Path | None, explain: str | None) -> tuple[Path, int | None]:
    """PATH and the line of ``--explain LINE`` or ``--explain FILE:LINE``."""
    if explain is None:
        if path is None:
            raise click.UsageError("missing PATH (or --explain FILE:LINE)")
        return path, None
    name, sep, number = explain.rpartition(":")
    if not sep:
        number = explain
    if not number.isdigit() or int(number) < 1:
        raise click.BadParameter(f"{explain!r} is not LINE or FILE:LINE", param_hint="--explain")
    if sep:
        if path is not None and Path(name) != path:
            raise click.UsageError(f"--explain {explain} names another file than {path}")
        return Path(name), int(number)
    if path is None:
        raise click.UsageError("--explain LINE needs PATH (or use --explain FILE:LINE)")
    return path, int(number)


def _explain(store: TraceStore, path: str, line: BlameLine, fmt: BlameFormat) -> None:
    from agent_trace._blame import explain_line

    data = explain_line(line)
    if line.commit is not None:
        proc = store.repository.git.run(
            "log", "-1", "--format=%s", line.commit, "--", ok_codes=(0, 128)
        )
        data["commit_subject"] = proc.stdout.decode("utf-8", "replace").strip()
    if fmt is BlameFormat.JSON:
        _json(data)
        return
    who = _who(line) if line.type == "ai" else line.type
    if line.type == "mixed" and line.model_id:
        who = f"mixed ({line.model_id})"
    confidence = f", confidence {line.confidence:g}" if line.confidence is not None else ""
    out = [f"{path}:{line.line}: " + click.style(who, fg=_COLOURS.get(line.type)) + confidence]
    out.append(f"  text      {data['text']}")
    if line.commit is None:
        out.append("  commit    (not committed)")
    else:
        out.append(
            f"  commit    {line.commit[:12]} {data.get('commit_subject', '')!r}"
            f" (line {line.orig_line} of {line.orig_path} there)"
        )
    record = data.get("record")
    if record:
        how = [f"linked by {record['linked_by']}"] if "linked_by" in record else []
        if "rewritten_from" in record:
            olds = ", ".join(c[:12] for c in record["rewritten_from"])
            how.append(f"rewritten from {olds} by {record.get('rewrite', 'a rewrite')}")
        suffix = f" ({'; '.join(how)})" if how else ""
        out.append(f"  record    {record['trace_id']} of {record['revision'][:12]}{suffix}")
        start, end = record["range"]
        digest = record["content_hash"] or ""
        out.append(f"  range     lines {start}-{end} of {record['path']} {digest}".rstrip())
        if line.conversation_url:
            out.append(f"  chat      {line.conversation_url}")
        run = [f"run {record['run_id']}"] if "run_id" in record else []
        if "turn_ids" in record:
            run.append("turns " + ", ".join(record["turn_ids"]))
        if "item_ids" in record:
            run.append("items " + ", ".join(record["item_ids"]))
        if run:
            out.append("  from      " + "; ".join(run))
    found = data.get("found_at")
    if found:
        out.append(
            f"  found at  line {found['line']} of {found['path']} in "
            f"{(found['revision'] or '?')[:12]} ({found['matched_lines']} lines matched in order)"
        )
    out.append(f"  evidence  {line.evidence}: {data['evidence_means']}")
    click.echo("\n".join(out))


@click.command()
@click.argument("revisions", nargs=-1)
@click.option("--force", is_flag=True, help="Link again commits that are linked already.")
@REPO_OPTION
def link(revisions: tuple[str, ...], force: bool, repo: Path) -> None:
    """Write the Agent Trace records of commits (default HEAD) from pending attribution.

    REVISIONS are commits or ranges (`main..feature`). Linking is idempotent: commits
    already linked are skipped unless --force.
    """
    from agent_trace._link import link_commit
    from agent_trace._rewrite import relink_saved

    with repo_errors():
        store = open_store(repo)
        relinked = relink_saved(store)  # a post-rewrite hook stopped by its time bound
        if relinked:
            click.echo(f"relinked {len(relinked)} rewritten commit(s) a stopped hook left")
        git = store.repository.git
        commits: list[str] = []
        for spec in revisions or ("HEAD",):
            if ".." in spec:
                if spec.startswith("-"):
                    raise UserError(f"{spec!r}: revisions may not start with '-'")
                out = git.run("rev-list", "--reverse", spec, "--", ok_codes=(0, 128))
                if out.returncode != 0:
                    raise UserError(f"{spec!r} is not a valid range")
                commits += out.stdout.decode().split()
            else:
                commits.append(store.resolve(spec))
        for commit in dict.fromkeys(commits):
            result = link_commit(store, commit, linked_by="manual", force=force)
            if result.already_linked:
                click.echo(f"{commit[:12]} already linked")
                continue
            skipped = "".join(f"; {p} skipped ({why})" for p, why in result.skipped)
            more = "".join(
                f", {count} {kind} line(s)"
                for kind, count in (
                    ("mixed", result.mixed_lines),
                    ("unknown", result.unknown_lines),
                )
                if count
            )
            click.echo(
                f"{commit[:12]} linked: {result.ai_lines} AI line(s), "
                f"{result.human_lines} human line(s){more}{skipped}"
            )


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@REPO_OPTION
def runs(fmt: str, repo: Path) -> None:
    """List the runs recorded in this repository, oldest first."""
    with repo_errors():
        store = open_store(repo)
        rows = []
        for run in store.runs():
            try:
                manifest = run.read_manifest()
            except (OSError, ValueError) as exc:
                click.echo(f"warning: {exc}", err=True)
                continue
            events = 0
            try:
                with run.events_path.open("rb") as f:
                    events = sum(1 for _ in f)
            except FileNotFoundError:
                pass
            rows.append((manifest, events))
    if fmt == "json":
        from agent_trace.events._wire import converter

        data = [
            dict(converter.unstructure(m), status=m.current_status(), event_lines=n)
            for m, n in rows
        ]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no runs recorded", err=True)
        return
    for manifest, events in rows:
        current = manifest.current_status()
        status = click.style(
            f"{current:<11}",
            fg={"completed": "green", "failed": "red", "running": "yellow"}.get(current),
        )
        tool = " ".join(x for x in (manifest.tool_name, manifest.tool_version) if x) or "-"
        click.echo(
            f"{manifest.run_id}  {manifest.created_at}  {status} {tool:<20} "
            f"{manifest.model_id or '-':<32} {events} events"
        )


@click.group()
def hooks() -> None:
    """Install, remove or inspect this repository's agent-trace git hooks."""


def _print_states(states: list[HookState]) -> None:
    for state in states:
        chained = " (calls the hook that was there before)" if state.chained else ""
        click.echo(f"{state.name}: {state.state}{chained}  {state.path}")


@hooks.command("install")
@click.option(
    "--shared",
    is_flag=True,
    help="Install even when core.hooksPath comes from the global or system git "
    "configuration (the hooks then run in every repository using that directory).",
)
@REPO_OPTION
def hooks_install(shared: bool, repo: Path) -> None:
    """Add post-commit, post-merge and post-rewrite hooks that link each commit (this
    repository only). A hook that is already there is kept and still runs."""
    from agent_trace._hooks import SharedHooksPath, install_hooks

    with repo_errors():
        store = open_store(repo)
        try:
            states = install_hooks(store.repository, allow_shared=shared)
        except FileExistsError as exc:
            raise EnvironmentProblem(str(exc)) from None
        except SharedHooksPath as exc:
            raise UserError(str(exc)) from None
    _print_states(states)


@hooks.command("uninstall")
@REPO_OPTION
def hooks_uninstall(repo: Path) -> None:
    """Remove agent-trace's hooks and restore the hooks they replaced."""
    from agent_trace._hooks import uninstall_hooks

    with repo_errors():
        store = open_store(repo)
        states = uninstall_hooks(store.repository)
    _print_states(states)


@hooks.command("status")
@REPO_OPTION
def hooks_status(repo: Path) -> None:
    """Show whether agent-trace's hooks are installed."""
    from agent_trace._hooks import hook_states

    with repo_errors():
        store = open_store(repo)
        states = hook_states(store.repository)
    _print_states(states)


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("name", metavar="NAME")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def hook(name: str, args: tuple[str, ...]) -> None:
    """Run by hooks: `trace hook claude` takes a Claude Code hook payload on stdin
    (`trace hook claude --print-settings` prints the .claude/settings.json fragment);
    post-commit, post-merge and post-rewrite are run by the git hooks `trace hooks
    install` adds. Never fails the agent or the git operation: problems are printed on
    one line and logged in .agent-trace/hooks.log."""
    if name == "claude":
        from ._agents import claude_hook

        claude_hook(args)
        return
    from agent_trace import _started

    rewritten = None
    if name == "post-rewrite":
        try:
            rewritten = sys.stdin.read()
        except (OSError, UnicodeDecodeError):
            pass  # read again below, where a failure is reported and logged
        else:
            with contextlib.suppress(Exception):  # only a head start: the hook runs anyway
                _started.start_rewrite(".", rewritten)  # git works while the rest loads
    from agent_trace._link import link_commit
    from agent_trace._rewrite import (
        link_deferred,
        parse_rewrite_input,
        relink_saved,
        save_rewrites,
    )
    from agent_trace.events import utc_timestamp

    store = None
    disarm = _time_bound(name)
    try:
        store = open_store(Path("."))
        if name == "post-commit":
            relink_saved(store)  # left over from a post-rewrite hook that was stopped
            link_deferred(store)  # left over from an interrupted rebase
            head = store.repository.read_head()
            if head is not None:
                link_commit(store, head, linked_by="hook")
        elif name == "post-merge":
            head = store.repository.read_head()
            if head is not None and _made_merge_commit(store, head):
                link_commit(store, head, linked_by="hook")
        elif name == "post-rewrite":
            pairs = parse_rewrite_input(sys.stdin.read() if rewritten is None else rewritten)
            save_rewrites(store, pairs, args[0] if args else None)
            relink_saved(store)
    except Exception as exc:  # noqa: BLE001 - a hook must never break git
        message = f"agent-trace: {name} hook failed: {type(exc).__name__}: {exc}"
        click.echo(message, err=True)
        if store is not None:
            try:
                log = store.ensure_directory() / "hooks.log"
                with log.open("a", encoding="utf-8") as f:
                    f.write(f"{utc_timestamp()} {message}\n")
            except OSError:
                pass
    finally:
        disarm()
        _started.discard()  # what was started early and not used


HOOK_TIMEOUT_ENV = "AGENT_TRACE_HOOK_TIMEOUT"
HOOK_TIMEOUT_SECONDS = 10


class HookTimeout(Exception):
    """A git hook ran out of its time (``AGENT_TRACE_HOOK_TIMEOUT`` seconds, default 10)."""


def _time_bound(name: str) -> Callable[[], None]:
    """Arm the hook's time bound; returns what disarms it (and puts back the previous
    handler). Past the bound the hook stops with :class:`HookTimeout`, printed and
    logged like any failure, and git goes on. ``AGENT_TRACE_HOOK_TIMEOUT=0`` turns it
    off. Unix only (``SIGALRM``)."""
    import signal

    raw = os.environ.get(HOOK_TIMEOUT_ENV, "")
    try:
        seconds = int(raw) if raw.strip() else HOOK_TIMEOUT_SECONDS
    except ValueError:
        seconds = HOOK_TIMEOUT_SECONDS
    if seconds <= 0 or not hasattr(signal, "SIGALRM"):
        return lambda: None
    what = "this commit" if name == "post-commit" else "these commits"

    def expired(signum: int, frame: object) -> None:
        raise HookTimeout(
            f"stopped after {seconds} s ({HOOK_TIMEOUT_ENV}); run `trace link` to link {what} later"
        )

    try:
        previous = signal.signal(signal.SIGALRM, expired)
    except ValueError:  # not the main thread (trace called from a library): no bound
        return lambda: None
    signal.alarm(seconds)

    def disarm() -> None:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)

    return disarm


def _made_merge_commit(store: TraceStore, head: str) -> bool:
    """Whether ``git merge`` just made ``head`` (a merge commit), rather than moving to
    an existing commit (a fast-forward): only then are its resolutions ours to label."""
    git = store.repository.git
    proc = git.run("reflog", "show", "-n", "1", "--format=%H %gs", "HEAD", "--", ok_codes=(0, 128))
    sha, _, subject = proc.stdout.decode("utf-8", "replace").strip().partition(" ")
    return sha == head and subject.startswith(("merge", "pull")) and "Merge made by" in subject
