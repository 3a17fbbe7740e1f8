"""What every section shares: the names of libraries and backends, the amounts to measure,
and :class:`BenchmarkError`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BACKENDS",
    "BACKEND_LABELS",
    "BODY_SIZE",
    "CC",
    "DASH",
    "DEFAULT_SETTINGS",
    "EXPIRE_AFTER",
    "HISHEL",
    "MAX_AGE",
    "OURS",
    "PLAIN",
    "QUICK_SETTINGS",
    "RC",
    "ROUTE",
    "SECTIONS",
    "TIMES",
    "BenchmarkError",
    "Settings",
]

PLAIN = "requests"
OURS = "requests_cache_like"
RC = "requests-cache"
CC = "CacheControl"
HISHEL = "hishel"

#: In the order the tables list them.
BACKENDS = ("memory", "sqlite", "filesystem", "redis")
BACKEND_LABELS = {
    "memory": "memory",
    "sqlite": "SQLite",
    "filesystem": "filesystem",
    "redis": "Redis",
}

#: What ``--only`` accepts, in the order the sections run and are written.
SECTIONS = ("misses", "hits", "threads", "floors", "streaming")

#: The route timed by the hit and miss cases: a 1 KB body, fresh for ``MAX_AGE`` seconds.
BODY_SIZE = 1024
ROUTE = f"/bytes/{BODY_SIZE}"
#: ``Cache-Control: max-age`` on every response of the benchmark origin, so that libraries
#: which follow the headers (CacheControl, hishel) store and serve them.
MAX_AGE = 300
#: ``expire_after`` of our sessions and requests-cache's outside standards mode.
EXPIRE_AFTER = 300

TIMES = "\N{MULTIPLICATION SIGN}"
DASH = "\N{EN DASH}"


class BenchmarkError(RuntimeError):
    """A case did not behave as measured (a hit that missed, a wrong body...)."""


@dataclass(frozen=True)
class Settings:
    """How much to measure.

    - ``rounds``: rounds of the interleaved sections (hits and misses, threads, floors);
    - ``iterations``: timed calls per round and case that do not reach the origin (hits,
      storage reads); ``miss_iterations`` for those that do (plain requests, misses);
    - ``warmup``: untimed calls per case before the rounds;
    - ``threads``: the thread count compared with one thread; ``thread_seconds``: about how
      long one threads measurement lasts (with one thread); ``thread_hits``: the fewest hits
      per measurement, shared out among the threads;
    - ``stream_mib``: the size of the streamed body, in MiB.
    """

    rounds: int
    iterations: int
    miss_iterations: int
    warmup: int
    threads: int
    thread_hits: int
    stream_mib: int
    thread_seconds: float = 0.25

    def check(self) -> None:
        """Raise ValueError if an amount is out of range."""
        counts = {
            "rounds": self.rounds,
            "iterations": self.iterations,
            "miss_iterations": self.miss_iterations,
            "threads": self.threads,
            "thread_hits": self.thread_hits,
            "stream_mib": self.stream_mib,
        }
        small = [name for name, value in counts.items() if value < 1]
        if small:
            raise ValueError(f"{', '.join(small)} must be at least 1 (got {counts})")
        if self.warmup < 0 or self.thread_seconds < 0:
            raise ValueError(
                f"warmup and thread_seconds must not be negative (got {self.warmup}, "
                f"{self.thread_seconds})"
            )


DEFAULT_SETTINGS = Settings(
    rounds=10,
    iterations=1000,
    miss_iterations=150,
    warmup=50,
    threads=8,
    thread_hits=2000,
    stream_mib=256,
)
QUICK_SETTINGS = Settings(
    rounds=4,
    iterations=200,
    miss_iterations=30,
    warmup=10,
    threads=8,
    thread_hits=800,
    stream_mib=32,
    thread_seconds=0.05,
)
