"""Content anchors (``agent_trace._anchors``): line keys, the ``anchors`` encoding, and
finding lines of known origin again by content (``ContentIndex.match``).

Records are built here the way linking builds them (a range per run of lines, anchors
with one context line on each side in ``metadata["dev.agent-trace"]["conversations"]``),
plus one end-to-end check on the records a real commit gets.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import mmh3
import pytest
from gitrepo import GitRepo
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from agent_trace import (
    Contributor,
    ContributorType,
    Conversation,
    Range,
    Recorder,
    TraceFile,
    TraceRecord,
    TraceStore,
    Vcs,
    VcsType,
    content_hash,
    new_record,
    split_lines,
)
from agent_trace._anchors import (
    Anchor,
    ContentIndex,
    anchor_keys,
    anchors_detail,
    decode_anchors,
    encode_anchors,
    range_anchors,
    substantive,
)

SONNET = "anthropic/claude-sonnet-4-5"
GPT = "openai/gpt-5"
MASK48 = (1 << 48) - 1
REV_A = "a" * 40
REV_B = "b" * 40
REV_C = "c" * 40

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WHITESPACE = st.text(alphabet=" \t\r\x0b\x0c", max_size=6).map(str.encode)
KEY = st.integers(min_value=0, max_value=MASK48)


# --------------------------------------------------------------------------- helpers


def b(*texts: str) -> list[bytes]:
    return [t.encode() for t in texts]


def anchored_record(
    path: str,
    lines: Sequence[bytes],
    ranges: Sequence[tuple[int, int]],
    *,
    revision: str = REV_A,
    model_id: str = SONNET,
    kind: ContributorType = ContributorType.AI,
    timestamp: str | None = None,
) -> TraceRecord:
    """A link record (as ``_link`` writes it) of ``ranges`` of a file ``lines``."""
    contributor = Contributor(type=kind, model_id=model_id if kind != "human" else None)
    conversation = Conversation(
        contributor=contributor,
        ranges=[
            Range(start_line=s, end_line=e, content_hash=content_hash(lines[s - 1 : e]))
            for s, e in ranges
        ],
    )
    detail = {"file": 0, "conversation": 0, "anchors": anchors_detail(anchor_keys(lines), ranges)}
    return new_record(
        [TraceFile(path=path, conversations=[conversation])],
        vcs=Vcs(type=VcsType.GIT, revision=revision),
        ours={"kind": "commit", "conversations": [detail]},
        timestamp=timestamp,
    )


def foreign_record(
    path: str,
    lines: Sequence[bytes],
    ranges: Sequence[tuple[int, int]],
    *,
    revision: str = REV_C,
    hash_of: str = "murmur3",
) -> TraceRecord:
    """A record another tool wrote: no anchors, only each range's ``content_hash``."""

    def hashed(start: int, end: int) -> str:
        if hash_of == "murmur3":
            return content_hash(lines[start - 1 : end])
        return "fnv1a:0123456789abcdef"

    conversation = Conversation(
        contributor=Contributor(type=ContributorType.AI, model_id=GPT),
        ranges=[Range(start_line=s, end_line=e, content_hash=hashed(s, e)) for s, e in ranges],
    )
    return new_record(
        [TraceFile(path=path, conversations=[conversation])],
        vcs=Vcs(type=VcsType.GIT, revision=revision),
    )


def found(matches: Sequence[Anchor | None]) -> list[int | None]:
    """The source line each target line was found at (``None``: not found)."""
    return [m.line if m is not None else None for m in matches]


SOURCE = b(
    "import os",  # 1 (context before the range)
    "def load_settings(path):",  # 2 range ...
    "    with open(path) as handle:",  # 3
    "        data = handle.read()",  # 4
    "    }",  # 5
    "    return parse_settings(data)",  # 6 ... range
    "print(load_settings('x'))",  # 7 (context after)
)
SOURCE_RANGE = (2, 6)


def source_index(*extra: TraceRecord) -> tuple[TraceRecord, ContentIndex]:
    record = anchored_record("src.py", SOURCE, [SOURCE_RANGE])
    return record, ContentIndex([record, *extra])


# --------------------------------------------------------------------------- keys


@given(st.binary(max_size=60), WHITESPACE, WHITESPACE)
def test_anchor_keys_ignore_whitespace_around_a_line(
    line: bytes, before: bytes, after: bytes
) -> None:
    assert anchor_keys([before + line + after]) == anchor_keys([line.strip()])


@given(st.lists(st.binary(max_size=40), max_size=20))
def test_anchor_keys_are_48_bit_never_zero_and_one_per_line(lines: list[bytes]) -> None:
    keys = anchor_keys(lines)
    assert len(keys) == len(lines)
    for line, key in zip(lines, keys, strict=True):
        assert 0 < key <= MASK48
        expected = mmh3.hash64(line.strip(), 0, signed=False)[0] & MASK48
        assert key == (expected or 1)


def test_anchor_keys_map_a_zero_hash_to_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # Key 0 means "no line here" (context at the edge of a file): no real line may get it.
    monkeypatch.setattr(mmh3, "hash64", lambda *args, **kwargs: (7 << 48, 0))
    assert anchor_keys([b"anything", b""]) == [1, 1]


def test_anchor_keys_keep_inner_whitespace_and_case() -> None:
    keys = anchor_keys(b("a b", "ab", "AB", "  a b\t"))
    assert keys[0] != keys[1]
    assert keys[1] != keys[2]
    assert keys[0] == keys[3]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"", False),
        (b"}", False),
        (b"    return None", False),  # keywords only
        (b"x = 1", False),
        (b"abc", False),
        (b"ab12", True),
        (b"  {  }  ;", False),
        ("\u00e9t\u00e9".encode(), True),  # UTF-8 bytes count as letters
    ],
)
def test_substantive_needs_four_letters_or_digits(line: bytes, expected: bool) -> None:
    assert substantive(line) is expected


_WORDS = (b"return", b"None", b"self", b"def", b"if", b"abcd", b"x1", b"9", b"_a", b"\xc3\xa9")
_PIECES = st.one_of(
    st.sampled_from(_WORDS), st.binary(max_size=6), st.sampled_from([b" ", b"(", b".", b"_"])
)


@given(st.lists(_PIECES, max_size=30).map(b"".join), st.integers(0, 60))
@settings(max_examples=2000, deadline=None)
def test_substantive_is_the_count_of_non_keyword_word_characters(line: bytes, pad: int) -> None:
    """The fast path (one long name) agrees with the definition: the words of the first
    400 bytes outside the keywords hold four or more characters."""
    import re

    from agent_trace._anchors import _KEYWORDS

    line = b" " * (pad * 7) + line  # names cut at the 400th byte too
    words = re.findall(rb"[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[\x80-\xff]+", line[:400])
    assert substantive(line) is (sum(len(w) for w in words if w not in _KEYWORDS) >= 4)


# --------------------------------------------------------------------------- encoding


@given(st.lists(KEY, max_size=40))
def test_encode_decode_round_trip(keys: list[int]) -> None:
    text = encode_anchors(keys)
    assert text.isascii()
    assert len(base64.b64decode(text)) == 6 * len(keys)
    assert decode_anchors(text) == keys


def test_encoding_is_big_endian_six_bytes_per_key() -> None:
    text = encode_anchors([0, 1, MASK48])
    assert base64.b64decode(text) == bytes(6) + bytes(5) + b"\x01" + b"\xff" * 6


@pytest.mark.parametrize(
    "text",
    [
        "not base64!",  # not the alphabet
        "AAAA",  # 3 bytes: not whole keys
        "AAAAAAAAAAA=",  # 8 bytes
        "AAAAAAA",  # bad padding
        "AAAA AAAA",  # whitespace
        "\u00c4\u00c4\u00c4\u00c4\u00c4\u00c4\u00c4\u00c4",  # not ASCII
    ],
)
def test_decode_anchors_rejects_bad_input(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several messages, one documented type
        decode_anchors(text)


@given(st.binary(max_size=40).filter(lambda data: len(data) % 6 != 0))
def test_decode_anchors_rejects_partial_keys(data: bytes) -> None:
    with pytest.raises(ValueError, match="6-byte keys"):
        decode_anchors(base64.b64encode(data).decode())


def test_range_anchors_include_context_and_zero_at_file_edges() -> None:
    keys = [11, 22, 33, 44, 55]
    assert decode_anchors(range_anchors(keys, 1, 2)) == [0, 11, 22, 33]
    assert decode_anchors(range_anchors(keys, 2, 4)) == [11, 22, 33, 44, 55]
    assert decode_anchors(range_anchors(keys, 4, 5)) == [33, 44, 55, 0]
    assert decode_anchors(range_anchors(keys, 1, 5)) == [0, 11, 22, 33, 44, 55, 0]
    assert decode_anchors(range_anchors([9], 1, 1)) == [0, 9, 0]
    assert anchors_detail(keys, [(1, 1), (3, 3)]) == [
        range_anchors(keys, 1, 1),
        range_anchors(keys, 3, 3),
    ]


@given(st.data(), st.lists(st.integers(1, MASK48), min_size=1, max_size=30))
def test_range_anchors_property(data: st.DataObject, keys: list[int]) -> None:
    start = data.draw(st.integers(1, len(keys)), label="start")
    end = data.draw(st.integers(start, len(keys)), label="end")
    decoded = decode_anchors(range_anchors(keys, start, end))
    assert len(decoded) == end - start + 3
    assert decoded[1:-1] == keys[start - 1 : end]
    assert decoded[0] == (keys[start - 2] if start > 1 else 0)
    assert decoded[-1] == (keys[end] if end < len(keys) else 0)


# --------------------------------------------------------------------------- matching


def test_block_moved_into_another_file_is_found() -> None:
    record, index = source_index()
    assert len(index) == 1
    target = [*b("# other file", "CONSTANT = 3"), *SOURCE[1:6], b"tail_function()"]
    matches = index.match(target)
    assert found(matches) == [None, None, 2, 3, 4, 5, 6, None]
    anchor = matches[2]
    assert anchor is not None
    assert anchor.record is record
    assert (anchor.path, anchor.file, anchor.conversation, anchor.range) == ("src.py", 0, 0, 0)
    assert anchor.run == 5


def test_part_of_a_range_is_found() -> None:
    _, index = source_index()
    target = [b"unrelated_call()", *SOURCE[2:4], b"other_call()"]
    assert found(index.match(target)) == [None, 3, 4, None]


def test_reindented_block_is_found() -> None:
    _, index = source_index()
    target = [b"class Wrapper:", *(b"\t\t" + line.strip() + b"  " for line in SOURCE[1:6])]
    assert found(index.match(target)) == [None, 2, 3, 4, 5, 6]


def test_context_lines_are_never_labelled() -> None:
    _, index = source_index()
    # The whole source, context included, and the context alone next to each other.
    matches = index.match([*SOURCE, SOURCE[0], SOURCE[6]])
    assert found(matches) == [None, 2, 3, 4, 5, 6, None, None, None]
    assert [m.run for m in matches if m is not None] == [7] * 5  # context counts in the run


def test_changed_context_still_finds_the_block() -> None:
    _, index = source_index()
    target = [b"import sys", *SOURCE[1:6], b"print('changed')"]
    assert found(index.match(target)) == [None, 2, 3, 4, 5, 6, None]


@pytest.mark.parametrize(
    "lone",
    [b"}", b"", b"    return None", b"x = 1", b"    }", b"data = handle.read()"],
    ids=["brace", "blank", "return-none", "x-1", "indented-brace", "substantive"],
)
def test_a_lone_line_is_never_matched(lone: bytes) -> None:
    lines = b("first_line_of_file()", "    return None", "x = 1", "}", "", "data = handle.read()")
    record = anchored_record("src.py", lines, [(1, len(lines))])
    index = ContentIndex([record])
    for target in ([lone], [b"foo_bar_baz()", lone, b"qux_quux()"], [lone, lone, lone]):
        assert found(index.match(target)) == [None] * len(target)


def test_trivial_lines_in_source_order_are_not_a_run() -> None:
    lines = b("import collections", "}", "", "    );", "x = 1", "the_end_of_it()")
    index = ContentIndex([anchored_record("src.py", lines, [(2, 5)])])
    assert found(index.match(lines[1:5])) == [None] * 4
    # One substantive line (the context) with them is still not enough.
    assert found(index.match(lines[:5])) == [None] * 5
    # Two substantive lines (both context) carry the trivial range lines along.
    assert found(index.match(lines)) == [None, 2, 3, 4, 5, None]


def test_single_line_range_is_found_with_its_substantive_context_only() -> None:
    lines = b("before_the_line()", "the_only_agent_line()", "after_the_line()")
    index = ContentIndex([anchored_record("src.py", lines, [(2, 2)])])
    assert found(index.match(lines)) == [None, 2, None]
    assert found(index.match([lines[1]])) == [None]
    assert found(index.match(lines[:2])) == [None, 2]  # two substantive lines in the run
    assert found(index.match([b"new_context()", lines[1], b"more_context()"])) == [None] * 3


def test_return_none_does_not_make_a_run_with_one_context_line() -> None:
    source = b("    if not path:", "        return None", "    value = compute(path)")
    index = ContentIndex([anchored_record("src.py", source, [(2, 2)])])
    # Another function that happens to start the same way: nothing here is the agent's.
    assert found(index.match(b("    if not path:", "        return None"))) == [None, None]


def test_exclude_skips_the_records_of_a_revision() -> None:
    older = anchored_record(
        "src.py",
        SOURCE,
        [SOURCE_RANGE],
        revision=REV_A,
        model_id=SONNET,
        timestamp="2024-01-01T00:00:00Z",
    )
    newer = anchored_record(
        "copy.py",
        SOURCE,
        [SOURCE_RANGE],
        revision=REV_B,
        model_id=GPT,
        timestamp="2025-01-01T00:00:00Z",
    )
    index = ContentIndex([older, newer])
    target = list(SOURCE[1:6])

    def records(matches: Sequence[Anchor | None]) -> list[str | None]:
        return [m.record.revision if m is not None else None for m in matches]

    assert records(index.match(target)) == [REV_B] * 5  # equal runs: the newer wins
    assert records(index.match(target, exclude=REV_B)) == [REV_A] * 5
    assert records(index.match(target, exclude=REV_A)) == [REV_B] * 5
    alone = ContentIndex([older])
    assert found(alone.match(target, exclude=REV_A)) == [None] * 5
    assert found(alone.match(target, exclude=REV_C)) == [2, 3, 4, 5, 6]


def test_longer_run_wins_over_a_newer_record() -> None:
    longer = anchored_record(
        "a.py", SOURCE, [SOURCE_RANGE], revision=REV_A, timestamp="2024-01-01T00:00:00Z"
    )
    part = list(SOURCE[2:5])
    shorter = anchored_record(
        "b.py",
        [b"elsewhere_line()", *part],
        [(2, 4)],
        revision=REV_B,
        timestamp="2025-01-01T00:00:00Z",
    )
    matches = ContentIndex([longer, shorter]).match(list(SOURCE[1:6]))
    assert [m.record.revision if m else None for m in matches] == [REV_A] * 5


def test_duplicate_records_are_indexed_once() -> None:
    record = anchored_record("src.py", SOURCE, [SOURCE_RANGE])
    assert len(ContentIndex([record, record])) == 1
    assert len(ContentIndex([])) == 0
    assert ContentIndex([]).match(list(SOURCE)) == [None] * len(SOURCE)
    assert ContentIndex([record]).match([]) == []


def test_damaged_anchors_are_skipped_without_error() -> None:
    good = anchored_record("src.py", SOURCE, [SOURCE_RANGE])
    for anchors, expected in (
        (["!!not base64!!"], [None] * 7),
        ([encode_anchors([1, 2, 3])], [None] * 7),  # not the range's length + 2
        ([42], [None] * 7),
        ("not a list", [None, 2, 3, 4, 5, 6, None]),  # not anchors: found by content_hash
    ):
        detail = {"file": 0, "conversation": 0, "anchors": anchors}
        damaged = new_record(
            good.files, vcs=good.vcs, ours={"kind": "commit", "conversations": [detail]}
        )
        index = ContentIndex([damaged])
        assert found(index.match(list(SOURCE))) == expected, anchors
    odd_details: list[object] = [{"file": 5, "conversation": 0, "anchors": []}, "junk", {"x": 1}]
    for odd_detail in odd_details:
        odd = new_record(good.files, vcs=good.vcs, ours={"conversations": [odd_detail]})
        ContentIndex([odd])  # does not raise


def test_common_lines_do_not_count_as_substantive() -> None:
    common = b"from __future__ import annotations"
    sources = [
        anchored_record(f"m{i}.py", [common, f"module_{i}_body()".encode()], [(1, 2)])
        for i in range(70)
    ]
    block = [common, b"the_special_function()", b"another_special_call()"]
    special = anchored_record("special.py", block, [(1, 3)], revision=REV_B)
    index = ContentIndex([*sources, special])
    # One rare line next to the everywhere line: not enough.
    assert found(index.match([b"unrelated()", common, b"module_5_body()"])) == [None] * 3
    # Two rare lines: the common line rides along.
    matches = index.match(block)
    assert found(matches) == [1, 2, 3]
    assert {m.record.revision for m in matches if m is not None} == {REV_B}


# --------------------------------------------------------------------------- foreign records


def test_foreign_ranges_are_matched_whole_by_content_hash() -> None:
    lines = b("header_line()", "alpha_function()", "beta_function()", "    }", "footer_line()")
    record = foreign_record("f.py", lines, [(2, 4)])
    index = ContentIndex([record])
    assert len(index) == 1
    matches = index.match([b"something_else()", *lines[1:4], b"end"])
    assert found(matches) == [None, 2, 3, 4, None]
    assert {m.record.id for m in matches if m is not None} == {record.id}
    assert [m.run for m in matches if m is not None] == [3, 3, 3]
    # Exactly the whole range: part of it, or re-indented, is not found.
    assert found(index.match(list(lines[1:3]))) == [None, None]
    assert found(index.match([b"  " + line for line in lines[1:4]])) == [None] * 3
    assert found(index.match(list(lines[1:4]), exclude=REV_C)) == [None] * 3


def test_foreign_ranges_that_cannot_anchor_are_ignored() -> None:
    lines = b("single_agent_line()", "}", "", "alpha_function()", "beta_function()")
    one_line = foreign_record("f.py", lines, [(1, 1)])
    trivial = foreign_record("f.py", lines, [(2, 3)])
    other_hash = foreign_record("f.py", lines, [(4, 5)], hash_of="fnv1a")
    assert len(ContentIndex([one_line, other_hash])) == 0
    assert found(ContentIndex([trivial]).match(list(lines[1:3]))) == [None, None]
    assert found(ContentIndex([one_line, trivial, other_hash]).match(lines)) == [None] * 5


def test_anchored_ranges_win_over_foreign_hashes() -> None:
    ours = anchored_record("src.py", SOURCE, [SOURCE_RANGE], revision=REV_A)
    theirs = foreign_record("src.py", SOURCE, [SOURCE_RANGE], revision=REV_C)
    matches = ContentIndex([theirs, ours]).match(list(SOURCE))
    assert [m.record.revision if m else None for m in matches] == [None, *[REV_A] * 5, None]


# --------------------------------------------------------------------------- a real record


def test_records_of_real_commits_anchor_their_lines(repo: GitRepo) -> None:
    human = "".join(f"human_line_{i}()\n" for i in range(1, 4))
    repo.write("app.py", human)
    repo.commit("human")
    agent = ["def agent_helper(value):", "    doubled = value * 2", "    }", "    return doubled"]
    text = human + "".join(f"{line}\n" for line in agent) + "human_tail()\n"
    with Recorder(repo.root, model_id=SONNET) as rec:
        with rec.edit("app.py"):
            repo.write("app.py", text.removesuffix("human_tail()\n"))
        repo.write("app.py", text)
        head = repo.commit("agent")
    assert [(r.commit, r.ai_lines, r.human_lines) for r in rec.links] == [(head, 4, 1)]

    records = [s.record for s in TraceStore.open(repo.root).records()]
    [record] = [r for r in records if r.revision == head]
    lines = split_lines(text.encode())
    keys = anchor_keys(lines)
    [detail] = [d for d in record.ours["conversations"] if d["file"] == 0 and "evidence" in d]
    conversation = record.files[0].conversations[detail["conversation"]]
    assert [(r.start_line, r.end_line) for r in conversation.ranges] == [(4, 7)]
    assert decode_anchors(detail["anchors"][0]) == keys[2:8]

    index = ContentIndex(records)
    moved = [b"# moved into another module", *(b"        " + line for line in lines[3:7])]
    matches = index.match(moved)
    assert found(matches) == [None, 4, 5, 6, 7]
    assert {(m.record.id, m.path) for m in matches if m is not None} == {(record.id, "app.py")}
    assert all(m is None for m in index.match(moved, exclude=head))


# --------------------------------------------------------------------------- the property

SOURCE_TRIVIAL = [b"}", b"", b"end", b"{", b"  )"]
TARGET_TRIVIAL = [b"]", b"x = 1", b"# -", b"  ;"]
INDENT = st.sampled_from([b"", b"  ", b"    ", b"\t", b" \t "])


@st.composite
def moved_blocks(
    draw: st.DrawFn,
) -> tuple[list[bytes], tuple[int, int], list[bytes], list[int | None]]:
    """A source file, an AI range in it, and a target file with a block of that range
    (two or more substantive lines, re-indented) inserted at random places among other
    lines; plus, per target line, the source line it copies (``None``: not a copy)."""
    kinds = draw(st.lists(st.booleans(), min_size=2, max_size=24), label="substantive")
    assume(sum(kinds) >= 2)
    source = [
        f"src_{i}_value = compute({i})".encode()
        if strong
        else draw(st.sampled_from(SOURCE_TRIVIAL))
        for i, strong in enumerate(kinds)
    ]
    strong_at = [i + 1 for i, strong in enumerate(kinds) if strong]
    first = draw(st.integers(0, len(strong_at) - 2), label="first")
    last = draw(st.integers(first + 1, len(strong_at) - 1), label="last")
    block_start = draw(st.integers(strong_at[first - 1] + 1 if first else 1, strong_at[first]))
    after = strong_at[last + 1] - 1 if last + 1 < len(strong_at) else len(source)
    block_end = draw(st.integers(strong_at[last], after), label="block_end")
    start = draw(st.integers(1, block_start), label="range_start")
    end = draw(st.integers(block_end, len(source)), label="range_end")
    in_range = set(source[start - 1 : end])
    # Other lines: the target's own, and lines of the source outside the range (its
    # context among them) unless their text is also a range line.
    outside = [line for line in source[: start - 1] + source[end:] if line not in in_range]
    own = st.integers(0, 10_000).map(lambda n: f"tgt_{n}_other = call({n})".encode())
    choices = [own, st.sampled_from(TARGET_TRIVIAL)]
    if outside:
        choices.append(st.sampled_from(outside))
    filler = st.one_of(choices)
    target: list[bytes] = []
    copies: list[int | None] = []
    for copy in range(draw(st.integers(1, 2), label="copies")):
        if copy:  # two copies next to each other would make one longer run
            target.append(b"separator_line()")
            copies.append(None)
        for line in draw(st.lists(filler, max_size=6), label="before"):
            target.append(line)
            copies.append(None)
        for number in range(block_start, block_end + 1):
            target.append(draw(INDENT) + source[number - 1].strip() + draw(INDENT))
            copies.append(number)
    for line in draw(st.lists(filler, max_size=6), label="after"):
        target.append(line)
        copies.append(None)
    return source, (start, end), target, copies


@PROPERTY
@given(moved_blocks())
def test_moved_block_is_found_and_nothing_else(
    case: tuple[list[bytes], tuple[int, int], list[bytes], list[int | None]],
) -> None:
    source, (start, end), target, copies = case
    record = anchored_record("src.py", source, [(start, end)], revision=REV_A)
    unrelated_lines = [f"oth_{i}_unrelated()".encode() for i in range(6)]
    unrelated = anchored_record("oth.py", unrelated_lines, [(1, 6)], revision=REV_B)
    matches = ContentIndex([unrelated, record]).match(target)
    assert found(matches) == copies
    for match in matches:
        if match is not None:
            assert match.record is record
            assert start <= match.line <= end


@PROPERTY
@given(st.data())
def test_a_lone_line_among_other_lines_is_never_found(data: st.DataObject) -> None:
    count = data.draw(st.integers(1, 12), label="source lines")
    source = [
        data.draw(st.sampled_from([f"src_{i}_value = compute({i})".encode(), *SOURCE_TRIVIAL]))
        for i in range(count)
    ]
    record = anchored_record("src.py", source, [(1, count)])
    lone = data.draw(st.sampled_from(source), label="lone")
    own = st.integers(0, 10_000).map(lambda n: f"tgt_{n}_other = call({n})".encode())
    filler = st.one_of(own, st.sampled_from(TARGET_TRIVIAL))
    before = data.draw(st.lists(filler, max_size=8), label="before")
    after = data.draw(st.lists(filler, max_size=8), label="after")
    target = [*before, data.draw(INDENT) + lone.strip(), *after]
    assert found(ContentIndex([record]).match(target)) == [None] * len(target)
