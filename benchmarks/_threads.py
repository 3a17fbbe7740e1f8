"""Threads: hits per second with N threads sharing one session, against one thread.

For each backend, one of our sessions (``expire_after=300``) stores the hit URL; then each
round measures, in alternating order, one thread making H hits and N threads making H / N
hits each, all on that session. H is what one thread makes in ``thread_seconds`` (a quarter
of a second by default; timed once before the rounds), and at least ``thread_hits``: a
window of a few milliseconds would measure the machine's noise more than the cache.
Threads are started first and released together by a barrier; the rate is hits over the
wall time from the release to the last thread's end. Every answer is checked (a hit, the
whole body): an error in any thread stops the run. The figure kept is the median rate over
the rounds, and the ratio N / 1 says whether sharing a session among threads costs
throughput (required: at least 1.0).
"""

from __future__ import annotations

import gc
import os
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

from ._common import BACKEND_LABELS, BODY_SIZE, OURS, ROUTE, BenchmarkError, Settings
from ._libraries import OpenedSession, open_session

__all__ = [
    "CEILINGS",
    "REQUIRED_RATIO",
    "ThreadResult",
    "calls_per_second",
    "hits_per_second",
    "measure_ceilings",
    "measure_threads",
]

#: The issue's requirement: N threads must serve at least as many hits per second as one.
REQUIRED_RATIO = 1.0
#: At most this many hits per measurement, whatever the backend's speed.
MOST_HITS = 50_000


@dataclass
class ThreadResult:
    """Hits per second of one backend, with one thread and with ``threads``, per round (or,
    for a ``reference`` row, calls per second of a function that uses no cache)."""

    backend: str
    threads: int
    hits: int
    one_thread: list[float]
    many_threads: list[float]
    reference: bool = False

    @property
    def one_thread_rate(self) -> float:
        """Median hits per second with one thread."""
        return statistics.median(self.one_thread)

    @property
    def many_threads_rate(self) -> float:
        """Median hits per second with ``threads`` threads."""
        return statistics.median(self.many_threads)

    @property
    def ratio(self) -> float:
        """``threads`` threads' rate over one thread's."""
        return self.many_threads_rate / self.one_thread_rate

    @property
    def met(self) -> bool:
        """True if the ratio is at least :data:`REQUIRED_RATIO`."""
        return self.ratio >= REQUIRED_RATIO


def hits_per_second(
    session: requests.Session,
    from_cache: Callable[[requests.Response], bool | None],
    url: str,
    threads: int,
    hits: int,
) -> float:
    """Hits per second of ``threads`` threads sharing ``session``, ``hits // threads``
    each (at least one), released together."""

    def hit() -> None:
        response = session.get(url)
        body = response.content
        if from_cache(response) is not True or len(body) != BODY_SIZE:
            raise BenchmarkError(
                f"{url} answered with from_cache={from_cache(response)} and "
                f"{len(body)} bytes in a thread"
            )

    return calls_per_second(hit, threads, hits)


def calls_per_second(call: Callable[[], object], threads: int, calls: int) -> float:
    """Calls per second of ``threads`` threads making ``calls // threads`` calls each (at
    least one), released together; an exception in any thread stops the run."""
    per_thread = max(1, calls // threads)
    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(per_thread):
                call()
        except BaseException as exc:  # reported below, from the main thread
            errors.append(exc)

    workers = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    start = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise BenchmarkError(f"{threads} threads: {errors[0]!r}") from errors[0]
    return per_thread * threads / elapsed


def measure_threads(
    origin_url: str,
    backends: Sequence[str],
    settings: Settings,
    workdir: Path,
    progress: Callable[[str], None] | None = None,
    redis_url: str | None = None,
) -> list[ThreadResult]:
    """One :class:`ThreadResult` per backend, for our sessions."""
    url = origin_url + ROUTE
    results = []
    for backend in backends:
        opened = open_session(OURS, backend, f"threads-{backend}", workdir, redis_url)
        try:
            first = opened.session.get(url)
            if opened.from_cache(first) is not False or len(first.content) != BODY_SIZE:
                raise BenchmarkError(f"threads ({backend}): the first call was not a miss")
            # The warm-up: the storage's connections are opened in every thread.
            hits_per_second(
                opened.session, opened.from_cache, url, settings.threads, 2 * settings.threads
            )

            def rate(threads: int, hits: int, opened: OpenedSession = opened) -> float:
                return hits_per_second(opened.session, opened.from_cache, url, threads, hits)

            label = BACKEND_LABELS[backend]
            results.append(_measured(backend, rate, settings, False, progress, label))
        finally:
            opened.close()
    return results


def _measured(
    name: str,
    rate: Callable[[int, int], float],
    settings: Settings,
    reference: bool,
    progress: Callable[[str], None] | None = None,
    label: str = "",
) -> ThreadResult:
    """The rounds of one row: ``rate(threads, calls)`` with one thread and with
    ``settings.threads``, in alternating order, on as many calls as one thread makes in
    ``thread_seconds`` (at least ``thread_hits``, at most :data:`MOST_HITS`)."""
    one_rate = rate(1, settings.thread_hits)
    calls = max(settings.thread_hits, min(MOST_HITS, int(one_rate * settings.thread_seconds)))
    calls -= calls % settings.threads  # shared out evenly
    result = ThreadResult(name, settings.threads, calls, [], [], reference)
    for number in range(settings.rounds):
        if progress is not None:
            progress(f"threads, {label or name}: round {number + 1}/{settings.rounds}")
        counts = (1, settings.threads) if number % 2 == 0 else (settings.threads, 1)
        for threads in counts:
            gc.collect()
            measured = rate(threads, calls)
            (result.one_thread if threads == 1 else result.many_threads).append(measured)
    return result


def _python_only() -> int:
    """Pure Python, about as long as a memory hit here: no call that releases the GIL."""
    total = 0
    for number in range(300):
        total += number
    return total


def _python_and_one_system_call(path: str) -> Callable[[], object]:
    def call() -> object:
        _python_only()
        return os.stat(path)  # releases the GIL, as any call to the OS does

    return call


#: The reference rows: what the interpreter allows threads on this machine, with no cache.
CEILINGS = {
    "no cache: Python only": lambda workdir: _python_only,
    "no cache: Python + one os.stat": lambda workdir: _python_and_one_system_call(str(workdir)),
}


def measure_ceilings(settings: Settings, workdir: Path) -> list[ThreadResult]:
    """The threads measurement of :data:`CEILINGS`: functions that use no cache, measured
    the same way, so the cache's ratios can be read against the interpreter's own."""
    results = []
    for label, make in CEILINGS.items():
        call = make(workdir)

        def rate(threads: int, calls: int, call: Callable[[], object] = call) -> float:
            return calls_per_second(call, threads, calls)

        results.append(_measured(label, rate, settings, True))
    return results
