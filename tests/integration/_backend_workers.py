"""Entry points of the processes spawned by test_backend_concurrency.py.

They live in an importable module so that processes started with the ``spawn`` method can
import them by name. Workers receive plain strings (paths, server URLs, endpoints), never
fixtures or open connections.
"""

from __future__ import annotations

from typing import Any

from requests_cache_like import CachedSession
from requests_cache_like.backends import GridFSDict

from ._workers import run_requests

#: Seconds a response stays fresh in the concurrency tests: short, so that entries expire
#: and are written again while other workers read them.
SHORT_EXPIRY = 1
#: The one GridFS key every writer fights over.
CONTESTED_KEY = "contested"
#: A GridFS chunk is 255 KiB: a value this size spans three chunks, so a read that races a
#: delete can see a file whose chunks are partly gone.
CONTESTED_SIZE = 600_000


def session_worker(args: tuple[dict[str, Any], str, int, int]) -> tuple[list[str], int]:
    """Run the shared request loop through a session of this process's own on the storage
    described by ``options``; return (errors, responses from the cache)."""
    options, base_url, worker, count = args
    session = CachedSession(**options, expire_after=SHORT_EXPIRY)
    try:
        return run_requests(session, base_url, worker, count)
    finally:
        session.close()


def contested_value(worker: int, step: int) -> str:
    """The value ``worker`` writes at ``step``: its own label repeated, so a reader can tell
    a complete value from a partial or mixed one."""
    label = f"<w{worker}s{step:03d}>"
    return (label * (CONTESTED_SIZE // len(label) + 1))[:CONTESTED_SIZE]


def check_contested(value: Any) -> str | None:
    """Return None if ``value`` is exactly one writer's complete value, else what is wrong."""
    if not isinstance(value, str) or not value.startswith("<w"):
        return f"unexpected value {str(value)[:40]!r}"
    label = value[: value.index(">") + 1]
    worker, step = label[2:-1].split("s")
    if value != contested_value(int(worker), int(step)):
        return f"value labelled {label} is partial or mixed ({len(value)} chars)"
    return None


def gridfs_writer(args: tuple[str, str, int, int]) -> list[str]:
    """Write the contested key ``count`` times, reading it back after each write; return
    every failed or wrong read."""
    host, db_name, worker, count = args
    storage = GridFSDict(db_name, host=host)
    errors: list[str] = []
    try:
        for step in range(count):
            storage.set_raw(CONTESTED_KEY, contested_value(worker, step))
            try:
                problem = check_contested(storage.get_raw(CONTESTED_KEY))
            except KeyError:
                problem = "key unreadable"
            except Exception as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if problem is not None:
                errors.append(f"worker {worker} step {step}: {problem}")
    finally:
        storage.close()
    return errors
