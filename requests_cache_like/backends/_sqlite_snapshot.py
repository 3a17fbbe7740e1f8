"""Hits without a SQL statement while the database is unchanged.

In WAL mode SQLite keeps a *wal-index header* at the start of the ``-shm`` file, which every
connection maps into memory: two copies of 48 bytes that every commit rewrites (its change
counter, the last frame, the WAL's salts; see SQLite's "WAL-index format"). Two equal,
initialised copies are a snapshot token: while it is the same, no process has committed
anything, so an entry read earlier is still exactly what the table holds.

:class:`KnownEntries` maps the header read-only and remembers the raw value of recently read
keys with the token they were read under; a read of such a key under the same token needs no
statement. That matters with threads: every SQL statement releases the GIL around SQLite's
work, and with many threads each release costs a hand-over to another thread. Any change, in
any process, changes the token, and the next read goes to SQLite again; the value is then
decoded and verified as usual (a damaged entry stays a miss). Without a ``-shm`` file (not
WAL, an in-memory database, ``locking_mode=EXCLUSIVE``) nothing is remembered.
"""

from __future__ import annotations

import mmap
import os
import threading

__all__ = ["KnownEntries"]

_HEADER = 48  # one copy of the wal-index header
_MAPPED = 2 * _HEADER
_IS_INIT = 12  # offset of the isInit byte in a copy


class KnownEntries:
    """Raw values of recently read keys, valid while the database's snapshot token holds."""

    def __init__(self, db_path: str, max_entries: int = 1024, max_value: int = 1 << 20) -> None:
        self.shm_path = f"{db_path}-shm"
        self.max_entries = max_entries
        self.max_value = max_value
        self._map: mmap.mmap | None = None
        self._pid = 0
        self._entries: dict[tuple[str, str], tuple[bytes, bytes]] = {}
        self._lock = threading.Lock()

    def token(self) -> bytes | None:
        """The current snapshot token, or None if it cannot be read (nothing is then used)."""
        view = self._map if self._pid == os.getpid() else self._open()
        if view is None:
            return None
        try:
            first, second = view[:_HEADER], view[_HEADER:_MAPPED]
        except ValueError:  # closed meanwhile
            return None
        if first != second or first[_IS_INIT] != 1:
            return None  # being written, or not initialised: ask SQLite
        return first

    def _open(self) -> mmap.mmap | None:
        with self._lock:
            if self._pid == os.getpid():
                return self._map
            self._map, self._pid = None, os.getpid()
            self._entries = {}
            try:
                with open(self.shm_path, "rb") as file:
                    if os.fstat(file.fileno()).st_size < _MAPPED:
                        return None
                    self._map = mmap.mmap(file.fileno(), _MAPPED, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                return None
            return self._map

    def get(self, table: str, key: str, token: bytes | None) -> bytes | None:
        """The value of ``key`` read under ``token``, if it is remembered."""
        if token is None:
            return None
        entry = self._entries.get((table, key))
        return entry[1] if entry is not None and entry[0] == token else None

    def remember(self, table: str, key: str, token: bytes | None, value: object) -> None:
        """Remember ``value``, read under ``token`` (taken before the read)."""
        if token is None or type(value) is not bytes or len(value) > self.max_value:
            return
        with self._lock:
            self._entries[table, key] = (token, value)
            while len(self._entries) > self.max_entries:
                self._entries.pop(next(iter(self._entries)))

    def close(self) -> None:
        """Unmap the header and forget every entry."""
        with self._lock:
            if self._map is not None and self._pid == os.getpid():
                self._map.close()
            self._map, self._pid, self._entries = None, 0, {}
