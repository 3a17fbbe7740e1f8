"""Encoding, compression and signing stages: each has ``dumps`` and ``loads``.

No stage here except :class:`PickleStage` can run code while loading.
"""

from __future__ import annotations

import copy
import json
import pickle
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from ..exceptions import DeserializationError

__all__ = [
    "FrameStage",
    "JSONStage",
    "MsgpackStage",
    "PickleStage",
    "SignerStage",
    "YAMLStage",
    "ZlibStage",
    "ZstdStage",
]


def _stdlib_json_dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


_json_dumps: Callable[[Any], bytes] = _stdlib_json_dumps
_json_loads: Callable[[bytes], Any] = json.loads
try:  # a faster codec for the same JSON, when installed (extra: json)
    import orjson

    _json_dumps = orjson.dumps
    _json_loads = orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    pass


def _require(module: str, extra: str) -> Any:
    try:
        return __import__(module)
    except ImportError as exc:
        raise ImportError(
            f"this serializer needs the '{module}' package: pip install "
            f"'requests-cache-like[{extra}]'"
        ) from exc


class JSONStage:
    """Data to UTF-8 JSON (orjson when installed; the stored bytes are the same)."""

    name = "json"
    binary = False

    def dumps(self, value: Any) -> bytes:
        return _json_dumps(value)

    def loads(self, value: bytes) -> Any:
        try:
            return _json_loads(value)
        except ValueError as exc:
            raise DeserializationError(f"stored entry is not valid JSON: {exc}") from exc


class FrameStage:
    """The default codec: JSON metadata with the bodies appended raw (no base64, no pickle).

    Layout: ``MAGIC, u32 metadata length, metadata JSON, bodies``. Each body (of the
    response, its request, and the same for each redirect in its history) is replaced in the
    metadata by its index in ``_bodies``, the list of body lengths.
    """

    name = "frame"
    binary = True
    MAGIC = b"RCLF\x01"
    _HEADER = struct.Struct(">I")

    @staticmethod
    def _body_slots(meta: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
        """Yield ``(container, field)`` for every body field, in a fixed order: depth first,
        a response and its request, then each response of its history (which may have a
        history of its own: requests gives every redirect hop the hops before it)."""
        pending = [meta]
        while pending:
            response = pending.pop()
            yield response, "_content"
            request = response.get("request")
            if isinstance(request, dict):
                yield request, "body"
            pending.extend(reversed(response.get("history") or ()))

    def dumps(self, value: dict[str, Any]) -> bytes:
        meta = (
            copy.deepcopy(value)
            if value.get("history")
            else {**value, "request": dict(value.get("request") or {})}
        )
        bodies: list[bytes] = []
        for container, name in self._body_slots(meta):
            body = container.get(name)
            if isinstance(body, (bytes, bytearray)):
                container[name] = len(bodies)
                bodies.append(bytes(body))
        meta["_bodies"] = [len(b) for b in bodies]
        encoded = _json_dumps(meta)
        return b"".join((self.MAGIC, self._HEADER.pack(len(encoded)), encoded, *bodies))

    def loads(self, value: bytes) -> dict[str, Any]:
        magic_len = len(self.MAGIC)
        if not isinstance(value, (bytes, bytearray, memoryview)) or (
            bytes(value[:magic_len]) != self.MAGIC
        ):
            raise DeserializationError("stored entry does not start with the frame marker")
        try:
            (meta_len,) = self._HEADER.unpack_from(value, magic_len)
            start = magic_len + self._HEADER.size
            meta = _json_loads(bytes(value[start : start + meta_len]))
            lengths = meta.pop("_bodies")
        except (struct.error, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DeserializationError(f"stored entry frame is malformed: {exc}") from exc
        if not isinstance(lengths, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in lengths
        ):
            raise DeserializationError("stored entry frame has malformed body lengths")
        offset = start + meta_len
        if offset + sum(lengths) != len(value):
            raise DeserializationError("stored entry is truncated or has trailing bytes")
        bodies = []
        for length in lengths:
            bodies.append(bytes(value[offset : offset + length]))
            offset += length
        try:
            for container, name in self._body_slots(meta):
                index = container.get(name)
                if isinstance(index, int) and not isinstance(index, bool):
                    container[name] = bodies[index]
        except IndexError as exc:
            raise DeserializationError("stored entry refers to a missing body") from exc
        except (TypeError, AttributeError) as exc:  # history or request of the wrong shape
            raise DeserializationError(f"stored entry frame is malformed: {exc}") from exc
        return meta  # type: ignore[no-any-return]


class PickleStage:
    """Data to pickle. Loading pickle can run arbitrary code: use only on storage you trust,
    or sign it (:func:`safe_pickle_serializer`)."""

    name = "pickle"
    binary = True

    def dumps(self, value: Any) -> bytes:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def loads(self, value: bytes) -> Any:
        try:
            return pickle.loads(value)
        except Exception as exc:
            raise DeserializationError(f"stored entry is not a valid pickle: {exc}") from exc


class MsgpackStage:
    """Data to MessagePack (extra: msgpack)."""

    name = "msgpack"
    binary = True

    def __init__(self) -> None:
        self._msgpack = _require("msgpack", "msgpack")

    def dumps(self, value: Any) -> bytes:
        return self._msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]

    def loads(self, value: bytes) -> Any:
        try:
            return self._msgpack.unpackb(value, raw=False)
        except Exception as exc:
            raise DeserializationError(f"stored entry is not valid msgpack: {exc}") from exc


class YAMLStage:
    """Data to YAML with the safe loader (extra: yaml)."""

    name = "yaml"
    binary = False

    def __init__(self) -> None:
        self._yaml = _require("yaml", "yaml")

    def dumps(self, value: Any) -> bytes:
        return self._yaml.safe_dump(value, sort_keys=False).encode("utf-8")  # type: ignore[no-any-return]

    def loads(self, value: bytes) -> Any:
        try:
            return self._yaml.safe_load(value)
        except Exception as exc:
            raise DeserializationError(f"stored entry is not valid YAML: {exc}") from exc


class ZlibStage:
    """Compress bytes with zlib (standard library)."""

    name = "zlib"

    def __init__(self, level: int = 6) -> None:
        self.level = level

    def dumps(self, value: bytes) -> bytes:
        return zlib.compress(value, self.level)

    def loads(self, value: bytes) -> bytes:
        try:
            return zlib.decompress(value)
        except zlib.error as exc:
            raise DeserializationError(f"stored entry is not valid zlib data: {exc}") from exc


class ZstdStage:
    """Compress bytes with Zstandard (extra: zstd)."""

    name = "zstd"

    def __init__(self, level: int = 3) -> None:
        zstandard = _require("zstandard", "zstd")
        self._compressor = zstandard.ZstdCompressor(level=level)
        self._decompressor = zstandard.ZstdDecompressor()
        self._error = zstandard.ZstdError

    def dumps(self, value: bytes) -> bytes:
        return self._compressor.compress(value)  # type: ignore[no-any-return]

    def loads(self, value: bytes) -> bytes:
        try:
            return self._decompressor.decompress(value)  # type: ignore[no-any-return]
        except self._error as exc:
            raise DeserializationError(f"stored entry is not valid zstd data: {exc}") from exc


class SignerStage:
    """Sign bytes with a secret key (itsdangerous; extra: security); unsigned or tampered
    entries fail to load and count as misses."""

    name = "signed"

    def __init__(
        self, secret_key: str | bytes | list[str | bytes], salt: str = "requests-cache-like"
    ) -> None:
        itsdangerous = _require("itsdangerous", "security")
        self._signer = itsdangerous.Signer(secret_key, salt=salt)
        self._bad_signature = itsdangerous.BadSignature
        # Both kinds at once: a miss for the cache, BadSignature for requests-cache code.
        self._error = type(
            "InvalidSignatureError", (DeserializationError, itsdangerous.BadSignature), {}
        )

    @property
    def obj(self) -> Any:
        """The ``itsdangerous.Signer`` (requests-cache's name for a stage's object)."""
        return self._signer

    def dumps(self, value: bytes) -> bytes:
        return self._signer.sign(value)  # type: ignore[no-any-return]

    def loads(self, value: bytes) -> bytes:
        try:
            return self._signer.unsign(value)  # type: ignore[no-any-return]
        except self._bad_signature as exc:
            raise self._error("stored entry has a missing or invalid signature") from exc
