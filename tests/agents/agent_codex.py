"""A fake ``codex exec --json``: does the work of ``_fake`` in its cwd and prints Codex's
JSONL events (``codex-rs/exec/src/exec_events.rs``): ``item_N`` ids, ``file_change`` items
started and completed around the patch, absolute paths, cumulative usage.

    python agent_codex.py -m gpt-5-codex [--exit N] [--outside DIR] [--noise] [--tee FILE]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import _fake

THREAD_ID = "0199a213-81c0-7800-8aa1-bbab2a035a53"


def file_change(item_id: str, path: Path, kind: str, status: str) -> dict[str, Any]:
    changes = [{"path": str(path), "kind": kind}]
    return {"id": item_id, "type": "file_change", "changes": changes, "status": status}


def main() -> int:
    parser = _fake.options("a fake codex exec --json")
    parser.add_argument("-m", "--model", default="gpt-5-codex")
    opts = parser.parse_args()
    root = Path.cwd()
    out = _fake.Out(opts.tee)
    print("codex: session starting", file=sys.stderr, flush=True)
    out.noise(opts.noise, b"Reading prompt from stdin...\n")
    out.emit({"type": "thread.started", "thread_id": THREAD_ID})
    out.emit({"type": "turn.started"})
    out.emit({"type": "item.completed", "item": {"id": "item_0", "type": "reasoning",
              "text": "**Planning the change**"}})  # fmt: skip

    out.emit({"type": "item.started", "item": file_change("item_1", root / "app.py", "update",
                                                          "in_progress")})  # fmt: skip
    _fake.edit_app(root)
    out.emit({"type": "item.completed", "item": file_change("item_1", root / "app.py",
                                                            "update", "completed")})  # fmt: skip
    out.noise(opts.noise, b"\xff\xfe not UTF-8 progress\r\n")

    out.emit({"type": "item.started", "item": file_change("item_2", root / "new.py", "add",
                                                          "in_progress")})  # fmt: skip
    _fake.create_new(root)
    out.emit({"type": "item.completed", "item": file_change("item_2", root / "new.py", "add",
                                                            "completed")})  # fmt: skip

    command = "bash -lc \"echo 'agent note' >> notes.txt\""
    out.emit({"type": "item.started", "item": {"id": "item_3", "type": "command_execution",
              "command": command, "aggregated_output": "", "exit_code": None,
              "status": "in_progress"}})  # fmt: skip
    _fake.append_note(root)
    out.emit({"type": "item.completed", "item": {"id": "item_3", "type": "command_execution",
              "command": command, "aggregated_output": "", "exit_code": 0,
              "status": "completed"}})  # fmt: skip

    if opts.outside:
        path = _fake.write_outside(opts.outside)
        out.emit({"type": "item.started", "item": file_change("item_4", path, "add",
                                                              "in_progress")})  # fmt: skip
        out.emit({"type": "item.completed", "item": file_change("item_4", path, "add",
                                                                "completed")})  # fmt: skip

    out.emit({"type": "item.completed", "item": {"id": "item_5", "type": "agent_message",
              "text": f"Done with {opts.model}."}})  # fmt: skip
    _fake.write_late(root)
    out.emit({"type": "turn.completed", "usage": {"input_tokens": 24763,
              "cached_input_tokens": 24448, "output_tokens": 122}})  # fmt: skip
    out.noise(opts.noise, b"no newline at the end")
    print("codex: done", file=sys.stderr, flush=True)
    out.close()
    return int(opts.exit)


if __name__ == "__main__":
    sys.exit(main())
