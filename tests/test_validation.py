"""Record validation: the spec schema, the extra rules with their JSON paths, files, and the
``trace validate`` / ``trace schema record`` commands."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from agent_trace._records import record_from_dict
from agent_trace._validation import (
    RecordProblem,
    RecordReport,
    record_json_schema,
    validate_record,
    validate_records_data,
    validate_records_file,
)
from agent_trace.cli import cli

SHA = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0"
RECORD_ID = "550e8400-e29b-41d4-a716-446655440000"
R0 = "$.files[0].conversations[0].ranges[0]"
C0 = "$.files[0].conversations[0]"
CLEAN_ENV = {"NO_COLOR": "", "FORCE_COLOR": ""}

BASE: dict[str, Any] = {
    "version": "0.1.0",
    "id": RECORD_ID,
    "timestamp": "2026-01-23T14:30:00Z",
    "vcs": {"type": "git", "revision": SHA},
    "tool": {"name": "cursor", "version": "2.4.0"},
    "files": [
        {
            "path": "src/utils/parser.ts",
            "conversations": [
                {
                    "url": "https://api.cursor.com/v1/conversations/12345",
                    "contributor": {"type": "ai", "model_id": "anthropic/claude-opus-4-5"},
                    "ranges": [
                        {"start_line": 42, "end_line": 67, "content_hash": "murmur3:9f2e8a1b"}
                    ],
                    "related": [{"type": "session", "url": "https://api.cursor.com/v1/s/1"}],
                }
            ],
        },
        {
            "path": "src/utils/helpers.ts",
            "conversations": [
                {
                    "contributor": {"type": "ai", "model_id": "openai/gpt-4o"},
                    "ranges": [{"start_line": 10, "end_line": 25}],
                }
            ],
        },
    ],
    "metadata": {"confidence": 0.95, "dev.cursor": {"workspace_id": "ws-abc123"}},
}


def record(change: Callable[[dict[str, Any]], Any] | None = None) -> dict[str, Any]:
    """A deep copy of :data:`BASE`, changed in place by ``change``."""
    data = copy.deepcopy(BASE)
    if change is not None:
        change(data)
    return data


def rng(data: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = data["files"][0]["conversations"][0]["ranges"][0]
    return first


def conv(data: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = data["files"][0]["conversations"][0]
    return first


def where(problems: list[RecordProblem]) -> list[tuple[str, str]]:
    return [(p.severity, p.path) for p in problems]


def test_base_record_is_clean() -> None:
    assert validate_record(record()) == []
    record_from_dict(record())


# --------------------------------------------------------------------------- rules

RULE_CASES: list[tuple[str, Callable[[dict[str, Any]], Any], list[tuple[str, str]], str]] = [
    (
        "end-before-start",
        lambda d: rng(d).update(start_line=5, end_line=4),
        [("error", f"{R0}.end_line")],
        "4 is before start_line 5",
    ),
    (
        "start-zero",
        lambda d: rng(d).update(start_line=0, end_line=1),
        [("error", f"{R0}.start_line")],
        "below the minimum 1",
    ),
    (
        "git-revision-short",
        lambda d: d["vcs"].update(revision="a1b2c3d"),
        [("error", "$.vcs.revision")],
        "is not a full git commit id",
    ),
    (
        "git-revision-41",
        lambda d: d["vcs"].update(revision=SHA + "0"),
        [("error", "$.vcs.revision")],
        "is not a full git commit id",
    ),
    (
        "git-revision-not-hex",
        lambda d: d["vcs"].update(revision="g" * 40),
        [("error", "$.vcs.revision")],
        "40 hexadecimal digits, or 64",
    ),
    ("git-revision-40-upper", lambda d: d["vcs"].update(revision=SHA.upper()), [], ""),
    ("git-revision-64", lambda d: d["vcs"].update(revision="0123456789abcdef" * 4), [], ""),
    ("jj-change-id", lambda d: d.update(vcs={"type": "jj", "revision": "kkmpptxz"}), [], ""),
    ("hg-short", lambda d: d.update(vcs={"type": "hg", "revision": "a1b2c3d4e5f6"}), [], ""),
    ("svn-number", lambda d: d.update(vcs={"type": "svn", "revision": "1234"}), [], ""),
    (
        "vcs-type-unknown",
        lambda d: d["vcs"].update(type="cvs"),
        [("error", "$.vcs.type")],
        "\"cvs\" is not one of 'git', 'jj', 'hg', 'svn'",
    ),
    (
        "path-absolute",
        lambda d: d["files"][0].update(path="/etc/passwd"),
        [("error", "$.files[0].path")],
        "is absolute",
    ),
    (
        "path-drive-letter",
        lambda d: d["files"][1].update(path="C:\\src\\a.ts"),
        [("error", "$.files[1].path")],
        "is absolute",
    ),
    (
        "path-dotdot",
        lambda d: d["files"][0].update(path="src/../../etc/passwd"),
        [("error", "$.files[0].path")],
        "leaves the repository ('..')",
    ),
    (
        "path-dotdot-alone",
        lambda d: d["files"][0].update(path=".."),
        [("error", "$.files[0].path")],
        "leaves the repository",
    ),
    ("path-dotdot-prefix-ok", lambda d: d["files"][0].update(path="..foo/a..b"), [], ""),
    (
        "path-empty",
        lambda d: d["files"][0].update(path=""),
        [("error", "$.files[0].path")],
        "empty",
    ),
    (
        "path-backslash",
        lambda d: d["files"][0].update(path="src\\a.ts"),
        [("warning", "$.files[0].path")],
        "uses '\\'",
    ),
    (
        "model-id-empty",
        lambda d: conv(d)["contributor"].update(model_id=""),
        [("error", f"{C0}.contributor.model_id")],
        "empty model id",
    ),
    (
        "model-id-blank",
        lambda d: conv(d)["contributor"].update(model_id="   "),
        [("error", f"{C0}.contributor.model_id")],
        "empty model id",
    ),
    (
        "model-id-too-long",
        lambda d: conv(d)["contributor"].update(model_id="a/" + "m" * 249),
        [("error", f"{C0}.contributor.model_id")],
        "251 characters long; at most 250",
    ),
    (
        "model-id-without-provider",
        lambda d: conv(d)["contributor"].update(model_id="gpt-4o"),
        [("warning", f"{C0}.contributor.model_id")],
        "not in models.dev 'provider/model' form",
    ),
    (
        "range-model-id-without-provider",
        lambda d: rng(d).update(contributor={"type": "ai", "model_id": "claude"}),
        [("warning", f"{R0}.contributor.model_id")],
        "provider/model",
    ),
    (
        "human-with-model-id",
        lambda d: conv(d)["contributor"].update(type="human"),
        [("warning", f"{C0}.contributor.model_id")],
        "a human contributor with a model id",
    ),
    (
        "contributor-type-unknown",
        lambda d: conv(d)["contributor"].update(type="robot"),
        [("error", f"{C0}.contributor.type")],
        "not one of 'human', 'ai', 'mixed', 'unknown'",
    ),
    (
        "timestamp-offset",
        lambda d: d.update(timestamp="2026-01-23T16:30:00+02:00"),
        [("warning", "$.timestamp")],
        "not in UTC with 'Z'",
    ),
    (
        "timestamp-zero-offset",
        lambda d: d.update(timestamp="2026-01-23T14:30:00+00:00"),
        [("warning", "$.timestamp")],
        "not in UTC with 'Z'",
    ),
    ("timestamp-fraction", lambda d: d.update(timestamp="2026-01-23T14:30:00.123456Z"), [], ""),
    (
        "content-hash-no-algorithm",
        lambda d: rng(d).update(content_hash="9f2e8a1b"),
        [("warning", f"{R0}.content_hash")],
        "is not 'algorithm:hexdigits'",
    ),
    (
        "content-hash-not-hex",
        lambda d: rng(d).update(content_hash="sha256:xyz"),
        [("warning", f"{R0}.content_hash")],
        "algorithm:hexdigits",
    ),
    ("content-hash-other-algorithm", lambda d: rng(d).update(content_hash="sha256:AB12"), [], ""),
    (
        "unknown-key-top",
        lambda d: d.update(confidence=0.9),
        [("warning", "$.confidence")],
        "not a spec field; the published (strict) schema rejects it",
    ),
    (
        "unknown-key-dotted",
        lambda d: d.update({"dev.cursor": {}}),
        [("warning", '$["dev.cursor"]')],
        "Put vendor data under metadata",
    ),
    (
        "unknown-keys-nested",
        lambda d: (
            d["vcs"].update(branch="main"),
            d["tool"].update(x=1),
            d["files"][1].update({"x-y": 1}),
            conv(d).update(timestamp="t"),
            conv(d)["contributor"].update(name="c"),
            conv(d)["related"][0].update(title="t"),
            rng(d).update(confidence=1),
        ),
        [
            ("warning", f"{C0}.contributor.name"),
            ("warning", f"{R0}.confidence"),
            ("warning", f"{C0}.related[0].title"),
            ("warning", f"{C0}.timestamp"),
            ("warning", '$.files[1]["x-y"]'),
            ("warning", "$.tool.x"),
            ("warning", "$.vcs.branch"),
        ],
        "not a spec field",
    ),
    ("unknown-keys-in-metadata-ok", lambda d: d["metadata"].update(anything={"x": 1}), [], ""),
    (
        "duplicate-path",
        lambda d: d["files"].append(copy.deepcopy(d["files"][0])),
        [("warning", "$.files[2].path")],
        "same path as files[0]",
    ),
    (
        "metadata-not-object",
        lambda d: d.update(metadata=[1]),
        [("error", "$.metadata")],
        "expected an object, got array [1]",
    ),
    (
        "version-two-parts",
        lambda d: d.update(version="1.0"),
        [("error", "$.version")],
        "version '1.0' is not X.Y.Z",
    ),
    (
        "missing-files",
        lambda d: d.pop("files"),
        [("error", "$")],
        "required field 'files' is missing",
    ),
    (
        "missing-range-end",
        lambda d: rng(d).pop("end_line"),
        [("error", R0)],
        "required field 'end_line' is missing",
    ),
    (
        "line-is-boolean",
        lambda d: rng(d).update(end_line=True),
        [("error", f"{R0}.end_line")],
        "expected an integer, got boolean true",
    ),
    (
        "tool-name-number",
        lambda d: d["tool"].update(name=1),
        [("error", "$.tool.name")],
        "expected a string, got integer 1",
    ),
]


@pytest.mark.parametrize(
    ("change", "expected", "fragment"),
    [c[1:] for c in RULE_CASES],
    ids=[c[0] for c in RULE_CASES],
)
def test_rule(
    change: Callable[[dict[str, Any]], Any], expected: list[tuple[str, str]], fragment: str
) -> None:
    problems = validate_record(record(change))
    assert where(problems) == expected
    for problem in problems:
        assert fragment in problem.message, problem


def test_duplicate_paths_each_name_the_first() -> None:
    def triple(d: dict[str, Any]) -> None:
        d["files"] = [d["files"][0], copy.deepcopy(d["files"][0]), copy.deepcopy(d["files"][0])]

    problems = validate_record(record(triple))
    assert [(p.path, p.message) for p in problems] == [
        ("$.files[1].path", "same path as files[0]"),
        ("$.files[2].path", "same path as files[0]"),
    ]


# --------------------------------------------------------------------------- formats

FORMAT_CASES: list[tuple[str, str, Any, str]] = [
    ("id", "$.id", "not-a-uuid", "is not a UUID"),
    ("id", "$.id", "550e8400e29b41d4a716446655440000", "is not a UUID"),
    ("id", "$.id", "550e8400-e29b-41d4-a716-44665544000g", "is not a UUID"),
    ("timestamp", "$.timestamp", "2026-02-30T00:00:00Z", "is not an RFC 3339 date-time"),
    ("timestamp", "$.timestamp", "2026-13-01T00:00:00Z", "RFC 3339"),
    ("timestamp", "$.timestamp", "2026-01-23T24:00:00Z", "RFC 3339"),
    ("timestamp", "$.timestamp", "2026-12-31T23:59:61Z", "RFC 3339"),
    ("timestamp", "$.timestamp", "2026-01-23 14:30:00Z", "RFC 3339"),
    ("timestamp", "$.timestamp", "2026-01-23T14:30:00", "RFC 3339"),
    ("timestamp", "$.timestamp", "2026-01-23T14:30:00+24:00", "RFC 3339"),
    ("timestamp", "$.timestamp", "yesterday", "RFC 3339"),
    ("url", f"{C0}.url", "conversations/1", "is not an absolute URI"),
    ("url", f"{C0}.url", "https://example.com/a b", "is not an absolute URI"),
    ("url", f"{C0}.url", "", "is not an absolute URI"),
    ("related-url", f"{C0}.related[0].url", "/sessions/1", "is not an absolute URI"),
]


def _set(data: dict[str, Any], field: str, value: Any) -> None:
    if field == "url":
        conv(data)["url"] = value
    elif field == "related-url":
        conv(data)["related"][0]["url"] = value
    else:
        data[field] = value


@pytest.mark.parametrize(("field", "path", "value", "fragment"), FORMAT_CASES)
def test_formats_are_checked(field: str, path: str, value: Any, fragment: str) -> None:
    problems = validate_record(record(lambda d: _set(d, field, value)))
    assert where(problems) == [("error", path)]
    assert fragment in problems[0].message
    assert json.dumps(value) in problems[0].message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", RECORD_ID.upper()),
        ("timestamp", "2016-12-31T23:59:60Z"),  # a leap second
        ("timestamp", "2024-02-29T00:00:00Z"),
        ("timestamp", "2026-01-23T14:30:00.5z"),
        ("url", "file:///tmp/t.jsonl"),
        ("url", "urn:uuid:550e8400-e29b-41d4-a716-446655440000"),
        ("related-url", "mailto:someone@example.com"),
    ],
)
def test_valid_formats_pass(field: str, value: str) -> None:
    assert validate_record(record(lambda d: _set(d, field, value))) == []


# --------------------------------------------------------------------------- shape, order


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (42, "expected an object, got integer 42"),
        ([], "expected an object, got array []"),
        ("record", 'expected an object, got string "record"'),
        ([BASE], "expected an object, got array"),
    ],
)
def test_non_object_record(value: Any, message: str) -> None:
    problems = validate_record(value)
    assert where(problems) == [("error", "$")]
    assert problems[0].message.startswith(message)


def test_null_record_message() -> None:
    problems = validate_record(None)
    assert [p.message for p in problems] == ["expected an object, got null"]


def test_validator_and_reader_agree_on_float_line_numbers() -> None:
    data = record(lambda d: rng(d).update(start_line=5.0, end_line=4))
    errors = [p for p in validate_record(data) if p.severity == "error"]
    try:
        record_from_dict(data)
    except ValueError:
        readable = False
    else:
        readable = True
    # whichever way it is fixed: a record the validator passes must be readable
    assert readable or errors, "validate_record passes a record record_from_dict rejects"


def test_reader_rejects_float_line_numbers() -> None:
    with pytest.raises(ValueError, match=r"expected an integer, got number 5\.0"):
        record_from_dict(record(lambda d: rng(d).update(start_line=5.0)))


def test_problems_are_sorted_errors_first_then_by_path() -> None:
    def many(d: dict[str, Any]) -> None:
        d["aaa"] = 1  # warning at $.aaa: sorts before every error path
        d["timestamp"] = "2026-01-23T16:30:00+02:00"
        d["vcs"]["revision"] = "abc"
        rng(d).update(start_line=9, end_line=3)
        d["files"][1]["path"] = "/abs"

    problems = validate_record(record(many))
    assert where(problems) == [
        ("error", f"{R0}.end_line"),
        ("error", "$.files[1].path"),
        ("error", "$.vcs.revision"),
        ("warning", "$.aaa"),
        ("warning", "$.timestamp"),
    ]
    assert str(problems[0]) == f"{R0}.end_line: {problems[0].message}"
    assert str(problems[-1]) == f"warning: $.timestamp: {problems[-1].message}"


def test_schema_errors_and_rule_errors_together() -> None:
    def both(d: dict[str, Any]) -> None:
        d["id"] = "x"
        rng(d).update(start_line=2, end_line=1)

    # the schema's error and the rule's error, merged and sorted by path
    assert where(validate_record(record(both))) == [("error", f"{R0}.end_line"), ("error", "$.id")]


def test_shipped_schema_equals_the_spec_schema(shared_dir: Path) -> None:
    spec = json.loads((shared_dir / "agent-trace-spec" / "trace-record.json").read_text("utf-8"))
    schema = record_json_schema()
    assert schema == spec
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "changed"
    assert record_json_schema()["title"] == "Agent Trace Record"  # a fresh copy each time


# --------------------------------------------------------------------------- files


def _line(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


BAD = record(lambda d: d["vcs"].update(revision="abc"))
MINIMAL: dict[str, Any] = {
    "version": "0.1.0",
    "id": "550e8400-e29b-41d4-a716-446655440001",
    "timestamp": "2026-01-25T10:00:00Z",
    "files": [
        {
            "path": "src/app.ts",
            "conversations": [
                {"contributor": {"type": "ai"}, "ranges": [{"start_line": 1, "end_line": 50}]}
            ],
        }
    ],
}


def test_file_with_one_json_record(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(BASE, indent=2), encoding="utf-8")
    reports = list(validate_records_file(path))
    assert reports == [RecordReport(str(path), None, None, RECORD_ID, ())]
    assert reports[0].valid
    assert reports[0].where == str(path)


def test_file_with_a_json_array(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_text(json.dumps([BASE, BAD, MINIMAL, 7]), encoding="utf-8")
    reports = list(validate_records_file(path))
    assert [(r.index, r.line, r.valid) for r in reports] == [
        (0, None, True),
        (1, None, False),
        (2, None, True),
        (3, None, False),
    ]
    assert [r.record_id for r in reports] == [RECORD_ID, RECORD_ID, MINIMAL["id"], None]
    assert where(list(reports[1].errors)) == [("error", "$.vcs.revision")]
    assert reports[1].warnings == ()
    assert reports[1].where == f"{path}[1]"
    assert where(list(reports[3].problems)) == [("error", "$")]


def test_jsonl_with_a_malformed_middle_line(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    lines = [_line(BASE), '{"version": "0.1.0",', "", _line(BAD), _line(MINIMAL)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reports = list(validate_records_file(path))
    assert [(r.line, r.index, r.valid) for r in reports] == [
        (1, None, True),
        (2, None, False),
        (4, None, False),
        (5, None, True),
    ]
    broken = reports[1]
    assert broken.record_id is None
    assert [p.path for p in broken.problems] == ["$"]
    assert broken.problems[0].message.startswith("not valid JSON (")
    assert broken.where == f"{path}:2"
    assert where(list(reports[2].problems)) == [("error", "$.vcs.revision")]
    assert reports[3].record_id == MINIMAL["id"]


def test_jsonl_with_crlf_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_bytes(f"{_line(BASE)}\r\n{_line(MINIMAL)}\r\n".encode())
    reports = list(validate_records_file(path))
    assert [(r.line, r.valid, r.problems) for r in reports] == [(1, True, ()), (2, True, ())]


def test_jsonl_last_line_cut_short(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_text(_line(BASE) + "\n" + _line(MINIMAL)[:-7], encoding="utf-8")
    reports = list(validate_records_file(path))
    assert [(r.line, r.valid) for r in reports] == [(1, True), (2, False)]
    assert reports[1].problems == (
        RecordProblem("$", "line cut short (no newline at the end of the file, as after a crash)"),
    )


def test_jsonl_last_line_complete_without_newline_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_text(_line(BASE) + "\n" + _line(MINIMAL), encoding="utf-8")
    assert [(r.line, r.valid) for r in validate_records_file(path)] == [(1, True), (2, True)]


def test_single_line_jsonl_still_has_a_line_number(tmp_path: Path) -> None:
    path = tmp_path / "one.ndjson"
    path.write_text(_line(BASE) + "\n", encoding="utf-8")
    assert [(r.line, r.index, r.valid) for r in validate_records_file(path)] == [(1, None, True)]


@pytest.mark.parametrize("content", [b"", b"\n", b"  \r\n\t"])
@pytest.mark.parametrize("name", ["empty.jsonl", "empty.json"])
def test_empty_file(tmp_path: Path, content: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    reports = list(validate_records_file(path))
    assert reports == [
        RecordReport(str(path), None, None, None, (RecordProblem("$", "empty file"),))
    ]
    assert not reports[0].valid


def test_json_file_holding_json_lines_is_read_as_lines(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_text(f"{_line(BASE)}\n{_line(BAD)}\n", encoding="utf-8")
    assert [(r.line, r.valid) for r in validate_records_file(path)] == [(1, True), (2, False)]


def test_validate_records_data_forced_jsonl() -> None:
    data = json.dumps([BASE]).encode()
    reports = list(validate_records_data(data, "x", jsonl=True))
    assert [(r.line, r.index) for r in reports] == [(1, None)]
    assert where(list(reports[0].problems)) == [("error", "$")]
    auto = list(validate_records_data(data))
    assert [(r.source, r.index, r.valid) for r in auto] == [("<stdin>", 0, True)]


# --------------------------------------------------------------------------- CLI


def run(*args: str | Path, input: bytes | str | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, env=CLEAN_ENV)


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    path = tmp_path / "good.json"
    path.write_text(json.dumps(BASE, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def bad_jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "traces.jsonl"
    path.write_text(f"{_line(BASE)}\nnot json\n{_line(BAD)}\n", encoding="utf-8")
    return path


@pytest.fixture
def warn_file(tmp_path: Path) -> Path:
    path = tmp_path / "warn.json"
    path.write_text(json.dumps(record(lambda d: d.update(confidence=1))), encoding="utf-8")
    return path


def test_cli_validate_valid_files(good_file: Path, tmp_path: Path) -> None:
    lines = tmp_path / "more.jsonl"
    lines.write_text(f"{_line(BASE)}\n{_line(MINIMAL)}\n", encoding="utf-8")
    result = run("validate", good_file, lines)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == "3 records: 3 valid, 0 invalid (0 errors, 0 warnings)\n"


def test_cli_validate_invalid_file(bad_jsonl: Path) -> None:
    result = run("validate", bad_jsonl)
    assert result.exit_code == 1
    first, second = result.stdout.splitlines()
    assert first.startswith(f"{bad_jsonl}:2: error: $: not valid JSON (")
    assert second == (
        f'{bad_jsonl}:3: error: $.vcs.revision: "abc" is not a full git commit id '
        "(40 hexadecimal digits, or 64 in a SHA-256 repository)"
    )
    assert result.stderr == "3 records: 1 valid, 2 invalid (2 errors, 0 warnings)\n"
    assert "\x1b[" not in result.stdout


def test_cli_validate_single_record_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(BAD), encoding="utf-8")
    result = run("validate", path)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{path}: error: $.vcs.revision: ")
    assert result.stderr == "1 record: 0 valid, 1 invalid (1 error, 0 warnings)\n"


def test_cli_validate_strict_fails_on_warnings_only(warn_file: Path, good_file: Path) -> None:
    relaxed = run("validate", warn_file)
    assert relaxed.exit_code == 0
    assert relaxed.stdout == (
        f"{warn_file}: warning: $.confidence: not a spec field; the published (strict) "
        "schema rejects it. Put vendor data under metadata\n"
    )
    assert relaxed.stderr == "1 record: 1 valid, 0 invalid (0 errors, 1 warning)\n"
    strict = run("validate", "--strict", warn_file)
    assert strict.exit_code == 1
    assert strict.stdout == relaxed.stdout
    assert run("validate", "--strict", good_file).exit_code == 0


def test_cli_validate_json_format(bad_jsonl: Path) -> None:
    result = run("validate", "--format", "json", bad_jsonl)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert set(data) == {"valid", "records", "invalid", "errors", "warnings", "reports"}
    assert (data["valid"], data["records"], data["invalid"], data["errors"], data["warnings"]) == (
        False,
        3,
        2,
        2,
        0,
    )
    reports = data["reports"]
    assert [(r["source"], r["line"], r["index"], r["id"], r["valid"]) for r in reports] == [
        (str(bad_jsonl), 1, None, RECORD_ID, True),
        (str(bad_jsonl), 2, None, None, False),
        (str(bad_jsonl), 3, None, RECORD_ID, False),
    ]
    assert reports[0]["problems"] == []
    problem = reports[2]["problems"][0]
    assert set(problem) == {"path", "message", "severity"}
    assert (problem["path"], problem["severity"]) == ("$.vcs.revision", "error")
    assert problem["message"].startswith('"abc" is not a full git commit id')


def test_cli_validate_json_format_strict(warn_file: Path) -> None:
    relaxed = json.loads(run("validate", "--format", "json", warn_file).stdout)
    assert (relaxed["valid"], relaxed["warnings"], relaxed["errors"]) == (True, 1, 0)
    assert relaxed["reports"][0]["problems"] == [
        {
            "path": "$.confidence",
            "message": "not a spec field; the published (strict) schema rejects it. "
            "Put vendor data under metadata",
            "severity": "warning",
        }
    ]
    strict = run("validate", "--format", "JSON", "--strict", warn_file)
    assert strict.exit_code == 1
    assert json.loads(strict.stdout)["valid"] is False


def test_cli_validate_stdin() -> None:
    result = run("validate", "-", input=json.dumps(BAD).encode())
    assert result.exit_code == 1
    assert result.stdout.startswith("<stdin>: error: $.vcs.revision: ")
    ok = run("validate", "-", input=f"{_line(BASE)}\n{_line(MINIMAL)}\n")
    assert ok.exit_code == 0
    assert ok.stderr == "2 records: 2 valid, 0 invalid (0 errors, 0 warnings)\n"


def test_cli_validate_usage_errors(tmp_path: Path) -> None:
    missing = run("validate", tmp_path / "missing.json")
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr
    assert missing.stdout == ""
    assert run("validate").exit_code == 2
    assert run("validate", tmp_path).exit_code == 2  # a directory
    assert run("validate", "--format", "yaml", tmp_path).exit_code == 2


def test_cli_schema_record() -> None:
    result = run("schema", "record")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == record_json_schema()


def test_installed_trace_script_validates(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "trace"
    if not script.exists():
        pytest.fail(f"console script {script} is not installed (pip install -e .)")
    path = tmp_path / "bad.jsonl"
    path.write_text(_line(BAD) + "\n", encoding="utf-8")
    proc = subprocess.run(
        [str(script), "validate", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, **CLEAN_ENV},
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == (
        f'{path}:1: error: $.vcs.revision: "abc" is not a full git commit id '
        "(40 hexadecimal digits, or 64 in a SHA-256 repository)\n"
    )
    assert proc.stderr == "1 record: 0 valid, 1 invalid (1 error, 0 warnings)\n"
