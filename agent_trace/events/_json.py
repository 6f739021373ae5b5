"""JSON as serde_json writes and reads it (orjson, with the rare cases fixed up): no
dependency besides orjson, so modules that only read or write JSON load nothing else."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["DUPLICATE_ID", "dumps", "loads", "note_duplicate_id"]

DUPLICATE_ID = "\x00agent-trace:second-id\x00"
"""Stands for a second ``id`` key in one object (newer Codex ``web_search`` items).

A Python dict cannot hold a key twice; :func:`loads` files the second ``id`` under this
name and :func:`dumps` writes it back as ``"id"`` where it was."""
_DUPLICATE_ID_KEY_JSON = orjson.dumps(DUPLICATE_ID) + b":"
_WEB_SEARCH = b'"web_search"'

# 19 digits in a row: the shortest integer outside the 64-bit range orjson keeps exact
# (-9223372036854775809). Found by mapping every digit to "0" and everything else to " ".
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))
_NINETEEN_DIGITS = b"0" * 19
_ORJSON_INTS = range(-(1 << 63), 1 << 64)  # what orjson writes itself (i64 min to u64 max)


def _keep_duplicate_id(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key == "id" and "id" in out and DUPLICATE_ID not in out:
            out[DUPLICATE_ID] = value
        else:
            out[key] = value
    return out


def loads(data: bytes | str) -> Any:
    """Parse one JSON document with serde_json's rules, losing nothing.

    orjson checks the document (NaN, lone surrogates and invalid UTF-8 are errors, as in
    serde_json). Two rare cases are then parsed again by the standard library: integers
    beyond 64 bits, which orjson would turn into floats, and ``web_search`` items, whose
    second ``id`` key (newer Codex) is kept as :data:`DUPLICATE_ID`.
    """
    raw = data.encode() if isinstance(data, str) else data
    value = orjson.loads(raw)
    if _WEB_SEARCH in raw:
        _duplicate_ids_seen[0] = True
        return _stdlib_loads(raw, _keep_duplicate_id)
    if _NINETEEN_DIGITS in raw.translate(_DIGITS_AS_ZERO):
        return _stdlib_loads(raw, None)
    return value


def _stdlib_loads(raw: bytes, pairs: Any) -> Any:
    """The standard library's parser recurses per level: a document orjson accepts
    (up to 1024 levels) can exceed Python's recursion limit. That is a decode error too."""
    import json

    try:
        return json.loads(raw, object_pairs_hook=pairs)
    except RecursionError:
        text = raw.decode("utf-8", "replace")
        raise orjson.JSONDecodeError("JSON nested too deeply", text, 0) from None


def _serde_numbers(value: Any) -> Any:
    """A copy of ``value`` where numbers orjson cannot write as serde_json does are
    pre-rendered: integers beyond 64 bits, and floats orjson writes as ``1e+16``."""
    if isinstance(value, dict):
        return {k: _serde_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_serde_numbers(v) for v in value]
    if type(value) is int and value not in _ORJSON_INTS:
        return orjson.Fragment(str(value).encode())
    if type(value) is float:
        text = orjson.dumps(value)
        if b"e+" in text:
            return orjson.Fragment(text.replace(b"e+", b"e"))
    return value


def dumps(value: Any, *, newline: bool = False) -> bytes:
    """Serialize like serde_json: compact, raw UTF-8, ``\\u001f`` escapes, ryu floats.

    ``newline=True`` appends ``\\n`` (one buffer, no copy): a JSONL line.
    """
    option = orjson.OPT_APPEND_NEWLINE if newline else 0
    try:
        out = orjson.dumps(value, option=option)
    except orjson.JSONEncodeError as exc:
        if "ecursion" in str(exc):  # orjson writes 255 levels; it reads 1024
            out = _deep_dumps(value) + (b"\n" if newline else b"")
        else:
            out = orjson.dumps(_serde_numbers(value), option=option)  # integers beyond 64 bits
    else:
        # orjson writes floats >= 1e16 as 1e+16. A "+" (found by memchr) is rare; only then
        # look closer, and only rewrite when a value (not some text) needs it.
        if b"+" in out and b"e+" in out:
            out = orjson.dumps(_serde_numbers(value), option=option)
    if _duplicate_ids_seen[0] and _DUPLICATE_ID_KEY_JSON in out:
        out = out.replace(_DUPLICATE_ID_KEY_JSON, b'"id":')
    return out


def _deep_dumps(value: Any) -> bytes:
    """:func:`dumps` of a value nested deeper than orjson writes, without recursion:
    containers opened and closed from an explicit stack, scalars by :func:`dumps`."""
    out: list[bytes] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Raw):
            out.append(item.data)
        elif isinstance(item, dict):
            parts: list[Any] = [_Raw(b"{")]
            for i, (key, child) in enumerate(item.items()):
                prefix = b"," if i else b""
                parts += [_Raw(prefix + dumps(str(key)) + b":"), child]
            stack.extend(reversed([*parts, _Raw(b"}")]))
        elif isinstance(item, list | tuple):
            parts = [_Raw(b"[")]
            for i, child in enumerate(item):
                parts += [_Raw(b",")] if i else []
                parts.append(child)
            stack.extend(reversed([*parts, _Raw(b"]")]))
        else:
            out.append(dumps(item))
    return b"".join(out)


class _Raw:
    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


_duplicate_ids_seen = [False]


def note_duplicate_id() -> None:
    """Called when an object carrying :data:`DUPLICATE_ID` exists; until then
    :func:`dumps` skips looking for it."""
    _duplicate_ids_seen[0] = True
