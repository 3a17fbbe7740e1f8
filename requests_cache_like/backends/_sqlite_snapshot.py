"""Hits that skip the row's SELECT while the database is unchanged.

A thread remembers the raw values of the keys it read lately with the version of the
database it read them under; a read of such a key under the same version takes the
remembered value instead of selecting the row (and fetching its blob). Any commit anywhere
changes the version, and the next read goes to the table again; the value is then decoded
and verified as usual. Without WAL, or on an in-memory or shared connection, nothing is
remembered.

The version is SQLite's wal-index header, read from the database's shared memory without a
SQLite call (:mod:`._sqlite_shm`), once this thread's connection has read: a remembered hit
then makes no statement and no system call. Before that, or where there is no such file,
it is ``PRAGMA data_version``, which changes whenever another connection (of this process or
any other) has committed since this one last asked: a statement of its own, asked only for
keys the thread has read before, so a key read once (a miss, a new URL) costs its ``SELECT``
alone.
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


class KnownEntries:
    """Per thread, the raw values of recently read keys with the data version they were read
    under: at most ``max_entries`` and ``max_bytes`` per thread, the oldest going first."""

    def __init__(
        self, max_entries: int = 256, max_bytes: int = 8 << 20, max_value: int = 1 << 20
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_value = max_value
        self._local = threading.local()

    def _entries(self) -> dict[tuple[str, str], tuple[Version, bytes]]:
        entries: dict[tuple[str, str], tuple[Version, bytes]] | None = getattr(
            self._local, "entries", None
        )
        if entries is None:
            entries = self._local.entries = {}
            self._local.size = 0
        return entries

    def worth_a_version(self, table: str, key: str) -> bool:
        """True if this thread read ``key`` before (asking for the version may then save
        the read; for a key never read it only costs a statement)."""
        return (table, key) in self._entries()

    def get(self, table: str, key: str, version: Version) -> bytes | None:
        """The value of ``key`` this thread read under ``version``, if it is remembered."""
        if version is None:
            return None
        entry = self._entries().get((table, key))
        return entry[1] if entry is not None and entry[0] == version else None

    def remember(self, table: str, key: str, version: Version, value: object) -> None:
        """Remember ``value``, read under ``version`` (asked for before the read); without a
        version, remember only that ``key`` was read."""
        if type(value) is not bytes or len(value) > self.max_value:
            return
        if version is None:
            version, value = _SEEN, b""
        entries = self._entries()
        old = entries.pop((table, key), None)
        self._local.size += len(value) - (len(old[1]) if old is not None else 0)
        entries[table, key] = (version, value)
        while entries and (len(entries) > self.max_entries or self._local.size > self.max_bytes):
            self._local.size -= len(entries.pop(next(iter(entries)))[1])

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

    def clear(self) -> None:
        """Forget every thread's entries."""
        self._local = threading.local()

    def __len__(self) -> int:
        return len(self._entries())
