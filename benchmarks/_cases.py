"""Hits and misses: every library on every backend it has, timed in interleaved rounds.

A call is ``session.get(url)`` followed by reading ``.content``, timed alone with
``time.perf_counter_ns``:

- ``request``: plain ``requests``, a real round trip to the local origin;
- ``hit``: the same URL again and again, after one miss has stored it;
- ``miss``: a new URL on every call (``/bytes/1024?i=N``), fetched and stored.

Before any timing, every cached case proves that its library stores the response: the second
request of a URL must come back from the cache, or the run stops (a benchmark that timed a
library which stores nothing would compare the wrong things). Then the cases take turns,
round after round, the order rotating, so that a noisy moment on a shared machine falls on
every library; the figure kept is the median per call over all rounds.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import requests

from ._common import BACKEND_LABELS, BACKENDS, BODY_SIZE, OURS, PLAIN, ROUTE, BenchmarkError
from ._libraries import (
    CACHE_CONTROL,
    CACHED_LIBRARIES,
    MODES,
    STORAGES,
    backend_unavailable,
    open_session,
)

__all__ = [
    "Case",
    "CaseResult",
    "CaseRunner",
    "Timing",
    "build_cases",
    "measure",
    "run_rounds",
]

KIND_LABELS = {"request": "plain request", "hit": "hit", "miss": "miss+store"}


@dataclass(frozen=True)
class Case:
    """One thing to time: a library, what kind of call, on which backend, in which mode.

    ``mode`` is None for the library's default way of caching (``expire_after=300`` for ours
    and requests-cache), or one of :data:`._libraries.MODES`.
    """

    library: str
    kind: str  # "request", "hit" or "miss"
    backend: str | None = None
    mode: str | None = None

    @property
    def name(self) -> str:
        """A label for tables, e.g. ``requests-cache hit (SQLite, cache_control)``."""
        if self.backend is None:
            return f"{self.library} {KIND_LABELS[self.kind]}"
        where = BACKEND_LABELS[self.backend] + (f", {self.mode}" if self.mode else "")
        return f"{self.library} {KIND_LABELS[self.kind]} ({where})"

    @property
    def slug(self) -> str:
        """An identifier for file names and JSON, e.g. ``requests-cache-hit-sqlite``."""
        parts = [self.library.replace("_", "-").lower(), self.kind]
        if self.backend:
            parts.append(self.backend)
        if self.mode:
            parts.append(self.mode.replace("_", "-"))
        return "-".join(parts)


def build_cases(
    libraries: Sequence[str],
    backends: Sequence[str] = BACKENDS,
    kinds: Sequence[str] = ("hit", "miss"),
) -> list[Case]:
    """The cases for these libraries, backends and kinds (``hit``, ``miss``), in a fixed
    order: plain requests first, then each library's hits, misses and other modes. A library
    is measured on the backends it has a storage for."""
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise ValueError(f"backends {sorted(unknown)}; accepted: {', '.join(BACKENDS)}")
    unknown = set(kinds) - {"hit", "miss"}
    if unknown:
        raise ValueError(f"kinds {sorted(unknown)}; accepted: hit, miss")
    chosen = [backend for backend in BACKENDS if backend in backends]
    cases = [Case(PLAIN, "request")] if PLAIN in libraries else []
    for library in CACHED_LIBRARIES:
        if library not in libraries:
            continue
        usable = [
            b for b in chosen if b in STORAGES[library] and not backend_unavailable(library, b)
        ]
        cases += [
            Case(library, kind, b) for kind in ("hit", "miss") if kind in kinds for b in usable
        ]
        if "hit" in kinds:
            for mode, (mode_libraries, mode_backends) in MODES.items():
                if library in mode_libraries:
                    cases += [Case(library, "hit", b, mode) for b in usable if b in mode_backends]
    return cases


class Timed(Protocol):
    """Something :func:`run_rounds` can time."""

    label: str
    calls_per_round: int

    def before_round(self) -> None: ...

    def run(self, calls: int) -> list[int]: ...


@dataclass
class Timing:
    """The timings of one timed thing over all rounds."""

    label: str
    calls_per_round: int
    round_medians_us: list[float]
    median_us: float
    mean_us: float

    @property
    def calls(self) -> int:
        """Timed calls over all rounds."""
        return self.calls_per_round * len(self.round_medians_us)

    @property
    def spread(self) -> tuple[float, float]:
        """The lowest and highest round median, in µs."""
        return min(self.round_medians_us), max(self.round_medians_us)


@dataclass
class CaseResult(Timing):
    """The timings of one :class:`Case`."""

    case: Case = field(kw_only=True)


def run_rounds(
    timed: Sequence[Timed], rounds: int, progress: Callable[[str], None] | None = None
) -> list[Timing]:
    """Time every item ``rounds`` times, taking turns in an order that rotates each round,
    after ``gc.collect()``; give each one's median and mean per call."""
    if rounds < 1 or not timed:
        raise ValueError(f"rounds={rounds} and {len(timed)} items: need at least one of each")
    samples: list[list[int]] = [[] for _ in timed]
    round_medians: list[list[float]] = [[] for _ in timed]
    order = list(range(len(timed)))
    for number in range(rounds):
        if progress is not None:
            progress(f"round {number + 1}/{rounds}")
        shift = number % len(order)
        for index in order[shift:] + order[:shift]:
            item = timed[index]
            item.before_round()
            gc.collect()
            got = item.run(item.calls_per_round)
            samples[index].extend(got)
            round_medians[index].append(statistics.median(got) / 1000)
    return [
        Timing(
            label=item.label,
            calls_per_round=item.calls_per_round,
            round_medians_us=round_medians[index],
            median_us=statistics.median(samples[index]) / 1000,
            mean_us=statistics.fmean(samples[index]) / 1000,
        )
        for index, item in enumerate(timed)
    ]


class CaseRunner:
    """Times the calls of one case on its own session, and checks every answer."""

    def __init__(
        self,
        case: Case,
        origin_url: str,
        workdir: Path,
        redis_url: str | None = None,
        calls_per_round: int = 1,
    ) -> None:
        self.case = case
        self.label = case.name
        self.calls_per_round = calls_per_round
        self.url = origin_url + ROUTE
        opened = open_session(
            case.library, case.backend, case.slug, workdir, redis_url, case.mode, origin_url
        )
        self.session = opened.session
        self.from_cache = opened.from_cache
        self._close = opened.close
        self.expected = {"hit": True, "miss": False}.get(case.kind)
        # Our standards-mode hits carry an Age header; its absence would mean that the
        # session is not in standards mode and the case measures something else.
        self.expect_age = case.library == OURS and case.mode == CACHE_CONTROL
        self._counter = 0

    def _next_url(self) -> str:
        if self.case.kind != "miss":
            return self.url
        self._counter += 1
        return f"{self.url}?i={self._counter}"

    def _check(
        self, url: str, response: requests.Response, body: bytes, expected: bool | None
    ) -> None:
        if response.status_code != 200 or len(body) != BODY_SIZE:
            raise BenchmarkError(
                f"{self.label}: {url} gave {response.status_code} with {len(body)} bytes"
            )
        got = self.from_cache(response)
        if expected is not None and got is not expected:
            raise BenchmarkError(
                f"{self.label}: {url} answered with from_cache={got}, expected {expected}"
            )

    def _fetch(self, url: str, expected: bool | None) -> None:
        response = self.session.get(url)
        self._check(url, response, response.content, expected)

    def warm_up(self, calls: int) -> None:
        """Prove that the library stores (a URL's second request is a hit), then run
        ``calls`` untimed calls."""
        if self.case.kind != "request":
            url = self.url if self.case.kind == "hit" else self._next_url()
            self._fetch(url, expected=False)
            try:
                self._fetch(url, expected=True)
            except BenchmarkError as exc:
                raise BenchmarkError(f"{exc}: {self.case.library} did not store it") from exc
        self.run(calls)

    def before_round(self) -> None:
        """In standards mode, delete the stored hit URL and fetch it again (untimed), so
        that freshness, which comes from the origin's ``max-age``, lasts the whole round."""
        if self.case.kind == "hit" and self.case.mode == CACHE_CONTROL:
            self.session.cache.delete(urls=[self.url])  # type: ignore[attr-defined]
            self._fetch(self.url, expected=False)

    def run(self, calls: int) -> list[int]:
        """Time ``calls`` calls; return each one's duration in nanoseconds."""
        get = self.session.get
        clock = time.perf_counter_ns
        expected = self.expected
        samples: list[int] = []
        for _ in range(calls):
            url = self._next_url()
            start = clock()
            response = get(url)
            body = response.content
            elapsed = clock() - start
            self._check(url, response, body, expected)
            if self.expect_age and "Age" not in response.headers:
                raise BenchmarkError(f"{self.label}: {url} answered without an Age header")
            samples.append(elapsed)
        return samples

    def close(self) -> None:
        """Close the session; on Redis, remove the keys it wrote."""
        self._close()


def measure(
    origin_url: str,
    cases: Sequence[Case],
    iterations: int,
    miss_iterations: int,
    rounds: int,
    warmup: int,
    workdir: Path,
    progress: Callable[[str], None] | None = None,
    redis_url: str | None = None,
) -> list[CaseResult]:
    """Warm up every case, then time them in rotating order, round after round:
    ``iterations`` calls per round for hits, ``miss_iterations`` for the others.

    SQLite and filesystem caches are made in ``workdir``; Redis cases need ``redis_url``.
    """
    with ExitStack() as stack:
        runners: list[CaseRunner] = []
        for case in cases:
            calls = iterations if case.kind == "hit" else miss_iterations
            runner = CaseRunner(case, origin_url, workdir, redis_url, calls)
            stack.callback(runner.close)
            runners.append(runner)
        for runner in runners:
            runner.warm_up(warmup)
        timings = run_rounds(runners, rounds, progress)
    return [
        CaseResult(
            label=timing.label,
            calls_per_round=timing.calls_per_round,
            round_medians_us=timing.round_medians_us,
            median_us=timing.median_us,
            mean_us=timing.mean_us,
            case=runner.case,
        )
        for runner, timing in zip(runners, timings, strict=True)
    ]
