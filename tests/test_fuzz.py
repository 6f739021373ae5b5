"""Fuzzing every parser: bad input is an error of the documented type, never a crash.

Each parser gets (a) raw random bytes (invalid UTF-8, NUL bytes, huge integers, nesting
deeper than any parser allows), (b) random JSON values and (c) real lines (the files of
``tests/data`` and ``../shared/fixtures``, generated events and records) mutated: bytes
deleted, inserted or replaced, keys dropped, values swapped for values of another type,
values buried deep in arrays. A parser either succeeds or raises only its documented
error type; lenient readers and the git hooks never raise at all.

Parsers: ``EventReader`` (strict and lenient), ``parse_record``, ``from_json``,
``from_dict``; every adapter (``AdapterReader``, ``adapter_for``, ``detect_format``);
``record_from_json``, ``record_from_dict``, ``decode_record``; git notes (``NotesBackend``
and ``trace show``/``log``/``blame`` on notes and ``traces.jsonl`` written with random
bytes); ``trace events`` on random logs; ``parse_rewrite_input`` and ``trace hook
post-rewrite``; ``handle_claude_hook`` and ``trace hook claude``;
``.agent-trace/config.toml`` (``load_privacy``); ``Run.read_manifest``;
``PendingState.load``.

Profiles (``hypothesis.settings``, applied per test; nothing global is changed):

* ``ci`` (default): 200 inputs per parser test, 10 to 40 for the tests that run git or
  the CLI. The whole file takes about 30 s on a 2-core machine.
* ``fuzz``: ``AGENT_TRACE_FUZZ=1``; 5000 inputs per parser test, 1000 for the tests that
  run git and 3000 for ``trace events`` (``FUZZ_EXAMPLES`` below), no deadline. The long
  run, by hand::

      AGENT_TRACE_FUZZ=1 .venv/bin/python -m pytest -q -p no:cacheprovider \\
          tests/test_fuzz.py --hypothesis-show-statistics --durations=0

  ``--hypothesis-show-statistics`` prints, per test, how many inputs were tried (``N
  passing, 0 failing``), how long they took and how often each outcome occurred (the
  ``event()`` counts: accepted, or the error met); ``--durations=0`` the wall time of
  each test. About 87,000 inputs in 15 minutes on 2 cores. Report those numbers and that
  no test failed; a failure prints the smallest input found and how to reproduce it.

The bugs the fuzzing found (all fixed) keep a minimal reproduction at the end of this
file.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest
import strategies as s
from click.testing import CliRunner, Result
from gitrepo import GitRepo, isolated_git_env
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from shared_files import locate_shared_dir
from test_adapters import FUZZY_LINES, fuzzy_values, weighted
from test_record_properties import record_data

from agent_trace._claude_hook import handle_claude_hook
from agent_trace._config import ConfigError, load_privacy
from agent_trace._git import find_repository
from agent_trace._notes import NOTES_REF, NotesBackend
from agent_trace._pending import PendingFile, PendingState, encode_keys
from agent_trace._records import (
    RecordDecodeError,
    RecordVersionWarning,
    TraceRecord,
    record_from_dict,
    record_from_json,
)
from agent_trace._rewrite import parse_rewrite_input
from agent_trace._runs import Run, RunManifest
from agent_trace._stored import StoreIssue, decode_record
from agent_trace.cli import cli
from agent_trace.events import (
    EventDecodeError,
    EventReader,
    from_dict,
    from_json,
    parse_record,
    record_to_bytes,
)
from agent_trace.events._adapters import (
    FORMATS,
    AdapterError,
    AdapterReader,
    adapter_for,
    detect_format,
)

# --------------------------------------------------------------------------- profiles

FUZZ = os.environ.get("AGENT_TRACE_FUZZ", "") not in ("", "0")

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile("fuzz" if FUZZ else "ci")

FUZZ_EXAMPLES = {"git": 1000, "cli": 3000}
"""Inputs per test in the ``fuzz`` profile where one input costs git processes (``git``)
or a CLI run (``cli``); every other test gets the profile's 5000."""


def budget(ci: int | None = None, kind: str | None = None) -> settings:
    """The active profile, with ``ci`` inputs in CI (default: the profile's) and, in the
    fuzz profile, ``FUZZ_EXAMPLES[kind]`` (default: the profile's)."""
    if FUZZ:
        return settings(PROFILE, max_examples=FUZZ_EXAMPLES[kind] if kind else PROFILE.max_examples)
    return settings(PROFILE, max_examples=ci or PROFILE.max_examples)


CLEAN_ENV = {"NO_COLOR": "", "FORCE_COLOR": ""}

T = TypeVar("T")
E = TypeVar("E", bound=BaseException)


def outcome(what: str, error: BaseException | None) -> None:
    """Count, for ``--hypothesis-show-statistics``, how often ``what`` accepted its input
    or rejected it (by a message with numbers and quoted text blanked out)."""
    if error is None:
        event(f"{what}: accepted")
        return
    message = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", str(error).splitlines()[0] if str(error) else "")
    message = re.sub(r"/\S*", "PATH", re.sub(r"\d+", "N", message))
    event(f"{what}: {type(error).__name__}: {message[:60]}")


def attempt(call: Callable[[], T], allowed: type[E]) -> tuple[T | None, E | None]:
    """``(result, None)``, or ``(None, error)`` when ``call`` raised ``allowed``; any
    other exception propagates (and fails the test)."""
    try:
        return call(), None
    except allowed as exc:
        return None, exc


def trace(*args: str | Path, input: bytes | None = None) -> Result:
    """Invoke ``trace`` in-process, with a clean colour environment."""
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, env=CLEAN_ENV)


def assert_no_crash(result: Result, codes: tuple[int, ...] = (0, 1)) -> None:
    """The command ended with one of ``codes``: no exception escaped it."""
    shown = f"exit {result.exit_code}\nstdout: {result.stdout[-2000:]}\nstderr: {result.stderr}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{shown}\n") from result.exception
    assert result.exit_code in codes, shown
    assert "Traceback" not in result.stderr, shown


# --------------------------------------------------------------------------- raw bytes

NASTY: list[bytes] = [
    b"",
    b"\x00",
    b"\x00\x00\x00\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf{}",  # a byte-order mark
    b"\xc3\x28",
    b'"\\ud800"',
    b'{"a":"\\udc00"}',
    b"null",
    b"true",
    b"[]",
    b"{}",
    b"0",
    b"-0",
    b"1e400",
    b"-1e-400",
    b"NaN",
    b"Infinity",
    b"9" * 19,
    b"-" + b"9" * 40,
    b"1" * 5000,  # beyond Python's int-from-string limit (4300 digits)
    b"[" * 1500,
    b"[" * 1023 + b"]" * 1023,
    b"[" * 1025 + b"]" * 1025,
    b'{"a":' * 1100,
    b"[" * 990 + b"1" * 25 + b"]" * 990,  # deep and a big integer: the stdlib parser
    b"[" * 300 + b"]" * 300,
    b'{"type":"web_search","v":' + b"[" * 990 + b"]" * 990 + b"}",
    b'{"type":"x.custom","v":' + b"[" * 300 + b"]" * 300 + b"}",
    b'{"type":"x.custom","v":' + b"[" * 700 + b"1" * 25 + b"]" * 700 + b"}",
    b'{"type":"x","type":"y"}',
    b'{"id":"a","id":"b","id":"c"}',
    b'{"type":"turn.started"}\r',
    b"\r\n",
    b" \t ",
    b"\x1e{}",
]
raw_bytes = st.one_of(st.binary(max_size=200), st.sampled_from(NASTY))
json_tokens = st.sampled_from(
    [b"{", b"}", b"[", b"]", b",", b":", b'"', b"\\", b"null", b"true", b"1", b"-", b"e9",
     b'"type"', b'"event"', b'"item"', b'"id"', b"9" * 20, b"\x00", b"\xff", b" ", b"\\u0000",
     b'"\\ud800"', b"\r"]
)  # fmt: skip
token_soup = st.lists(json_tokens, max_size=30).map(b"".join)

# Any Unicode text, lone surrogates included (they cannot be encoded as UTF-8).
any_text = st.one_of(
    st.text(max_size=60),
    st.text(st.characters(codec=None, categories=["Cs", "Cc", "Zl", "Zp", "Co"]), max_size=10),
    st.lists(st.sampled_from(["\ud800", "\udfff", "\x00", "{", '"', "\u2028"]), max_size=5).map(
        "".join
    ),
)


# --------------------------------------------------------------------------- real lines


def _lines_of(path: Path, limit: int = 8192) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines() if line.strip() and len(line) < limit]


DATA = Path(__file__).parent / "data" / "adapters"
ADAPTER_LINES = {path.stem: _lines_of(path) for path in sorted(DATA.glob("*.jsonl"))}
SHARED_FIXTURES = locate_shared_dir() / "fixtures"
NATIVE_LINES = [
    line
    for path in sorted(SHARED_FIXTURES.glob("*/*.jsonl")) if SHARED_FIXTURES.is_dir()
    for line in _lines_of(path)
]  # fmt: skip
REAL_LINES = [line for lines in ADAPTER_LINES.values() for line in lines] + NATIVE_LINES
HOOK_PAYLOADS = ADAPTER_LINES["claude-hooks"]

generated_events = st.one_of(s.events, s.versioned_events, s.envelopes).map(record_to_bytes)
generated_records = record_data().map(lambda data: _to_json(data))


# -------------------------------------------------------------------- mutations


def _positions(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every node of a decoded JSON value (the root is ``()``), down to a
    depth of 40."""
    out = [path]
    if len(path) >= 40:
        return out
    if isinstance(value, dict):
        for key, child in value.items():
            out += _positions(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _positions(child, (*path, index))
    return out


_REMOVE = object()


def _edit(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of ``value`` with the node at ``path`` replaced by ``new`` (removed when
    ``new`` is ``_REMOVE``)."""
    if not path:
        return None if new is _REMOVE else new
    head, rest = path[0], path[1:]
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    if not rest and new is _REMOVE:
        del copy[head]
    else:
        copy[head] = _edit(value[head], rest, new)
    return copy


def _retyped(value: Any) -> st.SearchStrategy[Any]:
    """A value of another JSON type than ``value`` (a string of a number, a number of a
    string, an edge integer, ...)."""
    others: list[Any] = [None, True, False, 0, -1, 1.5, "", "5", [], {}, 2**64, -(2**63) - 1]
    if isinstance(value, str):
        others += [len(value), [value], {"text": value}]
    elif isinstance(value, bool) or value is None:
        others += [str(value).lower(), 1]
    elif isinstance(value, int | float):
        others += [str(value), value * 2**70, -value, float(value) + 0.5]
    elif isinstance(value, list):
        others += [value[:1], dict(enumerate(map(str, range(len(value)))))]
    elif isinstance(value, dict):
        others += [list(value.values()), list(value)]
    candidates = [o for o in others if type(o) is not type(value) or o != value]
    return st.one_of(st.sampled_from(candidates), s.json_values, fuzzy_values)


DEPTHS = [2, 10, 254, 256, 400, 700, 990, 1022, 1030]


@st.composite
def json_mutation(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with one to three nodes dropped, re-typed, renamed or buried deep."""
    for _ in range(draw(st.integers(1, 3))):
        paths = _positions(value)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["drop", "retype", "retype", "rename", "wrap", "deep"]))
        node = _at(value, path)
        if op == "drop" and path:
            value = _edit(value, path, _REMOVE)
        elif op == "retype":
            value = _edit(value, path, draw(_retyped(node)))
        elif op == "rename" and path and isinstance(path[-1], str):
            parent = _at(value, path[:-1])
            name = draw(st.one_of(s.short_text, st.sampled_from(["type", "id", "event"])))
            renamed = {(name if k == path[-1] else k): v for k, v in parent.items()}
            value = _edit(value, path[:-1], renamed)
        elif op == "wrap":
            value = _edit(value, path, [node] if isinstance(node, dict) else {"value": node})
        elif op == "deep":
            value = _edit(value, path, _bury(node, draw(st.sampled_from(DEPTHS))))
    return value


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _bury(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


def _to_json(value: Any) -> bytes:
    """JSON text of any decoded value (integers beyond 64 bits, nesting beyond orjson's
    limit and lone surrogates included)."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError
        with contextlib.suppress(RecursionError):
            return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(
                "utf-8", "surrogatepass"
            )
        return b"[" * 1100


BYTE_OPS = ["delete", "insert", "replace", "truncate", "duplicate", "swap"]


@st.composite
def byte_mutation(draw: st.DrawFn, line: bytes) -> bytes:
    """``line`` with one to four byte-level edits."""
    data = bytearray(line)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(BYTE_OPS))
        i = draw(st.integers(0, len(data)))
        j = min(len(data), i + draw(st.integers(0, 12)))
        if op == "delete":
            del data[i:j]
        elif op == "insert":
            data[i:i] = draw(st.one_of(json_tokens, st.binary(min_size=1, max_size=4)))
        elif op == "replace" and i < len(data):
            data[i] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[i:]
        elif op == "duplicate":
            data[i:i] = data[i:j]
        elif op == "swap" and j < len(data):
            data[i], data[j] = data[j], data[i]
    return bytes(data)


def mutated(lines: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """A line of ``lines``, mutated as bytes or as JSON (keys, types, depth)."""

    def as_json(line: bytes) -> st.SearchStrategy[bytes]:
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            return byte_mutation(line)
        return json_mutation(value).map(_to_json)

    return lines.flatmap(lambda line: st.one_of(st.just(line), byte_mutation(line), as_json(line)))


def real_lines(pool: list[bytes]) -> st.SearchStrategy[bytes]:
    """A line of ``pool`` (drawn by index: the strategy's repr stays short)."""
    if not pool:
        return st.just(b'{"type":"turn.started"}')
    return st.integers(0, len(pool) - 1).map(lambda i: pool[i])


# One line of any log: mostly something close to a real line.
log_lines = st.one_of(
    raw_bytes,
    token_soup,
    fuzzy_values.map(_to_json),
    mutated(real_lines(REAL_LINES)),
    mutated(generated_events),
    mutated(st.sampled_from(["claude", "meerkat", "omne"]).flatmap(
        lambda fmt: FUZZY_LINES[fmt]).map(lambda lines: _to_json(lines[0]))),
)  # fmt: skip
line_ends = st.sampled_from([b"\n", b"\r\n", b"\n\n", b"\r"])


@st.composite
def log_files(draw: st.DrawFn) -> bytes:
    """The bytes of a log: lines of any kind, any line ends, maybe no final newline."""
    lines = draw(st.lists(log_lines, max_size=8))
    out = b"".join(line + draw(line_ends) for line in lines)
    if out and draw(st.booleans()):
        out = out.rstrip(b"\r\n")  # a last line without its newline (a torn write)
    return out


json_documents = st.one_of(
    raw_bytes, token_soup, s.json_values.map(_to_json), mutated(real_lines(REAL_LINES))
)


def decoded(strategy: st.SearchStrategy[bytes]) -> st.SearchStrategy[Any]:
    """The JSON values of those documents that parse (Python's parser: big integers)."""

    def load(data: bytes) -> Any:
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            return None

    return strategy.map(load)


json_objects_mutated = st.one_of(
    s.json_values,
    fuzzy_values,
    decoded(mutated(real_lines(REAL_LINES))),
    decoded(mutated(generated_events)),
)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def git_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Module-scoped fixtures run git before the per-test isolation is on: isolate them."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in isolated_git_env(tmp_path_factory.mktemp("home")).items():
            mp.setenv(key, value)
        yield


APP = "src/app.py"
APP_TEXT = "def f():\n    return 1\n\n\nprint(f())\n"


def make_repo(root: Path) -> GitRepo:
    """A repository with two commits touching ``src/app.py``."""
    repo = GitRepo.init(root)
    repo.write(APP, APP_TEXT)
    repo.write("README.md", "# demo\n")
    repo.commit("first")
    repo.write(APP, APP_TEXT.replace("1", "2") + "x = 3\n")
    repo.commit("second")
    return repo


@pytest.fixture(scope="module")
def notes_repo(git_env: None, module_dir: Path) -> GitRepo:
    return make_repo(module_dir / "notes")


@pytest.fixture(scope="module")
def rewrite_repo(git_env: None, module_dir: Path) -> GitRepo:
    return make_repo(module_dir / "rewrite")


@pytest.fixture(scope="module")
def claude_repo(git_env: None, module_dir: Path) -> GitRepo:
    return make_repo(module_dir / "claude")


@contextlib.contextmanager
def no_record_version_warnings() -> Iterator[None]:
    """Records of other versions are read with a RecordVersionWarning: allowed here (any
    other warning stays an error)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecordVersionWarning)
        yield


# ============================================================================ events


@budget()
@given(data=st.one_of(json_documents, log_lines))
def test_parse_record_and_from_json_on_bytes(data: bytes) -> None:
    for parse in (parse_record, from_json):
        _, error = attempt(functools.partial(parse, data), EventDecodeError)
        outcome(parse.__name__, error)
        if error is not None:
            assert error.path.startswith("$")
            assert (error.source, error.line) == (None, None)


@budget()
@given(text=st.one_of(any_text, log_lines.map(lambda b: b.decode("utf-8", "surrogateescape"))))
def test_parse_record_and_from_json_on_text(text: str) -> None:
    for parse in (parse_record, from_json):
        with contextlib.suppress(EventDecodeError):
            parse(text)


@budget()
@given(value=json_objects_mutated)
def test_parse_record_and_from_dict_on_values(value: Any) -> None:
    for parse in (parse_record, from_dict):
        _, error = attempt(functools.partial(parse, value), EventDecodeError)
        outcome(parse.__name__, error)
        assert error is None or error.path.startswith("$")


@budget()
@given(
    content=log_files(),
    max_line_bytes=st.sampled_from([16, 100, 4096, 64 * 1024 * 1024]),
    max_issues=st.integers(0, 5),
)
def test_event_reader_lenient_never_raises_strict_only_decode_errors(
    module_dir: Path, content: bytes, max_line_bytes: int, max_issues: int
) -> None:
    path = module_dir / "events.jsonl"
    path.write_bytes(content)
    lenient = EventReader(path, strict=False, max_line_bytes=max_line_bytes, max_issues=max_issues)
    entries = list(lenient)
    assert lenient.events == len(entries)
    assert len(lenient.issues) <= max(max_issues, 1)  # plus a torn last line
    assert lenient.events + lenient.malformed <= lenient.lines
    assert [e.line for e in entries] == sorted({e.line for e in entries})
    for entry in entries:
        entry.event  # noqa: B018 - every property of an entry works
        entry.form  # noqa: B018
    strict = EventReader(path, strict=True, max_line_bytes=max_line_bytes)
    strict_entries, error = attempt(lambda: list(strict), EventDecodeError)
    outcome("strict reader", error)
    if error is not None:
        assert (error.source, error.line) == (str(path), strict.lines)
        assert "\n" not in str(error), str(error)
        assert lenient.malformed > 0
    else:
        assert lenient.malformed == 0
        assert [e.record for e in strict_entries or []] == [e.record for e in entries]


# ========================================================================== adapters


@budget()
@given(
    fmt=st.sampled_from(["auto", *FORMATS]),
    content=log_files(),
    keep_content=st.booleans(),
    strict=st.booleans(),
)
def test_adapter_reader_every_format(
    module_dir: Path, fmt: str, content: bytes, keep_content: bool, strict: bool
) -> None:
    path = module_dir / "adapter.jsonl"
    path.write_bytes(content)
    reader = AdapterReader(path, format=fmt, strict=strict, keep_content=keep_content)
    translated, error = attempt(lambda: list(reader), EventDecodeError)
    event(f"format {reader.format}, {'strict' if strict else 'lenient'}")
    outcome("reader", error)
    if error is not None:
        assert strict
        assert (error.source, error.line) == (str(path), reader.lines)
    else:
        assert reader.events == len(translated or [])
        assert reader.malformed <= reader.lines
        if strict:
            assert reader.malformed == 0
    # Stream input behaves as file input.
    stream = AdapterReader(io.BytesIO(content), format=fmt, strict=False)
    list(stream)


@budget()
@given(
    fmt=st.sampled_from(FORMATS),
    objects=st.lists(
        st.one_of(
            decoded(mutated(real_lines(REAL_LINES))).filter(lambda v: isinstance(v, dict)),
            st.sampled_from(["claude", "meerkat", "omne"])
            .flatmap(lambda f: FUZZY_LINES[f])
            .map(lambda lines: lines[0]),
            s.json_objects,
        ),
        max_size=6,
    ),
    keep_content=st.booleans(),
)
def test_adapter_translate_raises_only_adapter_errors(
    fmt: str, objects: list[Any], keep_content: bool
) -> None:
    adapter = adapter_for(fmt, keep_content=keep_content)
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        error: AdapterError | None = None
        try:
            out = adapter.translate(obj)
        except AdapterError as exc:  # every format's, the native ones' (the base adapter) too
            error, out = exc, []
        assert error is None or error.path.startswith("$")
        for item in out:
            record_to_bytes(item.event)
    for item in adapter.finish():
        record_to_bytes(item.event)


@budget()
@given(value=st.one_of(json_objects_mutated, decoded(json_documents)))
def test_detect_format_on_any_json_value(value: Any) -> None:
    fmt = detect_format(value)
    event(f"detected: {fmt}")
    assert fmt in (None, *FORMATS)


# =========================================================================== records

record_lines = st.one_of(
    json_documents,
    mutated(generated_records),
    generated_records,
)


@budget()
@given(data=st.one_of(record_lines, record_lines.map(lambda b: b.decode("utf-8", "replace"))))
def test_record_from_json_raises_only_record_decode_error(data: bytes | str) -> None:
    with no_record_version_warnings():
        record, error = attempt(lambda: record_from_json(data), RecordDecodeError)
    outcome("record_from_json", error)
    assert isinstance(record, TraceRecord) if error is None else error.path.startswith("$")


@budget()
@given(value=st.one_of(json_objects_mutated, decoded(mutated(generated_records)), record_data()))
def test_record_from_dict_raises_only_record_decode_error(value: Any) -> None:
    with no_record_version_warnings():
        record, error = attempt(lambda: record_from_dict(value), RecordDecodeError)
    outcome("record_from_dict", error)
    assert isinstance(record, TraceRecord) if error is None else error.path.startswith("$")


@budget()
@given(raw=record_lines)
def test_decode_record_never_raises(raw: bytes) -> None:
    issues: list[StoreIssue] = []
    record = decode_record(raw, "fuzz:1", issues)
    event(f"decode_record: {'record' if record is not None else 'None'}, {len(issues)} issue(s)")
    if record is None:
        assert [i.severity for i in issues] == ["error"]
    else:
        assert isinstance(record, TraceRecord)
        assert all(i.severity == "warning" for i in issues)
        assert len(issues) <= 1
    assert decode_record(raw, "fuzz:1", None) == record  # no issues list: same answer


# ============================================================================= notes


@st.composite
def note_records(draw: st.DrawFn, head: str) -> bytes:
    """A record line for the note of ``head``: usually about ``src/app.py`` at ``head``."""
    data = draw(record_data())
    if draw(st.booleans()):
        data["vcs"] = {"type": "git", "revision": head}
    if draw(st.booleans()):
        data["files"] = [
            {"path": APP, "conversations": [{"ranges": [{"start_line": 1, "end_line": 2}]}]}
        ] + data["files"]
    return _to_json(data)


@st.composite
def note_blobs(draw: st.DrawFn, head: str) -> bytes:
    """A note: record lines, mutated record lines and junk, blank lines between."""
    lines = draw(
        st.lists(
            st.one_of(
                note_records(head),
                mutated(note_records(head)),
                raw_bytes,
                token_soup,
            ),
            max_size=5,
        )
    )
    return b"".join(line + draw(st.sampled_from([b"\n", b"\n\n", b"\r\n"])) for line in lines)


def write_note(repo: GitRepo, commit: str, content: bytes) -> None:
    """``content`` as the note of ``commit``, byte for byte (``-C``: no clean-up)."""
    blob = repo.git("hash-object", "-w", "--stdin", input=content)
    repo.git("notes", f"--ref={NOTES_REF}", "add", "-f", "-C", blob, commit)


@budget()
@given(data=st.data())
def test_notes_backend_decode_never_raises(notes_repo: GitRepo, data: st.DataObject) -> None:
    head = notes_repo.head()
    text = data.draw(st.one_of(note_blobs(head), raw_bytes, st.binary(max_size=500)))
    backend = NotesBackend(find_repository(notes_repo.root))
    issues: list[StoreIssue] = []
    with no_record_version_warnings():
        records = list(backend._decode(text, head, issues))
    event(f"note: {len(records)} record(s), {len(issues)} issue(s)")
    lines = [line for line in text.split(b"\n") if line.strip()]
    errors = [i for i in issues if i.severity == "error"]
    assert len(records) + len(errors) == len(lines)
    assert all(i.location.startswith(f"{NOTES_REF}:{head[:12]}:") for i in issues)


@budget(ci=12, kind="git")
@given(data=st.data())
def test_show_log_blame_on_random_notes_and_traces_file(
    notes_repo: GitRepo, data: st.DataObject
) -> None:
    head = notes_repo.head()
    note = data.draw(note_blobs(head), label="note")
    traces = data.draw(st.one_of(st.none(), note_blobs(head)), label="traces.jsonl")
    write_note(notes_repo, head, note)
    store = notes_repo.root / ".agent-trace"
    store.mkdir(exist_ok=True)
    if traces is None:
        (store / "traces.jsonl").unlink(missing_ok=True)
    else:
        (store / "traces.jsonl").write_bytes(traces)
    root = notes_repo.root
    show_format = data.draw(st.sampled_from(["text", "json", "jsonl"]), label="show --format")
    log_format = data.draw(st.sampled_from(["text", "json", "jsonl"]), label="log --format")
    for args in (
        ["show", "--format", show_format],
        ["log", "--format", log_format],
        ["blame", APP],
    ):
        result = trace(*args, "-C", root)
        event(f"{args[0]}: exit {result.exit_code}")
        assert_no_crash(result)


# ====================================================================== trace events


@budget(ci=40, kind="cli")
@given(
    content=log_files(),
    command=st.sampled_from(
        [
            ["events", "show"],
            ["events", "show", "--strict"],
            ["events", "stats"],
            ["events", "stats", "--format", "json"],
            ["events", "validate"],
            ["events", "validate", "--strict"],
            ["events", "convert", "--to", "bare"],
            ["events", "convert", "--to", "envelope"],
            ["events", "convert", "--to", "versioned", "--from", "claude"],
            ["events", "convert", "--to", "bare", "--from", "meerkat"],
            ["events", "convert", "--to", "bare", "--from", "omne"],
        ]
    ),
)
def test_trace_events_commands_on_random_logs(
    module_dir: Path, content: bytes, command: list[str]
) -> None:
    path = module_dir / "cli.jsonl"
    path.write_bytes(content)
    result = trace(*command[:2], path, *command[2:])
    event(f"{command[1]}: exit {result.exit_code}")
    assert_no_crash(result)


# =========================================================================== rewrite

shas = st.text("0123456789abcdef", min_size=40, max_size=40)
sha_ish = st.one_of(
    shas,
    st.text("0123456789abcdef", min_size=64, max_size=64),
    st.text("0123456789abcdefABCDEFg", min_size=39, max_size=41),
)


@st.composite
def rewrite_inputs(draw: st.DrawFn, known: list[str]) -> str:
    """What git's post-rewrite hook might get: usually ``old new [extra]`` lines (SHAs of
    ``known`` commits or not), else anything."""
    sha = weighted(st.sampled_from(known), sha_ish, 3) if known else sha_ish
    pair = st.one_of(
        st.builds(lambda a, b: f"{a} {b}", sha, sha),
        st.builds(lambda a, b, c: f"{a}\t{b} {c}", sha, sha, s.short_text),
    )
    if draw(weighted(st.just(True), st.just(False), 2)):
        return "".join(f"{line}\n" for line in draw(st.lists(pair, min_size=1, max_size=4)))
    lines = draw(st.lists(st.one_of(pair, sha, any_text), max_size=6))
    return "".join(
        text + draw(st.sampled_from(["\n", "\r\n", "\x0b", "\u2028", ""])) for text in lines
    )


@budget()
@given(text=st.one_of(any_text, rewrite_inputs([])))
def test_parse_rewrite_input_raises_only_value_error(text: str) -> None:
    pairs, error = attempt(lambda: parse_rewrite_input(text), ValueError)
    outcome("parse_rewrite_input", error)
    if error is not None:
        assert str(error).startswith("post-rewrite input line "), str(error)
    else:
        for old, new in pairs or []:
            assert re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", old)
            assert re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", new)


HOOK_FAILURE = re.compile(r"agent-trace: post-rewrite hook failed: (\w+): ")


@budget(ci=12, kind="git")
@given(data=st.data())
def test_post_rewrite_hook_on_random_stdin(rewrite_repo: GitRepo, data: st.DataObject) -> None:
    known = rewrite_repo.git("rev-list", "HEAD").split()  # fixed: notes commits are not
    stdin = data.draw(
        weighted(
            rewrite_inputs(known).map(lambda t: t.encode("utf-8", "surrogatepass")),
            raw_bytes,
            3,
        ),
        label="stdin",
    )
    with contextlib.chdir(rewrite_repo.root):
        result = trace("hook", "post-rewrite", "rebase", input=stdin)
    failure = HOOK_FAILURE.match(result.stderr)
    event(f"post-rewrite: {failure.group(1) if failure else 'ok'}")
    assert_no_crash(result, codes=(0,))
    errors = result.stderr.splitlines()
    assert len(errors) <= 1, result.stderr
    if errors:
        failure = HOOK_FAILURE.match(errors[0])
        assert failure is not None, errors[0]
        # ValueError: parse_rewrite_input; UnicodeDecodeError: stdin that is not UTF-8
        # (git writes hexadecimal SHAs only).
        assert failure.group(1) in ("ValueError", "UnicodeDecodeError"), errors[0]


# ======================================================================= claude hook

HOOK_EVENTS = [
    "SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure",
    "Stop", "SubagentStop", "SessionEnd", "Notification", "PreCompact",
]  # fmt: skip
HOOK_TOOLS = [
    "Write",
    "Edit",
    "MultiEdit",
    "NotebookEdit",
    "Bash",
    "Read",
    "mcp__gh__issue",
    "Task",
]


def tool_paths(root: Path) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(
            [APP, str(root / APP), "src/new.py", "README.md", "", "src", ".git/config",
             "../outside.txt", str(root / "deep" / "new" / "file.txt"), "src/app.py\x00x"]
        ),
        s.short_text.map(lambda t: f"src/{t}"),
        fuzzy_values,
    )  # fmt: skip


@st.composite
def hook_payloads(draw: st.DrawFn, root: Path) -> dict[str, Any]:
    """A Claude Code hook payload with the right keys, values usually of the right type."""
    paths = tool_paths(root)
    text = st.one_of(s.text, st.just(APP_TEXT + "y = 4\n"))
    tool_input = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "file_path": paths,
                "notebook_path": paths,
                "content": text,
                "old_string": st.sampled_from(["return 2", "x = 3", "", "nope"]),
                "new_string": text,
                "edits": st.lists(
                    st.fixed_dictionaries({"old_string": s.text, "new_string": s.text}),
                    max_size=2,
                ),
                "command": st.sampled_from(["echo hi > src/new.py", "ls", "git commit -am x"]),
            },
        )
    )
    hunk = st.fixed_dictionaries(
        {
            "oldStart": st.one_of(st.integers(-2, 8), s.integers, fuzzy_values),
            "oldLines": st.one_of(st.integers(0, 8), s.integers),
            "newStart": st.integers(0, 8),
            "newLines": st.integers(0, 8),
            "lines": st.one_of(
                st.lists(st.sampled_from([" x = 3", "-x = 3", "+x = 4", "\\ No", "?", ""])),
                fuzzy_values,
            ),
        }
    )
    response = st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["create", "update", "text"]),
            "filePath": paths,
            "originalFile": st.one_of(st.none(), text, st.just(APP_TEXT)),
            "structuredPatch": st.one_of(st.lists(hunk, max_size=3), fuzzy_values),
            "content": text,
        },
    )
    payload: dict[str, Any] = {
        "hook_event_name": draw(weighted(st.sampled_from(HOOK_EVENTS), s.short_text, 8)),
        "session_id": draw(weighted(st.sampled_from(["s-1", "s-2"]), s.short_text, 8)),
        "tool_name": draw(weighted(st.sampled_from(HOOK_TOOLS), s.short_text, 8)),
        "tool_use_id": draw(weighted(st.sampled_from(["toolu_1", "toolu_2"]), s.short_text, 8)),
        "tool_input": tool_input,
        "tool_response": draw(response),
        "transcript_path": draw(
            st.sampled_from([str(DATA / "claude-transcript.jsonl"), "missing.jsonl", ""])
        ),
        "model": draw(st.sampled_from(["claude-sonnet-4-5", "<synthetic>", "", "a/b/c"])),
        "cwd": str(root),
    }
    # Any key may be missing or hold a value of another type.
    keys = st.lists(st.sampled_from(sorted(payload)), min_size=1, max_size=2)
    for key in draw(weighted(st.just([]), keys, 2)):
        if draw(st.booleans()):
            payload.pop(key, None)
        else:
            payload[key] = draw(fuzzy_values)
    return payload


def clear_of_outside_cwd(payload: Any, root: Path) -> Any:
    """The hook records in the repository its payload's ``cwd`` names: keep that one
    inside the test's repository (a random relative path would be this checkout)."""
    if isinstance(payload, dict) and isinstance(payload.get("cwd"), str):
        return {**payload, "cwd": str(root)}
    return payload


@st.composite
def tool_rounds(draw: st.DrawFn, root: Path) -> list[Any]:
    """``PreToolUse`` then ``PostToolUse`` (or ``...Failure``) of one tool call."""
    pre = draw(hook_payloads(root))
    post = {**pre, "hook_event_name": draw(st.sampled_from(["PostToolUse", "PostToolUseFailure"]))}
    return [{**pre, "hook_event_name": "PreToolUse"}, post]


def claude_stdin(root: Path) -> st.SearchStrategy[list[bytes]]:
    """One to three hook payloads, one after the other: usually payloads with the right
    keys (values of any type now and then; a tool's two hooks), else a mutated real
    payload, any JSON value or junk."""
    others = st.one_of(decoded(mutated(real_lines(HOOK_PAYLOADS))), fuzzy_values)
    payload = weighted(hook_payloads(root), others, 3).map(lambda p: [p])
    payloads = st.one_of(payload, tool_rounds(root)).map(
        lambda ps: [_to_json(clear_of_outside_cwd(p, root)) for p in ps]
    )
    junk = st.one_of(raw_bytes, token_soup).map(lambda b: [b])
    return st.lists(weighted(payloads, junk, 5), min_size=1, max_size=2).map(
        lambda groups: [p for group in groups for p in group]
    )


TOOL_FILES = {APP, "src/new.py", "README.md"}


def run_tool(payload: bytes, repo: GitRepo) -> None:
    """What the tool did before its ``PostToolUse`` hook: ``Write`` wrote its content."""
    with contextlib.suppress(orjson.JSONDecodeError):
        obj = orjson.loads(payload)
        if not isinstance(obj, dict) or obj.get("hook_event_name") != "PostToolUse":
            return
        tool_input = obj.get("tool_input")
        if isinstance(tool_input, dict) and isinstance(tool_input.get("content"), str):
            path = str(tool_input.get("file_path")).removeprefix(f"{repo.root}/")
            if path in TOOL_FILES:
                repo.write(path, tool_input["content"])


def reset_work_tree(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "--", ".")
    repo.git("clean", "-fdq", "-e", ".agent-trace")


@budget(ci=15, kind="git")
@given(data=st.data())
def test_handle_claude_hook_raises_only_value_error(
    claude_repo: GitRepo, data: st.DataObject
) -> None:
    reset_work_tree(claude_repo)
    for payload in data.draw(claude_stdin(claude_repo.root), label="payloads"):
        run_tool(payload, claude_repo)
        with contextlib.chdir(claude_repo.root):
            done, error = attempt(
                functools.partial(handle_claude_hook, payload, cwd=claude_repo.root), ValueError
            )
        outcome("handle_claude_hook", error)
        if done is not None:
            hook = done.hook if done.hook in HOOK_EVENTS else "other"
            event(f"hook {hook}: {len(done.attributed)} file(s) attributed")
        assert "\n" not in str(error), str(error)


CLAUDE_FAILURE = re.compile(r".* claude hook: (\w+): ")


@budget(ci=10, kind="git")
@given(data=st.data())
def test_trace_hook_claude_on_random_stdin(claude_repo: GitRepo, data: st.DataObject) -> None:
    reset_work_tree(claude_repo)
    log = claude_repo.root / ".agent-trace" / "hooks.log"
    for payload in data.draw(claude_stdin(claude_repo.root), label="stdins"):
        run_tool(payload, claude_repo)
        before = log.read_bytes() if log.exists() else b""
        with contextlib.chdir(claude_repo.root):
            result = trace("hook", "claude", input=payload)
        assert_no_crash(result, codes=(0,))
        assert len(result.stderr.splitlines()) <= 1, result.stderr
        # The hook prints only the message; hooks.log names the exception's type.
        logged = log.read_bytes()[len(before) :].decode() if log.exists() else ""
        event(f"trace hook claude: {'failure logged' if logged else 'ok'}")
        for line in logged.splitlines():
            failure = CLAUDE_FAILURE.match(line)
            assert failure is not None, line
            assert failure.group(1) == "ValueError", line


# ============================================================================ config

PRIVACY_KEYS = ["capture", "redact", "max_output_bytes", "disable", "patterns"]
DEFAULT_PATTERN_NAMES = ["private-key", "jwt", "secret-assignment", "github-token", "nope"]
REGEXES = [
    r"itk_[0-9a-f]{32}", r"(tok)en=(\w+)", "(", "[", r"(?P<a>x)(?P=a)", r"\N{DASH}", r"(?i)",
    "a{2,1}", "a" * 50, "(" * 200 + ")" * 200, r"\p{L}", "*", "(?<=a+)b",
]  # fmt: skip
toml_scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([0, -1, 2**63 - 1, -(2**63)]),
    st.floats(),
    st.text(max_size=20),
)
toml_values: st.SearchStrategy[Any] = st.recursive(
    toml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(s.short_text, children, max_size=3)
    ),
    max_leaves=6,
)
privacy_tables = st.fixed_dictionaries(
    {},
    optional={
        "capture": st.one_of(
            st.sampled_from(["all", "none", "messages,reasoning", "tool-io", "bogus", ""]),
            st.lists(
                st.sampled_from(["messages", "reasoning", "command_output", "tool_io", "x"]),
                max_size=3,
            ),
            toml_values,
        ),
        "redact": st.one_of(st.booleans(), toml_values),
        "max_output_bytes": st.one_of(st.integers(-5, 10**6), toml_values),
        "disable": st.one_of(st.lists(st.sampled_from(DEFAULT_PATTERN_NAMES)), toml_values),
        "patterns": st.one_of(
            st.dictionaries(
                s.short_text, st.one_of(st.sampled_from(REGEXES), st.text(max_size=12))
            ),
            toml_values,
        ),
        "unknown": toml_values,
    },
)


def toml_value(value: Any) -> str:
    """``value`` as a TOML value (strings basic, tables inline)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(value), repr(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{toml_value(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(table: dict[str, Any]) -> str:
    return "[privacy]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in table.items())


toml_fragments = st.sampled_from(
    ["[privacy]", "[privacy.patterns]", "[[privacy]]", "capture", "redact", "disable",
     "patterns", "max_output_bytes", " = ", "=", "true", "false", '"all"', "'x'", "[", "]",
     "{", "}", ",", "\n", "-1", "1e400", "nan", "0x10", '"""', "'''", "#", "\\u0000",
     '"(?P<a>"', "1979-05-27T07:32:00Z", "a.b.c", "privacy", '"' + "\\ud800" + '"']
)  # fmt: skip
toml_texts = st.one_of(
    st.lists(st.one_of(toml_fragments, st.text(max_size=5)), max_size=25).map("".join),
    privacy_tables.map(toml_document),
    privacy_tables.map(toml_document)
    .map(lambda t: t.encode())
    .flatmap(byte_mutation)
    .map(lambda b: b.decode("utf-8", "replace")),
)


@budget()
@given(text=toml_texts)
def test_load_privacy_raises_only_config_error(module_dir: Path, text: str) -> None:
    directory = module_dir / "config"
    directory.mkdir(exist_ok=True)
    (directory / "config.toml").write_text(text, encoding="utf-8")
    _, error = attempt(lambda: load_privacy(directory), ConfigError)
    outcome("load_privacy", error)
    assert error is None or str(error).startswith(str(directory / "config.toml")), str(error)


@budget()
@given(raw=st.one_of(raw_bytes, st.binary(max_size=100).map(lambda b: b"[privacy]\n" + b)))
def test_load_privacy_on_bytes_raises_only_config_error(module_dir: Path, raw: bytes) -> None:
    directory = module_dir / "config-bytes"
    directory.mkdir(exist_ok=True)
    (directory / "config.toml").write_bytes(raw)
    with contextlib.suppress(ConfigError):
        load_privacy(directory)


# ============================================================ run manifests, pending

MANIFEST = {"format": 1, "run_id": "r-1", "created_at": "2026-01-01T00:00:00.000Z"}
manifest_values = st.fixed_dictionaries(
    {k: st.just(v) for k, v in MANIFEST.items()},
    optional={
        "status": st.sampled_from(["running", "completed", "x"]),
        "pid": st.one_of(st.integers(-1, 2**22), s.integers),
        "pid_started": s.integers,
        "host": s.text,
        "model_id": s.text,
        "events": s.text,
    },
)


@budget()
@given(
    raw=st.one_of(
        raw_bytes,
        json_documents,
        mutated(manifest_values.map(_to_json)),
        decoded(mutated(manifest_values.map(_to_json))).map(_to_json),
    )
)
def test_read_manifest_raises_only_value_error(module_dir: Path, raw: bytes) -> None:
    run = Run(module_dir / "runs" / "r-1")
    run.directory.mkdir(parents=True, exist_ok=True)
    run.manifest_path.write_bytes(raw)
    manifest, error = attempt(run.read_manifest, ValueError)
    outcome("read_manifest", error)
    if error is not None:
        assert str(error).startswith(str(run.manifest_path)), str(error)
    else:
        assert isinstance(manifest, RunManifest)
        if manifest.pid is None or -(2**31) <= manifest.pid < 2**31:  # else a known crash
            manifest.current_status()


PENDING_PATH = "src/app.py"
label_values = st.fixed_dictionaries(
    {},
    optional={
        "model_id": s.text,
        "run_id": s.text,
        "confidence": st.one_of(st.floats(), s.integers),
        "kind": st.sampled_from(["mixed", "human", None]),
        "turn_ids": st.one_of(st.lists(s.short_text, max_size=2), fuzzy_values),
        "timestamp": s.text,
        "unknown": fuzzy_values,
    },
)
small = st.integers(-20, 40)
pending_values = st.fixed_dictionaries(
    {
        "format": st.sampled_from([1, 1, 2, "1"]),
        "path": st.sampled_from([PENDING_PATH, PENDING_PATH, "other.py"]),
        "keys": st.one_of(
            st.lists(st.integers(0, 2**64 - 1), max_size=6).map(encode_keys),
            st.sampled_from(["", "AAAA", "!!", "AAAAAAAAAAA="]),
            fuzzy_values,
        ),
        "labels": st.one_of(st.lists(label_values, max_size=3), st.just([])),
        "spans": st.one_of(st.lists(st.lists(small, min_size=3, max_size=3), max_size=4)),
        "updated_at": s.text,
    },
)


@budget()
@given(
    raw=st.one_of(
        raw_bytes,
        json_documents,
        pending_values.map(_to_json),
        mutated(pending_values.map(_to_json)),
    )
)
def test_pending_state_load_never_raises(module_dir: Path, raw: bytes) -> None:
    state = PendingState(module_dir / "pending")
    state.directory.mkdir(exist_ok=True)
    state._file(PENDING_PATH).write_bytes(raw)
    loaded = state.load(PENDING_PATH)
    event(f"pending: {'none' if loaded is None else 'loaded'}")
    assert loaded is None or isinstance(loaded, PendingFile)
    if loaded is not None:
        assert len(loaded.labels) == len(loaded.keys)
    state.all()


# ======================================================================= known bugs


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"[]", id="array"),
        pytest.param(b"1", id="number"),
        pytest.param(b'"x"', id="string"),
        pytest.param(
            b'{"format":1,"path":"src/app.py","keys":"","labels":"ab","spans":[],"updated_at":"t"}',
            id="labels-string",
        ),
        pytest.param(
            b'{"format":1,"path":"src/app.py","keys":"","labels":[1],"spans":[],"updated_at":"t"}',
            id="label-number",
        ),
        pytest.param(
            b'{"format":1,"path":"src/app.py","keys":"","labels":{"a":{}},"spans":[],'
            b'"updated_at":"t"}',
            id="labels-object",
        ),
        pytest.param(
            b'{"format":1,"path":"src/app.py","keys":"","labels":[{}],'
            b'"spans":[[0,18446744073709551616,0]],"updated_at":"t"}',
            id="span-beyond-64-bits",
        ),
        pytest.param(
            b'{"format":1,"path":"src/app.py","keys":"","labels":[{}],'
            b'"spans":[[0,4611686018427387904,0]],"updated_at":"t"}',
            id="span-2**62",
        ),
    ],
)
def test_pending_load_damaged_file(tmp_path: Path, raw: bytes) -> None:
    state = PendingState(tmp_path)
    state._file(PENDING_PATH).write_bytes(raw)
    assert state.load(PENDING_PATH) is None


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[privacy]\ncapture = [1]\n", id="capture-number"),
        pytest.param("[privacy]\ncapture = [[]]\n", id="capture-array"),
        pytest.param(
            '[privacy]\npatterns = { big = "a{99999999999}" }\n', id="pattern-repeat-2**32"
        ),
    ],
)
def test_load_privacy_wrong_capture_item_or_huge_repeat(tmp_path: Path, text: str) -> None:
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_privacy(tmp_path)


DEEP_EVENT = b'{"type":"x.custom","v":' + b"[" * 300 + b"]" * 300 + b"}"
DEEP_RECORD = (
    b'{"version":"0.1.0","id":"00000000-0000-4000-8000-000000000001",'
    b'"timestamp":"2026-01-01T00:00:00Z","vcs":{"type":"git","revision":"%s"},'
    b'"files":[],"metadata":{"a":%s}}'
)


def test_deep_nesting_is_read_but_cannot_be_written() -> None:
    record = parse_record(DEEP_EVENT)
    assert parse_record(record_to_bytes(record)) == record


def test_events_convert_deep_nesting(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_bytes(DEEP_EVENT + b"\n")
    assert_no_crash(trace("events", "convert", path, "--to", "bare"))


@pytest.mark.parametrize(
    ("depth", "fmt"),
    [
        pytest.param(300, "jsonl", id="300-jsonl"),
        pytest.param(1000, "text", id="1000-text"),
        pytest.param(1000, "json", id="1000-json"),
    ],
)
def test_show_deep_metadata(repo: GitRepo, depth: int, fmt: str) -> None:
    head = repo.commit("first")
    value = b"[" * depth + b"]" * depth
    write_note(repo, head, DEEP_RECORD % (head.encode(), value))
    assert_no_crash(trace("show", "-C", repo.root, "--format", fmt))


def test_manifest_pid_out_of_range(tmp_path: Path) -> None:
    run = Run(tmp_path / "r-1")
    run.directory.mkdir()
    run.manifest_path.write_bytes(_to_json({**MANIFEST, "pid": 2**40}))
    assert run.read_manifest().current_status() == "interrupted"  # no such process


def test_post_rewrite_missing_old(repo: GitRepo) -> None:
    repo.write("a.txt", "a\n")
    first = repo.commit("first")
    repo.write("a.txt", "a\nb\n")
    second = repo.commit("second")
    stdin = f"{second} {first}\n{'0' * 40} {second}\n".encode()
    with contextlib.chdir(repo.root):
        result = trace("hook", "post-rewrite", "rebase", input=stdin)
    assert_no_crash(result, codes=(0,))
    assert result.stderr == ""


def test_the_file_mutations_reach_every_kind_of_line() -> None:
    """The mutation pools are not empty (a missing data file would make them so)."""
    assert set(ADAPTER_LINES) >= {"claude-hooks", "claude-stream", "meerkat-envelopes"}
    assert all(ADAPTER_LINES.values())
    assert HOOK_PAYLOADS
