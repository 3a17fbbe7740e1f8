"""Integrity on every backend, against the real servers (docs/integrity.md): a stored entry
with one flipped bit anywhere, or with the value of another key, is a miss, logged once,
fetched again and overwritten, so the next request is a correct hit. Never a wrong response.

The raw bytes are read with the storage's ``get_raw`` and written back through the backend's
own client where there is one in reach (a second SQLite connection, the file itself), or with
``set_raw``. The memory backend keeps response objects, not bytes: it is tested here with a
serializer (its entries are then sealed bytes like everyone else's), and alone below.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from requests_mock import Mocker

from requests_cache_like import CachedResponse, CachedSession
from requests_cache_like.backends import BaseCache, FileCache, SQLiteCache
from requests_cache_like.backends.integrity import HEADER_SIZE, MAGIC, is_sealed, unseal
from requests_cache_like.demo import LocalOrigin
from requests_cache_like.models import CachedRequest
from requests_cache_like.serializers import CattrStage, FrameStage, SerializerPipeline, Stage

LOGGER = "requests_cache_like"
API = "http://api.test"
BITS = (0, 5, 7)


@pytest.fixture(scope="module")
def origin() -> Iterator[LocalOrigin]:
    """A private origin for this module: other modules' background work cannot move its
    hit counts."""
    with LocalOrigin() as server:
        yield server


@pytest.fixture
def sealed_session(
    any_backend: str, make_any_session: Callable[..., CachedSession], caplog: Any
) -> CachedSession:
    """A session on each backend; on the memory backend, with a serializer (bytes to damage)."""
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    if any_backend == "memory":
        return make_any_session(serializer="default")
    return make_any_session()


def unique_url(origin: LocalOrigin, label: str) -> str:
    """A URL no other test uses: unreadable entries are logged once per key per process."""
    return origin.url(f"/json?integrity={label}&id={uuid.uuid4().hex}")


def key_of(session: CachedSession, url: str) -> str:
    return session.cache.create_key(requests.Request("GET", url))


def get_raw(cache: BaseCache, key: str) -> bytes:
    raw = cache.responses.get_raw(key)
    assert isinstance(raw, bytes)
    assert is_sealed(raw), raw
    return raw


def put_raw(cache: BaseCache, key: str, data: bytes) -> None:
    """Write ``data`` as the stored bytes of ``key``, past the storage where possible, as a
    disk fault or another program would."""
    if isinstance(cache, SQLiteCache):
        connection = sqlite3.connect(cache.db_path, isolation_level=None)
        try:
            table = cache.responses.table_name
            connection.execute(f"UPDATE {table} SET value = ? WHERE key = ?", (data, key))
        finally:
            connection.close()
    elif isinstance(cache, FileCache):
        cache.responses._path(key).write_bytes(data)
    else:
        cache.responses.set_raw(key, data)


def flipped(raw: bytes, position: int, bit: int) -> bytes:
    damaged = bytearray(raw)
    damaged[position] ^= 1 << bit
    return bytes(damaged)


def positions(raw: bytes, url: str) -> dict[str, int]:
    """Where to flip a bit: each part of the seal's header, the frame, the URL in the
    metadata, the body, and the last byte."""
    body_id = url.rsplit("=", 1)[1].encode()
    return {
        "magic": 0,
        "seal-version": len(MAGIC) - 1,
        "kind": len(MAGIC),
        "checksum-first": len(MAGIC) + 1,
        "checksum-last": HEADER_SIZE - 1,
        "frame-magic": HEADER_SIZE,
        "frame-length": HEADER_SIZE + len(FrameStage.MAGIC) + 3,
        "url": raw.index(b"/json?integrity="),
        "body": raw.rindex(body_id) + 3,
        "end": len(raw) - 1,
    }


def warnings_for(caplog: pytest.LogCaptureFixture, key: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and key in record.getMessage()
    ]


def assert_miss_then_hit(
    session: CachedSession,
    origin: LocalOrigin,
    url: str,
    damaged: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The damaged entry is never served: a miss (logged once however often it is read),
    the origin is asked again, the entry is overwritten, and the next read is a hit."""
    key = key_of(session, url)
    for _ in range(2):
        assert session.cache.get_response(key) is None
    before = origin.hits["/json"]
    answer = session.get(url)
    assert answer.from_cache is False
    assert origin.hits["/json"] == before + 1
    assert answer.json()["args"]["id"] == url.rsplit("=", 1)[1]
    rewritten = get_raw(session.cache, key)
    assert rewritten != damaged
    assert unseal(key, rewritten)
    again = session.get(url)
    assert again.from_cache is True
    assert again.json() == answer.json()
    assert origin.hits["/json"] == before + 1
    warned = warnings_for(caplog, key)
    assert len(warned) == 1, warned
    assert "treated as a miss" in warned[0]


def test_a_flipped_bit_anywhere_is_a_miss_and_is_refetched(
    sealed_session: CachedSession, origin: LocalOrigin, caplog: pytest.LogCaptureFixture
) -> None:
    probe = unique_url(origin, "probe")
    sealed_session.get(probe)
    spots = positions(get_raw(sealed_session.cache, key_of(sealed_session, probe)), probe)
    for name in spots:
        for bit in BITS:
            url = unique_url(origin, f"{name}-{bit}")
            key = sealed_session.get(url).cache_key
            raw = get_raw(sealed_session.cache, key)
            damaged = flipped(raw, positions(raw, url)[name], bit)
            put_raw(sealed_session.cache, key, damaged)
            assert_miss_then_hit(sealed_session, origin, url, damaged, caplog)


def test_values_swapped_between_keys_are_misses(
    sealed_session: CachedSession, origin: LocalOrigin, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = unique_url(origin, "swap-1"), unique_url(origin, "swap-2")
    key_1, key_2 = sealed_session.get(first).cache_key, sealed_session.get(second).cache_key
    raw_1, raw_2 = get_raw(sealed_session.cache, key_1), get_raw(sealed_session.cache, key_2)
    put_raw(sealed_session.cache, key_1, raw_2)
    put_raw(sealed_session.cache, key_2, raw_1)
    assert_miss_then_hit(sealed_session, origin, first, raw_2, caplog)
    assert_miss_then_hit(sealed_session, origin, second, raw_1, caplog)
    assert "another key" in warnings_for(caplog, key_1)[0]


def test_an_entry_under_a_key_one_bit_away_is_a_miss(
    sealed_session: CachedSession, origin: LocalOrigin, caplog: pytest.LogCaptureFixture
) -> None:
    """A bit flipped in the key an entry is filed under moves it to another key."""
    url = unique_url(origin, "moved")
    key = sealed_session.get(url).cache_key
    raw = get_raw(sealed_session.cache, key)
    for position in range(len(key)):
        for bit in (0, 1):
            other = key[:position] + chr(ord(key[position]) ^ (1 << bit)) + key[position + 1 :]
            sealed_session.cache.responses.set_raw(other, raw)
            assert sealed_session.cache.get_response(other) is None
            assert sealed_session.cache.get_response(other) is None
            assert len(warnings_for(caplog, other)) == 1
            sealed_session.cache.responses.bulk_delete([other])
    assert sealed_session.get(url).from_cache is True


def _text_serializer() -> SerializerPipeline:
    """A pipeline that gives text (``str``), as requests-cache-style JSON pipelines do."""
    return SerializerPipeline([CattrStage(binary=False), Stage(json)], "text", is_binary=False)


def test_text_entries_are_sealed_and_verified(
    make_any_session: Callable[..., CachedSession],
    origin: LocalOrigin,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    session = make_any_session(serializer=_text_serializer())
    url = unique_url(origin, "text")
    key = session.get(url).cache_key
    assert session.get(url).from_cache is True
    raw = get_raw(session.cache, key)
    assert raw.startswith(MAGIC + b"t")
    assert isinstance(unseal(key, raw), str)
    damaged = flipped(raw, raw.rindex(b"integrity=text") + 3, 0)
    put_raw(session.cache, key, damaged)
    assert_miss_then_hit(session, origin, url, damaged, caplog)


def test_the_memory_backend_keeps_objects(origin: LocalOrigin) -> None:
    """Without a serializer the memory backend holds copies of response objects in this
    process: there are no stored bytes to damage, so nothing to seal (docs/integrity.md)."""
    session = CachedSession(backend="memory")
    url = unique_url(origin, "memory")
    key = session.get(url).cache_key
    assert isinstance(session.cache.responses.get_raw(key), CachedResponse)
    assert session.get(url).from_cache is True


# -- redirect aliases -----------------------------------------------------------------------
# An alias's value is the key of the response it stands for, a string that is not sealed.
# Damage to it can only make it name a key that holds nothing, so it is a miss; the response
# it leads to is sealed for its own key, so an alias can never reach a damaged response.


def mock_chains(mock: Mocker) -> None:
    for name in ("a", "b"):
        mock.get(f"{API}/{name}", status_code=302, headers={"Location": f"{API}/final-{name}"})
        mock.get(f"{API}/final-{name}", json={"final": name})


def calls_to(mock: Mocker, url: str) -> int:
    return sum(1 for request in mock.request_history if request.url == url)


def assert_alias_recovers(session: CachedSession, mock: Mocker, name: str, target: str) -> None:
    """The alias is a miss, the start of the chain is asked again, the alias is rewritten,
    and the next request is answered from the cache alone."""
    start = f"{API}/{name}"
    alias = key_of(session, start)
    assert session.cache.get_response(alias) is None
    before = calls_to(mock, start)
    answer = session.get(start)
    assert answer.json() == {"final": name}
    assert calls_to(mock, start) == before + 1
    assert session.cache.redirects.get_raw(alias) == target
    sent = mock.call_count
    again = session.get(start)
    assert again.from_cache is True
    assert again.json() == {"final": name}
    assert mock.call_count == sent


def test_a_damaged_redirect_alias_is_only_a_miss(
    make_any_session: Callable[..., CachedSession],
) -> None:
    session = make_any_session()
    with Mocker() as mock:
        mock_chains(mock)
        session.get(f"{API}/a")
        session.get(f"{API}/b")
        alias = key_of(session, f"{API}/a")
        target = session.cache.redirects.get_raw(alias)
        assert target == key_of(session, f"{API}/final-a")
        for position in range(len(target)):
            for bit in (0, 5):
                damaged = target[:position] + chr(ord(target[position]) ^ (1 << bit))
                session.cache.redirects.set_raw(alias, damaged + target[position + 1 :])
                assert_alias_recovers(session, mock, "a", target)


@pytest.mark.parametrize(
    "any_backend",
    [
        "filesystem",
        "redis",
        "gridfs",
        "sqlite",
    ],
    indirect=True,
)
def test_a_redirect_alias_that_is_not_utf8_is_a_miss(
    make_any_session: Callable[..., CachedSession],
) -> None:
    """Stores that keep an alias as bytes may hand back bytes that are not UTF-8 (MongoDB
    and DynamoDB keep typed strings, which cannot be)."""
    session = make_any_session()
    with Mocker() as mock:
        mock_chains(mock)
        session.get(f"{API}/a")
        alias = key_of(session, f"{API}/a")
        target = session.cache.redirects.get_raw(alias)
        damaged = flipped(target.encode(), 3, 7)
        cache = session.cache
        if isinstance(cache, SQLiteCache):
            connection = sqlite3.connect(cache.db_path, isolation_level=None)
            table = cache.redirects.table_name
            connection.execute(
                f"UPDATE {table} SET value = CAST(? AS TEXT) WHERE key = ?", (damaged, alias)
            )
            connection.close()
        else:
            cache.redirects.set_raw(alias, damaged)
        assert_alias_recovers(session, mock, "a", target)


def test_alias_values_swapped_between_keys_are_misses(
    make_any_session: Callable[..., CachedSession],
) -> None:
    session = make_any_session()
    with Mocker() as mock:
        mock_chains(mock)
        session.get(f"{API}/a")
        session.get(f"{API}/b")
        alias_a, alias_b = key_of(session, f"{API}/a"), key_of(session, f"{API}/b")
        target_a = session.cache.redirects.get_raw(alias_a)
        target_b = session.cache.redirects.get_raw(alias_b)
        session.cache.redirects.set_raw(alias_a, target_b)
        session.cache.redirects.set_raw(alias_b, target_a)
        assert session.get(f"{API}/a").json() == {"final": "a"}  # never the other chain's
        assert session.get(f"{API}/b").json() == {"final": "b"}
        # Each request followed its redirect again and wrote its alias back.
        assert session.cache.redirects.get_raw(alias_a) == target_a
        assert session.cache.redirects.get_raw(alias_b) == target_b


@pytest.mark.parametrize("any_backend", ["dynamodb"], indirect=True)
def test_a_damaged_compressed_dynamodb_item_is_a_miss(
    make_any_session: Callable[..., CachedSession], caplog: pytest.LogCaptureFixture
) -> None:
    """DynamoDB compresses an entry too large for one item: damage to the compressed bytes
    is a miss too, not a zlib error."""
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    cache = make_any_session().cache
    url = f"{API}/large/{uuid.uuid4().hex}"
    body = b"a large, compressible body. " * 20_000
    response = CachedResponse(content=body, url=url, request=CachedRequest(method="GET", url=url))
    cache.responses.set("large", response)
    client, table = cache.responses.client, cache.responses.table_name
    item = client.get_item(TableName=table, Key=cache.responses._key("large"))["Item"]
    assert "compressed" in item
    for position in (0, 2, len(item["value"]["B"]) // 2, len(item["value"]["B"]) - 1):
        damaged = dict(item, value={"B": flipped(item["value"]["B"], position, 0)})
        client.put_item(TableName=table, Item=damaged)
        assert cache.get_response("large") is None
    assert len(warnings_for(caplog, "large")) == 1
    client.put_item(TableName=table, Item=item)
    assert cache.get_response("large").content == body
