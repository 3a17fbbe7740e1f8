"""Reading a stored entry whatever serializer wrote it.

A cache may hold entries written by sessions with different serializers, so the format is
recognised from each entry's own bytes, never assumed. Under the seal (:mod:`..backends.
integrity`) the data is the output of a serializer pipeline: codec, then optional
compression, then an optional signature. Each layer shows itself:

=============  =======================================================================
default        ``RCLF\\x01`` (:class:`~..serializers.FrameStage`)
pickle         ``\\x80`` and a protocol number; read with an unpickler that loads no
               class or function, so it never runs code
json           ``{`` first
msgpack        a map marker first (``0x80``-``0x8f``, ``0xde``, ``0xdf``)
yaml           text that PyYAML's safe loader reads as a mapping
+zlib          a zlib header (``0x78 ..`` and the header checksum)
+zstd          the Zstandard magic number ``28 b5 2f fd``
+signed        ``payload.signature`` (itsdangerous); read without verifying the signature
=============  =======================================================================

The result is a :class:`Decoded`: the response (or other value) and the format's name in
the spelling ``serializer=`` takes (``"json+zstd"``). An entry that no format reads is
:class:`Unreadable`; one whose format is known but cannot be read here (a library not
installed, another format version, a pickle that names a class) is
:class:`Unsupported`, a subclass, so that ``delete --invalid`` never deletes it.
"""

from __future__ import annotations

import io
import pickle
import re
import zlib
from collections.abc import Callable
from functools import cache
from typing import Any

from attrs import define

from ..backends.integrity import IntegrityError, is_sealed, unseal
from ..exceptions import DeserializationError
from ..serializers import FORMAT_VERSION, CattrStage, FrameStage, JSONStage

__all__ = ["Decoded", "Unreadable", "Unsupported", "decode_entry"]

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_SIGNATURE = re.compile(rb"[A-Za-z0-9_-]{20,}")
#: Layers a pipeline may wrap around its codec: compression, then a signature.
_MAX_LAYERS = 3
_UNKNOWN = (
    "not a known format (default, json, yaml, msgpack or pickle, optionally with "
    "+zlib, +zstd or +signed)"
)


class Unreadable(Exception):
    """The entry cannot be read as any known format; the message says why."""


class Unsupported(Unreadable):
    """The entry's format is known, but this installation cannot read it."""


@define(frozen=True)
class Decoded:
    """A decoded entry: its value (usually a CachedResponse) and its format's name."""

    value: Any
    format: str


class _DataOnlyUnpickler(pickle.Unpickler):
    """Loads plain data only: asked for any class or function, it refuses (never runs code)."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"it names {module}.{name}")


def _load_pickle(data: bytes) -> Any:
    stream = io.BytesIO(data)
    try:
        value = _DataOnlyUnpickler(stream).load()
    except pickle.UnpicklingError as exc:
        if "it names" in str(exc):
            raise Unsupported(f"pickle not loaded: {exc}; only plain data is read") from exc
        raise DeserializationError(f"not a valid pickle: {exc}") from exc
    except Exception as exc:  # a malformed pickle raises many kinds
        raise DeserializationError(f"not a valid pickle: {exc}") from exc
    if stream.tell() != len(data):  # a signed pickle: the signature follows the STOP opcode
        raise DeserializationError("trailing bytes after the pickle")
    return value


def _optional_stage(module: str, extra: str, make: Callable[[], Any]) -> Callable[[bytes], Any]:
    """A loader for a stage whose library may be missing: then the entry is Unsupported."""

    def load(data: bytes) -> Any:
        try:
            stage = make()
        except ImportError as exc:
            raise Unsupported(
                f"a {module} entry: pip install 'requests-cache-like[{extra}]' to read it"
            ) from exc
        return stage.loads(data)

    return load


def _msgpack() -> Any:
    from ..serializers import MsgpackStage

    return MsgpackStage()


def _yaml() -> Any:
    from ..serializers import YAMLStage

    return YAMLStage()


def _zstd() -> Any:
    from ..serializers import ZstdStage

    return ZstdStage()


def _is_msgpack_map(data: bytes) -> bool:
    return bool(data) and (0x80 <= data[0] <= 0x8F or data[0] in (0xDE, 0xDF))


def _is_zlib(data: bytes) -> bool:
    return (
        len(data) > 2
        and data[0] & 0x0F == 8
        and data[0] >> 4 <= 7
        and not ((data[0] << 8) | data[1]) % 31
    )


def _is_text(data: bytes) -> bool:
    return b"\x00" not in data[:1024]


#: (name, looks like it, load, whether bodies are bytes (True) or base64 text), in the
#: order they are tried: the cheap, unambiguous markers first.
_CODECS: list[tuple[str, Callable[[bytes], bool], Callable[[bytes], Any], bool]] = [
    ("default", lambda d: d.startswith(FrameStage.MAGIC), FrameStage().loads, True),
    ("pickle", lambda d: len(d) > 2 and d[0] == 0x80 and 2 <= d[1] <= 5, _load_pickle, True),
    ("json", lambda d: d.lstrip()[:1] == b"{", JSONStage().loads, False),
    ("msgpack", _is_msgpack_map, _optional_stage("msgpack", "msgpack", _msgpack), True),
    ("yaml", _is_text, _optional_stage("yaml", "yaml", _yaml), False),
]


def _unsign(data: bytes) -> bytes:
    payload, _, signature = data.rpartition(b".")
    if not payload or not _SIGNATURE.fullmatch(signature):
        raise DeserializationError("no signature")
    return payload


#: Layers around the codec: (name, looks like it, unwrap). The signature first: it is the
#: outermost layer, and zstd would read a signed frame while ignoring the signature after it.
_LAYERS: list[tuple[str, Callable[[bytes], bool], Callable[[bytes], bytes]]] = [
    ("signed", lambda d: b"." in d[-64:], _unsign),
    ("zlib", _is_zlib, zlib.decompress),
    ("zstd", lambda d: d.startswith(_ZSTD_MAGIC), _optional_stage("zstd", "zstd", _zstd)),
]


@cache
def _structurer(binary: bool) -> CattrStage:
    return CattrStage(binary=binary)


def _try_codecs(data: bytes, missing: list[Unsupported]) -> tuple[str, Any] | None:
    for name, looks_like, load, binary in _CODECS:
        if not looks_like(data):
            continue
        try:
            plain = load(data)
        except Unsupported as exc:
            missing.append(exc)
            continue
        except (DeserializationError, ValueError):
            continue
        if isinstance(plain, dict) and "_v" in plain:  # a cattrs entry, of whatever version
            return name, _structured(plain, binary)
    return None


def _structured(plain: dict[str, Any], binary: bool) -> Any:
    if plain["_v"] != FORMAT_VERSION:
        raise Unsupported(
            f"format version {plain['_v']!r}; this release reads version {FORMAT_VERSION}"
        )
    try:
        return _structurer(binary).loads(plain)
    except DeserializationError as exc:
        raise Unreadable(str(exc)) from exc


def decode_data(data: bytes, missing: list[Unsupported] | None = None, depth: int = 0) -> Decoded:
    """Return the value in a serializer's output ``data`` and the format that wrote it."""
    missing = [] if missing is None else missing
    found = _try_codecs(data, missing)
    if found is not None:
        return Decoded(found[1], found[0])
    if depth < _MAX_LAYERS:
        for name, looks_like, unwrap in _LAYERS:
            if not looks_like(data):
                continue
            try:
                inner = unwrap(data)
                decoded = decode_data(inner, missing, depth + 1)
            except Unsupported as exc:
                missing.append(exc)
                continue
            except (Unreadable, DeserializationError, ValueError, zlib.error):
                continue
            return Decoded(decoded.value, f"{decoded.format}+{name}")
    if missing:
        raise missing[0]
    raise Unreadable(_UNKNOWN)


def decode_entry(key: str, raw: Any) -> Decoded:
    """Return the value stored under ``key`` as ``raw`` bytes, and its format.

    The seal is verified first: a damaged entry, or one under another key, is Unreadable
    whatever its data says. An entry without a seal (written before entries were sealed;
    the library reads it as a miss) is still decoded, and its format says ``(unsealed)``.
    """
    data: bytes | bytearray | memoryview | str
    try:
        data = unseal(key, raw)
        suffix = ""
    except IntegrityError as exc:
        if is_sealed(raw) or not isinstance(raw, (bytes, bytearray, memoryview, str)):
            raise Unreadable(str(exc)) from exc
        data, suffix = raw, " (unsealed)"
    payload = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    decoded = decode_data(payload)
    return Decoded(decoded.value, decoded.format + suffix)
