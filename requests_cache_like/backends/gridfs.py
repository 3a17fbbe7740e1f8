"""GridFS backend: MongoDB for responses larger than a document (16 MB) allows.

A write stores a new GridFS file under the key's name and only then removes the versions
older than it, so a reader always finds a complete version, and two processes writing the
same key never lose it (the newest survives; leftovers are removed by the next write).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._util import import_client, storage_errors
from .base import BaseStorage
from .mongodb import DEFAULT_DB_NAME, MongoClientCache, client_errors, make_client

if TYPE_CHECKING:
    from ..serializers.pipeline import SerializerType, StageLike

__all__ = ["GridFSCache", "GridFSDict"]


class GridFSDict(BaseStorage):
    """A storage of GridFS files named by key, in bucket ``collection_name``."""

    def __init__(
        self,
        db_name: str = DEFAULT_DB_NAME,
        collection_name: str = "fs",
        connection: Any = None,
        serializer: SerializerType | StageLike = None,
        **client_kwargs: Any,
    ) -> None:
        super().__init__(serializer=serializer)
        gridfs = import_client("gridfs", "mongodb", "gridfs")
        self._no_file = gridfs.errors.NoFile
        self._corrupt = gridfs.errors.CorruptGridFile
        self._errors = client_errors()
        self.connection = connection if connection is not None else make_client(**client_kwargs)
        self.db = self.connection[db_name]
        self.fs = gridfs.GridFS(self.db, collection=collection_name)
        self.files = self.db[f"{collection_name}.files"]

    def _errors_as_storage(self) -> Any:
        return storage_errors("gridfs", self._errors)

    def get_raw(self, key: str) -> Any:
        # A concurrent writer may delete the version being read; the next newest is complete.
        for _attempt in range(3):
            with self._errors_as_storage():
                try:
                    data = self.fs.get_last_version(filename=key).read()
                    # Without a serializer the values are strings, as set_raw was given.
                    return data.decode("utf-8") if self.serializer is None else data
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
            new_id = self.fs.put(data, filename=key, expires=expires)
            mine = self.files.find_one({"_id": new_id}, {"uploadDate": True})
            if mine is None:
                return  # a concurrent writer stored a newer version and removed this one
            for old in self.files.find(
                {"filename": key, "uploadDate": {"$lt": mine["uploadDate"]}}, {"_id": True}
            ):
                self.fs.delete(old["_id"])

    def __delitem__(self, key: str) -> None:
        with self._errors_as_storage():
            ids = [f["_id"] for f in self.files.find({"filename": key}, {"_id": True})]
            for file_id in ids:
                self.fs.delete(file_id)
        if not ids:
            raise KeyError(key)

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

    def clear(self) -> None:
        with self._errors_as_storage():
            for old in self.files.find({}, {"_id": True}):
                self.fs.delete(old["_id"])

    def close(self) -> None:
        with self._errors_as_storage():
            self.connection.close()


class GridFSCache(MongoClientCache):
    """GridFS cache backend: responses as GridFS files, redirects in a collection.

    :param db_name: Database name.
    :param connection: An existing ``pymongo.MongoClient``; otherwise one is made from
        ``client_kwargs``.
    """

    responses: GridFSDict

    def _responses_storage(self, db_name: str, serializer: Any) -> GridFSDict:
        return GridFSDict(db_name, connection=self.connection, serializer=serializer)
