"""Request loops shared by the concurrency tests.

They live in an importable module (not in a test file) so that processes started with the
``spawn`` method can import them by name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from requests_cache_like import CachedSession

#: Paths on the LocalOrigin, and a check that a body is exactly the one that path returns.
BodyCheck = Callable[[bytes], bool]


def _json_body(expected: Any) -> BodyCheck:
    return lambda body: json.loads(body) == expected


def _bytes_body(size: int) -> BodyCheck:
    expected = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    return lambda body: body == expected


TARGETS: list[tuple[str, BodyCheck]] = [
    *(
        (f"/json?item={n}", _json_body({"path": "/json", "args": {"item": str(n)}}))
        for n in range(6)
    ),
    ("/bytes/3000", _bytes_body(3000)),
    ("/bytes/70000", _bytes_body(70000)),
    ("/etag/conc-a", _json_body({"etag": '"conc-a"'})),
    ("/etag/conc-b", _json_body({"etag": '"conc-b"'})),
    ("/redirect/1", _json_body({"path": "/json", "args": {}})),
]


def request_options(worker: int, step: int) -> dict[str, Any]:
    """Per-request cache options that keep writes happening between the hits."""
    if step % 7 == 3:
        return {"expire_after": 0}  # stored already stale: the next request writes again
    if step % 11 == 5:
        return {"force_refresh": True}
    if step % 13 == 8:
        return {"refresh": True}  # a conditional request; /etag answers 304
    return {}


def run_requests(
    session: CachedSession, base_url: str, worker: int, count: int
) -> tuple[list[str], int]:
    """Make ``count`` requests through ``session``; return (errors, responses from the cache).

    An error is any exception, or a body that is not exactly the one for its URL.
    """
    errors: list[str] = []
    from_cache = 0
    for step in range(count):
        path, check = TARGETS[(worker * 5 + step * 3) % len(TARGETS)]
        try:
            response = session.get(base_url + path, **request_options(worker, step))
            if response.status_code != 200 or not check(response.content):
                errors.append(
                    f"worker {worker} step {step} {path}: status {response.status_code}, "
                    f"body {response.content[:80]!r}"
                )
            from_cache += bool(getattr(response, "from_cache", False))
        except Exception as exc:
            errors.append(f"worker {worker} step {step} {path}: {type(exc).__name__}: {exc}")
    return errors, from_cache


def process_worker(args: tuple[str, str, int, int]) -> tuple[list[str], int]:
    """Entry point of a spawned process: its own session on the shared SQLite file."""
    db_path, base_url, worker, count = args
    session = CachedSession(db_path, backend="sqlite")
    try:
        return run_requests(session, base_url, worker, count)
    finally:
        session.close()
