"""Golden tests: the exact wire bytes of every event and item type.

Objects built in Python are written in declaration order, ``skip_if_none`` fields are left
out when ``None`` and ``extra`` keys come last. Objects read from the wire are written back
exactly as they were read, unknown types, fields and enum values included.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent_trace.events import (
    EVENT_SCHEMA_VERSION,
    AgentMessageItem,
    CommandExecutionItem,
    CommandExecutionStatus,
    ErrorDetail,
    ErrorItem,
    EventEnvelope,
    FileChangeItem,
    FileUpdateChange,
    ItemCompletedEvent,
    ItemStartedEvent,
    ItemUpdatedEvent,
    LogRecord,
    McpToolCallItem,
    McpToolCallStatus,
    PatchApplyStatus,
    PatchChangeKind,
    PlanItem,
    ReasoningItem,
    ThreadCompletedEvent,
    ThreadCompletionSubtype,
    ThreadErrorEvent,
    ThreadEvent,
    ThreadStartedEvent,
    TodoEntry,
    TodoListItem,
    ToolCallStatus,
    ToolInvocationItem,
    ToolInvocationOutcome,
    ToolOutputItem,
    TurnCompletedEvent,
    TurnFailedEvent,
    TurnStartedEvent,
    UnknownEvent,
    UnknownItem,
    Usage,
    VersionedThreadEvent,
    WebSearchItem,
    __all__,
    from_dict,
    from_json,
    parse_record,
    record_to_bytes,
    to_dict,
    to_json,
)

USAGE = Usage(input_tokens=10, cached_input_tokens=4, output_tokens=3)
USAGE_JSON = b'{"input_tokens":10,"cached_input_tokens":4,"output_tokens":3}'


def completed(item: Any) -> ItemCompletedEvent:
    return ItemCompletedEvent(item=item)


# (id, object built in Python, its exact wire bytes)
BUILT: list[tuple[str, ThreadEvent, bytes]] = [
    (
        "thread.started",
        ThreadStartedEvent(thread_id="0199a213-81c0-7800-8aa1-bbab2a035a53"),
        b'{"type":"thread.started","thread_id":"0199a213-81c0-7800-8aa1-bbab2a035a53"}',
    ),
    (
        "thread.completed-minimal",
        ThreadCompletedEvent(
            thread_id="t",
            session_id="s",
            subtype=ThreadCompletionSubtype.SUCCESS,
            outcome_code="success",
            usage=USAGE,
            num_turns=2,
        ),
        b'{"type":"thread.completed","thread_id":"t","session_id":"s","subtype":"success",'
        b'"outcome_code":"success","usage":' + USAGE_JSON + b',"num_turns":2}',
    ),
    (
        "thread.completed-full",
        ThreadCompletedEvent(
            thread_id="t",
            session_id="s",
            subtype=ThreadCompletionSubtype.ERROR_MAX_BUDGET_USD,
            outcome_code="budget",
            result="stopped",
            stop_reason="max_budget",
            usage=Usage(
                input_tokens=10, cached_input_tokens=4, cache_creation_tokens=2, output_tokens=3
            ),
            total_cost_usd=0.95,
            num_turns=7,
        ),
        b'{"type":"thread.completed","thread_id":"t","session_id":"s",'
        b'"subtype":"error_max_budget_usd","outcome_code":"budget","result":"stopped",'
        b'"stop_reason":"max_budget","usage":{"input_tokens":10,"cached_input_tokens":4,'
        b'"cache_creation_tokens":2,"output_tokens":3},"total_cost_usd":0.95,"num_turns":7}',
    ),
    ("turn.started", TurnStartedEvent(), b'{"type":"turn.started"}'),
    (
        "turn.started-token_breakdown",
        TurnStartedEvent(
            token_breakdown={
                "system_prompt_tokens": 1200,
                "tool_schema_tokens": 800,
                "instruction_file_tokens": 0,
                "message_history_tokens": 15,
                "cache_read_tokens": 0,
                "cache_write_tokens": 0,
                "cache_miss_tokens": 2015,
            }
        ),
        b'{"type":"turn.started","token_breakdown":{"system_prompt_tokens":1200,'
        b'"tool_schema_tokens":800,"instruction_file_tokens":0,"message_history_tokens":15,'
        b'"cache_read_tokens":0,"cache_write_tokens":0,"cache_miss_tokens":2015}}',
    ),
    (
        "turn.completed",
        TurnCompletedEvent(usage=USAGE),
        b'{"type":"turn.completed","usage":' + USAGE_JSON + b"}",
    ),
    (
        "turn.completed-codex-newer-usage",
        TurnCompletedEvent(
            usage=Usage(
                input_tokens=10, cached_input_tokens=4, output_tokens=3, reasoning_output_tokens=1
            )
        ),
        b'{"type":"turn.completed","usage":{"input_tokens":10,"cached_input_tokens":4,'
        b'"output_tokens":3,"reasoning_output_tokens":1}}',
    ),
    (
        "turn.failed-vtcode",
        TurnFailedEvent(message="model refused", usage=USAGE),
        b'{"type":"turn.failed","message":"model refused","usage":' + USAGE_JSON + b"}",
    ),
    (
        "turn.failed-codex",
        TurnFailedEvent(error=ErrorDetail(message="stream disconnected")),
        b'{"type":"turn.failed","error":{"message":"stream disconnected"}}',
    ),
    (
        "item.started",
        ItemStartedEvent(item=AgentMessageItem(id="item_0", text="Hi")),
        b'{"type":"item.started","item":{"id":"item_0","type":"agent_message","text":"Hi"}}',
    ),
    (
        "item.updated",
        ItemUpdatedEvent(item=AgentMessageItem(id="item_0", text="Hi there")),
        b'{"type":"item.updated","item":{"id":"item_0","type":"agent_message","text":"Hi there"}}',
    ),
    (
        "item.completed-agent_message",
        completed(AgentMessageItem(id="item_0", text="Done \u2014 3 files changed.")),
        b'{"type":"item.completed","item":{"id":"item_0","type":"agent_message",'
        b'"text":"Done \xe2\x80\x94 3 files changed."}}',
    ),
    (
        "error",
        ThreadErrorEvent(message="fatal: quota exceeded"),
        b'{"type":"error","message":"fatal: quota exceeded"}',
    ),
    (
        "reasoning",
        completed(ReasoningItem(id="r", text="**Thinking**")),
        b'{"type":"item.completed","item":{"id":"r","type":"reasoning","text":"**Thinking**"}}',
    ),
    (
        "reasoning-stage",
        completed(ReasoningItem(id="r", text="t", stage="analysis")),
        b'{"type":"item.completed","item":{"id":"r","type":"reasoning","text":"t",'
        b'"stage":"analysis"}}',
    ),
    (
        "plan",
        completed(PlanItem(id="p", text="1. read\n2. edit")),
        b'{"type":"item.completed","item":{"id":"p","type":"plan","text":"1. read\\n2. edit"}}',
    ),
    (
        "command_execution-in_progress",
        ItemStartedEvent(
            item=CommandExecutionItem(
                id="item_1", command="bash -lc ls", status=CommandExecutionStatus.IN_PROGRESS
            )
        ),
        b'{"type":"item.started","item":{"id":"item_1","type":"command_execution",'
        b'"command":"bash -lc ls","aggregated_output":"","status":"in_progress"}}',
    ),
    (
        "command_execution-full",
        completed(
            CommandExecutionItem(
                id="item_1",
                command="pytest",
                arguments={"argv": ["pytest", "-q"]},
                aggregated_output="1 passed\n",
                exit_code=0,
                status=CommandExecutionStatus.COMPLETED,
            )
        ),
        b'{"type":"item.completed","item":{"id":"item_1","type":"command_execution",'
        b'"command":"pytest","arguments":{"argv":["pytest","-q"]},'
        b'"aggregated_output":"1 passed\\n","exit_code":0,"status":"completed"}}',
    ),
    (
        "command_execution-declined",
        completed(
            CommandExecutionItem(
                id="item_2", command="rm -rf /", status=CommandExecutionStatus.DECLINED
            )
        ),
        b'{"type":"item.completed","item":{"id":"item_2","type":"command_execution",'
        b'"command":"rm -rf /","aggregated_output":"","status":"declined"}}',
    ),
    (
        "file_change",
        completed(
            FileChangeItem(
                id="f",
                changes=[
                    FileUpdateChange(path="a.py", kind=PatchChangeKind.ADD),
                    FileUpdateChange(path="b.py", kind=PatchChangeKind.DELETE),
                    FileUpdateChange(path="c.py", kind=PatchChangeKind.UPDATE),
                ],
                status=PatchApplyStatus.COMPLETED,
            )
        ),
        b'{"type":"item.completed","item":{"id":"f","type":"file_change","changes":['
        b'{"path":"a.py","kind":"add"},{"path":"b.py","kind":"delete"},'
        b'{"path":"c.py","kind":"update"}],"status":"completed"}}',
    ),
    (
        "mcp_tool_call-vtcode",
        completed(
            McpToolCallItem(
                id="m",
                tool_name="fetch",
                arguments={"url": "https://example.com"},
                result="ok",
                status=McpToolCallStatus.STARTED,
            )
        ),
        b'{"type":"item.completed","item":{"id":"m","type":"mcp_tool_call","tool_name":"fetch",'
        b'"arguments":{"url":"https://example.com"},"result":"ok","status":"started"}}',
    ),
    (
        "mcp_tool_call-codex",
        completed(
            McpToolCallItem(
                id="item_3",
                server="docs",
                tool="search",
                arguments={"q": "attrs"},
                result={"content": [{"type": "text", "text": "hit"}], "structured_content": None},
                error=ErrorDetail(message="timeout"),
                status=McpToolCallStatus.FAILED,
            )
        ),
        b'{"type":"item.completed","item":{"id":"item_3","type":"mcp_tool_call",'
        b'"server":"docs","tool":"search","arguments":{"q":"attrs"},'
        b'"result":{"content":[{"type":"text","text":"hit"}],"structured_content":null},'
        b'"error":{"message":"timeout"},"status":"failed"}}',
    ),
    (
        "web_search-vtcode",
        completed(WebSearchItem(id="w", query="attrs", provider="ddg", results=["a", "b"])),
        b'{"type":"item.completed","item":{"id":"w","type":"web_search","query":"attrs",'
        b'"provider":"ddg","results":["a","b"]}}',
    ),
    (
        "web_search-codex-action",
        completed(
            WebSearchItem(id="item_5", query="attrs", action={"type": "search", "query": "attrs"})
        ),
        b'{"type":"item.completed","item":{"id":"item_5","type":"web_search","query":"attrs",'
        b'"action":{"type":"search","query":"attrs"}}}',
    ),
    (
        "todo_list",
        completed(
            TodoListItem(
                id="item_6",
                items=[
                    TodoEntry(text="write tests", completed=True),
                    TodoEntry(text="ship", completed=False),
                ],
            )
        ),
        b'{"type":"item.completed","item":{"id":"item_6","type":"todo_list","items":['
        b'{"text":"write tests","completed":true},{"text":"ship","completed":false}]}}',
    ),
    (
        "tool_invocation",
        completed(
            ToolInvocationItem(
                id="tool_call_0",
                tool_name="read_file",
                arguments={"path": "AGENTS.md"},
                tool_call_id="call_abc",
                status=ToolCallStatus.COMPLETED,
                outcome=ToolInvocationOutcome.SUCCESS,
            )
        ),
        b'{"type":"item.completed","item":{"id":"tool_call_0","type":"tool_invocation",'
        b'"tool_name":"read_file","arguments":{"path":"AGENTS.md"},"tool_call_id":"call_abc",'
        b'"status":"completed","outcome":"success"}}',
    ),
    (
        "tool_invocation-minimal",
        ItemStartedEvent(
            item=ToolInvocationItem(
                id="tool_call_0", tool_name="list", status=ToolCallStatus.IN_PROGRESS
            )
        ),
        b'{"type":"item.started","item":{"id":"tool_call_0","type":"tool_invocation",'
        b'"tool_name":"list","status":"in_progress"}}',
    ),
    (
        "tool_output",
        completed(
            ToolOutputItem(
                id="tool_call_0:output",
                call_id="tool_call_0",
                tool_call_id="call_abc",
                spool_path=".vtcode/spool/1.txt",
                output="# AGENTS\n",
                exit_code=1,
                status=ToolCallStatus.FAILED,
            )
        ),
        b'{"type":"item.completed","item":{"id":"tool_call_0:output","type":"tool_output",'
        b'"call_id":"tool_call_0","tool_call_id":"call_abc","spool_path":".vtcode/spool/1.txt",'
        b'"output":"# AGENTS\\n","exit_code":1,"status":"failed"}}',
    ),
    (
        "tool_output-minimal",
        completed(ToolOutputItem(id="o", call_id="c", status=ToolCallStatus.COMPLETED)),
        b'{"type":"item.completed","item":{"id":"o","type":"tool_output","call_id":"c",'
        b'"output":"","status":"completed"}}',
    ),
    (
        "error-item",
        completed(ErrorItem(id="e", message="command timed out")),
        b'{"type":"item.completed","item":{"id":"e","type":"error","message":"command timed out"}}',
    ),
    (
        "unknown-item",
        completed(UnknownItem({"id": "h", "type": "harness", "event": "planning_started"})),
        b'{"type":"item.completed","item":{"id":"h","type":"harness","event":"planning_started"}}',
    ),
    (
        "unknown-event",
        UnknownEvent({"type": "permission.requested", "tool_name": "bash"}),
        b'{"type":"permission.requested","tool_name":"bash"}',
    ),
    (
        "extra-keys-last",
        completed(
            CommandExecutionItem(
                id="i",
                command="ls",
                exit_code=0,
                status=CommandExecutionStatus.COMPLETED,
                extra={"duration_ms": 12, "cwd": "/w"},
            )
        ),
        b'{"type":"item.completed","item":{"id":"i","type":"command_execution","command":"ls",'
        b'"aggregated_output":"","exit_code":0,"status":"completed","duration_ms":12,"cwd":"/w"}}',
    ),
    (
        "extra-keys-on-event",
        ThreadStartedEvent(thread_id="t", extra={"timestamp": "2026-01-01T00:00:00Z"}),
        b'{"type":"thread.started","thread_id":"t","timestamp":"2026-01-01T00:00:00Z"}',
    ),
    (
        "unknown-enum-value-built",
        completed(CommandExecutionItem(id="i", command="ls", status="queued")),
        b'{"type":"item.completed","item":{"id":"i","type":"command_execution","command":"ls",'
        b'"aggregated_output":"","status":"queued"}}',
    ),
]


@pytest.mark.parametrize(
    ("obj", "wire"), [(o, w) for _, o, w in BUILT], ids=[i for i, _, _ in BUILT]
)
def test_built_object_wire_bytes(obj: ThreadEvent, wire: bytes) -> None:
    assert record_to_bytes(obj) == wire
    assert to_json(obj) == wire.decode()
    assert from_json(wire) == obj
    assert from_dict(to_dict(obj)) == obj
    # Read back from the wire, it writes the same bytes again.
    assert record_to_bytes(from_json(wire)) == wire


def test_every_event_and_item_class_has_a_golden() -> None:
    import agent_trace.events as events

    covered: set[str] = set()
    for _, obj, _ in BUILT:
        covered.add(type(obj).__name__)
        item = getattr(obj, "item", None)
        if item is not None:
            covered.add(type(item).__name__)
    wire_classes = {
        name
        for name in __all__
        if name.endswith(("Event", "Item")) and isinstance(getattr(events, name), type)
    }
    wire_classes -= {"VersionedThreadEvent"}
    assert wire_classes - covered == set()


def test_versioned_and_envelope_wire_bytes() -> None:
    event = ThreadStartedEvent(thread_id="t")
    versioned = VersionedThreadEvent(event=event)
    assert record_to_bytes(versioned) == (
        b'{"schema_version":"' + EVENT_SCHEMA_VERSION.encode() + b'",'
        b'"event":{"type":"thread.started","thread_id":"t"}}'
    )
    envelope = EventEnvelope(
        seq=7,
        id="0190b2a4-0000-7000-8000-000000000000",
        ts="2026-11-21T22:22:11.123Z",
        run_id="run-1",
        event=event,
    )
    wire = (
        b'{"schema_version":"' + EVENT_SCHEMA_VERSION.encode() + b'","seq":7,'
        b'"id":"0190b2a4-0000-7000-8000-000000000000","ts":"2026-11-21T22:22:11.123Z",'
        b'"run_id":"run-1","event":{"type":"thread.started","thread_id":"t"}}'
    )
    assert record_to_bytes(envelope) == wire
    assert parse_record(wire) == envelope
    assert parse_record(record_to_bytes(versioned)) == versioned


# Lines as other producers write them: each must load and be written back unchanged.
FROM_WIRE: list[tuple[str, bytes, type]] = [
    (
        "codex-turn.failed",
        b'{"type":"turn.failed","error":{"message":"unexpected status 401 Unauthorized"}}',
        TurnFailedEvent,
    ),
    (
        "codex-declined-exit_code-null",
        b'{"type":"item.completed","item":{"id":"item_4","type":"command_execution",'
        b'"command":"git push","aggregated_output":"","exit_code":null,"status":"declined"}}',
        ItemCompletedEvent,
    ),
    (
        "codex-exit_code-absent",
        b'{"type":"item.started","item":{"id":"item_1","type":"command_execution",'
        b'"command":"bash -lc ls","aggregated_output":"","status":"in_progress"}}',
        ItemStartedEvent,
    ),
    (
        "codex-mcp-in_progress-nulls",
        b'{"type":"item.started","item":{"id":"item_7","type":"mcp_tool_call","server":"docs",'
        b'"tool":"search","arguments":{"q":"x"},"result":null,"error":null,'
        b'"status":"in_progress"}}',
        ItemStartedEvent,
    ),
    (
        "codex-mcp-completed",
        b'{"type":"item.completed","item":{"id":"item_7","type":"mcp_tool_call","server":"docs",'
        b'"tool":"search","arguments":{"q":"x"},"result":{"content":[{"type":"text",'
        b'"text":"hit"}],"structured_content":{"n":1}},"error":null,"status":"completed"}}',
        ItemCompletedEvent,
    ),
    (
        "codex-todo_list",
        b'{"type":"item.updated","item":{"id":"item_8","type":"todo_list","items":[{"text":'
        b'"Read code","completed":true},{"text":"Fix bug","completed":false}]}}',
        ItemUpdatedEvent,
    ),
    (
        "codex-web_search-action",
        b'{"type":"item.completed","item":{"id":"item_9","type":"web_search","query":"uuid v7",'
        b'"action":{"type":"search","query":"uuid v7"}}}',
        ItemCompletedEvent,
    ),
    (
        "codex-usage-newer",
        b'{"type":"turn.completed","usage":{"input_tokens":5,"cached_input_tokens":0,'
        b'"cache_write_input_tokens":2,"output_tokens":1,"reasoning_output_tokens":0}}',
        TurnCompletedEvent,
    ),
    (
        "vtcode-turn.started-token_breakdown",
        b'{"schema_version":"0.11.0","event":{"type":"turn.started","token_breakdown":'
        b'{"system_prompt_tokens":1,"tool_schema_tokens":2,"instruction_file_tokens":3,'
        b'"message_history_tokens":4,"cache_read_tokens":5,"cache_write_tokens":6,'
        b'"cache_miss_tokens":7,"subagent_bootstrap_tokens":8}}}',
        VersionedThreadEvent,
    ),
    (
        "vtcode-thread.completed",
        b'{"schema_version":"0.11.0","event":{"type":"thread.completed","thread_id":"t",'
        b'"session_id":"s","subtype":"error_during_execution","outcome_code":"tool_error",'
        b'"stop_reason":"error","usage":{"input_tokens":1,"cached_input_tokens":0,'
        b'"cache_creation_tokens":0,"output_tokens":2},"total_cost_usd":0.00001,'
        b'"num_turns":3}}',
        VersionedThreadEvent,
    ),
    (
        "vtcode-reasoning-stage",
        b'{"schema_version":"0.11.0","event":{"type":"item.completed","item":{"id":"r1",'
        b'"type":"reasoning","text":"hmm","stage":"planning"}}}',
        VersionedThreadEvent,
    ),
    (
        "vtcode-plan",
        b'{"type":"item.completed","item":{"id":"p1","type":"plan","text":"- step"}}',
        ItemCompletedEvent,
    ),
    (
        "vtcode-tool_invocation",
        b'{"type":"item.completed","item":{"id":"tool_call_0","type":"tool_invocation",'
        b'"tool_name":"unified_search","arguments":{"action":"grep","pattern":"fn main"},'
        b'"tool_call_id":"call_1","status":"failed","outcome":"permission_rejected"}}',
        ItemCompletedEvent,
    ),
    (
        "vtcode-tool_output",
        b'{"type":"item.completed","item":{"id":"tool_call_0:output","type":"tool_output",'
        b'"call_id":"tool_call_0","output":"{\\"ok\\":true}","exit_code":0,"status":"completed"}}',
        ItemCompletedEvent,
    ),
    (
        "unknown-event-type",
        b'{"type":"thread.compact_boundary","thread_id":"t","trigger":"auto","mode":"local",'
        b'"original_message_count":40,"compacted_message_count":5}',
        UnknownEvent,
    ),
    (
        "unknown-event-type-not-first",
        b'{"thread_id":"t","type":"context.reset","nested":{"b":[1,2,{"c":null}]}}',
        UnknownEvent,
    ),
    (
        "unknown-item-type",
        b'{"type":"item.completed","item":{"id":"c1","type":"collab_tool_call",'
        b'"tool":"spawn_agent","receiver_thread_ids":["a","b"],"status":"completed"}}',
        ItemCompletedEvent,
    ),
    (
        "unknown-field-mid-object",
        b'{"type":"item.completed","item":{"id":"i","type":"command_execution","command":"ls",'
        b'"duration_ms":1234,"aggregated_output":"","exit_code":0,"status":"completed"}}',
        ItemCompletedEvent,
    ),
    (
        "unknown-field-mid-event",
        b'{"type":"thread.started","timestamp":"2026-01-01T00:00:00Z","thread_id":"t"}',
        ThreadStartedEvent,
    ),
    (
        "unknown-field-in-usage",
        b'{"type":"turn.completed","usage":{"input_tokens":1,"total_tokens":3,'
        b'"cached_input_tokens":0,"output_tokens":2}}',
        TurnCompletedEvent,
    ),
    (
        "unknown-field-in-file-change",
        b'{"type":"item.completed","item":{"id":"f","type":"file_change","changes":[{"path":'
        b'"a","diff":"@@ -1 +1 @@","kind":"update"}],"status":"completed"}}',
        ItemCompletedEvent,
    ),
    (
        "fields-in-unusual-order",
        b'{"item":{"status":"completed","type":"agent_message","text":"x","id":"i"},'
        b'"type":"item.completed"}',
        ItemCompletedEvent,
    ),
    (
        "unknown-enum-values",
        b'{"type":"item.completed","item":{"id":"f","type":"file_change","changes":[{"path":'
        b'"a","kind":"rename"}],"status":"partially_applied"}}',
        ItemCompletedEvent,
    ),
    (
        "unknown-subtype",
        b'{"type":"thread.completed","thread_id":"t","session_id":"s","subtype":"unknown",'
        b'"outcome_code":"x","usage":{"input_tokens":1,"cached_input_tokens":0,'
        b'"output_tokens":2},"num_turns":0}',
        ThreadCompletedEvent,
    ),
    (
        "non-ascii",
        '{"type":"item.completed","item":{"id":"i","type":"agent_message","text":'
        '"\u00e9 \u00fc \u65e5\u672c \U0001f600 \u2014 \\"q\\" \\\\ /"}}'.encode(),
        ItemCompletedEvent,
    ),
    (
        "control-chars-lowercase-escapes",
        b'{"type":"item.completed","item":{"id":"i","type":"command_execution","command":"c",'
        b'"aggregated_output":"\\u0000\\u0001\\u001f\\b\\f\\n\\r\\t","status":"completed"}}',
        ItemCompletedEvent,
    ),
    (
        "u2028-u2029-del-raw",
        '{"type":"item.completed","item":{"id":"i","type":"agent_message",'
        '"text":"a\u2028b\u2029c\x7fd\x85e\u001c"}}'.replace("\u001c", "\\u001c").encode(),
        ItemCompletedEvent,
    ),
    (
        "big-integers-in-arguments",
        b'{"type":"item.completed","item":{"id":"t","type":"tool_invocation","tool_name":"x",'
        b'"arguments":{"big":123456789012345678901234567890,"neg":-98765432109876543210987,'
        b'"u64":18446744073709551615,"i64min":-9223372036854775808,"two64":18446744073709551616},'
        b'"status":"completed"}}',
        ItemCompletedEvent,
    ),
]


@pytest.mark.parametrize(
    ("wire", "cls"), [(w, c) for _, w, c in FROM_WIRE], ids=[i for i, _, _ in FROM_WIRE]
)
def test_wire_lines_round_trip_byte_identical(wire: bytes, cls: type) -> None:
    record = parse_record(wire)
    assert type(record) is cls
    assert record_to_bytes(record) == wire
    assert to_json(record).encode() == wire
    assert record_to_bytes(parse_record(to_dict(record))) == wire


def item_of(wire: bytes) -> Any:
    event = from_json(wire)
    assert isinstance(event, ItemStartedEvent | ItemUpdatedEvent | ItemCompletedEvent)
    return event.item


def wire_of(name: str) -> bytes:
    return next(w for i, w, _ in FROM_WIRE if i == name)


def test_exit_code_null_read_and_reemitted_as_null() -> None:
    item = item_of(wire_of("codex-declined-exit_code-null"))
    assert isinstance(item, CommandExecutionItem)
    assert item.exit_code is None
    assert item.status is CommandExecutionStatus.DECLINED
    assert b'"exit_code":null' in record_to_bytes(completed(item))


def test_exit_code_absent_stays_absent() -> None:
    item = item_of(wire_of("codex-exit_code-absent"))
    assert isinstance(item, CommandExecutionItem)
    assert item.exit_code is None
    assert b"exit_code" not in record_to_bytes(completed(item))


def test_codex_turn_failed_typed() -> None:
    event = from_json(wire_of("codex-turn.failed"))
    assert isinstance(event, TurnFailedEvent)
    assert event.message is None
    assert event.error == ErrorDetail(message="unexpected status 401 Unauthorized")
    assert event.error_message == "unexpected status 401 Unauthorized"


def test_codex_mcp_tool_call_typed() -> None:
    item = item_of(wire_of("codex-mcp-completed"))
    assert isinstance(item, McpToolCallItem)
    assert (item.server, item.tool, item.tool_name) == ("docs", "search", None)
    assert item.name == "docs.search"
    assert item.result == {
        "content": [{"type": "text", "text": "hit"}],
        "structured_content": {"n": 1},
    }
    assert item.error is None
    assert item.status is McpToolCallStatus.COMPLETED


def test_todo_list_and_web_search_typed() -> None:
    todo = item_of(wire_of("codex-todo_list"))
    assert isinstance(todo, TodoListItem)
    assert todo.items == [
        TodoEntry(text="Read code", completed=True),
        TodoEntry(text="Fix bug", completed=False),
    ]
    search = item_of(wire_of("codex-web_search-action"))
    assert isinstance(search, WebSearchItem)
    assert search.action == {"type": "search", "query": "uuid v7"}


def test_unknown_event_keeps_payload() -> None:
    event = from_json(wire_of("unknown-event-type"))
    assert isinstance(event, UnknownEvent)
    assert event.type == "thread.compact_boundary"
    assert event.data["compacted_message_count"] == 5


def test_unknown_item_keeps_payload() -> None:
    item = item_of(wire_of("unknown-item-type"))
    assert isinstance(item, UnknownItem)
    assert (item.id, item.type) == ("c1", "collab_tool_call")
    assert item.data["receiver_thread_ids"] == ["a", "b"]


def test_unknown_field_lands_in_extra() -> None:
    item = item_of(wire_of("unknown-field-mid-object"))
    assert isinstance(item, CommandExecutionItem)
    assert item.extra == {"duration_ms": 1234}
    assert item.exit_code == 0
    # The same object built in Python writes the unknown key last instead.
    fresh = CommandExecutionItem(
        id="i", command="ls", exit_code=0, status="completed", extra={"duration_ms": 1234}
    )
    assert fresh == item
    assert record_to_bytes(completed(fresh)).endswith(b'"status":"completed","duration_ms":1234}}')


def test_unknown_enum_values_stay_plain_strings() -> None:
    item = item_of(wire_of("unknown-enum-values"))
    assert isinstance(item, FileChangeItem)
    assert type(item.status) is str
    assert item.status == "partially_applied"
    assert type(item.changes[0].kind) is str
    assert item.changes[0].kind == "rename"
    event = from_json(wire_of("unknown-subtype"))
    assert isinstance(event, ThreadCompletedEvent)
    assert type(event.subtype) is str


def test_known_enum_values_become_enum_members() -> None:
    item = item_of(wire_of("vtcode-tool_invocation"))
    assert isinstance(item, ToolInvocationItem)
    assert item.status is ToolCallStatus.FAILED
    assert item.outcome is ToolInvocationOutcome.PERMISSION_REJECTED


def test_control_characters_are_lowercase_escapes() -> None:
    text = "\x00\x01\x1f\x08\x0c\n\r\t"
    out = record_to_bytes(completed(AgentMessageItem(id="i", text=text)))
    assert out == (
        b'{"type":"item.completed","item":{"id":"i","type":"agent_message",'
        b'"text":"\\u0000\\u0001\\u001f\\b\\f\\n\\r\\t"}}'
    )
    item = item_of(wire_of("control-chars-lowercase-escapes"))
    assert isinstance(item, CommandExecutionItem)
    assert item.aggregated_output == text


def test_u2028_del_and_non_ascii_written_raw() -> None:
    text = "a\u2028b\u2029c\x7fd\x85e \u00e9\u65e5\U0001f600"
    out = record_to_bytes(completed(AgentMessageItem(id="i", text=text)))
    assert text.encode() in out
    assert b"\\u" not in out
    # A line splitter that splits on U+2028 (str.splitlines) would break this line.
    assert len(out.split(b"\n")) == 1


def test_big_integers_survive_exactly() -> None:
    item = item_of(wire_of("big-integers-in-arguments"))
    assert isinstance(item, ToolInvocationItem)
    assert item.arguments["big"] == 123456789012345678901234567890
    assert item.arguments["neg"] == -98765432109876543210987
    assert item.arguments["two64"] == 2**64
    assert type(item.arguments["u64"]) is int
    built = completed(
        ToolInvocationItem(
            id="t", tool_name="x", arguments={"n": 2**100, "m": -(2**70)}, status="completed"
        )
    )
    assert record_to_bytes(built).count(str(2**100).encode()) == 1
    assert from_json(to_json(built)) == built


@pytest.mark.parametrize(
    "number",
    [b"-9223372036854775809", b"-9999999999999999999", b"9223372036854775808"],
    ids=["i64min-minus-1", "19-digit-negative", "i64max-plus-1"],
)
def test_integers_just_outside_int64_survive(number: bytes) -> None:
    wire = b'{"type":"x.custom","n":' + number + b"}"
    event = from_json(wire)
    assert isinstance(event, UnknownEvent)
    assert event.data["n"] == int(number)
    assert type(event.data["n"]) is int
    assert record_to_bytes(event) == wire


@pytest.mark.parametrize(
    "number", [b"0.00001", b"0.95", b"1.0", b"2.5e-8", b"1e16"], ids=lambda b: b.decode()
)
def test_floats_written_as_serde_writes_them(number: bytes) -> None:
    wire = b'{"type":"x.custom","f":' + number + b"}"
    assert record_to_bytes(from_json(wire)) == wire


def test_floats_beside_a_big_integer_keep_their_form() -> None:
    wire = b'{"type":"x.custom","n":123456789012345678901234567890,"f":0.00001,"g":0.95}'
    assert record_to_bytes(from_json(wire)) == wire


def test_codex_web_search_with_duplicate_id_keeps_item_id() -> None:
    # Newer Codex flattens WebSearchItem's own `id` into the item: the key appears twice.
    wire = (
        b'{"type":"item.completed","item":{"id":"item_5","type":"web_search","id":"ws_abc",'
        b'"query":"attrs","action":{"type":"search","query":"attrs"}}}'
    )
    item = item_of(wire)
    assert item.id == "item_5"
    assert record_to_bytes(from_json(wire)) == wire


def test_built_tags_cannot_be_overridden() -> None:
    kwargs: dict[str, Any] = {"id": "i", "type": "plan", "text": "x"}
    with pytest.raises(TypeError):
        AgentMessageItem(**kwargs)


def test_objects_are_frozen() -> None:
    event = ThreadStartedEvent(thread_id="t")
    with pytest.raises(AttributeError):
        event.thread_id = "u"  # type: ignore[misc]


def test_mcp_tool_call_needs_a_tool_name() -> None:
    with pytest.raises(ValueError, match="tool"):
        McpToolCallItem(id="m")


def test_turn_failed_needs_a_message() -> None:
    with pytest.raises(ValueError, match="message"):
        TurnFailedEvent()


def test_record_type_alias_accepts_all_forms() -> None:
    records: list[LogRecord] = [
        ThreadStartedEvent(thread_id="t"),
        VersionedThreadEvent(event=TurnStartedEvent()),
        EventEnvelope(seq=0, id="i", ts="t", run_id="r", event=TurnStartedEvent()),
    ]
    for record in records:
        assert parse_record(record_to_bytes(record)) == record


@pytest.mark.parametrize(
    "wire",
    [
        b'{"type":"x.custom","s":"\\u0000dup:id"}',
        b'{"type":"x.custom","\\u0000dup:id":1}',
        b'{"type":"item.completed","item":{"id":"a","type":"agent_message","text":"\\u0000dup:id"}}',
    ],
    ids=["value", "key", "agent-text"],
)
def test_text_that_looks_like_an_internal_marker_survives(wire: bytes) -> None:
    # Reading a Codex web_search line first (as a mixed log would) must not change how
    # unrelated strings are written.
    from_json(wire_of("codex-web_search-action"))
    assert record_to_bytes(from_json(wire)) == wire


def test_duplicate_keys_elsewhere_on_a_web_search_line_survive() -> None:
    wire = (
        b'{"type":"item.completed","item":{"id":"t","type":"tool_invocation",'
        b'"tool_name":"web_search","arguments":{"id":1,"id":2},"status":"completed"}}'
    )
    assert record_to_bytes(from_json(wire)) == wire
