"""SQLite backend: the default. One file, no server, safe across threads and processes."""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from tempfile import gettempdir
from typing import TYPE_CHECKING, Any

from platformdirs import user_cache_dir

from ..exceptions import StorageError
from ..models import CachedResponse
from ..models.response import utcnow
from ..serializers import init_serializer
from ..settings import DEFAULT_CACHE_NAME
from ._sqlite_connection import CONNECT_KWARGS as CONNECT_KWARGS
from ._sqlite_connection import DEFAULT_BUSY_TIMEOUT as DEFAULT_BUSY_TIMEOUT
from ._sqlite_connection import SQLiteConnection
from ._sqlite_usage import touch_statement, usage_schema
from .base import BaseCache, BaseStorage, reject_unknown_kwargs

if TYPE_CHECKING:
    from ..serializers.pipeline import SerializerType, StageLike

logger = logging.getLogger(__name__)

__all__ = ["SQLiteCache", "SQLiteConnection", "SQLiteDict", "get_cache_path"]

#: requests-cache's name for an in-memory database (``use_memory=True``).
MEMORY_URI = "file::memory:?cache=shared"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_COLUMNS = frozenset({"key", "value", "expires", "created_at", "size"})
_SORT_COLUMNS = {"key": "key", "expires": "expires", "created_at": "created_at", "size": "size"}


def get_cache_path(
    db_path: str | Path,
    use_cache_dir: bool = False,
    use_temp: bool = False,
    use_memory: bool = False,
) -> str:
    """The database path for ``db_path`` (``.sqlite`` added to a bare name) in the user cache
    directory, the temp directory, or in memory, as the options say."""
    if use_memory or str(db_path) in (":memory:", MEMORY_URI):
        return ":memory:"
    path = Path(db_path).expanduser()
    if use_cache_dir:
        path = Path(user_cache_dir("requests_cache_like")) / path
    elif use_temp:
        path = Path(gettempdir()) / path
    if not path.suffix:
        path = path.with_suffix(".sqlite")
    # Absolute, so a connection reopened after close() finds the same file even if the
    # working directory has changed since.
    path = path.absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def _columns(cursor: sqlite3.Cursor, table: str) -> set[str]:
    return {row[1] for row in cursor.execute(f"PRAGMA table_info({table})")}


def _own_table(cursor: sqlite3.Cursor, table: str, db_path: str) -> str:
    """Return the table this cache keeps its ``table`` entries in.

    ``table`` itself when it is absent or has this package's layout. When it has another
    layout (requests-cache names its tables ``responses`` and ``redirects`` too), it is left
    exactly as it is, for the program that wrote it, and ``rcl_{table}`` is used instead.
    A requests-cache table that an earlier version of this package renamed to
    ``{table}_legacy`` is given its name back.
    """
    ours = f"rcl_{table}"
    columns = _columns(cursor, table)
    legacy = _columns(cursor, f"{table}_legacy")
    if columns >= _COLUMNS and legacy and not legacy >= _COLUMNS and not _columns(cursor, ours):
        cursor.execute(f"ALTER TABLE {table} RENAME TO {ours}")
        cursor.execute(f"ALTER TABLE {table}_legacy RENAME TO {table}")
        cursor.execute(f"DROP INDEX IF EXISTS {table}_expires")
        logger.warning(
            "SQLite table %r in %s belongs to another program (requests-cache?): gave it its "
            "name back from %r; this cache's entries are in %r",
            table,
            db_path,
            f"{table}_legacy",
            ours,
        )
        return ours
    if not columns or columns >= _COLUMNS:
        return table
    theirs_too = _columns(cursor, ours)
    if theirs_too and not theirs_too >= _COLUMNS:
        raise StorageError(
            f"SQLite tables {table!r} and {ours!r} in {db_path} both have another layout: "
            "choose another file for this cache"
        )
    logger.info(
        "SQLite table %r in %s has another layout (requests-cache?): left as it is; this "
        "cache's entries are in %r",
        table,
        db_path,
        ours,
    )
    return ours


class SQLiteDict(BaseStorage):
    """A table in a SQLite database used as a storage: columns ``key``, ``value``, ``expires``
    and ``created_at`` (Unix times, for ``count``, ``sorted`` and expiry scans) and ``size``.
    Statements bind their parameters; the table name is checked to be an identifier."""

    def __init__(
        self,
        db_path: str | Path = DEFAULT_CACHE_NAME,
        table_name: str = "http_cache",
        serializer: SerializerType | StageLike = None,
        connection: SQLiteConnection | sqlite3.Connection | None = None,
        use_cache_dir: bool = False,
        use_temp: bool = False,
        use_memory: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(serializer=serializer)
        if not _IDENTIFIER.match(table_name):
            raise ValueError(f"table_name={table_name!r}; accepted: letters, digits and _")
        #: The table asked for; ``table_name`` is the one used (see :func:`_own_table`).
        self.requested_table = table_name
        self.table_name = table_name
        if isinstance(connection, sqlite3.Connection):
            # requests-cache shares a table's sqlite3 connection with another table this way.
            connection = SQLiteConnection.wrapping(connection)
        if connection is None:
            path = get_cache_path(db_path, use_cache_dir, use_temp, use_memory)
            connection = SQLiteConnection(path, **kwargs)
        elif kwargs:
            reject_unknown_kwargs("SQLiteDict", kwargs)
        self._db = connection
        self.db_path = connection.db_path
        self.init_db()

    def init_db(self) -> None:
        """Create the table and its index if they do not exist, beside (never over) a
        same-named table of another layout."""
        with self._db.cursor(write=True) as cursor:
            self.table_name = _own_table(cursor, self.requested_table, self.db_path)
            table = self.table_name
            statements = [
                f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, "
                "value BLOB, expires REAL, created_at REAL, size INTEGER)",
                f"CREATE INDEX IF NOT EXISTS {table}_expires ON {table} (expires)",
                *usage_schema(table),  # last use and number of uses, for size limits
            ]
            for statement in statements:
                cursor.execute(statement)
        self._db.schema.extend(s for s in statements if s not in self._db.schema)
        column = "CAST(value AS BLOB)" if self.serializer is None else "value"  # see get_raw
        self._sql_get = f"SELECT {column}, typeof(value) FROM {table} WHERE key = ?"
        self._sql_set = (
            f"INSERT OR REPLACE INTO {table} (key, value, expires, created_at, size) "
            "VALUES (?, ?, ?, ?, ?)"
        )
        self._sql_touch = touch_statement(table)

    @contextmanager
    def bulk_commit(self) -> Iterator[None]:
        """requests-cache's batch writes: each write is one short transaction here already."""
        yield

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying :class:`sqlite3.Connection`."""
        return self._db.connection

    def get_raw(self, key: str) -> Any:
        table = self.table_name
        token, known = self._db.remembered(table, key)
        if known is not None:
            return known
        if self._db.known.missing(table, key, token):
            raise KeyError(key)
        row = self._db.fetch_one(self._sql_get, (key,))
        if row is None:
            self._db.known.remember_missing(table, key, token)
            raise KeyError(key)
        value, kind = row
        if kind == "text" and isinstance(value, bytes):  # an alias: not UTF-8 is a miss
            return value.decode("utf-8", "replace")
        self._db.known.remember(table, key, token, value)
        return value

    def set_raw(
        self,
        key: str,
        value: Any,
        expires: datetime | None = None,
        created_at: datetime | None = None,
        size: int = 0,
    ) -> None:
        stored = sqlite3.Binary(value) if isinstance(value, bytes) else value
        expires_at = expires.timestamp() if expires is not None else None
        created = created_at.timestamp() if created_at is not None else None
        with self._db.cursor(write=True) as cursor:
            cursor.execute(self._sql_set, (key, stored, expires_at, created, size))
            if self.limits is not None:  # without limits, rowid order is the write order
                cursor.execute(self._sql_touch, (key, time.time()))

    def __delitem__(self, key: str) -> None:
        with self._db.cursor(write=True) as cursor:
            deleted = cursor.execute(
                f"DELETE FROM {self.table_name} WHERE key = ?", (key,)
            ).rowcount
        if not deleted:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        with self._db.cursor() as cursor:
            return (
                cursor.execute(f"SELECT 1 FROM {self.table_name} WHERE key = ?", (key,)).fetchone()
                is not None
            )

    def __iter__(self) -> Iterator[str]:
        with self._db.cursor() as cursor:
            keys = [row[0] for row in cursor.execute(f"SELECT key FROM {self.table_name}")]
        return iter(keys)

    def __len__(self) -> int:
        return self.count()

    def bulk_delete(
        self, keys: Iterable[str] | None = None, values: Iterable[Any] | None = None
    ) -> None:
        """Delete many keys (or, for the redirects table, every key pointing at ``values``)
        in one transaction."""
        column = "key" if values is None else "value"
        items = list(keys if values is None else values)  # type: ignore[arg-type]
        with self._db.cursor(write=True) as cursor:
            # SQLite limits bound parameters per statement; delete in chunks.
            for start in range(0, len(items), 500):
                chunk = items[start : start + 500]
                marks = ",".join("?" * len(chunk))
                cursor.execute(f"DELETE FROM {self.table_name} WHERE {column} IN ({marks})", chunk)

    def clear(self) -> None:
        with self._db.cursor(write=True) as cursor:
            cursor.execute(f"DELETE FROM {self.table_name}")

    def count(self, expired: bool = True) -> int:
        """Return the number of entries; with ``expired=False``, only unexpired ones."""
        sql = f"SELECT COUNT(*) FROM {self.table_name}"
        params: tuple[Any, ...] = ()
        if not expired:
            sql += " WHERE expires IS NULL OR expires > ?"
            params = (utcnow().timestamp(),)
        with self._db.cursor() as cursor:
            return int(cursor.execute(sql, params).fetchone()[0])

    def sorted(
        self,
        key: str = "expires",
        reversed: bool = False,
        limit: int | None = None,
        expired: bool = True,
    ) -> Iterator[Any]:
        """Yield values ordered by ``key`` (``expires``, ``created_at``, ``size`` or ``key``);
        entries that never expire sort last."""
        if key not in _SORT_COLUMNS:
            raise ValueError(f"sorted(key={key!r}); accepted: {', '.join(_SORT_COLUMNS)}")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise ValueError(f"sorted(limit={limit!r}); accepted: an int >= 0 or None")
        direction = "DESC" if reversed else "ASC"
        sql = f"SELECT key, value FROM {self.table_name}"
        params: list[Any] = []
        if not expired:
            sql += " WHERE expires IS NULL OR expires > ?"
            params.append(utcnow().timestamp())
        sql += f" ORDER BY {_SORT_COLUMNS[key]} IS NULL, {_SORT_COLUMNS[key]} {direction}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._db.cursor() as cursor:
            rows = cursor.execute(sql, params).fetchall()
        for row_key, value in rows:
            try:
                item = self.deserialize(row_key, value)
            except Exception:
                continue
            if isinstance(item, CachedResponse):
                item.__dict__["cache_key"] = row_key  # as on every other read
            yield item

    def size(self) -> int:
        """Return the database file's size in bytes."""
        with self._db.cursor() as cursor:
            pages = cursor.execute("PRAGMA page_count").fetchone()[0]
            page_size = cursor.execute("PRAGMA page_size").fetchone()[0]
        return int(pages * page_size)

    def vacuum(self) -> None:
        """Reclaim the space of deleted entries."""
        with self._db.lock:
            self.connection.execute("VACUUM")

    def close(self) -> None:
        self._db.close()


class SQLiteCache(BaseCache):
    """SQLite cache backend: responses and redirects in two tables of one database file.

    :param db_path: File path or name; ``.sqlite`` is added when there is no suffix.
    :param use_cache_dir: Put the file in the user's cache directory (platformdirs).
    :param use_temp: Put the file in the temporary directory.
    :param use_memory: Keep the database in memory (lost when the cache is closed).
    :param busy_timeout: Milliseconds to wait for another writer before raising
        :class:`StorageBusyError` (default 30000).
    :param fast_save: ``PRAGMA synchronous=OFF``: faster writes, less durable on power loss.
    :param wal: Write-ahead logging (default): readers and a writer do not block each other.
    :param durable: ``PRAGMA synchronous=FULL``: every write survives a power loss too.
    :param kwargs: Extra :func:`sqlite3.connect` arguments (``detect_types``, ``factory``,
        ``cached_statements``, ``uri``, ``isolation_level``).
    """

    def __init__(
        self,
        db_path: str | Path = DEFAULT_CACHE_NAME,
        serializer: SerializerType | StageLike = None,
        use_cache_dir: bool = False,
        use_temp: bool = False,
        use_memory: bool = False,
        busy_timeout: int | None = None,
        fast_save: bool = False,
        wal: bool = True,
        durable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(cache_name=str(db_path))
        path = get_cache_path(db_path, use_cache_dir, use_temp, use_memory)
        self._connection = SQLiteConnection(path, busy_timeout, fast_save, wal, durable, **kwargs)
        self.responses: SQLiteDict = SQLiteDict(
            path,
            table_name="responses",
            serializer=init_serializer(serializer),
            connection=self._connection,
        )
        self.redirects: SQLiteDict = SQLiteDict(
            path, table_name="redirects", connection=self._connection
        )

    @property
    def db_path(self) -> str:
        """Path of the database file (``:memory:`` for an in-memory database)."""
        return self._connection.db_path

    def count(self, expired: bool = True) -> int:
        """Number of stored responses; with ``expired=False``, only unexpired ones."""
        return self.responses.count(expired=expired)

    def sorted(
        self,
        key: str = "expires",
        reversed: bool = False,
        limit: int | None = None,
        expired: bool = True,
    ) -> Iterator[CachedResponse]:
        """Stored responses ordered by ``key``; see :meth:`SQLiteDict.sorted`."""
        return self.responses.sorted(key=key, reversed=reversed, limit=limit, expired=expired)

    def delete(self, *keys: str, vacuum: bool = False, **kwargs: Any) -> None:
        """Delete responses as :meth:`BaseCache.delete`; ``vacuum=True`` then shrinks the file."""
        super().delete(*keys, **kwargs)
        if vacuum:
            self.responses.vacuum()

    def clear(self) -> None:
        """Delete everything; if the file is unreadable, start it afresh."""
        try:
            super().clear()
        except (StorageError, OSError):
            self.close()
            if self.db_path != ":memory:":
                Path(self.db_path).unlink(missing_ok=True)
            self.responses.init_db()
            self.redirects.init_db()

    def close(self) -> None:
        self._connection.close()
