"""Emitters: the protocol, JSONL, logging and fan-out."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from agent_trace.events import (
    EventEmitter,
    EventReader,
    FanoutEmitter,
    JsonlEmitter,
    LoggingEmitter,
    ThreadEvent,
    ThreadStartedEvent,
    TurnStartedEvent,
    UnknownEvent,
    WireForm,
    to_json,
)

STARTED = ThreadStartedEvent(thread_id="t")
TURN = TurnStartedEvent()


def test_plain_function_is_an_emitter() -> None:
    seen: list[ThreadEvent] = []

    def emit(event: ThreadEvent) -> None:
        seen.append(event)

    assert isinstance(emit, EventEmitter)
    emitter: EventEmitter = emit
    emitter(STARTED)
    assert seen == [STARTED]


def test_builtin_emitters_satisfy_the_protocol(tmp_path: Path) -> None:
    with JsonlEmitter(tmp_path / "run.jsonl") as jsonl:
        assert isinstance(jsonl, EventEmitter)
    assert isinstance(LoggingEmitter(), EventEmitter)
    assert isinstance(FanoutEmitter(), EventEmitter)
    assert not isinstance(42, EventEmitter)


def test_jsonl_emitter_writes_envelopes(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with JsonlEmitter(path, run_id="r1") as emitter:
        emitter(STARTED)
        emitter(TURN)
    entries = list(EventReader(path))
    assert [e.event for e in entries] == [STARTED, TURN]
    assert [e.form for e in entries] == [WireForm.ENVELOPE] * 2
    assert [e.envelope.seq for e in entries if e.envelope] == [0, 1]
    assert {e.envelope.run_id for e in entries if e.envelope} == {"r1"}
    assert emitter.writer.closed


def test_jsonl_emitter_bare_form(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    emitter = JsonlEmitter(path, form="bare", fsync="never")
    emitter(STARTED)
    emitter.close()
    assert path.read_bytes() == to_json(STARTED).encode() + b"\n"


def test_jsonl_emitter_rejects_bad_fsync(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fsync"):
        JsonlEmitter(tmp_path / "run.jsonl", fsync="often")  # type: ignore[arg-type]


def test_logging_emitter_logs_json_at_chosen_level(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="agent_trace.test")
    emitter = LoggingEmitter("agent_trace.test", level=logging.WARNING)
    emitter(STARTED)
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("agent_trace.test", logging.WARNING, to_json(STARTED))
    ]


def test_logging_emitter_default_logger_and_level(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="agent_trace.events")
    LoggingEmitter()(TURN)
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("agent_trace.events", logging.INFO, '{"type":"turn.started"}')
    ]


def test_logging_emitter_accepts_a_logger_object(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("agent_trace.test.obj")
    caplog.set_level(logging.DEBUG, logger=logger.name)
    LoggingEmitter(logger, level=logging.DEBUG)(TURN)
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]


def test_logging_emitter_serializes_only_when_enabled(caplog: pytest.LogCaptureFixture) -> None:
    # An event that cannot be serialized: only serializing it would raise.
    unserializable = UnknownEvent({"type": "x.custom", "value": object()})
    caplog.set_level(logging.WARNING, logger="agent_trace.test.lazy")
    emitter = LoggingEmitter("agent_trace.test.lazy", level=logging.DEBUG)
    emitter(unserializable)  # disabled for DEBUG: nothing happens
    assert caplog.records == []
    caplog.set_level(logging.DEBUG, logger="agent_trace.test.lazy")
    with pytest.raises(TypeError):
        emitter(unserializable)


def test_fanout_calls_all_in_order() -> None:
    calls: list[tuple[str, ThreadEvent]] = []
    fanout = FanoutEmitter(
        lambda e: calls.append(("a", e)),
        [lambda e: calls.append(("b", e)), lambda e: calls.append(("c", e))],
    )
    assert len(fanout.emitters) == 3
    fanout(STARTED)
    assert calls == [("a", STARTED), ("b", STARTED), ("c", STARTED)]


def test_fanout_single_error_is_raised_as_itself_after_all_ran() -> None:
    calls: list[str] = []
    boom = KeyError("boom")

    def bad(event: ThreadEvent) -> None:
        calls.append("bad")
        raise boom

    fanout = FanoutEmitter(lambda e: calls.append("first"), bad, lambda e: calls.append("last"))
    with pytest.raises(KeyError) as info:
        fanout(STARTED)
    assert info.value is boom
    assert calls == ["first", "bad", "last"]


def test_fanout_several_errors_raise_an_exception_group() -> None:
    calls: list[str] = []
    first, second = ValueError("one"), OSError("two")

    def bad1(event: ThreadEvent) -> None:
        calls.append("bad1")
        raise first

    def bad2(event: ThreadEvent) -> None:
        calls.append("bad2")
        raise second

    fanout = FanoutEmitter(bad1, lambda e: calls.append("ok"), bad2)
    with pytest.raises(ExceptionGroup) as info:
        fanout(TURN)
    assert list(info.value.exceptions) == [first, second]
    assert calls == ["bad1", "ok", "bad2"]


def test_fanout_to_jsonl_and_logging(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="agent_trace.test.fan")
    path = tmp_path / "run.jsonl"
    with JsonlEmitter(path) as jsonl:
        fanout = FanoutEmitter(jsonl, LoggingEmitter("agent_trace.test.fan"))
        fanout(STARTED)
        fanout(TURN)
    assert [e.event for e in EventReader(path)] == [STARTED, TURN]
    assert [r.getMessage() for r in caplog.records] == [to_json(STARTED), to_json(TURN)]
