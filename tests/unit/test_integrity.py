"""Sealed entries (backends/integrity.py): the round trip, every single-bit flip detected,
a seal for another key refused, and anything unsealed refused."""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from requests_cache_like.backends.integrity import (
    HEADER_SIZE,
    MAGIC,
    IntegrityError,
    is_sealed,
    seal,
    unseal,
)
from requests_cache_like.exceptions import DeserializationError
from requests_cache_like.serializers import FrameStage

KEY = "6b9bd67ae8100bc1"


@pytest.mark.parametrize(
    "data",
    [b"", b"x", b"\x00\xff" * 50, "", "text ☃ with a lone \udcff surrogate", bytes(range(256))],
    ids=["empty", "one-byte", "binary", "empty-text", "text", "all-bytes"],
)
def test_round_trip(data: bytes | str) -> None:
    sealed = seal(KEY, data)
    assert isinstance(sealed, bytes)
    assert is_sealed(sealed)
    back = unseal(KEY, sealed)
    assert type(back) is type(data)
    assert back == data


@pytest.mark.parametrize("wrap", [bytearray, memoryview], ids=["bytearray", "memoryview"])
def test_bytes_likes_are_sealed_and_read_as_bytes(wrap: Any) -> None:
    sealed = seal(KEY, wrap(b"payload"))
    assert unseal(KEY, sealed) == b"payload"
    assert unseal(KEY, wrap(sealed)) == b"payload"


def test_the_header() -> None:
    """MAGIC, the kind, then the CRC-32 of the kind, the key and the data (big-endian)."""
    sealed = seal(KEY, b"data")
    assert len(MAGIC) + 1 + 4 == HEADER_SIZE
    assert sealed[: len(MAGIC) + 1] == MAGIC + b"b"
    checksum = zlib.crc32(b"data", zlib.crc32(KEY.encode(), zlib.crc32(b"b")))
    assert sealed[len(MAGIC) + 1 : HEADER_SIZE] == checksum.to_bytes(4, "big")
    assert sealed[HEADER_SIZE:] == b"data"
    assert seal(KEY, "text")[: len(MAGIC) + 1] == MAGIC + b"t"


@pytest.mark.parametrize(
    "data", [b"RCLF\x01 a small entry \x00\xff", "small text"], ids=["bytes", "text"]
)
def test_every_single_bit_flip_is_detected(data: bytes | str) -> None:
    sealed = seal(KEY, data)
    for position in range(len(sealed)):
        for bit in range(8):
            damaged = bytearray(sealed)
            damaged[position] ^= 1 << bit
            with pytest.raises(IntegrityError):
                unseal(KEY, bytes(damaged))


@pytest.mark.parametrize(
    "other_key",
    [KEY[:-1] + "0", KEY.upper(), KEY + " ", "", "ключ", "6b9bd67ae8100bc"],
    ids=["one-digit", "upper-case", "trailing-space", "empty", "unicode", "prefix"],
)
def test_a_seal_for_another_key_is_refused(other_key: str) -> None:
    with pytest.raises(IntegrityError, match="another key"):
        unseal(other_key, seal(KEY, b"a response"))
    with pytest.raises(IntegrityError, match="another key"):
        unseal(other_key, seal(KEY, "a text response"))


def test_every_single_bit_flip_of_the_key_is_detected() -> None:
    sealed = seal(KEY, b"a response")
    name = bytearray(KEY.encode())
    for position in range(len(name)):
        for bit in range(7):  # ASCII stays ASCII
            other = bytearray(name)
            other[position] ^= 1 << bit
            with pytest.raises(IntegrityError):
                unseal(other.decode(), sealed)


def test_bytes_and_text_of_the_same_content_seal_differently() -> None:
    as_bytes, as_text = seal(KEY, b"same"), seal(KEY, "same")
    assert as_bytes != as_text
    assert unseal(KEY, as_text) == "same"
    forged = as_text[: len(MAGIC)] + b"b" + as_text[len(MAGIC) + 1 :]
    with pytest.raises(IntegrityError):
        unseal(KEY, forged)


@pytest.mark.parametrize(
    "value",
    [
        FrameStage.MAGIC + b"\x00\x00\x00\x02{}",  # the default format, before sealing
        b"",
        MAGIC,
        MAGIC + b"x" + seal(KEY, b"data")[len(MAGIC) + 1 :],  # a kind that does not exist
        seal(KEY, "text").decode("latin-1"),  # text is never a sealed entry: it is bytes
        None,
        42,
        {"data": b"x"},
    ],
    ids=["old-frame", "empty", "magic-only", "unknown-kind", "str", "none", "int", "dict"],
)
def test_anything_unsealed_is_refused(value: Any) -> None:
    with pytest.raises(IntegrityError, match=r"not a sealed entry|has no seal"):
        unseal(KEY, value)


@pytest.mark.parametrize("kind", [b"data", "text"], ids=["bytes", "text"])
def test_a_cut_header_is_refused(kind: bytes | str) -> None:
    sealed = seal(KEY, kind)
    for length in range(len(sealed)):
        with pytest.raises(IntegrityError):
            unseal(KEY, sealed[:length])


def test_integrity_errors_are_deserialization_errors() -> None:
    """So every reader that treats an unreadable entry as a miss does so for these too."""
    assert issubclass(IntegrityError, DeserializationError)


def test_is_sealed_looks_at_the_magic_only() -> None:
    assert is_sealed(seal(KEY, b""))
    assert is_sealed(bytearray(seal(KEY, b"")))
    assert not is_sealed(FrameStage.MAGIC + b"...")
    assert not is_sealed("RCLS1b")
    assert not is_sealed(None)
