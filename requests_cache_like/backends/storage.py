"""The storages: :class:`BaseStorage`, the contract each backend implements (string keys to
stored values, optionally through a serializer, knowing nothing of HTTP), :class:`DictStorage`
(a dict in this process) and :class:`CopyStage` (the memory backend's copying "serializer"),
with :func:`reject_unknown_kwargs`, shared by the backends' constructors, and
``warn_unreadable``, which logs each unreadable entry once.

Every entry a backend stores through :meth:`BaseStorage.set` is sealed for its key
(:mod:`.integrity`), and every read through :meth:`BaseStorage.deserialize` verifies the seal:
a damaged entry, one under another key, or one written before entries were sealed is a
:class:`DeserializationError`, which the cache treats as a miss.
"""

from __future__ import annotations

import logging
import threading
import warnings
from abc import ABC
from collections.abc import Iterable, Iterator, MutableMapping
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..exceptions import DeserializationError
from ..models import CachedResponse
from ..serializers import init_serializer
from ..serializers.stages import FrameStage
from .decoded import DecodedMemo
from .integrity import MAGIC as _SEALED
from .integrity import seal, unseal

if TYPE_CHECKING:
    from ..serializers.pipeline import SerializerType, StageLike
    from .limits import LimitEnforcer

__all__ = ["BaseStorage", "CopyStage", "DictStorage", "reject_unknown_kwargs", "warn_unreadable"]

# Named after base.py, where these warnings were issued before the storages moved here, so
# logging configured for that logger keeps applying.
logger = logging.getLogger(__name__.rpartition(".")[0] + ".base")
_MAGIC = FrameStage.MAGIC
#: What a storage that seals seals: a serializer's bytes or text (other objects are kept).
_SEALABLE = (bytes, bytearray, memoryview, str)


def reject_unknown_kwargs(owner: str, kwargs: dict[str, Any], accepted: Iterable[str] = ()) -> None:
    """Raise TypeError naming any keyword argument ``owner`` does not accept."""
    if kwargs:
        listed = ", ".join(sorted(accepted)) or "none"
        raise TypeError(
            f"{owner} got unexpected keyword argument(s): {', '.join(sorted(kwargs))}; "
            f"accepted: {listed}"
        )


class _WarnOnce:
    """Log an unreadable entry at WARNING the first time its key is seen, DEBUG after."""

    def __init__(self, limit: int = 10_000) -> None:
        self._seen: set[str] = set()
        self._limit = limit
        self._lock = threading.Lock()

    def __call__(self, key: str, error: Exception) -> None:
        with self._lock:
            first = key not in self._seen
            if first and len(self._seen) < self._limit:
                self._seen.add(key)
        level = logging.WARNING if first else logging.DEBUG
        logger.log(level, "Unreadable cache entry %s treated as a miss: %s", key, error)


warn_unreadable = _WarnOnce()


@lru_cache(maxsize=1)
def _default_format() -> Any:
    return init_serializer(None)


def is_default_format(value: Any) -> bool:
    """True if ``value`` is bytes a storage without a serializer of its own wrote for a
    response: sealed, or in the bare default format of entries written before sealing (read
    as a miss). Backends give such values back as bytes, not decoded as text."""
    return isinstance(value, (bytes, bytearray, memoryview)) and bytes(value[:5]) in (
        _SEALED,
        _MAGIC,
    )


class BaseStorage(MutableMapping[str, Any], ABC):
    """A key-value storage: string keys, values passed through an optional serializer.

    Backends implement :meth:`get_raw`, :meth:`set_raw`, ``__delitem__``, ``__iter__`` and
    ``__len__``; they may override :meth:`bulk_delete`, :meth:`clear`, :meth:`close` and the
    item iteration for speed. ``expires`` is passed so stores with native expiry can use it.

    A storage written to requests-cache's contract works too: a mapping that implements
    ``__getitem__`` / ``__setitem__`` itself (calling :meth:`deserialize` / :meth:`serialize`),
    ``__delitem__``, ``__iter__`` and ``__len__``. Its mapping methods are then used for every
    read and write; ``get_raw`` / ``set_raw`` remain the fast path of this package's backends.

    Every value :meth:`set` stores as bytes or text is sealed for its key (see
    :mod:`.integrity`) and verified on every read; values that are neither (objects kept by
    the memory backend, strings of a storage without a serializer, such as redirect targets)
    are stored as they are. A storage of requests-cache's contract serializes in its own
    ``__setitem__``, without the key: its values are not sealed.

    :param serializer: None stores values as they are (strings for redirects); the caches
        pass a :class:`SerializerPipeline` for responses.
    """

    #: True if :meth:`set` stores through this class's ``set_raw`` and so seals values
    #: (not a storage of :class:`CopyStage` objects: the memory backend's).
    _seals = False
    #: The limits of the cache whose responses this storage holds (see :mod:`.limits`).
    limits: LimitEnforcer | None = None
    #: Responses decoded lately, reused while their stored bytes are unchanged.
    _decoded: DecodedMemo | None = None
    #: Where ``stream=True`` bodies stored apart are (see :mod:`.bodies`), once used.
    bodies: Any = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._seals = cls.set_raw is not BaseStorage.set_raw

    def __init__(self, serializer: SerializerType | StageLike = None, **kwargs: Any) -> None:
        kwargs.pop("decode_content", None)  # requests-cache's; bodies are bytes here
        if kwargs.pop("connection", None) is not None:
            # requests-cache passes one storage's connection to another; these have none.
            warnings.warn(
                f"{type(self).__name__}(connection=...) has no effect: it holds no connection",
                UserWarning,
                stacklevel=3,
            )
        reject_unknown_kwargs(type(self).__name__, kwargs, ("serializer", "connection"))
        self.serializer: Any = (
            None
            if serializer is None
            else (serializer if not isinstance(serializer, str) else init_serializer(serializer))
        )
        if isinstance(self.serializer, CopyStage):
            self._seals = False  # objects in this process: no stored bytes to damage
        self._decoded = DecodedMemo()

    # -- what a backend implements -------------------------------------------------------
    def get_raw(self, key: str) -> Any:
        """Return the stored (serialized) value for ``key``; raise KeyError if absent.

        A storage of requests-cache's contract has none: its ``__getitem__`` answers."""
        if type(self).__getitem__ is BaseStorage.__getitem__:
            raise NotImplementedError(
                f"{type(self).__name__} implements neither get_raw() nor __getitem__()"
            )
        return self[key]

    def set_raw(
        self,
        key: str,
        value: Any,
        expires: datetime | None = None,
        created_at: datetime | None = None,
        size: int = 0,
    ) -> None:
        """Store a serialized value atomically (the old value or the new one, never a mix)."""
        raise NotImplementedError(f"{type(self).__name__} implements no set_raw()")

    # -- shared behaviour -----------------------------------------------------------------
    def get_raw_default(self, key: str, default: Any = None) -> Any:
        """Return the stored (serialized) value for ``key``, or ``default``."""
        try:
            return self.get_raw(key)
        except KeyError:
            return default

    def serialize(self, value: Any, key: str | None = None) -> Any:
        """Return the stored form of ``value``; with ``key``, sealed for it if it is bytes or
        text (the form :meth:`set` stores, and :meth:`deserialize` reads, on this package's
        backends)."""
        if self.serializer is not None:
            data = self.serializer.dumps(value)
        elif isinstance(value, CachedResponse):
            # requests-cache's storages default to a serializer; code that stores a response
            # in one made without it gets the safe default format rather than an error.
            data = _default_format().dumps(value)
        else:
            return value
        if key is None or not self._seals or not isinstance(data, _SEALABLE):
            return data
        return seal(key, data)

    def deserialize(self, key: str, value: Any) -> Any:
        """Return the value in its stored form, its seal verified for ``key`` on a storage that
        seals; raises :class:`DeserializationError` (a miss) if it cannot be read, is damaged,
        belongs to another key, or was written before entries were sealed."""
        if self.serializer is None:
            if not is_default_format(value):
                return value
            if self._seals:
                value = unseal(key, value)
            return _default_format().loads(value)
        memo = self._decoded if self._seals and type(value) is bytes else None
        if memo is not None:
            found = memo.get(key, value)
            if found is not None:
                return found
        raw = value
        if self._seals and (type(value) is bytes or isinstance(value, _SEALABLE)):
            value = unseal(key, value)
        try:
            decoded = self.serializer.loads(value)
        except DeserializationError:
            raise
        except Exception as exc:  # a custom serializer may raise anything
            raise DeserializationError(f"{type(exc).__name__}: {exc}") from exc
        if memo is not None and isinstance(decoded, CachedResponse):
            memo.put(key, raw, decoded)
        return decoded

    def __getitem__(self, key: str) -> Any:
        value = self.deserialize(key, self.get_raw(key))
        if isinstance(value, CachedResponse):
            # As requests-cache's storages do on every read. cache_key is no attrs field:
            # set it in the instance dict, past attrs' __setattr__ (this is every hit).
            value.__dict__["cache_key"] = key
            if value.streamed is not None:
                from .bodies import attach_body

                attach_body(self, value)
        return value

    def __contains__(self, key: object) -> bool:
        """True if anything is stored under ``key``, readable or not (nothing is decoded)."""
        try:
            self.get_raw(key)  # type: ignore[arg-type]
        except KeyError:
            return False
        return True

    def __setitem__(self, key: str, value: Any) -> None:
        self.set(key, value)

    def set(self, key: str, value: Any, expires: datetime | None = None) -> None:
        """Store ``value`` under ``key``; ``expires`` defaults to ``value.expires`` if present."""
        if type(self).set_raw is BaseStorage.set_raw:
            # requests-cache's contract: the storage's own __setitem__ serializes and stores.
            if type(self).__setitem__ is BaseStorage.__setitem__:
                raise NotImplementedError(
                    f"{type(self).__name__} implements neither set_raw() nor __setitem__()"
                )
            self[key] = value
            return
        if expires is None:
            expires = getattr(value, "expires", None)
        created_at = getattr(value, "created_at", None)
        size = getattr(value, "size", 0)
        data = self.serialize(value, key)
        limits = self.limits  # max_size / max_entries, if the cache has them
        stored = 0 if limits is None else limits.admit(key, data)
        self.set_raw(key, data, expires, created_at, size if isinstance(size, int) else 0)
        if limits is not None:
            limits.written(key, stored)

    def bulk_delete(self, keys: Iterable[str]) -> None:
        """Delete every key in ``keys``; missing keys are ignored."""
        for key in list(keys):
            try:
                del self[key]
            except KeyError:
                pass

    def clear(self) -> None:
        """Delete everything."""
        self.bulk_delete(list(self))

    def close(self) -> None:
        """Release connections or files held open."""

    def readable_items(self) -> Iterator[tuple[str, Any]]:
        """Yield ``(key, value)`` for every entry that can be read; others are skipped."""
        for key in list(self):
            try:
                yield key, self[key]
            except KeyError:
                continue
            except DeserializationError as exc:
                warn_unreadable(key, exc)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} ({len(self)} items)>"

    def __str__(self) -> str:
        """The keys, as requests-cache shows a storage."""
        return str(list(self))


class DictStorage(BaseStorage):
    """In-process storage backed by a dict; safe to share between threads."""

    def __init__(self, serializer: SerializerType | StageLike = None, **kwargs: Any) -> None:
        super().__init__(serializer=serializer, **kwargs)
        self._data: dict[str, Any] = {}

    def get_raw(self, key: str) -> Any:
        return self._data[key]

    def set_raw(
        self,
        key: str,
        value: Any,
        expires: datetime | None = None,
        created_at: datetime | None = None,
        size: int = 0,
    ) -> None:
        self._data[key] = value  # a single dict assignment is atomic under the GIL

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def clear(self) -> None:
        self._data.clear()


class CopyStage:
    """The memory backend's "serializer": keeps objects, but stores and returns copies so a
    caller that edits a response cannot change what the cache holds."""

    name = "copy"

    def dumps(self, value: Any) -> Any:
        return _copied(value)

    def loads(self, value: Any) -> Any:
        return _copied(value)


def _copied(value: Any) -> Any:
    # Responses and containers have copy(); strings and numbers are immutable already.
    copy = getattr(value, "copy", None)
    return copy() if callable(copy) else value
