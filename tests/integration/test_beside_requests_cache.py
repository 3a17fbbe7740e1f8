"""Caches written by requests-cache 1.3.3 itself stay readable by it after this package has
opened them and stored its own entries beside them."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import redis
import requests_cache
from requests_mock import Mocker

from requests_cache_like import CachedSession

from ..conftest import DYNAMODB_CLIENT_OPTIONS

API = "http://api.test"
URLS = [f"{API}/a", f"{API}/b?page=2", f"{API}/start"]


def register(mock: Mocker) -> None:
    mock.get(f"{API}/a", json={"a": 1})
    mock.get(f"{API}/b?page=2", json={"b": 2})
    mock.get(f"{API}/start", status_code=302, headers={"Location": f"{API}/final"})
    mock.get(f"{API}/final", json={"final": True})
    mock.get(f"{API}/ours", json={"ours": True})


def written_by_requests_cache(mock: Mocker, **options: object) -> None:
    # autoclose=False: a client passed in (Redis, MongoDB) stays usable for the next step.
    session = requests_cache.CachedSession(autoclose=False, **options)  # type: ignore[arg-type]
    for url in URLS:
        assert session.get(url).from_cache is False
    session.close()


def used_by_us(**options: object) -> None:
    session = CachedSession(**options)  # type: ignore[arg-type]
    for url in [*URLS, f"{API}/ours"]:
        session.get(url)
        assert session.get(url).from_cache is True
    session.close()


def deleted_and_cleared_by_us(**options: object) -> None:
    session = CachedSession(**options)  # type: ignore[arg-type]
    assert session.cache.contains(url=f"{API}/ours")
    session.cache.delete(urls=[f"{API}/ours"])
    assert not session.cache.contains(url=f"{API}/ours")
    session.cache.clear()
    assert len(session.cache.responses) == 0
    session.close()


def still_read_by_requests_cache(mock: Mocker, **options: object) -> None:
    calls = mock.call_count
    session = requests_cache.CachedSession(autoclose=False, **options)  # type: ignore[arg-type]
    for url in URLS:
        assert session.get(url).from_cache is True, url
    session.close()
    assert mock.call_count == calls  # every answer came from requests-cache's own entries


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_sqlite_file(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite")
    with Mocker() as mock:
        register(mock)
        written_by_requests_cache(mock, cache_name=path, backend="sqlite")
        used_by_us(cache_name=path, backend="sqlite")
        still_read_by_requests_cache(mock, cache_name=path, backend="sqlite")


def test_filesystem_directory(tmp_path: Path) -> None:
    directory = tmp_path / "shared"
    with Mocker() as mock:
        register(mock)
        written_by_requests_cache(mock, cache_name=str(directory), backend="filesystem")
        before = tree_digest(directory)
        used_by_us(cache_name=str(directory), backend="filesystem")
        after = tree_digest(directory)
        assert {name: after.get(name) for name in before} == before
        still_read_by_requests_cache(mock, cache_name=str(directory), backend="filesystem")


def test_redis_namespace(redis_url: str, unique_name: str) -> None:
    client = redis.Redis.from_url(redis_url)
    with Mocker() as mock:
        register(mock)
        theirs = requests_cache.RedisCache(namespace=unique_name, connection=client)
        written_by_requests_cache(mock, backend=theirs)
        before = {key: client.dump(key) for key in client.scan_iter(f"{unique_name}*")}
        used_by_us(cache_name=unique_name, backend=redis_url)
        assert {key: client.dump(key) for key in before} == before
        theirs = requests_cache.RedisCache(namespace=unique_name, connection=client)
        still_read_by_requests_cache(mock, backend=theirs)


def test_mongodb_database(mongodb_url: str, unique_name: str) -> None:
    import pymongo

    client: pymongo.MongoClient[Any] = pymongo.MongoClient(mongodb_url)
    database = client[unique_name]
    with Mocker() as mock:
        register(mock)
        theirs = requests_cache.MongoCache(db_name=unique_name, connection=client)
        written_by_requests_cache(mock, backend=theirs)
        before = {
            name: sorted(map(str, database[name].find()))
            for name in database.list_collection_names()
        }
        used_by_us(cache_name=unique_name, backend=mongodb_url.rstrip("/") + f"/{unique_name}")
        after = {name: sorted(map(str, database[name].find())) for name in before}
        assert after == before
        assert {"rcl_responses", "rcl_redirects"} <= set(database.list_collection_names())
        theirs = requests_cache.MongoCache(db_name=unique_name, connection=client)
        still_read_by_requests_cache(mock, backend=theirs)
    client.close()


def mongodb_contents(database: Any) -> dict[str, list[str]]:
    return {
        name: sorted(map(str, database[name].find())) for name in database.list_collection_names()
    }


def test_gridfs_database(mongodb_url: str, unique_name: str) -> None:
    import pymongo

    client: pymongo.MongoClient[Any] = pymongo.MongoClient(mongodb_url)
    database = client[unique_name]
    url = mongodb_url.rstrip("/") + f"/{unique_name}?gridfs=true"
    ours = {"cache_name": unique_name, "backend": url}
    with Mocker() as mock:
        register(mock)
        theirs = requests_cache.GridFSCache(db_name=unique_name, connection=client)
        written_by_requests_cache(mock, backend=theirs)
        before = mongodb_contents(database)
        assert {"fs.files", "fs.chunks", "redirects"} <= set(before)
        used_by_us(**ours)
        assert {name: mongodb_contents(database)[name] for name in before} == before
        assert database["rcl_fs.files"].count_documents({}) == len(URLS) + 1
        assert {"rcl_fs.chunks", "rcl_redirects"} <= set(database.list_collection_names())
        deleted_and_cleared_by_us(**ours)
        assert {name: mongodb_contents(database)[name] for name in before} == before
        theirs = requests_cache.GridFSCache(db_name=unique_name, connection=client)
        still_read_by_requests_cache(mock, backend=theirs)
    client.drop_database(unique_name)
    client.close()


def dynamodb_items(client: Any, table: str) -> list[str]:
    pages = client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return sorted(str(item) for page in pages for item in page["Items"])


def test_dynamodb_table(dynamodb_endpoint: str, unique_name: str) -> None:
    import boto3

    options = {"endpoint_url": dynamodb_endpoint, **DYNAMODB_CLIENT_OPTIONS}
    client = boto3.client("dynamodb", **options)
    resource = boto3.resource("dynamodb", **options)
    ours = {"cache_name": unique_name, "backend": "dynamodb", **options}
    try:
        with Mocker() as mock:
            register(mock)
            theirs = requests_cache.DynamoDbCache(table_name=unique_name, connection=resource)
            written_by_requests_cache(mock, backend=theirs)
            before = dynamodb_items(client, unique_name)
            assert before
            used_by_us(**ours)
            assert dynamodb_items(client, unique_name) == before
            assert dynamodb_items(client, f"rcl_{unique_name}")  # this cache's items
            deleted_and_cleared_by_us(**ours)
            assert dynamodb_items(client, unique_name) == before
            theirs = requests_cache.DynamoDbCache(table_name=unique_name, connection=resource)
            still_read_by_requests_cache(mock, backend=theirs)
    finally:
        for table in (unique_name, f"rcl_{unique_name}"):
            if table in client.list_tables()["TableNames"]:
                client.delete_table(TableName=table)
