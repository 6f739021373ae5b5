"""Bad input: one clear message naming file, line and field path; reading never writes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from agent_trace.events import (
    EventDecodeError,
    EventReader,
    LogEntry,
    LogIssue,
    ThreadStartedEvent,
    TurnStartedEvent,
    from_dict,
    from_json,
    parse_record,
    record_to_bytes,
)

GOOD_FIRST = b'{"type":"thread.started","thread_id":"t"}'
GOOD_LAST = b'{"type":"turn.started"}'


def cmd(**fields: str) -> bytes:
    body = ",".join(f'"{k}":{v}' for k, v in fields.items())
    return b'{"type":"item.completed","item":{' + body.encode() + b"}}"


# (id, bad line, JSON path of the offending field, a fragment of the message)
BAD_LINES: list[tuple[str, bytes, str, str]] = [
    ("malformed-json", b'{"type":"turn.started",}', "$", "invalid JSON"),
    ("not-json-at-all", b"hello world", "$", "invalid JSON"),
    ("json-array", b'[{"type":"turn.started"}]', "$", "expected a JSON object, got an array"),
    ("json-number", b"42", "$", "expected a JSON object, got a number"),
    ("json-string", b'"turn.started"', "$", "expected a JSON object, got a string"),
    ("json-null", b"null", "$", "expected a JSON object, got null"),
    (
        "exit_code-string",
        cmd(
            id='"a"',
            type='"command_execution"',
            command='"ls"',
            exit_code='"5"',
            status='"completed"',
        ),
        "$.item.exit_code",
        "expected an integer, got string '5'",
    ),
    (
        "changes-not-a-list",
        cmd(
            id='"a"',
            type='"file_change"',
            changes='{"path":"x","kind":"add"}',
            status='"completed"',
        ),
        "$.item.changes",
        "expected an array, got object",
    ),
    (
        "changes-1-kind-number",
        cmd(
            id='"a"',
            type='"file_change"',
            changes='[{"path":"x","kind":"add"},{"path":"y","kind":3}]',
            status='"completed"',
        ),
        "$.item.changes[1].kind",
        "expected a string, got number 3",
    ),
    (
        "usage-float",
        b'{"type":"turn.completed","usage":{"input_tokens":1.5,"cached_input_tokens":0,'
        b'"output_tokens":1}}',
        "$.usage.input_tokens",
        "expected an integer",
    ),
    (
        "bool-not-int",
        cmd(id='"a"', type='"command_execution"', command='"ls"', exit_code="true", status='"x"'),
        "$.item.exit_code",
        "expected an integer, got boolean",
    ),
    (
        "todo-completed-string",
        cmd(id='"a"', type='"todo_list"', items='[{"text":"t","completed":"yes"}]'),
        "$.item.items[0].completed",
        "expected true or false",
    ),
    ("missing-thread_id", b'{"type":"thread.started"}', "$.thread_id", "required field missing"),
    (
        "missing-item-id",
        cmd(type='"agent_message"', text='"hi"'),
        "$.item.id",
        "required field missing",
    ),
    (
        "missing-item-id-unknown-type",
        cmd(type='"harness"', event='"x"'),
        "$.item.id",
        "required field missing",
    ),
    ("missing-item-type", cmd(id='"a"', text='"hi"'), "$.item.type", "required field missing"),
    (
        "missing-command",
        cmd(id='"a"', type='"command_execution"', aggregated_output='""', status='"completed"'),
        "$.item.command",
        "required field missing",
    ),
    ("missing-item", b'{"type":"item.completed"}', "$.item", "required field missing"),
    ("item-not-object", b'{"type":"item.completed","item":[]}', "$.item", "expected"),
    ("type-not-string", b'{"type":5}', "$.type", "expected a string"),
    ("neither-type-nor-event", b'{"thread_id":"t"}', "$.type", "neither"),
    (
        "versioned-wrong-type",
        b'{"schema_version":"0.2.0","event":{"type":"item.completed","item":{"id":"a",'
        b'"type":"command_execution","command":"c","exit_code":"5","status":"completed"}}}',
        "$.event.item.exit_code",
        "expected an integer",
    ),
    (
        "envelope-missing-field",
        b'{"schema_version":"0.1.0","seq":0,"id":"i","ts":"2026-01-01T00:00:00.000Z",'
        b'"run_id":"r","event":{"type":"thread.started"}}',
        "$.event.thread_id",
        "required field missing",
    ),
    (
        "envelope-seq-string",
        b'{"schema_version":"0.1.0","seq":"0","id":"i","ts":"t","run_id":"r",'
        b'"event":{"type":"turn.started"}}',
        "$.seq",
        "expected an integer",
    ),
    ("versioned-event-array", b'{"schema_version":"0.2.0","event":[1]}', "$.event", "expected"),
    ("invalid-utf8", b'{"type":"thread.started","thread_id":"\xff\xfe"}', "$", "UTF-8"),
    ("nul-in-string", b'{"type":"thread.started","thread_id":"a\x00b"}', "$", "invalid JSON"),
    ("nul-after-object", GOOD_LAST + b"\x00", "$", "invalid JSON"),
    ("nul-bytes-only", b"\x00\x00\x00\x00", "$", "invalid JSON"),
    (
        "lone-surrogate-escape",
        b'{"type":"thread.started","thread_id":"\\ud800"}',
        "$",
        "invalid JSON",
    ),
    (
        "lone-surrogate-escape-beside-big-int",
        b'{"type":"thread.started","thread_id":"\\udc00","n":123456789012345678901234567890}',
        "$",
        "invalid JSON",
    ),
    (
        "lone-surrogate-escape-on-web_search-line",
        cmd(id='"w"', type='"web_search"', query='"\\ud800"'),
        "$",
        "invalid JSON",
    ),
    (
        "nan-beside-big-int",
        b'{"type":"x.custom","v":NaN,"n":123456789012345678901234567890}',
        "$",
        "invalid JSON",
    ),
    (
        "infinity-on-web_search-line",
        cmd(id='"w"', type='"web_search"', query='"q"', action="Infinity"),
        "$",
        "invalid JSON",
    ),
    ("two-objects-on-one-line", GOOD_LAST + GOOD_LAST, "$", "invalid JSON"),
]
BAD_IDS = [case[0] for case in BAD_LINES]
BAD_PARAMS = [case[1:] for case in BAD_LINES]


def where(json_path: str) -> str:
    """The path part of a message: whole-line problems (``$``) name no field."""
    return "" if json_path == "$" else f"{json_path}: "


def collect(reader: EventReader, seen: list[LogEntry]) -> None:
    seen.extend(reader)


def write_log(directory: Path, lines: list[bytes], *, name: str = "run.jsonl") -> Path:
    path = directory / name
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def read_all(path: Path, **kwargs: object) -> tuple[EventReader, list[LogEntry]]:
    reader = EventReader(path, **kwargs)  # type: ignore[arg-type]
    return reader, list(reader)


@pytest.mark.parametrize(("line", "json_path", "fragment"), BAD_PARAMS, ids=BAD_IDS)
def test_strict_reader_names_file_line_and_path(
    tmp_path: Path, line: bytes, json_path: str, fragment: str
) -> None:
    path = write_log(tmp_path, [GOOD_FIRST, line, GOOD_LAST])
    before = path.read_bytes()
    reader = EventReader(path, strict=True)
    seen: list[LogEntry] = []
    with pytest.raises(EventDecodeError) as info:
        collect(reader, seen)
    error = info.value
    message = str(error)
    assert message.startswith(f"{path}:2: {where(json_path)}"), message
    assert fragment.lower() in message.lower(), message
    assert "\n" not in message
    assert (error.source, error.line, error.path) == (str(path), 2, json_path)
    assert [e.event for e in seen] == [ThreadStartedEvent(thread_id="t")]
    assert path.read_bytes() == before


@pytest.mark.parametrize(("line", "json_path", "fragment"), BAD_PARAMS, ids=BAD_IDS)
def test_lenient_reader_skips_and_counts(
    tmp_path: Path, line: bytes, json_path: str, fragment: str
) -> None:
    path = write_log(tmp_path, [GOOD_FIRST, line, GOOD_LAST])
    before = path.read_bytes()
    reader, entries = read_all(path, strict=False)
    assert [(e.line, e.event) for e in entries] == [
        (1, ThreadStartedEvent(thread_id="t")),
        (3, TurnStartedEvent()),
    ]
    assert reader.malformed == 1
    assert reader.truncated is False
    assert len(reader.issues) == 1
    issue = reader.issues[0]
    assert (issue.source, issue.line, issue.path, issue.kind) == (
        str(path),
        2,
        json_path,
        "malformed",
    )
    assert fragment.lower() in issue.message.lower()
    assert str(issue).startswith(f"{path}:2: ")
    assert path.read_bytes() == before


@pytest.mark.parametrize(("line", "json_path", "fragment"), BAD_PARAMS, ids=BAD_IDS)
def test_parse_record_raises_one_located_error(line: bytes, json_path: str, fragment: str) -> None:
    with pytest.raises(EventDecodeError) as info:
        parse_record(line)
    assert info.value.path == json_path
    assert info.value.source is None
    assert info.value.line is None
    assert str(info.value).startswith(where(json_path))
    assert str(info.value).count(info.value.message) == 1
    assert fragment.lower() in str(info.value).lower()


def test_from_json_and_from_dict_errors() -> None:
    with pytest.raises(EventDecodeError, match=r"^\$\.thread_id: required field missing$"):
        from_json('{"type":"thread.started"}')
    with pytest.raises(EventDecodeError, match=r"expected a JSON object, got an array"):
        from_json("[]")
    with pytest.raises(EventDecodeError) as info:
        from_dict({"type": "item.started", "item": {"id": "a", "type": "plan", "text": 1}})
    assert info.value.path == "$.item.text"
    with pytest.raises(EventDecodeError):
        from_dict([1, 2])
    # A versioned line is not a bare event.
    with pytest.raises(EventDecodeError):
        from_json('{"schema_version":"0.2.0","event":{"type":"turn.started"}}')


def test_error_is_a_value_error() -> None:
    assert issubclass(EventDecodeError, ValueError)


def test_strict_stops_at_first_bad_line_lenient_keeps_first_issues(tmp_path: Path) -> None:
    lines = [GOOD_FIRST]
    for n in range(5):
        lines += [b"not json %d" % n, GOOD_LAST]
    path = write_log(tmp_path, lines)
    with pytest.raises(EventDecodeError) as info:
        list(EventReader(path))
    assert info.value.line == 2
    reader, entries = read_all(path, strict=False, max_issues=2)
    assert len(entries) == 6
    assert reader.malformed == 5
    assert [i.line for i in reader.issues] == [2, 4]
    assert reader.lines == 11
    assert reader.events == 6


def test_huge_line_is_reported_not_read(tmp_path: Path) -> None:
    huge = b'{"type":"thread.started","thread_id":"' + b"x" * 5000 + b'"}'
    exact = b'{"type":"thread.started","thread_id":"' + b"y" * (100 - 40) + b'"}'
    assert len(exact) == 100
    path = write_log(tmp_path, [GOOD_FIRST, huge, exact, GOOD_LAST])
    before = path.read_bytes()
    with pytest.raises(EventDecodeError) as info:
        list(EventReader(path, max_line_bytes=100))
    assert str(info.value).startswith(f"{path}:2: line longer")
    assert "longer than 100 bytes" in str(info.value)
    reader, entries = read_all(path, strict=False, max_line_bytes=100)
    assert [e.line for e in entries] == [1, 3, 4]
    assert reader.malformed == 1
    assert reader.issues[0].kind == "too_long"
    assert reader.issues[0].line == 2
    # With the default limit the same file reads cleanly.
    assert len(list(EventReader(path))) == 4
    assert path.read_bytes() == before


def test_huge_last_line_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_bytes(GOOD_FIRST + b"\n" + b'{"type":"x","pad":"' + b"z" * 1000)
    reader, entries = read_all(path, strict=False, max_line_bytes=64)
    assert [e.line for e in entries] == [1]
    assert [i.line for i in reader.issues] == [2]


def test_blank_lines_are_skipped_and_line_numbers_stay_true(tmp_path: Path) -> None:
    path = write_log(tmp_path, [b"", GOOD_FIRST, b"", b"   ", b"\t", GOOD_LAST, b"", b"oops"])
    with pytest.raises(EventDecodeError) as info:
        list(EventReader(path))
    assert info.value.line == 8
    reader, entries = read_all(path, strict=False)
    assert [e.line for e in entries] == [2, 6]
    assert reader.malformed == 1
    assert reader.lines == 8


def test_crlf_lines_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(GOOD_FIRST + b"\r\n" + GOOD_LAST + b"\r\n\r\n" + b"bad\r\n")
    before = path.read_bytes()
    reader, entries = read_all(path, strict=False)
    assert [(e.line, e.event) for e in entries] == [
        (1, ThreadStartedEvent(thread_id="t")),
        (2, TurnStartedEvent()),
    ]
    assert [i.line for i in reader.issues] == [4]
    assert path.read_bytes() == before


def test_only_newline_splits_lines(tmp_path: Path) -> None:
    text = "a\u2028b\u2029c\x85d\x1ce\x0bf\x0cg"
    line = b'{"type":"item.completed","item":{"id":"i","type":"agent_message","text":"'
    line += text.encode().replace(b"\x1c", b"\\u001c").replace(b"\x0b", b"\\u000b")
    line = line.replace(b"\x0c", b"\\f") + b'"}}'
    path = write_log(tmp_path, [line, GOOD_LAST])
    entries = list(EventReader(path))
    assert [e.line for e in entries] == [1, 2]
    assert record_to_bytes(entries[0].record) == line


def test_truncated_last_line_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_bytes(GOOD_FIRST + b"\n" + GOOD_LAST + b"\n" + b'{"type":"item.comp')
    before = path.read_bytes()
    for strict in (True, False):
        reader, entries = read_all(path, strict=strict)
        assert [e.line for e in entries] == [1, 2]
        assert reader.truncated is True
        assert reader.malformed == 0
        assert [(i.line, i.kind) for i in reader.issues] == [(3, "truncated")]
        assert str(reader.issues[0]).startswith(f"{path}:3: ")
    assert path.read_bytes() == before


def test_complete_last_line_without_newline_is_an_event(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_bytes(GOOD_FIRST + b"\n" + GOOD_LAST)
    reader, entries = read_all(path)
    assert [e.event for e in entries] == [ThreadStartedEvent(thread_id="t"), TurnStartedEvent()]
    assert reader.truncated is False
    assert reader.issues == []


def test_a_line_cut_short_mid_file_is_skipped_even_when_strict(tmp_path: Path) -> None:
    # What a killed writer leaves once a later writer has appended after it.
    path = write_log(tmp_path, [GOOD_FIRST, b'{"type":"item.comp', GOOD_FIRST])
    reader = EventReader(path)
    assert len(list(reader)) == 2
    assert reader.truncated is True
    assert reader.malformed == 0
    assert [(i.line, i.kind) for i in reader.issues] == [(2, "truncated")]


def test_a_complete_line_that_is_not_a_prefix_of_json_is_malformed(tmp_path: Path) -> None:
    path = write_log(tmp_path, [GOOD_FIRST, b'{"type":"item.comp"]', GOOD_FIRST])
    with pytest.raises(EventDecodeError) as info:
        list(EventReader(path))
    assert info.value.line == 2
    reader, _ = read_all(path, strict=False)
    assert reader.truncated is False
    assert reader.malformed == 1


def test_reader_on_binary_stream_uses_its_name() -> None:
    stream = io.BytesIO(GOOD_FIRST + b"\n" + b"[1]\n")
    with pytest.raises(EventDecodeError) as info:
        list(EventReader(stream))
    assert str(info.value).startswith("<stream>:2: expected a JSON object")
    stream = io.BytesIO(GOOD_FIRST + b"\n" + b"[1]\n")
    with pytest.raises(EventDecodeError) as info:
        list(EventReader(stream, name="upload.jsonl"))
    assert str(info.value).startswith("upload.jsonl:2: expected a JSON object")


def test_log_issue_str() -> None:
    issue = LogIssue("f.jsonl", 3, "$.item.id", "required field missing")
    assert str(issue) == "f.jsonl:3: $.item.id: required field missing"
    assert str(LogIssue("f.jsonl", 4, "$", "invalid JSON: x")) == "f.jsonl:4: invalid JSON: x"
