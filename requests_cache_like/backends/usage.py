"""Each backend's bookkeeping of sizes and uses, behind one small interface
(:class:`UsageStore`) that :mod:`.limits` drives: the totals, a batch of uses to record, and
the responses to evict first.

What counts as the size of an entry is its stored form: the serialized bytes (SQLite
``length(value)``, the file, the Redis string, the MongoDB ``data``, the GridFS file
``length``, the DynamoDB value after compression). The memory backend keeps response
objects: their body, URL and header bytes are counted (:func:`entry_size`).

- memory: :class:`SizedDictStorage`, sizes and uses beside the dict;
- SQLite: ``access_time`` and ``hits`` columns (:mod:`._sqlite_usage`);
- filesystem: the :class:`~.lru.LRUDict` index of an :class:`~.filesystem_lru.LRUFileDict`;
- Redis, MongoDB, GridFS, DynamoDB: see :mod:`._server_usage`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ..models import CachedResponse
from .storage import BaseStorage, DictStorage

if TYPE_CHECKING:
    from ..serializers.pipeline import SerializerType, StageLike
    from .filesystem_lru import LRUFileDict
    from .limits import CacheLimits

__all__ = [
    "SizedDictStorage",
    "UsageStore",
    "delete_aliases",
    "entry_size",
    "limited_storage",
    "pick_victims",
    "usage_store",
]

#: Remembered uses of keys: ``key -> [time of the last use, number of uses]``.
Uses = Mapping[str, list[float]]


class UsageStore(Protocol):
    """A backend's bookkeeping, as the limits use it."""

    def totals(self) -> tuple[int, int]:
        """``(total bytes, number)`` of the stored entries."""

    def record(self, uses: Uses) -> None:
        """Record a batch of uses (keys no longer stored are ignored)."""

    def victims(self, excess_bytes: int, excess_entries: int, policy: str) -> list[tuple[str, int]]:
        """``(key, size)`` of the first entries in eviction order (``"lru"``: oldest last
        use first; ``"lfu"``: fewest uses first, then oldest) whose sizes add up to at least
        ``excess_bytes`` and whose number is at least ``excess_entries``."""


def entry_size(data: Any) -> int:
    """Bytes of an entry as stored: the length of serialized data, or for a response object
    (the memory backend) its body, URL and header names and values."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return len(data)
    if isinstance(data, str):
        return len(data.encode("utf-8", "surrogatepass"))
    if isinstance(data, CachedResponse):
        headers = sum(len(name) + len(value) for name, value in data.headers.items())
        history = sum(entry_size(previous) for previous in data.history)
        return len(data._content or b"") + len(data.url or "") + headers + history
    return 0


def pick_victims(
    rows: Iterable[tuple[str, int]], excess_bytes: int, excess_entries: int
) -> list[tuple[str, int]]:
    """The first ``(key, size)`` rows (in eviction order) that cover both excesses."""
    chosen: list[tuple[str, int]] = []
    freed = 0
    for key, size in rows:
        if freed >= excess_bytes and len(chosen) >= excess_entries:
            break
        chosen.append((key, size))
        freed += size
    return chosen


def eviction_key(policy: str) -> Any:
    """Sort key of ``(key, [last use, uses])`` pairs for ``policy``."""
    if policy == "lfu":
        return lambda item: (item[1][1], item[1][0])
    return lambda item: item[1][0]


class SizedDictStorage(DictStorage):
    """The memory backend's storage under limits: a :class:`DictStorage` that keeps the
    size, last use and number of uses of each entry beside the dict, and is its own
    :class:`UsageStore`."""

    def __init__(self, serializer: SerializerType | StageLike = None, **kwargs: Any) -> None:
        super().__init__(serializer=serializer, **kwargs)
        self._sizes: dict[str, int] = {}
        self._uses: dict[str, list[float]] = {}
        self._total = 0
        self._guard = threading.Lock()

    @classmethod
    def replacing(cls, storage: DictStorage) -> SizedDictStorage:
        """A sized storage holding what ``storage`` holds, with its serializer."""
        sized = cls(serializer=storage.serializer)
        for key, value in list(storage._data.items()):
            sized.set_raw(key, value)
        return sized

    def set_raw(
        self,
        key: str,
        value: Any,
        expires: datetime | None = None,
        created_at: datetime | None = None,
        size: int = 0,
    ) -> None:
        stored = entry_size(value)
        with self._guard:
            self._total += stored - self._sizes.get(key, 0)
            self._sizes[key] = stored
            self._uses.setdefault(key, [0.0, 0])[0] = time.time()
            self._data[key] = value

    def __delitem__(self, key: str) -> None:
        with self._guard:
            del self._data[key]
            self._total -= self._sizes.pop(key, 0)
            self._uses.pop(key, None)

    def clear(self) -> None:
        with self._guard:
            self._data.clear()
            self._sizes.clear()
            self._uses.clear()
            self._total = 0

    def totals(self) -> tuple[int, int]:
        return self._total, len(self._data)

    def touch(self, key: str) -> None:
        """Record a use of ``key`` now (in memory already: no batch needed)."""
        use = self._uses.get(key)
        if use is not None:
            use[0] = time.time()
            use[1] += 1

    def record(self, uses: Uses) -> None:
        for key, (when, count) in uses.items():
            use = self._uses.get(key)
            if use is not None:
                use[0] = max(use[0], when)
                use[1] += count

    def victims(self, excess_bytes: int, excess_entries: int, policy: str) -> list[tuple[str, int]]:
        with self._guard:
            order = sorted(self._uses.items(), key=eviction_key(policy))
            sizes = dict(self._sizes)
        rows = ((key, sizes.get(key, 0)) for key, _ in order)
        return pick_victims(rows, excess_bytes, excess_entries)


class FileUsage:
    """An :class:`~.filesystem_lru.LRUFileDict`'s index as a :class:`UsageStore` (its
    reads are recorded by the storage itself, in batches)."""

    def __init__(self, storage: LRUFileDict) -> None:
        self.storage = storage

    def touch(self, key: str) -> None:
        """Nothing to do: the storage has recorded the read already."""

    def totals(self) -> tuple[int, int]:
        self.storage.flush_accesses()  # before a check: the victims follow
        index = self.storage.lru_index
        return index.total_size(), index.count()

    def record(self, uses: Uses) -> None:
        self.storage.flush_accesses()

    def victims(self, excess_bytes: int, excess_entries: int, policy: str) -> list[tuple[str, int]]:
        return self.storage.lru_index.victims(excess_bytes, excess_entries)


class ScannedUsage:
    """Totals of any storage, by reading every entry: for reporting only (no limits)."""

    def __init__(self, storage: BaseStorage) -> None:
        self.storage = storage

    def _sizes(self) -> Iterator[int]:
        from .filesystem import FileDict

        data = getattr(self.storage, "_data", None)
        if isinstance(data, dict):
            yield from (entry_size(value) for value in list(data.values()))
            return
        if isinstance(self.storage, FileDict):  # the files' sizes, without reading them
            for path in self.storage.paths():
                try:
                    yield path.stat().st_size
                except FileNotFoundError:  # removed meanwhile
                    continue
            return
        for key in list(self.storage):
            try:
                yield entry_size(self.storage.get_raw(key))
            except KeyError:
                continue

    def totals(self) -> tuple[int, int]:
        sizes = list(self._sizes())
        return sum(sizes), len(sizes)

    def record(self, uses: Uses) -> None:
        """Nothing to record: this storage keeps no uses."""

    def victims(self, excess_bytes: int, excess_entries: int, policy: str) -> list[tuple[str, int]]:
        raise TypeError(f"{type(self.storage).__name__} keeps no record of uses")


def limited_storage(storage: BaseStorage, limits: CacheLimits) -> BaseStorage:
    """Return ``storage``, or a storage over the same entries that keeps the bookkeeping the
    limits need (memory: :class:`SizedDictStorage`; filesystem: an index beside the files)."""
    from .filesystem import FileDict
    from .filesystem_lru import LRUFileDict
    from .redis import RedisDict, RedisHashDict

    if type(storage) is DictStorage:
        return SizedDictStorage.replacing(storage)
    if isinstance(storage, LRUFileDict):
        if storage.max_cache_bytes is not None or storage.max_entries is not None:
            raise ValueError(
                "max_size / max_entries and max_cache_bytes both bound this filesystem "
                "cache: give one of them"
            )
        return storage
    if type(storage) is FileDict:
        return LRUFileDict(
            storage.cache_dir,
            max_cache_bytes=None,
            eviction_policy=limits.eviction_policy,
            serializer=storage.serializer,
            extension=storage.extension,
            sync_index=True,
        )
    if isinstance(storage, RedisDict) and not isinstance(storage, RedisHashDict):
        from ._server_usage import RedisUsage

        storage.usage = RedisUsage(storage)
    return storage


def usage_store(storage: BaseStorage, tracking: bool = False) -> UsageStore:
    """The :class:`UsageStore` of ``storage``. With ``tracking`` (for limits), a storage
    that keeps no record of uses is a TypeError."""
    from . import _server_usage as servers
    from ._sqlite_usage import SQLiteUsage
    from .dynamodb import DynamoDbDict
    from .filesystem_lru import LRUFileDict
    from .gridfs import GridFSDict
    from .mongodb import MongoDict
    from .redis import RedisDict, RedisHashDict
    from .sqlite import SQLiteDict

    if isinstance(storage, SizedDictStorage):
        return storage
    if isinstance(storage, LRUFileDict):
        return FileUsage(storage)
    if isinstance(storage, SQLiteDict):
        return SQLiteUsage(storage)
    if isinstance(storage, RedisDict) and not isinstance(storage, RedisHashDict):
        return storage.usage or servers.RedisUsage(storage, tracked=False)
    if isinstance(storage, MongoDict):
        return servers.MongoUsage(storage)
    if isinstance(storage, GridFSDict):
        return servers.GridFSUsage(storage)
    if isinstance(storage, DynamoDbDict):
        return servers.DynamoUsage(storage)
    if tracking:
        raise TypeError(
            f"max_size / max_entries are not supported by {type(storage).__name__}: "
            "use one of this package's backends"
        )
    return ScannedUsage(storage)


def delete_aliases(redirects: BaseStorage, targets: set[str]) -> None:
    """Delete the redirect aliases in ``redirects`` that point at any of ``targets``."""
    from . import _server_usage as servers
    from .sqlite import SQLiteDict

    if not targets:
        return
    if isinstance(redirects, SQLiteDict):
        redirects.bulk_delete(values=sorted(targets))
        return
    finder = servers.alias_finder(redirects)
    if finder is not None:
        aliases = finder(targets)
    else:
        aliases = [key for key in list(redirects) if redirects.get_raw_default(key) in targets]
    if aliases:
        redirects.bulk_delete(aliases)
