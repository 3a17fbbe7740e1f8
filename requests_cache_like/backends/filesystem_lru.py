"""A filesystem storage bounded in bytes: :class:`LRUFileDict`, a :class:`FileDict` with an
:class:`~.lru.LRUDict` index beside its files (``lru_index.sqlite`` in the cache directory).

Before a file is written, the least recently used files are removed until the new one fits
under ``max_cache_bytes``. Sizes are counted as the disk would: rounded up to ``block_bytes``
(at least one block per file). Reads are recorded in memory and written to the index in
batches (and before every eviction), so a hit does not wait for a database write; a use not
yet written when another process evicts can make that process's choice slightly older.
``max_entries`` bounds the number of files the same way. Under ``FileCache(max_size=...)``
it keeps only the index (``max_cache_bytes=None``) and the cache's limits evict
(:mod:`.limits`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .filesystem import FileDict
from .lru import LRUDict

if TYPE_CHECKING:
    from ..serializers.pipeline import SerializerType, StageLike

__all__ = ["LRUFileDict"]

#: Reads remembered before they are written to the index in one transaction.
_ACCESS_BATCH = 256


def _positive_int(name: str, value: Any, what: str = "a number of bytes > 0") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}={value!r}; accepted: {what}")
    return value


def _optional(name: str, value: Any, what: str = "a number of bytes > 0") -> int | None:
    return None if value is None else _positive_int(name, value, what + ", or None")


class LRUFileDict(FileDict):
    """A :class:`FileDict` that keeps the total size of its files under ``max_cache_bytes``.

    :param max_cache_bytes: Upper bound of the files' total size, in bytes (None: no bound
        in bytes, as under ``FileCache(max_size=...)``, where the limits evict).
    :param max_entries: Upper bound of the number of files (default: none).
    :param max_file_bytes: Files larger than this are not stored (default: ``max_cache_bytes``).
    :param block_bytes: File system block size: each file counts as a whole number of blocks.
    :param sync_index: Reconcile the index with the files on disk when opened (files added
        or removed by hand).
    :param lock: Serializes eviction and writes in this process (default: a new ``RLock``).
    :param eviction_policy: ``"lru"`` (default) or ``"lfu"``.
    """

    def __init__(
        self,
        cache_dir: str | Path,
        max_cache_bytes: int | None = 1024**3,
        max_file_bytes: int | None = None,
        block_bytes: int = 1,
        sync_index: bool = False,
        lock: Any = None,
        eviction_policy: str = "lru",
        serializer: SerializerType | StageLike = None,
        clock: Callable[[], int] = time.time_ns,
        max_entries: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.max_cache_bytes = _optional("max_cache_bytes", max_cache_bytes)
        self.max_entries = _optional("max_entries", max_entries, "a number of entries > 0")
        self.block_bytes = _positive_int("block_bytes", block_bytes)
        bound = self.max_cache_bytes
        if bound is not None and self.block_bytes > bound:
            raise ValueError(
                f"block_bytes={block_bytes!r} is larger than max_cache_bytes={max_cache_bytes!r}"
            )
        if max_file_bytes is None:
            max_file_bytes = bound
        self.max_file_bytes = _optional("max_file_bytes", max_file_bytes)
        if self.max_file_bytes is not None and bound is not None and self.max_file_bytes > bound:
            raise ValueError(
                f"max_file_bytes={max_file_bytes!r} is larger than "
                f"max_cache_bytes={max_cache_bytes!r}"
            )
        super().__init__(cache_dir, serializer=serializer, **kwargs)
        self.lock = lock if lock is not None else threading.RLock()
        self._clock = clock
        self._accesses: list[tuple[str, int]] = []
        self.lru_index = LRUDict(
            self.cache_dir / "lru_index.sqlite", eviction_policy=eviction_policy, clock=clock
        )
        if sync_index:
            self.sync_index()

    def _get_size_on_disk(self, file_size: int) -> int:
        """``file_size`` rounded up to whole blocks (at least one), keeping its sign."""
        blocks = max(1, math.ceil(abs(file_size) / self.block_bytes))
        return int(math.copysign(blocks * self.block_bytes, file_size or 1))

    def get_raw(self, key: str) -> Any:
        value = super().get_raw(key)
        self._accesses.append((key, self._clock()))
        if len(self._accesses) >= _ACCESS_BATCH:
            self.flush_accesses()
        return value

    def flush_accesses(self) -> None:
        """Write the reads remembered so far to the index."""
        with self.lock:
            pending, self._accesses = self._accesses, []
            self.lru_index.touch_many(pending)

    def set_raw(
        self,
        key: str,
        value: Any,
        expires: datetime | None = None,
        created_at: datetime | None = None,
        size: int = 0,
    ) -> None:
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value or b"")
        on_disk = self._get_size_on_disk(len(data))
        with self.lock:
            if self.max_file_bytes is not None and on_disk > self.max_file_bytes:
                # Too large to keep: the key holds nothing rather than an older value.
                self._remove(key)
                return
            if self.max_cache_bytes is not None or self.max_entries is not None:
                self.lru_index.bulk_delete([key])  # its old size makes no room for the new
                self._evict(on_disk)
            super().set_raw(key, data, expires, created_at, size)
            self.lru_index[key] = on_disk

    def _evict(self, incoming: int) -> None:
        """Remove least recently used files until ``incoming`` more bytes (and one more
        file) fit."""
        with self.lock:
            self.flush_accesses()
            excess = excess_entries = 0
            if self.max_cache_bytes is not None:
                excess = self.lru_index.total_size() + incoming - self.max_cache_bytes
            if self.max_entries is not None:
                excess_entries = self.lru_index.count() + 1 - self.max_entries
            if excess <= 0 and excess_entries <= 0:
                return
            victims = [
                key for key, _ in self.lru_index.victims(max(excess, 0), max(excess_entries, 0))
            ]
            for victim in victims:
                self._path(victim).unlink(missing_ok=True)
            self.lru_index.bulk_delete(victims)

    def _remove(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
        self.lru_index.bulk_delete([key])

    def __delitem__(self, key: str) -> None:
        with self.lock:
            self.lru_index.bulk_delete([key])
            super().__delitem__(key)

    def bulk_delete(self, keys: Any) -> None:
        keys = list(keys)
        with self.lock:
            for key in keys:
                self._path(key).unlink(missing_ok=True)
            self.lru_index.bulk_delete(keys)

    def clear(self) -> None:
        with self.lock:
            super().clear()
            self._accesses = []
            self.lru_index.clear()

    def sync_index(self) -> None:
        """Make the index match the files on disk (for files changed by other tools)."""
        with self.lock:
            on_disk = {self._key_of(path): path for path in self.paths()}
            indexed = set(self.lru_index)
            self.lru_index.bulk_delete(indexed - on_disk.keys())
            for key in on_disk.keys() - indexed:
                self.lru_index[key] = self._get_size_on_disk(on_disk[key].stat().st_size)

    def size(self) -> int:
        """Total size of the stored files, in bytes, as counted against ``max_cache_bytes``."""
        return self.lru_index.total_size()

    def keys(self) -> list[str]:  # type: ignore[override]  # requests-cache returns a list
        """Every stored key, as a list."""
        return list(self)

    def close(self) -> None:
        self.flush_accesses()
        self.lru_index.close()
