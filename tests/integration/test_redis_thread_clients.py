"""Hits on Redis read through a client per thread (one connection of the cache's pool each),
not through the pool's check-out on every command; a forked child and a caller's own client
are never given one."""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

import pytest
import redis

from requests_cache_like import CachedSession
from requests_cache_like.backends import RedisCache
from requests_cache_like.demo import LocalOrigin


def _count_checkouts(connection: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pool = connection.connection_pool
    checked_out: list[int] = []
    get_connection = pool.get_connection

    def counting(*args: Any, **kwargs: Any) -> Any:
        checked_out.append(threading.get_ident())
        return get_connection(*args, **kwargs)

    monkeypatch.setattr(pool, "get_connection", counting)
    return checked_out


def test_hits_skip_the_pool_after_a_threads_first(
    redis_session: CachedSession, origin: LocalOrigin, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = origin.url("/json?threads=clients")
    redis_session.get(url)
    redis_session.get(url)  # a known key now: looked up with MGET
    checked_out = _count_checkouts(redis_session.cache.connection, monkeypatch)
    used: dict[int, Any] = {}
    together = threading.Barrier(3)  # all alive until each has recorded: no id is reused

    def hits() -> None:
        for _ in range(20):
            assert redis_session.get(url).from_cache is True
        clients = redis_session.cache._clients
        assert clients is not None
        used[threading.get_ident()] = clients.for_reading(redis_session.cache.connection).connection
        together.wait(30)

    threads = [threading.Thread(target=hits) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(used) == 3
    assert len({id(connection) for connection in used.values()}) == 3  # one each
    assert sorted(checked_out) == sorted(used)  # once per thread, not once per hit


def _hit_in_child(redis_session: CachedSession, url: str, parent_client: Any, answers: Any) -> None:
    clients = redis_session.cache._clients
    assert clients is not None
    response = redis_session.get(url)
    mine = clients.for_reading(redis_session.cache.connection)
    answers.put((response.from_cache, mine is not parent_client))


def test_a_forked_child_reads_through_a_client_of_its_own(
    redis_session: CachedSession, origin: LocalOrigin
) -> None:
    url = origin.url("/json?threads=fork")
    redis_session.get(url)
    redis_session.get(url)
    clients = redis_session.cache._clients
    assert clients is not None
    parent_client = clients.for_reading(redis_session.cache.connection)
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    child = context.Process(target=_hit_in_child, args=(redis_session, url, parent_client, answers))
    child.start()
    assert answers.get(timeout=30) == (True, True)
    child.join(30)
    assert child.exitcode == 0
    assert redis_session.get(url).from_cache is True  # the parent's connection is still in order


def test_a_callers_client_and_a_replaced_command_are_used_as_they_are(
    redis_url: str, unique_name: str, origin: LocalOrigin, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = redis.Redis.from_url(redis_url)
    cache = RedisCache(unique_name, connection=own)
    assert cache._clients is None  # a caller's client may be instrumented or of another kind
    made = RedisCache(f"{unique_name}-made", url=redis_url)
    assert made._clients is not None
    sent: list[str] = []
    execute = made.connection.execute_command

    def recording(*args: Any, **kwargs: Any) -> Any:
        sent.append(str(args[0]))
        return execute(*args, **kwargs)

    monkeypatch.setattr(made.connection, "execute_command", recording)
    redis_session = CachedSession(backend=made)
    url = origin.url("/json?threads=patched")
    redis_session.get(url)
    redis_session.get(url)  # a known key now: looked up with MGET
    sent.clear()
    assert redis_session.get(url).from_cache is True
    assert sent == ["MGET"]  # through the patched client, not around it
    made.clear()
    cache.clear()
