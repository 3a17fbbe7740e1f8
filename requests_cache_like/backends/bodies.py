"""Body stores: where SQLite and filesystem caches keep the bodies of ``stream=True``
responses larger than one chunk, written as they arrive and read back a chunk at a time.

========== ==================================================================================
backend    streamed bodies
========== ==================================================================================
SQLite     rows ``(key, version, seq, data)`` of ``<table>_bodies`` in the same database; a
           trigger removes a key's bodies with its entry
filesystem one file ``bodies/<key>.<version>`` per body, written under a temporary name and
           renamed when complete
GridFS     one file per body in bucket ``rcl_bodies``, in GridFS chunks of the same size
others     none: a streamed response is read whole, then stored as any other (docs/streaming.md)
========== ==================================================================================

A writer's chunks become reachable only through the entry written after the last one, so
an abandoned, failed or truncated download leaves no entry; its chunks are removed at once
(or, after a crash, by :func:`sweep_bodies`, which background cleanup runs).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import uuid
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, unquote

from ..exceptions import DeserializationError
from ..models.streamed import CHUNK_SIZE, StreamedBody

if TYPE_CHECKING:
    from ..models import CachedResponse
    from ._sqlite_connection import SQLiteConnection

__all__ = [
    "BodyStore",
    "BodyWriter",
    "FileBodies",
    "SQLiteBodies",
    "attach_body",
    "bodies_for",
    "body_store",
    "sweep_bodies",
]

logger = logging.getLogger(__name__)

#: Seconds after which the unfinished part of a download that nothing writes to any more is
#: taken for the leftover of a killed process (a live download writes at every chunk).
ABANDONED_AFTER = 3600.0


class BodyWriter:
    """Appends the chunks of one body; :meth:`finish` returns where it is, :meth:`abort`
    removes what was written."""

    def __init__(self, store: BodyStore, key: str) -> None:
        self.store = store
        self.key = key
        self.version = uuid.uuid4().hex[:16]
        self.size = 0
        self.crcs: list[int] = []

    def write_chunk(self, data: bytes) -> None:
        """Store the next chunk (at most :data:`CHUNK_SIZE` bytes)."""
        self.store.put_chunk(self.key, self.version, len(self.crcs), data)
        self.crcs.append(zlib.crc32(data))
        self.size += len(data)

    def finish(self) -> StreamedBody:
        """The finished body's reference, for its entry."""
        self.store.finish(self.key, self.version)
        return StreamedBody(self.key, self.version, self.size, CHUNK_SIZE, tuple(self.crcs))

    def abort(self) -> None:
        """Remove the chunks written so far."""
        try:
            self.store.remove(self.key, self.version)
        except Exception as exc:  # the download goes on; a sweep removes them later
            logger.debug("Could not remove the chunks of an abandoned body: %s", exc)


class BodyStore(Protocol):
    """A backend's store of streamed bodies."""

    def put_chunk(self, key: str, version: str, index: int, data: bytes) -> None:
        """Store chunk ``index`` of a body being written."""

    def finish(self, key: str, version: str) -> None:
        """Make the body readable, and drop the key's older bodies."""

    def read_chunk(self, body: StreamedBody, index: int) -> bytes:
        """Chunk ``index`` of ``body``; raise KeyError if it is missing."""

    def complete(self, body: StreamedBody) -> bool:
        """True if every chunk of ``body`` is stored, with the right total size."""

    def remove(self, key: str, version: str | None = None) -> None:
        """Remove one body of ``key`` (or all of them)."""

    def stored(self) -> list[tuple[str, str]]:
        """Every stored body, as ``(key, version)``."""

    def remove_many(self, bodies: list[tuple[str, str]]) -> None:
        """Remove these bodies."""


class SQLiteBodies:
    """Chunks as rows of ``<table>_bodies`` in the cache's own database."""

    def __init__(self, db: SQLiteConnection, table: str = "responses") -> None:
        self.db = db
        self.table = f"{table}_bodies"
        schema = [
            f"CREATE TABLE IF NOT EXISTS {self.table} (key TEXT NOT NULL, version TEXT NOT NULL, "
            "seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (key, version, seq))",
            f"CREATE TRIGGER IF NOT EXISTS {self.table}_forget AFTER DELETE ON {table} "
            f"BEGIN DELETE FROM {self.table} WHERE key = old.key; END",
        ]
        with db.cursor(write=True) as cursor:
            for statement in schema:
                cursor.execute(statement)
        db.schema.extend(schema)

    def put_chunk(self, key: str, version: str, index: int, data: bytes) -> None:
        with self.db.cursor(write=True) as cursor:
            cursor.execute(
                f"INSERT OR REPLACE INTO {self.table} VALUES (?, ?, ?, ?)",
                (key, version, index, data),
            )

    def finish(self, key: str, version: str) -> None:
        with self.db.cursor(write=True) as cursor:
            cursor.execute(
                f"DELETE FROM {self.table} WHERE key = ? AND version != ?", (key, version)
            )

    def read_chunk(self, body: StreamedBody, index: int) -> bytes:
        with self.db.cursor() as cursor:
            row = cursor.execute(
                f"SELECT data FROM {self.table} WHERE key = ? AND version = ? AND seq = ?",
                (body.key, body.version, index),
            ).fetchone()
        if row is None:
            raise KeyError(index)
        return bytes(row[0])

    def complete(self, body: StreamedBody) -> bool:
        with self.db.cursor() as cursor:
            count, size = cursor.execute(
                f"SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0) FROM {self.table} "
                "WHERE key = ? AND version = ?",
                (body.key, body.version),
            ).fetchone()
        return bool(count == body.chunks and size == body.size)

    def remove(self, key: str, version: str | None = None) -> None:
        sql, params = f"DELETE FROM {self.table} WHERE key = ?", [key]
        if version is not None:
            sql, params = sql + " AND version = ?", [key, version]
        with self.db.cursor(write=True) as cursor:
            cursor.execute(sql, params)

    def stored(self) -> list[tuple[str, str]]:
        with self.db.cursor() as cursor:
            rows = cursor.execute(f"SELECT DISTINCT key, version FROM {self.table}").fetchall()
        return [(str(key), str(version)) for key, version in rows]

    def remove_many(self, bodies: list[tuple[str, str]]) -> None:
        for key, version in bodies:
            self.remove(key, version)


class FileBodies:
    """One file per body, under ``directory``; chunks are runs of bytes in it."""

    def __init__(self, directory: Path, durable: bool = False) -> None:
        self.directory = directory
        self.durable = durable
        self._open: dict[tuple[str, str], tuple[Any, str]] = {}

    def _path(self, key: str, version: str) -> Path:
        return self.directory / f"{quote(key, safe='')}.{version}"

    def put_chunk(self, key: str, version: str, index: int, data: bytes) -> None:
        handle = self._open.get((key, version))
        if handle is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            descriptor, temp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".part")
            handle = self._open[key, version] = (os.fdopen(descriptor, "wb"), temp)
        handle[0].write(data)

    def finish(self, key: str, version: str) -> None:
        file, temp = self._open.pop((key, version))
        with file:
            if self.durable:
                file.flush()
                os.fsync(file.fileno())
        os.replace(temp, self._path(key, version))
        prefix = f"{quote(key, safe='')}."
        for old in self.directory.glob(f"{glob_escape(prefix)}*"):
            if old.name != self._path(key, version).name:
                old.unlink(missing_ok=True)

    def read_chunk(self, body: StreamedBody, index: int) -> bytes:
        try:
            with open(self._path(body.key, body.version), "rb") as file:
                file.seek(index * body.chunk_size)
                data = file.read(body.chunk_size)
        except FileNotFoundError:
            raise KeyError(index) from None
        if not data:
            raise KeyError(index)
        return data

    def complete(self, body: StreamedBody) -> bool:
        try:
            return self._path(body.key, body.version).stat().st_size == body.size
        except OSError:
            return False

    def remove(self, key: str, version: str | None = None) -> None:
        if version is not None:
            opened = self._open.pop((key, version), None)
            if opened is not None:
                opened[0].close()
                Path(opened[1]).unlink(missing_ok=True)
            self._path(key, version).unlink(missing_ok=True)
            return
        for path in self.directory.glob(f"{glob_escape(quote(key, safe=''))}.*"):
            path.unlink(missing_ok=True)

    def stored(self) -> list[tuple[str, str]]:
        found = []
        for path in self.directory.glob("*") if self.directory.is_dir() else ():
            name, dot, version = path.name.rpartition(".")
            if dot and not path.name.startswith(".tmp-"):
                found.append((unquote(name), version))
        return found

    def remove_many(self, bodies: list[tuple[str, str]]) -> None:
        for key, version in bodies:
            self.remove(key, version)

    def remove_abandoned(self, now: float, idle: float = ABANDONED_AFTER) -> int:
        """Remove the temporary files of downloads that stopped (a process killed while
        writing one): untouched for ``idle`` seconds; return how many."""
        removed = 0
        for path in self.directory.glob(".tmp-*.part") if self.directory.is_dir() else ():
            try:
                if now - path.stat().st_mtime > idle:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # finished or removed meanwhile
                continue
        return removed


def glob_escape(text: str) -> str:
    """``text`` with glob's special characters made literal."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def body_store(storage: Any) -> BodyStore | None:
    """The body store of a responses storage (made on first use), or None if its backend
    keeps streamed bodies whole."""
    store: BodyStore | None = getattr(storage, "bodies", None)
    if store is not None:
        return store
    from .filesystem import FileDict
    from .gridfs import GridFSDict
    from .sqlite import SQLiteDict

    if isinstance(storage, SQLiteDict) and storage.db_path != ":memory:":
        store = SQLiteBodies(storage._db, storage.table_name)
    elif isinstance(storage, FileDict) and storage.serializer is not None:
        store = FileBodies(Path(storage.cache_dir).parent / "bodies", storage.durable)
    elif isinstance(storage, GridFSDict) and storage.serializer is not None:
        from .gridfs_bodies import GridFSBodies

        store = GridFSBodies(storage.db)
    else:
        return None
    storage.bodies = store
    return store


def bodies_for(cache: Any) -> BodyStore | None:
    """The body store of ``cache``'s responses, or None (see :func:`body_store`)."""
    return body_store(getattr(cache, "responses", None))


def attach_body(storage: Any, response: CachedResponse) -> None:
    """Let ``response``, read from ``storage``, read its streamed body; raise
    :class:`DeserializationError` (a miss) if the body is not all there."""
    body = response.streamed
    if body is None:
        return
    store = body_store(storage)
    if store is None or not store.complete(body):
        raise DeserializationError(f"the streamed body of {body.key} is incomplete or missing")
    response.__dict__["_body_source"] = store


def sweep_bodies(cache: Any) -> int:
    """Remove the stored bodies no entry of ``cache`` points at (left by a crash in the
    middle of a download, or by an entry replaced with an inline one), and the parts of
    downloads untouched for :data:`ABANDONED_AFTER` seconds; return how many."""
    storage = getattr(cache, "responses", None)
    store = body_store(storage) if storage is not None else None
    if store is None:
        return 0
    dead = []
    for key, version in store.stored():
        try:
            streamed = storage[key].streamed  # type: ignore[index]
        except Exception:  # absent or unreadable: nothing points at the body
            streamed = None
        if streamed is None or streamed.version != version:
            dead.append((key, version))
    store.remove_many(dead)
    abandoned = getattr(store, "remove_abandoned", None)
    return len(dead) + (abandoned(time.time()) if abandoned is not None else 0)
