"""The SQLite backend's bookkeeping for size limits: beside each table, a small table
``{table}_usage (key, access_time, hits)``, written in the same transaction as each entry
(its last use) and emptied by a trigger when entries are deleted, and a log of uses
``{table}_uses``; and :class:`SQLiteUsage`, the totals (one ``SUM(LENGTH(value))``),
recorded uses (one transaction per batch) and victims (one window query) of a table.

A batch of uses is appended to the log, which costs a quarter of updating the uses of keys
spread over the table (SQLite rewrites the pages of each row it updates, and of the response
too if it were in the row); the log is folded into ``{table}_usage`` before victims are
chosen, and once it holds ``FOLD_ROWS`` uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sqlite import SQLiteDict
    from .usage import Uses

__all__ = ["FOLD_ROWS", "SQLiteUsage", "touch_statement", "usage_schema"]

#: Uses logged (by this process) before the log is folded into the usage table.
FOLD_ROWS = 65_536

_ORDER = {
    "lru": "COALESCE(u.access_time, 0), r.rowid",
    "lfu": "COALESCE(u.hits, 0), COALESCE(u.access_time, 0), r.rowid",
}


def usage_schema(table: str) -> list[str]:
    """The statements that create ``table``'s usage table and the trigger that keeps it."""
    return [
        f"CREATE TABLE IF NOT EXISTS {table}_usage (key TEXT PRIMARY KEY, "
        "access_time REAL, hits INTEGER NOT NULL DEFAULT 0)",
        f"CREATE TRIGGER IF NOT EXISTS {table}_usage_forget AFTER DELETE ON {table} "
        f"BEGIN DELETE FROM {table}_usage WHERE key = old.key; END",
        f"CREATE TABLE IF NOT EXISTS {table}_uses (key TEXT, access_time REAL, hits INTEGER)",
    ]


def touch_statement(table: str) -> str:
    """The statement run with each write: the entry's last use is now; its uses are kept."""
    return (
        f"INSERT INTO {table}_usage (key, access_time) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET access_time = excluded.access_time"
    )


class SQLiteUsage:
    """The bookkeeping of one :class:`~.sqlite.SQLiteDict` table."""

    def __init__(self, storage: SQLiteDict) -> None:
        self.storage = storage
        self._logged = 0

    def totals(self) -> tuple[int, int]:
        table = self.storage.table_name
        with self.storage._db.cursor() as cursor:
            row = cursor.execute(
                f"SELECT COALESCE(SUM(LENGTH(value)), 0), COUNT(*) FROM {table}"
            ).fetchone()
        return int(row[0]), int(row[1])

    def record(self, uses: Uses) -> None:
        rows = [(key, when, int(count)) for key, (when, count) in uses.items()]
        with self.storage._db.cursor(write=True) as cursor:
            cursor.executemany(f"INSERT INTO {self.storage.table_name}_uses VALUES (?, ?, ?)", rows)
        self._logged += len(rows)
        if self._logged >= FOLD_ROWS:
            self.fold()

    def fold(self) -> None:
        """Move the logged uses of entries still stored into the usage table."""
        table = self.storage.table_name
        with self.storage._db.cursor(write=True) as cursor:
            cursor.execute(
                f"INSERT INTO {table}_usage (key, access_time, hits) "
                f"SELECT key, MAX(access_time), SUM(hits) FROM {table}_uses "
                f"WHERE key IN (SELECT key FROM {table}) GROUP BY key "
                "ON CONFLICT(key) DO UPDATE SET "
                "access_time = MAX(COALESCE(access_time, 0), excluded.access_time), "
                "hits = hits + excluded.hits"
            )
            cursor.execute(f"DELETE FROM {table}_uses")
        self._logged = 0

    def victims(self, excess_bytes: int, excess_entries: int, policy: str) -> list[tuple[str, int]]:
        # Running totals in eviction order: a row is a victim while the rows before it do
        # not yet cover the excess in bytes, or while it is among the first excess_entries.
        self.fold()
        table = self.storage.table_name
        query = (
            "SELECT key, size FROM (SELECT r.key AS key, COALESCE(LENGTH(r.value), 0) AS size, "
            "SUM(COALESCE(LENGTH(r.value), 0)) OVER w AS running, ROW_NUMBER() OVER w AS n "
            f"FROM {table} AS r LEFT JOIN {table}_usage AS u ON u.key = r.key "
            f"WINDOW w AS (ORDER BY {_ORDER[policy]} ROWS UNBOUNDED PRECEDING)) "
            "WHERE running - size < ? OR n <= ? ORDER BY n"
        )
        with self.storage._db.cursor() as cursor:
            rows = cursor.execute(query, (excess_bytes, excess_entries)).fetchall()
        return [(str(key), int(size)) for key, size in rows]
