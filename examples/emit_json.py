"""Emit the events of a small agent run as JSON Lines on stdout (Codex-style bare lines).

python examples/emit_json.py > run.jsonl
trace events show run.jsonl
"""

from __future__ import annotations

import sys

from agent_trace.events import (
    AgentMessageItem,
    CommandExecutionItem,
    CommandExecutionStatus,
    FileChangeItem,
    FileUpdateChange,
    ItemCompletedEvent,
    ItemStartedEvent,
    PatchApplyStatus,
    PatchChangeKind,
    ThreadEvent,
    ThreadStartedEvent,
    TurnCompletedEvent,
    TurnStartedEvent,
    Usage,
    to_json,
)


def main() -> None:
    command = CommandExecutionItem(
        id="item_1", command="pytest -q", status=CommandExecutionStatus.IN_PROGRESS
    )
    events: list[ThreadEvent] = [
        ThreadStartedEvent(thread_id="demo-thread"),
        TurnStartedEvent(),
        ItemStartedEvent(item=command),
        ItemCompletedEvent(
            item=CommandExecutionItem(
                id="item_1",
                command="pytest -q",
                aggregated_output="3 passed in 0.12s\n",
                exit_code=0,
                status=CommandExecutionStatus.COMPLETED,
            )
        ),
        ItemCompletedEvent(
            item=FileChangeItem(
                id="item_2",
                changes=[FileUpdateChange(path="src/app.py", kind=PatchChangeKind.UPDATE)],
                status=PatchApplyStatus.COMPLETED,
            )
        ),
        ItemCompletedEvent(item=AgentMessageItem(id="item_3", text="Fixed the failing test.")),
        TurnCompletedEvent(
            usage=Usage(input_tokens=1200, cached_input_tokens=800, output_tokens=95)
        ),
    ]
    for event in events:
        sys.stdout.write(to_json(event) + "\n")


if __name__ == "__main__":
    main()
