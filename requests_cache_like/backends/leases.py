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
Redis      ``SET <namespace>:lease:<key> <owner> NX PX <ttl>``, by the lookup that misses
MongoDB    a document in ``rcl_leases``: insert, or take over an expired one
GridFS     the same, in the database of the GridFS bucket
DynamoDB   an item in namespace ``leases``, written with a condition expression
========== ==========================================================================
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import struct
import threading
import time
from hashlib import blake2b
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

__all__ = ["Leases", "NoLeases", "leases_for", "owner_token"]

_process_part = os.urandom(8).hex()
_counter = itertools.count()


def _new_process() -> None:
    global _process_part, _counter
    _process_part, _counter = os.urandom(8).hex(), itertools.count()


os.register_at_fork(after_in_child=_new_process)  # a child never reuses its parent's tokens


def owner_token() -> str:
    """A lease owner no other fetch holds, in this process or any other: a random part per
    process and a counter (cheaper than a random token per fetch)."""
    return f"{_process_part}-{next(_counter)}"


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
    from .server_leases import DynamoLeases, MongoLeases, RedisLeases

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
