"""omne: pipe events (``.omne/var/runs/<run_id>/events.jsonl``).

``pipe.started`` → ``thread.started`` (the omne run id); a ``prompt``/``loop`` node is a
turn (``node.started`` → ``turn.started``, ``node.completed`` → ``turn.completed``,
``node.failed`` → ``turn.failed``) and names its ``model``; a ``command``/``bash`` node is a
``command_execution`` item; ``gate.passed`` is a ``harness`` item (``verification_passed``);
``pipe.completed`` / ``pipe.aborted`` → ``thread.completed``. Every event's ``id`` and the
fields with no counterpart are kept under ``"omne"``; ``iteration.started`` is kept whole.
Omne reports no token usage: usage objects are zero.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ._adapters import Adapter, Translated, need

__all__ = ["OmneAdapter"]

_ZERO = {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0}
_TURN_KINDS = ("prompt", "loop")


class OmneAdapter(Adapter):
    format: ClassVar[str] = "omne"

    def __init__(self, *, keep_content: bool = False) -> None:
        super().__init__(keep_content=keep_content)
        self._nodes: dict[str, dict[str, Any]] = {}
        self._turns = 0

    def translate(self, obj: dict[str, Any]) -> list[Translated]:
        kind = need(obj, "type", str)
        run_id = need(obj, "run_id", str)
        ts = obj.get("ts") if isinstance(obj.get("ts"), str) else None
        rest = {k: v for k, v in obj.items() if k not in ("type", "run_id", "ts")}
        out = self._map(kind, run_id, obj, rest)
        if out is None:
            return [self.other(obj, ts)]
        return [self.event(data, ts) for data in out]

    def _map(
        self, kind: str, run_id: str, obj: dict[str, Any], rest: dict[str, Any]
    ) -> list[dict[str, Any]] | None:
        if kind == "pipe.started":
            self.session_id = run_id
            return [{"type": "thread.started", "thread_id": run_id, "omne": rest}]
        if kind in ("pipe.completed", "pipe.aborted"):
            aborted = kind == "pipe.aborted"
            event: dict[str, Any] = {
                "type": "thread.completed",
                "thread_id": run_id,
                "session_id": run_id,
                "subtype": "cancelled" if aborted else "success",
                "outcome_code": "aborted" if aborted else "success",
                "usage": dict(_ZERO),
                "num_turns": self._turns,
                "omne": {**rest, "type": kind},
            }
            if aborted and isinstance(obj.get("reason"), str):
                event["result"] = obj["reason"]
            return [event]
        if kind not in ("node.started", "node.completed", "node.failed", "gate.passed"):
            return None
        node_id = need(obj, "node_id", str)
        node = self._nodes.get(node_id, {})
        if kind == "node.started":
            node = {"kind": need(obj, "kind", str), "name": obj.get("name")}
            self._nodes[node_id] = node
            if node["kind"] in _TURN_KINDS:
                self._turns += 1
                model = obj.get("model")
                if isinstance(model, str) and model:
                    self.model = model
                return [{"type": "turn.started", "omne": rest}]
            item = self._command(node_id, node, "in_progress")
            item["omne"] = rest
            return [{"type": "item.started", "item": item}]
        if kind == "gate.passed":
            item = {
                "id": f"{node_id}:gate:{obj.get('gate', '')}",
                "type": "harness",
                "event": "verification_passed",
                "message": str(obj.get("gate", "")),
                "omne": rest,
            }
            return [{"type": "item.completed", "item": item}]
        failed = kind == "node.failed"
        if node.get("kind") in _TURN_KINDS:
            if failed:
                error = obj.get("error")
                message = obj.get("message")
                if not isinstance(message, str):
                    message = str(error.get("kind")) if isinstance(error, dict) else "failed"
                return [{"type": "turn.failed", "message": message, "omne": rest}]
            return [{"type": "turn.completed", "usage": dict(_ZERO), "omne": rest}]
        item = self._command(node_id, node, "failed" if failed else "completed")
        if failed and isinstance(obj.get("message"), str):
            item["aggregated_output"] = obj["message"]
        item["omne"] = rest
        return [{"type": "item.completed", "item": item}]

    @staticmethod
    def _command(node_id: str, node: dict[str, Any], status: str) -> dict[str, Any]:
        name = node.get("name")
        return {
            "id": node_id,
            "type": "command_execution",
            "command": name if isinstance(name, str) and name else node_id,
            "aggregated_output": "",
            "status": status,
        }
