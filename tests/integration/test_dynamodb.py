"""The DynamoDB backend on moto's server: the table, redirects, entries over DynamoDB's
400 KB item limit (compressed, split, or refused), expiry filtered on read, connections."""

from __future__ import annotations

import inspect
import logging
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
import requests_mock

from requests_cache_like import CachedResponse, CachedSession
from requests_cache_like.backends import DynamoDbCache, EntryTooLargeError
from requests_cache_like.backends.dynamodb import INLINE_LIMIT, MAX_TRANSACTION_BYTES
from requests_cache_like.demo import LocalOrigin
from requests_cache_like.exceptions import StorageError
from requests_cache_like.models import CachedRequest

from ..conftest import DYNAMODB_CLIENT_OPTIONS

PART = "#part#"


def make_response(name: str, content: bytes, expires: Any = None) -> CachedResponse:
    url = f"https://example.org/{name}"
    return CachedResponse(
        content=content,
        url=url,
        request=CachedRequest(method="GET", url=url),
        expires=expires,
    )


@pytest.fixture
def client(dynamodb_endpoint: str) -> Any:
    """A boto3 client of the test server, for looking at the items."""
    return boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, **DYNAMODB_CLIENT_OPTIONS)


@pytest.fixture
def make_cache(
    dynamodb_endpoint: str, unique_name: str, client: Any
) -> Iterator[Callable[..., DynamoDbCache]]:
    """Factory for DynamoDbCaches on this test's own table, deleted afterwards."""

    def factory(**kwargs: Any) -> DynamoDbCache:
        kwargs.setdefault("table_name", unique_name)
        if "connection" not in kwargs:
            kwargs.setdefault("endpoint_url", dynamodb_endpoint)
            kwargs = {**DYNAMODB_CLIENT_OPTIONS, **kwargs}
        return DynamoDbCache(**kwargs)

    yield factory
    for table in (unique_name, f"rcl_{unique_name}"):
        if table in client.list_tables()["TableNames"]:
            client.delete_table(TableName=table)


@pytest.fixture
def cache(make_cache: Callable[..., DynamoDbCache]) -> DynamoDbCache:
    return make_cache()


def items(client: Any, table: str, namespace: str) -> dict[str, dict[str, Any]]:
    """Every item of ``namespace`` in ``table``, by key, read straight from the server."""
    found: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="#ns = :ns",
        ExpressionAttributeNames={"#ns": "namespace"},
        ExpressionAttributeValues={":ns": {"S": namespace}},
    ):
        for item in page["Items"]:
            found[item["key"]["S"]] = item
    return found


def part_keys(client: Any, table: str, key: str) -> list[str]:
    return sorted(k for k in items(client, table, "responses") if k.startswith(key + PART))


def mock_origin(session: CachedSession, url: str, body: bytes) -> requests_mock.Adapter:
    """Answer GETs of ``url`` with ``body`` (random bytes do not compress) through a
    transport adapter mounted on ``session``; the cache still runs in the session."""
    adapter = requests_mock.Adapter()
    adapter.register_uri("GET", url, content=body)
    session.mount("https://origin.test/", adapter)
    return adapter


def test_constructor_defaults_match_requests_cache() -> None:
    parameters = inspect.signature(DynamoDbCache).parameters
    assert list(parameters)[:5] == [
        "table_name",
        "create_table",
        "ttl",
        "connection",
        "endpoint_url",
    ]
    assert parameters["table_name"].default == "http_cache"
    assert parameters["create_table"].default is True
    assert parameters["ttl"].default is True
    assert parameters["connection"].default is None
    assert parameters["endpoint_url"].default is None
    assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def test_missing_table_is_created_with_ttl_enabled(
    make_cache: Callable[..., DynamoDbCache], client: Any, unique_name: str
) -> None:
    assert unique_name not in client.list_tables()["TableNames"]
    make_cache()
    table = client.describe_table(TableName=unique_name)["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {
        "namespace": "HASH",
        "key": "RANGE",
    }
    ttl = client.describe_time_to_live(TableName=unique_name)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "ttl")
    # A second cache on the existing table reuses it and sees the same data.
    first = make_cache()
    first.responses["k"] = make_response("shared", b"shared")
    assert make_cache().responses["k"].content == b"shared"


def test_missing_table_without_create_table_gives_a_clear_error(
    make_cache: Callable[..., DynamoDbCache], client: Any, unique_name: str
) -> None:
    cache = make_cache(create_table=False)
    assert unique_name not in client.list_tables()["TableNames"]
    operations: list[Callable[[], Any]] = [
        lambda: cache.responses["k"],
        lambda: cache.responses.set("k", make_response("k", b"k")),
        lambda: len(cache.responses),
    ]
    for operation in operations:
        with pytest.raises(StorageError, match=f"{unique_name}.*create_table=True"):
            operation()


def test_responses_and_redirects_are_items_in_one_table(
    cache: DynamoDbCache, client: Any, unique_name: str, origin: LocalOrigin
) -> None:
    session = CachedSession(backend=cache, expire_after=60)
    final = session.get(origin.url("/redirect/2"))
    assert session.get(origin.url("/redirect/2")).from_cache is True
    redirects = items(client, unique_name, "redirects")
    assert len(redirects) == 2
    assert {item["value"]["S"] for item in redirects.values()} == {final.cache_key}
    assert all("ttl" not in item for item in redirects.values())
    responses = items(client, unique_name, "responses")
    assert final.cache_key in responses
    assert int(responses[final.cache_key]["ttl"]["N"]) > time.time() + 3600


def test_large_compressible_entry_is_stored_compressed_in_one_item(
    cache: DynamoDbCache, client: Any, unique_name: str
) -> None:
    body = b"compressible " * 40_000  # 520 KB, over DynamoDB's 400 KB item limit
    cache.responses["big"] = make_response("big", body)
    stored = items(client, unique_name, "responses")
    assert list(stored) == ["big"]
    assert stored["big"]["compressed"] == {"BOOL": True}
    assert len(stored["big"]["value"]["B"]) < INLINE_LIMIT
    assert cache.responses["big"].content == body


def test_small_entry_is_stored_inline_uncompressed(
    cache: DynamoDbCache, client: Any, unique_name: str
) -> None:
    cache.responses["small"] = make_response("small", b"tiny body")
    item = items(client, unique_name, "responses")["small"]
    assert "compressed" not in item
    assert "parts" not in item
    assert cache.responses["small"].content == b"tiny body"


def test_incompressible_megabyte_is_split_into_parts_and_read_back(
    cache: DynamoDbCache, client: Any, unique_name: str
) -> None:
    body = os.urandom(1_000_000)
    cache.responses["split"] = make_response("split", body)
    parts = part_keys(client, unique_name, "split")
    assert len(parts) == 3  # 1 MB in parts of at most INLINE_LIMIT bytes
    main = items(client, unique_name, "responses")["split"]
    assert main["parts"] == {"N": "3"}
    assert cache.responses["split"].content == body
    # Parts are an implementation detail: not listed, not counted.
    assert list(cache.responses) == ["split"]
    assert len(cache.responses) == 1


def test_split_entry_through_a_session(cache: DynamoDbCache) -> None:
    body = os.urandom(900_000)
    with CachedSession(backend=cache, expire_after=60) as session:
        origin = mock_origin(session, "https://origin.test/random", body)
        assert session.get("https://origin.test/random").from_cache is False
        again = session.get("https://origin.test/random")
    assert again.from_cache is True
    assert again.content == body
    assert origin.call_count == 1


def test_overwriting_a_split_entry_removes_its_stale_parts(
    cache: DynamoDbCache, client: Any, unique_name: str
) -> None:
    cache.responses["k"] = make_response("k", os.urandom(1_000_000))
    assert len(part_keys(client, unique_name, "k")) == 3
    cache.responses["k"] = make_response("k", os.urandom(400_000))  # two parts now
    assert len(part_keys(client, unique_name, "k")) == 2
    cache.responses["k"] = make_response("k", b"small again")
    assert part_keys(client, unique_name, "k") == []
    assert cache.responses["k"].content == b"small again"
    assert list(items(client, unique_name, "responses")) == ["k"]


def test_deleting_a_split_entry_removes_its_parts(
    cache: DynamoDbCache, client: Any, unique_name: str
) -> None:
    cache.responses["a"] = make_response("a", os.urandom(800_000))
    cache.responses["b"] = make_response("b", os.urandom(800_000))
    del cache.responses["a"]
    assert part_keys(client, unique_name, "a") == []
    cache.responses.bulk_delete(["b"])
    assert items(client, unique_name, "responses") == {}


def test_entry_too_large_even_when_split_is_refused(
    cache: DynamoDbCache, client: Any, unique_name: str
) -> None:
    body = os.urandom(MAX_TRANSACTION_BYTES + 100_000)
    with pytest.raises(EntryTooLargeError, match=rf"'huge'.*{MAX_TRANSACTION_BYTES} bytes"):
        cache.responses.set("huge", make_response("huge", body))
    response = make_response("huge", body)
    with pytest.raises(EntryTooLargeError):
        cache.save_response(response, cache_key="huge")
    assert items(client, unique_name, "responses") == {}
    assert issubclass(EntryTooLargeError, StorageError)


def test_session_returns_an_entry_too_large_to_store_and_warns(
    cache: DynamoDbCache, caplog: pytest.LogCaptureFixture
) -> None:
    body = os.urandom(MAX_TRANSACTION_BYTES + 100_000)
    url = "https://origin.test/huge"
    with CachedSession(backend=cache, expire_after=60) as session:
        mocker = mock_origin(session, url, body)
        with caplog.at_level(logging.WARNING, logger="requests_cache_like"):
            first = session.get(url)
        assert first.status_code == 200
        assert first.content == body
        assert first.from_cache is False
        assert any(
            "not cached" in record.getMessage()
            and str(MAX_TRANSACTION_BYTES) in record.getMessage()
            for record in caplog.records
        )
        assert not session.cache.contains(url=url)
        second = session.get(url)  # not stored, so fetched again: never silently lost
        assert second.from_cache is False
        assert second.content == body
        assert mocker.call_count == 2


def expire_item(client: Any, table: str, key: str) -> None:
    """Give a stored item a ``ttl`` in the past, as DynamoDB would before it gets around to
    deleting it (moto never deletes it)."""
    item = items(client, table, "responses")[key]
    item["ttl"] = {"N": str(int(time.time()) - 60)}
    client.put_item(TableName=table, Item=item)


def test_expired_items_are_filtered_on_read(
    cache: DynamoDbCache, client: Any, unique_name: str
) -> None:
    cache.responses["gone"] = make_response("gone", b"old")
    cache.responses["kept"] = make_response("kept", b"new")
    expire_item(client, unique_name, "gone")
    assert "gone" in items(client, unique_name, "responses")  # still on the server
    with pytest.raises(KeyError):
        cache.responses["gone"]
    assert "gone" not in cache.responses
    assert list(cache.responses) == ["kept"]
    assert len(cache.responses) == 1


def test_expired_item_is_a_miss_for_the_session(
    cache: DynamoDbCache, client: Any, unique_name: str, origin: LocalOrigin
) -> None:
    session = CachedSession(backend=cache, expire_after=60)
    url = origin.url("/json?dynamo=expired")
    key = session.get(url).cache_key
    assert session.get(url).from_cache is True
    expire_item(client, unique_name, key)
    assert session.get(url).from_cache is False


def test_ttl_false_stores_items_without_ttl(
    make_cache: Callable[..., DynamoDbCache], client: Any, unique_name: str
) -> None:
    cache = make_cache(ttl=False)
    cache.responses.set("k", make_response("k", b"x"), expires=None)
    soon = datetime.now(timezone.utc) + timedelta(minutes=1)
    cache.responses["k2"] = make_response("k2", b"x", expires=soon)
    stored = items(client, unique_name, "responses")
    assert "ttl" not in stored["k"]
    assert "ttl" not in stored["k2"]


def test_boto3_resource_as_connection(
    make_cache: Callable[..., DynamoDbCache], dynamodb_endpoint: str, origin: LocalOrigin
) -> None:
    resource = boto3.resource("dynamodb", endpoint_url=dynamodb_endpoint, **DYNAMODB_CLIENT_OPTIONS)
    cache = make_cache(connection=resource)
    session = CachedSession(backend=cache, expire_after=60)
    url = origin.url("/json?dynamo=resource")
    assert session.get(url).from_cache is False
    assert session.get(url).from_cache is True


def test_boto3_resource_handles_split_entries_deletes_and_expiry(
    make_cache: Callable[..., DynamoDbCache],
    dynamodb_endpoint: str,
    client: Any,
    unique_name: str,
) -> None:
    resource = boto3.resource("dynamodb", endpoint_url=dynamodb_endpoint, **DYNAMODB_CLIENT_OPTIONS)
    cache = make_cache(connection=resource)
    body = os.urandom(800_000)
    cache.responses["split"] = make_response("split", body)
    cache.responses["small"] = make_response("small", b"small")
    cache.redirects["alias"] = "small"
    assert cache.responses["split"].content == body
    assert len(part_keys(client, unique_name, "split")) == 3
    assert sorted(cache.responses) == ["small", "split"]
    assert cache.redirects.get_raw("alias") == "small"
    expire_item(client, unique_name, "small")
    assert "small" not in cache.responses
    cache.clear()
    assert items(client, unique_name, "responses") == {}
    # The caller's resource still speaks plain Python values.
    table = resource.Table(unique_name)
    table.put_item(Item={"namespace": "other", "key": "k", "value": "v"})
    assert table.get_item(Key={"namespace": "other", "key": "k"})["Item"]["value"] == "v"


def test_boto3_client_as_connection(make_cache: Callable[..., DynamoDbCache], client: Any) -> None:
    cache = make_cache(connection=client)
    cache.responses["k"] = make_response("k", b"via client")
    assert cache.responses["k"].content == b"via client"


def test_connection_and_client_options_together_are_a_type_error(client: Any) -> None:
    with pytest.raises(TypeError, match="connection="):
        DynamoDbCache("x", connection=client, region_name="eu-west-1")


def make_foreign_table(client: Any, table: str) -> None:
    """A table as requests-cache 1.x makes it (partition key ``key`` alone), with one item."""
    client.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=table)
    client.put_item(TableName=table, Item={"key": {"S": "theirs"}, "value": {"S": "v"}})


def test_a_table_of_another_key_schema_is_left_as_it_is(
    make_cache: Callable[..., DynamoDbCache],
    client: Any,
    unique_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_foreign_table(client, unique_name)
    with caplog.at_level(logging.INFO):
        cache = make_cache()
    assert "another key schema" in caplog.text
    assert cache.responses.table_name == cache.redirects.table_name == f"rcl_{unique_name}"
    cache.responses["k"] = make_response("k", b"ours")
    cache.redirects["alias"] = "k"
    assert make_cache().responses["k"].content == b"ours"
    cache.clear()
    assert client.scan(TableName=unique_name)["Items"] == [
        {"key": {"S": "theirs"}, "value": {"S": "v"}}
    ]


def test_beside_another_table_without_create_table_the_error_names_rcl_table(
    make_cache: Callable[..., DynamoDbCache], client: Any, unique_name: str
) -> None:
    make_foreign_table(client, unique_name)
    cache = make_cache(create_table=False)
    with pytest.raises(StorageError, match=f"rcl_{unique_name}.*create_table=True"):
        cache.responses["k"]
    make_cache()  # creates rcl_<table>
    assert "k" not in cache.responses


def test_two_tables_of_another_key_schema_are_an_error(
    make_cache: Callable[..., DynamoDbCache], client: Any, unique_name: str
) -> None:
    make_foreign_table(client, unique_name)
    make_foreign_table(client, f"rcl_{unique_name}")
    with pytest.raises(StorageError, match="both have another key schema"):
        make_cache()
