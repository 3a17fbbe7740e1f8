"""The Redis backend on a real ``redis-server``: native expiry, SCAN-only iteration,
namespaces, connection options and URLs, and errors when the server goes away."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from requests_cache_like import CachedResponse, CachedSession
from requests_cache_like.backends import RedisCache, RedisDict, init_backend
from requests_cache_like.demo import LocalOrigin
from requests_cache_like.exceptions import StorageError
from requests_cache_like.models import CachedRequest

from ..servers import RedisServer


def make_response(name: str) -> CachedResponse:
    """A stored response for ``https://example.org/<name>`` whose body is ``name`` twice."""
    url = f"https://example.org/{name}"
    return CachedResponse(
        content=name.encode() * 2, url=url, request=CachedRequest(method="GET", url=url)
    )


class NoKeysRedis(redis.Redis):
    """A client that refuses the blocking KEYS command and records every command sent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: list[str] = []

    def execute_command(self, *args: Any, **options: Any) -> Any:
        name = str(args[0]).upper()
        self.commands.append(name)
        if name == "KEYS":
            raise AssertionError("KEYS blocks the server; iteration must use SCAN")
        return super().execute_command(*args, **options)

    def keys(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("KEYS blocks the server; iteration must use SCAN")


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    """A plain client on the test server, for looking at what the backend stored."""
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture
def make_cache(redis_url: str, unique_name: str) -> Iterator[Callable[..., RedisCache]]:
    """Factory for RedisCaches on the test server, in this test's namespace by default;
    everything they stored is cleared afterwards."""
    caches: list[RedisCache] = []

    def factory(**kwargs: Any) -> RedisCache:
        kwargs.setdefault("namespace", unique_name)
        if "connection" not in kwargs:
            kwargs.setdefault("url", redis_url)
        cache = RedisCache(**kwargs)
        caches.append(cache)
        return cache

    yield factory
    for cache in caches:
        cache.clear()
        cache.close()


def stored_key(cache: RedisCache, key: str, table: str = "responses") -> str:
    return f"{cache.responses.namespace}:{table}:{key}"


def test_constructor_defaults_match_requests_cache() -> None:
    parameters = inspect.signature(RedisCache).parameters
    assert parameters["namespace"].default == "http_cache"
    assert parameters["connection"].default is None
    assert parameters["ttl"].default is True
    assert parameters["ttl_offset"].default == 3600
    assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def test_default_namespace_and_keyword_client_options(redis_url: str) -> None:
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    cache = RedisCache(host="127.0.0.1", port=port, db=2)
    try:
        assert cache.responses.prefix == "http_cache:responses:"
        assert cache.redirects.prefix == "http_cache:redirects:"
        kwargs = cache.connection.connection_pool.connection_kwargs
        assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", port, 2)
        cache.responses["k"] = make_response("defaults")
        assert cache.responses["k"].content == b"defaultsdefaults"
    finally:
        cache.clear()
        cache.close()


def test_response_gets_native_ttl_of_expiry_plus_offset(
    make_cache: Callable[..., RedisCache], client: redis.Redis, origin: LocalOrigin
) -> None:
    cache = make_cache()
    session = CachedSession(backend=cache, expire_after=60)
    response = session.get(origin.url("/json?ttl=offset"))
    ttl = client.ttl(stored_key(cache, response.cache_key))
    # 60 s of freshness + 3600 s kept for revalidation; a second or two may have passed.
    assert 3600 + 55 <= ttl <= 3600 + 60


def test_ttl_offset_is_configurable(
    make_cache: Callable[..., RedisCache], client: redis.Redis, origin: LocalOrigin
) -> None:
    cache = make_cache(ttl_offset=100)
    session = CachedSession(backend=cache, expire_after=60)
    response = session.get(origin.url("/json?ttl=small-offset"))
    assert 155 <= client.ttl(stored_key(cache, response.cache_key)) <= 160


def test_ttl_false_stores_without_expiry(
    make_cache: Callable[..., RedisCache], client: redis.Redis, origin: LocalOrigin
) -> None:
    cache = make_cache(ttl=False)
    session = CachedSession(backend=cache, expire_after=60)
    response = session.get(origin.url("/json?ttl=off"))
    assert response.expires is not None
    assert client.ttl(stored_key(cache, response.cache_key)) == -1  # exists, no expiry


def test_never_expiring_response_has_no_ttl(
    make_cache: Callable[..., RedisCache], client: redis.Redis, origin: LocalOrigin
) -> None:
    cache = make_cache()
    session = CachedSession(backend=cache)  # expire_after defaults to never
    response = session.get(origin.url("/json?ttl=never"))
    assert response.expires is None
    assert client.ttl(stored_key(cache, response.cache_key)) == -1


def test_redirect_aliases_have_no_ttl(
    make_cache: Callable[..., RedisCache], client: redis.Redis, origin: LocalOrigin
) -> None:
    cache = make_cache()
    session = CachedSession(backend=cache, expire_after=60)
    session.get(origin.url("/redirect/1"))
    aliases = list(cache.redirects)
    assert aliases
    for alias in aliases:
        assert client.ttl(stored_key(cache, alias, "redirects")) == -1


def test_iteration_uses_scan_never_keys(
    make_cache: Callable[..., RedisCache], redis_url: str, origin: LocalOrigin
) -> None:
    connection = NoKeysRedis.from_url(redis_url)
    cache = make_cache(connection=connection)
    session = CachedSession(backend=cache, expire_after=60)
    for n in range(5):
        session.get(origin.url(f"/json?scan={n}"))
    session.get(origin.url("/redirect/1"))
    assert len(cache.responses) == 6
    assert len(list(cache.responses)) == 6
    assert origin.url("/json?scan=3") in cache.urls()
    cache.delete(urls=[origin.url("/json?scan=3")])
    assert len(cache.responses) == 5
    assert not cache.contains(url=origin.url("/json?scan=3"))
    cache.clear()
    assert len(cache.responses) == 0
    assert len(cache.redirects) == 0
    assert "SCAN" in connection.commands
    assert "KEYS" not in connection.commands


def test_clear_and_len_cover_more_than_one_scan_batch(
    make_cache: Callable[..., RedisCache],
) -> None:
    cache = make_cache()
    values = {f"k{n:04d}": f"target-{n}" for n in range(1200)}  # more than two SCAN batches
    for key, value in values.items():
        cache.redirects[key] = value
    assert len(cache.redirects) == 1200
    assert set(cache.redirects) == set(values)
    cache.redirects.bulk_delete([f"k{n:04d}" for n in range(600)])
    assert len(cache.redirects) == 600
    cache.redirects.clear()
    assert len(cache.redirects) == 0


def test_namespaces_on_one_database_are_isolated(
    make_cache: Callable[..., RedisCache], unique_name: str, origin: LocalOrigin
) -> None:
    first = make_cache(namespace=unique_name + "-a")
    second = make_cache(namespace=unique_name + "-b")
    url = origin.url("/json?ns=isolated")
    CachedSession(backend=first, expire_after=60).get(url)
    assert first.contains(url=url)
    assert not second.contains(url=url)
    assert len(second.responses) == 0
    assert second.urls() == []
    second.clear()
    assert first.urls() == [url]
    from_second = CachedSession(backend=second, expire_after=60).get(url)
    assert from_second.from_cache is False


@pytest.mark.parametrize("namespace", ["glob*", "glob?x", "glob[ab]", "back\\slash"])
def test_namespace_with_glob_characters_finds_its_own_keys(
    make_cache: Callable[..., RedisCache], namespace: str
) -> None:
    """SCAN's MATCH pattern is a glob: the namespace must be matched literally."""
    cache = make_cache(namespace=namespace)
    neighbour = make_cache(namespace="globa")  # what an unescaped "glob?" or "glob[ab]" matches
    cache.responses["k"] = make_response("literal")
    neighbour.responses["n"] = make_response("neighbour")
    assert list(cache.responses) == ["k"]
    assert len(cache.responses) == 1
    cache.clear()
    assert list(neighbour.responses) == ["n"]


def test_connection_and_client_options_together_are_a_type_error(redis_url: str) -> None:
    connection = redis.Redis.from_url(redis_url)
    try:
        with pytest.raises(TypeError, match=r"connection=.*port"):
            RedisCache(connection=connection, port=6380)
        with pytest.raises(TypeError, match="url"):
            RedisCache(connection=connection, url=redis_url)
    finally:
        connection.close()


def test_existing_connection_is_used(make_cache: Callable[..., RedisCache], redis_url: str) -> None:
    connection = redis.Redis.from_url(redis_url)
    cache = make_cache(connection=connection)
    assert cache.connection is connection
    assert cache.responses.connection is connection
    cache.responses["k"] = make_response("shared")
    assert connection.exists(stored_key(cache, "k"))


def test_url_option_selects_host_port_and_database(redis_url: str, unique_name: str) -> None:
    base = redis_url.rsplit("/", 1)[0]
    cache = RedisCache(unique_name, url=base + "/3")
    other = redis.Redis.from_url(base + "/3")
    try:
        kwargs = cache.connection.connection_pool.connection_kwargs
        assert kwargs["db"] == 3
        cache.responses["k"] = make_response("db3")
        assert other.exists(stored_key(cache, "k"))
    finally:
        cache.clear()
        cache.close()
        other.close()


def test_redis_url_as_backend(redis_url: str, unique_name: str, origin: LocalOrigin) -> None:
    base = redis_url.rsplit("/", 1)[0]
    with CachedSession(unique_name, backend=base + "/4", expire_after=60) as session:
        assert isinstance(session.cache, RedisCache)
        assert session.cache.connection.connection_pool.connection_kwargs["db"] == 4
        url = origin.url("/json?via=url")
        assert session.get(url).from_cache is False
        assert session.get(url).from_cache is True
        session.cache.clear()


def test_rediss_url_makes_a_tls_client_without_connecting() -> None:
    cache = init_backend("tls_cache", "rediss://cache.example.invalid:6380/1")
    pool = cache.connection.connection_pool  # type: ignore[attr-defined]
    assert isinstance(cache, RedisCache)
    assert issubclass(pool.connection_class, redis.SSLConnection)
    kwargs = pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("cache.example.invalid", 6380, 1)
    assert cache.responses.prefix == "tls_cache:responses:"


def test_client_fails_fast_by_default(redis_url: str) -> None:
    """Finite timeouts, and at most one retry: while Redis is down, each request must not
    wait through the client's default ten retries with backoff."""
    cache = RedisCache(url=redis_url)
    kwargs = cache.connection.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] is not None
    assert kwargs["socket_connect_timeout"] is not None
    assert cache.connection.get_retry().get_retries() <= 1
    cache.close()


def test_client_options_override_the_defaults(redis_url: str) -> None:
    cache = RedisCache(url=redis_url, socket_timeout=1.5, retry=Retry(NoBackoff(), 3))
    assert cache.connection.connection_pool.connection_kwargs["socket_timeout"] == 1.5
    assert cache.connection.get_retry().get_retries() == 3
    cache.close()


@pytest.fixture
def own_server() -> Iterator[RedisServer]:
    """A Redis server for this test only, so it can be stopped."""
    server = RedisServer().start()
    yield server
    server.stop()


def test_stopped_server_raises_storage_error(own_server: RedisServer) -> None:
    cache = RedisCache("stopping", url=own_server.url)
    cache.responses["k"] = make_response("before")
    cache.redirects["alias"] = "k"
    own_server.stop()
    operations: list[Callable[[], Any]] = [
        lambda: cache.responses["k"],
        lambda: cache.responses.set("k", make_response("after")),
        lambda: "k" in cache.responses,
        lambda: len(cache.responses),
        lambda: list(cache.responses),
        lambda: cache.responses.bulk_delete(["k"]),
        lambda: cache.clear(),
        lambda: cache.get_response("k"),
    ]
    for operation in operations:
        with pytest.raises(StorageError, match="redis") as caught:
            operation()
        assert isinstance(caught.value.__cause__, redis.exceptions.ConnectionError)


def test_stopped_server_error_reaches_the_session_by_default(
    own_server: RedisServer, origin: LocalOrigin
) -> None:
    with CachedSession("stopping", backend=own_server.url, expire_after=60) as session:
        session.get(origin.url("/json?down=default"))
        own_server.stop()
        with pytest.raises(StorageError, match="redis"):
            session.get(origin.url("/json?down=default"))


def test_redis_dict_with_a_connection_refuses_client_options() -> None:
    with pytest.raises(TypeError, match=r"connection=.*colour"):
        RedisDict("x", connection=redis.Redis(), colour="blue")


def test_unknown_client_option_with_a_url_fails_at_once(redis_url: str) -> None:
    """redis.from_url() keeps unknown options until the first command; we check them early."""
    with pytest.raises(TypeError, match="bogus_option"):
        CachedSession("ns", backend=redis_url, bogus_option=1)


def test_hash_dict_keeps_entries_in_one_hash(client: redis.Redis, unique_name: str) -> None:
    """requests-cache's RedisHashDict: one hash, one field per entry."""
    from requests_cache_like.backends import RedisHashDict

    storage = RedisHashDict(unique_name, "redirects", connection=client)
    storage["a"] = "target-1"
    storage["b"] = "target-2"
    assert client.type(f"{unique_name}:redirects") == b"hash"
    assert storage["a"] == "target-1"
    assert "b" in storage
    assert "c" not in storage
    assert sorted(storage) == ["a", "b"]
    assert len(storage) == 2
    del storage["a"]
    with pytest.raises(KeyError):
        storage["a"]
    with pytest.raises(KeyError):
        del storage["a"]
    storage.bulk_delete(["b", "missing"])
    assert len(storage) == 0
    storage["c"] = "x"
    storage.clear()
    assert client.exists(f"{unique_name}:redirects") == 0


class CountingRedisDict(RedisDict):
    """A storage whose own ``__getitem__`` counts the reads (as requests-cache's tests do)."""

    reads = 0

    def __getitem__(self, key: str) -> Any:
        type(self).reads += 1
        return super().__getitem__(key)


def test_a_storage_with_its_own_getitem_is_read_through_it(
    make_cache: Callable[..., RedisCache], origin: LocalOrigin
) -> None:
    cache = make_cache()
    cache.responses = CountingRedisDict(
        cache.responses.namespace, "responses", connection=cache.connection
    )
    session = CachedSession(backend=cache)
    # A miss: looked up through __getitem__, and again once the lease is taken (the lookup
    # could not take it in its round trip).
    session.get(origin.url("/json?own-getitem"))
    assert CountingRedisDict.reads == 2
    assert session.get(origin.url("/json?own-getitem")).from_cache
    assert CountingRedisDict.reads == 3  # a hit: once
