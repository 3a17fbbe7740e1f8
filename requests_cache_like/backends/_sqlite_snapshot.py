"""Hits that skip the row's SELECT while the database is unchanged.

``PRAGMA data_version`` on a connection changes whenever another connection (of this process
or any other) has committed since it was last asked; the cache writes through one connection
and reads through one per thread, so for a reading thread every change counts. A thread
remembers the raw value of the keys it read lately with the version it read them under; a
read of such a key under the same version takes the remembered value instead of selecting
the row (and of fetching a blob). The version is asked for only for keys the thread has read
before: a key read once (a miss, a new URL) costs its ``SELECT`` alone. Any commit anywhere
changes the version, and the next read goes to the table again; the value is then decoded
and verified as usual. Without WAL, or on an in-memory or shared connection, nothing is
remembered.

The version is asked for with a statement of its own, so this saves the row lookup and the
blob's copy, not the statement: reading SQLite's shared memory directly would save that too,
but opening its ``-shm`` file from Python would drop SQLite's own POSIX locks on it.
"""

from __future__ import annotations

import threading

__all__ = ["KnownEntries"]

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

    def _entries(self) -> dict[tuple[str, str], tuple[int, bytes]]:
        entries: dict[tuple[str, str], tuple[int, bytes]] | None = getattr(
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

    def get(self, table: str, key: str, version: int | None) -> bytes | None:
        """The value of ``key`` this thread read under ``version``, if it is remembered."""
        if version is None:
            return None
        entry = self._entries().get((table, key))
        return entry[1] if entry is not None and entry[0] == version else None

    def remember(self, table: str, key: str, version: int | None, value: object) -> None:
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

    def clear(self) -> None:
        """Forget every thread's entries."""
        self._local = threading.local()

    def __len__(self) -> int:
        return len(self._entries())
