"""Range content hashes: test vectors, an independent MurmurHash3 and FNV-1a, line splitting."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_trace._hashing import (
    CONTENT_HASH_ALGORITHM,
    content_hash,
    hash_matches,
    line_hashes,
    parse_content_hash,
    range_content_hash,
    split_lines,
)

MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF


def _rotl32(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & MASK32


def _fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK32
    h ^= h >> 16
    return h


def murmur3_x86_32(data: bytes, seed: int = 0) -> int:
    """Reference MurmurHash3_x86_32 (Austin Appleby's algorithm), written from scratch."""
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & MASK32
    body = len(data) - len(data) % 4
    for i in range(0, body, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * c1) & MASK32
        k = _rotl32(k, 15)
        k = (k * c2) & MASK32
        h ^= k
        h = _rotl32(h, 13)
        h = (h * 5 + 0xE6546B64) & MASK32
    tail = data[body:]
    k = 0
    if len(tail) == 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if len(tail) >= 1:
        k ^= tail[0]
        k = (k * c1) & MASK32
        k = _rotl32(k, 15)
        k = (k * c2) & MASK32
        h ^= k
    h ^= len(data)
    return _fmix32(h)


def fnv1a_64(data: bytes) -> int:
    """Reference 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3)."""
    h = 0xCBF29CE484222325
    for byte in data:
        h ^= byte
        h = (h * 0x100000001B3) & MASK64
    return h


# --------------------------------------------------------------------------- the reference


@pytest.mark.parametrize(
    ("data", "seed", "expected"),
    [
        # Published MurmurHash3_x86_32 vectors: they check the reference itself.
        (b"", 0, 0x00000000),
        (b"", 1, 0x514E28B7),
        (b"", 0xFFFFFFFF, 0x81F16F39),
        (b"\x00\x00\x00\x00", 0, 0x2362F9DE),
        (b"\xff\xff\xff\xff", 0, 0x76293B50),
        (b"\x21\x43\x65\x87", 0, 0xF55B516B),
        (b"\x21\x43\x65", 0, 0x7E4A8634),
        (b"\x21\x43", 0, 0xA0F7B07A),
        (b"\x21", 0, 0x72661CF4),
        (b"aaaa", 0x9747B28C, 0x5A97808A),
        (b"Hello, world!", 0x9747B28C, 0x24884CBA),
        (b"The quick brown fox jumps over the lazy dog", 0x9747B28C, 0x2FA826CD),
    ],
)
def test_reference_murmur3_matches_published_vectors(data: bytes, seed: int, expected: int) -> None:
    assert murmur3_x86_32(data, seed) == expected


def test_reference_fnv1a_matches_published_vectors() -> None:
    assert fnv1a_64(b"") == 0xCBF29CE484222325
    assert fnv1a_64(b"a") == 0xAF63DC4C8601EC8C
    assert fnv1a_64(b"foobar") == 0x85944171F73967E8


# --------------------------------------------------------------------------- content_hash


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello world", "murmur3:5e928f0f"),
        ("", "murmur3:00000000"),
        # computed with the reference above (seed 0)
        ("test", "murmur3:ba6bd213"),
        ("Hello, world!", "murmur3:c0363e43"),
        ("The quick brown fox jumps over the lazy dog", "murmur3:2e4ff723"),
        ("hello\nworld", "murmur3:5dbbef43"),
        ("h\u00e9llo \U0001f600", "murmur3:696405d6"),
        ("abc", "murmur3:b3dd93fa"),
    ],
)
def test_content_hash_vectors(text: str, expected: str) -> None:
    assert content_hash(text) == expected
    assert content_hash(text.encode("utf-8")) == expected
    assert f"murmur3:{murmur3_x86_32(text.encode('utf-8')):08x}" == expected


def test_content_hash_of_lines_joins_with_newline_without_trailing_newline() -> None:
    assert content_hash(["hello", "world"]) == "murmur3:5dbbef43"
    assert content_hash([b"hello", b"world"]) == "murmur3:5dbbef43"
    assert content_hash(["hello", b"world"]) == "murmur3:5dbbef43"
    assert content_hash(["hello world"]) == "murmur3:5e928f0f"
    assert content_hash([]) == "murmur3:00000000"
    # a trailing newline is a different content
    assert content_hash("hello\nworld\n") != content_hash(["hello", "world"])
    assert content_hash(line for line in ["hello", "world"]) == "murmur3:5dbbef43"
    assert CONTENT_HASH_ALGORITHM == "murmur3"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_content_hash_agrees_with_the_reference_on_random_bytes(data: bytes) -> None:
    assert content_hash(data) == f"murmur3:{murmur3_x86_32(data):08x}"
    assert line_hashes([data]) == [murmur3_x86_32(data)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=16), max_size=6))
def test_content_hash_of_lines_agrees_with_the_reference(lines: list[bytes]) -> None:
    joined = b"\n".join(lines)
    assert content_hash(lines) == f"murmur3:{murmur3_x86_32(joined):08x}"
    assert line_hashes(lines) == [murmur3_x86_32(line) for line in lines]


def test_line_hashes_are_unsigned_32_bit() -> None:
    assert line_hashes([b"hello world", b"", b"test"]) == [0x5E928F0F, 0, 0xBA6BD213]
    assert line_hashes([]) == []


# --------------------------------------------------------------------------- split_lines


def test_split_lines_mixed_terminators() -> None:
    assert split_lines("a\r\nb\nc") == [b"a", b"b", b"c"]
    assert split_lines(b"a\r\nb\nc") == [b"a", b"b", b"c"]


def test_split_lines_final_newline_is_not_an_extra_line() -> None:
    assert split_lines("a\nb\n") == [b"a", b"b"]
    assert split_lines("a\nb") == [b"a", b"b"]
    assert split_lines("a\r\nb\r\n") == [b"a", b"b"]


def test_split_lines_edge_cases() -> None:
    assert split_lines("") == []
    assert split_lines(b"") == []
    assert split_lines("\n") == [b""]
    assert split_lines("\n\n") == [b"", b""]
    assert split_lines("\r\n\r\n") == [b"", b""]
    assert split_lines("a\n\nb") == [b"a", b"", b"b"]
    # a lone CR inside a line is content, not a terminator
    assert split_lines("a\rb\n") == [b"a\rb"]
    # only one CR goes with the LF
    assert split_lines("a\r\r\n") == [b"a\r"]
    assert split_lines("\u00e9\n") == ["\u00e9".encode()]


def test_split_lines_keeps_a_trailing_cr_without_lf() -> None:
    assert split_lines("a\r") == [b"a\r"]


# --------------------------------------------------------------------------- range_content_hash

LINES = split_lines("one\ntwo\r\nthree\nfour")


def test_range_content_hash_hashes_the_selected_lines() -> None:
    assert range_content_hash(LINES, 1, 1) == content_hash("one")
    assert range_content_hash(LINES, 2, 3) == content_hash("two\nthree")
    assert range_content_hash(LINES, 1, 4) == content_hash("one\ntwo\nthree\nfour")
    assert range_content_hash(LINES, 4, 4) == content_hash("four")


@pytest.mark.parametrize(("start", "end"), [(0, 1), (-1, 2), (1, 5), (5, 5), (3, 2), (0, 0)])
def test_range_content_hash_rejects_ranges_outside_the_file(start: int, end: int) -> None:
    with pytest.raises(ValueError, match=rf"range {start}-{end} is outside a file of 4 lines"):
        range_content_hash(LINES, start, end)


def test_range_content_hash_on_an_empty_file() -> None:
    with pytest.raises(ValueError, match="outside a file of 0 lines"):
        range_content_hash(split_lines(""), 1, 1)


# --------------------------------------------------------------------------- parse_content_hash


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("murmur3:5e928f0f", ("murmur3", "5e928f0f")),
        ("murmur3:5E928F0F", ("murmur3", "5e928f0f")),
        ("sha256:ABCdef0123", ("sha256", "abcdef0123")),
        ("fnv1a:cbf29ce484222325", ("fnv1a", "cbf29ce484222325")),
        ("a:0", ("a", "0")),
        ("x.y+z-1_2:ff", ("x.y+z-1_2", "ff")),
        ("xxhash64:" + "0" * 16, ("xxhash64", "0" * 16)),
    ],
)
def test_parse_content_hash_accepts_any_algo_hex(value: str, expected: tuple[str, str]) -> None:
    assert parse_content_hash(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "murmur3",
        "murmur3:",
        ":5e928f0f",
        "5e928f0f",
        "murmur3:xyz",
        "murmur3:5e92 8f0f",
        "murmur3:5e928f0f\n",
        " murmur3:5e928f0f",
        "murmur3 :ff",
        "Murmur3:ff",
        "1murmur:ff",
        "murmur3::ff",
        "murmur3:0x5e928f0f",
    ],
)
def test_parse_content_hash_rejects_junk(value: str) -> None:
    with pytest.raises(ValueError, match="not a content hash of the form 'algorithm:hexdigits'"):
        parse_content_hash(value)


# --------------------------------------------------------------------------- hash_matches


def test_hash_matches_murmur3() -> None:
    assert hash_matches("murmur3:5e928f0f", ["hello world"]) is True
    assert hash_matches("murmur3:5E928F0F", [b"hello world"]) is True
    assert hash_matches("murmur3:5dbbef43", ["hello", "world"]) is True
    assert hash_matches("murmur3:5e928f0e", ["hello world"]) is False
    assert hash_matches("murmur3:00000000", []) is True


def test_hash_matches_sha256_and_sha1() -> None:
    lines = ["def f():", "    return 1"]
    data = b"def f():\n    return 1"
    sha256 = hashlib.sha256(data).hexdigest()
    sha1 = hashlib.sha1(data).hexdigest()
    assert hash_matches(f"sha256:{sha256}", lines) is True
    assert hash_matches(f"sha256:{sha256.upper()}", lines) is True
    assert hash_matches(f"sha1:{sha1}", lines) is True
    assert hash_matches(f"sha256:{sha256}", [*lines, ""]) is False
    assert hash_matches(f"sha1:{sha256}", lines) is False  # right digest, wrong algorithm
    assert hash_matches(
        "sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9", ["hello world"]
    )


def test_hash_matches_fnv1a_64() -> None:
    assert hash_matches("fnv1a:cbf29ce484222325", []) is True
    assert hash_matches("fnv1a:af63dc4c8601ec8c", ["a"]) is True
    assert hash_matches("fnv1a:85944171f73967e8", ["foo", "bar"]) is False
    joined = fnv1a_64(b"foo\nbar")
    assert hash_matches(f"fnv1a:{joined:016x}", ["foo", "bar"]) is True
    assert hash_matches(f"fnv1a:{joined:016X}", [b"foo", b"bar"]) is True


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=12), max_size=5))
def test_hash_matches_fnv1a_agrees_with_the_reference(lines: list[bytes]) -> None:
    digest = fnv1a_64(b"\n".join(lines))
    assert hash_matches(f"fnv1a:{digest:016x}", lines) is True
    assert hash_matches(f"fnv1a:{digest ^ 1:016x}", lines) is False


@pytest.mark.parametrize(
    "value", ["md5:5d41402abc4b2a76b9719d911017c592", "xxh3:abcd", "crc32:00000000"]
)
def test_hash_matches_unknown_algorithm_is_none(value: str) -> None:
    assert hash_matches(value, ["hello"]) is None


@pytest.mark.parametrize("value", ["", "junk", "murmur3", "murmur3:xyz", "5e928f0f"])
def test_hash_matches_not_a_hash_is_none(value: str) -> None:
    assert hash_matches(value, ["hello world"]) is None
