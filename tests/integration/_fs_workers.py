"""Worker for the filesystem backend's multi-process test.

It lives in an importable module (not in a test file) so that processes started with the
``spawn`` method can import it by name.
"""

from __future__ import annotations

from typing import Any

from requests_cache_like import CachedResponse
from requests_cache_like.backends import FileCache
from requests_cache_like.exceptions import DeserializationError
from requests_cache_like.models import CachedRequest

#: The key every worker writes, and the size of each body.
SHARED_KEY = "0123abcdshared"
BODY_SIZE = 300_000
URL = "https://example.org/shared"
_start: Any = None


def set_start_barrier(barrier: Any) -> None:
    """Pool initializer: keep the barrier that lets all workers start writing together."""
    global _start
    _start = barrier


def body_of(worker: int) -> bytes:
    """The body worker ``worker`` writes: one repeated byte, so a torn file shows."""
    return bytes([65 + worker]) * BODY_SIZE


def write_and_read(args: tuple[str, int, int, int]) -> list[str]:
    """Write the shared key ``rounds`` times and read it back after each write; return a
    description of every read that was not exactly one worker's complete body."""
    cache_dir, worker, workers, rounds = args
    cache = FileCache(cache_dir)
    complete = {body_of(n) for n in range(workers)}
    problems: list[str] = []
    mine = CachedResponse(
        content=body_of(worker), url=URL, request=CachedRequest(method="GET", url=URL)
    )
    if _start is not None:
        _start.wait(timeout=60)  # start together, so the writes really overlap
    for step in range(rounds):
        cache.responses[SHARED_KEY] = mine
        try:
            content = cache.responses[SHARED_KEY].content
        except (KeyError, DeserializationError) as exc:
            problems.append(f"worker {worker} step {step}: {type(exc).__name__}: {exc}")
            continue
        if content not in complete:
            problems.append(f"worker {worker} step {step}: a {len(content)}-byte mixed body")
    return problems
