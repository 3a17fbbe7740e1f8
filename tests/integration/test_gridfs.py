"""The GridFS backend on a MongoDB-protocol server (SecantusDB): bodies larger than one
chunk, one readable version per key, and concurrent writers of the same key."""

from __future__ import annotations

import inspect
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from requests_cache_like import CachedResponse, CachedSession
from requests_cache_like.backends import GridFSCache, GridFSDict, MongoDict, init_backend
from requests_cache_like.demo import LocalOrigin
from requests_cache_like.models import CachedRequest

TWO_MB = 2 * 1024 * 1024


def make_response(name: str, content: bytes) -> CachedResponse:
    url = f"https://example.org/{name}"
    return CachedResponse(content=content, url=url, request=CachedRequest(method="GET", url=url))


@pytest.fixture
def cache(mongodb_url: str, unique_name: str) -> Iterator[GridFSCache]:
    """A GridFSCache in a database of its own; dropped afterwards."""
    made = GridFSCache(unique_name, host=mongodb_url)
    yield made
    made.connection.drop_database(unique_name)
    made.close()


def versions(cache: GridFSCache, key: str) -> list[dict[str, Any]]:
    """The GridFS file documents stored under ``key``."""
    return list(cache.responses.files.find({"filename": key}))


def chunk_count(cache: GridFSCache) -> int:
    bucket = cache.responses.collection_name
    return int(cache.responses.db[f"{bucket}.chunks"].count_documents({}))


def test_constructor_defaults_match_requests_cache() -> None:
    parameters = inspect.signature(GridFSCache).parameters
    assert list(parameters)[:2] == ["db_name", "connection"]
    assert parameters["connection"].default is None


def test_cache_layout(cache: GridFSCache, unique_name: str) -> None:
    assert cache.responses.db.name == unique_name
    # Not GridFS's default bucket "fs", where requests-cache keeps its files.
    assert cache.responses.files.full_name == f"{unique_name}.rcl_fs.files"
    assert isinstance(cache.redirects, MongoDict)
    assert cache.redirects.collection.full_name == f"{unique_name}.redirects"


def test_files_an_earlier_version_wrote_to_fs_are_still_read(
    cache: GridFSCache, unique_name: str
) -> None:
    earlier = GridFSDict(unique_name, "fs", connection=cache.connection, serializer="default")
    earlier["k"] = make_response("k", b"written before rcl_fs")
    reopened = GridFSCache(unique_name, connection=cache.connection)
    assert reopened.responses["k"].content == b"written before rcl_fs"
    assert reopened.responses.collection_name == "fs"


def test_clear_leaves_files_another_program_put_in_the_bucket(
    cache: GridFSCache, unique_name: str
) -> None:
    storage = GridFSDict(unique_name, "shared", connection=cache.connection)
    storage.set_raw("k", "ours")
    foreign_id = storage.fs.put(b"theirs", _id="their-key")  # as requests-cache writes
    storage.clear()
    assert list(storage) == []
    assert storage.fs.get(foreign_id).read() == b"theirs"


def test_large_body_round_trips_through_a_session(cache: GridFSCache, origin: LocalOrigin) -> None:
    session = CachedSession(backend=cache, expire_after=60)
    url = origin.url(f"/bytes/{TWO_MB}")
    fetched = session.get(url)
    again = session.get(url)
    assert again.from_cache is True
    assert again.content == fetched.content
    assert len(again.content) == TWO_MB
    assert chunk_count(cache) > 1  # stored as several GridFS chunks


def test_incompressible_large_body_round_trips(cache: GridFSCache) -> None:
    body = os.urandom(TWO_MB + 12345)
    cache.responses["big"] = make_response("big", body)
    assert cache.responses["big"].content == body


def test_rewriting_a_key_leaves_only_the_newest_version(cache: GridFSCache) -> None:
    cache.responses["k"] = make_response("k", os.urandom(600_000))
    first_chunks = chunk_count(cache)
    newest = os.urandom(600_000)
    cache.responses["k"] = make_response("k", newest)
    assert len(versions(cache, "k")) == 1
    assert cache.responses["k"].content == newest
    assert chunk_count(cache) == first_chunks  # the old version's chunks are gone too
    assert list(cache.responses) == ["k"]
    assert len(cache.responses) == 1


def test_delete_and_clear_remove_files_and_chunks(cache: GridFSCache) -> None:
    for n in range(3):
        cache.responses[f"k{n}"] = make_response(f"k{n}", os.urandom(300_000))
    del cache.responses["k0"]
    assert "k0" not in cache.responses
    with pytest.raises(KeyError):
        del cache.responses["k0"]
    cache.responses.bulk_delete(["k1", "missing"])
    assert list(cache.responses) == ["k2"]
    cache.clear()
    assert len(cache.responses) == 0
    assert chunk_count(cache) == 0


def test_concurrent_writers_never_make_the_key_unreadable(cache: GridFSCache) -> None:
    bodies = {os.urandom(64) * 5000 for _ in range(4)}  # 320 KB each: two chunks
    cache.responses["shared"] = make_response("shared", next(iter(bodies)))
    stop = threading.Event()
    problems: list[str] = []

    def write(body: bytes) -> None:
        for _ in range(8):
            cache.responses["shared"] = make_response("shared", body)

    def read() -> int:
        reads = 0
        while not stop.is_set() or reads == 0:
            reads += 1
            try:
                content = cache.responses["shared"].content
            except KeyError:
                problems.append("the key was missing")
                continue
            if content not in bodies:
                problems.append(f"a read returned {len(content)} unexpected bytes")
        return reads

    with ThreadPoolExecutor(max_workers=6) as pool:
        readers = [pool.submit(read) for _ in range(2)]
        writers = [pool.submit(write, body) for body in bodies]
        for writer in writers:
            writer.result(timeout=120)
        stop.set()
        reads = sum(reader.result(timeout=120) for reader in readers)
    assert problems == []
    assert reads > 0
    assert cache.responses["shared"].content in bodies
    # Writes that landed in the same instant may leave an extra version; the next write
    # removes every older one.
    last = os.urandom(1000)
    cache.responses["shared"] = make_response("shared", last)
    assert len(versions(cache, "shared")) == 1
    assert cache.responses["shared"].content == last


def test_gridfs_urls(mongodb_url: str, unique_name: str) -> None:
    host = mongodb_url.split("://", 1)[1].rstrip("/")
    for url in (
        f"mongodb+gridfs://{host}/{unique_name}",
        f"mongodb://{host}/{unique_name}?gridfs=true",
    ):
        cache = init_backend("ignored", url)
        try:
            assert isinstance(cache, GridFSCache)
            assert cache.responses.db.name == unique_name
            cache.responses["k"] = make_response("url", b"via url")
            assert cache.responses["k"].content == b"via url"
        finally:
            cache.connection.drop_database(unique_name)  # type: ignore[attr-defined]
            cache.close()
