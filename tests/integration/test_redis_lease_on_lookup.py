"""Redis: a lookup that misses takes the key's lease in its own round trip, and the fetch
adopts it; a lease no fetch adopted is given back (on a real redis-server)."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
import requests

from requests_cache_like import CachedSession
from requests_cache_like.backends.leases import leases_for
from requests_cache_like.backends.server_leases import RedisLeases
from requests_cache_like.demo import LocalOrigin


def _key(redis_session: CachedSession, url: str) -> str:
    return redis_session.cache.create_key(requests.Request("GET", url).prepare())


def _count_round_trips(redis_session: CachedSession, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each command sent on its own and each pipeline sent (one round trip each)."""
    trips: list[str] = []
    connection = redis_session.cache.connection
    single, pipeline = connection.execute_command, type(connection.pipeline()).execute

    def command(*args: Any, **kwargs: Any) -> Any:
        trips.append(str(args[0]))
        return single(*args, **kwargs)

    def pipelined(self: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append("PIPELINE")
        return pipeline(self, *args, **kwargs)

    monkeypatch.setattr(connection, "execute_command", command)
    monkeypatch.setattr(type(connection.pipeline()), "execute", pipelined)
    return trips


def test_a_stored_miss_costs_two_round_trips(
    redis_session: CachedSession, origin: LocalOrigin, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis_session.get(origin.url("/json?warm=1"))  # loads the script
    trips = _count_round_trips(redis_session, monkeypatch)
    assert not redis_session.get(origin.url("/json?lease=lookup")).from_cache
    # Read + lease in one script, then the write with the lease's release in one pipeline.
    assert trips == ["EVALSHA", "PIPELINE"]
    assert leases_for(redis_session.cache).acquire(
        _key(redis_session, origin.url("/json?lease=lookup")), "x", 5
    )
    trips.clear()
    assert redis_session.get(origin.url("/json?lease=lookup")).from_cache
    assert trips == ["EVALSHA"]  # a hit reads in one round trip and takes nothing
    trips.clear()
    assert redis_session.get(origin.url("/json?lease=lookup")).from_cache
    assert trips == ["MGET"]  # a key this process decoded before: no script


def test_a_lease_taken_by_a_lookup_excludes_other_processes_until_released(
    redis_session: CachedSession, origin: LocalOrigin
) -> None:
    leases = leases_for(redis_session.cache)
    assert isinstance(leases, RedisLeases)
    other_process = RedisLeases(
        redis_session.cache.connection, redis_session.cache.responses.namespace
    )
    leases.expect_fetch(30)
    assert redis_session.cache.get_response("missing-key") is None
    assert not other_process.acquire("missing-key", "other", 30)  # taken by the lookup
    adopted: list[bool] = []
    fetching_thread = threading.Thread(
        target=lambda: adopted.append(leases.acquire("missing-key", "fetch", 30))
    )
    fetching_thread.start()  # any thread of the process may adopt it
    fetching_thread.join(10)
    assert adopted == [True]
    leases.release("missing-key", "fetch")  # released under the owner the lookup used
    assert other_process.acquire("missing-key", "other", 30)


def test_a_lookup_that_finds_the_response_takes_no_lease(
    redis_session: CachedSession, origin: LocalOrigin
) -> None:
    url = origin.url("/json?lease=found")
    redis_session.get(url)
    leases = leases_for(redis_session.cache)
    leases.expect_fetch(30)  # type: ignore[attr-defined]
    assert redis_session.cache.get_response(_key(redis_session, url)) is not None
    assert leases.acquire(_key(redis_session, url), "someone", 5)


def test_a_lease_no_fetch_adopted_is_given_back(
    redis_session: CachedSession, origin: LocalOrigin, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = origin.url("/json?lease=unclaimed")
    connection = redis_session.cache.connection
    evaluated, evaluate = [], connection.eval
    monkeypatch.setattr(
        connection, "eval", lambda *args: evaluated.append(args[2]) or evaluate(*args)
    )
    # The lookup runs before preparation, which then rejects the header: no fetch happens.
    with pytest.raises(requests.exceptions.InvalidHeader):
        redis_session.get(url, headers={"X-Bad": "line\nbreak"})
    lease = f"{redis_session.cache.responses.namespace}:lease:{_key(redis_session, url)}"
    assert evaluated == [lease]  # the lookup had taken it; the release script gave it back
    assert leases_for(redis_session.cache).acquire(_key(redis_session, url), "someone", 5)


def test_a_read_only_lookup_takes_no_lease(
    redis_session: CachedSession, origin: LocalOrigin
) -> None:
    url = origin.url("/json?lease=only-if-cached")
    assert redis_session.get(url, only_if_cached=True).status_code == 504
    assert leases_for(redis_session.cache).acquire(_key(redis_session, url), "someone", 5)


def test_a_forked_child_never_adopts_its_parents_lease(redis_session: CachedSession) -> None:
    leases = leases_for(redis_session.cache)
    assert isinstance(leases, RedisLeases)
    leases.expect_fetch(30)
    assert redis_session.cache.get_response("parent-key") is None  # the parent's lookup took it
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child reports whether it could take the lease as its own
        os.write(write, b"1" if leases.acquire("parent-key", "child", 30) else b"0")
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 1) == b"0"  # held by the parent, not handed to the child
    assert leases.acquire("parent-key", "parent-fetch", 30)  # the parent still adopts it
    leases.release("parent-key", "parent-fetch")
