"""Claude Code: ``--output-format stream-json`` lines, session transcripts, hook payloads.

* ``system``/``init`` (or a transcript's first line, or ``SessionStart``) → ``thread.started``
  with the session id; a user prompt (or ``UserPromptSubmit``) → ``turn.started``;
  ``result`` → ``turn.completed`` and ``thread.completed``.
* assistant content blocks: ``text`` → ``agent_message``, ``thinking`` → ``reasoning``,
  ``tool_use`` (and ``PreToolUse``) → ``item.started``; the matching ``tool_result`` (and
  ``PostToolUse``) → ``item.completed``. ``Edit``/``MultiEdit``/``Write``/``NotebookEdit``
  are ``file_change`` items, ``Bash`` is ``command_execution``, ``mcp__server__tool`` is
  ``mcp_tool_call``, any other tool ``tool_invocation``.
* Exact edits (``structuredPatch``, ``originalFile``) are passed on in
  :attr:`Translated.edits` for attribution and are not written to the log.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from ._adapters import Adapter, AdapterError, Translated, need

__all__ = ["ClaudeAdapter", "FileEdit", "Hunk", "tool_item"]

FILE_TOOLS = frozenset({"Edit", "MultiEdit", "Write", "NotebookEdit"})
_CONTENT_KEYS = frozenset(
    {"content", "originalFile", "originalFileContents", "old_string", "new_string",
     "oldString", "newString", "new_source", "edits", "file"}
)  # fmt: skip
_READ_TOOLS = frozenset({"Read", "NotebookRead"})
"""Tools whose result is a file's text (left out of logs unless ``keep_content``)."""
_HOOK_ITEM_EVENTS = {
    "PreToolUse": "item.started",
    "PostToolUse": "item.completed",
    "PostToolUseFailure": "item.completed",
}


@attrs.frozen
class Hunk:
    """One hunk of a ``structuredPatch`` (1-based starts; ``lines`` prefixed ``' '``,
    ``'-'`` or ``'+'``)."""

    old_start: int
    old_lines: int
    new_start: int
    new_lines: int
    lines: tuple[str, ...]


@attrs.frozen
class FileEdit:
    """What a Claude Code file tool did to one file, as exactly as the log says."""

    path: str
    tool_use_id: str
    original: str | None = None
    """The whole file before the edit (``originalFile``), when given."""
    hunks: tuple[Hunk, ...] | None = None
    """``structuredPatch``, when given (empty for a new file)."""
    created: bool = False
    content: str | None = None
    """The whole file after the edit, when the tool says (``Write``)."""


def _text(content: Any) -> str:
    """A ``tool_result``'s content as text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str)
        )
    return ""


def _scrub(value: Any, keep_content: bool) -> Any:
    """``value`` without file contents (top-level content keys; patch lines)."""
    if keep_content or not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in _CONTENT_KEYS:
            continue
        if key == "structuredPatch" and isinstance(item, list):
            item = [
                {k: v for k, v in h.items() if k != "lines"} if isinstance(h, dict) else h
                for h in item
            ]
        out[key] = item
    return out


def tool_item(
    name: str,
    tool_input: Any,
    item_id: str,
    status: str,
    *,
    result: Any = None,
    is_error: bool = False,
    response: Any = None,
    keep_content: bool = False,
    where: str = "$.input",
) -> dict[str, Any]:
    """The item for one Claude Code tool call (``status``: in_progress/completed);
    ``where``: the JSON path of ``tool_input`` in the line, for errors."""
    args = tool_input if isinstance(tool_input, dict) else {}
    done = status != "in_progress"
    failed = done and is_error
    extra: dict[str, Any] = {"tool_name": name}
    item: dict[str, Any]
    if name in FILE_TOOLS:
        path = args.get("file_path") or args.get("notebook_path")
        if not isinstance(path, str) or not path:
            raise AdapterError(f"{name} without a file_path", f"{where}.file_path")
        created = isinstance(response, dict) and response.get("type") == "create"
        item = {
            "id": item_id,
            "type": "file_change",
            "changes": [{"path": path, "kind": "add" if created else "update"}],
            "status": "failed" if failed else "completed" if done else "in_progress",
        }
        extra["input"] = _scrub(args, keep_content)
        omitted = sorted(k for k in args if k in _CONTENT_KEYS) if not keep_content else []
        if omitted:
            extra["omitted"] = omitted
    elif name == "Bash":
        item = {
            "id": item_id,
            "type": "command_execution",
            "command": str(args.get("command", "")),
            "aggregated_output": _text(result) if done else "",
            "status": "failed" if failed else "completed" if done else "in_progress",
        }
        extra["input"] = {k: v for k, v in args.items() if k != "command"}
    elif name.startswith("mcp__") and name.count("__") >= 2:
        _, server, tool = name.split("__", 2)
        item = {
            "id": item_id,
            "type": "mcp_tool_call",
            "server": server,
            "tool": tool,
            "arguments": args,
            "status": "failed" if failed else "completed" if done else "in_progress",
        }
        if done:
            item["result"] = {"content": result if isinstance(result, list) else _text(result)}
        if failed:
            item["error"] = {"message": _text(result)}
    else:
        item = {
            "id": item_id,
            "type": "tool_invocation",
            "tool_name": name,
            "arguments": args,
            "tool_call_id": item_id,
            "status": "failed" if failed else "completed" if done else "in_progress",
        }
        if done:
            item["outcome"] = "error" if is_error else "success"
            if keep_content or name not in _READ_TOOLS:
                extra["result"] = result
            else:
                extra["omitted"] = ["result"]
    if response is not None:
        extra["response"] = _scrub(response, keep_content)
    item["claude"] = extra
    return item


def _edit(name: str, tool_input: Any, item_id: str, response: Any) -> FileEdit | None:
    """The exact edit a file tool's response describes, if it describes one."""
    if name not in FILE_TOOLS or not isinstance(response, dict):
        return None
    path = response.get("filePath") or response.get("notebook_path")
    if not isinstance(path, str) and isinstance(tool_input, dict):
        path = tool_input.get("file_path")
    if not isinstance(path, str):
        return None
    original = response.get("originalFile", response.get("originalFileContents"))
    hunks: list[Hunk] | None = None
    patch = response.get("structuredPatch")
    if isinstance(patch, list):
        hunks = []
        for h in patch:
            try:
                hunks.append(
                    Hunk(
                        int(h["oldStart"]), int(h["oldLines"]), int(h["newStart"]),
                        int(h["newLines"]), tuple(str(line) for line in h["lines"]),
                    )
                )  # fmt: skip
            except (KeyError, TypeError, ValueError):
                hunks = None
                break
    return FileEdit(
        path=path,
        tool_use_id=item_id,
        original=original if isinstance(original, str) else None,
        hunks=tuple(hunks) if hunks is not None else None,
        created=response.get("type") == "create",
        content=_written(name, tool_input, response),
    )


def _written(name: str, tool_input: Any, response: dict[str, Any]) -> str | None:
    if name != "Write":
        return None
    content = response.get("content")
    if not isinstance(content, str) and isinstance(tool_input, dict):
        content = tool_input.get("content")
    return content if isinstance(content, str) else None


def _usage(raw: Any) -> dict[str, int]:
    """Anthropic usage as ours: ``input_tokens`` counts the whole prompt, cache included."""
    u = raw if isinstance(raw, dict) else {}

    def n(key: str) -> int:
        value = u.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    read, created = n("cache_read_input_tokens"), n("cache_creation_input_tokens")
    return {
        "input_tokens": n("input_tokens") + read + created,
        "cached_input_tokens": read,
        "cache_creation_tokens": created,
        "output_tokens": n("output_tokens"),
    }


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        total[key] = total.get(key, 0) + value


@attrs.frozen
class ClaudeTranslated(Translated):
    """A translated Claude line, with the exact edits its tool results carry."""

    edits: tuple[FileEdit, ...] = ()


class ClaudeAdapter(Adapter):
    """Claude Code stream-json, transcripts and hook payloads (one session at a time)."""

    format: ClassVar[str] = "claude"
    provider: ClassVar[str | None] = "anthropic"

    def __init__(self, *, keep_content: bool = False) -> None:
        super().__init__(keep_content=keep_content)
        self._started = False
        self._turn_open = False
        self._turns = 0
        self._turn_usage: dict[str, int] = {}
        self._counted: set[str] = set()
        self._tools: dict[str, tuple[str, Any]] = {}
        self._blocks: dict[str, int] = {}

    # ------------------------------------------------------------------ entry

    def translate(self, obj: dict[str, Any]) -> list[Translated]:
        if "hook_event_name" in obj:
            return self._hook(obj)
        kind = obj.get("type")
        ts = obj.get("timestamp") if isinstance(obj.get("timestamp"), str) else None
        session = obj.get("session_id") or obj.get("sessionId")
        if isinstance(session, str) and session:
            self.session_id = session
        out: list[dict[str, Any]] = []
        if kind == "system" and obj.get("subtype") == "init":
            model = obj.get("model")
            if isinstance(model, str):
                self.model = model
            out += self._start(obj)
            return self._done(out, ts)
        if kind == "assistant":
            out += self._start(None) + self._assistant(obj)
        elif kind == "user":
            out += self._start(None) + self._user(obj)
        elif kind == "result":
            out += self._result(obj)
        else:
            return [self.other(obj, ts)]
        return self._done(out, ts)

    def _done(self, out: list[Any], ts: str | None) -> list[Translated]:
        translated: list[Translated] = []
        for data in out:
            if isinstance(data, ClaudeTranslated):
                translated.append(attrs.evolve(data, ts=ts))
            else:
                translated.append(self.event(data, ts))
        return translated

    def finish(self) -> list[Translated]:
        if not self._turn_open:
            return []
        self._turn_open = False
        return [self.event({"type": "turn.completed", "usage": self._take_usage()})]

    # ------------------------------------------------------------------ helpers

    def _start(self, line: dict[str, Any] | None) -> list[dict[str, Any]]:
        if self._started and line is None:
            return []
        self._started = True
        event: dict[str, Any] = {"type": "thread.started", "thread_id": self.session_id or ""}
        if not event["thread_id"]:
            raise AdapterError("no session_id", "$.session_id")
        if line is not None:
            event["claude"] = {
                k: v for k, v in line.items() if k not in ("type", "session_id", "sessionId")
            }
        return [event]

    def _open_turn(self, extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        out = self._close_turn() if extra is not None else []
        if self._turn_open:
            return out
        self._turn_open = True
        self._turns += 1
        event: dict[str, Any] = {"type": "turn.started"}
        if extra:
            event["claude"] = extra
        return [*out, event]

    def _close_turn(self) -> list[dict[str, Any]]:
        if not self._turn_open:
            return []
        self._turn_open = False
        return [{"type": "turn.completed", "usage": self._take_usage()}]

    def _take_usage(self) -> dict[str, int]:
        usage = self._turn_usage or _usage(None)
        self._turn_usage = {}
        return usage

    def _block_id(self, message_id: str) -> str:
        index = self._blocks.get(message_id, 0)
        self._blocks[message_id] = index + 1
        return f"{message_id}:{index}"

    @staticmethod
    def _rest(obj: dict[str, Any], *drop: str) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if k not in drop}

    # ------------------------------------------------------------------ lines

    def _assistant(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        message = need(obj, "message", dict)
        content = message.get("content")
        blocks = content if isinstance(content, list) else []
        model = message.get("model")
        if isinstance(model, str) and model and not model.startswith("<"):
            self.model = model
        message_id = message.get("id") if isinstance(message.get("id"), str) else None
        key = message_id or str(obj.get("uuid", ""))
        if key not in self._counted:
            self._counted.add(key)
            _add(self._turn_usage, _usage(message.get("usage")))
        out = self._open_turn()
        items: list[dict[str, Any]] = []
        for index, block in enumerate(blocks):
            if not isinstance(block, dict):
                raise AdapterError("expected an object", f"$.message.content[{index}]")
            kind = block.get("type")
            if kind == "tool_use":
                tool_id = need(block, "id", str, f"$.message.content[{index}]")
                name = need(block, "name", str, f"$.message.content[{index}]")
                tool_input = block.get("input")
                self._tools[tool_id] = (name, tool_input)
                item = tool_item(
                    name,
                    tool_input,
                    tool_id,
                    "in_progress",
                    keep_content=self.keep_content,
                    where=f"$.message.content[{index}].input",
                )
                items.append({"type": "item.started", "item": item})
                continue
            item_id = self._block_id(message_id or key)
            if kind == "text":
                item = {"id": item_id, "type": "agent_message", "text": str(block.get("text"))}
            elif kind == "thinking":
                item = {"id": item_id, "type": "reasoning", "text": str(block.get("thinking"))}
                rest = self._rest(block, "type", "thinking")
                if rest:
                    item["claude"] = rest
            else:
                item = {"id": item_id, "type": f"claude.{kind}", "block": block}
            items.append({"type": "item.completed", "item": item})
        line = self._rest(obj, "type", "message", "session_id", "sessionId", "timestamp")
        line["message"] = self._rest(message, "content")
        if not items:
            return [*out, {"type": "claude.assistant", **self._rest(obj, "type")}]
        items[0]["claude"] = line
        return out + items

    def _user(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        message = need(obj, "message", dict)
        content = message.get("content")
        line = self._rest(obj, "type", "message", "session_id", "sessionId", "timestamp")
        results = (
            [
                (i, b)
                for i, b in enumerate(content)
                if isinstance(b, dict) and b.get("type") == "tool_result"
            ]
            if isinstance(content, list)
            else []
        )
        if not results:  # a prompt: a new turn
            return self._open_turn({"message": message, **line})
        response = obj.get("tool_use_result", obj.get("toolUseResult"))
        line.pop("tool_use_result", None)
        line.pop("toolUseResult", None)
        out: list[Any] = self._open_turn()
        first = True
        for index, block in results:
            tool_id = need(block, "tool_use_id", str, f"$.message.content[{index}]")
            name, tool_input = self._tools.pop(tool_id, ("unknown", None))
            single = len(results) == 1
            item = tool_item(
                name,
                tool_input,
                tool_id,
                "completed",
                result=block.get("content"),
                is_error=block.get("is_error") is True,
                response=response if single else None,
                keep_content=self.keep_content,
            )
            if first:
                item["claude"]["line"] = {**line, "message": self._rest(message, "content")}
                first = False
            edit = _edit(name, tool_input, tool_id, response) if single else None
            event = {"type": "item.completed", "item": item}
            if edit is not None:
                out.append(ClaudeTranslated(self.event(event).event, None, edits=(edit,)))
            else:
                out.append(event)
        return out

    def _result(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        out = self._start(None)
        usage = _usage(obj.get("usage"))
        if self._turn_open:
            if not self._turn_usage:
                self._turn_usage = dict(usage)
            out += self._close_turn()
        subtype = obj.get("subtype") if isinstance(obj.get("subtype"), str) else "success"
        event: dict[str, Any] = {
            "type": "thread.completed",
            "thread_id": self.session_id or "",
            "session_id": self.session_id or "",
            "subtype": subtype,
            "outcome_code": "error" if obj.get("is_error") is True else subtype,
            "usage": usage,
            "num_turns": obj.get("num_turns") if isinstance(obj.get("num_turns"), int) else 0,
        }
        if isinstance(obj.get("result"), str):
            event["result"] = obj["result"]
        cost = obj.get("total_cost_usd")
        if isinstance(cost, int | float) and not isinstance(cost, bool):
            event["total_cost_usd"] = float(cost)
        rest = self._rest(
            obj, "type", "subtype", "session_id", "usage", "num_turns", "result", "total_cost_usd"
        )
        event["claude"] = {**rest, "usage": obj.get("usage")}
        self._started = False
        self._turns = 0
        return [*out, event]

    # ------------------------------------------------------------------ hooks

    def _hook(self, obj: dict[str, Any]) -> list[Translated]:
        name = need(obj, "hook_event_name", str)
        session = need(obj, "session_id", str)
        self.session_id = session
        rest = self._rest(obj, "hook_event_name", "session_id")
        if name == "SessionStart":
            model = obj.get("model")
            if isinstance(model, str):
                self.model = model
            data: dict[str, Any] = {"type": "thread.started", "thread_id": session}
            data["claude"] = {"hook_event_name": name, **rest}
            return [self.event(data)]
        if name == "UserPromptSubmit":
            return [
                self.event({"type": "turn.started", "claude": {"hook_event_name": name, **rest}})
            ]
        if name in _HOOK_ITEM_EVENTS:
            tool = need(obj, "tool_name", str)
            tool_id = obj.get("tool_use_id")
            if not isinstance(tool_id, str) or not tool_id:
                raise AdapterError("expected a string, got nothing", "$.tool_use_id")
            started = name == "PreToolUse"
            response = obj.get("tool_response")
            item = tool_item(
                tool,
                obj.get("tool_input"),
                tool_id,
                "in_progress" if started else "completed",
                result=obj.get("error") if name == "PostToolUseFailure" else response,
                is_error=name == "PostToolUseFailure",
                response=None if started else response,
                keep_content=self.keep_content,
                where="$.tool_input",
            )
            item["claude"]["hook"] = self._rest(
                rest, "tool_name", "tool_input", "tool_response", "tool_use_id"
            ) | {"hook_event_name": name}
            event = self.event({"type": _HOOK_ITEM_EVENTS[name], "item": item})
            edit = None if started else _edit(tool, obj.get("tool_input"), tool_id, response)
            if edit is not None:
                return [ClaudeTranslated(event.event, None, edits=(edit,))]
            return [event]
        if name in ("Stop", "SubagentStop"):
            claude = {"hook_event_name": name, **rest}
            return [self.event({"type": "turn.completed", "usage": _usage(None), "claude": claude})]
        if name == "SessionEnd":
            reason = obj.get("reason")
            data = {
                "type": "thread.completed",
                "thread_id": session,
                "session_id": session,
                "subtype": "success",
                "outcome_code": reason if isinstance(reason, str) else "success",
                "usage": _usage(None),
                "num_turns": 0,
                "claude": {"hook_event_name": name, **rest},
            }
            return [self.event(data)]
        return [self.other({"type": name, **rest, "session_id": session})]
