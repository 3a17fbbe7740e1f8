"""A body stored apart from its response, in checksummed chunks, and read back a chunk at a
time: how ``stream=True`` downloads of any size pass through the cache in constant memory.

The response's entry holds a :class:`StreamedBody` (where the chunks are, their count and
checksums); the chunks live in the backend's body store (:mod:`..backends.bodies`). Each
chunk is verified against its CRC-32 before a byte of it is handed out.
"""

from __future__ import annotations

import io
import zlib
from typing import Protocol

from attrs import field, frozen
from urllib3.exceptions import ProtocolError

__all__ = ["CHUNK_SIZE", "BodySource", "ChunkReader", "StreamedBody"]

#: Size of a stored chunk, and the largest body a ``stream=True`` miss stores inline.
CHUNK_SIZE = 1024 * 1024


def _crcs(value: object) -> tuple[int, ...]:
    return tuple(int(crc) for crc in value) if isinstance(value, (list, tuple)) else ()


@frozen
class StreamedBody:
    """Where a streamed body is: under ``key`` and ``version`` in the body store, ``size``
    bytes in chunks of ``chunk_size`` (the last may be shorter), one CRC-32 per chunk."""

    key: str
    version: str
    size: int
    chunk_size: int = CHUNK_SIZE
    crcs: tuple[int, ...] = field(default=(), converter=_crcs)

    @property
    def chunks(self) -> int:
        """The number of chunks."""
        return len(self.crcs)


class BodySource(Protocol):
    """Reads the chunks of stored bodies (a backend's body store)."""

    def read_chunk(self, body: StreamedBody, index: int) -> bytes:
        """Chunk ``index`` of ``body``; raise KeyError if it is missing."""

    def complete(self, body: StreamedBody) -> bool:
        """True if every chunk of ``body`` is stored, with the right total size."""


class ChunkReader(io.RawIOBase):
    """A read-only file over a stored body: one chunk in memory at a time, each verified."""

    def __init__(self, source: BodySource, body: StreamedBody) -> None:
        super().__init__()
        self._source = source
        self._body = body
        self._next = 0
        self._chunk = memoryview(b"")

    def readable(self) -> bool:
        return True

    def _load(self) -> bool:
        body, index = self._body, self._next
        if index >= body.chunks:
            return False
        try:
            data = self._source.read_chunk(body, index)
        except KeyError:
            raise ProtocolError(f"stored body {body.key} lost chunk {index}") from None
        if zlib.crc32(data) != body.crcs[index]:
            raise ProtocolError(f"stored body {body.key} chunk {index} is damaged")
        self._chunk, self._next = memoryview(data), index + 1
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self._chunk and not self._load():
            return 0
        count = min(len(buffer), len(self._chunk))
        buffer[:count] = self._chunk[:count]
        self._chunk = self._chunk[count:]
        return count
