"""A fake meerkat agent: does the work of ``_fake`` in its cwd and prints its ``AgentEvent``
stream, each event in an ``EventEnvelope`` (``event_id``, typed ``source``, ``source_id``,
``seq``, ``timestamp_ms``, ``payload``), as ``meerkat_core/event.rs`` serialises them:
``run_started``, ``turn_started``, ``tool_call_requested`` / ``tool_execution_started`` /
``tool_execution_completed`` / ``tool_result_received`` per tool (``edit_file``,
``write_file``, ``shell``), ``text_complete``, ``turn_completed``, ``run_completed``.
meerkat names no model in its events.

    python agent_meerkat.py [--exit N] [--outside DIR] [--noise] [--tee FILE]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _fake

SESSION_ID = "01933b4e-7c2a-7d10-9f3e-5a6b7c8d9e0f"


class Envelopes:
    def __init__(self, out: _fake.Out) -> None:
        self.out = out
        self.seq = 0
        self.start = int(time.time() * 1000)

    def emit(self, kind: str, **payload: Any) -> None:
        self.seq += 1
        self.out.emit({
            "event_id": f"01933b4e-7c2a-7d10-9f3e-{self.seq:012x}",
            "source": {"type": "session", "session_id": SESSION_ID},
            "source_id": f"session:{SESSION_ID}",
            "seq": self.seq,
            "timestamp_ms": self.start + self.seq,
            "payload": {"type": kind, **payload},
        })  # fmt: skip

    def tool(self, tool_id: str, name: str, args: dict[str, Any], run: Callable[[], Any]) -> None:
        self.emit("tool_call_requested", id=tool_id, name=name, args=args)
        self.emit("tool_execution_started", id=tool_id, name=name)
        run()
        self.emit("tool_execution_completed", id=tool_id, name=name, result="ok",
                  is_error=False, duration_ms=3)  # fmt: skip
        self.emit("tool_result_received", id=tool_id, name=name, is_error=False)


def main() -> int:
    opts = _fake.options("a fake meerkat run").parse_args()
    root = Path.cwd()
    out = _fake.Out(opts.tee)
    events = Envelopes(out)
    usage = {"input_tokens": 5200, "output_tokens": 310, "cache_read_tokens": 4096}
    out.noise(opts.noise, b"meerkat 0.4.2: run starting\n")
    events.emit("run_started", session_id=SESSION_ID, prompt="add three()")
    events.emit("turn_started", turn_number=1)
    events.emit("reasoning_complete", content="Edit app.py, add new.py, note it.")
    edit = {"path": "app.py", "old_string": _fake.APP_OLD, "new_string": _fake.APP_NEW}
    events.tool("toolu_1", "edit_file", edit, lambda: _fake.edit_app(root))
    out.noise(opts.noise, b"\xff\xfe not UTF-8 progress\r\n")
    write = {"path": "new.py", "content": _fake.NEW_PY}
    events.tool("toolu_2", "write_file", write, lambda: _fake.create_new(root))
    shell = {"command": "echo 'agent note' >> notes.txt"}
    events.tool("toolu_3", "shell", shell, lambda: _fake.append_note(root))
    if opts.outside:
        outside = {"path": str(Path(opts.outside).resolve() / "outside.py"), "content": "x"}
        events.tool("toolu_4", "write_file", outside, lambda: _fake.write_outside(opts.outside))
    events.emit("text_complete", content="Done.")
    _fake.write_late(root)
    events.emit("turn_completed", stop_reason="end_turn", usage=usage)
    if opts.exit:
        events.emit("run_failed", session_id=SESSION_ID, error_class="tool", error="tool failed")
    else:
        events.emit("run_completed", session_id=SESSION_ID, result="Done.",
                    extraction_required=False, usage=usage)  # fmt: skip
    out.noise(opts.noise, b"no newline at the end")
    print("meerkat: done", file=sys.stderr, flush=True)
    out.close()
    return int(opts.exit)


if __name__ == "__main__":
    sys.exit(main())
