"""``trace demo``: build a repository, run a scripted agent through the real recorder,
commit as agent and as human, and show ``trace blame`` of the result.

The model is fake (its edits are scripted); everything else is real: files, git, the
post-commit hook, the recorder, the pending state, the Agent Trace records.
"""

from __future__ import annotations

import shlex
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._app import EnvironmentProblem, UserError

if TYPE_CHECKING:
    from agent_trace import Recorder
    from agent_trace._git import Git

__all__ = ["demo", "build_demo"]

CART = "shop/cart.py"
TESTS = "tests/test_cart.py"

_CART_V1 = '''\
"""A tiny shopping cart."""


class Cart:
    def __init__(self):
        self.items = []

    def add(self, name, price, quantity=1):
        self.items.append((name, price, quantity))

    def total(self):
        return sum(price * quantity for _, price, quantity in self.items)
'''

_TAX = '''
    def total_with_tax(self, rate=0.2):
        """The total with sales tax at ``rate``."""
        return round(self.total() * (1 + rate), 2)
'''

_TESTS = """\
from shop.cart import Cart


def test_total_with_tax():
    cart = Cart()
    cart.add("tea", 4.0, quantity=2)
    assert cart.total_with_tax(rate=0.25) == 10.0
"""

_DISCOUNT = '''
    def apply_discount(self, percent):
        """Reduce every price by ``percent`` (0-100)."""
        if not 0 <= percent <= 100:
            raise ValueError("percent must be between 0 and 100")
        factor = 1 - percent / 100
        self.items = [(n, round(p * factor, 2), q) for n, p, q in self.items]
'''

CLAUDE = "anthropic/claude-sonnet-4-5"
GPT = "openai/gpt-5"


def _write(root: Path, path: str, text: str) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def _commit(git: Git, message: str, *, agent: bool = False) -> str:
    identity = ["-c", "user.name=Demo Agent", "-c", "user.email=agent@example.com"] if agent else []
    git.run("add", "-A")
    git.run(*identity, "commit", "-q", "--no-gpg-sign", "-m", message)
    return git.output("rev-parse", "HEAD")


def _agent_message(rec: Recorder, item_id: str, text: str) -> None:
    from agent_trace.events import AgentMessageItem, ItemCompletedEvent, ReasoningItem

    rec.emit(ItemCompletedEvent(item=ReasoningItem(id=f"{item_id}-r", text=f"Plan: {text}")))
    rec.emit(ItemCompletedEvent(item=AgentMessageItem(id=item_id, text=text)))


def _command(rec: Recorder, item_id: str, command: str, output: str, exit_code: int) -> None:
    from agent_trace.events import CommandExecutionItem, ItemCompletedEvent, ItemStartedEvent

    started = CommandExecutionItem(id=item_id, command=command, status="in_progress")
    rec.emit(ItemStartedEvent(item=started))
    rec.emit(
        ItemCompletedEvent(
            item=CommandExecutionItem(
                id=item_id,
                command=command,
                aggregated_output=output,
                exit_code=exit_code,
                status="completed" if exit_code == 0 else "failed",
            )
        )
    )


def build_demo(root: Path, say: Callable[[str], None]) -> dict[str, str]:
    """Build the demo repository in ``root`` (empty or new). Returns the run ids and
    commits by name."""
    from agent_trace import Recorder, TraceStore
    from agent_trace._git import Git
    from agent_trace._hooks import install_hooks
    from agent_trace.events import Usage

    root.mkdir(parents=True, exist_ok=True)
    git = Git(root)
    git.run("init", "-q", "-b", "main")
    git.run("config", "user.name", "Demo Human")
    git.run("config", "user.email", "human@example.com")
    out: dict[str, str] = {}

    _write(root, CART, _CART_V1)
    _write(root, "README.md", "# Demo shop\n")
    out["human-1"] = _commit(git, "Start the cart")
    say(f"human   commit {out['human-1'][:8]}  Start the cart (before agent-trace: unknown)")

    install_hooks(TraceStore.open(root).repository)
    say("        trace hooks install: every later commit is linked by the post-commit hook")

    with Recorder(root, tool_name="demo-agent", tool_version="1.0", model_id=CLAUDE) as rec:
        out["run-1"] = rec.run_id
        with rec.turn() as turn:
            _agent_message(rec, "msg-1", "add total_with_tax() and a test for it")
            with rec.edit(CART, TESTS):
                _write(root, CART, _CART_V1 + _TAX)
                _write(root, TESTS, _TESTS)
            _command(rec, "cmd-1", "pytest -q", "1 passed in 0.01s\n", 0)
            turn.usage = Usage(input_tokens=1840, cached_input_tokens=512, output_tokens=236)
        with rec.turn() as turn:
            _agent_message(rec, "msg-2", "commit the change")
            out["agent-1"] = _commit(git, "Add total_with_tax", agent=True)
            _command(rec, "cmd-2", "git commit -m 'Add total_with_tax'", "", 0)
            turn.usage = Usage(input_tokens=2210, cached_input_tokens=1800, output_tokens=41)
    say(
        f"agent   run {out['run-1'][:8]} ({CLAUDE}): wrote total_with_tax() and a test, "
        f"committed {out['agent-1'][:8]}"
    )

    text = (root / CART).read_text(encoding="utf-8").replace("rate=0.2", "rate=0.08")
    text += "\n    def __len__(self):\n        return len(self.items)\n"
    _write(root, CART, text)
    out["human-2"] = _commit(git, "Lower the tax rate; add __len__")
    say(f"human   commit {out['human-2'][:8]}  changed an agent line (rate) and added __len__")

    with Recorder(root, tool_name="demo-agent", tool_version="1.0", model_id=GPT) as rec:
        out["run-2"] = rec.run_id
        with rec.turn():
            _agent_message(rec, "msg-1", "add apply_discount()")
            with rec.edit(CART):
                current = (root / CART).read_text(encoding="utf-8")
                _write(root, CART, current + _DISCOUNT)
    out["human-3"] = _commit(git, "Add apply_discount (written by the agent)")
    say(
        f"agent   run {out['run-2'][:8]} ({GPT}): wrote apply_discount(); "
        f"a human committed it as {out['human-3'][:8]}"
    )
    with (root / CART).open("a", encoding="utf-8") as f:
        f.write("\n\n# TODO: currency support\n")
    say("human   left an uncommitted TODO comment at the end of the file")
    return out


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--dir",
    "dir_option",
    type=click.Path(file_okay=False, path_type=Path),
    help="Same as DIRECTORY.",
)
def demo(directory: Path | None, dir_option: Path | None) -> None:
    """Build a demo repository, record two agent runs in it, and show `trace blame`.

    DIRECTORY must be new or empty (default: a new temporary directory). The agent is
    scripted; the recorder, git, the commits and the hook are real. Explore the result
    with the commands printed at the end.
    """
    from agent_trace import TraceStore, blame_file

    from ._blame import _text

    target = directory or dir_option
    try:
        if target is None:
            target = Path(tempfile.mkdtemp(prefix="agent-trace-demo-"))
        elif target.exists() and any(target.iterdir()):
            raise UserError(f"{target} is not empty; give a new or empty directory")
        click.secho(f"Building a demo repository in {target}\n", bold=True)
        ids = build_demo(target, lambda text: click.echo(f"  {text}"))
    except OSError as exc:
        raise EnvironmentProblem(f"cannot build the demo repository: {exc}") from None
    except Exception as exc:  # git missing or failing
        from agent_trace._git import GitError

        if isinstance(exc, GitError):
            raise EnvironmentProblem(str(exc)) from None
        raise

    store = TraceStore.open(target)
    click.echo(f"\n$ trace blame {CART}")
    _text(blame_file(store, CART), summary_to_stderr=False)
    click.echo(f"\n$ trace blame {TESTS}")
    _text(blame_file(store, TESTS), summary_to_stderr=False)
    quoted = shlex.quote(str(target))
    events = f".agent-trace/runs/{ids['run-1']}/events.jsonl"
    click.echo("\nTry next:")
    for command in (
        f"cd {quoted}",
        f"trace blame {CART} --format json",
        "trace log",
        "trace show HEAD~1",
        "trace runs",
        f"trace events show {events}",
        "trace validate .agent-trace/traces.jsonl",
    ):
        click.echo(f"  {command}")
