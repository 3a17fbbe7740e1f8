"""A size index for stores that cannot rank their own entries: :class:`LRUDict`, a SQLite
table of ``key -> size`` with each key's last access time and use count, from which the
least recently used keys adding up to a number of bytes are picked for eviction.

The filesystem backend keeps one beside its files (:class:`~.filesystem_lru.LRUFileDict`).
Access times are nanoseconds from :func:`time.time_ns` (a clock callable can be injected),
with the row id breaking ties, so two writes in the same tick still keep their order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ._sqlite_connection import SQLiteConnection, quote_identifier
from .sqlite import get_cache_path

__all__ = ["EVICTION_POLICIES", "LRUDict", "normalize_eviction_policy"]

_SORT_COLUMNS = {"access_time": "access_time, rowid", "size": "size, rowid", "key": "key"}

#: Accepted names of eviction policies, mapped to the canonical short name.
EVICTION_POLICIES = {
    "lru": "lru",
    "least-recently-used": "lru",
    "lfu": "lfu",
    "least-frequently-used": "lfu",
}


def normalize_eviction_policy(policy: str) -> str:
    """Return ``"lru"`` or ``"lfu"`` for any accepted spelling; ValueError names the others."""
    try:
        return EVICTION_POLICIES[str(policy).lower()]
    except KeyError:
        accepted = ", ".join(repr(name) for name in EVICTION_POLICIES)
        raise ValueError(f"eviction_policy={policy!r}; accepted: {accepted}") from None


class LRUDict:
    """A persistent mapping of ``key -> size in bytes`` ordered by last use.

    :param db_path: Database file (``.sqlite`` is added to a name without a suffix).
    :param table_name: Table holding the index.
    :param use_temp: Put the file in the temporary directory.
    :param use_cache_dir: Put the file in the user cache directory.
    :param eviction_policy: ``"lru"`` (least recently used first) or ``"lfu"`` (least
        frequently used first, the older first among equals).
    :param clock: Returns the current time in nanoseconds (tests inject one).
    """

    def __init__(
        self,
        db_path: str | Path,
        table_name: str = "lru",
        use_temp: bool = False,
        use_cache_dir: bool = False,
        eviction_policy: str = "lru",
        clock: Callable[[], int] = time.time_ns,
        **kwargs: Any,
    ) -> None:
        self.db_path = get_cache_path(db_path, use_cache_dir=use_cache_dir, use_temp=use_temp)
        self.table_name = table_name
        self.eviction_policy = normalize_eviction_policy(eviction_policy)
        self._clock = clock
        self._table = quote_identifier(table_name)
        self._db = SQLiteConnection(self.db_path, wal=True, **kwargs)
        self._db.schema.append(
            f"CREATE TABLE IF NOT EXISTS {self._table} (key TEXT PRIMARY KEY, "
            "size INTEGER NOT NULL, access_time INTEGER NOT NULL, hits INTEGER NOT NULL DEFAULT 0)"
        )

    def __getitem__(self, key: str) -> int:
        with self._db.cursor() as cursor:
            row = cursor.execute(f"SELECT size FROM {self._table} WHERE key=?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return int(row[0])

    def __setitem__(self, key: str, size: int) -> None:
        with self._db.cursor(write=True) as cursor:
            cursor.execute(
                f"INSERT INTO {self._table} (key, size, access_time) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET size=excluded.size, "
                "access_time=excluded.access_time",
                (key, int(size), self._clock()),
            )

    def __delitem__(self, key: str) -> None:
        with self._db.cursor(write=True) as cursor:
            deleted = cursor.execute(f"DELETE FROM {self._table} WHERE key=?", (key,)).rowcount
        if not deleted:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        with self._db.cursor() as cursor:
            query = f"SELECT 1 FROM {self._table} WHERE key=?"
            return cursor.execute(query, (key,)).fetchone() is not None

    def __iter__(self) -> Iterator[str]:
        with self._db.cursor() as cursor:
            keys = [row[0] for row in cursor.execute(f"SELECT key FROM {self._table}")]
        return iter(keys)

    def __len__(self) -> int:
        return self.count()

    def count(self) -> int:
        """Number of keys in the index."""
        with self._db.cursor() as cursor:
            return int(cursor.execute(f"SELECT COUNT(*) FROM {self._table}").fetchone()[0])

    def total_size(self) -> int:
        """Sum of the sizes of every key."""
        with self._db.cursor() as cursor:
            query = f"SELECT COALESCE(SUM(size), 0) FROM {self._table}"
            return int(cursor.execute(query).fetchone()[0])

    def update_access_time(self, key: str) -> None:
        """Mark ``key`` as used now; KeyError if it is not in the index."""
        with self._db.cursor(write=True) as cursor:
            updated = cursor.execute(
                f"UPDATE {self._table} SET access_time=?, hits=hits+1 WHERE key=?",
                (self._clock(), key),
            ).rowcount
        if not updated:
            raise KeyError(key)

    def touch_many(self, accesses: Iterable[tuple[str, int]]) -> None:
        """Record a batch of ``(key, access time)`` uses in one transaction (keys no longer
        in the index are ignored)."""
        rows = [(when, key) for key, when in accesses]
        if not rows:
            return
        with self._db.cursor(write=True) as cursor:
            cursor.executemany(
                f"UPDATE {self._table} SET access_time=MAX(access_time, ?), hits=hits+1 "
                "WHERE key=?",
                rows,
            )

    def get_lru(self, total_size: int) -> list[str]:
        """The first keys in eviction order whose sizes add up to at least ``total_size``."""
        order = "access_time, rowid" if self.eviction_policy == "lru" else "hits, access_time"
        with self._db.cursor() as cursor:
            rows = cursor.execute(
                f"SELECT key FROM (SELECT key, size, SUM(size) OVER (ORDER BY {order} "
                f"ROWS UNBOUNDED PRECEDING) AS running FROM {self._table}) "
                "WHERE running - size < ?",
                (int(total_size),),
            ).fetchall()
        return [row[0] for row in rows]

    def victims(self, excess_bytes: int, excess_entries: int = 0) -> list[tuple[str, int]]:
        """``(key, size)`` of the first keys in eviction order whose sizes add up to at
        least ``excess_bytes`` and whose number is at least ``excess_entries``."""
        order = "access_time, rowid" if self.eviction_policy == "lru" else "hits, access_time"
        with self._db.cursor() as cursor:
            rows = cursor.execute(
                f"SELECT key, size FROM (SELECT key, size, SUM(size) OVER w AS running, "
                f"ROW_NUMBER() OVER w AS n FROM {self._table} "
                f"WINDOW w AS (ORDER BY {order} ROWS UNBOUNDED PRECEDING)) "
                "WHERE running - size < ? OR n <= ? ORDER BY n",
                (int(excess_bytes), int(excess_entries)),
            ).fetchall()
        return [(str(key), int(size)) for key, size in rows]

    def sorted(
        self, key: str = "access_time", reversed: bool = False, limit: int | None = None
    ) -> Iterator[str]:
        """Keys ordered by ``access_time``, ``size`` or ``key``."""
        try:
            column = _SORT_COLUMNS[key]
        except KeyError:
            raise ValueError(
                f"Invalid sort key: {key}; accepted: {', '.join(_SORT_COLUMNS)}"
            ) from None
        if reversed:
            column = ", ".join(f"{part} DESC" for part in column.split(", "))
        query = f"SELECT key FROM {self._table} ORDER BY {column}"
        params: tuple[int, ...] = ()
        if limit is not None:
            query, params = query + " LIMIT ?", (int(limit),)
        with self._db.cursor() as cursor:
            keys = [row[0] for row in cursor.execute(query, params)]
        return iter(keys)

    def bulk_delete(self, keys: Iterable[str]) -> None:
        """Remove every key in ``keys`` (absent ones are ignored)."""
        rows = [(key,) for key in keys]
        with self._db.cursor(write=True) as cursor:
            cursor.executemany(f"DELETE FROM {self._table} WHERE key=?", rows)

    def clear(self) -> None:
        """Remove every key."""
        with self._db.cursor(write=True) as cursor:
            cursor.execute(f"DELETE FROM {self._table}")

    def close(self) -> None:
        """Close the database connection (it reopens on next use)."""
        self._db.close()

    def __repr__(self) -> str:
        return f"<LRUDict {self.db_path!r} ({self.count()} keys, {self.total_size()} bytes)>"
