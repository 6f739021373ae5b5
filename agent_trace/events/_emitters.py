"""Emitters: where events go. Any callable taking one event is an emitter."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

from ._codec import to_json
from ._envelope import EVENT_SCHEMA_VERSION, WireForm
from ._jsonl import FsyncPolicy, JsonlWriter
from ._vocabulary import ThreadEvent

__all__ = ["EventEmitter", "FanoutEmitter", "JsonlEmitter", "LoggingEmitter"]


@runtime_checkable
class EventEmitter(Protocol):
    """Receives each event. A plain function ``def emit(event): ...`` qualifies."""

    def __call__(self, event: ThreadEvent, /) -> None: ...


class JsonlEmitter:
    """Write events to a JSONL file (see :class:`JsonlWriter` for the guarantees)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        form: WireForm | str = WireForm.ENVELOPE,
        run_id: str | None = None,
        schema_version: str = EVENT_SCHEMA_VERSION,
        fsync: FsyncPolicy = "boundary",
    ) -> None:
        self.writer = JsonlWriter(
            path, form=form, run_id=run_id, schema_version=schema_version, fsync=fsync
        )

    def __call__(self, event: ThreadEvent, /) -> None:
        self.writer.write(event)

    def close(self) -> None:
        self.writer.close()

    def __enter__(self) -> JsonlEmitter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LoggingEmitter:
    """Log each event as one line of JSON through :mod:`logging`.

    Serialization happens only when the logger is enabled for ``level``.
    """

    def __init__(
        self, logger: logging.Logger | str = "agent_trace.events", level: int = logging.INFO
    ) -> None:
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self.level = level

    def __call__(self, event: ThreadEvent, /) -> None:
        if self.logger.isEnabledFor(self.level):
            self.logger.log(self.level, "%s", to_json(event))


class FanoutEmitter:
    """Send each event to several emitters, in order.

    Every emitter gets the event even if an earlier one raised; the errors are raised
    afterwards (one error as itself, several as an ``ExceptionGroup``).
    """

    def __init__(
        self, *emitters: Callable[[ThreadEvent], None] | Iterable[Callable[[ThreadEvent], None]]
    ) -> None:
        flat: list[Callable[[ThreadEvent], None]] = []
        for emitter in emitters:
            if callable(emitter):
                flat.append(emitter)
            else:
                flat.extend(emitter)
        self.emitters = tuple(flat)

    def __call__(self, event: ThreadEvent, /) -> None:
        errors: list[Exception] = []
        for emitter in self.emitters:
            try:
                emitter(event)
            except Exception as exc:  # noqa: BLE001 - collected and re-raised below
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ExceptionGroup("several event emitters failed", errors)
