"""Threads sharing one session, and processes with sessions of their own, on every backend
that can be shared: no errors, and every body is complete and right for its URL.

Expiry is short and some requests store already-stale entries or force a refresh, so reads
and writes of the same keys interleave; every loop is bounded.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import time_machine
from requests import Request

from requests_cache_like import CachedSession
from requests_cache_like.backends import GridFSDict
from requests_cache_like.demo import LocalOrigin

from ..conftest import backend_options
from ._backend_workers import (
    CONTESTED_KEY,
    SHORT_EXPIRY,
    check_contested,
    contested_value,
    gridfs_writer,
    session_worker,
)
from ._workers import TARGETS, run_requests

#: Every backend that outlives a session (memory is per process, and tested elsewhere).
SHARED_BACKENDS = ["sqlite", "filesystem", "redis", "mongodb", "gridfs", "dynamodb"]
THREADS = 8
REQUESTS_PER_THREAD = 60
PROCESSES = 4
REQUESTS_PER_PROCESS = 40
GRIDFS_WRITES_PER_PROCESS = 15

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def origin() -> Iterator[LocalOrigin]:
    """A private origin for this module: background refreshes started elsewhere stay out."""
    with LocalOrigin() as server:
        yield server


@pytest.fixture(scope="module")
def pool() -> Iterator[Any]:
    """PROCESSES spawned workers, started once for every test of the module."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as workers:
        yield workers


@pytest.fixture(params=SHARED_BACKENDS)
def options(
    request: pytest.FixtureRequest, tmp_path: Path, unique_name: str
) -> Iterator[dict[str, Any]]:
    """CachedSession arguments for each shared backend, isolated per test; the storage is
    emptied afterwards (servers outlive the test)."""
    kwargs = backend_options(str(request.param), request, tmp_path, unique_name)
    yield kwargs
    cleaner = CachedSession(**kwargs)
    cleaner.cache.clear()
    cleaner.close()


def assert_every_target_stored(options: dict[str, Any], base_url: str) -> None:
    """A new session on the storage reads every target, complete and right."""
    reader = CachedSession(**options)
    try:
        for path, check in TARGETS:
            key = reader.cache.create_key(Request("GET", base_url + path))
            stored = reader.cache.get_response(key)
            assert stored is not None, path
            assert stored.status_code == 200, path
            assert check(stored.content), path
    finally:
        reader.close()


def test_threads_share_one_session(options: dict[str, Any], origin: LocalOrigin) -> None:
    session = CachedSession(**options, expire_after=SHORT_EXPIRY)
    errors: list[str] = []
    hits: list[int] = []
    start = threading.Barrier(THREADS)

    def work(worker: int) -> None:
        try:
            start.wait(timeout=30)
            worker_errors, from_cache = run_requests(
                session, origin.base_url, worker, REQUESTS_PER_THREAD
            )
        except Exception as exc:  # the loop itself failed: report it, don't hang the test
            worker_errors, from_cache = [f"worker {worker}: {exc!r}"], 0
        errors.extend(worker_errors)
        hits.append(from_cache)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    session.close()

    assert not any(thread.is_alive() for thread in threads), "a worker thread did not finish"
    assert errors == []
    assert len(hits) == THREADS
    assert 0 < sum(hits) < THREADS * REQUESTS_PER_THREAD  # a mix of hits and writes
    assert_every_target_stored(options, origin.base_url)


def test_processes_share_one_storage(
    options: dict[str, Any], origin: LocalOrigin, pool: Any
) -> None:
    # Create the storage (file, table, indexes) before the workers race for it.
    CachedSession(**options).close()
    jobs = [(options, origin.base_url, n, REQUESTS_PER_PROCESS) for n in range(PROCESSES)]
    results = pool.map_async(session_worker, jobs, chunksize=1).get(timeout=120)

    assert [error for worker_errors, _ in results for error in worker_errors] == []
    assert len(results) == PROCESSES
    assert 0 < sum(hits for _, hits in results) < PROCESSES * REQUESTS_PER_PROCESS
    assert_every_target_stored(options, origin.base_url)


def test_gridfs_writers_of_one_key_never_leave_it_unreadable(
    mongodb_url: str, unique_name: str, pool: Any
) -> None:
    jobs = [(mongodb_url, unique_name, n, GRIDFS_WRITES_PER_PROCESS) for n in range(PROCESSES)]
    results = pool.map_async(gridfs_writer, jobs, chunksize=1).get(timeout=120)

    assert [error for worker_errors in results for error in worker_errors] == []
    storage = GridFSDict(unique_name, host=mongodb_url)
    try:
        assert check_contested(storage.get_raw(CONTESTED_KEY)) is None
        # Versions left by writers that finished in the same millisecond go with the next write.
        storage.set_raw(CONTESTED_KEY, contested_value(99, 0))
        assert storage.get_raw(CONTESTED_KEY) == contested_value(99, 0)
        assert storage.files.count_documents({"filename": CONTESTED_KEY}) == 1
        assert list(storage) == [CONTESTED_KEY]
    finally:
        storage.clear()
        storage.close()


def test_gridfs_write_overtaken_by_a_newer_write(mongodb_url: str, unique_name: str) -> None:
    """The interleaving the process test can only hope to hit: between storing its file and
    looking for older versions, a writer sees a newer write remove its file."""
    mine = GridFSDict(unique_name, host=mongodb_url)
    other = GridFSDict(unique_name, host=mongodb_url)
    real_put = mine.fs.put

    def put_then_overtaken(data: Any, **kwargs: Any) -> Any:
        file_id = real_put(data, **kwargs)
        # A millisecond later (GridFS orders versions by upload time), another writer stores
        # its version and removes the older ones: this one included.
        with time_machine.travel(datetime.now(timezone.utc) + timedelta(seconds=1)):
            other.set_raw(CONTESTED_KEY, contested_value(2, 0))
        return file_id

    mine.fs.put = put_then_overtaken  # type: ignore[method-assign]
    try:
        mine.set_raw(CONTESTED_KEY, contested_value(1, 0))
        assert mine.get_raw(CONTESTED_KEY) == contested_value(2, 0)
        assert mine.files.count_documents({"filename": CONTESTED_KEY}) == 1
    finally:
        mine.clear()
        mine.close()
        other.close()
