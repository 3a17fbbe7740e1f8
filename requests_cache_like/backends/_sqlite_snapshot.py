"""Hits that skip the row's SELECT while the database is unchanged.

The cache remembers the raw values of the keys read lately with the version of the database
they were read under (asked for before the read); a read of such a key under the same
version takes the remembered value instead of selecting the row (and fetching its blob). Any
commit anywhere changes the version, and the next read goes to the table again; the value is
then decoded and verified as usual. Inside a write, without WAL, or on an in-memory or
shared connection, nothing is remembered.

The version is SQLite's wal-index header, read from the database's shared memory without a
SQLite call (:mod:`._sqlite_shm`): the same for every connection, so what one thread read
answers every thread, and a remembered hit makes no statement and no system call. Where
there is no such file it is ``PRAGMA data_version``, which changes whenever another
connection (of this process or any other) has committed since this one last asked: a
connection's own number, so those values are remembered per thread, and asked for only for
keys the thread has read before, so a key read once (a miss, a new URL) costs its
``SELECT`` alone.
"""

from __future__ import annotations

import threading
from typing import TypeAlias

__all__ = ["KnownEntries", "Version"]

#: A database version: SQLite's wal-index header (bytes), a ``PRAGMA data_version`` (int),
#: or None when there is none to ask for.
Version: TypeAlias = bytes | int | None
#: The version of a key read without one: it matches no real version (they are >= 0).
_SEEN = -1


class _Store:
    """Remembered values by ``(table, key)``, the oldest first."""

    __slots__ = ("entries", "size")

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], tuple[Version, bytes]] = {}
        self.size = 0

    def put(
        self,
        name: tuple[str, str],
        version: Version,
        value: bytes,
        max_entries: int,
        max_bytes: int,
    ) -> None:
        entries = self.entries
        old = entries.pop(name, None)
        self.size += len(value) - (len(old[1]) if old is not None else 0)
        entries[name] = (version, value)
        while entries and (len(entries) > max_entries or self.size > max_bytes):
            self.size -= len(entries.pop(next(iter(entries)))[1])


class KnownEntries:
    """The raw values of recently read keys with the version they were read under: shared by
    every thread for the shared memory's versions (at most ``max_entries`` values and
    ``max_bytes``), per thread for ``PRAGMA data_version`` (at most ``thread_entries`` and
    ``thread_bytes`` each)."""

    def __init__(
        self,
        max_entries: int = 512,
        max_bytes: int = 32 << 20,
        max_value: int = 1 << 20,
        thread_entries: int = 256,
        thread_bytes: int = 8 << 20,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_value = max_value
        self.thread_entries = thread_entries
        self.thread_bytes = thread_bytes
        self._shared = _Store()
        self._lock = threading.Lock()  # for writes to the shared store; reads take none
        self._local = threading.local()

    def _thread_store(self) -> _Store:
        store: _Store | None = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = _Store()
        return store

    def _store(self, version: Version) -> _Store:
        return self._shared if type(version) is bytes else self._thread_store()

    def worth_a_version(self, table: str, key: str) -> bool:
        """True if this thread read ``key`` before (asking ``PRAGMA data_version`` may then
        save the read; for a key never read it only costs a statement)."""
        return (table, key) in self._thread_store().entries

    def get(self, table: str, key: str, version: Version) -> bytes | None:
        """The value of ``key`` read under ``version``, if it is remembered."""
        if version is None:
            return None
        entry = self._store(version).entries.get((table, key))
        return entry[1] if entry is not None and entry[0] == version else None

    def remember(self, table: str, key: str, version: Version, value: object) -> None:
        """Remember ``value``, read under ``version`` (asked for before the read); without a
        version, remember only that this thread read ``key``."""
        if type(value) is not bytes or len(value) > self.max_value:
            return
        if type(version) is bytes:
            with self._lock:
                self._shared.put((table, key), version, value, self.max_entries, self.max_bytes)
            return
        if version is None:
            version, value = _SEEN, b""
        self._thread_store().put(
            (table, key), version, value, self.thread_entries, self.thread_bytes
        )

    def missing(self, table: str, key: str, version: Version) -> bool:
        """True if this thread's last miss in ``table`` was ``key``, under ``version``: it is
        missing still."""
        missed: dict[str, tuple[str, Version]] = getattr(self._local, "missed", {})
        return version is not None and missed.get(table) == (key, version)

    def remember_missing(self, table: str, key: str, version: Version) -> None:
        """Note that ``key`` was not found in ``table`` under ``version`` (only the last miss
        per table and thread: a new URL's lookup is read again after its lease is taken)."""
        missed = getattr(self._local, "missed", None)
        if missed is None:
            missed = self._local.missed = {}
        missed[table] = (key, version)

    def forget_connection_versions(self) -> None:
        """Forget what every thread remembered under ``PRAGMA data_version`` (a number of one
        connection, meaningless to the next); the shared memory's versions stay true."""
        self._local = threading.local()

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._shared = _Store()
        self._local = threading.local()

    def __len__(self) -> int:
        return len(self._shared.entries) + len(self._thread_store().entries)
