"""A recording agent for tests/test_crash.py, killed at random points by the test.

``python crash_worker.py REPO FILE RUN_ID``: a Recorder that loops forever: emits an
agent message, then appends lines to FILE inside an edit window, in several writes with
pauses between them (so that kills often land inside windows). On stdout, flushed:
``ready`` once started, ``emitted <item id>`` after each ``emit`` returned, ``window
<n>`` once the window of iteration n has ended (its lines are attributed).

``... RUN_ID hang``: writes one line inside a window, says ``inside``, and waits there.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from agent_trace import Recorder
from agent_trace.events import AgentMessageItem, ItemCompletedEvent

MODEL = "openai/gpt-5"


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main() -> None:
    repo, name, run_id = sys.argv[1], sys.argv[2], sys.argv[3]
    path = Path(repo) / name
    with Recorder(repo, tool_name="crash-worker", model_id=MODEL, run_id=run_id) as rec:
        say("ready")
        if sys.argv[4:] == ["hang"]:
            with rec.edit(name):
                with path.open("a", encoding="utf-8") as f:
                    f.write(f"agent {run_id} 1.0\n")
                say("inside")
                time.sleep(600)
        n = 0
        while True:
            n += 1
            with rec.turn():
                item = f"{run_id}-m{n}"
                rec.emit(ItemCompletedEvent(item=AgentMessageItem(id=item, text=f"step {n}")))
                say(f"emitted {item}")
                with rec.edit(name):
                    for part in range(3):
                        with path.open("a", encoding="utf-8") as f:
                            f.write(f"agent {run_id} {n}.{part}\n")
                        time.sleep(0.01)
                say(f"window {n}")


if __name__ == "__main__":
    main()
