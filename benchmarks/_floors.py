"""Hit floors: how close a hit comes to reading its entry from the storage alone.

On each backend one of our sessions (``expire_after=300``) stores the hit URL; then a hit
(``session.get(url)`` and ``.content``) is timed in interleaved rounds beside the cheapest
honest reads of the same entry:

- SQLite: one bound ``SELECT value ... WHERE key = ?`` on a ``sqlite3`` connection of its
  own, the entry's checksum checked and the entry decoded into a response, with none of the
  cache's memos: the storage read a hit stands for (required: a hit within 4 times its
  time); and ``session.cache.responses[key]``, the cache's own read, memos included;
- Redis: one ``GET`` of the stored value's key with a redis-py client of its own, the
  network round trip a hit cannot avoid (required: a hit within 2 times its time); and
  ``responses[key]``, the ``GET`` and the decoding.
"""

from __future__ import annotations

import importlib
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from requests_cache_like.backends.integrity import unseal

from ._cases import Timing, run_rounds
from ._common import BACKEND_LABELS, BODY_SIZE, OURS, ROUTE, BenchmarkError, Settings
from ._libraries import OpenedSession, open_session

__all__ = ["FLOOR_BACKENDS", "Floor", "measure_floors"]

FLOOR_BACKENDS = ("sqlite", "redis")


@dataclass
class Floor:
    """A hit beside one storage read of the same entry, and the limit set on their ratio."""

    backend: str
    read_label: str
    hit: Timing
    read: Timing
    required: float | None

    @property
    def ratio(self) -> float:
        """The hit's median over the read's."""
        return self.hit.median_us / self.read.median_us

    @property
    def met(self) -> bool | None:
        """True if the ratio is within the limit; None where no limit is set."""
        return None if self.required is None else self.ratio <= self.required


class _Calls:
    """Times one call made again and again, checking each result after its timing."""

    def __init__(
        self,
        label: str,
        call: Callable[[], Any],
        check: Callable[[Any], str | None],
        calls_per_round: int,
    ) -> None:
        self.label = label
        self.call = call
        self.check = check
        self.calls_per_round = calls_per_round

    def before_round(self) -> None:
        """Nothing to prepare."""

    def run(self, calls: int) -> list[int]:
        call, check, clock = self.call, self.check, time.perf_counter_ns
        samples = []
        for _ in range(calls):
            start = clock()
            result = call()
            elapsed = clock() - start
            problem = check(result)
            if problem:
                raise BenchmarkError(f"{self.label}: {problem}")
            samples.append(elapsed)
        return samples


def _is_full_response(value: Any) -> str | None:
    content = getattr(value, "content", None)
    if content is None or len(content) != BODY_SIZE:
        return f"read a {type(value).__name__}, not the stored {BODY_SIZE}-byte response"
    return None


def measure_floors(
    origin_url: str,
    backends: Sequence[str],
    settings: Settings,
    workdir: Path,
    progress: Callable[[str], None] | None = None,
    redis_url: str | None = None,
) -> list[Floor]:
    """The floors of the given backends (SQLite, Redis; the others are skipped)."""
    floors: list[Floor] = []
    for backend in (b for b in FLOOR_BACKENDS if b in backends):
        opened = open_session(OURS, backend, f"floors-{backend}", workdir, redis_url)
        with ExitStack() as stack:
            stack.callback(opened.close)
            floors += _measure_floor(
                backend, opened, origin_url + ROUTE, settings, stack, progress, redis_url
            )
    return floors


def _measure_floor(
    backend: str,
    opened: OpenedSession,
    url: str,
    settings: Settings,
    stack: ExitStack,
    progress: Callable[[str], None] | None,
    redis_url: str | None,
) -> list[Floor]:
    session, from_cache = opened.session, opened.from_cache
    if from_cache(session.get(url)) is not False:
        raise BenchmarkError(f"floors ({backend}): the first call was not a miss")
    stored = session.get(url)
    if from_cache(stored) is not True:
        raise BenchmarkError(f"floors ({backend}): the second call was not a hit")
    key = stored.cache_key  # type: ignore[attr-defined]
    responses = session.cache.responses  # type: ignore[attr-defined]

    def hit() -> Any:
        response = session.get(url)
        _ = response.content
        return response

    def check_hit(response: Any) -> str | None:
        if from_cache(response) is not True:
            return f"from_cache={from_cache(response)}"
        return _is_full_response(response)

    iterations = settings.iterations
    hits = _Calls("hit", hit, check_hit, iterations)
    decode = _Calls("read", lambda: responses[key], _is_full_response, iterations)
    reads: list[tuple[str, _Calls, float | None]]
    if backend == "sqlite":
        # The storage read a hit cannot do without, with none of the cache's memos: one
        # SELECT on a connection of its own, the checksum checked, the entry decoded.
        connection = sqlite3.connect(session.cache.db_path)  # type: ignore[attr-defined]
        stack.callback(connection.close)
        sql = f"SELECT value FROM {responses.table_name} WHERE key = ?"

        def select_and_decode() -> Any:
            (value,) = connection.execute(sql, (key,)).fetchone()
            return responses.serializer.loads(unseal(key, value))

        bare = _Calls("select", select_and_decode, _is_full_response, iterations)
        reads = [
            ("one `SELECT` of the row (sqlite3) + checksum + decoding", bare, 4.0),
            ("`responses[key]`: the cache's own read (memos included)", decode, None),
        ]
    else:
        client = importlib.import_module("redis").Redis.from_url(redis_url)
        stack.callback(client.close)
        full_key = responses.prefix + key
        value = responses.get_raw(key)
        if client.get(full_key) != value:
            raise BenchmarkError(f"floors: Redis key {full_key!r} does not hold the entry")
        get = _Calls("GET", lambda: client.get(full_key), _same_length(value), iterations)
        reads = [
            ("one `GET` of the entry (redis-py)", get, 2.0),
            ("`responses[key]`: GET + decoding", decode, None),
        ]
    items = [hits, *(item for _, item, _ in reads)]
    for item in items:
        item.run(settings.warmup)

    def say(message: str) -> None:
        if progress is not None:
            progress(f"floors, {BACKEND_LABELS[backend]}: {message}")

    timings = dict(zip(items, run_rounds(items, settings.rounds, say), strict=True))
    return [
        Floor(backend, label, timings[hits], timings[item], required)
        for label, item, required in reads
    ]


def _same_length(expected: bytes) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None or len(value) != len(expected):
            return f"GET gave {None if value is None else len(value)} bytes, not {len(expected)}"
        return None

    return check
