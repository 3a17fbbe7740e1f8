"""Exceptions raised by requests_cache_like.

Every error a user can cause names the offending value and what would have been accepted.
"""

from __future__ import annotations

__all__ = [
    "CacheError",
    "ConvertError",
    "DeserializationError",
    "EntryTooLargeError",
    "StorageBusyError",
    "StorageError",
    "UnknownBackendError",
]


class CacheError(Exception):
    """Base class for errors raised by this package."""


class StorageError(CacheError):
    """The storage backend failed to read or write."""


class EntryTooLargeError(StorageError):
    """An entry is larger than the backend can store; it was not stored.

    A session logs this and still returns the response; a direct ``save_response`` raises it.
    """


class StorageBusyError(StorageError):
    """The storage stayed locked by another writer for longer than its busy timeout."""


class DeserializationError(CacheError):
    """A stored entry could not be decoded (corrupt, truncated, or from another format version).

    The cache treats such an entry as a miss; this error never reaches a caller of
    :meth:`CachedSession.request`.
    """


class UnknownBackendError(ValueError):
    """A backend name or URL scheme is not one this package knows."""


class ConvertError(CacheError, ValueError):
    """A source or destination given to :func:`requests_cache_like.convert.convert` names no
    cache that can be converted; the message names the value and what is accepted."""
