"""Choosing a backend by URL or name: what each URL scheme means (parse_backend_url), the
cache init_backend builds from it on real servers, the errors for a bad URL, and the
message when a backend's client library is not installed."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from requests_cache_like import CachedResponse, CachedSession
from requests_cache_like.backends import (
    BACKEND_CLASSES,
    URL_SCHEMES,
    BaseCache,
    DynamoDbCache,
    FileCache,
    GridFSCache,
    MemoryCache,
    MongoCache,
    RedisCache,
    SQLiteCache,
    _util,
    init_backend,
    parse_backend_url,
)
from requests_cache_like.exceptions import UnknownBackendError
from requests_cache_like.models import CachedRequest

from ..conftest import DYNAMODB_CLIENT_OPTIONS


def make_response(name: str) -> CachedResponse:
    url = f"https://example.org/{name}"
    return CachedResponse(
        content=name.encode(), url=url, request=CachedRequest(method="GET", url=url)
    )


def round_trip(cache: BaseCache) -> None:
    """Store and read back one response, then clear and close ``cache``."""
    try:
        cache.responses["url-test"] = make_response("url-test")
        assert cache.responses["url-test"].content == b"url-test"
    finally:
        cache.clear()
        cache.close()


# -- parse_backend_url -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///relative/cache.db", ("sqlite", "relative/cache.db", {})),
        ("sqlite:////var/cache/app.db", ("sqlite", "/var/cache/app.db", {})),
        ("sqlite://:memory:", ("sqlite", ":memory:", {})),
        ("SQLITE:///upper.db", ("sqlite", "upper.db", {})),
        ("memory://", ("memory", None, {})),
        ("file:///var/cache/http", ("filesystem", "/var/cache/http", {})),
        ("file:///tmp/with%20space", ("filesystem", "/tmp/with space", {})),
        (
            "redis://cache.internal:6379/2",
            ("redis", None, {"url": "redis://cache.internal:6379/2"}),
        ),
        (
            "rediss://user:secret@cache.internal:6380/0",
            ("redis", None, {"url": "rediss://user:secret@cache.internal:6380/0"}),
        ),
        (
            "unix:///run/redis.sock?db=1",
            ("redis", None, {"url": "unix:///run/redis.sock?db=1"}),
        ),
        (
            "mongodb://db.internal:27017/http_db",
            ("mongodb", "http_db", {"host": "mongodb://db.internal:27017/http_db"}),
        ),
        ("mongodb://db.internal", ("mongodb", None, {"host": "mongodb://db.internal"})),
        (
            "mongodb+srv://cluster.example.net/app",
            ("mongodb", "app", {"host": "mongodb+srv://cluster.example.net/app"}),
        ),
        (
            "mongodb+gridfs://db.internal:27017/files_db",
            ("gridfs", "files_db", {"host": "mongodb://db.internal:27017/files_db"}),
        ),
        (
            "mongodb://db.internal/files_db?gridfs=true",
            ("gridfs", "files_db", {"host": "mongodb://db.internal/files_db"}),
        ),
        (
            "mongodb://db.internal/files_db?gridfs=1&replicaSet=rs0",
            ("gridfs", "files_db", {"host": "mongodb://db.internal/files_db?replicaSet=rs0"}),
        ),
        (
            "mongodb://db.internal/plain_db?gridfs=false",
            ("mongodb", "plain_db", {"host": "mongodb://db.internal/plain_db"}),
        ),
        (
            "dynamodb://cache_table?region=eu-west-1&endpoint_url=http://127.0.0.1:8000",
            (
                "dynamodb",
                "cache_table",
                {"region_name": "eu-west-1", "endpoint_url": "http://127.0.0.1:8000"},
            ),
        ),
        ("dynamodb://cache_table", ("dynamodb", "cache_table", {})),
        (
            "dynamodb://cache_table?region_name=us-west-2",
            ("dynamodb", "cache_table", {"region_name": "us-west-2"}),
        ),
    ],
)
def test_parse_backend_url(url: str, expected: tuple[str, str | None, dict[str, Any]]) -> None:
    assert parse_backend_url(url) == expected


def test_every_scheme_selects_a_known_backend() -> None:
    assert set(URL_SCHEMES.values()) <= set(BACKEND_CLASSES)
    for scheme in ("sqlite", "memory", "file", "redis", "rediss", "mongodb", "dynamodb"):
        assert scheme in URL_SCHEMES
    assert URL_SCHEMES["mongodb+gridfs"] == "gridfs"


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("ftp://host/path", "'ftp'"),
        ("cassandra://host/keyspace", "'cassandra'"),
        ("postgres://db/cache", "'postgres'"),
    ],
)
def test_unknown_scheme_names_it_and_lists_accepted_ones(url: str, named: str) -> None:
    with pytest.raises(UnknownBackendError) as caught:
        parse_backend_url(url)
    message = str(caught.value)
    assert named in message
    assert url in message
    for scheme in ("sqlite://", "redis://", "rediss://", "mongodb://", "dynamodb://", "file://"):
        assert scheme in message


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("sqlite://", "names no database file"),
        ("sqlite:///", "names no database file"),
        ("file://", "names no directory"),
        ("mongodb:///only_db", "names no host"),
        ("dynamodb://", "names no table"),
        ("dynamodb://?region=eu-west-1", "names no table"),
    ],
)
def test_incomplete_url_says_what_is_missing(url: str, problem: str) -> None:
    with pytest.raises(UnknownBackendError, match=problem) as caught:
        parse_backend_url(url)
    assert repr(url) in str(caught.value)
    assert "e.g." in str(caught.value)


def test_unknown_dynamodb_option_is_named_with_the_accepted_ones() -> None:
    url = "dynamodb://cache_table?region=eu-west-1&colour=blue"
    with pytest.raises(UnknownBackendError) as caught:
        parse_backend_url(url)
    message = str(caught.value)
    assert "'colour'" in message
    assert "region" in message
    assert "endpoint_url" in message


def test_unknown_backend_error_is_a_value_error() -> None:
    assert issubclass(UnknownBackendError, ValueError)


# -- init_backend and sessions ---------------------------------------------------------
def test_sqlite_url(tmp_path: Path) -> None:
    cache = init_backend("ignored", f"sqlite:///{tmp_path}/by_url.db")
    assert isinstance(cache, SQLiteCache)
    assert Path(cache.db_path) == tmp_path / "by_url.db"
    round_trip(cache)
    assert (tmp_path / "by_url.db").is_file()


def test_relative_sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cache = init_backend("ignored", "sqlite:///nested_cache.db")
    assert isinstance(cache, SQLiteCache)
    round_trip(cache)
    assert (tmp_path / "nested_cache.db").is_file()


def test_memory_urls() -> None:
    assert isinstance(init_backend("x", "memory://"), MemoryCache)
    in_memory = init_backend("x", "sqlite://:memory:")
    assert isinstance(in_memory, SQLiteCache)
    round_trip(in_memory)


def test_file_url(tmp_path: Path) -> None:
    cache = init_backend("ignored", f"file://{tmp_path}/files")
    assert isinstance(cache, FileCache)
    assert cache.cache_dir == tmp_path / "files"
    round_trip(cache)


def test_redis_url(redis_url: str, unique_name: str) -> None:
    base = redis_url.rsplit("/", 1)[0]
    cache = init_backend(unique_name, base + "/5")
    assert isinstance(cache, RedisCache)
    kwargs = cache.connection.connection_pool.connection_kwargs
    assert kwargs["db"] == 5
    assert cache.responses.namespace == unique_name  # the cache name is the namespace
    round_trip(cache)


def test_rediss_url_builds_a_tls_client() -> None:
    import redis

    cache = init_backend("tls", "rediss://:secret@cache.example.invalid:6380/3")
    assert isinstance(cache, RedisCache)
    pool = cache.connection.connection_pool
    assert issubclass(pool.connection_class, redis.SSLConnection)
    assert pool.connection_kwargs["password"] == "secret"
    assert pool.connection_kwargs["db"] == 3


def test_mongodb_url(mongodb_url: str, unique_name: str) -> None:
    cache = init_backend("ignored", mongodb_url.rstrip("/") + f"/{unique_name}")
    assert isinstance(cache, MongoCache)
    assert cache.responses.collection.database.name == unique_name
    try:
        round_trip(cache)
    finally:
        MongoCache(unique_name, host=mongodb_url).connection.drop_database(unique_name)


def test_mongodb_url_without_database_uses_the_cache_name(
    mongodb_url: str, unique_name: str
) -> None:
    cache = init_backend(unique_name, mongodb_url.rstrip("/"))
    assert isinstance(cache, MongoCache)
    assert cache.responses.collection.database.name == unique_name
    round_trip(cache)


@pytest.mark.parametrize(
    "form", ["mongodb+gridfs://{host}/{db}", "mongodb://{host}/{db}?gridfs=true"]
)
def test_gridfs_urls(mongodb_url: str, unique_name: str, form: str) -> None:
    host = mongodb_url.split("://", 1)[1].rstrip("/")
    cache = init_backend("ignored", form.format(host=host, db=unique_name))
    assert isinstance(cache, GridFSCache)
    assert cache.responses.db.name == unique_name
    round_trip(cache)


def test_dynamodb_url(dynamodb_endpoint: str, unique_name: str) -> None:
    credentials = {k: v for k, v in DYNAMODB_CLIENT_OPTIONS.items() if k != "region_name"}
    url = f"dynamodb://{unique_name}?region=us-east-1&endpoint_url={dynamodb_endpoint}"
    cache = init_backend("ignored", url, **credentials)
    assert isinstance(cache, DynamoDbCache)
    client = cache.responses.client
    assert client.meta.region_name == "us-east-1"
    assert client.meta.endpoint_url == dynamodb_endpoint
    assert unique_name in client.list_tables()["TableNames"]
    round_trip(cache)
    client.delete_table(TableName=unique_name)


def test_url_in_a_session(tmp_path: Path) -> None:
    with CachedSession(backend=f"sqlite:///{tmp_path}/session.db") as session:
        assert isinstance(session.cache, SQLiteCache)
        assert Path(session.cache.db_path) == tmp_path / "session.db"


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("sqlite", SQLiteCache),
        ("memory", MemoryCache),
        ("filesystem", FileCache),
        ("file", FileCache),
        ("SQLite", SQLiteCache),
    ],
)
def test_embedded_backend_names(tmp_path: Path, name: str, cls: type[BaseCache]) -> None:
    cache = init_backend(tmp_path / "named", name)
    assert type(cache) is cls
    cache.close()


def test_unknown_backend_name_lists_the_accepted_ones() -> None:
    with pytest.raises(UnknownBackendError) as caught:
        init_backend("x", "cassandra")
    message = str(caught.value)
    assert "'cassandra'" in message
    for name in BACKEND_CLASSES:
        assert name in message


def test_unknown_backend_from_a_session() -> None:
    with pytest.raises(UnknownBackendError, match="'couchdb'"):
        CachedSession("x", backend="couchdb://host/db")


# -- missing client libraries ----------------------------------------------------------
@pytest.fixture
def block_imports(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Return a function that makes the backends' imports of some packages fail."""

    def block(*packages: str) -> None:
        real = importlib.import_module

        def fake(name: str, package: str | None = None) -> Any:
            if name.split(".")[0] in packages:
                raise ImportError(f"No module named {name!r} (blocked by the test)")
            return real(name, package)

        monkeypatch.setattr(_util.importlib, "import_module", fake)

    return block


@pytest.mark.parametrize(
    ("backend", "blocked", "package", "extra"),
    [
        ("redis", ("redis",), "redis", "redis"),
        ("mongodb", ("pymongo", "gridfs"), "pymongo", "mongodb"),
        ("gridfs", ("pymongo", "gridfs"), "pymongo", "mongodb"),
        ("gridfs", ("gridfs",), "gridfs", "mongodb"),
        ("dynamodb", ("boto3", "botocore"), "boto3", "dynamodb"),
    ],
)
def test_missing_client_library_names_the_extra(
    block_imports: Any, backend: str, blocked: tuple[str, ...], package: str, extra: str
) -> None:
    block_imports(*blocked)
    with pytest.raises(ImportError) as caught:
        init_backend("x", backend)
    message = str(caught.value)
    assert f"'{package}'" in message
    assert f"pip install 'requests-cache-like[{extra}]'" in message
    assert isinstance(caught.value.__cause__, ImportError)


@pytest.mark.parametrize(
    ("url", "extra"),
    [
        ("redis://127.0.0.1:6379/0", "redis"),
        ("mongodb://127.0.0.1/db", "mongodb"),
        ("mongodb+gridfs://127.0.0.1/db", "mongodb"),
        ("dynamodb://table?region=us-east-1", "dynamodb"),
    ],
)
def test_missing_client_library_through_a_url_and_a_session(
    block_imports: Any, url: str, extra: str
) -> None:
    block_imports("redis", "pymongo", "gridfs", "boto3", "botocore")
    with pytest.raises(ImportError, match=rf"requests-cache-like\[{extra}\]"):
        CachedSession("x", backend=url)


def test_package_imports_and_works_without_any_server_library(tmp_path: Path) -> None:
    """The client libraries are optional: nothing imports them until their backend is used."""
    script = textwrap.dedent(
        f"""
        import sys
        for name in ("redis", "pymongo", "gridfs", "bson", "boto3", "botocore"):
            sys.modules[name] = None  # any import of these now fails
        from requests_cache_like import CachedSession
        session = CachedSession({str(tmp_path / "plain.db")!r})
        session.close()
        try:
            CachedSession("x", backend="redis")
        except ImportError as exc:
            print(exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'requests-cache-like[redis]'" in result.stdout
