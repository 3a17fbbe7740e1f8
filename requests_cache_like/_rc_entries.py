"""Entries stored by requests-cache 1.x, read into this package's :class:`CachedResponse`.

requests-cache turns a response into a dict of builtins with cattrs, then encodes the dict
with its serializer. The format is recognised from each entry's own bytes (a cache may hold
entries written with several serializers), never from a file name or a setting:

=============  ===============================================================
pickle         ``\\x80`` and a protocol number (requests-cache's default)
BSON           a little-endian length equal to the entry's length, a final NUL
JSON           a ``{`` first (its bodies are base64 text)
YAML           a mapping that PyYAML's safe loader reads (bodies are ``!!binary``)
document       a MongoDB document: the dict itself, nothing to decode
=============  ===============================================================

Pickle is read only when the caller trusts it, and even then with an unpickler that refuses
every class and function: requests-cache 1.x pickles plain dicts, so nothing is lost, and
an entry that names a global is reported as unreadable instead of being run.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import io
import json
import pickle
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from .backends.integrity import MAGIC as SEAL_MAGIC
from .models import CachedResponse
from .serializers import FrameStage, make_converter

__all__ = [
    "PICKLE_REASON",
    "EntrySkipped",
    "EntryUnreadable",
    "decode",
    "detect_format",
    "read_entry",
    "response_fields",
]

#: Why pickled entries are skipped without ``trust_pickle``.
PICKLE_REASON = (
    "pickled (requests-cache's default format): loading pickle can run code, so these were "
    "not read; convert again with --trust-pickle (trust_pickle=True) if you trust whoever "
    "could write to this cache"
)
OURS_REASON = "already a requests_cache_like entry"
_RESPONSE_FIELDS = ("url", "status_code", "reason", "encoding")
_REQUEST_FIELDS = ("method", "url")
_converter = make_converter(binary=True)


class EntrySkipped(Exception):
    """The entry was deliberately not converted; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EntryUnreadable(Exception):
    """The entry could not be decoded into a response; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def detect_format(value: Any) -> str:
    """Return the format of a stored entry: ``"pickle"``, ``"bson"``, ``"json"``, ``"yaml"``,
    ``"document"`` (already a dict), ``"ours"`` (this package's frame) or ``"unknown"``."""
    if isinstance(value, Mapping):
        return "document"
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, (bytes, bytearray, memoryview)):
        return "unknown"
    data = bytes(value)
    if data.startswith((FrameStage.MAGIC, SEAL_MAGIC)):
        return "ours"
    # BSON first: its length prefix may begin with the byte pickle starts with, but a pickle
    # never starts with its own length.
    if len(data) >= 5 and int.from_bytes(data[:4], "little") == len(data) and data[-1] == 0:
        return "bson"
    if len(data) > 2 and data[0] == 0x80 and 2 <= data[1] <= pickle.HIGHEST_PROTOCOL:
        return "pickle"
    text = data.lstrip()
    if text.startswith(b"{"):
        return "json"
    if text and not text.startswith((b"[", b"-", b"#")) and b":" in text.split(b"\n", 1)[0]:
        return "yaml"  # a block mapping: its first line holds "key: value"
    return "unknown"


class _DataOnlyUnpickler(pickle.Unpickler):
    """An unpickler for plain data: any class or function it is asked for is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"it refers to {module}.{name}; only plain data is read")


def _decode_pickle(data: bytes) -> Any:
    try:
        return _DataOnlyUnpickler(io.BytesIO(data)).load()
    except Exception as exc:  # any malformed pickle: UnpicklingError, EOFError, ValueError ...
        raise EntryUnreadable(f"pickle not loaded: {exc}") from exc


def _decode_bson(data: bytes) -> Any:
    try:
        bson = importlib.import_module("bson")
    except ImportError as exc:
        raise EntryUnreadable(
            "BSON needs pymongo: pip install 'requests-cache-like[mongodb]'"
        ) from exc
    try:
        return bson.decode(data)
    except Exception as exc:  # bson.errors.InvalidBSON and friends
        raise EntryUnreadable(f"invalid BSON: {exc}") from exc


def _decode_json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:
        raise EntryUnreadable(f"invalid JSON: {exc}") from exc


def _decode_yaml(data: bytes) -> Any:
    try:
        yaml = importlib.import_module("yaml")
    except ImportError as exc:
        raise EntryUnreadable("YAML needs PyYAML: pip install 'requests-cache-like[yaml]'") from exc
    try:
        return yaml.safe_load(data)
    except Exception as exc:  # yaml.YAMLError and its subclasses
        raise EntryUnreadable(f"invalid YAML: {exc}") from exc


def decode(value: Any, trust_pickle: bool = False) -> Mapping[str, Any]:
    """Return the dict requests-cache stored in ``value``; raise :class:`EntrySkipped` or
    :class:`EntryUnreadable`."""
    kind = detect_format(value)
    if kind == "ours":
        raise EntrySkipped(OURS_REASON)
    if kind == "pickle" and not trust_pickle:
        raise EntrySkipped(PICKLE_REASON)
    if kind == "unknown":
        raise EntryUnreadable("not a format requests-cache writes (pickle, JSON, YAML, BSON)")
    if kind == "document":
        data: Any = value
    else:
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        decoders = {
            "pickle": _decode_pickle,
            "bson": _decode_bson,
            "json": _decode_json,
            "yaml": _decode_yaml,
        }
        data = decoders[kind](raw)
    if not isinstance(data, Mapping):
        raise EntryUnreadable(f"{kind} entry holds a {type(data).__name__}, not a response")
    if "_v" in data:
        raise EntrySkipped(OURS_REASON)
    return data


# -- requests-cache's response dict to this package's ---------------------------------------
def _body(value: Any) -> bytes:
    """Return a stored body: bytes as they are (pickle, BSON, YAML), base64 text (JSON)."""
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise EntryUnreadable(f"a body is neither bytes nor base64: {exc}") from exc
    raise EntryUnreadable(f"a body is a {type(value).__name__}")


def _timestamp(value: Any) -> str | None:
    """Return an ISO-8601 UTC time from requests-cache's text or datetime (naive is UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise EntryUnreadable(f"a time is not ISO-8601: {value!r}") from exc
    else:
        raise EntryUnreadable(f"a time is a {type(value).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat()


def _seconds(value: Any) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    return 0.0


def _headers(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(name): str(field) for name, field in value.items()}


def _decoded_body(data: Mapping[str, Any], headers: dict[str, str]) -> bytes | None:
    """Return the body requests-cache stored decoded (``decode_content``: JSON or text), encoded
    again as requests-cache does when it reads it; None if the body was stored as bytes."""
    decoded = data.get("_decoded_content")
    if decoded is None:
        return None
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if isinstance(decoded, str) and not (
        content_type.startswith("application/") and "json" in content_type
    ):
        return decoded.encode("utf-8")
    return json.dumps(decoded).encode("utf-8")


def _request_fields(data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        return {}
    fields = {name: data[name] for name in _REQUEST_FIELDS if data.get(name) is not None}
    fields["headers"] = _headers(data.get("headers"))
    fields["body"] = _body(data.get("body"))
    return fields


def response_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return requests-cache's response dict as this package's unstructured response: the
    same field names, bodies as bytes, times as ISO-8601 UTC, its own extras left out
    (``cookies``, ``raw``, ``_next``)."""
    headers = _headers(data.get("headers"))
    fields = {name: data[name] for name in _RESPONSE_FIELDS if data.get(name) is not None}
    decoded = _decoded_body(data, headers)
    if decoded is None:
        fields["_content"] = _body(data.get("_content"))
    else:
        fields["_content"] = decoded
        fields["encoding"] = "utf-8"
        for name in [n for n in headers if n.lower() == "content-length"]:
            headers[name] = str(len(decoded))
    fields["headers"] = headers
    fields["elapsed"] = _seconds(data.get("elapsed"))
    fields["request"] = _request_fields(data.get("request"))
    history = data.get("history") or []
    if not isinstance(history, list):
        raise EntryUnreadable(f"history is a {type(history).__name__}")
    fields["history"] = [response_fields(previous) for previous in history]
    for name in ("created_at", "expires"):
        fields[name] = _timestamp(data.get(name))
    if fields["created_at"] is None:
        del fields["created_at"]  # this package's default: now
    return fields


def read_entry(value: Any, trust_pickle: bool = False) -> CachedResponse:
    """Return the response in one stored requests-cache entry (bytes, text or a document).

    Raises :class:`EntrySkipped` (pickle without ``trust_pickle``, an entry of this package)
    or :class:`EntryUnreadable` (anything that is not a requests-cache response)."""
    data = decode(value, trust_pickle)
    if "status_code" not in data and "request" not in data:
        raise EntryUnreadable("a mapping without a status code or a request")
    try:
        fields = response_fields(data)
        response: CachedResponse = _converter.structure(fields, CachedResponse)
    except EntryUnreadable:
        raise
    except Exception as exc:  # cattrs raises several types, all meaning "not a response"
        raise EntryUnreadable(f"malformed response: {exc}") from exc
    return response
