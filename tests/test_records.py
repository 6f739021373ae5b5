"""Agent Trace v0.1.0 records: the spec's examples, lossless reading, strict types, helpers."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest

from agent_trace._records import (
    AGENT_TRACE_MIME_TYPE,
    AGENT_TRACE_VERSION,
    METADATA_NAMESPACE,
    Contributor,
    ContributorType,
    Conversation,
    Range,
    RecordDecodeError,
    RecordVersionWarning,
    RelatedResource,
    Tool,
    TraceFile,
    TraceRecord,
    Vcs,
    VcsType,
    new_record,
    record_from_dict,
    record_from_json,
    record_to_dict,
    record_to_json,
    version_problem,
)
from agent_trace._validation import validate_record

FULL_EXAMPLE = "example-6.2-trace-record.json"
MINIMAL_EXAMPLE = "example-appendix-a-minimal-trace-record.json"
RECORD_ID = "550e8400-e29b-41d4-a716-446655440000"
SHA = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0"
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")


def spec_file(shared_dir: Path, name: str) -> Path:
    path = shared_dir / "agent-trace-spec" / name
    assert path.is_file(), path
    return path


def load_spec(shared_dir: Path, name: str) -> Any:
    return json.loads(spec_file(shared_dir, name).read_text(encoding="utf-8"))


def ordered(value: Any) -> Any:
    """``value`` with every object turned into its list of items: equality then also
    compares key order."""
    if isinstance(value, dict):
        return [(k, ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


def wrap(**fields: Any) -> dict[str, Any]:
    """A full record around a spec fragment (``files`` and/or ``metadata``)."""
    record: dict[str, Any] = {
        "version": "0.1.0",
        "id": RECORD_ID,
        "timestamp": "2026-01-25T10:00:00Z",
        "files": [],
    }
    record.update(fields)
    return record


# --------------------------------------------------------------------------- spec examples


@pytest.mark.parametrize("name", [FULL_EXAMPLE, MINIMAL_EXAMPLE])
def test_spec_example_round_trips(shared_dir: Path, name: str) -> None:
    raw = spec_file(shared_dir, name).read_bytes()
    data = json.loads(raw)
    record = record_from_json(raw)
    assert validate_record(data) == []
    assert record_to_dict(record) == data
    assert ordered(record_to_dict(record)) == ordered(data)
    assert json.loads(record_to_json(record)) == data
    assert record_from_dict(data) == record
    assert record_from_json(record_to_json(record)) == record
    # the compact form is the example, minus its whitespace, in its own key order
    assert record_to_json(record) == json.dumps(data, separators=(",", ":")).encode()


def test_full_example_is_modelled(shared_dir: Path) -> None:
    record = record_from_json(spec_file(shared_dir, FULL_EXAMPLE).read_bytes())
    assert record.version == AGENT_TRACE_VERSION == "0.1.0"
    assert record.id == RECORD_ID
    assert record.timestamp == "2026-01-23T14:30:00Z"
    assert record.vcs == Vcs(type=VcsType.GIT, revision=SHA)
    assert record.vcs.type is VcsType.GIT
    assert record.tool == Tool(name="cursor", version="2.4.0")
    assert record.paths == ["src/utils/parser.ts", "src/utils/helpers.ts"]
    first = record.files[0].conversations[0]
    assert first.url == "https://api.cursor.com/v1/conversations/12345"
    assert first.contributor == Contributor(
        type=ContributorType.AI, model_id="anthropic/claude-opus-4-5-20251101"
    )
    assert first.ranges == [Range(start_line=42, end_line=67, content_hash="murmur3:9f2e8a1b")]
    assert first.related == [
        RelatedResource(type="session", url="https://api.cursor.com/v1/sessions/67890")
    ]
    assert record.files[1].conversations[0].related is None
    assert record.files[1].conversations[0].ranges[0].content_hash is None
    assert record.metadata == {"confidence": 0.95, "dev.cursor": {"workspace_id": "ws-abc123"}}
    assert record.model_ids() == ["anthropic/claude-opus-4-5-20251101", "openai/gpt-4o"]
    assert record.contributor_types() == {"ai"}
    assert record.ours == {}
    assert all(not obj.extra for obj in (record, record.vcs, record.tool, *record.files))


def test_minimal_example_is_modelled(shared_dir: Path) -> None:
    record = record_from_json(spec_file(shared_dir, MINIMAL_EXAMPLE).read_bytes())
    assert (record.vcs, record.tool, record.metadata) == (None, None, None)
    assert record.revision is None
    conv = record.files[0].conversations[0]
    assert conv.url is None
    assert conv.related is None
    assert conv.contributor == Contributor(type="ai")
    assert conv.contributor is not None
    assert conv.contributor.model_id is None
    assert conv.ranges[0].line_count == 50
    assert record.model_ids() == []
    assert list(record_to_dict(record)) == ["version", "id", "timestamp", "files"]


@pytest.mark.parametrize(
    "name",
    [
        "fragment-6.3-attribution-ranges.json",
        "fragment-6.6-content-hashes.json",
        "fragment-6.8-linked-resources.json",
        "fragment-7.2-metadata.json",
    ],
)
def test_spec_fragments_wrapped_into_a_record(shared_dir: Path, name: str) -> None:
    fragment = load_spec(shared_dir, name)
    data = wrap(**fragment)
    record = record_from_dict(data)
    assert validate_record(data) == []
    assert record_to_dict(record) == data
    assert ordered(record_to_dict(record)) == ordered(data)
    assert record_from_json(record_to_json(record)) == record


def test_fragment_6_3_two_conversations(shared_dir: Path) -> None:
    record = record_from_dict(wrap(**load_spec(shared_dir, "fragment-6.3-attribution-ranges.json")))
    convs = record.files[0].conversations
    assert [[(r.start_line, r.end_line) for r in c.ranges] for c in convs] == [
        [(10, 25), (30, 45), (80, 95)],
        [(50, 52)],
    ]
    assert record.model_ids() == ["anthropic/claude-sonnet-4-20250514", "openai/gpt-4o"]


def test_fragment_6_8_related_resources(shared_dir: Path) -> None:
    record = record_from_dict(wrap(**load_spec(shared_dir, "fragment-6.8-linked-resources.json")))
    related = record.files[0].conversations[0].related
    assert related is not None
    assert [(r.type, r.url) for r in related] == [
        ("session", "https://api.example.com/v1/sessions/xyz789"),
        ("prompt", "https://api.example.com/v1/prompts/def456"),
    ]


def test_fragment_7_2_metadata(shared_dir: Path) -> None:
    record = record_from_dict(wrap(**load_spec(shared_dir, "fragment-7.2-metadata.json")))
    assert record.metadata == {
        "confidence": 0.95,
        "post_processing_tools": ["prettier@3.0.0"],
        "dev.cursor": {"workspace_id": "ws-abc123"},
    }


def test_fragment_6_7_model_identifier_as_a_conversation_contributor(shared_dir: Path) -> None:
    fragment = load_spec(shared_dir, "fragment-6.7-model-identifier.json")
    conversation = {**fragment, "ranges": [{"start_line": 1, "end_line": 2}]}
    data = wrap(files=[{"path": "src/a.ts", "conversations": [conversation]}])
    record = record_from_dict(data)
    assert validate_record(data) == []
    assert record.files[0].conversations[0].contributor == Contributor(
        type=ContributorType.AI, model_id="anthropic/claude-opus-4-5-20251101"
    )
    assert record_to_dict(record) == data
    # the same fragment as a range's own contributor
    rng = {"start_line": 3, "end_line": 3, **fragment}
    data = wrap(files=[{"path": "src/a.ts", "conversations": [{"ranges": [rng]}]}])
    assert validate_record(data) == []
    assert record_to_dict(record_from_dict(data)) == data


@pytest.mark.parametrize(
    ("vcs_type", "revision", "expected_type"),
    [("git", SHA, VcsType.GIT), ("jj", "kkmpptxz", VcsType.JJ), ("hg", "a1b2c3d4e5f6", VcsType.HG)],
)
def test_fragment_6_4_vcs_examples(vcs_type: str, revision: str, expected_type: VcsType) -> None:
    data = wrap(vcs={"type": vcs_type, "revision": revision})
    record = record_from_dict(data)
    assert record.vcs == Vcs(type=expected_type, revision=revision)
    assert record.revision == revision
    assert validate_record(data) == []
    assert record_to_dict(record) == data


# --------------------------------------------------------------------------- lossless


def test_unknown_keys_at_every_level_survive_in_their_order() -> None:
    data: dict[str, Any] = {
        "x-top": {"nested": [1, 2.5, None]},
        "timestamp": "2026-01-23T14:30:00Z",
        "files": [
            {
                "conversations": [
                    {
                        "ranges": [
                            {
                                "x-range": True,
                                "end_line": 2,
                                "contributor": {"model_id": "a/b", "x-c": 1, "type": "mixed"},
                                "start_line": 1,
                            }
                        ],
                        "x-conv": "c",
                        "related": [{"url": "https://e.x/1", "x-rel": [], "type": "prompt"}],
                        "contributor": {"x-cc": {}, "type": "ai"},
                    }
                ],
                "x-file": 123456789012345678901234567890,
                "path": "a.py",
            }
        ],
        "tool": {"x-tool": None, "version": "1"},
        "version": "0.1.0",
        "vcs": {"revision": SHA, "x-vcs": -1, "type": "git"},
        "id": RECORD_ID,
        "metadata": {"z": 1, "a": 2},
    }
    record = record_from_dict(copy.deepcopy(data))
    assert record.extra == {"x-top": {"nested": [1, 2.5, None]}}
    assert record.vcs is not None
    assert record.vcs.extra == {"x-vcs": -1}
    assert record.tool is not None
    assert record.tool.extra == {"x-tool": None}
    file = record.files[0]
    assert file.extra == {"x-file": 123456789012345678901234567890}
    conv = file.conversations[0]
    assert conv.extra == {"x-conv": "c"}
    assert conv.contributor is not None
    assert conv.contributor.extra == {"x-cc": {}}
    assert conv.related is not None
    assert conv.related[0].extra == {"x-rel": []}
    rng = conv.ranges[0]
    assert rng.extra == {"x-range": True}
    assert rng.contributor is not None
    assert rng.contributor.extra == {"x-c": 1}
    assert ordered(record_to_dict(record)) == ordered(data)
    wire = record_to_json(record)
    assert ordered(json.loads(wire)) == ordered(data)
    again = record_from_json(wire)
    assert again == record
    assert record_to_json(again) == wire
    assert wire.startswith(b'{"x-top":{"nested":[1,2.5,null]},"timestamp":')
    assert b'"x-file":123456789012345678901234567890,"path":"a.py"' in wire


def test_explicit_nulls_read_from_json_stay_null() -> None:
    data = wrap(
        vcs=None,
        files=[{"path": "a", "conversations": [{"url": None, "ranges": [], "related": None}]}],
        metadata=None,
    )
    record = record_from_dict(data)
    assert record.vcs is None
    assert record.metadata is None
    assert ordered(record_to_dict(record)) == ordered(data)


def test_records_built_in_python_use_spec_order_and_put_extra_last() -> None:
    record = TraceRecord(
        version="0.1.0",
        id=RECORD_ID,
        timestamp="2026-01-23T14:30:00Z",
        metadata={"k": 1},
        files=[
            TraceFile(
                path="a.py",
                conversations=[
                    Conversation(
                        ranges=[Range(end_line=3, start_line=1, extra={"x": 1})],
                        url="https://e.x/c",
                    )
                ],
            )
        ],
        tool=Tool(version="2", name="t"),
        vcs=Vcs(revision=SHA, type=VcsType.GIT),
        extra={"x-top": 1},
    )
    out = record_to_dict(record)
    assert list(out) == ["version", "id", "timestamp", "vcs", "tool", "files", "metadata", "x-top"]
    assert list(out["vcs"]) == ["type", "revision"]
    assert out["vcs"]["type"] == "git"
    assert type(out["vcs"]["type"]) is str
    assert list(out["tool"]) == ["name", "version"]
    conv = out["files"][0]["conversations"][0]
    assert list(conv) == ["url", "ranges"]
    assert conv["ranges"] == [{"start_line": 1, "end_line": 3, "x": 1}]
    assert list(conv["ranges"][0]) == ["start_line", "end_line", "x"]


def test_optional_fields_are_omitted_when_none() -> None:
    record = TraceRecord(
        version="0.1.0",
        id=RECORD_ID,
        timestamp="2026-01-23T14:30:00Z",
        tool=Tool(),
        files=[
            TraceFile(
                path="a.py",
                conversations=[
                    Conversation(
                        ranges=[Range(start_line=1, end_line=1, contributor=Contributor(type="ai"))]
                    )
                ],
            )
        ],
    )
    assert record_to_dict(record) == {
        "version": "0.1.0",
        "id": RECORD_ID,
        "timestamp": "2026-01-23T14:30:00Z",
        "tool": {},
        "files": [
            {
                "path": "a.py",
                "conversations": [
                    {"ranges": [{"start_line": 1, "end_line": 1, "contributor": {"type": "ai"}}]}
                ],
            }
        ],
    }
    assert b"null" not in record_to_json(record)


def test_record_to_json_is_compact_utf8_with_optional_newline() -> None:
    record = new_record(
        [TraceFile(path="caf\u00e9.py", conversations=[])],
        id=RECORD_ID,
        timestamp="2026-01-23T14:30:00Z",
    )
    wire = record_to_json(record)
    assert wire == (
        b'{"version":"0.1.0","id":"550e8400-e29b-41d4-a716-446655440000",'
        b'"timestamp":"2026-01-23T14:30:00Z","files":[{"path":"caf\xc3\xa9.py",'
        b'"conversations":[]}]}'
    )
    assert record_to_json(record, newline=True) == wire + b"\n"
    assert record_from_json(wire.decode()) == record


def test_unknown_enum_values_are_kept_as_strings() -> None:
    data = wrap(
        vcs={"type": "fossil", "revision": "abc"},
        files=[{"path": "a", "conversations": [{"contributor": {"type": "robot"}, "ranges": []}]}],
    )
    record = record_from_dict(data)
    assert record.vcs is not None
    assert record.vcs.type == "fossil"
    assert not isinstance(record.vcs.type, VcsType)
    assert record.revision == "abc"
    assert record_to_dict(record) == data


# --------------------------------------------------------------------------- new_record


def test_new_record_defaults() -> None:
    before = dt.datetime.now(dt.UTC)
    record = new_record([])
    after = dt.datetime.now(dt.UTC)
    assert record.version == "0.1.0"
    assert UUID_RE.match(record.id), record.id
    assert uuid.UUID(record.id).version == 4
    assert record.timestamp.endswith("Z")
    stamp = dt.datetime.fromisoformat(record.timestamp.replace("Z", "+00:00"))
    assert stamp.utcoffset() == dt.timedelta(0)
    assert before - dt.timedelta(seconds=1) <= stamp <= after + dt.timedelta(seconds=1)
    assert (record.vcs, record.tool, record.metadata, record.files) == (None, None, None, [])
    assert new_record([]).id != record.id
    assert validate_record(record_to_dict(record)) == []


def test_new_record_keeps_given_values() -> None:
    files = (
        TraceFile(
            path="a.py", conversations=[Conversation(ranges=[Range(start_line=1, end_line=1)])]
        ),
    )
    record = new_record(
        iter(files),
        vcs=Vcs(type=VcsType.GIT, revision=SHA),
        tool=Tool(name="agent-trace", version="0.1.0"),
        id=RECORD_ID,
        timestamp="2026-01-23T14:30:00.123Z",
    )
    assert record.files == list(files)
    assert record.id == RECORD_ID
    assert record.timestamp == "2026-01-23T14:30:00.123Z"
    assert record.revision == SHA
    assert validate_record(record_to_dict(record)) == []


def test_new_record_merges_ours_into_the_namespace() -> None:
    metadata = {"confidence": 0.5, METADATA_NAMESPACE: {"run_id": "r1", "turn": 1}}
    snapshot = copy.deepcopy(metadata)
    record = new_record([], metadata=metadata, ours={"turn": 2, "item_id": "i"})
    assert METADATA_NAMESPACE == "dev.agent-trace"
    assert record.metadata == {
        "confidence": 0.5,
        "dev.agent-trace": {"run_id": "r1", "turn": 2, "item_id": "i"},
    }
    assert record.ours == {"run_id": "r1", "turn": 2, "item_id": "i"}
    assert metadata == snapshot  # the caller's dicts are not changed

    only_ours = new_record([], ours={"run_id": "r2"})
    assert only_ours.metadata == {"dev.agent-trace": {"run_id": "r2"}}
    assert new_record([], ours={}).metadata is None
    assert new_record([], metadata={"a": 1}).metadata == {"a": 1}


def test_ours_is_empty_unless_an_object() -> None:
    assert new_record([], metadata={METADATA_NAMESPACE: [1]}).ours == {}
    assert new_record([], metadata={METADATA_NAMESPACE: {"a": 1}}).ours == {"a": 1}


def test_constants() -> None:
    assert AGENT_TRACE_VERSION == "0.1.0"
    assert AGENT_TRACE_MIME_TYPE == "application/vnd.agent-trace.record+json"


# --------------------------------------------------------------------------- strict typing


def _with_range(**fields: Any) -> dict[str, Any]:
    rng = {"start_line": 1, "end_line": 2, **fields}
    return wrap(files=[{"path": "a.py", "conversations": [{"ranges": [rng]}]}])


R0 = "$.files[0].conversations[0].ranges[0]"
BAD_RECORDS: list[tuple[str, dict[str, Any] | Any, str, str]] = [
    ("start-string", _with_range(start_line="5"), f"{R0}.start_line", "expected an integer"),
    ("end-float", _with_range(end_line=2.0), f"{R0}.end_line", "expected an integer"),
    ("end-bool", _with_range(end_line=True), f"{R0}.end_line", "expected an integer"),
    ("hash-number", _with_range(content_hash=5), f"{R0}.content_hash", "expected a string"),
    (
        "contributor-type",
        _with_range(contributor={"type": 1}),
        f"{R0}.contributor.type",
        "expected a string",
    ),
    (
        "contributor-missing-type",
        _with_range(contributor={"model_id": "a/b"}),
        f"{R0}.contributor.type",
        "required field missing",
    ),
    ("version-number", {**wrap(), "version": 1}, "$.version", "expected a string"),
    ("missing-id", {k: v for k, v in wrap().items() if k != "id"}, "$.id", "required field"),
    ("files-object", wrap(files={}), "$.files", "expected an array"),
    ("metadata-array", wrap(metadata=[]), "$.metadata", "expected an object"),
    ("vcs-type-number", wrap(vcs={"type": 5, "revision": "x"}), "$.vcs.type", "expected a string"),
    ("vcs-missing-revision", wrap(vcs={"type": "git"}), "$.vcs.revision", "required field"),
    ("tool-name-array", wrap(tool={"name": []}), "$.tool.name", "expected a string"),
    (
        "second-file-path",
        wrap(files=[{"path": "a", "conversations": []}, {"path": 1, "conversations": []}]),
        "$.files[1].path",
        "expected a string",
    ),
    (
        "related-url",
        wrap(
            files=[
                {
                    "path": "a",
                    "conversations": [
                        {"ranges": [], "related": [{"type": "s", "url": "u"}, {"type": "s"}]}
                    ],
                }
            ]
        ),
        "$.files[0].conversations[0].related[1].url",
        "required field",
    ),
    ("not-an-object", [wrap()], "$", "expected an object"),
    ("null", None, "$", "expected an object"),
]


@pytest.mark.parametrize(
    ("data", "path", "fragment"), [c[1:] for c in BAD_RECORDS], ids=[c[0] for c in BAD_RECORDS]
)
def test_strict_types_name_the_exact_json_path(data: Any, path: str, fragment: str) -> None:
    with pytest.raises(RecordDecodeError) as info:
        record_from_dict(data)
    assert info.value.path == path
    assert fragment in info.value.message
    assert str(info.value) == f"{path}: {info.value.message}"
    assert isinstance(info.value, ValueError)


def test_string_line_number_message() -> None:
    with pytest.raises(RecordDecodeError) as info:
        record_from_dict(_with_range(start_line="5"))
    assert info.value.path == "$.files[0].conversations[0].ranges[0].start_line"
    assert info.value.message == "expected an integer, got string '5'"


@pytest.mark.parametrize("text", ["", "{", "[1,", '{"version": NaN}', "not json", '{"a":1}{"b":2}'])
def test_record_from_json_rejects_invalid_json(text: str) -> None:
    with pytest.raises(RecordDecodeError, match="not valid JSON") as info:
        record_from_json(text)
    assert info.value.path == "$"


# --------------------------------------------------------------------------- other versions

REFERENCE_SHAPED: dict[str, Any] = {
    "version": "1.0",
    "id": "7d5a6d2e-1f4b-4b8e-9d51-2a7f3c1e9b40",
    "timestamp": "2026-01-29T12:00:00.000Z",
    "vcs": {"type": "git", "revision": SHA},
    "tool": {"name": "claude-code"},
    "files": [
        {
            "path": "src/index.ts",
            "conversations": [
                {
                    "url": "file:///tmp/t.jsonl",
                    "contributor": {"type": "ai", "model_id": "anthropic/claude-sonnet-4-5"},
                    "ranges": [{"start_line": 1, "end_line": 1}],
                }
            ],
        }
    ],
}


def test_reference_implementation_record_is_read_with_a_warning() -> None:
    with pytest.warns(RecordVersionWarning, match=r"version '1\.0' is not an Agent Trace version"):
        record = record_from_dict(copy.deepcopy(REFERENCE_SHAPED))
    assert record.version == "1.0"
    assert record.tool == Tool(name="claude-code")
    assert record.tool is not None
    assert record.tool.version is None
    assert record.files[0].conversations[0].url == "file:///tmp/t.jsonl"
    assert record.model_ids() == ["anthropic/claude-sonnet-4-5"]
    assert record_to_dict(record) == REFERENCE_SHAPED
    with pytest.warns(RecordVersionWarning, match=REFERENCE_SHAPED["id"]):
        assert record_from_json(json.dumps(REFERENCE_SHAPED)) == record


def test_reference_implementation_record_fails_validation_only_on_version() -> None:
    problems = validate_record(REFERENCE_SHAPED)
    assert [(p.path, p.severity) for p in problems] == [("$.version", "error")]
    assert "'1.0'" in problems[0].message


def test_version_warning_points_at_the_caller_of_record_from_json() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record_from_json(json.dumps(REFERENCE_SHAPED))
    assert [Path(w.filename).name for w in caught] == [Path(__file__).name]


def test_version_warning_points_at_the_caller_of_record_from_dict() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record_from_dict(REFERENCE_SHAPED)
    assert [Path(w.filename).name for w in caught] == [Path(__file__).name]


@pytest.mark.parametrize(
    ("version", "fragment"),
    [
        ("1.0", "is not an Agent Trace version"),
        ("0.1", "is not an Agent Trace version"),
        ("v0.1.0", "is not an Agent Trace version"),
        ("0.1.0-rc1", "is not an Agent Trace version"),
        ("1.0.0", "is a different major version than 0.1.0"),
        ("2.3.4", "is a different major version"),
    ],
)
def test_other_versions_warn(version: str, fragment: str) -> None:
    problem = version_problem(version)
    assert problem is not None
    assert fragment in problem
    with pytest.warns(RecordVersionWarning, match=fragment):
        record = record_from_dict(wrap(version=version))
    assert record.version == version


@pytest.mark.parametrize("version", ["0.1.0", "0.2.0", "0.10.3"])
def test_zero_x_versions_read_silently(version: str) -> None:
    assert version_problem(version) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert record_from_dict(wrap(version=version)).version == version


# --------------------------------------------------------------------------- helpers


def test_revision_is_lower_cased_for_git_only() -> None:
    upper = SHA.upper()
    assert record_from_dict(wrap(vcs={"type": "git", "revision": upper})).revision == SHA
    built = new_record([], vcs=Vcs(type="git", revision=upper))
    assert built.revision == SHA
    assert built.vcs is not None
    assert built.vcs.revision == upper  # the stored value is unchanged
    assert new_record([], vcs=Vcs(type=VcsType.JJ, revision="KkmPPtxz")).revision == "KkmPPtxz"
    assert new_record([], vcs=Vcs(type=VcsType.HG, revision="A1B2")).revision == "A1B2"
    assert new_record([]).revision is None


def _multi_record() -> TraceRecord:
    claude = Contributor(type=ContributorType.AI, model_id="anthropic/claude-sonnet-4-5")
    gpt = Contributor(type=ContributorType.AI, model_id="openai/gpt-4o")
    human = Contributor(type=ContributorType.HUMAN)
    return new_record(
        [
            TraceFile(
                path="a.py",
                conversations=[
                    Conversation(
                        contributor=claude,
                        ranges=[
                            Range(start_line=1, end_line=5),
                            Range(start_line=6, end_line=6, contributor=gpt),
                            Range(start_line=7, end_line=9, contributor=human),
                        ],
                    ),
                    Conversation(ranges=[Range(start_line=20, end_line=20)]),
                ],
            ),
            TraceFile(
                path="b.py",
                conversations=[
                    Conversation(
                        contributor=gpt,
                        ranges=[
                            Range(
                                start_line=1,
                                end_line=1,
                                contributor=Contributor(
                                    type=ContributorType.MIXED, model_id="google/gemini-2.5-pro"
                                ),
                            ),
                            Range(start_line=2, end_line=2, contributor=claude),
                        ],
                    )
                ],
            ),
        ]
    )


def test_model_ids_are_distinct_in_order_of_appearance() -> None:
    assert _multi_record().model_ids() == [
        "anthropic/claude-sonnet-4-5",
        "openai/gpt-4o",
        "google/gemini-2.5-pro",
    ]


def test_contributor_types() -> None:
    record = _multi_record()
    assert record.contributor_types() == {"ai", "human", "mixed", "unknown"}
    assert all(type(t) is str for t in record.contributor_types())
    assert record.paths == ["a.py", "b.py"]
    assert new_record([]).contributor_types() == set()
    odd = record_from_dict(
        wrap(
            files=[
                {
                    "path": "a",
                    "conversations": [
                        {
                            "contributor": {"type": "bot"},
                            "ranges": [{"start_line": 1, "end_line": 1}],
                        }
                    ],
                }
            ]
        )
    )
    assert odd.contributor_types() == {"bot"}


def test_contributor_of_prefers_the_range() -> None:
    conv = _multi_record().files[0].conversations[0]
    first, second, third = conv.ranges
    assert conv.contributor_of(first) == conv.contributor
    assert conv.contributor_of(second) == Contributor(type="ai", model_id="openai/gpt-4o")
    assert conv.contributor_of(third) == Contributor(type=ContributorType.HUMAN)
    bare = Conversation(ranges=[Range(start_line=1, end_line=1)])
    assert bare.contributor_of(bare.ranges[0]) is None


def test_range_line_count_and_membership() -> None:
    rng = Range(start_line=10, end_line=24)
    assert rng.line_count == 15
    assert Range(start_line=7, end_line=7).line_count == 1
    assert 10 in rng
    assert 24 in rng
    assert 17 in rng
    assert 9 not in rng
    assert 25 not in rng
    assert "10" not in rng
    assert 10.0 not in rng
    assert None not in rng


def test_models_are_frozen_and_compare_by_value() -> None:
    rng = Range(start_line=1, end_line=2)
    with pytest.raises(AttributeError):
        rng.start_line = 3  # type: ignore[misc]
    assert rng == Range(start_line=1, end_line=2)
    assert rng != Range(start_line=1, end_line=2, extra={"x": 1})
    assert rng != Range(start_line=1, end_line=2, content_hash="murmur3:00000000")
    assert ContributorType("ai") is ContributorType.AI
    assert str(VcsType.SVN) == "svn"
    assert {m.value for m in ContributorType} == {"human", "ai", "mixed", "unknown"}
    assert {m.value for m in VcsType} == {"git", "jj", "hg", "svn"}
