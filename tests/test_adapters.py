"""Adapters: Claude Code, meerkat and omne logs (and Codex / VT Code) read as thread events.

The data files under ``tests/data/adapters/`` were written by hand from the documented
schemas (Claude Code stream-json, transcripts and hook payloads; meerkat ``event.rs``; omne
``events.rs``). Every expectation below is a concrete value taken from those files.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import strategies as s
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_trace.events import (
    EventDecodeError,
    EventReader,
    ItemCompletedEvent,
    JsonlWriter,
    ThreadStartedEvent,
    TurnStartedEvent,
    UnknownEvent,
    UnknownItem,
    from_dict,
    to_dict,
)
from agent_trace.events._adapters import (
    _OMNE_TYPES as OMNE_TYPES,
)
from agent_trace.events._adapters import (
    FORMATS,
    AdapterError,
    AdapterReader,
    Translated,
    adapter_for,
    detect_format,
    need,
)
from agent_trace.events._claude import ClaudeTranslated, FileEdit, Hunk
from agent_trace.events._jsonl import CUT_SHORT, LogIssue
from agent_trace.events._meerkat import MEERKAT_TYPES
from agent_trace.events._wire import dumps

DATA = Path(__file__).parent / "data" / "adapters"
STREAM = DATA / "claude-stream.jsonl"
TRANSCRIPT = DATA / "claude-transcript.jsonl"
HOOKS = DATA / "claude-hooks.jsonl"
MEERKAT = DATA / "meerkat-envelopes.jsonl"
OMNE = DATA / "omne-run.jsonl"
OMNE_ABORTED = DATA / "omne-aborted.jsonl"
ALL_FILES = [STREAM, TRANSCRIPT, HOOKS, MEERKAT, OMNE, OMNE_ABORTED]
FORMAT_OF = {
    STREAM: "claude",
    TRANSCRIPT: "claude",
    HOOKS: "claude",
    MEERKAT: "meerkat",
    OMNE: "omne",
    OMNE_ABORTED: "omne",
}

# Values from the data files.
STREAM_SESSION = "9f1c2b7e-4a3d-4e8b-9c1f-2d5e6a7b8c90"
TRANSCRIPT_SESSION = "5e2d8c1a-7b3f-4a6e-9d0c-8b7a6f5e4d3c"
HOOK_SESSION = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
MEERKAT_SESSION = "01928f3e-6b1a-7c2d-9e4f-5a6b7c8d9e0f"
OMNE_RUN = "feature-01jr8x6k2m3n4p5q6r7s8t9v0w"
OMNE_ABORTED_RUN = "hotfix-01jr9a0b1c2d3e4f5g6h7j8k9m"
SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-1-20250805"

READ_ID = "toolu_01ReadA1b2C3d4E5f6G7h8"
EDIT_ID = "toolu_01EditH9j8K7l6M5n4P3q2R1"
WRITE_ID = "toolu_01WriteS2t3U4v5W6x7Y8z9"
BASH_ID = "toolu_01BashA9b8C7d6E5f4G3h2"
MCP_ID = "toolu_01McpJ1k2L3m4N5o6P7q8R9"
MSG_A = "msg_01Xq7Jd2hV9cKpL3mNwR5sTu"
MSG_F = "msg_01Fz2Og7mA4hPuQ8rSbW0xYz"
T_EDIT_ID = "toolu_01TEditQ1w2E3r4T5y6U7i8"
T_MSG_1 = "msg_01Tr4Ns5Kp6Lq7Mr8Ns9Ot0P"
T_MSG_2 = "msg_01Us5Ot6Lq7Mr8Ns9Ot0Pu1Q"
T_MSG_3 = "msg_01Vt6Pu7Mr8Ns9Ot0Pu1Qv2R"
H_EDIT_ID = "toolu_01HookEd1t2A3b4C5d6E7f8"
H_BASH_ID = "toolu_01HookBa5h6B7c8D9e0F1g2"

GREET_PY = "/home/dev/proj/src/greet.py"
TEST_GREET_PY = "/home/dev/proj/tests/test_greet.py"
GREET_OLD = "def greet(name):\n    return 'Hello ' + name\n"
EDIT_OLD = "    return 'Hello ' + name"
EDIT_NEW = "    return f'Hello, {name}!'"
TEST_SRC = (
    "from src.greet import greet\n\n\ndef test_greet():\n    assert greet('Ada') == 'Hello, Ada!'\n"
)
README_OLD = "# proj\n\nA tiny greeter.\n"
CHANGELOG_OLD = "# Changelog\n\n## 0.1.0\n"
CHANGELOG_NEW_STRING = "# Changelog\n\n## 0.2.0\n- Exclaiming greeter\n"
HELLO_RS = 'pub fn hello() -> &\'static str {\n    "hello"\n}\n'

# File contents that must not be written by default, per file (with keep_content they are).
SECRET_CONTENT = {
    STREAM: [
        GREET_OLD,
        EDIT_OLD,
        EDIT_NEW,
        TEST_SRC,
        " def greet(name):",
        "-    return 'Hello ' + name",
        "+    return f'Hello, {name}!'",
    ],
    TRANSCRIPT: [
        README_OLD,
        "A tiny greeter.",
        "A tiny, excited greeter!",
        "-A tiny greeter.",
        "+A tiny, excited greeter!",
    ],
    HOOKS: [CHANGELOG_OLD, CHANGELOG_NEW_STRING, "+- Exclaiming greeter", " ## 0.1.0"],
}
CONTENT_KEYS = frozenset(
    {
        "content",
        "originalFile",
        "originalFileContents",
        "old_string",
        "new_string",
        "oldString",
        "newString",
        "new_source",
        "edits",
        "file",
    }
)

Row = tuple[int | None, str, str | None, str | None, str | None]


# --------------------------------------------------------------------------- helpers


def read(path: Path, **kwargs: Any) -> tuple[AdapterReader, list[Translated]]:
    reader = AdapterReader(path, **kwargs)
    return reader, list(reader)


def rows(translated: Iterable[Translated]) -> list[Row]:
    """``(line, event type, item type, item id, item status)`` per event."""
    out: list[Row] = []
    for t in translated:
        data = to_dict(t.event)
        item = data.get("item")
        if isinstance(item, dict):
            out.append((t.line, data["type"], item["type"], item["id"], item.get("status")))
        else:
            out.append((t.line, data["type"], None, None, None))
    return out


def source_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def jsonl(*objects: Any) -> bytes:
    return b"".join(dumps(obj, newline=True) for obj in objects)


def stream_of(*objects: Any) -> io.BytesIO:
    return io.BytesIO(jsonl(*objects))


def same(a: Any, b: Any) -> bool:
    """JSON equality that tells ``true`` from ``1`` and ``1.0`` from ``1``."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def has_pair(node: Any, key: str, value: Any) -> bool:
    """Whether some object at or below ``node`` maps ``key`` to ``value``."""
    if isinstance(node, dict):
        if key in node and same(node[key], value):
            return True
        return any(has_pair(v, key, value) for v in node.values())
    if isinstance(node, list):
        return any(has_pair(v, key, value) for v in node)
    return False


def kept_regions(fmt: str, outputs: list[dict[str, Any]]) -> list[Any]:
    """Where a format keeps what it does not map: under ``fmt`` keys, or whole events."""
    found: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == fmt:
                    found.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for out in outputs:
        if out["type"].startswith(f"{fmt}."):
            found.append(out)
        walk(out)
    return found


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def scrubbed(value: Any) -> Any:
    """A tool input/response without file contents, as the adapters are documented to keep it."""
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in CONTENT_KEYS:
            continue
        if key == "structuredPatch" and isinstance(item, list):
            item = [{k: v for k, v in h.items() if k != "lines"} for h in item]
        out[key] = item
    return out


def without(obj: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in keys}


MAPPED_HOOKS = frozenset(
    {
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "PostToolUseFailure",
        "Stop",
        "SubagentStop",
        "SessionEnd",
    }
)


def claude_expected(obj: dict[str, Any]) -> dict[str, Any]:
    """The (key, value) pairs of a Claude line that must be kept under ``"claude"``."""
    if "hook_event_name" in obj:
        pairs = without(obj, "session_id", "tool_input", "tool_response", "tool_use_id")
        if obj["hook_event_name"] not in MAPPED_HOOKS:  # kept whole, the name as its type
            del pairs["hook_event_name"]
        tool_input = obj.get("tool_input")
        if obj.get("tool_name") == "Bash" and isinstance(tool_input, dict):
            pairs["input"] = without(tool_input, "command")
        elif tool_input is not None:
            pairs["input"] = scrubbed(tool_input)
        if "tool_response" in obj:
            pairs["response"] = scrubbed(obj["tool_response"])
        return pairs
    kind = obj["type"]
    base = without(obj, "type", "session_id", "sessionId", "timestamp")
    if kind == "system":
        return base
    if kind == "assistant":
        return base | {"message": without(obj["message"], "content")}
    if kind == "user":
        content = obj["message"]["content"]
        if isinstance(content, str):  # a prompt: kept whole
            return base
        result = obj.get("tool_use_result", obj.get("toolUseResult"))
        pairs = without(base, "tool_use_result", "toolUseResult")
        return pairs | {"message": without(obj["message"], "content"), "response": scrubbed(result)}
    if kind == "result":
        return without(base, "subtype", "num_turns", "result", "total_cost_usd")
    return without(obj, "type")  # kept whole as claude.<type>


MEERKAT_CONSUMED = {
    "run_started": {"session_id"},
    "text_complete": {"content"},
    "reasoning_complete": {"content"},
    "tool_call_requested": {"id", "name", "args"},
    "tool_execution_completed": {"id", "name"},
    "tool_execution_timed_out": {"id", "name"},
}


def meerkat_expected(obj: dict[str, Any]) -> dict[str, Any]:
    if "payload" in obj and "timestamp_ms" in obj:
        meta, payload = without(obj, "payload"), obj["payload"]
    elif "scope_path" in obj:
        meta, payload = without(obj, "event"), obj["event"]
    else:
        meta, payload = {}, obj
    consumed = {"type"} | MEERKAT_CONSUMED.get(payload["type"], set())
    return meta | {k: v for k, v in payload.items() if k not in consumed}


def omne_expected(obj: dict[str, Any]) -> dict[str, Any]:
    if obj["type"] == "iteration.started":  # no counterpart: kept whole
        return without(obj, "type")
    return without(obj, "type", "run_id", "ts")


EXPECTED: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "claude": claude_expected,
    "meerkat": meerkat_expected,
    "omne": omne_expected,
}


def ts_of_ms(ms: int) -> str:
    when = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=ms)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- sequences


def test_claude_stream_json_sequence() -> None:
    reader, out = read(STREAM)
    assert reader.format == "claude"
    assert reader.adapter is not None
    assert reader.adapter.model == SONNET
    assert reader.adapter.session_id == STREAM_SESSION
    assert (reader.lines, reader.events, reader.malformed, reader.issues) == (17, 19, 0, [])
    assert rows(out) == [
        (1, "thread.started", None, None, None),
        (2, "claude.stream_event", None, None, None),
        (3, "turn.started", None, None, None),
        (3, "item.completed", "reasoning", f"{MSG_A}:0", None),
        (4, "item.completed", "agent_message", f"{MSG_A}:1", None),
        (5, "item.started", "tool_invocation", READ_ID, "in_progress"),
        (6, "item.completed", "tool_invocation", READ_ID, "completed"),
        (7, "item.started", "file_change", EDIT_ID, "in_progress"),
        (8, "item.completed", "file_change", EDIT_ID, "completed"),
        (9, "item.started", "file_change", WRITE_ID, "in_progress"),
        (10, "item.completed", "file_change", WRITE_ID, "completed"),
        (11, "item.started", "command_execution", BASH_ID, "in_progress"),
        (12, "item.completed", "command_execution", BASH_ID, "completed"),
        (13, "claude.rate_limit_event", None, None, None),
        (14, "item.started", "mcp_tool_call", MCP_ID, "in_progress"),
        (15, "item.completed", "mcp_tool_call", MCP_ID, "completed"),
        (16, "item.completed", "agent_message", f"{MSG_F}:0", None),
        (17, "turn.completed", None, None, None),
        (17, "thread.completed", None, None, None),
    ]
    assert all(t.ts is None for t in out)  # stream-json lines carry no time
    d = [to_dict(t.event) for t in out]
    assert isinstance(out[0].event, ThreadStartedEvent)
    assert out[0].event.thread_id == STREAM_SESSION
    assert d[0]["claude"]["model"] == SONNET
    assert d[0]["claude"]["tools"][-1] == "mcp__github__create_issue"
    assert d[3]["item"]["text"].startswith("The greeting lacks a comma")
    assert d[3]["item"]["claude"] == {"signature": "EqQBCkYIBxgCKkBxR2zv0c9Y1mQ7Lw=="}
    assert d[4]["item"]["text"] == "I'll fix the greeting and add a test."
    read_done = d[6]["item"]
    assert read_done["tool_name"] == "Read"
    assert read_done["tool_call_id"] == READ_ID
    assert read_done["arguments"] == {"file_path": "/home/dev/proj/pyproject.toml"}
    assert read_done["outcome"] == "success"
    assert d[7]["item"]["changes"] == [{"path": GREET_PY, "kind": "update"}]
    assert d[7]["item"]["claude"]["omitted"] == ["new_string", "old_string"]
    assert d[9]["item"]["changes"] == [{"path": TEST_GREET_PY, "kind": "update"}]
    assert d[10]["item"]["changes"] == [{"path": TEST_GREET_PY, "kind": "add"}]
    bash = d[12]["item"]
    assert bash["command"] == "python -m pytest -q tests/test_greet.py"
    assert bash["aggregated_output"] == "1 passed in 0.02s"
    assert "exit_code" not in bash
    assert d[11]["item"]["claude"]["input"] == {
        "description": "Run the new test",
        "timeout": 120000,
    }
    mcp = d[15]["item"]
    assert (mcp["server"], mcp["tool"]) == ("github", "create_issue")
    assert mcp["arguments"]["title"] == "Greeting lacks punctuation"
    assert mcp["result"]["content"][0]["text"].startswith('{"number":42')
    assert d[16]["item"]["text"] == "Fixed the greeting, added a passing test and opened issue #42."
    # The turn's usage is the sum over distinct assistant messages (msg_01X counted once
    # although it spans three lines); input_tokens includes the cache.
    assert d[17]["usage"] == {
        "input_tokens": 34 + 2814 + 83259,
        "cached_input_tokens": 83259,
        "cache_creation_tokens": 2814,
        "output_tokens": 666,
    }
    done = d[18]
    assert done["thread_id"] == done["session_id"] == STREAM_SESSION
    assert (done["subtype"], done["outcome_code"], done["num_turns"]) == ("success", "success", 11)
    assert done["total_cost_usd"] == 0.1284315
    assert done["result"] == "Fixed the greeting, added a passing test and opened issue #42."
    assert done["usage"] == {
        "input_tokens": 40 + 2814 + 83259,
        "cached_input_tokens": 83259,
        "cache_creation_tokens": 2814,
        "output_tokens": 666,
    }
    assert done["claude"]["duration_ms"] == 48211
    assert done["claude"]["usage"]["server_tool_use"] == {"web_search_requests": 0}


def test_claude_transcript_sequence() -> None:
    reader, out = read(TRANSCRIPT)
    assert reader.format == "claude"
    assert reader.adapter is not None
    assert reader.adapter.model == OPUS
    assert reader.adapter.session_id == TRANSCRIPT_SESSION
    assert rows(out) == [
        (1, "claude.summary", None, None, None),
        (2, "thread.started", None, None, None),
        (2, "turn.started", None, None, None),
        (3, "item.completed", "agent_message", f"{T_MSG_1}:0", None),
        (4, "item.started", "file_change", T_EDIT_ID, "in_progress"),
        (5, "item.completed", "file_change", T_EDIT_ID, "completed"),
        (6, "item.completed", "agent_message", f"{T_MSG_2}:0", None),
        (7, "turn.completed", None, None, None),  # the next prompt closes the turn
        (7, "turn.started", None, None, None),
        (8, "item.completed", "agent_message", f"{T_MSG_3}:0", None),
        (None, "turn.completed", None, None, None),  # finish(): the stream ended mid-turn
    ]
    assert [t.ts for t in out] == [
        None,
        "2025-10-08T14:03:11.482Z",
        "2025-10-08T14:03:11.482Z",
        "2025-10-08T14:03:14.907Z",
        "2025-10-08T14:03:15.220Z",
        "2025-10-08T14:03:15.801Z",
        "2025-10-08T14:03:17.064Z",
        "2025-10-08T14:04:02.000Z",
        "2025-10-08T14:04:02.000Z",
        "2025-10-08T14:04:03.512Z",
        None,
    ]
    d = [to_dict(t.event) for t in out]
    assert d[0]["summary"] == "Make greet() exclaim"
    assert d[1] == {"type": "thread.started", "thread_id": TRANSCRIPT_SESSION}
    assert d[2]["claude"]["message"] == {
        "role": "user",
        "content": "Make greet() add an exclamation mark",
    }
    # msg_01Tr4 spans lines 3 and 4 with the same usage: counted once.
    assert d[7]["usage"] == {
        "input_tokens": (3 + 2048 + 10240) + (5 + 312 + 12288),
        "cached_input_tokens": 10240 + 12288,
        "cache_creation_tokens": 2048 + 312,
        "output_tokens": 55 + 12,
    }
    assert d[8]["claude"]["message"]["content"] == "Thanks!"
    assert d[10]["usage"] == {
        "input_tokens": 4 + 40 + 12600,
        "cached_input_tokens": 12600,
        "cache_creation_tokens": 40,
        "output_tokens": 9,
    }
    assert d[3]["claude"]["requestId"] == "req_011CTxYz9AbCdEfGhIjKlMnO"


def test_claude_hooks_sequence() -> None:
    reader, out = read(HOOKS)
    assert reader.format == "claude"
    assert reader.adapter is not None
    assert reader.adapter.model == SONNET  # named by SessionStart only
    assert reader.adapter.session_id == HOOK_SESSION
    assert rows(out) == [
        (1, "thread.started", None, None, None),
        (2, "turn.started", None, None, None),
        (3, "item.started", "file_change", H_EDIT_ID, "in_progress"),
        (4, "item.completed", "file_change", H_EDIT_ID, "completed"),
        (5, "item.started", "command_execution", H_BASH_ID, "in_progress"),
        (6, "item.completed", "command_execution", H_BASH_ID, "failed"),
        (7, "claude.Notification", None, None, None),
        (8, "claude.PreCompact", None, None, None),
        (9, "turn.completed", None, None, None),  # SubagentStop
        (10, "turn.completed", None, None, None),  # Stop
        (11, "thread.completed", None, None, None),
    ]
    assert all(t.ts is None for t in out)
    d = [to_dict(t.event) for t in out]
    assert d[0]["thread_id"] == HOOK_SESSION
    assert d[0]["claude"]["source"] == "startup"
    assert d[1]["claude"]["prompt"] == "Add a CHANGELOG entry for 0.2.0"
    assert d[3]["item"]["changes"] == [{"path": "/home/dev/proj/CHANGELOG.md", "kind": "update"}]
    assert d[3]["item"]["claude"]["hook"]["hook_event_name"] == "PostToolUse"
    failed = d[5]["item"]
    assert failed["command"] == "git diff --stat"
    assert failed["aggregated_output"] == "Exit code 128\nfatal: not a git repository"
    assert failed["claude"]["hook"]["is_interrupt"] is False
    assert d[6]["message"] == "Claude needs your permission to use Bash"
    assert d[6]["notification_type"] == "permission_prompt"
    assert d[6]["session_id"] == HOOK_SESSION
    assert d[7]["trigger"] == "auto"
    assert d[8]["claude"]["hook_event_name"] == "SubagentStop"
    assert d[10]["outcome_code"] == "prompt_input_exit"
    assert d[10]["subtype"] == "success"
    assert d[10]["thread_id"] == d[10]["session_id"] == HOOK_SESSION


def test_meerkat_sequence() -> None:
    reader, out = read(MEERKAT)
    assert reader.format == "meerkat"
    assert reader.adapter is not None
    assert reader.adapter.model is None  # meerkat events name no model
    assert reader.adapter.session_id == MEERKAT_SESSION
    assert rows(out) == [
        (1, "thread.started", None, None, None),
        (2, "turn.started", None, None, None),
        (3, "meerkat.text_delta", None, None, None),
        (4, "item.completed", "reasoning", "reasoning-1", None),
        (5, "item.completed", "agent_message", "agent_message-2", None),
        (6, "item.started", "file_change", "toolu_mk01", "in_progress"),
        (7, "meerkat.tool_execution_started", None, None, None),
        (8, "item.completed", "file_change", "toolu_mk01", "completed"),
        (9, "item.started", "tool_invocation", "toolu_mk02", "in_progress"),
        (10, "meerkat.tool_execution_started", None, None, None),
        (11, "item.completed", "tool_invocation", "toolu_mk02", "failed"),
        (12, "turn.completed", None, None, None),
        (13, "meerkat.budget_warning", None, None, None),
        (14, "item.completed", "agent_message", "agent_message-3", None),
        (15, "meerkat.text_delta", None, None, None),
        (16, "thread.completed", None, None, None),
    ]
    # Envelopes carry timestamp_ms; the scoped and the bare event (lines 14, 15) do not.
    offsets = [0, 12, 410, 455, 731, 902, 903, 906, 1010, 1011, 31011, 31050, 31051]
    expected_ts: list[str | None] = [ts_of_ms(1760000000000 + o) for o in offsets]
    expected_ts += [None, None, ts_of_ms(1760000031100)]
    assert [t.ts for t in out] == expected_ts
    assert out[0].ts == "2025-10-09T08:53:20.000Z"
    d = [to_dict(t.event) for t in out]
    assert d[0]["thread_id"] == MEERKAT_SESSION
    assert d[0]["meerkat"]["prompt"] == "Add a hello() function in src/hello.rs"
    assert d[0]["meerkat"]["seq"] == 0
    assert d[3]["item"]["text"] == "A new file is simplest."
    assert d[4]["item"]["text"] == "I'll add src/hello.rs."
    assert d[5]["item"]["changes"] == [{"path": "src/hello.rs", "kind": "update"}]
    assert d[7]["item"]["meerkat"]["result"] == "wrote 44 bytes to src/hello.rs"
    search = d[8]["item"]
    assert (search["tool_name"], search["tool_call_id"]) == ("search", "toolu_mk02")
    assert search["arguments"] == {"query": "fn main", "path": "src"}
    assert search["meerkat"]["mob_id"] == "mob_7f3a"
    timed_out = d[10]["item"]
    assert (timed_out["status"], timed_out["outcome"]) == ("failed", "cancelled")
    assert timed_out["meerkat"]["timeout_ms"] == 30000
    assert d[11]["usage"] == {
        "input_tokens": 1200,
        "cached_input_tokens": 800,
        "output_tokens": 340,
    }
    assert d[12]["percent"] == 0.9
    assert d[13]["item"]["meerkat"]["scope_id"] == "primary/mob:planner"
    assert d[14] == {"type": "meerkat.text_delta", "delta": "done"}
    done = d[15]
    assert (done["subtype"], done["outcome_code"], done["num_turns"]) == ("success", "success", 1)
    assert done["result"] == "Added src/hello.rs"
    assert done["usage"] == {
        "input_tokens": 2400,
        "cached_input_tokens": 1600,
        "output_tokens": 610,
        "cache_creation_tokens": 96,
    }


def test_omne_run_sequence() -> None:
    reader, out = read(OMNE)
    assert reader.format == "omne"
    assert reader.adapter is not None
    assert reader.adapter.model == "claude-sonnet-4-5"
    assert reader.adapter.session_id == OMNE_RUN
    assert rows(out) == [
        (1, "thread.started", None, None, None),
        (2, "turn.started", None, None, None),
        (3, "omne.iteration.started", None, None, None),
        (4, "turn.completed", None, None, None),
        (5, "item.started", "command_execution", "check", "in_progress"),
        (6, "item.completed", "command_execution", "check", "failed"),
        (7, "item.completed", "harness", "plan:gate:plan-approved", None),
        (8, "thread.completed", None, None, None),
    ]
    assert [t.ts for t in out] == [
        "2026-04-15T12:00:00Z",
        "2026-04-15T12:00:01Z",
        "2026-04-15T12:00:01Z",
        "2026-04-15T12:01:30Z",
        "2026-04-15T12:01:31Z",
        "2026-04-15T12:03:02Z",
        "2026-04-15T12:03:03Z",
        "2026-04-15T12:03:04Z",
    ]
    d = [to_dict(t.event) for t in out]
    assert d[0]["thread_id"] == OMNE_RUN
    assert d[0]["omne"]["inputs"][0] == {"key": "task", "value": "add auth"}
    assert d[1]["omne"]["model"] == "claude-sonnet-4-5"
    assert d[2]["byte_offset"] == 0
    assert d[3]["usage"] == {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0}
    assert d[4]["item"]["command"] == "cargo test"
    assert d[5]["item"]["aggregated_output"] == "test result: FAILED. 1 passed; 1 failed"
    assert d[5]["item"]["omne"]["error"] == {"kind": "gate_failed"}
    gate = d[6]["item"]
    gate_event = out[6].event
    assert isinstance(gate_event, ItemCompletedEvent)
    assert isinstance(gate_event.item, UnknownItem)  # "harness" is not in our vocabulary
    assert (gate["event"], gate["message"]) == ("verification_passed", "plan-approved")
    assert gate["omne"]["stdout"] == "plan ok: 3 steps"
    assert (d[7]["subtype"], d[7]["outcome_code"], d[7]["num_turns"]) == ("success", "success", 1)


def test_omne_aborted_sequence() -> None:
    reader, out = read(OMNE_ABORTED)
    assert reader.adapter is not None
    assert reader.adapter.model is None
    assert reader.adapter.session_id == OMNE_ABORTED_RUN
    assert rows(out) == [
        (1, "thread.started", None, None, None),
        (2, "turn.started", None, None, None),
        (3, "turn.failed", None, None, None),
        (4, "thread.completed", None, None, None),
    ]
    assert [t.ts for t in out] == [
        "2026-04-16T08:30:00Z",
        "2026-04-16T08:30:01Z",
        "2026-04-16T08:30:02Z",
        "2026-04-16T08:30:02Z",
    ]
    d = [to_dict(t.event) for t in out]
    assert d[2]["message"] == "host_missing"  # no message: error.kind stands in
    done = d[3]
    assert (done["subtype"], done["outcome_code"]) == ("cancelled", "aborted")
    assert done["result"] == "node fix failed: host_missing"
    assert done["thread_id"] == OMNE_ABORTED_RUN


# --------------------------------------------------------------------------- lossless


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.stem)
def test_every_unmapped_source_value_is_kept(path: Path) -> None:
    fmt = FORMAT_OF[path]
    _, out = read(path)
    by_line: dict[int, list[dict[str, Any]]] = {}
    for t in out:
        if t.line is not None:
            by_line.setdefault(t.line, []).append(to_dict(t.event))
    sources = source_lines(path)
    assert sorted(by_line) == list(range(1, len(sources) + 1))  # every line gave an event
    for number, obj in enumerate(sources, start=1):
        regions = kept_regions(fmt, by_line[number])
        for key, value in EXPECTED[fmt](obj).items():
            assert any(has_pair(r, key, value) for r in regions), (
                f"{path.name}:{number}: {key!r} = {value!r} not kept under {fmt!r}"
            )


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.stem)
def test_events_survive_a_dict_round_trip(path: Path) -> None:
    for t in read(path)[1]:
        data = to_dict(t.event)
        again = from_dict(data)
        assert to_dict(again) == data
        assert again == t.event
        if isinstance(t.event, UnknownEvent):
            assert isinstance(again, UnknownEvent)
            assert again.data == data


def test_unknown_source_types_are_kept_whole() -> None:
    stream = source_lines(STREAM)
    out = read(STREAM)[1]
    assert isinstance(out[1].event, UnknownEvent)
    assert out[1].event.data == {"type": "claude.stream_event", **without(stream[1], "type")}
    assert isinstance(out[13].event, UnknownEvent)
    assert out[13].event.data == {"type": "claude.rate_limit_event", **without(stream[12], "type")}
    omne = source_lines(OMNE)
    iteration = read(OMNE)[1][2].event
    assert isinstance(iteration, UnknownEvent)
    assert iteration.data == {"type": "omne.iteration.started", **without(omne[2], "type")}


@pytest.mark.parametrize("path", [STREAM, TRANSCRIPT, HOOKS], ids=lambda p: p.stem)
def test_file_contents_are_left_out_by_default(path: Path) -> None:
    written = [x for t in read(path)[1] for x in strings(to_dict(t.event))]
    for secret in SECRET_CONTENT[path]:
        assert not any(secret in text for text in written), f"{secret!r} was written"
    kept = [x for t in read(path, keep_content=True)[1] for x in strings(to_dict(t.event))]
    for secret in SECRET_CONTENT[path]:
        assert any(secret in text for text in kept), f"{secret!r} lost with keep_content"


def test_keep_content_keeps_the_raw_tool_payloads() -> None:
    stream = source_lines(STREAM)
    d = [to_dict(t.event) for t in read(STREAM, keep_content=True)[1]]
    edit = d[8]["item"]["claude"]
    assert edit["input"] == stream[6]["message"]["content"][0]["input"]
    assert edit["response"] == stream[7]["tool_use_result"]
    assert "omitted" not in edit
    write = d[10]["item"]["claude"]
    assert write["input"]["content"] == TEST_SRC
    assert write["response"]["originalFile"] is None


def test_read_tool_file_text_is_left_out_by_default() -> None:
    written = [x for t in read(STREAM)[1] for x in strings(to_dict(t.event))]
    assert not any('version = "0.1.0"' in text for text in written)


def test_meerkat_file_tool_content_is_left_out_by_default() -> None:
    written = [x for t in read(MEERKAT)[1] for x in strings(to_dict(t.event))]
    assert not any(HELLO_RS in text for text in written)


# --------------------------------------------------------------------------- exact edits


def test_edit_result_gives_the_exact_edit() -> None:
    out = read(STREAM)[1]
    edited = [t for t in out if isinstance(t, ClaudeTranslated) and t.edits]
    assert [(t.line, t.edits[0].tool_use_id) for t in edited] == [(8, EDIT_ID), (10, WRITE_ID)]
    assert edited[0].edits == (
        FileEdit(
            path=GREET_PY,
            tool_use_id=EDIT_ID,
            original=GREET_OLD,
            hunks=(Hunk(1, 2, 1, 2, (" def greet(name):", "-" + EDIT_OLD, "+" + EDIT_NEW)),),
            created=False,
            content=None,
        ),
    )
    # The edit belongs to the item.completed event of the same tool_use id.
    event = to_dict(edited[0].event)
    assert (event["type"], event["item"]["id"]) == ("item.completed", EDIT_ID)


def test_write_create_gives_created_and_content() -> None:
    out = read(STREAM)[1]
    (write,) = [t for t in out if isinstance(t, ClaudeTranslated) and t.line == 10]
    assert write.edits == (
        FileEdit(
            path=TEST_GREET_PY,
            tool_use_id=WRITE_ID,
            original=None,
            hunks=(),
            created=True,
            content=TEST_SRC,
        ),
    )


def test_transcript_and_hook_edits() -> None:
    transcript = [t for t in read(TRANSCRIPT)[1] if isinstance(t, ClaudeTranslated) and t.edits]
    assert [t.line for t in transcript] == [5]
    assert transcript[0].ts == "2025-10-08T14:03:15.801Z"
    assert transcript[0].edits == (
        FileEdit(
            path="/home/dev/proj/README.md",
            tool_use_id=T_EDIT_ID,
            original=README_OLD,
            hunks=(
                Hunk(1, 3, 1, 3, (" # proj", " ", "-A tiny greeter.", "+A tiny, excited greeter!")),
            ),
        ),
    )
    hooks = [t for t in read(HOOKS)[1] if isinstance(t, ClaudeTranslated) and t.edits]
    assert [t.line for t in hooks] == [4]  # PostToolUse only, not PreToolUse
    lines = (" # Changelog", " ", "+## 0.2.0", "+- Exclaiming greeter", "+", " ## 0.1.0")
    assert hooks[0].edits == (
        FileEdit(
            path="/home/dev/proj/CHANGELOG.md",
            tool_use_id=H_EDIT_ID,
            original=CHANGELOG_OLD,
            hunks=(Hunk(1, 3, 1, 6, lines),),
        ),
    )


def test_no_edits_for_other_tools() -> None:
    for t in read(STREAM)[1]:
        if t.line in (6, 12, 15):  # Read, Bash and MCP results
            assert not (isinstance(t, ClaudeTranslated) and t.edits)


# --------------------------------------------------------------------------- detection

ENVELOPE_LINE = {
    "schema_version": "0.11.0",
    "seq": 0,
    "id": "01928f3e-6b1a-7c2d-9e4f-000000000001",
    "ts": "2026-01-02T03:04:05.678Z",
    "run_id": "run-1",
    "event": {"type": "turn.started"},
}
DETECT_CASES: list[tuple[str, Any, str | None]] = [
    ("codex bare", {"type": "thread.started", "thread_id": "0199a213-81c0"}, "codex"),
    ("codex item", {"type": "item.completed", "item": {"id": "item_0"}}, "codex"),
    ("codex error", {"type": "error", "message": "boom"}, "codex"),
    (
        "vtcode versioned",
        {"schema_version": "0.2.0", "event": {"type": "turn.started"}},
        "vtcode",
    ),
    ("our envelope", ENVELOPE_LINE, "agent-trace"),
    ("envelope, run_id only", {"run_id": "r", "event": {"type": "turn.started"}}, "agent-trace"),
    ("claude init", {"type": "system", "subtype": "init", "session_id": "s"}, "claude"),
    ("claude result", {"type": "result", "subtype": "success"}, "claude"),
    ("claude stream_event", {"type": "stream_event", "event": {"type": "ping"}}, "claude"),
    ("claude transcript", {"type": "user", "sessionId": "s", "uuid": "u", "message": {}}, "claude"),
    ("claude summary", {"type": "summary", "summary": "x", "leafUuid": "u"}, "claude"),
    ("claude snapshot", {"type": "file-history-snapshot", "messageId": "m"}, "claude"),
    ("claude hook", {"hook_event_name": "Stop", "session_id": "s"}, "claude"),
    (
        "meerkat envelope",
        {"event_id": "e", "seq": 1, "timestamp_ms": 1, "payload": {"type": "text_delta"}},
        "meerkat",
    ),
    (
        "meerkat scoped",
        {"scope_id": "primary", "scope_path": [], "event": {"type": "text_delta"}},
        "meerkat",
    ),
    ("meerkat bare", {"type": "tool_call_requested", "id": "t", "name": "n"}, "meerkat"),
    ("meerkat run_started", {"type": "run_started", "session_id": "s"}, "meerkat"),
    ("omne", {"type": "pipe.started", "id": "1", "ts": "t", "run_id": "r"}, "omne"),
    ("omne node", {"type": "node.failed", "run_id": "r", "node_id": "n"}, "omne"),
    ("omne type without run_id", {"type": "pipe.started", "id": "1"}, None),
    ("empty object", {}, None),
    ("unknown type", {"type": "foo"}, None),
    ("non-string type", {"type": 5}, None),
    ("a list", [{"type": "turn.started"}], None),
    ("a string", "turn.started", None),
    ("null", None, None),
    ("event alone", {"event": {"type": "turn.started"}}, None),
]


@pytest.mark.parametrize(
    ("obj", "expected"), [c[1:] for c in DETECT_CASES], ids=[c[0] for c in DETECT_CASES]
)
def test_detect_format(obj: Any, expected: str | None) -> None:
    assert detect_format(obj) == expected


@pytest.mark.parametrize("vendor", ["codex", "vtcode"])
def test_shared_fixtures_read_as_event_reader_does(shared_dir: Path, vendor: str) -> None:
    files = sorted((shared_dir / "fixtures" / vendor).glob("*.jsonl"))
    assert files, f"no {vendor} fixture"
    for path in files:
        reader, out = read(path)
        assert reader.format == vendor
        expected = [(e.line, to_dict(e.event)) for e in EventReader(path)]
        assert [(t.line, to_dict(t.event)) for t in out] == expected
        assert all(t.ts is None for t in out)
        assert (reader.malformed, reader.truncated) == (0, False)


def test_codex_fixture_session_id(shared_dir: Path) -> None:
    path = sorted((shared_dir / "fixtures" / "codex").glob("*.jsonl"))[0]
    reader, _ = read(path)
    assert reader.adapter is not None
    assert reader.adapter.session_id == "0199a213-81c0-7800-8aa1-bbab2a035a53"


def test_vtcode_fixture_session_id(shared_dir: Path) -> None:
    path = sorted((shared_dir / "fixtures" / "vtcode").glob("*.jsonl"))[0]
    reader, _ = read(path)
    assert reader.adapter is not None
    assert reader.adapter.session_id == "session-vtcode-20260312T113304Z_360153-80579"


def test_our_envelopes_keep_their_time(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with JsonlWriter(path, run_id="run-7") as writer:
        writer.write(ThreadStartedEvent(thread_id="th-1"), ts="2026-01-02T03:04:05.678Z")
        writer.write(TurnStartedEvent(), ts="2026-01-02T03:04:06.000Z")
    reader, out = read(path)
    assert reader.format == "agent-trace"
    assert [(t.line, t.ts, t.event) for t in out] == [
        (1, "2026-01-02T03:04:05.678Z", ThreadStartedEvent(thread_id="th-1")),
        (2, "2026-01-02T03:04:06.000Z", TurnStartedEvent()),
    ]


def test_explicit_format_overrides_detection() -> None:
    line = {"type": "turn_started", "turn_number": 1}  # meerkat, read as Claude
    reader = AdapterReader(stream_of(line), format="claude")
    (t,) = list(reader)
    assert reader.format == "claude"
    assert to_dict(t.event) == {"type": "claude.turn_started", "turn_number": 1}
    error = {"type": "error", "message": "boom"}  # codex, read as omne
    with pytest.raises(EventDecodeError, match=r"<stream>:1: \$\.run_id: expected str"):
        list(AdapterReader(stream_of(error), format="omne"))
    (native,) = list(AdapterReader(stream_of(error), format="vtcode"))
    assert to_dict(native.event) == error


def test_unknown_format_name() -> None:
    with pytest.raises(ValueError, match="unknown format 'cursor'; expected auto or one of codex"):
        AdapterReader(STREAM, format="cursor")
    with pytest.raises(ValueError, match="unknown format 'Claude'"):
        adapter_for("Claude")
    assert FORMATS == ("codex", "vtcode", "agent-trace", "claude", "meerkat", "omne")


# --------------------------------------------------------------------------- errors


def bad_file(tmp_path: Path, lines: list[Any], name: str = "bad.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(
        b"".join((line if isinstance(line, bytes) else dumps(line)) + b"\n" for line in lines)
    )
    return path


INIT = {"type": "system", "subtype": "init", "session_id": "s-1", "model": SONNET}
PIPE = {
    "type": "pipe.started",
    "id": "01a",
    "ts": "2026-04-15T12:00:00Z",
    "run_id": "r-1",
    "pipe": "p",
}
ERROR_CASES: list[tuple[str, list[Any], str | None, int, str, str]] = [
    (
        "claude tool_use without id",
        [
            INIT,
            {
                "type": "assistant",
                "session_id": "s-1",
                "message": {
                    "id": "msg_01",
                    "content": [
                        {"type": "text", "text": "hi"},
                        {"type": "tool_use", "name": "Bash", "input": {"command": "ls"}},
                    ],
                },
            },
        ],
        None,
        2,
        "$.message.content[1].id",
        "expected str, got nothing",
    ),
    (
        "claude assistant without message",
        [INIT, {"type": "assistant", "session_id": "s-1"}],
        None,
        2,
        "$.message",
        "expected dict, got nothing",
    ),
    (
        "claude hook without session_id",
        [{"hook_event_name": "Stop"}],
        None,
        1,
        "$.session_id",
        "expected str, got nothing",
    ),
    (
        "claude hook tool without tool_use_id",
        [{"hook_event_name": "PreToolUse", "session_id": "s", "tool_name": "Bash"}],
        None,
        1,
        "$.tool_use_id",
        "expected a string, got nothing",
    ),
    (
        "meerkat bare tool_call_requested without name",
        [
            {"type": "run_started", "session_id": "m-1", "prompt": "p"},
            {"type": "tool_call_requested", "id": "tc_1", "args": {}},
        ],
        None,
        2,
        "$.name",
        "expected str, got nothing",
    ),
    (
        "meerkat text_complete with non-string content",
        [{"type": "text_complete", "content": 7}],
        None,
        1,
        "$.content",
        "expected str, got int",
    ),
    (
        "meerkat envelope with non-integer timestamp_ms",
        [{"payload": {"type": "text_delta", "delta": "x"}, "timestamp_ms": "1"}],
        None,
        1,
        "$.timestamp_ms",
        "expected int, got str",
    ),
    (
        "omne line without run_id",
        [PIPE, {"type": "node.started", "id": "01b", "ts": "2026-04-15T12:00:01Z", "node_id": "n"}],
        None,
        2,
        "$.run_id",
        "expected str, got nothing",
    ),
    (
        "omne node.started without kind",
        [PIPE, {"type": "node.started", "id": "01b", "run_id": "r-1", "node_id": "n"}],
        None,
        2,
        "$.kind",
        "expected str, got nothing",
    ),
    ("non-object line", [PIPE, b"[1, 2]"], None, 2, "$", "expected a JSON object"),
    ("non-object first line, format named", [b'"hello"'], "omne", 1, "$", "expected a JSON object"),
    ("invalid JSON", [PIPE, b"{not json}"], None, 2, "$", "invalid JSON"),
    (
        "undetectable first line",
        [{"hello": "world"}, PIPE],
        None,
        1,
        "$",
        "cannot tell which agent wrote this line; name the format (codex, vtcode,",
    ),
    ("non-object first line", [b"[1]"], None, 1, "$", "cannot tell which agent wrote this line"),
]


@pytest.mark.parametrize(
    ("lines", "fmt", "number", "path", "message"),
    [c[1:] for c in ERROR_CASES],
    ids=[c[0] for c in ERROR_CASES],
)
def test_strict_errors_name_file_line_and_path(
    tmp_path: Path, lines: list[Any], fmt: str | None, number: int, path: str, message: str
) -> None:
    source = bad_file(tmp_path, lines)
    reader = AdapterReader(source, format=fmt or "auto")
    with pytest.raises(EventDecodeError) as caught:
        list(reader)
    error = caught.value
    assert (error.source, error.line, error.path) == (str(source), number, path)
    assert error.message.startswith(message)
    where = f"{source}:{number}: " + ("" if path == "$" else f"{path}: ")
    assert str(error).startswith(where + message)


@pytest.mark.parametrize(
    ("lines", "fmt", "number", "path", "message"),
    [c[1:] for c in ERROR_CASES],
    ids=[c[0] for c in ERROR_CASES],
)
def test_lenient_mode_skips_and_counts(
    tmp_path: Path, lines: list[Any], fmt: str | None, number: int, path: str, message: str
) -> None:
    source = bad_file(tmp_path, lines)
    reader = AdapterReader(source, format=fmt or "auto", strict=False)
    out = list(reader)
    assert reader.malformed == 1
    assert len(reader.issues) == 1
    issue = reader.issues[0]
    assert (issue.source, issue.line, issue.path, issue.kind) == (
        str(source),
        number,
        path,
        "malformed",
    )
    assert issue.message.startswith(message)
    assert reader.lines == len(lines)
    assert all(t.line != number for t in out)
    assert reader.events == len(out)


def test_lenient_mode_goes_on_after_bad_lines(tmp_path: Path) -> None:
    lines: list[Any] = [*source_lines(OMNE)]
    lines.insert(2, {"type": "node.started", "id": "x", "node_id": "n", "kind": "bash"})
    lines.insert(5, b"[]")
    source = bad_file(tmp_path, lines)
    reader = AdapterReader(source, strict=False)
    out = list(reader)
    assert [(i.line, i.path) for i in reader.issues] == [(3, "$.run_id"), (6, "$")]
    assert reader.malformed == 2
    assert len(out) == 8  # everything omne-run.jsonl gives
    assert [t.line for t in out] == [1, 2, 4, 5, 7, 8, 9, 10]


def test_undetectable_first_line_is_skipped_in_lenient_mode(tmp_path: Path) -> None:
    source = bad_file(tmp_path, [{"hello": "world"}, *source_lines(OMNE_ABORTED)])
    reader = AdapterReader(source, strict=False)
    out = list(reader)
    assert reader.format == "omne"  # decided by the first line it could tell
    assert [t.line for t in out] == [2, 3, 4, 5]
    assert reader.malformed == 1


@pytest.mark.parametrize("strict", [True, False])
def test_torn_last_line_is_reported_and_skipped(tmp_path: Path, strict: bool) -> None:
    source = tmp_path / "torn.jsonl"
    whole = OMNE_ABORTED.read_bytes()
    source.write_bytes(whole + b'{"type":"pipe.completed","id":"01jr9a0b1c0000000000')
    reader = AdapterReader(source, strict=strict)
    out = list(reader)
    assert [t.line for t in out] == [1, 2, 3, 4]
    assert reader.truncated is True
    assert reader.malformed == 0
    assert reader.issues == [LogIssue(str(source), 5, "$", CUT_SHORT, "truncated")]


def test_name_stands_for_a_stream() -> None:
    reader = AdapterReader(stream_of(PIPE, {"type": "node.completed", "id": "x"}), name="run.jsonl")
    with pytest.raises(EventDecodeError, match=r"^run\.jsonl:2: \$\.run_id: expected str"):
        list(reader)


def test_open_file_is_named_by_its_path(tmp_path: Path) -> None:
    source = bad_file(tmp_path, [PIPE, {"type": "node.completed", "id": "x"}])
    with source.open("rb") as f, pytest.raises(EventDecodeError) as caught:
        list(AdapterReader(f))
    assert str(caught.value).startswith(f"{source}:2: ")


def test_over_long_line_is_reported_as_too_long(tmp_path: Path) -> None:
    source = bad_file(tmp_path, [PIPE, {**PIPE, "pipe": "x" * 200}])
    reader = AdapterReader(source, strict=False, max_line_bytes=150)
    assert len(list(reader)) == 1
    assert reader.malformed == 1
    assert [(i.line, i.kind) for i in reader.issues] == [(2, "too_long")]


# Where these AdapterErrors point: the JSON path of the field in the source line.
WRONG_PATH_CASES = [
    pytest.param(
        [
            {
                "event_id": "e",
                "source": {"type": "session", "session_id": "m"},
                "seq": 0,
                "timestamp_ms": 1760000000000,
                "payload": {"type": "tool_call_requested", "id": "tc_1", "args": {}},
            }
        ],
        "$.payload.name",
        id="meerkat envelope tool_call_requested without name",
    ),
    pytest.param(
        [{"scope_id": "primary", "scope_path": [], "event": {"type": "text_complete"}}],
        "$.event.content",
        id="meerkat scoped text_complete without content",
    ),
    pytest.param(
        [
            INIT,
            {
                "type": "assistant",
                "session_id": "s-1",
                "message": {
                    "id": "msg_01",
                    "content": [
                        {"type": "tool_use", "id": "toolu_01", "name": "Edit", "input": {}}
                    ],
                },
            },
        ],
        "$.message.content[0].input.file_path",
        id="claude Edit tool_use without file_path",
    ),
    pytest.param(
        [
            {
                "hook_event_name": "PreToolUse",
                "session_id": "s",
                "tool_name": "Write",
                "tool_use_id": "toolu_01",
                "tool_input": {"content": "x"},
            }
        ],
        "$.tool_input.file_path",
        id="claude PreToolUse Write without file_path",
    ),
    pytest.param(
        [
            INIT,
            {
                "type": "user",
                "session_id": "s-1",
                "message": {"role": "user", "content": [{"type": "tool_result", "content": "x"}]},
            },
        ],
        "$.message.content[0].tool_use_id",
        id="claude tool_result without tool_use_id",
    ),
]


@pytest.mark.parametrize(("lines", "path"), WRONG_PATH_CASES)
def test_error_path_points_into_the_source_line(
    tmp_path: Path, lines: list[Any], path: str
) -> None:
    source = bad_file(tmp_path, lines)
    with pytest.raises(EventDecodeError) as caught:
        list(AdapterReader(source))
    assert (caught.value.line, caught.value.path) == (len(lines), path)


@pytest.mark.parametrize("ms", [2**70, 2**100])
def test_out_of_range_timestamp_ms_is_a_decode_error(ms: int) -> None:
    line = {"payload": {"type": "text_delta", "delta": "x"}, "timestamp_ms": ms}
    reader = AdapterReader(stream_of(line), strict=False)
    assert list(reader) == []
    assert [(i.line, i.path) for i in reader.issues] == [(1, "$.timestamp_ms")]


BAD_NATIVE_LINES = [
    pytest.param(
        {
            "type": "item.completed",
            "item": {
                "type": "command_execution",
                "id": "c",
                "command": "ls",
                "aggregated_output": "",
                "exit_code": "x",
                "status": "completed",
            },
        },
        "$.item.exit_code",
        "expected an integer, got string 'x'",
        id="bare event with a bad field",
    ),
    pytest.param(
        {"no": "type"},
        "$.type",
        "not an event: the object has neither `type` nor `event`",
        id="no type",
    ),
    pytest.param(
        {
            "event": {"type": "turn.started"},
            "seq": "x",
            "run_id": "r",
            "ts": "2026-01-01T00:00:00Z",
        },
        "$.seq",
        "expected an integer, got string 'x'",
        id="envelope with a bad seq",
    ),
]


@pytest.mark.parametrize("fmt", ["codex", "vtcode", "agent-trace"])
@pytest.mark.parametrize(("obj", "path", "message"), BAD_NATIVE_LINES)
def test_native_adapter_raises_adapter_error(
    fmt: str, obj: dict[str, Any], path: str, message: str
) -> None:
    """The base adapter (the native formats) raises what its docstring and every other
    adapter raise: :class:`AdapterError`, with the JSON path of the field."""
    adapter = adapter_for(fmt)
    with pytest.raises(AdapterError) as caught:
        adapter.translate(obj)
    assert (caught.value.path, caught.value.message) == (path, message)
    # read from a log: the same, located, as an EventDecodeError
    reader = AdapterReader(stream_of({"type": "turn.started"}, obj), format=fmt, name="x.jsonl")
    with pytest.raises(EventDecodeError) as decoded:
        list(reader)
    assert (decoded.value.line, decoded.value.path, decoded.value.message) == (2, path, message)
    assert str(decoded.value) == f"x.jsonl:2: {path}: {message}"


@pytest.mark.parametrize(("obj", "path", "message"), BAD_NATIVE_LINES)
@pytest.mark.parametrize("fmt", ["codex", "auto"])
def test_trace_import_of_a_bad_native_line_is_one_clear_error(
    tmp_path: Path, fmt: str, obj: dict[str, Any], path: str, message: str
) -> None:
    from click.testing import CliRunner
    from gitrepo import GitRepo

    from agent_trace.cli import cli

    repo = GitRepo.init(tmp_path / "repo")
    source = bad_file(tmp_path, [{"type": "thread.started", "thread_id": "t"}, obj])
    env = {"NO_COLOR": "", "FORCE_COLOR": "", "AGENT_TRACE_RUN_ID": None}
    args = ["import", fmt, str(source), "--no-link", "-C", str(repo.root)]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 1, (result.output, result.exc_info)
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.output.splitlines() == [f"Error: {source}:2: {path}: {message}"]


@pytest.mark.parametrize(("obj", "path", "message"), BAD_NATIVE_LINES[:1])
def test_trace_record_reports_a_bad_native_line(
    tmp_path: Path, obj: dict[str, Any], path: str, message: str
) -> None:
    """``trace record``: a bad line of the agent's stdout is a problem of the run, named
    once, and the agent's exit code is passed through."""
    import sys

    from gitrepo import GitRepo

    from agent_trace import record_command

    repo = GitRepo.init(tmp_path / "repo")
    agent = tmp_path / "agent.py"
    lines = [{"type": "thread.started", "thread_id": "t"}, {"type": "turn.started"}, obj]
    agent.write_text(f"import json\nfor line in {lines!r}:\n    print(json.dumps(line))\n")
    out = io.BytesIO()
    outcome = record_command([sys.executable, str(agent)], repo=repo.root, echo=out)
    assert outcome.exit_code == 0
    assert outcome.problems == [f"stdout line 3: {path}: {message}"]


def test_need() -> None:
    assert need({"a": "x"}, "a", str) == "x"
    assert need({"a": None}, "a", (str, type(None))) is None
    with pytest.raises(AdapterError) as caught:
        need({"a": True}, "a", int, "$.payload")
    assert (caught.value.path, caught.value.message) == ("$.payload.a", "expected int, got bool")
    assert need({}, "a", (str, type(None))) is None  # a missing key is null
    with pytest.raises(AdapterError) as caught:
        need({"a": 1}, "a", (str, type(None)))
    assert (caught.value.path, caught.value.message) == ("$.a", "expected str or null, got int")
    with pytest.raises(AdapterError) as caught:
        need({}, "a", str)
    assert (caught.value.path, caught.value.message) == ("$.a", "expected str, got nothing")


# --------------------------------------------------------------------------- properties

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

u64 = st.integers(min_value=0, max_value=2**64 - 1)
u32 = st.integers(min_value=0, max_value=2**32 - 1)
ids = st.text("abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=12)

# Fuzzing: objects shaped like each format's own lines, where any field may be missing, of
# the wrong type or hold anything JSON can.
VOCAB_STRINGS = [
    "create", "update", "text", "Edit", "Write", "Bash", "Read", "mcp__github__create_issue",
    "mcp__x", "write_file", "apply_patch", "search", "*** Add File: a.py\n+x",
]  # fmt: skip
fuzzy_scalars = st.one_of(s.json_scalars, st.sampled_from(VOCAB_STRINGS))
fuzzy_values: st.SearchStrategy[Any] = st.recursive(
    fuzzy_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(s.short_text, children, max_size=4)
    ),
    max_leaves=12,
)
fuzzy_dicts = st.dictionaries(s.short_text, fuzzy_values, max_size=3)


def mostly(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a well-formed value, sometimes anything."""
    return weighted(good, fuzzy_values, 7)


def weighted(
    common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], odds: int
) -> st.SearchStrategy[Any]:
    """``common`` ``odds`` times out of ``odds + 1`` (``one_of`` would not weigh them)."""
    return st.sampled_from([True] * odds + [False]).flatmap(lambda ok: common if ok else rare)


def shaped(
    required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """An object with (usually well-formed) fields, some missing, plus unknown keys."""
    fields = {k: mostly(v) for k, v in required.items()}
    maybe = {k: mostly(v) for k, v in optional.items()}
    return st.builds(
        lambda known, rest, drop: {k: v for k, v in {**rest, **known}.items() if k not in drop},
        st.fixed_dictionaries(fields, optional=maybe),
        fuzzy_dicts,
        weighted(st.just(set()), st.sets(st.sampled_from(sorted(required)), max_size=1), 3)
        if required
        else st.just(set()),
    )


tool_ids = st.sampled_from(["toolu_01A", "toolu_01B", "tc_1"])  # so results meet their calls
tool_names = st.sampled_from(
    [
        "Edit",
        "MultiEdit",
        "Write",
        "NotebookEdit",
        "Bash",
        "Read",
        "mcp__github__create_issue",
        "mcp__bad",
        "write_file",
        "edit_file",
        "apply_patch",
        "search",
    ]
)
paths = st.sampled_from(["/p/a.py", "src/b.rs", ""])
tool_inputs = shaped(
    {"file_path": paths},
    {
        "notebook_path": paths,
        "path": paths,
        "old_string": s.text,
        "new_string": s.text,
        "content": s.text,
        "command": s.text,
        "replace_all": st.booleans(),
        "patch": st.just("*** Begin Patch\n*** Update File: src/a.rs\n"),
    },
)
hunks = shaped(
    {"oldStart": u32, "oldLines": u32, "newStart": u32, "newLines": u32},
    {"lines": st.lists(s.text, max_size=3)},
)
tool_results = shaped(
    {},
    {
        "type": st.sampled_from(["create", "update", "text"]),
        "filePath": paths,
        "originalFile": st.one_of(st.none(), s.text),
        "structuredPatch": st.lists(hunks, max_size=2),
        "content": s.text,
        "file": fuzzy_dicts,
        "stdout": s.text,
    },
)
anthropic_usage = shaped(
    {"input_tokens": u32, "output_tokens": u32},
    {"cache_read_input_tokens": u32, "cache_creation_input_tokens": u32},
)
blocks = st.one_of(
    shaped({"type": st.just("text"), "text": s.text}, {}),
    shaped({"type": st.just("thinking"), "thinking": s.text}, {"signature": s.text}),
    shaped(
        {"type": st.just("tool_use"), "id": tool_ids, "name": tool_names, "input": tool_inputs}, {}
    ),
    shaped(
        {"type": st.just("tool_result"), "tool_use_id": tool_ids},
        {
            "content": st.one_of(s.text, st.lists(fuzzy_dicts, max_size=2)),
            "is_error": st.booleans(),
        },
    ),
)
messages = shaped(
    {"content": weighted(st.lists(blocks, min_size=1, max_size=3), s.text, 3)},
    {
        "id": st.sampled_from(["msg_01A", "msg_01B"]),
        "model": st.sampled_from([SONNET, "<synthetic>"]),
        "usage": anthropic_usage,
        "role": st.sampled_from(["user", "assistant"]),
    },
)
sessions = st.sampled_from(["s-1", "s-2"])
claude_lines = st.one_of(
    shaped(
        {"type": st.just("system"), "subtype": st.just("init"), "session_id": sessions},
        {"model": st.just(SONNET)},
    ),
    shaped(
        {
            "type": st.sampled_from(["assistant", "user"]),
            "message": messages,
            "session_id": sessions,
        },
        {
            "sessionId": sessions,
            "timestamp": st.just("2026-01-01T00:00:00Z"),
            "tool_use_result": tool_results,
            "toolUseResult": tool_results,
        },
    ),
    shaped(
        {"type": st.just("result"), "session_id": sessions},
        {
            "subtype": st.sampled_from(["success", "error_max_turns"]),
            "usage": anthropic_usage,
            "is_error": st.booleans(),
            "num_turns": u32,
            "result": s.text,
            "total_cost_usd": st.floats(0, 10),
        },
    ),
    shaped({"type": st.sampled_from(["summary", "stream_event", "rate_limit_event", "other"])}, {}),
    shaped(
        {
            "hook_event_name": st.sampled_from(sorted(MAPPED_HOOKS | {"Notification"})),
            "session_id": sessions,
            "tool_name": tool_names,
            "tool_use_id": tool_ids,
        },
        {
            "tool_input": tool_inputs,
            "tool_response": tool_results,
            "error": s.text,
            "reason": s.text,
            "model": st.just(SONNET),
        },
    ),
)
MEERKAT_MAPPED = [
    "run_started", "run_completed", "run_failed", "turn_started", "turn_completed",
    "text_complete", "reasoning_complete", "tool_call_requested", "tool_execution_completed",
    "tool_execution_timed_out",
]  # fmt: skip
meerkat_payloads = shaped(
    {
        "type": st.one_of(st.sampled_from(MEERKAT_MAPPED), st.sampled_from(sorted(MEERKAT_TYPES))),
        "session_id": sessions,
        "id": tool_ids,
        "name": tool_names,
        "content": s.text,
    },
    {
        "args": tool_inputs,
        "usage": shaped({}, {"input_tokens": u64, "cache_read_tokens": u64}),
        "is_error": st.booleans(),
        "result": s.text,
        "error": s.text,
        "error_class": s.text,
    },
)
meerkat_lines_fuzzy = st.one_of(
    meerkat_payloads,
    shaped(
        {"payload": meerkat_payloads, "timestamp_ms": st.integers(-(2**63), 2**64 - 1)},
        {"seq": u64, "event_id": ids},
    ),
    shaped({"scope_path": st.lists(fuzzy_dicts, max_size=2), "event": meerkat_payloads}, {}),
)
omne_lines_fuzzy = shaped(
    {"type": st.sampled_from(sorted(OMNE_TYPES)), "run_id": st.sampled_from(["r-1", "r-2"])},
    {
        "id": ids,
        "ts": st.just("2026-04-15T12:00:00Z"),
        "node_id": st.sampled_from(["a", "b"]),
        "kind": st.sampled_from(["prompt", "loop", "bash", "command"]),
        "name": s.text,
        "model": s.text,
        "error": shaped({}, {"kind": s.text}),
        "message": s.text,
        "gate": s.text,
        "reason": s.text,
    },
)


@st.composite
def claude_tool_rounds(draw: st.DrawFn) -> list[Any]:
    """A file tool call and its result (the lines that carry exact edits), either form."""
    tool_id, name = draw(tool_ids), draw(st.sampled_from(["Edit", "Write", "MultiEdit"]))
    response = draw(tool_results)
    if draw(st.booleans()):  # hook payloads
        common = {"session_id": "s-1", "tool_name": name, "tool_use_id": tool_id}
        tool_input = draw(tool_inputs)
        return [
            {"hook_event_name": "PreToolUse", **common, "tool_input": tool_input},
            {"hook_event_name": "PostToolUse", **common, "tool_input": tool_input}
            | {"tool_response": response},
        ]
    use = {"type": "tool_use", "id": tool_id, "name": name, "input": draw(tool_inputs)}
    result = {"type": "tool_result", "tool_use_id": tool_id, "content": draw(fuzzy_values)}
    return [
        {"type": "assistant", "session_id": "s-1", "message": {"id": "m", "content": [use]}},
        {"type": "user", "session_id": "s-1", "message": {"content": [result]}}
        | {draw(st.sampled_from(["tool_use_result", "toolUseResult"])): response},
    ]


def one_line(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    return strategy.map(lambda line: [line])


FUZZY_LINES: dict[str, st.SearchStrategy[list[Any]]] = {
    "claude": st.one_of(one_line(claude_lines), claude_tool_rounds()),
    "meerkat": one_line(meerkat_lines_fuzzy),
    "omne": one_line(omne_lines_fuzzy),
}

U64 = range(-(2**63), 2**64)


def clear_of_known_crash(line: Any) -> Any:
    """``line`` with a top-level ``timestamp_ms`` kept within 64 bits: larger integers crash
    the meerkat adapter (test_out_of_range_timestamp_ms_is_a_decode_error)."""
    if isinstance(line, dict):
        stamp = line.get("timestamp_ms")
        if type(stamp) is int and stamp not in U64:
            return {**line, "timestamp_ms": stamp % 2**64}
    return line


def fuzzy_input(fmt: str) -> st.SearchStrategy[list[Any]]:
    group = weighted(FUZZY_LINES[fmt], one_line(fuzzy_values), 4)
    return st.lists(group, min_size=1, max_size=6).map(
        lambda groups: [clear_of_known_crash(line) for lines in groups for line in lines]
    )


@PROPERTY
@given(
    data=st.sampled_from(["claude", "meerkat", "omne"]).flatmap(
        lambda fmt: st.tuples(st.just(fmt), fuzzy_input(fmt))
    ),
    keep_content=st.booleans(),
)
def test_random_input_never_crashes(data: tuple[str, list[Any]], keep_content: bool) -> None:
    fmt, lines = data
    raw = jsonl(*lines)
    lenient = AdapterReader(io.BytesIO(raw), format=fmt, strict=False, keep_content=keep_content)
    for t in lenient:
        assert to_dict(from_dict(to_dict(t.event))) == to_dict(t.event)
    assert lenient.malformed == len(lenient.issues) <= len(lines)
    strict = AdapterReader(io.BytesIO(raw), format=fmt, strict=True, keep_content=keep_content)
    error: EventDecodeError | None = None
    try:
        for _ in strict:
            pass
    except EventDecodeError as exc:
        error = exc
    if error is not None:
        assert (error.source, error.line) == ("<stream>", strict.lines)
    for _ in AdapterReader(io.BytesIO(raw), strict=False):  # auto-detected
        pass
    for line in lines:
        assert detect_format(line) in (None, *FORMATS)


# Valid meerkat AgentEvents (meerkat_core/event.rs), in any of the three line forms.
meerkat_usage = st.fixed_dictionaries(
    {"input_tokens": u64, "output_tokens": u64},
    optional={"cache_creation_tokens": u64, "cache_read_tokens": u64},
)
tool_names = st.sampled_from(
    ["write_file", "edit_file", "str_replace", "apply_patch", "search", "read_file", "shell"]
)
tool_args = st.one_of(
    st.fixed_dictionaries({"path": s.text}, optional={"content": s.text}),
    st.fixed_dictionaries({"patch": st.just("*** Begin Patch\n*** Update File: src/a.rs\n")}),
    s.json_objects,
)


@st.composite
def agent_events(draw: st.DrawFn, session: str) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            [
                "run_started", "run_completed", "run_failed", "turn_started", "text_delta",
                "text_complete", "reasoning_delta", "reasoning_complete", "tool_call_requested",
                "tool_execution_started", "tool_execution_completed", "tool_execution_timed_out",
                "tool_result_received", "turn_completed", "budget_warning", "retrying",
                "compaction_started", "hook_denied", "stream_truncated",
                "background_job_completed",
            ]
        )
    )  # fmt: skip
    tool = {"id": draw(ids), "name": draw(tool_names)}
    table: dict[str, dict[str, Any]] = {
        "run_started": {"session_id": session, "prompt": draw(s.text)},
        "run_completed": {
            "session_id": session,
            "result": draw(s.text),
            "extraction_required": draw(st.booleans()),
            "usage": draw(meerkat_usage),
        },
        "run_failed": {
            "session_id": session,
            "error_class": draw(st.sampled_from(["llm", "budget", "max_turns", "cancelled"])),
            "error": draw(s.text),
        },
        "turn_started": {"turn_number": draw(u32)},
        "text_delta": {"delta": draw(s.text)},
        "text_complete": {"content": draw(s.text)},
        "reasoning_delta": {"delta": draw(s.text)},
        "reasoning_complete": {"content": draw(s.text)},
        "tool_call_requested": {**tool, "args": draw(tool_args)},
        "tool_execution_started": tool,
        "tool_execution_completed": {
            **tool,
            "result": draw(s.text),
            "is_error": draw(st.booleans()),
            "duration_ms": draw(u64),
        },
        "tool_execution_timed_out": {**tool, "timeout_ms": draw(u64)},
        "tool_result_received": {**tool, "is_error": draw(st.booleans())},
        "turn_completed": {
            "stop_reason": draw(st.sampled_from(["end_turn", "tool_use", "max_tokens"])),
            "usage": draw(meerkat_usage),
        },
        "budget_warning": {
            "budget_type": draw(st.sampled_from(["tokens", "time", "tool_calls"])),
            "used": draw(u64),
            "limit": draw(u64),
            "percent": draw(st.floats(0, 1, width=32)),
        },
        "retrying": {
            "attempt": draw(u32),
            "max_attempts": draw(u32),
            "error": draw(s.text),
            "delay_ms": draw(u64),
        },
        "compaction_started": {
            "input_tokens": draw(u64),
            "estimated_history_tokens": draw(u64),
            "message_count": draw(u64),
        },
        "hook_denied": {
            "hook_id": draw(ids),
            "point": "pre_tool_execution",
            "reason_code": "policy_violation",
            "message": draw(s.text),
        },
        "stream_truncated": {"reason": draw(s.text)},
        "background_job_completed": {
            "job_id": draw(ids),
            "display_name": draw(s.text),
            "status": "completed",
            "terminal_status": "completed",
            "detail": draw(s.text),
        },
    }
    return {"type": kind, **table[kind]}


@st.composite
def meerkat_lines(draw: st.DrawFn) -> list[dict[str, Any]]:
    session = draw(st.uuids()).hex
    events = draw(st.lists(agent_events(session), min_size=1, max_size=8))
    out: list[dict[str, Any]] = []
    for seq, event in enumerate(events):
        form = draw(st.sampled_from(["envelope", "scoped", "bare"]))
        if form == "envelope":
            line: dict[str, Any] = {
                "event_id": str(draw(st.uuids())),
                "source": {"type": "session", "session_id": session},
                "source_id": f"session:{session}",
                "seq": seq,
            }
            if draw(st.booleans()):
                line["mob_id"] = draw(ids)
            line["timestamp_ms"] = draw(st.integers(0, 253_402_300_799_999))
            line["payload"] = event
            out.append(line)
        elif form == "scoped":
            out.append(
                {
                    "scope_id": "primary",
                    "scope_path": [{"scope": "primary", "session_id": session}],
                    "event": event,
                }
            )
        else:
            out.append(event)
    return out


rfc3339 = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
).map(lambda d: d.isoformat().replace("+00:00", "Z"))


@st.composite
def omne_lines(draw: st.DrawFn) -> list[dict[str, Any]]:
    run_id = f"{draw(ids)}-{draw(ids)}"
    nodes = draw(st.lists(ids, min_size=1, max_size=3, unique=True))
    kinds = st.sampled_from(["command", "prompt", "bash", "loop"])
    count = draw(st.integers(1, 8))
    out: list[dict[str, Any]] = []
    for n in range(count):
        kind = draw(
            st.sampled_from(
                [
                    "pipe.started", "pipe.completed", "pipe.aborted", "node.started",
                    "node.completed", "node.failed", "gate.passed", "iteration.started",
                ]
            )
        )  # fmt: skip
        node = draw(st.sampled_from(nodes))
        table: dict[str, dict[str, Any]] = {
            "pipe.started": {
                "pipe": draw(ids),
                **(
                    {"inputs": [{"key": draw(ids), "value": draw(s.text)}]}
                    if draw(st.booleans())
                    else {}
                ),
            },
            "pipe.completed": {},
            "pipe.aborted": {"reason": draw(s.text)},
            "node.started": {
                "node_id": node,
                "kind": draw(kinds),
                **({"name": draw(s.text)} if draw(st.booleans()) else {}),
                **({"model": draw(ids)} if draw(st.booleans()) else {}),
            },
            "node.completed": {"node_id": node, "output_path": f".omne/var/runs/{run_id}/{node}"},
            "node.failed": {
                "node_id": node,
                "error": {
                    "kind": draw(st.sampled_from(["host_missing", "timeout", "blocked", "crash"]))
                },
                **({"message": draw(s.text)} if draw(st.booleans()) else {}),
            },
            "gate.passed": {
                "node_id": node,
                "gate": draw(ids),
                "method": draw(st.sampled_from(["hook", "human_cli", "mcp_tool"])),
                **({"stdout": draw(s.text)} if draw(st.booleans()) else {}),
            },
            "iteration.started": {
                "node_id": node,
                "iteration": draw(u32),
                "byte_offset": draw(u64),
            },
        }
        out.append(
            {"type": kind, "id": f"{n:026d}", "ts": draw(rfc3339), "run_id": run_id, **table[kind]}
        )
    return out


def check_valid_lines(fmt: str, lines: list[dict[str, Any]]) -> list[Translated]:
    reader = AdapterReader(io.BytesIO(jsonl(*lines)), format="auto", strict=True)
    out = list(reader)
    assert reader.format == fmt
    assert (reader.malformed, reader.issues) == (0, [])
    assert {t.line for t in out if t.line is not None} == set(range(1, len(lines) + 1))
    for t in out:
        data = to_dict(t.event)
        assert to_dict(from_dict(data)) == data
        assert from_dict(data) == t.event
    return out


@PROPERTY
@given(meerkat_lines())
def test_valid_meerkat_events_translate(lines: list[dict[str, Any]]) -> None:
    out = check_valid_lines("meerkat", lines)
    for t in out:
        assert t.line is not None
        line = lines[t.line - 1]
        assert t.ts == (ts_of_ms(line["timestamp_ms"]) if "timestamp_ms" in line else None)
    regions_by_line: dict[int, list[dict[str, Any]]] = {}
    for t in out:
        assert t.line is not None
        regions_by_line.setdefault(t.line, []).append(to_dict(t.event))
    for number, line in enumerate(lines, start=1):
        regions = kept_regions("meerkat", regions_by_line[number])
        for key, value in meerkat_expected(line).items():
            assert any(has_pair(r, key, value) for r in regions), (number, key)


@PROPERTY
@given(omne_lines())
def test_valid_omne_events_translate(lines: list[dict[str, Any]]) -> None:
    out = check_valid_lines("omne", lines)
    for t in out:
        assert t.line is not None
        assert t.ts == lines[t.line - 1]["ts"]
        regions = kept_regions("omne", [to_dict(t.event)])
        for key, value in omne_expected(lines[t.line - 1]).items():
            assert any(has_pair(r, key, value) for r in regions), (t.line, key)
