"""Read a JSONL event log (bare, VT Code versioned or agent-trace envelopes, even mixed)
and print command success metrics.

    python examples/ingest_log.py run.jsonl
"""

from __future__ import annotations

import sys
from collections import Counter

from agent_trace.events import (
    CommandExecutionItem,
    CommandExecutionStatus,
    EventReader,
    ItemCompletedEvent,
)


def main(path: str) -> int:
    reader = EventReader(path, strict=False)
    statuses: Counter[str] = Counter()
    for entry in reader:
        event = entry.event
        if isinstance(event, ItemCompletedEvent) and isinstance(event.item, CommandExecutionItem):
            statuses[str(event.item.status)] += 1
    total = sum(statuses.values())
    ok = statuses[CommandExecutionStatus.COMPLETED]
    rate = f"{ok / total:.0%}" if total else "n/a"
    print(f"commands: {total}, succeeded: {ok}, success rate: {rate}")
    for issue in reader.issues:
        print(f"skipped: {issue}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
