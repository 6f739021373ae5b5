"""A fake ``claude -p --output-format stream-json --verbose``: does the work of ``_fake`` in
its cwd with the Edit, Write and Bash tools and prints Claude Code's stream: ``system``
``init`` (session id, model), ``assistant`` messages with ``tool_use`` blocks, ``user``
messages with the ``tool_result`` and its ``tool_use_result`` (``originalFile`` and
``structuredPatch`` for Edit, ``type: create`` for Write), and the final ``result``.

    python agent_claude.py [--model claude-sonnet-4-5-20250929] [--exit N] [--outside DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import _fake

SESSION_ID = "6d1c8f0e-3b8e-4a57-9a43-2f1d0c7e5b21"
MODEL = "claude-sonnet-4-5-20250929"
ALIASES = {"sonnet": MODEL, "opus": "claude-opus-4-1-20250805"}  # as `claude --model` takes


class Stream:
    def __init__(self, out: _fake.Out, model: str) -> None:
        self.out = out
        self.model = model
        self.messages = 0

    def line(self, kind: str, events: int = 1, **fields: Any) -> None:
        """One stream line; ``events``: how many thread events it makes."""
        self.out.emit({"type": kind, **fields, "session_id": SESSION_ID,
                       "uuid": f"{kind}-{self.messages}"}, events)  # fmt: skip

    def assistant(self, *content: dict[str, Any], events: int = 1) -> None:
        self.messages += 1
        message = {
            "id": f"msg_01{self.messages:04d}",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": list(content),
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 4, "cache_creation_input_tokens": 1200,
                      "cache_read_input_tokens": 14000, "output_tokens": 90},
        }  # fmt: skip
        self.line("assistant", events, message=message, parent_tool_use_id=None)

    def tool(self, tool_id: str, name: str, tool_input: dict[str, Any]) -> None:
        self.assistant({"type": "tool_use", "id": tool_id, "name": name, "input": tool_input})

    def result(self, tool_id: str, text: str, response: Any) -> None:
        content = [{"tool_use_id": tool_id, "type": "tool_result", "content": text}]
        self.line("user", message={"role": "user", "content": content},
                  parent_tool_use_id=None, tool_use_result=response)  # fmt: skip


def write(stream: Stream, tool_id: str, path: Path, content: str) -> None:
    stream.tool(tool_id, "Write", {"file_path": str(path), "content": content})
    path.write_text(content, encoding="utf-8")
    response: dict[str, Any] = {"type": "create", "filePath": str(path), "content": content,
                                "structuredPatch": [], "originalFile": None}  # fmt: skip
    stream.result(tool_id, f"File created successfully at: {path}", response)


def main() -> int:
    parser = _fake.options("a fake claude -p --output-format stream-json")
    parser.add_argument("--model", default=MODEL)
    parser.add_argument("-p", "--print", action="store_true")
    parser.add_argument("--output-format", default="stream-json")
    parser.add_argument("--verbose", action="store_true")
    opts = parser.parse_args()
    root = Path.cwd()
    out = _fake.Out(opts.tee)
    stream = Stream(out, ALIASES.get(opts.model, opts.model))
    out.noise(opts.noise, b"Claude Code v2.0.14\n")
    stream.line("system", subtype="init", cwd=str(root), tools=["Bash", "Edit", "Write"],
                mcp_servers=[], model=stream.model, permissionMode="acceptEdits",
                apiKeySource="none", claude_code_version="2.0.14")  # fmt: skip
    thinking = {"type": "thinking", "thinking": "Edit app.py first.", "signature": "x"}
    stream.assistant(thinking, events=2)  # turn.started, then the reasoning item

    app = root / "app.py"
    edit = {"file_path": str(app), "old_string": _fake.APP_OLD, "new_string": _fake.APP_NEW}
    stream.tool("toolu_01A", "Edit", edit)
    before, after = _fake.edit_app(root)
    edited = {"filePath": str(app), "oldString": _fake.APP_OLD, "newString": _fake.APP_NEW,
                "originalFile": before, "structuredPatch": _fake.structured_patch(before, after),
                "userModified": False, "replaceAll": False}  # fmt: skip
    stream.result("toolu_01A", f"The file {app} has been updated.", edited)
    out.noise(opts.noise, b"\xff\xfe not UTF-8 progress\r\n")

    write(stream, "toolu_01B", root / "new.py", _fake.NEW_PY)

    stream.tool("toolu_01C", "Bash", {"command": "echo 'agent note' >> notes.txt",
                                      "description": "Append a note"})  # fmt: skip
    command = _fake.append_note(root)
    ran = {"stdout": "", "stderr": "", "interrupted": False, "isImage": False}
    stream.result("toolu_01C", "", ran)

    if opts.outside:
        outside = Path(opts.outside).resolve() / "outside.py"
        write(stream, "toolu_01D", outside, _fake.OUTSIDE)

    stream.assistant({"type": "text", "text": f"Done: {command}."})
    _fake.write_late(root)
    stream.line("result", 2, subtype="error_during_execution" if opts.exit else "success",
                is_error=bool(opts.exit), duration_ms=10412, duration_api_ms=9800, num_turns=5,
                result="Done.", total_cost_usd=0.0412,
                usage={"input_tokens": 16, "cache_creation_input_tokens": 1200,
                       "cache_read_input_tokens": 56000, "output_tokens": 360},
                permission_denials=[])  # fmt: skip
    out.noise(opts.noise, b"no newline at the end")
    print("claude: done", file=sys.stderr, flush=True)
    out.close()
    return int(opts.exit)


if __name__ == "__main__":
    sys.exit(main())
