"""Validation of Agent Trace records: the spec's README schema plus the rules it cannot
express, every problem naming its JSON path.

The schema is the spec's §6.1 code block, shipped as ``agent_trace/schemas/
trace-record.json`` (the hosted, zod-generated schema rejects ``"0.1.0"``; see
``docs/records.md``). ``jsonschema`` is imported only when something is validated.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import re
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import attrs

from ._hashing import parse_content_hash
from ._model_ids import MODEL_ID_MAX_LENGTH
from .events._json import loads

__all__ = [
    "RecordProblem",
    "RecordReport",
    "record_json_schema",
    "validate_record",
    "validate_records_data",
    "validate_records_file",
]

Severity = Literal["error", "warning"]


@attrs.frozen
class RecordProblem:
    """One problem with a record: where (a JSON path such as
    ``$.files[0].conversations[0].ranges[1].end_line``), what, and how bad."""

    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{prefix}{self.path}: {self.message}"


@attrs.frozen
class RecordReport:
    """The problems of one record in a file: ``line`` (JSONL) or ``index`` (JSON array)."""

    source: str
    line: int | None
    index: int | None
    record_id: str | None
    problems: tuple[RecordProblem, ...]

    @property
    def errors(self) -> tuple[RecordProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[RecordProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def where(self) -> str:
        if self.line is not None:
            return f"{self.source}:{self.line}"
        if self.index is not None:
            return f"{self.source}[{self.index}]"
        return self.source


@functools.cache
def _schema_text() -> str:
    return resources.files("agent_trace").joinpath("schemas/trace-record.json").read_text("utf-8")


def record_json_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) records are validated against (a fresh copy)."""
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema


# --------------------------------------------------------------------------- formats

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f<>\"{}|\\^`]*")
_HEX = re.compile(r"[0-9a-fA-F]+")


def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or _UUID.fullmatch(value) is not None


def _is_date_time(value: object) -> bool:
    """RFC 3339 ``date-time`` (any offset), with real calendar dates and times."""
    if not isinstance(value, str):
        return True
    m = _DATE_TIME.fullmatch(value)
    if m is None:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    offset = m.group(8)
    if offset not in ("Z", "z") and (int(offset[1:3]) > 23 or int(offset[4:6]) > 59):
        return False
    try:
        _dt.datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return False
    return second <= 60  # a leap second is allowed by RFC 3339


def _is_uri(value: object) -> bool:
    """An absolute URI (RFC 3986: a scheme, then no spaces or characters URIs exclude)."""
    return not isinstance(value, str) or _URI.fullmatch(value) is not None


@functools.cache
def _validator() -> Any:
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    checker.checks("uuid")(_is_uuid)
    checker.checks("date-time")(_is_date_time)
    checker.checks("uri")(_is_uri)
    return jsonschema.Draft202012Validator(record_json_schema(), format_checker=checker)


# --------------------------------------------------------------------------- paths


def json_path(parts: Iterable[str | int]) -> str:
    """``$.files[0]["dev.cursor"]``-style path of a sequence of keys and indexes."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}"
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def _schema_message(error: Any) -> tuple[str, str]:
    """Path and message for one jsonschema error, phrased for people."""
    path = json_path(error.absolute_path)
    kind = error.validator
    value = error.instance
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return path, f"required field {missing!r} is missing"
    if kind == "pattern" and list(error.absolute_path) == ["version"]:
        return path, (
            f"version {value!r} is not X.Y.Z; this spec version is '0.1.0' (the reference "
            "implementation's '1.0' is not valid)"
        )
    if kind == "type":
        expected = error.validator_value
        got = "null" if value is None else f"{_json_type(value)} {_short(value)}"
        return path, f"expected {_article(expected)}, got {got}"
    if kind == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return path, f"{_short(value)} is not one of {allowed}"
    if kind == "format":
        what = {"uuid": "a UUID", "date-time": "an RFC 3339 date-time", "uri": "an absolute URI"}
        return path, f"{_short(value)} is not {what.get(error.validator_value, 'valid')}"
    if kind == "minimum":
        return path, f"{value} is below the minimum {error.validator_value} (lines start at 1)"
    if kind == "maxLength":
        return path, f"is {len(value)} characters long; at most {error.validator_value} allowed"
    return path, error.message  # pragma: no cover - the schema uses no other keywords


def _article(expected: Any) -> str:
    names = {"object": "an object", "array": "an array", "integer": "an integer"}
    if isinstance(expected, list):
        return " or ".join(names.get(e, f"a {e}") for e in expected)
    return names.get(expected, f"a {expected}")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- rules

_KNOWN_KEYS = {
    "record": {"version", "id", "timestamp", "vcs", "tool", "files", "metadata"},
    "vcs": {"type", "revision"},
    "tool": {"name", "version"},
    "file": {"path", "conversations"},
    "conversation": {"url", "contributor", "ranges", "related"},
    "contributor": {"type", "model_id"},
    "range": {"start_line", "end_line", "content_hash", "contributor"},
    "related": {"type", "url"},
}


class _Rules:
    """What the schema cannot say: ordering of range ends, git revisions, model ids, paths,
    and (as warnings) what the stricter published schema and other readers reject."""

    def __init__(self) -> None:
        self.problems: list[RecordProblem] = []

    def error(self, parts: list[str | int], message: str) -> None:
        self.problems.append(RecordProblem(json_path(parts), message))

    def warn(self, parts: list[str | int], message: str) -> None:
        self.problems.append(RecordProblem(json_path(parts), message, "warning"))

    def unknown_keys(self, obj: dict[str, Any], kind: str, parts: list[str | int]) -> None:
        for key in obj:
            if key not in _KNOWN_KEYS[kind]:
                self.warn(
                    [*parts, key],
                    "not a spec field; the published (strict) schema rejects it. "
                    "Put vendor data under metadata",
                )

    def record(self, rec: dict[str, Any]) -> None:
        self.unknown_keys(rec, "record", [])
        ts = rec.get("timestamp")
        if isinstance(ts, str) and _is_date_time(ts) and not ts.endswith(("Z", "z")):
            self.warn(["timestamp"], "not in UTC with 'Z'; the published schema rejects offsets")
        vcs = rec.get("vcs")
        if isinstance(vcs, dict):
            self.unknown_keys(vcs, "vcs", ["vcs"])
            revision = vcs.get("revision")
            if (
                vcs.get("type") == "git"
                and isinstance(revision, str)
                and not (len(revision) in (40, 64) and _HEX.fullmatch(revision))
            ):
                self.error(
                    ["vcs", "revision"],
                    f"{_short(revision)} is not a full git commit id (40 hexadecimal "
                    "digits, or 64 in a SHA-256 repository)",
                )
        if isinstance(rec.get("tool"), dict):
            self.unknown_keys(rec["tool"], "tool", ["tool"])
        files = rec.get("files")
        if isinstance(files, list):
            seen: dict[str, int] = {}
            for i, f in enumerate(files):
                if isinstance(f, dict):
                    self.file(f, ["files", i], seen, i)

    def file(self, f: dict[str, Any], parts: list[str | int], seen: dict[str, int], i: int) -> None:
        self.unknown_keys(f, "file", parts)
        path = f.get("path")
        if isinstance(path, str):
            self.path(path, [*parts, "path"])
            if path in seen:
                self.warn([*parts, "path"], f"same path as files[{seen[path]}]")
            seen.setdefault(path, i)
        conversations = f.get("conversations")
        if isinstance(conversations, list):
            for j, conv in enumerate(conversations):
                if isinstance(conv, dict):
                    self.conversation(conv, [*parts, "conversations", j])

    def path(self, path: str, parts: list[str | int]) -> None:
        if not path:
            self.error(parts, "empty path")
        elif path.startswith("/") or re.match(r"[A-Za-z]:[\\/]", path):
            self.error(parts, f"{_short(path)} is absolute; paths are relative to the repository")
        elif ".." in re.split(r"[\\/]", path):
            self.error(parts, f"{_short(path)} leaves the repository ('..')")
        elif "\\" in path:
            self.warn(parts, "uses '\\'; paths are '/'-separated")

    def conversation(self, conv: dict[str, Any], parts: list[str | int]) -> None:
        self.unknown_keys(conv, "conversation", parts)
        if isinstance(conv.get("contributor"), dict):
            self.contributor(conv["contributor"], [*parts, "contributor"])
        ranges = conv.get("ranges")
        if isinstance(ranges, list):
            for k, rng in enumerate(ranges):
                if isinstance(rng, dict):
                    self.range(rng, [*parts, "ranges", k])
        related = conv.get("related")
        if isinstance(related, list):
            for k, res in enumerate(related):
                if isinstance(res, dict):
                    self.unknown_keys(res, "related", [*parts, "related", k])

    def range(self, rng: dict[str, Any], parts: list[str | int]) -> None:
        self.unknown_keys(rng, "range", parts)
        start, end = rng.get("start_line"), rng.get("end_line")
        for key, value in (("start_line", start), ("end_line", end)):
            if isinstance(value, float):
                # JSON Schema counts 5.0 as an integer; readers (serde, ours) do not.
                self.error([*parts, key], f"{value!r} has a fraction part; write {int(value)}")
        if _is_int(start) and _is_int(end) and int(start or 0) > int(end or 0):
            self.error(
                [*parts, "end_line"],
                f"{end} is before start_line {start} (ranges are inclusive: start <= end)",
            )
        content_hash = rng.get("content_hash")
        if isinstance(content_hash, str):
            try:
                parse_content_hash(content_hash)
            except ValueError:
                self.warn(
                    [*parts, "content_hash"],
                    f"{_short(content_hash)} is not 'algorithm:hexdigits' (e.g. murmur3:5e928f0f)",
                )
        if isinstance(rng.get("contributor"), dict):
            self.contributor(rng["contributor"], [*parts, "contributor"])

    def contributor(self, c: dict[str, Any], parts: list[str | int]) -> None:
        self.unknown_keys(c, "contributor", parts)
        model_id = c.get("model_id")
        if not isinstance(model_id, str):
            return
        where = [*parts, "model_id"]
        if not model_id.strip():
            self.error(where, "empty model id")
        elif len(model_id) <= MODEL_ID_MAX_LENGTH and "/" not in model_id:
            self.warn(where, f"{_short(model_id)} is not in models.dev 'provider/model' form")
        if c.get("type") == "human":
            self.warn(where, "a human contributor with a model id")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_record(value: Any) -> list[RecordProblem]:
    """Every problem of one decoded record: schema errors, then the extra rules; errors
    before warnings, each sorted by path. An empty list means valid and clean."""
    problems = [RecordProblem(*_schema_message(e)) for e in _validator().iter_errors(value)]
    if isinstance(value, dict):
        rules = _Rules()
        rules.record(value)
        problems += rules.problems
    else:
        problems = problems or [RecordProblem("$", "a record must be a JSON object")]
    order = {"error": 0, "warning": 1}
    return sorted(problems, key=lambda p: (order[p.severity], _natural(p.path)))


def _natural(path: str) -> list[tuple[int, int | str]]:
    """Sort key putting ``[2]`` before ``[10]``."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", path)]


# --------------------------------------------------------------------------- files


def validate_records_file(path: str | os.PathLike[str]) -> Iterator[RecordReport]:
    """A report per record of a JSON Lines file (``.jsonl``/``.ndjson``, or any file that
    is not one JSON document: one record per line) or of a JSON file (one record, or an
    array of records). A line that is not JSON is reported with its line number."""
    return validate_records_data(Path(path).read_bytes(), str(path))


def validate_records_data(
    data: bytes, source: str = "<stdin>", *, jsonl: bool | None = None
) -> Iterator[RecordReport]:
    """Like :func:`validate_records_file` for bytes already read; ``jsonl=None`` decides
    by content (one JSON document, else JSON Lines)."""
    if jsonl is None:
        jsonl = source.endswith((".jsonl", ".ndjson"))
    if not data.strip():
        yield RecordReport(source, None, None, None, (RecordProblem("$", "empty file"),))
        return
    if not jsonl:
        try:
            whole = loads(data)
        except ValueError:
            pass  # not one document: JSON Lines
        else:
            if isinstance(whole, list):
                for index, value in enumerate(whole):
                    yield _report(source, None, index, value)
            else:
                yield _report(source, None, None, whole)
            return
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip(b"\r")
        if not line.strip():
            continue
        try:
            value = loads(line)
        except ValueError as exc:
            if number == len(lines):  # the last line, with no newline after it
                message = "line cut short (no newline at the end of the file, as after a crash)"
            else:
                message = f"not valid JSON ({_first_line(exc)})"
            yield RecordReport(source, number, None, None, (RecordProblem("$", message),))
            continue
        yield _report(source, number, None, value)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _report(source: str, line: int | None, index: int | None, value: Any) -> RecordReport:
    record_id = value.get("id") if isinstance(value, dict) else None
    return RecordReport(
        source,
        line,
        index,
        record_id if isinstance(record_id, str) else None,
        tuple(validate_record(value)),
    )
