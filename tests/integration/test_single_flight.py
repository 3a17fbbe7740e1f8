"""Single-flight: concurrent misses of one key make one origin request, across threads and
across processes sharing a backend (through leases held in the storage)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import time_machine

from requests_cache_like import CachedSession
from requests_cache_like.backends.leases import leases_for
from requests_cache_like.concurrency import REFRESH_POOL
from requests_cache_like.single_flight import FLIGHTS

from ..conftest import backend_options

THREADS = 16
PROCESSES = 4


class GatedOrigin:
    """A local origin that counts requests per path and can hold them at a gate."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.arrived = threading.Condition()
        self.gate = threading.Event()
        self.gate.set()
        self.hold_first_only = False
        self.hold_seconds = 0.0  # a slow origin, for the processes that cannot be observed
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with origin.arrived:
                    origin.hits[self.path] += 1
                    first = origin.hits[self.path] == 1
                    origin.arrived.notify_all()
                if first or not origin.hold_first_only:
                    origin.gate.wait(10)
                if origin.hold_seconds:
                    threading.Event().wait(origin.hold_seconds)
                status = 500 if "fail" in self.path else 200
                body = f"body of {self.path}".encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "max-age=60")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait_for_hits(self, path: str, count: int) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: self.hits[path] >= count, timeout=20)


@pytest.fixture
def gated() -> Iterator[GatedOrigin]:
    origin = GatedOrigin()
    origin.thread.start()
    yield origin
    origin.gate.set()
    origin.server.shutdown()
    origin.server.server_close()


def _miss_together(session: CachedSession, url: str, gated: GatedOrigin) -> list[Any]:
    """THREADS threads get ``url`` at once; the origin holds the first request until the
    other threads wait on its flight."""
    gated.gate.clear()
    results: list[Any] = [None] * THREADS

    def get(index: int) -> None:
        results[index] = session.get(url, timeout=30)

    threads = [threading.Thread(target=get, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    if session.single_flight:
        key = session.cache.create_key(_prepared(session, url))
        assert FLIGHTS.wait_for_waiters(id(session.cache), key, THREADS - 1, timeout=20)
    else:  # every thread reaches the origin while the first answer is held
        assert gated.wait_for_hits("/" + url.rsplit("/", 1)[1], THREADS)
    gated.gate.set()
    for thread in threads:
        thread.join(30)
    return results


def _prepared(session: CachedSession, url: str) -> Any:
    import requests

    return session.prepare_request(requests.Request("GET", url))


# Redis: each thread's lookup may take the lease, and the leading thread adopts it.
@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
def test_threads_missing_one_url_make_one_request(
    backend: str,
    gated: GatedOrigin,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    unique_name: str,
) -> None:
    session = CachedSession(**backend_options(backend, request, tmp_path, unique_name))
    url = gated.url(f"/a-{backend}")
    responses = _miss_together(session, url, gated)
    assert gated.hits[f"/a-{backend}"] == 1
    assert {r.text for r in responses} == {f"body of /a-{backend}"}
    assert sorted(r.from_cache for r in responses) == [False] + [True] * (THREADS - 1)
    key = session.cache.create_key(_prepared(session, url))
    assert leases_for(session.cache).acquire(key, "afterwards", 5)  # nothing left held
    session.close()


def test_unstorable_answer_lets_each_waiter_send_its_own(gated: GatedOrigin) -> None:
    session = CachedSession(backend="memory")
    responses = _miss_together(session, gated.url("/fail"), gated)
    assert gated.hits["/fail"] == THREADS
    assert {r.status_code for r in responses} == {500}


def test_without_single_flight_every_thread_asks(gated: GatedOrigin) -> None:
    session = CachedSession(backend="memory", single_flight=False)
    responses = _miss_together(session, gated.url("/b"), gated)
    assert {r.text for r in responses} == {"body of /b"}
    assert gated.hits["/b"] == THREADS


def test_a_waiter_that_times_out_sends_its_own_request(gated: GatedOrigin) -> None:
    session = CachedSession(backend="memory", lock_timeout=0.2)
    gated.gate.clear()
    gated.hold_first_only = True
    url = gated.url("/slow")
    leader = threading.Thread(target=session.get, args=(url,))
    leader.start()
    assert gated.wait_for_hits("/slow", 1)  # the leader's request is held at the origin
    follower = session.get(url)  # waits 0.2 s for the flight, then asks by itself
    assert follower.text == "body of /slow"
    assert follower.from_cache is False
    assert gated.hits["/slow"] == 2
    gated.gate.set()
    leader.join(10)


# -- across processes ---------------------------------------------------------------------------
def _child(options: dict[str, Any], url: str, start: Any, results: Any) -> None:
    session = CachedSession(**options)
    start.wait(30)
    response = session.get(url, timeout=30)
    results.put((response.status_code, response.text, response.from_cache))
    session.close()


CROSS_PROCESS = ["sqlite", "filesystem", "redis", "mongodb", "gridfs", "dynamodb"]


@pytest.mark.parametrize("backend", CROSS_PROCESS)
def test_processes_sharing_a_backend_make_one_request(
    backend: str,
    gated: GatedOrigin,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    unique_name: str,
) -> None:
    options = backend_options(backend, request, tmp_path, unique_name)
    CachedSession(**options).close()  # tables and collections exist before the race
    gated.hold_seconds = 1.0  # the leader's answer arrives after every process has asked
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    url = gated.url(f"/p-{backend}")
    children = [
        context.Process(target=_child, args=(options, url, start, results))
        for _ in range(PROCESSES)
    ]
    for child in children:
        child.start()
    start.set()
    answers = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(30)
    assert gated.hits[f"/p-{backend}"] == 1
    assert {text for _, text, _ in answers} == {f"body of /p-{backend}"}
    assert sum(from_cache for _, _, from_cache in answers) == PROCESSES - 1


class PlainLeases:
    """Another storage's leases, taken and given back only (no lease taken by a lookup)."""

    def __init__(self, leases: Any) -> None:
        self.leases = leases

    def acquire(self, key: str, owner: str, ttl: float) -> bool:
        return bool(self.leases.acquire(key, owner, ttl))

    def release(self, key: str, owner: str) -> None:
        self.leases.release(key, owner)


def _other_fetches_first(
    monkeypatch: pytest.MonkeyPatch, other: CachedSession, url: str
) -> list[bool]:
    """Make ``other`` fetch (and store) ``url`` when the next flight starts, that is after the
    late session's lookup and before its lease; the list says whether it did."""
    join = FLIGHTS.join
    cut_in: list[bool] = []

    def join_after_the_other(cache_id: int, key: str) -> Any:
        if not cut_in:
            cut_in.append(True)
            assert other.get(url).from_cache is False
        return join(cache_id, key)

    monkeypatch.setattr(FLIGHTS, "join", join_after_the_other)
    return cut_in


@pytest.mark.parametrize("backend", ["memory", *CROSS_PROCESS])
def test_a_fetch_landing_between_lookup_and_lease_is_not_made_again(
    backend: str,
    gated: GatedOrigin,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    unique_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The narrow race: this session looked the key up (missing), then another one (another
    process, or another thread here) fetched, stored and gave the lease back before this one
    took it. Taking a free lease is then no proof that nothing was stored."""
    options = backend_options(backend, request, tmp_path, unique_name)
    late = CachedSession(**options)
    # Memory cannot be shared between processes: the other fetch is another session's
    # request on the same cache, the in-process form of the race.
    other = CachedSession(backend=late.cache) if backend == "memory" else CachedSession(**options)
    if backend == "redis":  # a lookup that took the lease closes the window: look up without
        late.cache.__dict__["_leases"] = PlainLeases(leases_for(late.cache))
    url = gated.url(f"/between-{backend}")
    cut_in = _other_fetches_first(monkeypatch, other, url)
    response = late.get(url)
    assert cut_in
    assert response.text == f"body of /between-{backend}"
    assert response.from_cache is True
    assert gated.hits[f"/between-{backend}"] == 1
    late.close()
    other.close()


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_refresh_landing_between_lookup_and_lease_is_not_made_again(
    backend: str,
    gated: GatedOrigin,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    unique_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same race for a stale entry: the other session refreshed it in between."""
    options = backend_options(backend, request, tmp_path, unique_name)
    options["expire_after"] = 60
    late = CachedSession(**options)
    other = (
        CachedSession(backend=late.cache, expire_after=60)
        if backend == "memory"
        else CachedSession(**options)
    )
    url = gated.url(f"/refresh-{backend}")
    assert late.get(url).from_cache is False
    cut_in = _other_fetches_first(monkeypatch, other, url)  # stale for it too: refreshed
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(seconds=120)):
        response = late.get(url)  # expired at its lookup
    assert cut_in
    assert response.from_cache is True
    assert gated.hits[f"/refresh-{backend}"] == 2  # the first fetch and one refresh
    late.close()
    other.close()


def _hold_lease_and_die(options: dict[str, Any], key: str) -> None:
    session = CachedSession(**options)
    assert leases_for(session.cache).acquire(key, "dead-holder", 0.5)
    os._exit(0)  # never gives the lease back


@pytest.mark.parametrize("backend", CROSS_PROCESS)
def test_a_dead_holder_blocks_nobody_past_its_lease(
    backend: str,
    gated: GatedOrigin,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    unique_name: str,
) -> None:
    options = backend_options(backend, request, tmp_path, unique_name)
    session = CachedSession(**options, lock_timeout=30)
    url = gated.url(f"/dead-{backend}")
    key = session.cache.create_key(_prepared(session, url))
    holder = multiprocessing.get_context("fork").Process(
        target=_hold_lease_and_die, args=(options, key)
    )
    holder.start()
    holder.join(30)
    assert holder.exitcode == 0
    response = session.get(url)  # waits out the 0.5 s lease, not the 30 s lock_timeout
    assert response.text == f"body of /dead-{backend}"
    assert gated.hits[f"/dead-{backend}"] == 1
    session.close()


@pytest.mark.parametrize("backend", CROSS_PROCESS)
def test_leases_are_exclusive_until_released_or_expired(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, unique_name: str
) -> None:
    session = CachedSession(**backend_options(backend, request, tmp_path, unique_name))
    leases = leases_for(session.cache)
    assert leases.acquire("k", "one", 30)
    assert not leases.acquire("k", "two", 30)
    leases.release("k", "two")  # not the holder: nothing happens
    assert not leases.acquire("k", "two", 30)
    leases.release("k", "one")
    assert leases.acquire("k", "two", 30)
    assert leases.acquire("other", "one", 30)  # keys are independent
    session.close()


def test_background_refresh_skips_a_key_another_process_refreshes(
    gated: GatedOrigin, tmp_path: Path
) -> None:
    session = CachedSession(
        str(tmp_path / "swr.sqlite"), expire_after=1, stale_while_revalidate=True
    )
    url = gated.url("/swr")
    session.get(url)
    key = session.cache.create_key(_prepared(session, url))
    assert leases_for(session.cache).acquire(key, "another-process", 300)
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(seconds=5)):
        stale = session.get(url)
        assert REFRESH_POOL.wait_idle(timeout=30)
        assert stale.from_cache is True
        assert gated.hits["/swr"] == 1  # the refresh was left to the lease's holder
        leases_for(session.cache).release(key, "another-process")
        session.get(url)
        assert REFRESH_POOL.wait_idle(timeout=30)
    assert gated.hits["/swr"] == 2  # with the lease free, this process refreshes


class FailingLeases:
    def acquire(self, key: str, owner: str, ttl: float) -> bool:
        raise ConnectionError("lease storage is down")

    def release(self, key: str, owner: str) -> None:
        raise ConnectionError("lease storage is down")


def test_a_lease_that_cannot_be_taken_never_fails_the_request(
    gated: GatedOrigin, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="requests_cache_like.storage_guard")
    session = CachedSession(str(tmp_path / "down.sqlite"))
    session.cache.__dict__["_leases"] = FailingLeases()
    first = session.get(gated.url("/down"))
    second = session.get(gated.url("/down-too"))
    assert (first.status_code, second.status_code) == (200, 200)
    warnings = [r for r in caplog.records if "lease unavailable" in r.getMessage()]
    assert len(warnings) == 2
    assert [r.levelname for r in warnings] == ["WARNING", "DEBUG"]  # logged once at WARNING


def test_redis_gives_the_lease_back_in_the_round_trip_that_stores(
    gated: GatedOrigin,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    unique_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = CachedSession(**backend_options("redis", request, tmp_path, unique_name))
    leases = leases_for(session.cache)
    alone: list[str] = []
    monkeypatch.setattr(session.cache.connection, "eval", lambda *args: alone.append(args[2]) or 1)
    assert not session.get(gated.url("/stored")).from_cache
    assert alone == []  # released inside the write's pipeline
    key = session.cache.create_key(_prepared(session, gated.url("/stored")))
    assert leases.acquire(key, "someone", 5)  # and free again
    session.get(gated.url("/fail-unstored"))  # nothing written: released on its own
    assert len(alone) == 1
    session.close()
