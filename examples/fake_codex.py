"""A stand-in for ``codex exec --json``: edits files in the current directory and prints
Codex-style JSON Lines events, as the real agent does, for trying ``trace record``.

    trace record -- python examples/fake_codex.py --model gpt-5-codex

It writes ``calc.py`` (a new file, reported as a ``file_change``), then appends a function
with a "shell command" (a ``command_execution`` that changes a file without reporting it),
then edits one line of ``calc.py`` (``file_change`` update), and exits with ``--exit``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any


def emit(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()
    time.sleep(0.05)  # a real agent thinks between steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", "-m", default="gpt-5-codex")
    parser.add_argument("--exit", type=int, default=0, help="exit code to end with")
    args = parser.parse_args()
    root = Path.cwd()
    calc = root / "calc.py"
    helpers = root / "helpers.py"

    print("fake codex: starting", file=sys.stderr)
    emit({"type": "thread.started", "thread_id": str(uuid.uuid4())})
    emit({"type": "turn.started"})
    emit({"type": "item.completed", "item": {"id": "item_0", "type": "reasoning",
                                             "text": "**Planning a calculator**"}})  # fmt: skip

    calc.write_text("def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n")
    emit({"type": "item.completed", "item": {"id": "item_1", "type": "file_change",
          "changes": [{"path": str(calc), "kind": "add"}], "status": "completed"}})  # fmt: skip

    command = "printf 'def double(x):\\n    return 2 * x\\n' >> helpers.py"
    emit({"type": "item.started", "item": {"id": "item_2", "type": "command_execution",
          "command": f"bash -lc \"{command}\"", "aggregated_output": "",
          "status": "in_progress"}})  # fmt: skip
    with helpers.open("a") as f:
        f.write("def double(x):\n    return 2 * x\n")
    emit({"type": "item.completed", "item": {"id": "item_2", "type": "command_execution",
          "command": f"bash -lc \"{command}\"", "aggregated_output": "", "exit_code": 0,
          "status": "completed"}})  # fmt: skip

    text = calc.read_text().replace("return a - b", "return a - b  # subtraction")
    calc.write_text(text)
    emit({"type": "item.completed", "item": {"id": "item_3", "type": "file_change",
          "changes": [{"path": "calc.py", "kind": "update"}], "status": "completed"}})  # fmt: skip

    emit({"type": "item.completed", "item": {"id": "item_4", "type": "agent_message",
          "text": f"Wrote calc.py and helpers.py with {args.model}."}})  # fmt: skip
    emit({"type": "turn.completed", "usage": {"input_tokens": 1200, "cached_input_tokens": 200,
                                              "output_tokens": 90}})  # fmt: skip
    print("fake codex: done", file=sys.stderr)
    return args.exit


if __name__ == "__main__":
    sys.exit(main())
