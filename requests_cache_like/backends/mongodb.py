"""MongoDB backend: a shared cache on a MongoDB server (or anything speaking its protocol).

Each entry is one document ``{_id: key, data, expires, created_at, size}`` (with
``stored_size``, ``access_time`` and ``hits`` for size limits); a write sets every field of it
at once, which MongoDB does atomically. An optional TTL index (:meth:`MongoCache.set_ttl`)
lets the server delete entries a fixed time after they were stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..exceptions import EntryTooLargeError
from ..policy.expiration import NEVER_EXPIRE
from ..serializers import init_serializer
from ._util import import_client, reuse_or_connect, storage_errors
from .base import BaseCache, BaseStorage

if TYPE_CHECKING:
    from ..serializers.pipeline import SerializerType, StageLike

__all__ = ["MongoCache", "MongoClientCache", "MongoDict", "make_client", "own_collection"]

logger = logging.getLogger(__name__)

DEFAULT_DB_NAME = "http_cache"
_TTL_INDEX = "created_at_ttl"
_BATCH = 500


def make_client(**client_kwargs: Any) -> Any:
    """Return a ``pymongo.MongoClient`` with a finite server-selection timeout."""
    pymongo = import_client("pymongo", "mongodb", "mongodb")
    client_kwargs.setdefault("serverSelectionTimeoutMS", 5000)
    try:
        return pymongo.MongoClient(**client_kwargs)
    except pymongo.errors.ConfigurationError as exc:
        # An unknown or invalid option: an argument error, like any other backend's.
        raise TypeError(f"MongoDB client option rejected: {exc}") from exc


def client_errors() -> tuple[type[BaseException], ...]:
    """The pymongo errors that mean "storage unavailable or failing"."""
    errors = import_client("pymongo.errors", "mongodb", "mongodb")
    return (errors.PyMongoError,)


def own_collection(connection: Any, db_name: str, name: str) -> str:
    """Return the collection this cache keeps its ``name`` entries in: ``name`` itself, or
    ``rcl_{name}`` when ``name`` holds another program's documents (requests-cache names its
    collections ``responses`` and ``redirects`` too), which are left exactly as they are.
    This package's documents always carry ``size``."""
    with storage_errors("mongodb", client_errors()):
        foreign = connection[db_name][name].find_one({"size": {"$exists": False}}, {"_id": True})
    if foreign is None:
        return name
    logger.info(
        "MongoDB collection %r in %r holds another program's documents (requests-cache?): "
        "left as they are; this cache's entries are in 'rcl_%s'",
        name,
        db_name,
        name,
    )
    return f"rcl_{name}"


class MongoDict(BaseStorage):
    """A storage in one MongoDB collection."""

    def __init__(
        self,
        db_name: str = DEFAULT_DB_NAME,
        collection_name: str = "responses",
        connection: Any = None,
        serializer: SerializerType | StageLike = None,
        beside_foreign: bool = False,
        **client_kwargs: Any,
    ) -> None:
        super().__init__(serializer=serializer)
        self._errors = client_errors()
        self._too_large = import_client("pymongo.errors", "mongodb", "mongodb").DocumentTooLarge
        self.connection = connection if connection is not None else make_client(**client_kwargs)
        self.db_name = db_name
        self.collection_name = collection_name
        #: Set by the caches: on first use, step aside from another program's documents
        #: (see :func:`own_collection`). Deciding later keeps construction free of I/O, so a
        #: cache can be made while the server is down.
        self.beside_foreign = beside_foreign
        self._collection: Any = None

    @property
    def collection(self) -> Any:
        """The collection entries are kept in (decided on first use)."""
        if self._collection is None:
            if self.beside_foreign:
                self.collection_name = own_collection(
                    self.connection, self.db_name, self.collection_name
                )
            self._collection = self.connection[self.db_name][self.collection_name]
        return self._collection

    def _errors_as_storage(self) -> Any:
        return storage_errors("mongodb", self._errors)

    def get_raw(self, key: str) -> Any:
        with self._errors_as_storage():
            document = self.collection.find_one({"_id": key}, {"data": True})
        if document is None:
            raise KeyError(key)
        return document["data"]

    def set_raw(
        self,
        key: str,
        value: Any,
        expires: datetime | None = None,
        created_at: datetime | None = None,
        size: int = 0,
    ) -> None:
        document = {
            "data": value,
            "expires": expires,
            "created_at": created_at or datetime.now().astimezone(),
            "size": size,
            # For max_size / max_entries: the stored size and the last use.
            "stored_size": len(value if isinstance(value, bytes) else str(value).encode()),
            "access_time": time.time(),
        }
        # One document, replaced atomically; its number of uses (hits) is kept.
        change = {"$set": document, "$setOnInsert": {"hits": 0}}
        with self._errors_as_storage():
            try:
                self.collection.update_one({"_id": key}, change, upsert=True)
            except self._too_large as exc:
                raise EntryTooLargeError(
                    f"entry {key!r} is larger than a MongoDB document may be (16 MB); "
                    "the gridfs backend stores large responses"
                ) from exc

    def __delitem__(self, key: str) -> None:
        with self._errors_as_storage():
            result = self.collection.delete_one({"_id": key})
        if not result.deleted_count:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        with self._errors_as_storage():
            return self.collection.count_documents({"_id": key}, limit=1) > 0  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        with self._errors_as_storage():
            return iter([d["_id"] for d in self.collection.find({}, {"_id": True})])

    def __len__(self) -> int:
        with self._errors_as_storage():
            return int(self.collection.count_documents({}))

    def bulk_delete(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        with self._errors_as_storage():
            for start in range(0, len(keys), _BATCH):
                self.collection.delete_many({"_id": {"$in": keys[start : start + _BATCH]}})

    def clear(self) -> None:
        with self._errors_as_storage():
            self.collection.delete_many({})

    def close(self) -> None:
        with self._errors_as_storage():
            self.connection.close()


class MongoClientCache(BaseCache):
    """Base of the caches on a MongoDB server: one client (given, or made and owned),
    redirects in a collection, and a ``responses`` storage chosen by the subclass."""

    def __init__(
        self,
        db_name: str = DEFAULT_DB_NAME,
        connection: Any = None,
        serializer: SerializerType | StageLike = None,
        **client_kwargs: Any,
    ) -> None:
        super().__init__(cache_name=db_name)
        self._owns_connection = connection is None
        self.connection = reuse_or_connect(
            type(self).__name__, connection, client_kwargs, lambda: make_client(**client_kwargs)
        )
        self.responses = self._responses_storage(db_name, init_serializer(serializer))
        self.redirects: MongoDict = MongoDict(
            db_name, "redirects", connection=self.connection, beside_foreign=True
        )

    def _responses_storage(self, db_name: str, serializer: Any) -> BaseStorage:
        raise NotImplementedError

    def close(self) -> None:
        """Close the client if this cache made it; a client passed in is left open."""
        if self._owns_connection:
            self.connection.close()


class MongoCache(MongoClientCache):
    """MongoDB cache backend: collections ``responses`` and ``redirects`` in ``db_name``.

    :param db_name: Database name (default ``http_cache``).
    :param connection: An existing ``pymongo.MongoClient``; otherwise one is made from
        ``client_kwargs`` (``host`` may be a ``mongodb://`` URL).
    """

    responses: MongoDict

    def _responses_storage(self, db_name: str, serializer: Any) -> MongoDict:
        return MongoDict(
            db_name,
            "responses",
            connection=self.connection,
            serializer=serializer,
            beside_foreign=True,
        )

    def get_ttl(self) -> int | None:
        """Seconds after which the server deletes a stored response, or None (no TTL index)."""
        with self.responses._errors_as_storage():
            for index in self.responses.collection.list_indexes():
                if index.get("name") == _TTL_INDEX:
                    return int(index["expireAfterSeconds"])
        return None

    def set_ttl(self, ttl: int | timedelta | None, overwrite: bool = False) -> None:
        """Make the server delete responses ``ttl`` after they were stored (None or
        ``NEVER_EXPIRE`` removes it).

        An existing TTL is kept unless ``overwrite`` is True.
        """
        seconds = int(ttl.total_seconds()) if isinstance(ttl, timedelta) else ttl
        if seconds == NEVER_EXPIRE and not isinstance(seconds, bool):
            seconds = None  # requests-cache's spelling of "no TTL"
        if seconds is not None and (
            isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0
        ):
            raise ValueError(f"ttl={ttl!r}; accepted: int seconds >= 0, a timedelta, or None")
        current = self.get_ttl()
        if current is not None and (current == seconds or not overwrite):
            return
        collection = self.responses.collection
        with self.responses._errors_as_storage():
            if current is not None:
                collection.drop_index(_TTL_INDEX)
            if seconds is not None:
                collection.create_index("created_at", name=_TTL_INDEX, expireAfterSeconds=seconds)
