"""A fake ``vtcode exec --json``: does the work of ``_fake`` in its cwd and prints VT Code's
bare ``ThreadEvent`` lines (``vtcode-exec-events`` 0.11): the Codex vocabulary with VT Code's
items. As ``ExecEventRecorder`` does, each tool is a ``command_execution`` named after the
tool (started, then completed once it ran), and a ``write_file`` is followed by a
``file_change`` (one path as the tool got it, ``kind`` always ``update``, completed only).
A read-only tool shows as ``tool_invocation`` + ``tool_output``; the thread ends with
``thread.completed``.

    python agent_vtcode.py --model gemini-2.5-pro [--exit N] [--outside DIR] [--noise]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import _fake

THREAD_ID = "session-1761123456789"


class Items:
    def __init__(self, out: _fake.Out) -> None:
        self.out = out
        self.next = 0

    def new_id(self) -> str:
        self.next += 1
        return f"item_{self.next - 1}"

    def done(self, item: dict[str, Any]) -> None:
        self.out.emit({"type": "item.completed", "item": item})

    def tool(self, name: str, run: Any, path: str | None = None) -> None:
        """``command_started`` / ``command_finished`` around ``run``, then the file change."""
        item = {"id": self.new_id(), "type": "command_execution", "command": name,
                "aggregated_output": "", "status": "in_progress"}  # fmt: skip
        self.out.emit({"type": "item.started", "item": item})
        run()
        self.done({**item, "status": "completed"})
        if path is not None:
            changes = [{"path": path, "kind": "update"}]
            self.done({"id": self.new_id(), "type": "file_change", "changes": changes,
                       "status": "completed"})  # fmt: skip


def main() -> int:
    parser = _fake.options("a fake vtcode exec --json")
    parser.add_argument("--model", default="gemini-2.5-pro")
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    root = Path.cwd()
    out = _fake.Out(opts.tee)
    items = Items(out)
    out.noise(opts.noise, b"[AGENT] Executing coder task\n")
    out.emit({"type": "thread.started", "thread_id": THREAD_ID})
    out.emit({"type": "turn.started", "token_breakdown": {
        "system_prompt_tokens": 900, "tool_schema_tokens": 2100, "instruction_file_tokens": 0,
        "message_history_tokens": 40, "cache_read_tokens": 0, "cache_write_tokens": 0,
        "cache_miss_tokens": 3040}})  # fmt: skip
    items.done({"id": items.new_id(), "type": "reasoning", "text": "Read app.py, then edit.",
                "stage": "analysis"})  # fmt: skip

    call = items.new_id()
    out.emit({"type": "item.started", "item": {"id": call, "type": "tool_invocation",
              "tool_name": "read_file", "arguments": {"path": "app.py"},
              "tool_call_id": "tool_call_0", "status": "in_progress"}})  # fmt: skip
    items.done({"id": call, "type": "tool_invocation", "tool_name": "read_file",
                "arguments": {"path": "app.py"}, "tool_call_id": "tool_call_0",
                "status": "completed", "outcome": "success"})  # fmt: skip
    items.done({"id": f"{call}:output", "type": "tool_output", "call_id": call,
                "tool_call_id": "tool_call_0", "output": "def one(): ...", "exit_code": 0,
                "status": "completed"})  # fmt: skip

    items.tool("write_file", lambda: _fake.edit_app(root), "app.py")
    out.noise(opts.noise, b"\xff\xfe not UTF-8 progress\r\n")
    items.tool("write_file", lambda: _fake.create_new(root), "new.py")
    items.tool("run_terminal_cmd", lambda: _fake.append_note(root))
    if opts.outside:
        outside = str(Path(opts.outside).resolve() / "outside.py")
        items.tool("write_file", lambda: _fake.write_outside(opts.outside), outside)

    items.done({"id": items.new_id(), "type": "agent_message", "text": "Done."})
    _fake.write_late(root)
    usage = {"input_tokens": 3040, "cached_input_tokens": 0, "cache_creation_tokens": 0,
             "output_tokens": 210}  # fmt: skip
    out.emit({"type": "turn.completed", "usage": usage})
    out.emit({"type": "thread.completed", "thread_id": THREAD_ID, "session_id": THREAD_ID,
              "subtype": "error_during_execution" if opts.exit else "success",
              "outcome_code": "error" if opts.exit else "success", "usage": usage,
              "num_turns": 1})  # fmt: skip
    out.noise(opts.noise, b"no newline at the end")
    print("vtcode: done", file=sys.stderr, flush=True)
    out.close()
    return int(opts.exit)


if __name__ == "__main__":
    sys.exit(main())
