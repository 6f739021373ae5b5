"""A minimal agent loop under the recorder: a fake model proposes file edits, the loop
applies them inside ``rec.edit``, commits, and asks ``blame_file`` who wrote what.

    python examples/agent_loop.py [REPOSITORY]

Without an argument a new repository is created in a temporary directory.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from agent_trace import Recorder, TraceStore, blame_file
from agent_trace.events import AgentMessageItem, ItemCompletedEvent, Usage


def fake_model(step: int) -> tuple[str, str, str] | None:
    """The "model": (message, path, new content) per step, then None (done)."""
    steps = [
        ("Create a greeting module.", "hello.py", 'def greet(name):\n    return f"Hi {name}"\n'),
        (
            "Add a main block.",
            "hello.py",
            'def greet(name):\n    return f"Hi {name}"\n\n\nif __name__ == "__main__":\n'
            '    print(greet("world"))\n',
        ),
    ]
    return steps[step] if step < len(steps) else None


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def main(root: Path) -> None:
    if not (root / ".git").exists():
        git(root, "init", "-q")
        git(root, "config", "user.name", "Example Human")
        git(root, "config", "user.email", "human@example.com")
    with Recorder(root, tool_name="example-agent", model_id="claude-sonnet-4-5") as rec:
        step = 0
        while (proposal := fake_model(step)) is not None:
            message, path, content = proposal
            with rec.turn() as turn:
                rec.emit(ItemCompletedEvent(item=AgentMessageItem(id=f"msg-{step}", text=message)))
                with rec.edit(path):
                    (root / path).write_text(content, encoding="utf-8")
                turn.usage = Usage(input_tokens=100, cached_input_tokens=0, output_tokens=20)
            step += 1
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "Agent: greeting module")
    result = blame_file(TraceStore.open(root), "hello.py")
    for line in result.lines:
        who = line.model_id if line.type == "ai" else line.type
        print(f"{line.line:>3} {who:<28} {line.text.decode()}")
    print("summary:", result.summary)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="agent-loop-")))
