"""Recently decoded responses, so that a hit on a serializing backend (SQLite, filesystem,
Redis, ...) does not decode the same bytes again.

A read still fetches the stored bytes; only when they are exactly the bytes decoded last time
for that key is the decoded response reused (as a copy: callers may change what they get).
Anything else (a new value, a damaged one, another process's write) is decoded and
verified as usual, so the memo can never answer with something the storage does not hold.
"""

from __future__ import annotations

import threading

from ..models import CachedResponse

__all__ = ["DecodedMemo"]


class DecodedMemo:
    """At most ``max_entries`` decoded responses, holding at most ``max_bytes`` of stored
    bytes; the oldest go first. Safe to share between threads."""

    def __init__(self, max_entries: int = 512, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: dict[str, tuple[bytes, CachedResponse]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str, raw: bytes) -> CachedResponse | None:
        """A copy of the response decoded from ``raw`` for ``key``, if it is remembered."""
        entry = self._entries.get(key)
        if entry is None or entry[0] != raw:
            return None
        return entry[1].copy()

    def put(self, key: str, raw: bytes, response: CachedResponse) -> None:
        """Remember that ``raw`` decodes to ``response`` (a copy is kept)."""
        size = len(raw)
        if size > self.max_bytes // 8:
            return  # a large body: decoding it is cheap next to reading it
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old[0])
            self._entries[key] = (raw, response.copy())
            self._bytes += size
            while self._bytes > self.max_bytes or len(self._entries) > self.max_entries:
                oldest = next(iter(self._entries))
                self._bytes -= len(self._entries.pop(oldest)[0])

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)
