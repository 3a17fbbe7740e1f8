"""``stream=True`` misses: the body goes to the caller as it arrives and, at the same time, to
the cache, which makes the entry visible only once the body is complete.

:func:`tee_to_cache` puts a :class:`TeeRaw` in place of ``response.raw``. Whatever reads the
body (``iter_content``, ``content``, ``raw.read``) passes each piece through a
:class:`BodySink`: the first :data:`~.models.streamed.CHUNK_SIZE` bytes are held in memory,
and a body that grows past them goes chunk by chunk to the backend's body store. At the end
of the body the entry is written, inline (small bodies, the usual format) or pointing at its
chunks. A download that fails, is cut short, is closed early or is dropped unread stores
nothing, and its chunks are removed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .backends.bodies import BodyStore, BodyWriter, bodies_for
from .models import CachedResponse
from .models.streamed import CHUNK_SIZE

if TYPE_CHECKING:
    from datetime import datetime

    from .exchange import Exchange
    from .policy import StoreDecision

__all__ = ["BodySink", "TeeRaw", "store_as_read", "tee_to_cache"]

logger = logging.getLogger(__name__)


class BodySink:
    """Collects a body on its way to the caller and stores it with its entry at the end."""

    def __init__(
        self,
        cached: CachedResponse,
        store: BodyStore,
        save: Callable[[CachedResponse], bool],
        expected: int | None,
    ) -> None:
        self.cached = cached
        self.store = store
        self.save = save
        self.expected = expected  # Content-Length of an unencoded body, to catch truncation
        self.buffer = bytearray()
        self.writer: BodyWriter | None = None
        self.done = False

    def write(self, data: bytes) -> None:
        """Take the next piece of the body."""
        if self.done or not data:
            return
        self.buffer += data
        try:
            while len(self.buffer) >= CHUNK_SIZE:
                if self.writer is None:
                    self.writer = BodyWriter(self.store, self.cached.cache_key)
                self.writer.write_chunk(bytes(self.buffer[:CHUNK_SIZE]))
                del self.buffer[:CHUNK_SIZE]
        except Exception as exc:  # the caller's download goes on; the cache lets it go
            logger.warning("Streamed response not cached: %s", exc)
            self.abort()

    def finish(self) -> None:
        """The body is complete: write the entry (if every byte arrived)."""
        if self.done:
            return
        received = (self.writer.size if self.writer else 0) + len(self.buffer)
        if self.expected is not None and received != self.expected:
            logger.warning("Streamed response not cached: %d of %d bytes", received, self.expected)
            self.abort()
            return
        self.done = True
        try:
            if self.writer is None:
                self.cached._content = bytes(self.buffer)
            else:
                if self.buffer:
                    self.writer.write_chunk(bytes(self.buffer))
                self.cached.streamed = self.writer.finish()
        except Exception as exc:
            logger.warning("Streamed response not cached: %s", exc)
            self._drop_chunks()
            return
        self.buffer = bytearray()
        if not self.save(self.cached):
            self._drop_chunks()

    def abort(self) -> None:
        """The body will not be complete: store nothing."""
        if self.done:
            return
        self.done = True
        self.buffer = bytearray()
        self._drop_chunks()

    def _drop_chunks(self) -> None:
        if self.writer is not None:
            self.writer.abort()


class TeeRaw:
    """Stands in for ``response.raw`` (a urllib3 response), copying what is read to a sink."""

    def __init__(self, raw: Any, sink: BodySink, encoded: bool) -> None:
        self._raw = raw
        self._sink = sink
        self._encoded = encoded  # with a Content-Encoding, only decoded bytes are stored

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def stream(
        self, amt: int | None = 2**16, decode_content: bool | None = None
    ) -> Iterator[bytes]:
        """As ``HTTPResponse.stream``; the body is stored once the last piece is read."""
        sink = self._sink
        storable = bool(decode_content) or not self._encoded
        try:
            for chunk in self._raw.stream(amt, decode_content=decode_content):
                if storable:
                    sink.write(chunk)
                yield chunk
        except BaseException:  # an error, or the caller stopped reading (GeneratorExit)
            sink.abort()
            raise
        if storable:
            sink.finish()
        else:
            sink.abort()

    def read(
        self, amt: int | None = None, decode_content: bool | None = None, **kwargs: Any
    ) -> bytes:
        """As ``HTTPResponse.read``; an empty read (or a whole-body one) ends the body."""
        try:
            data: bytes = self._raw.read(amt, decode_content=decode_content, **kwargs)
        except BaseException:
            self._sink.abort()
            raise
        if self._encoded and not decode_content:
            self._sink.abort()
        elif data:
            self._sink.write(data)
        if not data or amt is None:
            self._sink.finish()
        return data

    def close(self) -> None:
        """Close the stream; a body not read to its end is not stored."""
        self._sink.abort()
        self._raw.close()

    def __iter__(self) -> Iterator[bytes]:
        return self.stream(CHUNK_SIZE, decode_content=True)

    def __del__(self) -> None:
        sink = self.__dict__.get("_sink")
        if sink is not None:
            sink.abort()  # dropped unread: remove whatever chunks were written


def tee_to_cache(
    response: Any,
    cached: CachedResponse,
    key: str,
    store: BodyStore,
    save: Callable[[CachedResponse], bool],
) -> None:
    """Store ``response``'s body, as it is read, as the body of ``cached`` (whose other fields
    are set); ``save`` writes the finished entry and says whether it was written."""
    headers = response.headers
    encoded = headers.get("Content-Encoding", "identity").strip().lower() not in ("", "identity")
    length = headers.get("Content-Length", "")
    expected = int(length) if length.isdigit() and not encoded else None
    cached.__dict__["cache_key"] = key
    response.raw = TeeRaw(response.raw, BodySink(cached, store, save, expected), encoded)


def store_as_read(
    exchange: Exchange,
    response: Any,
    decision: StoreDecision,
    primary: CachedResponse | None,
    response_time: datetime,
) -> bool:
    """Arrange for ``response``'s body to be stored as the caller reads it, when it was asked
    for with ``stream=True`` (a GET with a body, on a backend with a body store); return
    False when it is to be read whole and stored now instead."""
    if not (
        exchange.send_kwargs.get("stream")
        and not exchange.defer_store
        and exchange.method == "GET"
        and response.status_code not in (204, 304)
        and not getattr(response, "_content_consumed", False)
        # A bounded cache counts every byte it holds; its bodies are stored whole.
        and getattr(exchange.cache.responses, "limits", None) is None
    ):
        return False
    store = bodies_for(exchange.cache)
    if store is None:
        return False
    cached = exchange.to_stored(response, decision, response_time, content=b"")

    def save(stored: CachedResponse) -> bool:
        return exchange.write(lambda: exchange.save(stored, primary))

    tee_to_cache(response, cached, exchange.key, store, save)
    return True
