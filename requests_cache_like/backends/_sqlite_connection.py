"""The connection shared by a SQLite cache's tables: :class:`SQLiteConnection`, which opens
the database file lazily (and again in a forked child), serializes statements under a lock and
turns SQLite's errors into :class:`StorageBusyError` and :class:`StorageError`, together with
the connection defaults it applies.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..exceptions import StorageBusyError, StorageError
from ._sqlite_shm import SharedMemory, shared_memory
from ._sqlite_snapshot import KnownEntries, Version
from .storage import reject_unknown_kwargs

__all__ = ["CONNECT_KWARGS", "DEFAULT_BUSY_TIMEOUT", "SQLiteConnection", "quote_identifier"]

#: Default time to wait for another writer, in milliseconds.
DEFAULT_BUSY_TIMEOUT = 30_000
#: Keyword arguments passed through to :func:`sqlite3.connect`.
CONNECT_KWARGS = frozenset(
    {"detect_types", "isolation_level", "factory", "cached_statements", "uri"}
)


def quote_identifier(name: str) -> str:
    """Quote a table or index name for SQL, so any name (even a keyword) is one identifier."""
    return '"' + str(name).replace('"', '""') + '"'


class SQLiteConnection:
    """One connection to a database file, shared by the cache's tables and guarded by a lock,
    for writes; in WAL mode each thread reads through a connection of its own, without the
    lock, so that hits in many threads do not queue behind one another.

    A forked child process opens its own connections on first use (SQLite connections must
    not cross a fork).
    """

    def __init__(
        self,
        db_path: str,
        busy_timeout: int | None = None,
        fast_save: bool = False,
        wal: bool = True,
        durable: bool = False,
        **connect_kwargs: Any,
    ) -> None:
        timeout = connect_kwargs.pop("timeout", None)
        if timeout is not None and busy_timeout is None:
            # requests-cache passes sqlite3.connect's timeout (seconds): the same wait.
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
                raise ValueError(f"timeout={timeout!r}; accepted: seconds as a number >= 0")
            busy_timeout = round(timeout * 1000)
        # One connection shared by threads behind a lock: sqlite3's thread check must be off.
        connect_kwargs.pop("check_same_thread", None)
        reject_unknown_kwargs(
            "SQLiteCache",
            {k: v for k, v in connect_kwargs.items() if k not in CONNECT_KWARGS},
            [
                "busy_timeout",
                "timeout",
                "check_same_thread",
                "fast_save",
                "wal",
                "durable",
                "use_cache_dir",
                "use_temp",
                "use_memory",
                "serializer",
                *CONNECT_KWARGS,
            ],
        )
        if busy_timeout is not None and (
            isinstance(busy_timeout, bool) or not isinstance(busy_timeout, int) or busy_timeout < 0
        ):
            raise ValueError(
                f"busy_timeout={busy_timeout!r}; accepted: milliseconds as an int >= 0"
            )
        self.db_path = db_path
        self.busy_timeout = DEFAULT_BUSY_TIMEOUT if busy_timeout is None else busy_timeout
        self.fast_save = fast_save
        self.wal = wal
        self.durable = durable
        self.connect_kwargs = connect_kwargs
        self.lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._shared = False  # a connection of the caller's (wrapping): no readers of ours
        self._readers: dict[int, sqlite3.Connection] = {}
        self._readers_pid = 0
        #: .writing: this thread is inside a write
        self._local = threading.local()
        #: (pid, the database's shared memory or None), found once the main connection read
        self._trusted: tuple[int, SharedMemory | None] | None = None
        self.known = KnownEntries()
        #: CREATE statements of the tables on this connection, replayed on every new
        #: connection (an in-memory database starts empty again after close()).
        self.schema: list[str] = []

    @classmethod
    def wrapping(cls, connection: sqlite3.Connection) -> SQLiteConnection:
        """Share an open :class:`sqlite3.Connection` (its file is reopened in a forked child)."""
        row = connection.execute("PRAGMA database_list").fetchone()
        shared = cls(row[2] or ":memory:")
        shared._connection, shared._pid = connection, os.getpid()
        shared._shared = True
        return shared

    def _open(self) -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(
            self.db_path,
            timeout=self.busy_timeout / 1000,
            check_same_thread=False,
            **{"isolation_level": None, **self.connect_kwargs},
        )
        return connection

    def _connect(self) -> sqlite3.Connection:
        connection = self._open()
        if self.wal and self.db_path != ":memory:":
            connection.execute("PRAGMA journal_mode=WAL")
        if self.fast_save:
            connection.execute("PRAGMA synchronous=OFF")
        elif self.durable:
            connection.execute("PRAGMA synchronous=FULL")
        elif self.wal:
            # A killed process never leaves a torn or unreadable cache; a power loss may undo the
            # last commits (the file stays consistent). A miss then costs no fsync.
            connection.execute("PRAGMA synchronous=NORMAL")
        for statement in self.schema:
            connection.execute(statement)
        return connection

    @property
    def connection(self) -> sqlite3.Connection:
        """The open connection (made on first use, and again in a forked child)."""
        pid = os.getpid()
        if self._connection is None or self._pid != pid:
            with self.lock:
                if self._connection is None or self._pid != pid:
                    self._connection = self._connect()
                    self._pid = pid
        return self._connection

    def snapshot(self) -> int | None:
        """This thread's data version (see :mod:`._sqlite_snapshot`), or None."""
        with self._errors():
            reader = self._reader()
            if reader is None:
                return None
            return int(reader.execute("PRAGMA data_version").fetchone()[0])

    def remembered(self, table: str, key: str) -> tuple[Version, bytes | None]:
        """``(version, value)``: the value of ``key`` if it may be taken from memory, and the
        version to remember a fresh read under (asked for before that read). The version
        comes from SQLite's shared memory (:mod:`._sqlite_shm`), else from ``PRAGMA
        data_version``, asked only for a key this thread read before; inside a write there
        is none (what it reads may yet be rolled back)."""
        if getattr(self._local, "writing", False):
            return None, None
        known = self.known
        view = self._view()
        if view is not None:
            version: Version = view.marker()
        else:
            version = self.snapshot() if known.worth_a_version(table, key) else None
        return version, known.get(table, key, version)

    def _view(self) -> SharedMemory | None:
        """The database's shared memory, once this process's main connection has read: that
        connection then holds SQLite's shared lock on the file until it closes, so nobody can
        remove it or start it afresh, and the file at its path is the one SQLite uses."""
        trusted = self._trusted
        pid = os.getpid()
        if trusted is None or trusted[0] != pid:  # first use, or a forked child
            trusted = self._trusted = (pid, self._find_view())
        return trusted[1]

    def _find_view(self) -> SharedMemory | None:
        if (
            not self.wal
            or self._shared  # the caller's connection: it may be closed at any time
            or self.db_path == ":memory:"
            or self.connect_kwargs.get("uri")
        ):
            return None
        with self.lock, self._errors():
            connection = self.connection
            connection.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # a read
            # The file as SQLite opened it (an absolute path), whatever the working directory.
            opened = connection.execute("PRAGMA database_list").fetchone()[2]
        return shared_memory(opened) if opened else None

    def _reader(self) -> sqlite3.Connection | None:
        """This thread's read connection, or None where reads share the main connection (not
        WAL, an in-memory or URI database, the caller's connection, or inside a write)."""
        if (
            not self.wal
            or self._shared
            or self.db_path == ":memory:"
            or self.connect_kwargs.get("uri")
            or getattr(self._local, "writing", False)
        ):
            return None
        pid, ident = os.getpid(), threading.get_ident()
        reader = self._readers.get(ident) if self._readers_pid == pid else None
        if reader is None:
            self.connection  # noqa: B018 (the file, its WAL mode and tables exist first)
            with self.lock:
                if self._readers_pid != pid:  # a forked child: the parent's are not ours
                    self._readers, self._readers_pid = {}, pid
                alive = {thread.ident for thread in threading.enumerate()}
                for gone in [i for i in self._readers if i not in alive]:
                    self._readers.pop(gone).close()
                reader = self._readers[ident] = self._open()
                self.known.forget_connection_versions()  # a new one starts afresh
        return reader

    @contextmanager
    def cursor(self, write: bool = False) -> Iterator[sqlite3.Cursor]:
        """Run statements: reads on this thread's connection (or under the lock), writes
        under the lock inside one immediate transaction."""
        with self._errors():
            reader = None if write else self._reader()
        if reader is not None:
            with self._errors():
                yield reader.cursor()
            return
        with self.lock, self._errors():
            outer = getattr(self._local, "writing", False)
            self._local.writing = write or outer  # reads inside a write see the write
            try:
                connection = self.connection
                if write:
                    connection.execute("BEGIN IMMEDIATE")
                    try:
                        yield connection.cursor()
                        connection.execute("COMMIT")
                    except BaseException:
                        # A failed statement or COMMIT (e.g. busy) must not leave the
                        # transaction open: the next write could not begin.
                        if connection.in_transaction:
                            connection.execute("ROLLBACK")
                        raise
                else:
                    yield connection.cursor()
            finally:
                self._local.writing = outer

    def fetch_one(self, sql: str, parameters: tuple[Any, ...]) -> Any:
        """The first row of a read statement, or None: what :meth:`cursor` does for a read,
        without its context managers (a lookup runs this on every miss)."""
        try:
            reader = self._reader()
            if reader is not None:
                return reader.execute(sql, parameters).fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._translated(exc) from exc
        with self.cursor() as cursor:
            return cursor.execute(sql, parameters).fetchone()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as exc:  # includes "file is not a database"
            raise self._translated(exc) from exc

    def _translated(self, exc: sqlite3.DatabaseError) -> StorageError:
        message = str(exc).lower()
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in message or "busy" in message):
            return StorageBusyError(
                f"SQLite database {self.db_path!r} stayed locked by another writer for "
                f"longer than busy_timeout={self.busy_timeout} ms"
            )
        return StorageError(f"SQLite error on {self.db_path!r}: {exc}")

    def close(self) -> None:
        """Close the connections (they reopen if used again)."""
        with self.lock:
            self._trusted = None  # before the connection that holds the lock on it closes
            mine = os.getpid()
            if self._connection is not None and self._pid == mine:
                self._connection.close()
            self._connection = None
            if self._readers_pid == mine:
                for reader in self._readers.values():
                    reader.close()
            self._readers, self._readers_pid = {}, 0
            self.known.clear()
