"""Property tests for records and content hashes: generated valid records round-trip,
validate clean, and hashes agree however the lines are split or terminated."""

from __future__ import annotations

import json
import re
from typing import Any

import strategies as s
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_trace._hashing import (
    content_hash,
    hash_matches,
    range_content_hash,
    split_lines,
)
from agent_trace._records import (
    METADATA_NAMESPACE,
    Contributor,
    ContributorType,
    Conversation,
    Range,
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
)
from agent_trace._validation import validate_record

PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HASH_PROPERTY = settings(max_examples=100, deadline=None)
HASH_RE = re.compile(r"murmur3:[0-9a-f]{8}")

# --------------------------------------------------------------------------- values

HEX = "0123456789abcdef"


def hex_digits(n: int, *, upper: bool = False) -> st.SearchStrategy[str]:
    alphabet = HEX + ("ABCDEF" if upper else "")
    return st.text(alphabet, min_size=n, max_size=n)


uuids = st.uuids().map(str)


@st.composite
def rfc3339_utc(draw: st.DrawFn) -> str:
    """``YYYY-MM-DDTHH:MM:SS[.fff…]Z`` for any real calendar date and time."""
    moment = draw(st.datetimes())
    digits = draw(st.integers(0, 9))
    fraction = f".{draw(st.integers(0, 10**digits - 1)):0{digits}d}" if digits else ""
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}{fraction}Z"
    )


NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."
segment = st.text(NAME_CHARS, min_size=1, max_size=8).filter(lambda p: p not in (".", ".."))
rel_paths = st.lists(segment, min_size=1, max_size=3).map("/".join)
uris = st.one_of(
    st.builds(lambda p: f"https://example.com/{p}", rel_paths),
    st.builds(lambda p: f"file:///tmp/{p}.jsonl", rel_paths),
    st.builds(lambda u: f"urn:uuid:{u}", uuids),
)
providers = st.sampled_from(["anthropic", "openai", "google", "xai", "amazon-bedrock"])
model_names = st.text("abcdefghijklmnopqrstuvwxyz0123456789.-", min_size=1, max_size=20)
model_ids = st.builds(lambda p, m: f"{p}/{m}", providers, model_names)
content_hashes = st.one_of(
    hex_digits(8).map(lambda h: f"murmur3:{h}"),
    hex_digits(16).map(lambda h: f"fnv1a:{h}"),
    hex_digits(64).map(lambda h: f"sha256:{h}"),
)
git_revisions = st.one_of(hex_digits(40, upper=True), hex_digits(64))
vcs_data = st.one_of(
    st.fixed_dictionaries({"type": st.just("git"), "revision": git_revisions}),
    st.fixed_dictionaries(
        {"type": st.just("jj"), "revision": st.text("klmnopqrstuvwxyz", min_size=8, max_size=12)}
    ),
    st.fixed_dictionaries({"type": st.just("hg"), "revision": hex_digits(12)}),
    st.fixed_dictionaries({"type": st.just("svn"), "revision": st.integers(1, 10**6).map(str)}),
)
line_numbers = st.one_of(st.integers(1, 10_000), st.integers(1, 2**70))
# JSON values kept small: records nest deeply enough already
json_values: st.SearchStrategy[Any] = st.recursive(
    s.json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(s.short_text, children, max_size=3)
    ),
    max_leaves=5,
)
metadata_values = st.dictionaries(s.short_text, json_values, max_size=3)

# Unknown keys: identifier-like (so their JSON path is ``.name``), never a known field.
EXTRA_KEY = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", max_size=6).map(lambda k: f"x_{k}")


def extra_keys(enabled: bool) -> st.SearchStrategy[dict[str, Any]]:
    if not enabled:
        return st.just({})
    return st.dictionaries(EXTRA_KEY, json_values, max_size=2)


# --------------------------------------------------------------------------- wire data


@st.composite
def _object(
    draw: st.DrawFn,
    required: dict[str, st.SearchStrategy[Any]],
    optional: dict[str, st.SearchStrategy[Any]],
    extras: bool,
) -> dict[str, Any]:
    """An object with the required keys, some optional ones, unknown keys, in drawn order."""
    fields = {name: draw(strategy) for name, strategy in required.items()}
    for name, strategy in optional.items():
        if draw(st.booleans()):
            fields[name] = draw(strategy)
    fields.update(draw(extra_keys(extras)))
    keys = list(fields)
    order = draw(st.permutations(keys)) if extras else keys
    return {key: fields[key] for key in order}


def contributors(extras: bool) -> st.SearchStrategy[dict[str, Any]]:
    ai = _object(
        {"type": st.sampled_from(["ai", "mixed", "unknown"])}, {"model_id": model_ids}, extras
    )
    human = _object({"type": st.just("human")}, {}, extras)
    return st.one_of(ai, human)


@st.composite
def ranges(draw: st.DrawFn, extras: bool) -> dict[str, Any]:
    start = draw(line_numbers)
    end = start + draw(st.integers(0, 500))
    return draw(
        _object(
            {"start_line": st.just(start), "end_line": st.just(end)},
            {"content_hash": content_hashes, "contributor": contributors(extras)},
            extras,
        )
    )


def conversations(extras: bool) -> st.SearchStrategy[dict[str, Any]]:
    related = _object({"type": st.sampled_from(["session", "prompt"]), "url": uris}, {}, extras)
    return _object(
        {"ranges": st.lists(ranges(extras), max_size=3)},
        {
            "url": uris,
            "contributor": contributors(extras),
            "related": st.lists(related, max_size=2),
        },
        extras,
    )


@st.composite
def record_data(draw: st.DrawFn, extras: bool = True) -> dict[str, Any]:
    """A record as decoded JSON: valid against the spec schema and every error rule; with
    ``extras=False`` it also draws no warning."""
    paths = draw(st.lists(rel_paths, max_size=2, unique=True))
    files = [
        draw(
            _object(
                {
                    "path": st.just(path),
                    "conversations": st.lists(conversations(extras), max_size=2),
                },
                {},
                extras,
            )
        )
        for path in paths
    ]
    tool = _object({}, {"name": s.short_text, "version": s.short_text}, extras)
    return draw(
        _object(
            {
                "version": st.sampled_from(["0.1.0", "0.2.0", "0.1.12"]),
                "id": uuids,
                "timestamp": rfc3339_utc(),
                "files": st.just(files),
            },
            {
                "vcs": vcs_data.flatmap(
                    lambda v: st.builds(lambda x: {**v, **x}, extra_keys(extras))
                ),
                "tool": tool,
                "metadata": metadata_values,
            },
            extras,
        )
    )


def extra_paths(value: Any, path: str = "$") -> list[str]:
    """The JSON paths of the unknown (``x_``) keys of a generated record (not in metadata)."""
    out: list[str] = []
    if isinstance(value, dict):
        for key, child in value.items():
            if key.startswith("x_"):
                out.append(f"{path}.{key}")
            elif key != "metadata":
                out += extra_paths(child, f"{path}.{key}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += extra_paths(child, f"{path}[{i}]")
    return out


def ordered(value: Any) -> Any:
    """Objects as lists of items, so that key order counts in comparisons."""
    if isinstance(value, dict):
        return [(k, ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


# --------------------------------------------------------------------------- models


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def model_extras(*known: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(s.short_text.filter(lambda k: k not in known), json_values, max_size=2)


contributor_models = st.builds(
    Contributor,
    type=st.one_of(st.sampled_from(list(ContributorType)), st.sampled_from(["ai", "bot"])),
    model_id=maybe(model_ids),
    extra=model_extras("type", "model_id"),
)


@st.composite
def range_models(draw: st.DrawFn) -> Range:
    start = draw(line_numbers)
    return Range(
        start_line=start,
        end_line=start + draw(st.integers(0, 100)),
        content_hash=draw(maybe(content_hashes)),
        contributor=draw(maybe(contributor_models)),
        extra=draw(model_extras("start_line", "end_line", "content_hash", "contributor")),
    )


conversation_models = st.builds(
    Conversation,
    url=maybe(uris),
    contributor=maybe(contributor_models),
    ranges=st.lists(range_models(), max_size=3),
    related=maybe(
        st.lists(
            st.builds(
                RelatedResource, type=s.short_text, url=uris, extra=model_extras("type", "url")
            ),
            max_size=2,
        )
    ),
    extra=model_extras("url", "contributor", "ranges", "related"),
)
file_models = st.builds(
    TraceFile,
    path=rel_paths,
    conversations=st.lists(conversation_models, max_size=2),
    extra=model_extras("path", "conversations"),
)
record_models = st.builds(
    TraceRecord,
    version=st.just("0.1.0"),
    id=uuids,
    timestamp=rfc3339_utc(),
    vcs=maybe(
        st.builds(
            Vcs,
            type=st.one_of(st.sampled_from(list(VcsType)), st.just("fossil")),
            revision=hex_digits(40),
            extra=model_extras("type", "revision"),
        )
    ),
    tool=maybe(st.builds(Tool, name=maybe(s.short_text), version=maybe(s.short_text))),
    files=st.lists(file_models, max_size=2),
    metadata=maybe(metadata_values),
    extra=model_extras("version", "id", "timestamp", "vcs", "tool", "files", "metadata"),
)


# --------------------------------------------------------------------------- round trips


@PROPERTY
@given(record_data())
def test_dict_model_dict_is_identity(data: dict[str, Any]) -> None:
    record = record_from_dict(data)
    out = record_to_dict(record)
    assert out == data
    assert ordered(out) == ordered(data)


@PROPERTY
@given(record_data())
def test_wire_bytes_are_written_back_unchanged(data: dict[str, Any]) -> None:
    wire = record_to_json(record_from_dict(data))
    again = record_from_json(wire)
    assert record_to_json(again) == wire
    assert ordered(record_to_dict(again)) == ordered(data)


@PROPERTY
@given(record_models)
def test_model_json_model_is_identity(record: TraceRecord) -> None:
    wire = record_to_json(record)
    back = record_from_json(wire)
    assert back == record
    assert record_from_json(wire.decode()) == record
    assert record_from_dict(record_to_dict(record)) == record
    assert record_to_json(back) == wire
    assert record_to_json(record, newline=True) == wire + b"\n"


@PROPERTY
@given(record_models)
def test_models_omit_unset_optional_fields(record: TraceRecord) -> None:
    out = record_to_dict(record)
    assert list(out)[:3] == ["version", "id", "timestamp"]
    assert ("vcs" in out) == (record.vcs is not None)
    assert ("tool" in out) == (record.tool is not None)
    assert ("metadata" in out) == (record.metadata is not None)
    for f, file_out in zip(record.files, out["files"], strict=True):
        for conv, conv_out in zip(f.conversations, file_out["conversations"], strict=True):
            assert ("url" in conv_out) == (conv.url is not None)
            assert ("contributor" in conv_out) == (conv.contributor is not None)
            assert ("related" in conv_out) == (conv.related is not None)
            for rng, rng_out in zip(conv.ranges, conv_out["ranges"], strict=True):
                assert ("content_hash" in rng_out) == (rng.content_hash is not None)
                assert ("contributor" in rng_out) == (rng.contributor is not None)


# --------------------------------------------------------------------------- validation


@PROPERTY
@given(record_data(extras=False))
def test_valid_records_validate_clean(data: dict[str, Any]) -> None:
    assert validate_record(data) == []
    assert validate_record(record_to_dict(record_from_dict(data))) == []


@PROPERTY
@given(record_data(extras=True))
def test_unknown_keys_are_the_only_warnings(data: dict[str, Any]) -> None:
    problems = validate_record(data)
    assert [p for p in problems if p.severity == "error"] == []
    assert sorted(p.path for p in problems) == sorted(extra_paths(data))
    assert all(p.message.startswith("not a spec field") for p in problems)


@PROPERTY
@given(
    st.lists(
        st.builds(
            TraceFile,
            path=rel_paths,
            conversations=st.lists(
                st.builds(
                    Conversation,
                    url=maybe(uris),
                    contributor=maybe(
                        st.builds(
                            Contributor,
                            type=st.sampled_from(["ai", "mixed", "unknown"]),
                            model_id=maybe(model_ids),
                        )
                    ),
                    ranges=st.lists(
                        st.builds(
                            lambda start, n, h: Range(
                                start_line=start, end_line=start + n, content_hash=h
                            ),
                            line_numbers,
                            st.integers(0, 50),
                            maybe(content_hashes),
                        ),
                        max_size=3,
                    ),
                ),
                max_size=2,
            ),
        ),
        max_size=3,
        unique_by=lambda f: f.path,
    ),
    maybe(vcs_data.map(lambda v: Vcs(type=v["type"], revision=v["revision"]))),
    maybe(st.builds(Tool, name=maybe(s.short_text), version=maybe(s.short_text))),
    maybe(metadata_values),
    maybe(st.dictionaries(s.short_text, json_values, max_size=3)),
)
def test_new_record_output_validates_clean(
    files: list[TraceFile],
    vcs: Vcs | None,
    tool: Tool | None,
    metadata: dict[str, Any] | None,
    ours: dict[str, Any] | None,
) -> None:
    record = new_record(files, vcs=vcs, tool=tool, metadata=metadata, ours=ours)
    data = record_to_dict(record)
    assert validate_record(data) == []
    assert json.loads(record_to_json(record)) == json.loads(json.dumps(data))
    if ours:
        assert dict(record.ours).items() >= ours.items()
        assert record.metadata is not None
        assert METADATA_NAMESPACE in record.metadata


# --------------------------------------------------------------------------- hashes

# a line: any text without LF and not ending in CR (a CR before the LF would be eaten)
lines_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12).filter(
    lambda t: "\n" not in t and not t.endswith("\r")
)


@HASH_PROPERTY
@given(st.lists(s.text.filter(lambda t: "\n" not in t), max_size=6))
def test_hash_of_joined_lines_equals_hash_of_list(lines: list[str]) -> None:
    joined = "\n".join(lines)
    assert content_hash(joined) == content_hash(lines)
    assert content_hash(joined.encode()) == content_hash([line.encode() for line in lines])
    assert HASH_RE.fullmatch(content_hash(lines))


@HASH_PROPERTY
@given(st.lists(lines_text, max_size=8), st.booleans())
def test_crlf_and_lf_files_give_the_same_lines_and_range_hashes(
    lines: list[str], final_newline: bool
) -> None:
    end = "\n" if final_newline else ""
    lf = "\n".join(lines) + (end if lines else "")
    crlf = "\r\n".join(lines) + ("\r\n" if final_newline and lines else "")
    lf_lines = split_lines(lf.encode())
    crlf_lines = split_lines(crlf.encode())
    assert lf_lines == crlf_lines
    if final_newline or (lines and lines[-1]):
        assert lf_lines == [line.encode() for line in lines]
    for start in range(1, len(lf_lines) + 1):
        for stop in range(start, len(lf_lines) + 1):
            expected = content_hash(lines[start - 1 : stop])
            assert range_content_hash(lf_lines, start, stop) == expected
            assert range_content_hash(crlf_lines, start, stop) == expected


@HASH_PROPERTY
@given(st.one_of(st.binary(max_size=40), s.text, st.lists(s.text, max_size=4)))
def test_hash_format(value: bytes | str | list[str]) -> None:
    assert HASH_RE.fullmatch(content_hash(value))


@HASH_PROPERTY
@given(st.lists(st.binary(max_size=10), max_size=4), st.lists(st.binary(max_size=10), max_size=4))
def test_hash_matches_agrees_with_content_hash(lines: list[bytes], other: list[bytes]) -> None:
    value = content_hash(lines)
    assert hash_matches(value, lines) is True
    assert hash_matches(value.upper().replace("MURMUR3", "murmur3"), lines) is True
    assert hash_matches(value, other) is (content_hash(other) == value)


@HASH_PROPERTY
@given(st.binary(max_size=200))
def test_split_lines_then_join_restores_the_text(data: bytes) -> None:
    lines = split_lines(data)
    assert all(b"\n" not in line for line in lines)
    normalized = data.replace(b"\r\n", b"\n")
    if data.endswith(b"\r"):
        return  # see test_hashing.test_split_lines_keeps_a_trailing_cr_without_lf
    restored = b"\n".join(lines) + (b"\n" if normalized.endswith(b"\n") else b"")
    assert restored == normalized
