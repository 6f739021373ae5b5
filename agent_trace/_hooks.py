"""Git hooks for this repository only: ``post-commit`` links each new commit,
``post-merge`` each merge commit ``git merge`` makes, and ``post-rewrite`` recomputes
the records of commits made by ``commit --amend`` and ``rebase`` from the commits they
replace.

A hook that was there before is kept: it is renamed to ``<hook>.agent-trace-saved``, our
script calls it after its own work (passing arguments and standard input through), and
``uninstall`` puts it back. The hooks directory is the one git uses
(``core.hooksPath`` honoured). The user's global configuration is never touched, and a
hooks directory that the global or system configuration names (shared by every
repository) is refused unless asked for.

A hook whose Python cannot run our code (the interpreter or the package is gone) says
so on one line and logs it in ``.agent-trace/hooks.log``, for ``trace doctor``; git goes
on.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from pathlib import Path

import attrs

from ._git import Repository

__all__ = [
    "HOOKS",
    "HookState",
    "SharedHooksPath",
    "hook_states",
    "hooks_directory",
    "install_hooks",
    "shared_hooks_path",
    "uninstall_hooks",
]

HOOKS = ("post-commit", "post-merge", "post-rewrite")
MARK = "# agent-trace hook"
DEFERRED = "agent-trace-deferred"
"""In the git dir: commits made during a rebase, for its post-rewrite hook to link."""
REWRITES = "agent-trace-rewrites"
"""In the git dir: ``<old> <new> <kind>`` pairs of the post-rewrite hook, until their
commits are relinked (kept when the hook is stopped)."""
SAVED_SUFFIX = ".agent-trace-saved"


@attrs.frozen
class HookState:
    name: str
    path: Path
    state: str
    """``installed`` (ours), ``absent``, or ``foreign`` (someone else's hook, not ours)."""
    chained: bool = False
    """Ours, and a hook that was there before is kept and called after ours."""


def hooks_directory(repository: Repository) -> Path:
    """Where git looks for hooks in this repository (``core.hooksPath`` honoured)."""
    return repository.git_path("hooks")


class SharedHooksPath(Exception):
    """``core.hooksPath`` comes from the global or system configuration: hooks installed
    there would run in every repository of the user (or machine)."""


def _script(hook: str) -> str:
    python = shlex.quote(sys.executable)
    head = f"""#!/bin/sh
{MARK} ({hook}): links new commits to their AI attribution.
# Installed by `trace hooks install`; `trace hooks uninstall` removes it (and restores
# the hook that was here before, which is called below).
saved="$0{SAVED_SUFFIX}"
failed() {{
    echo "agent-trace: {hook} hook could not run (exit $1; {python}); run 'trace doctor'" >&2
    if [ -d .agent-trace ]; then
        echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) agent-trace: {hook} hook could not run:" \
            "exit $1 from {python} -m agent_trace.cli" >> .agent-trace/hooks.log 2>/dev/null
    fi
    return 0
}}
"""
    if hook == "post-rewrite":  # git writes "<old> <new>" lines on standard input
        return (
            head
            + f"""input=$(cat)
printf '%s\\n' "$input" | {python} -m agent_trace.cli hook {hook} "$@" || failed $?
if [ -x "$saved" ]; then
    printf '%s\\n' "$input" | exec "$saved" "$@"
fi
exit 0
"""
        )
    if hook == "post-commit":
        # During a rebase, post-rewrite recomputes every commit the rebase makes, at the
        # end and in one process: here only note the commit (a shell line, no Python).
        run = f"""gitdir=$(git rev-parse --git-dir 2>/dev/null)
if [ -n "$gitdir" ] && {{ [ -d "$gitdir/rebase-merge" ] || [ -d "$gitdir/rebase-apply" ]; }}; then
    git rev-parse HEAD >> "$gitdir/{DEFERRED}" 2>/dev/null || true
else
    {python} -m agent_trace.cli hook {hook} "$@" </dev/null || failed $?
fi
"""
    else:
        run = f"""{python} -m agent_trace.cli hook {hook} "$@" </dev/null || failed $?
"""
    return (
        head
        + run
        + """if [ -x "$saved" ]; then
    exec "$saved" "$@"
fi
exit 0
"""
    )


def _is_ours(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return MARK.encode() in head


def hook_states(repository: Repository) -> list[HookState]:
    directory = hooks_directory(repository)
    out = []
    for hook in HOOKS:
        path = directory / hook
        if not path.exists():
            out.append(HookState(hook, path, "absent"))
        elif _is_ours(path):
            saved = path.with_name(hook + SAVED_SUFFIX)
            out.append(HookState(hook, path, "installed", chained=saved.exists()))
        else:
            out.append(HookState(hook, path, "foreign"))
    return out


def shared_hooks_path(repository: Repository) -> str | None:
    """Why the hooks directory is shared with other repositories (``core.hooksPath`` set
    in the global or system configuration), or ``None``."""
    found = repository.git.config_scope("core.hooksPath")
    if found is None or found[0] in ("local", "worktree", "command"):
        return None
    scope, origin, value = found
    return f"core.hooksPath is set to {value} in your {scope} git configuration ({origin})"


def install_hooks(repository: Repository, *, allow_shared: bool = False) -> list[HookState]:
    """Install our hooks (idempotent). An existing hook is kept and chained. Raises
    :class:`SharedHooksPath` when the hooks directory is every repository's (a global
    ``core.hooksPath``), unless ``allow_shared``."""
    shared = None if allow_shared else shared_hooks_path(repository)
    if shared is not None:
        raise SharedHooksPath(
            f"{shared}: hooks installed there would run in every repository. Install them "
            "there anyway with `trace hooks install --shared`, or give this repository its "
            "own hooks directory first (`git config core.hooksPath .git/hooks`; your global "
            "hooks then no longer run here)"
        )
    directory = hooks_directory(repository)
    directory.mkdir(parents=True, exist_ok=True)
    for hook in HOOKS:
        path = directory / hook
        saved = path.with_name(hook + SAVED_SUFFIX)
        if path.exists() and not _is_ours(path):
            if saved.exists():
                raise FileExistsError(
                    f"{saved} exists already; move it away before installing the hooks"
                )
            os.replace(path, saved)
        tmp = path.with_name(f".{hook}.agent-trace.{os.getpid()}.tmp")
        tmp.write_text(_script(hook), encoding="utf-8")
        tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        os.replace(tmp, path)
    return hook_states(repository)


def uninstall_hooks(repository: Repository) -> list[HookState]:
    """Remove our hooks and put back the hooks they replaced. Others' hooks are left."""
    directory = hooks_directory(repository)
    for hook in HOOKS:
        path = directory / hook
        saved = path.with_name(hook + SAVED_SUFFIX)
        if path.exists() and _is_ours(path):
            path.unlink()
            if saved.exists():
                os.replace(saved, path)
    return hook_states(repository)
