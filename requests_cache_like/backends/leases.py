"""Leases: "this key is being fetched", held in the storage itself so that processes and
machines sharing a cache send one origin request per key (see :mod:`..single_flight`).

A lease has an owner (a random token per fetch) and an expiry (``ttl`` seconds, the
session's ``lock_timeout``): a holder that dies blocks nobody longer than that. Each
backend keeps leases where its data is, with the cheapest atomic "create if absent or
expired" it has:

========== ==========================================================================
backend    lease
========== ==========================================================================
memory     none needed: the cache is one process's (threads wait on in-process flights)
SQLite     a byte-range lock on a companion file ``<db>-leases`` (Linux open file
           description lock; elsewhere a row in ``rcl_leases`` of that file)
filesystem a byte-range lock on ``<cache>/leases.lock`` (elsewhere a lock file
           ``<cache>/leases/<key>`` made with ``O_CREAT | O_EXCL``)
Redis      ``SET <namespace>:lease:<key> <owner> NX PX <ttl>``
MongoDB    a document in ``rcl_leases``: insert, or take over an expired one
GridFS     the same, in the database of the GridFS bucket
DynamoDB   an item in namespace ``leases``, written with a condition expression
========== ==========================================================================
"""

from __future__ import annotations

import os
import sqlite3
import struct
import threading
import time
from collections.abc import Callable
from hashlib import blake2b
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

__all__ = ["Leases", "NoLeases", "leases_for"]


class Leases(Protocol):
    """Take and give back the lease of a key."""

    def acquire(self, key: str, owner: str, ttl: float) -> bool:
        """Take the lease of ``key`` for ``ttl`` seconds if it is free or expired."""

    def release(self, key: str, owner: str) -> None:
        """Give the lease back if ``owner`` still holds it."""


class NoLeases:
    """For caches only one process uses (memory) or that cannot hold leases: always free."""

    def acquire(self, key: str, owner: str, ttl: float) -> bool:
        return True

    def release(self, key: str, owner: str) -> None:
        return None


class RangeLockLeases:
    """Exclusive locks on one byte of a lock file per key (its offset a hash of the key).

    An open file description lock is held by the descriptor that took it, so two fetches in
    one process exclude each other as two processes do, and the kernel drops it when its
    holder dies: a killed process blocks nobody, without waiting for an expiry. A lock
    costs an ``open`` and an ``fcntl`` (microseconds), against a write and a commit for a
    row. Two keys whose 56-bit hashes meet would only wait for each other, never mix.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._held: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    @staticmethod
    def supported() -> bool:
        """True where the kernel has open file description locks (Linux)."""
        try:
            import fcntl
        except ImportError:  # Windows
            return False
        return hasattr(fcntl, "F_OFD_SETLK")

    @staticmethod
    def _request(key: str) -> bytes:
        import fcntl

        offset = int.from_bytes(blake2b(key.encode(), digest_size=7).digest(), "big")
        # struct flock: type, whence, start, length, pid (0 for these locks)
        return struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, offset, 1, 0)

    def acquire(self, key: str, owner: str, ttl: float) -> bool:
        import fcntl

        handle = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.fcntl(handle, fcntl.F_OFD_SETLK, self._request(key))
        except OSError:
            os.close(handle)
            return False  # held by another descriptor
        with self._lock:
            self._held[key, owner] = handle
        return True

    def release(self, key: str, owner: str) -> None:
        with self._lock:
            handle = self._held.pop((key, owner), None)
        if handle is not None:
            os.close(handle)  # closing the descriptor drops its lock


class SQLiteLeases:
    """Rows in a companion database: a lease is gone with a crash anyway, so its file skips
    fsync, and a lease write never waits behind the cache's own transactions."""

    def __init__(self, db_path: str) -> None:
        self.path = f"{db_path}-leases"
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None or self._pid != os.getpid():
            connection = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS rcl_leases "
                "(key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires REAL NOT NULL)"
            )
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    def acquire(self, key: str, owner: str, ttl: float) -> bool:
        now = time.time()
        with self._lock:
            cursor = self._connect().execute(
                "INSERT INTO rcl_leases VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                "owner=excluded.owner, expires=excluded.expires WHERE rcl_leases.expires < ?",
                (key, owner, now + ttl, now),
            )
            return cursor.rowcount == 1

    def release(self, key: str, owner: str) -> None:
        with self._lock:
            self._connect().execute(
                "DELETE FROM rcl_leases WHERE key = ? AND owner = ?", (key, owner)
            )


class FileLeases:
    """Lock files holding ``owner expiry``. An expired file is moved aside with a rename
    (atomic: one taker wins) before a new one is made."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / quote(key, safe="")

    def acquire(self, key: str, owner: str, ttl: float) -> bool:
        path = self._path(key)
        self.directory.mkdir(parents=True, exist_ok=True)
        for _attempt in range(2):
            try:
                handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if not self._take_over_expired(path, owner):
                    return False
                continue
            with os.fdopen(handle, "w", encoding="utf-8") as lease:
                lease.write(f"{owner} {time.time() + ttl}")
            return True
        return False

    @staticmethod
    def _take_over_expired(path: Path, owner: str) -> bool:
        try:
            _holder, _, expires = path.read_text(encoding="utf-8").partition(" ")
            if float(expires or 0) >= time.time():
                return False
            path.rename(path.with_name(f"{path.name}.expired-{owner}"))
        except (OSError, ValueError):
            return False  # taken or removed meanwhile: not ours this time
        path.with_name(f"{path.name}.expired-{owner}").unlink(missing_ok=True)
        return True

    def release(self, key: str, owner: str) -> None:
        path = self._path(key)
        try:
            if path.read_text(encoding="utf-8").partition(" ")[0] == owner:
                path.unlink(missing_ok=True)
        except OSError:
            pass


class RedisLeases:
    """``SET NX PX``; released by a script that deletes the key only for its owner."""

    _RELEASE = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
        "else return 0 end"
    )

    def __init__(self, connection: Any, namespace: str) -> None:
        self.connection = connection
        self.prefix = f"{namespace}:lease:"

    def acquire(self, key: str, owner: str, ttl: float) -> bool:
        milliseconds = max(1, int(ttl * 1000))
        return bool(self.connection.set(self.prefix + key, owner, nx=True, px=milliseconds))

    def release(self, key: str, owner: str) -> None:
        self.connection.eval(self._RELEASE, 1, self.prefix + key, owner)

    def release_with_write(self, storage: Any, key: str, owner: str) -> Callable[[], bool]:
        """Give the lease back in the round trip of ``storage``'s next write of ``key`` (a
        store after the fetch); return a function that says whether that happened."""
        released: list[bool] = []

        def add(pipeline: Any) -> None:
            pipeline.eval(self._RELEASE, 1, self.prefix + key, owner)

        storage.ride_next_write(key, add, lambda: released.append(True))
        return lambda: bool(released)


class MongoLeases:
    """Documents ``{_id: key, owner, expires}``: inserted, or an expired one taken over
    with a conditional update."""

    def __init__(self, database: Any) -> None:
        self.collection = database["rcl_leases"]

    def acquire(self, key: str, owner: str, ttl: float) -> bool:
        from pymongo.errors import DuplicateKeyError

        now = time.time()
        try:
            self.collection.insert_one({"_id": key, "owner": owner, "expires": now + ttl})
            return True
        except DuplicateKeyError:
            result = self.collection.update_one(
                {"_id": key, "expires": {"$lt": now}},
                {"$set": {"owner": owner, "expires": now + ttl}},
            )
            return bool(result.modified_count)

    def release(self, key: str, owner: str) -> None:
        self.collection.delete_one({"_id": key, "owner": owner})


class DynamoLeases:
    """Items in namespace ``leases`` of the cache's table, put only if absent or expired;
    their ``ttl`` attribute lets DynamoDB remove forgotten ones."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage

    def _key(self, key: str) -> dict[str, Any]:
        return {"namespace": {"S": "leases"}, "key": {"S": key}}

    def acquire(self, key: str, owner: str, ttl: float) -> bool:
        now = time.time()
        client = self.storage.client
        item = {
            **self._key(key),
            "owner": {"S": owner},
            "expires": {"N": repr(now + ttl)},
            "ttl": {"N": str(int(now + ttl) + 60)},
        }
        try:
            client.put_item(
                TableName=self.storage.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(#k) OR #e < :now",
                ExpressionAttributeNames={"#k": "key", "#e": "expires"},
                ExpressionAttributeValues={":now": {"N": repr(now)}},
            )
        except Exception as exc:  # botocore's ClientError, not imported at module level
            if _dynamo_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, key: str, owner: str) -> None:
        try:
            self.storage.client.delete_item(
                TableName=self.storage.table_name,
                Key=self._key(key),
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except Exception as exc:
            if _dynamo_code(exc) != "ConditionalCheckFailedException":
                raise


def _dynamo_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _make(cache: Any) -> Leases:
    """The leases for ``cache``'s backend (by the storages it has)."""
    from .dynamodb import DynamoDbCache
    from .filesystem import FileCache
    from .gridfs import GridFSCache
    from .mongodb import MongoCache
    from .redis import RedisCache
    from .sqlite import SQLiteCache

    ranges = RangeLockLeases.supported()
    if isinstance(cache, SQLiteCache):
        path = str(cache.db_path)
        if path == ":memory:":
            return NoLeases()
        return RangeLockLeases(f"{path}-leases") if ranges else SQLiteLeases(path)
    if isinstance(cache, FileCache):
        directory = Path(cache.cache_dir)
        if ranges:
            return RangeLockLeases(directory / "leases.lock")
        return FileLeases(directory / "leases")
    if isinstance(cache, RedisCache):
        return RedisLeases(cache.connection, cache.responses.namespace)
    if isinstance(cache, (MongoCache, GridFSCache)):
        return MongoLeases(cache.connection[cache.cache_name])
    if isinstance(cache, DynamoDbCache):
        return DynamoLeases(cache.responses)
    return NoLeases()


def leases_for(cache: Any) -> Leases:
    """The leases of ``cache`` (made on first use and kept on the cache object)."""
    leases: Leases | None = cache.__dict__.get("_leases")
    if leases is None:
        leases = cache.__dict__["_leases"] = _make(cache)
    return leases
