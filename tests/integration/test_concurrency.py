"""Many threads sharing one session, and many processes sharing one SQLite file: no errors,
and every body is the right one for its URL."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from requests_cache_like import CachedSession
from requests_cache_like.backends import SQLiteCache
from requests_cache_like.demo import LocalOrigin

from ._workers import TARGETS, process_worker, run_requests

THREADS = 8
REQUESTS_PER_THREAD = 500
PROCESSES = 4
REQUESTS_PER_PROCESS = 200


@pytest.fixture(scope="module")
def origin() -> Iterator[LocalOrigin]:
    """A private origin for this module: background work started by other modules cannot
    move its hit counts."""
    with LocalOrigin() as server:
        yield server


def run_threads(session: CachedSession, base_url: str) -> tuple[list[str], int]:
    """Run the request loop on THREADS threads at once; return all errors and hit count."""
    errors: list[str] = []
    hits: list[int] = []
    start = threading.Barrier(THREADS)

    def work(worker: int) -> None:
        try:
            start.wait(timeout=30)
            worker_errors, from_cache = run_requests(session, base_url, worker, REQUESTS_PER_THREAD)
        except Exception as exc:  # the loop itself failed: report it, don't hang the test
            worker_errors, from_cache = [f"worker {worker}: {exc!r}"], 0
        errors.extend(worker_errors)
        hits.append(from_cache)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker thread did not finish"
    assert len(hits) == THREADS
    return errors, sum(hits)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "memory"])
def test_threads_share_one_session(tmp_path: Path, origin: LocalOrigin, backend: str) -> None:
    session = CachedSession(tmp_path / "threads", backend=backend)
    before = sum(origin.hits.values())
    errors, from_cache = run_threads(session, origin.base_url)
    sent = sum(origin.hits.values()) - before
    total = THREADS * REQUESTS_PER_THREAD

    assert errors == []
    assert 0 < from_cache < total  # a mix of hits and misses
    assert sent > len(TARGETS)  # writes kept happening after the first round
    # Afterwards every target is stored, readable, and right.
    for path, check in TARGETS:
        response = session.get(origin.url(path))
        assert response.from_cache is True, path
        assert check(response.content), path
    if isinstance(session.cache, SQLiteCache):
        assert session.cache.count() == len(TARGETS)
    session.close()


@pytest.mark.slow
def test_processes_share_one_sqlite_file(tmp_path: Path, origin: LocalOrigin) -> None:
    db_path = str(tmp_path / "shared.sqlite")
    CachedSession(db_path).close()  # create the file before the workers race for it
    context = multiprocessing.get_context("spawn")
    jobs = [(db_path, origin.base_url, worker, REQUESTS_PER_PROCESS) for worker in range(PROCESSES)]
    with context.Pool(PROCESSES) as pool:
        results = pool.map_async(process_worker, jobs).get(timeout=120)

    errors = [error for worker_errors, _ in results for error in worker_errors]
    from_cache = sum(hits for _, hits in results)
    assert errors == []
    assert len(results) == PROCESSES
    assert 0 < from_cache < PROCESSES * REQUESTS_PER_PROCESS

    reader = CachedSession(db_path)
    assert isinstance(reader.cache, SQLiteCache)
    assert reader.cache.count() == len(TARGETS)
    for path, check in TARGETS:
        response = reader.get(origin.url(path))
        assert response.from_cache is True, path
        assert check(response.content), path
    reader.close()
