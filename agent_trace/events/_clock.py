"""Event ids (UUIDv7) and RFC 3339 timestamps: no dependencies, so the modules that only
stamp things (records, runs, the pending state) load nothing else."""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
from collections.abc import Iterator

__all__ = ["new_event_id", "stamp", "utc_timestamp"]


_random = random.Random(int.from_bytes(os.urandom(16)))
_id_lock = threading.Lock()
_HEX3 = tuple(f"{n:03x}" for n in range(0x1000))  # the counter's text, formatted once
_id_state: tuple[int, Iterator[int], str, str, str] = (0, itertools.count(0x1000), "", "", "")
"""The current millisecond: ``(ms, counter, head, tail, timestamp)``. The id is ``head``,
the counter's next value in hex, ``tail``. Replaced whole (under the lock) when the
millisecond changes; ``next`` of its counter is atomic, so ids of one millisecond need
no lock."""
_time_ns = time.time_ns


def _reseed() -> None:  # a forked child must not repeat its parent's ids
    global _id_state
    _random.seed(int.from_bytes(os.urandom(16)))
    _id_state = (0, itertools.count(0x1000), "", "", "")


os.register_at_fork(after_in_child=_reseed)


def new_event_id() -> str:
    """A UUIDv7 string; ids made by one process sort in creation order (RFC 9562 §6.2,
    method 1: a 12-bit counter after the millisecond timestamp).

    The 62 random bits are drawn once per millisecond and per process, from a generator
    seeded from ``os.urandom`` (and reseeded in forked children): ids must be unique, not
    secret.
    """
    return stamp()[0]


def stamp() -> tuple[str, str]:
    """A new event id and the matching RFC 3339 timestamp, from one clock reading."""
    now_ms = _time_ns() // 1_000_000
    state = _id_state
    if now_ms <= state[0]:  # same millisecond (or the clock stepped back): count up
        counter = next(state[1])
        if counter <= 0xFFF:
            return state[2] + _HEX3[counter] + state[3], state[4]
    return _next_millisecond(now_ms)


def _next_millisecond(now_ms: int) -> tuple[str, str]:
    """:func:`stamp` in a new millisecond (or the next one, after 4096 ids in one)."""
    global _id_state
    with _id_lock:
        state = _id_state
        if now_ms <= state[0]:  # another thread moved on first, or this one is full
            counter = next(state[1])
            if counter <= 0xFFF:
                return state[2] + _HEX3[counter] + state[3], state[4]
            now_ms = state[0] + 1  # 4096 ids in one millisecond: borrow the next one
        counter = _random.getrandbits(8) << 2  # random start, room to count up
        rand_b = _random.getrandbits(62)
        head = "%08x-%04x-7" % (now_ms >> 16 & 0xFFFF_FFFF, now_ms & 0xFFFF)  # noqa: UP031
        tail = "-%04x-%012x" % (0x8000 | rand_b >> 48, rand_b & 0xFFFF_FFFF_FFFF)  # noqa: UP031
        ts = utc_timestamp(now_ms * 1_000_000)
        _id_state = (now_ms, itertools.count(counter + 1), head, tail, ts)
        return head + _HEX3[counter] + tail, ts


_second_cache: tuple[int, str] = (-1, "")


def utc_timestamp(ns: int | None = None) -> str:
    """RFC 3339 UTC with millisecond precision and ``Z``: ``2026-11-21T22:22:11.123Z``."""
    global _second_cache
    if ns is None:
        ns = time.time_ns()
    seconds, rest = divmod(ns, 1_000_000_000)
    cached_seconds, text = _second_cache  # one read: safe against other threads
    if cached_seconds != seconds:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _second_cache = (seconds, text)
    return f"{text}.{rest // 1_000_000:03d}Z"
