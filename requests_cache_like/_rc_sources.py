"""Where requests-cache 1.x keeps its entries, read without changing anything.

=============  ==================================================================
SQLite         tables ``responses`` and ``redirects`` (``key``, ``value``, ``expires``),
               opened read-only
filesystem     one file per response, ``{directory}/{key}{extension}``; redirects in
               ``{directory}/redirects.sqlite``
Redis          one string key per response, ``{namespace}:{key}``; redirects in the hash
               ``{namespace}-redirects``
MongoDB        collections ``responses`` (documents, or ``data``) and ``redirects``
GridFS         files whose ``_id`` is the key, in the ``fs`` bucket
=============  ==================================================================

This package keeps its own entries beside requests-cache's (``rcl_`` tables and collections,
sub-directories, longer Redis keys, GridFS files with generated ids): they are not read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from .backends import parse_backend_url
from .backends._util import import_client, storage_errors
from .exceptions import ConvertError, UnknownBackendError

__all__ = ["RC_DEFAULT_NAME", "Source", "is_url", "open_source"]

#: requests-cache's default Redis namespace and MongoDB database.
RC_DEFAULT_NAME = "http_cache"
_PAGE = 200
_NOT_ENTRIES = ("redirects.sqlite", "lru.db")
_ACCEPTED = (
    "a requests-cache SQLite file, a filesystem cache directory, or a URL "
    "(sqlite://, file://, redis://, rediss://, unix://, mongodb://, mongodb+gridfs://)"
)


class Source(Protocol):
    """A requests-cache cache opened for reading."""

    description: str

    def count(self) -> int | None:
        """How many stored responses there are, if it is cheap to know."""

    def responses(self) -> Iterator[tuple[str, Any]]:
        """Yield ``(key, stored value)`` for every stored response."""

    def redirects(self) -> Iterator[tuple[str, str]]:
        """Yield ``(alias key, target key)`` for every redirect alias."""

    def close(self) -> None:
        """Release connections."""


def _text(value: Any) -> str:
    return bytes(value).decode("utf-8") if isinstance(value, (bytes, memoryview)) else str(value)


def _connect_read_only(path: Path) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.absolute()))}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        connection.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.Error as exc:
        raise ConvertError(f"SOURCE {str(path)!r} is not a readable SQLite file: {exc}") from exc
    return connection


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}


def _pages(connection: sqlite3.Connection, table: str) -> Iterator[tuple[str, Any]]:
    """Yield a table's rows in key order, a page at a time: no read stays open between pages,
    so writing into the same file (this package's tables beside them) never waits on it."""
    last = ""
    while True:
        rows = connection.execute(
            f"SELECT key, value FROM {table} WHERE key > ? ORDER BY key LIMIT ?", (last, _PAGE)
        ).fetchall()
        yield from rows
        if len(rows) < _PAGE:
            return
        last = rows[-1][0]


class SQLiteSource:
    """requests-cache's SQLite file, opened read-only."""

    def __init__(self, path: Path) -> None:
        self.description = str(path)
        self.connection = _connect_read_only(path)
        columns = _columns(self.connection, "responses")
        if not columns:
            self.close()
            raise ConvertError(
                f"SOURCE {str(path)!r} has no requests-cache 'responses' table; accepted: "
                + _ACCEPTED
            )
        if {"created_at", "size"} <= columns:
            self.close()
            raise ConvertError(f"SOURCE {str(path)!r} is already a requests_cache_like cache")
        self.has_redirects = bool(_columns(self.connection, "redirects"))

    def count(self) -> int | None:
        return int(self.connection.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def responses(self) -> Iterator[tuple[str, Any]]:
        return _pages(self.connection, "responses")

    def redirects(self) -> Iterator[tuple[str, str]]:
        if not self.has_redirects:
            return
        for alias, target in _pages(self.connection, "redirects"):
            yield alias, _text(target)

    def close(self) -> None:
        self.connection.close()


class FileSource:
    """requests-cache's filesystem cache: one file per response at the directory's top."""

    def __init__(self, directory: Path) -> None:
        self.description = str(directory)
        self.directory = directory
        self.paths = sorted(
            path
            for path in directory.iterdir()
            if path.is_file()
            and not path.name.startswith(".")
            and not path.name.startswith(_NOT_ENTRIES)
        )

    def count(self) -> int | None:
        return len(self.paths)

    def responses(self) -> Iterator[tuple[str, Any]]:
        for path in self.paths:
            try:
                value = path.read_bytes()
            except FileNotFoundError:  # removed since the listing
                continue
            yield path.name.partition(".")[0], value

    def redirects(self) -> Iterator[tuple[str, str]]:
        path = self.directory / "redirects.sqlite"
        if not path.is_file():
            return
        connection = _connect_read_only(path)
        try:
            if _columns(connection, "redirects"):
                for alias, target in _pages(connection, "redirects"):
                    yield alias, _text(target)
        finally:
            connection.close()

    def close(self) -> None:
        """Nothing is kept open."""


class RedisSource:
    """requests-cache's entries in one Redis namespace."""

    def __init__(self, url: str, namespace: str) -> None:
        from .backends.redis import make_connection

        self.description = f"{url} (namespace {namespace!r})"
        self.namespace = namespace
        self.client = make_connection(url)
        redis = import_client("redis", "redis", "redis")
        self.errors = (redis.exceptions.RedisError, OSError)
        with storage_errors("redis", self.errors):
            self.client.ping()  # fail before anything is written to the destination

    def count(self) -> int | None:
        return None  # only a full SCAN would tell

    def responses(self) -> Iterator[tuple[str, Any]]:
        prefix = f"{self.namespace}:"
        pattern = "".join("\\" + c if c in "*?[]\\" else c for c in prefix) + "*"
        with storage_errors("redis", self.errors):
            for name in self.client.scan_iter(match=pattern, count=500):
                key = _text(name)[len(prefix) :]
                if ":" in key:  # this package's own keys: {namespace}:{table}:{key}
                    continue
                value = self.client.get(name)
                if value is not None:  # expired since the scan
                    yield key, value

    def redirects(self) -> Iterator[tuple[str, str]]:
        with storage_errors("redis", self.errors):
            for alias, target in self.client.hscan_iter(f"{self.namespace}-redirects"):
                yield _text(alias), _text(target)

    def close(self) -> None:
        self.client.close()


class MongoSource:
    """requests-cache's ``responses`` and ``redirects`` collections (documents of this package,
    which carry ``size``, are passed over), or its GridFS files."""

    def __init__(self, host: str, db_name: str, gridfs: bool = False) -> None:
        from .backends.mongodb import client_errors, make_client

        self.description = f"{host} (database {db_name!r}{', GridFS' if gridfs else ''})"
        self.errors = client_errors()
        self.client = make_client(host=host)
        self.db = self.client[db_name]
        self.gridfs = gridfs
        self.theirs = {"size": {"$exists": False}}

    def count(self) -> int | None:
        with storage_errors("mongodb", self.errors):
            if self.gridfs:
                return int(self.db["fs.files"].count_documents({"_id": {"$type": "string"}}))
            return int(self.db["responses"].count_documents(self.theirs))

    def responses(self) -> Iterator[tuple[str, Any]]:
        with storage_errors("mongodb", self.errors):
            if self.gridfs:
                files = import_client("gridfs", "mongodb", "gridfs").GridFS(self.db)
                for document in self.db["fs.files"].find({"_id": {"$type": "string"}}, {"_id": 1}):
                    yield document["_id"], files.get(document["_id"]).read()
                return
            for document in self.db["responses"].find(self.theirs):
                key = str(document.pop("_id"))
                yield key, document.get("data", document)

    def redirects(self) -> Iterator[tuple[str, str]]:
        with storage_errors("mongodb", self.errors):
            for document in self.db["redirects"].find(self.theirs):
                if "data" in document:
                    yield str(document["_id"]), _text(document["data"])

    def close(self) -> None:
        self.client.close()


def is_url(text: str) -> bool:
    """True if ``text`` is a backend URL rather than a path."""
    return "://" in text or text.lower().startswith(("file:", "sqlite:"))


def _source_path(text: str) -> Source:
    path = Path(text).expanduser()
    if path.is_dir():
        return FileSource(path)
    if path.is_file():
        return SQLiteSource(path)
    if not path.suffix and path.with_suffix(".sqlite").is_file():
        return SQLiteSource(path.with_suffix(".sqlite"))
    raise ConvertError(f"SOURCE {text!r}: no such file or directory; accepted: {_ACCEPTED}")


def open_source(source: str, name: str | None = None) -> Source:
    """Return the requests-cache cache at ``source`` (a path or a backend URL), opened for
    reading. ``name`` is the Redis namespace or MongoDB database (default: requests-cache's
    ``http_cache``). Raises :class:`ConvertError` for a value that names no such cache."""
    if not is_url(source):
        return _source_path(source)
    try:
        backend, cache_name, options = parse_backend_url(source)
    except UnknownBackendError as exc:
        raise ConvertError(f"SOURCE {source!r}: {exc}") from exc
    if backend == "memory" or cache_name == ":memory:":
        raise ConvertError(f"SOURCE {source!r}: an in-memory cache has nothing to convert")
    if backend in ("sqlite", "filesystem") and cache_name is not None:
        return _source_path(cache_name)
    if backend == "redis":
        return RedisSource(options["url"], name or RC_DEFAULT_NAME)
    if backend in ("mongodb", "gridfs"):
        db_name = name or cache_name or RC_DEFAULT_NAME
        return MongoSource(options["host"], db_name, gridfs=backend == "gridfs")
    raise ConvertError(
        f"SOURCE {source!r}: a {backend} cache cannot be converted; accepted: {_ACCEPTED}"
    )
