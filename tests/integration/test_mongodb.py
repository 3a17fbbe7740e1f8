"""The MongoDB backend on a MongoDB-protocol server (SecantusDB): documents, the TTL index
(get_ttl/set_ttl) and its effect, connection options, and errors when the server is gone."""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pymongo
import pytest

from requests_cache_like import NEVER_EXPIRE, CachedResponse, CachedSession
from requests_cache_like.backends import MongoCache, init_backend
from requests_cache_like.demo import LocalOrigin
from requests_cache_like.exceptions import EntryTooLargeError, StorageError
from requests_cache_like.models import CachedRequest

from ..servers import SecantusServer


def make_response(name: str) -> CachedResponse:
    """A stored response for ``https://example.org/<name>`` whose body is ``name`` twice."""
    url = f"https://example.org/{name}"
    return CachedResponse(
        content=name.encode() * 2, url=url, request=CachedRequest(method="GET", url=url)
    )


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def client(mongodb_url: str) -> Iterator[pymongo.MongoClient[Any]]:
    """A client of the test server, owned by the test."""
    connection: pymongo.MongoClient[Any] = pymongo.MongoClient(
        mongodb_url, serverSelectionTimeoutMS=5000
    )
    yield connection
    connection.close()


@pytest.fixture
def cache(mongodb_url: str, unique_name: str) -> Iterator[MongoCache]:
    """A MongoCache in a database of its own; dropped afterwards."""
    made = MongoCache(unique_name, host=mongodb_url)
    yield made
    made.connection.drop_database(unique_name)
    made.close()


def ttl_indexes(cache: MongoCache) -> list[dict[str, Any]]:
    """The responses collection's indexes that expire documents, read from the server."""
    return [
        dict(index)
        for index in cache.responses.collection.list_indexes()
        if "expireAfterSeconds" in index
    ]


def test_constructor_defaults_match_requests_cache() -> None:
    parameters = inspect.signature(MongoCache).parameters
    assert list(parameters)[:2] == ["db_name", "connection"]
    assert parameters["db_name"].default == "http_cache"
    assert parameters["connection"].default is None
    assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def test_responses_are_documents_in_the_named_database(
    cache: MongoCache, client: pymongo.MongoClient[Any], unique_name: str, origin: LocalOrigin
) -> None:
    session = CachedSession(backend=cache, expire_after=60)
    response = session.get(origin.url("/json?mongo=doc"))
    assert session.get(origin.url("/json?mongo=doc")).from_cache is True
    document = client[unique_name]["responses"].find_one({"_id": response.cache_key})
    assert document is not None
    assert isinstance(document["data"], bytes)
    assert isinstance(document["created_at"], datetime)
    assert abs(document["expires"] - response.expires.replace(tzinfo=None)) < timedelta(seconds=1)
    session.get(origin.url("/redirect/1"))
    assert client[unique_name]["redirects"].count_documents({}) >= 1


def test_no_ttl_index_by_default(cache: MongoCache) -> None:
    cache.responses["k"] = make_response("no-ttl")
    assert cache.get_ttl() is None
    assert ttl_indexes(cache) == []


def test_set_ttl_creates_keeps_overwrites_and_removes_the_index(cache: MongoCache) -> None:
    cache.set_ttl(60)
    assert cache.get_ttl() == 60
    [index] = ttl_indexes(cache)
    assert index["expireAfterSeconds"] == 60
    assert dict(index["key"]) == {"created_at": 1}

    cache.set_ttl(120)  # an existing TTL is kept without overwrite=True
    assert cache.get_ttl() == 60
    assert [i["expireAfterSeconds"] for i in ttl_indexes(cache)] == [60]

    cache.set_ttl(120, overwrite=True)
    assert cache.get_ttl() == 120
    assert [i["expireAfterSeconds"] for i in ttl_indexes(cache)] == [120]

    cache.set_ttl(None)  # removing also needs overwrite=True
    assert cache.get_ttl() == 120
    cache.set_ttl(None, overwrite=True)
    assert cache.get_ttl() is None
    assert ttl_indexes(cache) == []
    cache.set_ttl(NEVER_EXPIRE, overwrite=True)  # requests-cache's "no TTL": nothing to drop
    assert cache.get_ttl() is None


def test_set_ttl_accepts_a_timedelta(cache: MongoCache) -> None:
    cache.set_ttl(timedelta(minutes=5))
    assert cache.get_ttl() == 300


@pytest.mark.parametrize("bad", [-2, True, "60", 1.5, timedelta(seconds=-5)])
def test_bad_ttl_is_a_value_error(cache: MongoCache, bad: Any) -> None:
    with pytest.raises(ValueError, match="ttl"):
        cache.set_ttl(bad)
    assert cache.get_ttl() is None


def test_ttl_index_makes_the_server_delete_old_responses(cache: MongoCache) -> None:
    cache.set_ttl(60)
    cache.responses["recent"] = make_response("recent")
    old = datetime.now(timezone.utc) - timedelta(hours=1)
    cache.responses.set_raw("old", cache.responses.serialize(make_response("old")), created_at=old)
    # The server sweeps expired documents about once a second: "old" may already be gone.
    assert "recent" in set(cache.responses)
    assert wait_until(lambda: "old" not in cache.responses, timeout=15)
    assert list(cache.responses) == ["recent"]
    assert cache.responses["recent"].content == b"recentrecent"


def test_url_backend_names_the_database(
    mongodb_url: str, unique_name: str, client: pymongo.MongoClient[Any], origin: LocalOrigin
) -> None:
    url = mongodb_url.rstrip("/") + f"/{unique_name}"
    with CachedSession(backend=url, expire_after=60) as session:
        assert isinstance(session.cache, MongoCache)
        assert session.cache.responses.db_name == unique_name
        session.get(origin.url("/json?mongo=url"))
        assert client[unique_name]["responses"].count_documents({}) == 1
        client.drop_database(unique_name)


def test_existing_connection_is_used_and_left_open(
    client: pymongo.MongoClient[Any], unique_name: str
) -> None:
    cache = MongoCache(unique_name, connection=client)
    assert cache.connection is client
    cache.responses["k"] = make_response("shared")
    cache.close()  # the caller's client stays usable
    assert client[unique_name]["responses"].count_documents({"_id": "k"}) == 1
    client.drop_database(unique_name)


def test_connection_and_client_options_together_are_a_type_error(
    client: pymongo.MongoClient[Any],
) -> None:
    with pytest.raises(TypeError, match=r"connection=.*host"):
        MongoCache("x", connection=client, host="mongodb://127.0.0.1:1/")


def test_client_options_reach_pymongo(mongodb_url: str) -> None:
    cache = init_backend("opts", "mongodb", host=mongodb_url, appname="rcl-test")
    try:
        assert cache.connection.options.pool_options.metadata["application"] == {  # type: ignore[attr-defined]
            "name": "rcl-test"
        }
    finally:
        cache.close()


def test_stopped_server_raises_storage_error() -> None:
    server = SecantusServer().start()
    cache = MongoCache("gone", host=server.url, serverSelectionTimeoutMS=300)
    try:
        cache.responses["k"] = make_response("before")
        server.stop()
        with pytest.raises(StorageError, match="mongodb"):
            cache.responses["k"]
        with pytest.raises(StorageError, match="mongodb"):
            cache.responses["k"] = make_response("after")
        with pytest.raises(StorageError, match="mongodb"):
            len(cache.responses)
    finally:
        server.stop()
        cache.close()


def test_a_response_over_the_document_limit_is_refused_clearly(
    cache: MongoCache, origin: LocalOrigin, caplog: pytest.LogCaptureFixture
) -> None:
    """Over 16 MB a document cannot be stored: EntryTooLargeError from the storage, and a
    session still answers (from the origin) and says why it did not cache."""
    huge = CachedResponse(content=os.urandom(17 * 1024 * 1024), url="http://example.test/big")
    with pytest.raises(EntryTooLargeError, match="gridfs"):
        cache.responses.set("big", huge)
    assert "big" not in cache.responses
    session = CachedSession(backend=cache)
    url = origin.url("/bytes/17000000")
    with caplog.at_level("WARNING", logger="requests_cache_like"):
        response = session.get(url, expire_after=60)
    assert len(response.content) == 17_000_000
    assert response.from_cache is False
    assert not cache.contains(url=url)
    assert "Response not cached" in caplog.text


def test_unknown_client_option_is_a_type_error(mongodb_url: str) -> None:
    with pytest.raises(TypeError, match="bogus_option"):
        MongoCache("db", host=mongodb_url, bogus_option=1)


def test_a_cache_is_made_without_reaching_the_server() -> None:
    """Which collections to use is decided on first use: making a cache (and a fail-open
    session) while the server is down does not fail."""
    from requests_cache_like.backends import GridFSCache

    unreachable = pymongo.MongoClient(
        "mongodb://127.0.0.1:9", connect=False, serverSelectionTimeoutMS=100
    )
    for cache_class in (MongoCache, GridFSCache):
        cache = cache_class("offline", connection=unreachable)
        session = CachedSession(backend=cache, on_backend_error="bypass")
        assert session.cache is cache
    unreachable.close()
