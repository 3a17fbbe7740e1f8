"""GridFS backend: MongoDB for responses larger than a document (16 MB) allows.

A write stores a new GridFS file under the key's name and only then removes the versions
older than it, so a reader always finds a complete version, and two processes writing the
same key never lose it (the newest survives; leftovers are removed by the next write).

requests-cache keeps its GridFS files in the default bucket ``fs`` too (named by ``_id``, not
by ``filename``). :class:`GridFSCache` keeps this package's files in bucket ``rcl_fs``, so
requests-cache never lists, reads or clears them and this cache never touches its files;
only an ``fs`` bucket holding nothing but this package's files (written by an earlier
version) goes on being used.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._util import import_client, storage_errors
from .base import BaseStorage
from .mongodb import DEFAULT_DB_NAME, MongoClientCache, client_errors, make_client
from .storage import is_default_format

if TYPE_CHECKING:
    from ..serializers.pipeline import SerializerType, StageLike

__all__ = ["GridFSCache", "GridFSDict", "own_bucket"]

logger = logging.getLogger(__name__)

#: Every file this package writes carries ``filename`` (the key) and ``expires``.
_OURS = {"filename": {"$exists": True}, "expires": {"$exists": True}}
_NOT_OURS = {"$or": [{"filename": {"$exists": False}}, {"expires": {"$exists": False}}]}


def own_bucket(db: Any, name: str) -> str:
    """Return the GridFS bucket this cache keeps its files in: ``name`` when it holds this
    package's files and nobody else's (an earlier version wrote there), else ``rcl_{name}``.
    requests-cache's files (in ``fs`` too) are left exactly as they are."""
    with storage_errors("gridfs", client_errors()):
        files = db[f"{name}.files"]
        foreign = files.find_one(_NOT_OURS, {"_id": True})
        ours = foreign is None and files.find_one(_OURS, {"_id": True}) is not None
    if ours:
        return name
    if foreign is not None:
        logger.info(
            "GridFS bucket %r in %r holds another program's files (requests-cache?): left as "
            "they are; this cache's files are in 'rcl_%s'",
            name,
            db.name,
            name,
        )
    return f"rcl_{name}"


class GridFSDict(BaseStorage):
    """A storage of GridFS files named by key, in bucket ``collection_name``."""

    def __init__(
        self,
        db_name: str = DEFAULT_DB_NAME,
        collection_name: str = "fs",
        connection: Any = None,
        serializer: SerializerType | StageLike = None,
        beside_foreign: bool = False,
        **client_kwargs: Any,
    ) -> None:
        super().__init__(serializer=serializer)
        self._gridfs = import_client("gridfs", "mongodb", "gridfs")
        self._no_file = self._gridfs.errors.NoFile
        self._corrupt = self._gridfs.errors.CorruptGridFile
        self._errors = client_errors()
        self.connection = connection if connection is not None else make_client(**client_kwargs)
        self.db = self.connection[db_name]
        self.collection_name = collection_name
        #: Set by :class:`GridFSCache`: on first use, choose the bucket with
        #: :func:`own_bucket`. Deciding later keeps construction free of I/O, so a cache can
        #: be made while the server is down.
        self.beside_foreign = beside_foreign
        self._requested_bucket = collection_name
        self._fs: Any = None
        self._files: Any = None

    def _decide_bucket(self) -> None:
        # From the bucket asked for, so threads deciding at once all reach the same answer.
        name = self._requested_bucket
        if self.beside_foreign:
            name = own_bucket(self.db, name)
        self.collection_name = name
        self._files = self.db[f"{name}.files"]
        self._fs = self._gridfs.GridFS(self.db, collection=name)

    @property
    def fs(self) -> Any:
        """The ``gridfs.GridFS`` of the bucket files are kept in (decided on first use)."""
        if self._fs is None:
            self._decide_bucket()
        return self._fs

    @property
    def files(self) -> Any:
        """The bucket's ``.files`` collection (decided on first use)."""
        if self._files is None:
            self._decide_bucket()
        return self._files

    def _errors_as_storage(self) -> Any:
        return storage_errors("gridfs", self._errors)

    def get_raw(self, key: str) -> Any:
        # A concurrent writer may delete the version being read; the next newest is complete.
        for _attempt in range(3):
            with self._errors_as_storage():
                try:
                    data = self.fs.get_last_version(filename=key).read()
                    # Without a serializer the values are strings, as set_raw was given.
                    return (
                        data.decode("utf-8", "replace")
                        if self.serializer is None and not is_default_format(data)
                        else data
                    )
                except self._no_file:
                    raise KeyError(key) from None
                except self._corrupt:
                    continue
        raise KeyError(key)

    def set_raw(
        self,
        key: str,
        value: Any,
        expires: datetime | None = None,
        created_at: datetime | None = None,
        size: int = 0,
    ) -> None:
        data = value.encode("utf-8") if isinstance(value, str) else (value or b"")
        with self._errors_as_storage():
            # access_time and hits: the bookkeeping of size limits (length is the size).
            new_id = self.fs.put(data, filename=key, expires=expires, access_time=time.time())
            mine = self.files.find_one({"_id": new_id}, {"uploadDate": True})
            if mine is None:
                return  # a concurrent writer stored a newer version and removed this one
            hits = 0
            for old in self.files.find(
                {"filename": key, "uploadDate": {"$lt": mine["uploadDate"]}},
                {"_id": True, "hits": True},
            ):
                hits = max(hits, int(old.get("hits") or 0))
                self.fs.delete(old["_id"])
            if hits:  # a new version keeps the number of uses of the old one
                self.files.update_one({"_id": new_id}, {"$max": {"hits": hits}})

    def __delitem__(self, key: str) -> None:
        with self._errors_as_storage():
            ids = [f["_id"] for f in self.files.find({"filename": key}, {"_id": True})]
            for file_id in ids:
                self.fs.delete(file_id)
            self._forget_bodies([key])
        if not ids:
            raise KeyError(key)

    def _forget_bodies(self, keys: list[str]) -> None:
        """Remove the streamed bodies of deleted entries (see :mod:`.bodies`)."""
        if self.serializer is None:
            return
        from .bodies import body_store

        store = body_store(self)
        if store is not None:
            for key in keys:
                store.remove(key)

    def __contains__(self, key: object) -> bool:
        with self._errors_as_storage():
            return self.files.count_documents({"filename": key}, limit=1) > 0  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        with self._errors_as_storage():
            return iter(sorted(self.files.distinct("filename")))

    def __len__(self) -> int:
        with self._errors_as_storage():
            return len(self.files.distinct("filename"))

    def bulk_delete(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        with self._errors_as_storage():
            for old in self.files.find({"filename": {"$in": keys}}, {"_id": True}):
                self.fs.delete(old["_id"])
            self._forget_bodies(keys)

    def clear(self) -> None:
        # Only this package's files: a file another program added since is left alone.
        with self._errors_as_storage():
            for old in self.files.find(_OURS, {"_id": True}):
                self.fs.delete(old["_id"])
            self._forget_bodies([key for key, _ in self._bodies_stored()])

    def _bodies_stored(self) -> list[tuple[str, str]]:
        from .bodies import body_store

        store = body_store(self) if self.serializer is not None else None
        return store.stored() if store is not None else []

    def close(self) -> None:
        with self._errors_as_storage():
            self.connection.close()


class GridFSCache(MongoClientCache):
    """GridFS cache backend: responses as GridFS files, redirects in a collection.

    Responses are in bucket ``rcl_fs`` (see :func:`own_bucket`), redirects in ``redirects``
    or, beside another program's documents, ``rcl_redirects``.

    :param db_name: Database name.
    :param connection: An existing ``pymongo.MongoClient``; otherwise one is made from
        ``client_kwargs``.
    """

    responses: GridFSDict

    def _responses_storage(self, db_name: str, serializer: Any) -> GridFSDict:
        return GridFSDict(
            db_name, connection=self.connection, serializer=serializer, beside_foreign=True
        )
