"""The stored responses of an opened cache, each read with the format that wrote it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from attrs import define

from ..backends import BaseStorage
from ..backends.bodies import attach_body
from ..exceptions import DeserializationError
from ..models import CachedResponse
from ..models.response import utcnow
from ._formats import Unreadable, Unsupported, decode_entry
from ._open import OpenedCache

__all__ = ["Entry", "read_entries"]

#: What an entry is: a readable response, another readable value, a known format that this
#: installation cannot read, or damaged / of no known format (the only kind --invalid deletes).
RESPONSE, OTHER, UNSUPPORTED, INVALID = "response", "other", "unsupported", "invalid"


@define(frozen=True)
class Entry:
    """One stored response entry: where it is, how big, and what could be read from it."""

    key: str
    storage: BaseStorage
    size: int
    status: str
    format: str | None = None
    response: CachedResponse | None = None
    problem: str | None = None

    def is_expired(self, now: datetime) -> bool:
        """True if it is a response past its expiry time at ``now``."""
        expires = self.response.expires if self.response is not None else None
        return expires is not None and now >= expires

    def urls(self) -> set[str]:
        """The URLs this entry answers: the response's (the one ``urls`` lists), its
        request's and, after redirects, each earlier request's, so that ``delete --url`` and
        ``show`` find a redirected response by the URL that was asked for too."""
        response = self.response
        if response is None:
            return set()
        found = {response.url, response.request.url}
        found.update(hop.request.url for hop in response.history)
        return {url for url in found if url}


def _size(raw: object) -> int:
    return len(raw) if isinstance(raw, (bytes, bytearray, memoryview, str)) else 0


def read_entry(storage: BaseStorage, key: str) -> Entry | None:
    """Return the entry stored under ``key``, or None if it is gone (deleted meanwhile)."""
    try:
        raw = storage.get_raw(key)
    except KeyError:
        return None
    size = _size(raw)
    try:
        decoded = decode_entry(key, raw)
    except Unsupported as exc:
        return Entry(key, storage, size, UNSUPPORTED, problem=str(exc))
    except Unreadable as exc:
        return Entry(key, storage, size, INVALID, problem=str(exc))
    value = decoded.value
    if isinstance(value, CachedResponse):
        value.cache_key = key
        try:
            attach_body(storage, value)  # a streamed body: read from the body store
        except DeserializationError as exc:
            return Entry(key, storage, size, INVALID, decoded.format, problem=str(exc))
        return Entry(key, storage, size, RESPONSE, decoded.format, value)
    return Entry(key, storage, size, OTHER, decoded.format)


def read_entries(
    opened: OpenedCache, progress: Callable[[int, int | None], None] | None = None
) -> Iterator[Entry]:
    """Yield every stored response entry of ``opened``; ``progress(done, total)`` after each."""
    keys = list(opened.stored_keys())
    for done, (storage, key) in enumerate(keys, 1):
        entry = read_entry(storage, key)
        if entry is not None:
            yield entry
        if progress is not None:
            progress(done, len(keys))


def now() -> datetime:
    """The current time, as the cache compares expiry times."""
    return utcnow()
