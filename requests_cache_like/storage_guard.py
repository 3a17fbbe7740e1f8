"""Storage calls with ``on_backend_error`` applied: the one place a storage failure is turned
into a miss, a skipped write, or an error for the caller."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from .backends import EntryTooLargeError
from .exceptions import StorageError

if TYPE_CHECKING:
    from .backends import BaseCache
    from .models import CachedResponse
    from .settings import CacheSettings

__all__ = ["StorageGuard"]

logger = logging.getLogger(__name__)


class _Owner(Protocol):
    """The session a guard works for: its cache and settings, read at each call."""

    @property
    def cache(self) -> BaseCache: ...
    @property
    def settings(self) -> CacheSettings: ...


class StorageGuard:
    """A session's storage calls, with ``on_backend_error`` applied once for all of them.

    With ``"bypass"`` a :class:`StorageError` is a miss (read) or a skipped write, logged once
    at WARNING until storage works again; with ``"raise"`` it reaches the caller. An entry
    too large for the backend is always logged and skipped.
    """

    def __init__(self, owner: _Owner) -> None:
        self._owner = owner
        self._failing: set[str] = set()  # "reads" / "writes" while storage fails
        self._lease_warned = False

    def read(self, key: str, follow_redirects: bool) -> CachedResponse | None:
        """Return the response stored under ``key`` (or its redirect alias), or None."""
        try:
            cached: CachedResponse | None = self._owner.cache.get_response(
                key, follow_redirects=follow_redirects
            )
        except StorageError as exc:
            self._failed(exc, "reads")
            return None
        if self._failing:
            self._recovered("reads")
        filter_fn = self._owner.settings.filter_fn
        if cached is not None and filter_fn is not None and not filter_fn(cached):
            # As in requests-cache: a filter set after the entry was stored applies to it too.
            self.write(lambda: self._owner.cache.delete(key))
            return None
        return cached

    def lease_failed(self, error: Exception) -> None:
        """A lease could not be taken or given back: the request goes on without it; logged
        at WARNING once until leases work again."""
        first, self._lease_warned = not self._lease_warned, True
        level = logging.WARNING if first else logging.DEBUG
        logger.log(level, "Single-flight lease unavailable, fetching without it: %s", error)

    def write(self, write: Callable[[], object]) -> bool:
        """Run a write; return False if it did not happen."""
        try:
            write()
        except EntryTooLargeError as exc:
            logger.warning("Response not cached: %s", exc)
            return False
        except StorageError as exc:
            self._failed(exc, "writes")
            return False
        if self._failing:
            self._recovered("writes")
        return True

    def _failed(self, error: StorageError, operation: str) -> None:
        if self._owner.settings.on_backend_error != "bypass":
            raise error
        # Reads and writes are tracked apart and storage counts as working again only when
        # both are, so a store that serves reads but refuses writes warns once instead of
        # flapping between "failed" and "working" on every request.
        if not self._failing:
            logger.warning(
                "Cache storage failed (%s); answering from the origin until it recovers", error
            )
        else:
            logger.debug("Cache storage %s failing: %s", operation, error)
        self._failing.add(operation)

    def _recovered(self, operation: str) -> None:
        self._failing.discard(operation)
        if not self._failing:
            logger.warning("Cache storage is working again")
