"""meerkat: ``AgentEvent`` objects, bare, in an ``EventEnvelope`` or a ``ScopedAgentEvent``.

``run_started`` → ``thread.started`` (the session id), ``turn_started`` → ``turn.started``,
``turn_completed`` → ``turn.completed``, ``text_complete`` → ``agent_message``,
``reasoning_complete`` → ``reasoning``, ``tool_call_requested`` → ``item.started`` of a
``tool_invocation`` (a ``file_change`` for file-writing tools with a path argument),
``tool_execution_completed`` / ``_timed_out`` → ``item.completed``, ``run_completed`` /
``run_failed`` → ``thread.completed``. Envelope fields (``event_id``, ``source``, ``seq``,
``timestamp_ms``, ``mob_id``) and scope frames are kept under ``"meerkat"``; every other
event is kept whole as ``meerkat.<type>``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from ._adapters import Adapter, AdapterError, Translated, need
from ._envelope import utc_timestamp

__all__ = ["MEERKAT_TYPES", "MeerkatAdapter", "file_tool_paths"]

MEERKAT_TYPES = frozenset(
    {
        "run_started", "run_completed", "extraction_succeeded", "extraction_failed",
        "run_failed", "hook_started", "hook_completed", "hook_failed", "hook_denied",
        "turn_started", "reasoning_delta", "reasoning_complete", "text_delta",
        "text_complete", "server_tool_content", "assistant_image_appended",
        "tool_call_requested", "tool_result_received", "turn_completed",
        "tool_execution_started", "tool_execution_completed", "tool_execution_timed_out",
        "compaction_started", "compaction_completed", "compaction_failed", "budget_warning",
        "retrying", "skills_resolved", "skill_resolution_failed", "interaction_complete",
        "interaction_callback_pending", "interaction_failed", "stream_truncated",
        "tool_config_changed", "background_job_completed",
    }
)  # fmt: skip

_FILE_TOOLS = frozenset(
    {
        "write", "write_file", "edit", "edit_file", "multi_edit", "create_file", "str_replace",
        "str_replace_editor", "str_replace_based_edit_tool", "file_write", "file_edit",
        "replace_in_file", "apply_patch", "patch",
    }
)  # fmt: skip
_YEAR_10000_MS = 253_402_300_800_000
_CONTENT_ARGS = frozenset(
    {"content", "old_string", "new_string", "old_str", "new_str", "file_text", "patch", "diff",
     "text", "contents"}
)  # fmt: skip
_PATH_KEYS = ("path", "file_path", "filePath", "filename", "target_file")
_PATCH_FILE = re.compile(r"^\*\*\* (?:Add|Update|Delete) File: (.+)$", re.MULTILINE)


def file_tool_paths(name: str, args: Any) -> list[str]:
    """The files a generic tool call writes, judged by its name and arguments."""
    if name.lower().rsplit("__", 1)[-1] not in _FILE_TOOLS or not isinstance(args, dict):
        return []
    for key in _PATH_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value:
            return [value]
    for key in ("patch", "input"):
        value = args.get(key)
        if isinstance(value, str):
            return list(dict.fromkeys(m.strip() for m in _PATCH_FILE.findall(value)))
    return []


def _usage(raw: Any) -> dict[str, Any]:
    u = raw if isinstance(raw, dict) else {}

    def n(*keys: str) -> int:
        for key in keys:
            value = u.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return 0

    usage: dict[str, Any] = {
        "input_tokens": n("input_tokens"),
        "cached_input_tokens": n("cache_read_tokens", "cache_read_input_tokens"),
        "output_tokens": n("output_tokens"),
    }
    created = n("cache_creation_tokens", "cache_creation_input_tokens")
    if created:
        usage["cache_creation_tokens"] = created
    return usage


class MeerkatAdapter(Adapter):
    format: ClassVar[str] = "meerkat"

    def __init__(self, *, keep_content: bool = False) -> None:
        super().__init__(keep_content=keep_content)
        self._texts = 0
        self._turns = 0
        self._tools: dict[str, tuple[str, Any, list[str]]] = {}
        self._base = "$"

    def translate(self, obj: dict[str, Any]) -> list[Translated]:
        meta: dict[str, Any] = {}
        ts: str | None = None
        base = "$"
        if "payload" in obj and "timestamp_ms" in obj:
            payload = need(obj, "payload", dict)
            stamp = need(obj, "timestamp_ms", int)
            if not 0 <= stamp < _YEAR_10000_MS:
                raise AdapterError("not a time in milliseconds since 1970", "$.timestamp_ms")
            ts = utc_timestamp(stamp * 1_000_000)
            meta = {k: v for k, v in obj.items() if k != "payload"}
            base = "$.payload"
        elif "scope_path" in obj and "event" in obj:
            payload = need(obj, "event", dict)
            meta = {k: v for k, v in obj.items() if k != "event"}
            base = "$.event"
        else:
            payload = obj
        kind = need(payload, "type", str, base)
        self._base = base
        out = self._map(kind, payload)
        if out is None:
            full = {**payload, "type": kind}
            if meta:
                full["meerkat"] = meta
            return [self.other(full, ts)]
        if meta:
            target = out[0].get("item", out[0])
            target.setdefault("meerkat", {}).update(meta)
        return [self.event(data, ts) for data in out]

    def _map(self, kind: str, p: dict[str, Any]) -> list[dict[str, Any]] | None:
        rest = {k: v for k, v in p.items() if k != "type"}
        if kind == "run_started":
            session = need(p, "session_id", str, self._base)
            self.session_id = session
            rest.pop("session_id")
            return [{"type": "thread.started", "thread_id": session, "meerkat": rest}]
        if kind in ("run_completed", "run_failed"):
            session = need(p, "session_id", str, self._base)
            failed = kind == "run_failed"
            event: dict[str, Any] = {
                "type": "thread.completed",
                "thread_id": session,
                "session_id": session,
                "subtype": "error_during_execution" if failed else "success",
                "outcome_code": str(p.get("error_class", "error")) if failed else "success",
                "usage": _usage(p.get("usage")),
                "num_turns": self._turns,
                "meerkat": {**rest, "type": kind},
            }
            result = p.get("error") if failed else p.get("result")
            if isinstance(result, str):
                event["result"] = result
            return [event]
        if kind == "turn_started":
            self._turns += 1
            return [{"type": "turn.started", "meerkat": rest}]
        if kind == "turn_completed":
            return [{"type": "turn.completed", "usage": _usage(p.get("usage")), "meerkat": rest}]
        if kind in ("text_complete", "reasoning_complete"):
            self._texts += 1
            item_type = "agent_message" if kind == "text_complete" else "reasoning"
            text = need(p, "content", str, self._base)
            item = {"id": f"{item_type}-{self._texts}", "type": item_type, "text": text}
            extra = {k: v for k, v in rest.items() if k != "content"}
            if extra:  # fields of newer meerkat versions
                item["meerkat"] = extra
            return [{"type": "item.completed", "item": item}]
        if kind == "tool_call_requested":
            tool_id, name = need(p, "id", str, self._base), need(p, "name", str, self._base)
            args = p.get("args")
            paths = file_tool_paths(name, args)
            self._tools[tool_id] = (name, args, paths)
            item = self._tool(tool_id, name, args, paths, "in_progress")
            extra = {k: v for k, v in rest.items() if k not in ("id", "name", "args")}
            if extra:
                item.setdefault("meerkat", {}).update(extra)
            return [{"type": "item.started", "item": item}]
        if kind in ("tool_execution_completed", "tool_execution_timed_out"):
            tool_id, name = need(p, "id", str, self._base), need(p, "name", str, self._base)
            _, args, paths = self._tools.pop(tool_id, (name, None, []))
            failed = kind == "tool_execution_timed_out" or p.get("is_error") is True
            item = self._tool(tool_id, name, args, paths, "failed" if failed else "completed")
            if not paths:
                item["outcome"] = (
                    "cancelled"
                    if kind.endswith("timed_out")
                    else ("error" if failed else "success")
                )
            extra = {k: v for k, v in rest.items() if k not in ("id", "name")}
            item["meerkat"] = {"type": kind, **extra}
            return [{"type": "item.completed", "item": item}]
        return None

    def _tool(
        self, tool_id: str, name: str, args: Any, paths: list[str], status: str
    ) -> dict[str, Any]:
        if paths:
            changes = [{"path": path, "kind": "update"} for path in paths]
            kept = args
            extra: dict[str, Any] = {"name": name}
            if isinstance(args, dict) and not self.keep_content:
                kept = {k: v for k, v in args.items() if k not in _CONTENT_ARGS}
                omitted = sorted(k for k in args if k in _CONTENT_ARGS)
                if omitted:
                    extra["omitted"] = omitted
            return {
                "id": tool_id,
                "type": "file_change",
                "changes": changes,
                "status": status,
                "meerkat": {**extra, "args": kept},
            }
        item: dict[str, Any] = {
            "id": tool_id,
            "type": "tool_invocation",
            "tool_name": name,
            "tool_call_id": tool_id,
            "status": status,
        }
        if args is not None:
            item["arguments"] = args
        return item
