"""Sealed entries: the stored bytes of an entry carry a checksum of themselves and of the key
they were stored under, so a damaged entry, or one that ended up under another key, is
refused before it is decoded.

A sealed entry is ``MAGIC, kind, checksum, data``, a 10-byte header then the data:

- ``MAGIC`` is ``b"RCLS1"`` (the last byte is the seal's version);
- ``kind`` is ``b"b"`` (the serializer gave bytes) or ``b"t"`` (it gave text, stored as UTF-8
  and given back as ``str``);
- ``checksum`` is the CRC-32 of ``kind, key, data`` (the key as UTF-8), 4 bytes, big-endian.
  The data is all the rest of the entry, so a reader checks exactly the bytes stored against
  the key it asked for: the same data sealed alike under two keys only if the keys have the
  same CRC-32 (never for keys that differ in at most 32 consecutive bits).

CRC-32 detects every single-bit error, every burst of up to 32 bits, and other damage (or a
value under another key) with a probability of 1 - 2**-32. It guards against accidents (disk
faults, bugs, values copied between keys), not against someone who can write the store:
signing (``SignerStage``) is for that. It is the fastest checksum in the standard library,
about four times as fast as BLAKE2b (docs/integrity.md).
"""

from __future__ import annotations

from typing import Any
from zlib import crc32

from ..exceptions import DeserializationError

__all__ = ["HEADER_SIZE", "MAGIC", "IntegrityError", "is_sealed", "seal", "unseal"]

MAGIC = b"RCLS1"
_BINARY = MAGIC + b"b"
_TEXT = MAGIC + b"t"
_KIND_END = len(_BINARY)
#: Length of the header before the data.
HEADER_SIZE = _KIND_END + 4
_SEEDS = {_BINARY: crc32(b"b"), _TEXT: crc32(b"t")}
_BINARY_SEED = _SEEDS[_BINARY]
_MISMATCH = "checksum mismatch: the entry is damaged or belongs to another key"


class IntegrityError(DeserializationError):
    """A stored entry is not sealed, or its checksum does not match its data and key."""


def _encoded(key: str) -> bytes:
    try:
        return key.encode()
    except UnicodeEncodeError:  # a lone surrogate: kept, as the storages keep such keys
        return key.encode("utf-8", "surrogatepass")


def _checksum(kind: bytes, key: str, data: bytes) -> bytes:
    return crc32(data, crc32(_encoded(key), _SEEDS[kind])).to_bytes(4, "big")


def seal(key: str, data: bytes | bytearray | memoryview | str) -> bytes:
    """Return ``data`` sealed for ``key``: the header, then the data (text as UTF-8)."""
    if isinstance(data, str):
        kind, payload = _TEXT, data.encode("utf-8", "surrogatepass")
    else:
        kind, payload = _BINARY, bytes(data)
    return kind + _checksum(kind, key, payload) + payload


def is_sealed(value: Any) -> bool:
    """True if ``value`` is bytes that start as a sealed entry does (nothing is verified)."""
    return isinstance(value, (bytes, bytearray, memoryview)) and bytes(value[: len(MAGIC)]) == MAGIC


def unseal(key: str, value: Any) -> bytes | str:
    """Return the data sealed in ``value`` for ``key`` (``str`` if it was text).

    Raises :class:`IntegrityError` if ``value`` is not a sealed entry (written before entries
    were sealed, or by another program), or if its checksum does not match its data and
    ``key`` (damaged, or stored under another key).
    """
    # Every hit runs this: sealed bytes take the fewest operations that will do.
    if type(value) is bytes and value[:_KIND_END] == _BINARY:
        data = value[HEADER_SIZE:]
        try:
            name = key.encode()
        except UnicodeEncodeError:
            name = _encoded(key)
        checksum = crc32(data, crc32(name, _BINARY_SEED)).to_bytes(4, "big")
        if value[_KIND_END:HEADER_SIZE] == checksum:
            return data
        raise IntegrityError(_MISMATCH)
    return _unseal_other(key, value)


def _unseal_other(key: str, value: Any) -> bytes | str:
    """:func:`unseal` for anything but sealed bytes of the binary kind."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise IntegrityError(f"stored entry is a {type(value).__name__}, not a sealed entry")
    raw = bytes(value)
    kind = raw[:_KIND_END]
    if kind not in _SEEDS or len(raw) < HEADER_SIZE:
        raise IntegrityError("stored entry has no seal (damaged, or written by an older version)")
    data = raw[HEADER_SIZE:]
    if raw[_KIND_END:HEADER_SIZE] != _checksum(kind, key, data):
        raise IntegrityError(_MISMATCH)
    if kind == _BINARY:
        return data
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:  # only if damage left the checksum intact
        raise IntegrityError(f"sealed text is not UTF-8: {exc}") from exc
