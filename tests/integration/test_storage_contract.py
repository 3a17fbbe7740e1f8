"""The storage contract: what every :class:`BaseStorage` must do, whatever holds the bytes.

Each storage under test is registered in :data:`STORAGE_FACTORIES` as a function
``(request, tmp_path) -> StorageCase``. A backend added later (Redis, MongoDB, DynamoDB,
filesystem) joins the whole suite with one more entry; its factory may ask ``request`` for
the fixtures it needs (``request.getfixturevalue("redis_url")``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from attrs import define

from requests_cache_like import CachedResponse
from requests_cache_like.backends import (
    BaseStorage,
    DictStorage,
    DynamoDbDict,
    FileDict,
    GridFSDict,
    MongoDict,
    RedisDict,
    SQLiteDict,
)
from requests_cache_like.backends.integrity import HEADER_SIZE, is_sealed, unseal
from requests_cache_like.exceptions import DeserializationError
from requests_cache_like.models import CachedRequest
from requests_cache_like.serializers import CattrStage, SerializerPipeline, Stage

from ..conftest import DYNAMODB_CLIENT_OPTIONS


@define
class StorageCase:
    """A storage to test, and how to make and compare the values it holds."""

    storage: BaseStorage
    #: Return the i-th distinct value this storage accepts.
    make_value: Callable[[int], Any]
    #: Return what identifies a value read back (the value itself, or its body and URL).
    identity: Callable[[Any], Any]
    #: True if the storage has a serializer, so unreadable entries are possible.
    serialized: bool
    #: How many keys the bulk-delete test writes: more than any batch the storage uses
    #: (SQLite binds, Redis/MongoDB batches of 500, DynamoDB batches of 25).
    many_keys: int = 620


def _plain_value(i: int) -> str:
    return f"value-{i}"


def _response_value(i: int) -> CachedResponse:
    url = f"https://example.org/item/{i}?q={i}"
    return CachedResponse(
        content=f"body-{i}".encode(),
        url=url,
        headers={"Content-Type": "text/plain", "X-Item": str(i)},
        request=CachedRequest(method="GET", url=url),
    )


def _response_identity(value: Any) -> Any:
    return (value.content, value.url, value.headers["X-Item"], value.request.url)


def _plain(storage: BaseStorage, many_keys: int = 620) -> StorageCase:
    return StorageCase(storage, _plain_value, lambda value: value, False, many_keys)


def _serialized(storage: BaseStorage, many_keys: int = 620) -> StorageCase:
    return StorageCase(storage, _response_value, _response_identity, True, many_keys)


#: Stores that write one entry per round trip to a slow test server (GridFS on SecantusDB,
#: DynamoDB on moto) and have no batch of 500: fewer keys still cross every batch boundary.
_SLOW_MANY_KEYS = 130


StorageFactory = Callable[[pytest.FixtureRequest, Path], StorageCase]


def _unique(request: pytest.FixtureRequest) -> str:
    """The test's own name for a namespace, database, table or directory."""
    return str(request.getfixturevalue("unique_name"))


def _redis(request: pytest.FixtureRequest, table: str, serializer: str | None) -> BaseStorage:
    url = request.getfixturevalue("redis_url")
    return RedisDict(_unique(request), table, serializer=serializer, url=url)


def _mongodb(request: pytest.FixtureRequest, table: str, serializer: str | None) -> BaseStorage:
    host = request.getfixturevalue("mongodb_url")
    return MongoDict(_unique(request), table, serializer=serializer, host=host)


def _gridfs(request: pytest.FixtureRequest, table: str, serializer: str | None) -> BaseStorage:
    host = request.getfixturevalue("mongodb_url")
    return GridFSDict(_unique(request), table, serializer=serializer, host=host)


def _dynamodb(request: pytest.FixtureRequest, table: str, serializer: str | None) -> BaseStorage:
    endpoint = request.getfixturevalue("dynamodb_endpoint")
    return DynamoDbDict(
        _unique(request),
        table,
        serializer=serializer,
        endpoint_url=endpoint,
        **DYNAMODB_CLIENT_OPTIONS,
    )


def _filesystem(tmp_path: Path, table: str, serializer: str | None) -> BaseStorage:
    return FileDict(tmp_path / "contract" / table, serializer=serializer)


def _text_serializer() -> SerializerPipeline:
    """A pipeline that gives text (``str``), as requests-cache-style JSON pipelines do."""
    return SerializerPipeline([CattrStage(binary=False), Stage(json)], "text", is_binary=False)


#: Every storage the contract runs against. Add a backend here to put it under the suite.
#: A name with a ``-serializer`` suffix holds serialized responses; a bare name, plain strings
#: (as the redirect storages do).
STORAGE_FACTORIES: dict[str, StorageFactory] = {
    "dict": lambda request, tmp_path: _plain(DictStorage()),
    "dict-default": lambda request, tmp_path: _serialized(DictStorage(serializer="default")),
    "sqlite": lambda request, tmp_path: _plain(
        SQLiteDict(tmp_path / "contract.sqlite", table_name="plain")
    ),
    "sqlite-default": lambda request, tmp_path: _serialized(
        SQLiteDict(tmp_path / "contract.sqlite", table_name="framed", serializer="default")
    ),
    "sqlite-json": lambda request, tmp_path: _serialized(
        SQLiteDict(tmp_path / "contract.sqlite", table_name="as_json", serializer="json")
    ),
    "sqlite-text": lambda request, tmp_path: _serialized(
        SQLiteDict(
            tmp_path / "contract.sqlite", table_name="as_text", serializer=_text_serializer()
        )
    ),
    "filesystem": lambda request, tmp_path: _plain(_filesystem(tmp_path, "plain", None)),
    "filesystem-default": lambda request, tmp_path: _serialized(
        _filesystem(tmp_path, "framed", "default")
    ),
    "filesystem-json": lambda request, tmp_path: _serialized(
        _filesystem(tmp_path, "as_json", "json")
    ),
    "redis": lambda request, tmp_path: _plain(_redis(request, "plain", None)),
    "redis-default": lambda request, tmp_path: _serialized(_redis(request, "framed", "default")),
    "mongodb": lambda request, tmp_path: _plain(_mongodb(request, "plain", None)),
    "mongodb-default": lambda request, tmp_path: _serialized(
        _mongodb(request, "framed", "default")
    ),
    "gridfs": lambda request, tmp_path: _plain(_gridfs(request, "plain", None), _SLOW_MANY_KEYS),
    "gridfs-default": lambda request, tmp_path: _serialized(
        _gridfs(request, "framed", "default"), _SLOW_MANY_KEYS
    ),
    "dynamodb": lambda request, tmp_path: _plain(
        _dynamodb(request, "plain", None), _SLOW_MANY_KEYS
    ),
    "dynamodb-default": lambda request, tmp_path: _serialized(
        _dynamodb(request, "framed", "default"), _SLOW_MANY_KEYS
    ),
}
SERIALIZED_STORAGES = [name for name in STORAGE_FACTORIES if "-" in name]

#: Keys that a storage must keep exactly as given: quotes, SQL, wildcards, unicode, spaces.
AWKWARD_KEYS = [
    "x'); DROP TABLE plain; --",
    'double "quoted"',
    "percent % and under_score",
    "naïve ключ 键",
    "  spaced  ",
    "a" * 300,
]


@pytest.fixture
def make_storage(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[str], StorageCase]]:
    """Factory: build the named storage case; every storage built is emptied (a server
    outlives the test) and closed afterwards."""
    built: list[BaseStorage] = []

    def factory(name: str) -> StorageCase:
        case = STORAGE_FACTORIES[name](request, tmp_path)
        built.append(case.storage)
        return case

    yield factory
    for storage in built:
        storage.clear()
        storage.close()


@pytest.fixture(params=list(STORAGE_FACTORIES))
def case(request: pytest.FixtureRequest, make_storage: Callable[[str], StorageCase]) -> StorageCase:
    """Each registered storage in turn, empty."""
    return make_storage(str(request.param))


@pytest.fixture(params=SERIALIZED_STORAGES)
def serialized_case(
    request: pytest.FixtureRequest, make_storage: Callable[[str], StorageCase]
) -> StorageCase:
    """Each registered storage that has a serializer, empty."""
    return make_storage(str(request.param))


def test_a_new_storage_is_empty(case: StorageCase) -> None:
    storage = case.storage
    assert len(storage) == 0
    assert list(storage) == []
    assert "anything" not in storage
    assert storage.get("anything") is None
    assert storage.get_raw_default("anything", "fallback") == "fallback"


def test_set_then_get_contains_iter_and_len(case: StorageCase) -> None:
    storage = case.storage
    storage["one"] = case.make_value(1)
    storage["two"] = case.make_value(2)
    assert case.identity(storage["one"]) == case.identity(case.make_value(1))
    assert case.identity(storage["two"]) == case.identity(case.make_value(2))
    assert "one" in storage
    assert "three" not in storage
    assert sorted(storage) == ["one", "two"]
    assert sorted(storage.keys()) == ["one", "two"]
    assert len(storage) == 2
    assert sorted(case.identity(v) for v in storage.values()) == sorted(
        case.identity(case.make_value(i)) for i in (1, 2)
    )
    assert {k: case.identity(v) for k, v in storage.items()} == {
        "one": case.identity(case.make_value(1)),
        "two": case.identity(case.make_value(2)),
    }


def test_missing_keys_raise_key_error(case: StorageCase) -> None:
    storage = case.storage
    storage["present"] = case.make_value(0)
    with pytest.raises(KeyError):
        storage["absent"]
    with pytest.raises(KeyError):
        storage.get_raw("absent")
    with pytest.raises(KeyError):
        del storage["absent"]
    assert len(storage) == 1


def test_delete_removes_only_that_key(case: StorageCase) -> None:
    storage = case.storage
    for i in range(3):
        storage[f"k{i}"] = case.make_value(i)
    del storage["k1"]
    assert "k1" not in storage
    assert sorted(storage) == ["k0", "k2"]
    with pytest.raises(KeyError):
        storage["k1"]
    with pytest.raises(KeyError):
        del storage["k1"]


def test_overwrite_replaces_the_value(case: StorageCase) -> None:
    storage = case.storage
    storage["key"] = case.make_value(1)
    storage["key"] = case.make_value(2)
    assert len(storage) == 1
    assert case.identity(storage["key"]) == case.identity(case.make_value(2))


def test_bulk_delete_ignores_missing_keys(case: StorageCase) -> None:
    storage = case.storage
    for i in range(5):
        storage[f"k{i}"] = case.make_value(i)
    storage.bulk_delete(["k0", "missing", "k3", "also-missing", "k3"])
    assert sorted(storage) == ["k1", "k2", "k4"]
    storage.bulk_delete([])
    storage.bulk_delete(iter(["k1"]))
    assert sorted(storage) == ["k2", "k4"]


def test_bulk_delete_of_many_keys(case: StorageCase) -> None:
    # More keys than SQLite binds in one statement: the storage must split the work itself.
    storage = case.storage
    keys = [f"key-{i:04d}" for i in range(case.many_keys)]
    for i, key in enumerate(keys):
        storage.set_raw(key, storage.serialize(case.make_value(i), key))
    storage.bulk_delete(keys[:-20])
    assert sorted(storage) == keys[-20:]


def test_clear_empties_the_storage(case: StorageCase) -> None:
    storage = case.storage
    for i in range(4):
        storage[f"k{i}"] = case.make_value(i)
    storage.clear()
    assert len(storage) == 0
    assert list(storage) == []
    storage["again"] = case.make_value(9)
    assert list(storage) == ["again"]


@pytest.mark.parametrize("key", AWKWARD_KEYS)
def test_awkward_keys_round_trip(
    case: StorageCase, key: str, request: pytest.FixtureRequest
) -> None:
    storage = case.storage
    if isinstance(storage, FileDict) and len(key) > 250:
        request.applymarker(
            pytest.mark.xfail(
                strict=True,
                reason="a key is a file name, and file systems refuse names over 255 bytes; "
                "storing longer keys needs a design change (hashed names + stored keys)",
            )
        )
    storage[key] = case.make_value(7)
    storage["neighbour"] = case.make_value(8)
    assert key in storage
    assert case.identity(storage[key]) == case.identity(case.make_value(7))
    assert sorted(storage) == sorted([key, "neighbour"])
    del storage[key]
    assert list(storage) == ["neighbour"]


def test_set_with_expires_keeps_the_value(case: StorageCase) -> None:
    storage = case.storage
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    storage.set("expiring", case.make_value(3), expires=later)
    storage.set("forever", case.make_value(4), expires=None)
    assert case.identity(storage["expiring"]) == case.identity(case.make_value(3))
    assert case.identity(storage["forever"]) == case.identity(case.make_value(4))
    assert len(storage) == 2


def test_serialized_values_are_copies(serialized_case: StorageCase) -> None:
    storage = serialized_case.storage
    value = serialized_case.make_value(5)
    storage["key"] = value
    value.headers["X-Item"] = "changed after storing"
    first = storage["key"]
    first.headers["X-Item"] = "changed after reading"
    assert storage["key"].headers["X-Item"] == "5"


@pytest.mark.parametrize(
    "garbage", [b"not an entry", b"", "a text value", None], ids=["bytes", "empty", "text", "null"]
)
def test_unreadable_entries_raise_deserialization_error_and_are_skipped(
    serialized_case: StorageCase, garbage: Any
) -> None:
    storage = serialized_case.storage
    storage["good"] = serialized_case.make_value(1)
    storage.set_raw("bad", garbage)
    assert "bad" in storage
    assert len(storage) == 2
    with pytest.raises(DeserializationError):
        storage["bad"]
    readable = dict(storage.readable_items())
    assert list(readable) == ["good"]
    assert serialized_case.identity(readable["good"]) == serialized_case.identity(
        serialized_case.make_value(1)
    )
    storage.bulk_delete(["bad"])
    assert list(storage) == ["good"]


def test_truncated_entry_is_unreadable(serialized_case: StorageCase) -> None:
    storage = serialized_case.storage
    storage["whole"] = serialized_case.make_value(1)
    raw = storage.get_raw("whole")
    storage.set_raw("cut", bytes(raw)[: len(raw) // 2])
    with pytest.raises(DeserializationError):
        storage["cut"]
    assert [key for key, _ in storage.readable_items()] == ["whole"]


# -- integrity (docs/integrity.md) ------------------------------------------------------------


def _flipped(raw: bytes, position: int, bit: int) -> bytes:
    damaged = bytearray(raw)
    damaged[position] ^= 1 << bit
    return bytes(damaged)


def test_serialized_entries_are_sealed_for_their_key(serialized_case: StorageCase) -> None:
    storage = serialized_case.storage
    storage["key"] = serialized_case.make_value(1)
    raw = storage.get_raw("key")
    assert is_sealed(raw)
    assert unseal("key", raw)  # the seal is for the key it is stored under
    storage.set_raw("moved", raw)
    with pytest.raises(DeserializationError, match="another key"):
        storage["moved"]
    storage.set_raw("old", unseal("key", raw))  # the bare serialized form: written before
    with pytest.raises(DeserializationError, match=r"has no seal|not a sealed"):
        storage["old"]
    assert [key for key, _ in storage.readable_items()] == ["key"]


def test_a_flipped_bit_is_unreadable(serialized_case: StorageCase) -> None:
    storage = serialized_case.storage
    storage["key"] = serialized_case.make_value(1)
    raw = bytes(storage.get_raw("key"))
    for position in (0, 4, 5, 6, HEADER_SIZE - 2, HEADER_SIZE - 1, HEADER_SIZE, len(raw) - 1):
        for bit in (0, 5, 7):
            storage.set_raw("key", _flipped(raw, position, bit))
            with pytest.raises(DeserializationError):
                storage["key"]
    storage.set_raw("key", raw)
    assert serialized_case.identity(storage["key"]) == serialized_case.identity(
        serialized_case.make_value(1)
    )


def test_values_swapped_between_keys_are_unreadable(serialized_case: StorageCase) -> None:
    storage = serialized_case.storage
    storage["a"] = serialized_case.make_value(1)
    storage["b"] = serialized_case.make_value(2)
    raw_a, raw_b = storage.get_raw("a"), storage.get_raw("b")
    storage.set_raw("a", raw_b)
    storage.set_raw("b", raw_a)
    for key in ("a", "b"):
        with pytest.raises(DeserializationError, match="another key"):
            storage[key]
    assert list(storage.readable_items()) == []


@pytest.fixture(params=[name for name in STORAGE_FACTORIES if name not in SERIALIZED_STORAGES])
def plain_case(
    request: pytest.FixtureRequest, make_storage: Callable[[str], StorageCase]
) -> StorageCase:
    """Each registered storage without a serializer, empty."""
    return make_storage(str(request.param))


def test_a_response_in_a_storage_without_serializer_is_sealed(plain_case: StorageCase) -> None:
    """A storage made without a serializer keeps other values as they are (redirect targets
    are strings), but stores a response in the default format, sealed like any other."""
    storage = plain_case.storage
    storage["plain"] = "a redirect target"
    assert storage.get_raw("plain") == "a redirect target"
    storage["response"] = _response_value(3)
    raw = storage.get_raw("response")
    assert is_sealed(raw)
    assert _response_identity(storage["response"]) == _response_identity(_response_value(3))
    storage.set_raw("moved", raw)
    with pytest.raises(DeserializationError, match="another key"):
        storage["moved"]
    storage.set_raw("old", unseal("response", raw))
    with pytest.raises(DeserializationError, match=r"has no seal|not a sealed"):
        storage["old"]
