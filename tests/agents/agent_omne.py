"""A fake omne pipe run: does the work of ``_fake`` in its cwd and prints its pipe events
(``omne_cli/events.rs``: ULID ids, RFC 3339 ``ts``, the run id on every event). A
``prompt`` node (naming its model) edits ``app.py`` and writes ``new.py`` (omne reports no
file changes; it may also write ``--outside``), a ``bash`` node appends the note, a gate
passes, the pipe completes.

    python agent_omne.py [--model claude-opus-4-1] [--exit N] [--noise] [--tee FILE]
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _fake

RUN_ID = "feature-x-01JB3N0ZQK8Y5T2V7W9X1Y3Z5A"


class Pipe:
    def __init__(self, out: _fake.Out) -> None:
        self.out = out
        self.count = 0

    def emit(self, event_type: str, **fields: Any) -> None:
        self.count += 1
        ts = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        event_id = f"01JB3N0ZQK8Y5T2V7W9X1Y{self.count:04d}"
        self.out.emit({"type": event_type, "id": event_id, "ts": ts, "run_id": RUN_ID, **fields})


def main() -> int:
    parser = _fake.options("a fake omne run")
    parser.add_argument("--model", default="claude-opus-4-1")
    opts = parser.parse_args()
    root = Path.cwd()
    out = _fake.Out(opts.tee)
    pipe = Pipe(out)
    out.noise(opts.noise, b"omne: running pipe feature\n")
    pipe.emit("pipe.started", pipe="feature", distro_version="0.3.0",
              inputs=[{"key": "task", "value": "add three()"}])  # fmt: skip
    pipe.emit("node.started", node_id="plan", kind="prompt", name="implement", model=opts.model)
    pipe.emit("iteration.started", node_id="plan", iteration=1, byte_offset=0)
    _fake.edit_app(root)
    _fake.create_new(root)
    if opts.outside:  # omne reports no files: only the snapshots could see it (they do not)
        _fake.write_outside(opts.outside)
    out.noise(opts.noise, b"\xff\xfe not UTF-8 progress\r\n")
    nodes = f".omne/var/runs/{RUN_ID}/nodes"
    pipe.emit("node.completed", node_id="plan", output_path=f"{nodes}/plan.out")
    pipe.emit("node.started", node_id="note", kind="bash", name="echo 'agent note' >> notes.txt")
    _fake.append_note(root)
    pipe.emit("node.completed", node_id="note", output_path=f"{nodes}/note.out")
    pipe.emit("gate.passed", node_id="note", gate="tests", method="hook", stdout="3 passed")
    _fake.write_late(root)
    if opts.exit:
        pipe.emit("pipe.aborted", reason="gate failed")
    else:
        pipe.emit("pipe.completed")
    out.noise(opts.noise, b"no newline at the end")
    print("omne: done", file=sys.stderr, flush=True)
    out.close()
    return int(opts.exit)


if __name__ == "__main__":
    sys.exit(main())
