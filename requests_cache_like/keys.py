"""Cache keys: how a request is normalised and hashed, and how secrets are redacted.

A key is 16 hex digits of BLAKE2b over a length-prefixed list of parts::

    KEY_VERSION, METHOD, normalised URL, normalised body, [matched headers...]

The URL is normalised (scheme and host lower-cased, default port and fragment dropped,
percent-encoding made canonical, query parameters sorted) and the ``ignored_parameters``
have their values replaced by ``REDACTED`` in the query, in JSON or form bodies and in matched
headers: whether a request carries one changes the key, its value does not. The key does
not depend on the serializer, the backend, the process or ``PYTHONHASHSEED``; changing any
of the rules above means a new :data:`KEY_VERSION`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from hashlib import blake2b
from itertools import pairwise
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from requests import PreparedRequest, Request
from url_normalize import url_normalize

from .policy.messages import vary_values

__all__ = [
    "KEY_VERSION",
    "REDACTED",
    "AnyRequest",
    "create_key",
    "normalize_body",
    "normalize_headers",
    "normalize_url",
    "redact_body",
    "redact_headers",
    "redact_url",
    "settings_key",
    "variant_key",
]

#: Bump when any normalisation rule changes: old entries then miss instead of matching wrongly.
KEY_VERSION = "rcl-key-1"
REDACTED = "REDACTED"

AnyRequest = Request | PreparedRequest | Any  # Any: CachedRequest and look-alikes

# Keyword arguments of Session.send that never change which response is right for a request.
_SEND_KWARGS = frozenset({"timeout", "verify", "stream", "cert", "proxies", "allow_redirects"})
_SAFE_QUERY = "!$'()*,/:;@~[]"  # kept literal when re-encoding query names and values


def _query_pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def _encode_query(pairs: Iterable[tuple[str, str]]) -> str:
    return urlencode(list(pairs), quote_via=quote, safe=_SAFE_QUERY)


# URLs that url_normalize returns unchanged, recognised in about a microsecond instead of its
# 60-odd: lower-case http(s) host, a path and query of characters that need no
# percent-encoding, no dot segments, no empty query parameters. A property test checks that
# url_normalize leaves every URL this accepts as it is.
_PLAIN = r"[A-Za-z0-9\-._~!$'()*+,;:@/?]"
_CANONICAL = re.compile(
    r"(?P<scheme>https?)://(?P<host>[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?)"
    r"(?::(?P<port>[1-9][0-9]{0,4}))?(?P<path>/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*)"
    rf"(?:\?{_PLAIN}+(?:={_PLAIN}*)?(?:&{_PLAIN}+(?:={_PLAIN}*)?)*)?",
    re.ASCII,
)
_DOT_SEGMENT = re.compile(r"/\.\.?(?:/|$)")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def is_canonical(url: str) -> bool:
    """True if ``url`` is already in the form :func:`normalize_url` would give it (before
    sorting its query), and in the form requests prepares it to."""
    match = _CANONICAL.fullmatch(url)
    if match is None:
        return False
    scheme, host, port, path = match.group("scheme", "host", "port", "path")
    if port is not None and (int(port) > 65535 or port == _DEFAULT_PORTS[scheme]):
        return False
    if "//" in path or _DOT_SEGMENT.search(path) or "xn--" in host or ".." in host:
        return False
    return all(len(label) <= 63 for label in host.split("."))


@lru_cache(maxsize=4096)
def _normalize_base(url: str) -> tuple[str, str, str, str, str]:
    # url_normalize is the slow part of key building; URLs repeat, so its result is memoised.
    normalized = url_normalize(url) or url
    scheme, netloc, path, query, _fragment = urlsplit(normalized)
    return scheme, netloc, path or "/", query, ""


# A query that re-encoding and sorting leave as it is: ``name=value`` pairs of characters
# that quote() keeps and parse_qsl() does not decode ("+" and "%" it does), in sorted order.
_KEPT = r"[A-Za-z0-9_.\-~!$'()*,/:;@]"
_KEPT_QUERY = re.compile(rf"{_KEPT}+={_KEPT}*(?:&{_KEPT}+={_KEPT}*)*", re.ASCII)


def _normal_query(query: str, ignored_parameters: Iterable[str]) -> bool:
    """True if :func:`normalize_url` would leave ``query`` as it is."""
    if _KEPT_QUERY.fullmatch(query) is None:
        return False
    pairs = [pair.split("=", 1) for pair in query.split("&")]
    if any(later < earlier for earlier, later in pairwise(pairs)):
        return False
    return not ignored_parameters or not {name for name, _ in pairs} & set(ignored_parameters)


def normalize_url(url: str, ignored_parameters: Iterable[str] = ()) -> str:
    """Return ``url`` in canonical form, the values of ``ignored_parameters`` in its query
    replaced by ``REDACTED`` (their presence still counts, their values do not)."""
    if is_canonical(url):  # no need for url_normalize, nor for its memo
        if "?" not in url or _normal_query(url.partition("?")[2], ignored_parameters):
            return url  # the usual URL: already in the form this function gives
        scheme, netloc, path, query, _ = urlsplit(url)
    else:
        scheme, netloc, path, query, _ = _normalize_base(url)
    if query:
        ignored = set(ignored_parameters)
        pairs = sorted((n, REDACTED if n in ignored else v) for n, v in _query_pairs(query))
        query = _encode_query(pairs)
    return urlunsplit((scheme, netloc, path, query, ""))


def redact_url(url: str, ignored_parameters: Iterable[str]) -> str:
    """Return ``url`` with the values of ignored query parameters replaced by ``REDACTED``."""
    ignored = set(ignored_parameters)
    if not url or "?" not in url or not ignored:
        return url
    if not any(name in url for name in ignored):  # cheaper than parsing the query
        return url
    scheme, netloc, path, query, fragment = urlsplit(url)
    pairs = _query_pairs(query)
    if not any(name in ignored for name, _ in pairs):
        return url
    redacted = [(name, REDACTED if name in ignored else value) for name, value in pairs]
    return urlunsplit((scheme, netloc, path, _encode_query(redacted), fragment))


def _content_type(headers: Mapping[str, str]) -> str:
    return (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()


def _drop_keys(data: Any, ignored: set[str], replacement: Any) -> Any:
    if isinstance(data, dict):
        if replacement is None:
            return {k: v for k, v in data.items() if k not in ignored}
        return {k: replacement if k in ignored else v for k, v in data.items()}
    return data


def _body_bytes(body: Any) -> bytes | None:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return None  # a stream or generator: not read, so not part of the key


def normalize_body(
    body: Any,
    headers: Mapping[str, str],
    ignored_parameters: Iterable[str] = (),
    content_root_key: str | None = None,
) -> bytes:
    """Return the request body in canonical form for keying.

    JSON bodies are re-encoded with sorted keys, form bodies with sorted fields; the values
    of ignored parameters are replaced by ``REDACTED`` in both. A multipart body's random
    boundary is replaced by a fixed token. Other bodies are used as they are.
    """
    raw = _body_bytes(body)
    if raw is None:
        return b"<stream>"
    if not raw:
        return b""
    ignored = set(ignored_parameters)
    content_type = _content_type(headers)
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            data = json.loads(raw)
        except ValueError:
            return raw
        if content_root_key and isinstance(data, dict) and content_root_key in data:
            data = data[content_root_key]
        data = _drop_keys(data, ignored, REDACTED)
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")
    if content_type == "application/x-www-form-urlencoded":
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
        pairs = sorted((n, REDACTED if n in ignored else v) for n, v in _query_pairs(text))
        return _encode_query(pairs).encode("utf-8")
    if content_type == "multipart/form-data":
        return _without_boundary(raw, headers.get("Content-Type") or "")
    return raw


def _without_boundary(raw: bytes, content_type: str) -> bytes:
    """A multipart body with its boundary (random per request) replaced by a fixed token,
    so the same files and fields give the same key."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary" and value.strip('"'):
            return raw.replace(value.strip('"').encode("latin-1"), b"<boundary>")
    return raw


def redact_body(
    body: Any, headers: Mapping[str, str], ignored_parameters: Iterable[str]
) -> bytes | None:
    """Return ``body`` with ignored JSON fields or form fields replaced by ``REDACTED``."""
    if body is None:
        return None  # as on a live PreparedRequest without a body
    raw = _body_bytes(body)
    if not raw:
        return raw
    ignored = set(ignored_parameters)
    content_type = _content_type(headers)
    try:
        if content_type == "application/json" or content_type.endswith("+json"):
            data = json.loads(raw)
            if isinstance(data, dict) and ignored.intersection(data):
                return json.dumps(_drop_keys(data, ignored, REDACTED)).encode("utf-8")
        elif content_type == "application/x-www-form-urlencoded":
            pairs = _query_pairs(raw.decode("utf-8"))
            if any(name in ignored for name, _ in pairs):
                return _encode_query((n, REDACTED if n in ignored else v) for n, v in pairs).encode(
                    "utf-8"
                )
    except (ValueError, UnicodeDecodeError):
        pass
    return raw


def redact_headers(headers: Mapping[str, str], ignored_parameters: Iterable[str]) -> dict[str, str]:
    """Return a copy of ``headers`` with the values of the ignored (secret) ones replaced by
    ``REDACTED``, as requests-cache stores them."""
    ignored = {p.lower() for p in ignored_parameters}
    return {k: (REDACTED if k.lower() in ignored else v) for k, v in headers.items()}


def normalize_headers(
    headers: Mapping[str, str],
    match_headers: bool | Iterable[str],
    ignored_parameters: Iterable[str] = (),
) -> list[str]:
    """Return the ``name:value`` strings of the headers that take part in the key."""
    if not match_headers:
        return []
    ignored = {p.lower() for p in ignored_parameters}
    lowered = {k.lower(): str(v) for k, v in headers.items()}
    if match_headers is True:
        # An ignored header counts by its presence, not its value (as in requests-cache).
        return [f"{n}:{REDACTED if n in ignored else lowered[n]}" for n in sorted(lowered)]
    names = sorted({n.lower() for n in match_headers})
    return [f"{name}:{lowered.get(name, '')}" for name in names]


def _as_prepared(request: AnyRequest) -> Any:
    if isinstance(request, Request):
        return request.prepare()
    return request


def create_key(
    request: AnyRequest,
    ignored_parameters: Iterable[str] | None = None,
    match_headers: bool | Iterable[str] = False,
    serializer: Any = None,
    content_root_key: str | None = None,
    **request_kwargs: Any,
) -> str:
    """Return the cache key (16 hex digits) for ``request``.

    ``serializer`` is accepted for requests-cache compatibility and does not affect the key.
    ``request_kwargs`` may hold the keyword arguments of ``Session.send``: ``verify=False``
    makes another key (as in requests-cache: a response fetched without certificate checks
    never answers a request that asks for them); the others (``timeout`` ...) change nothing;
    anything else is an error.
    """
    unknown = sorted(set(request_kwargs) - _SEND_KWARGS) if request_kwargs else ()
    if unknown:
        raise TypeError(
            f"create_key() got unexpected keyword argument(s): {', '.join(unknown)}; "
            f"accepted: ignored_parameters, match_headers, content_root_key, "
            f"{', '.join(sorted(_SEND_KWARGS))}"
        )
    prepared = _as_prepared(request)
    ignored = tuple(ignored_parameters or ())
    headers = prepared.headers or {}
    parts = [
        KEY_VERSION,
        (prepared.method or "GET").upper(),
        normalize_url(prepared.url or "", ignored),
    ]
    body = normalize_body(prepared.body, headers, ignored, content_root_key)
    digest = blake2b(digest_size=8)
    for part in parts:
        encoded = part.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    digest.update(len(body).to_bytes(8, "big"))
    digest.update(body)
    for header in normalize_headers(headers, match_headers, ignored):
        encoded = header.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    if request_kwargs.get("verify", True) is False:
        digest.update(b"\x00verify=False")  # only then: every other key stays as it was
    return digest.hexdigest()


class KeySettings(Protocol):
    """The settings a key depends on (``CacheSettings`` satisfies it)."""

    @property
    def key_fn(self) -> Any: ...
    @property
    def ignored_parameters(self) -> tuple[str, ...]: ...
    @property
    def match_headers(self) -> bool | tuple[str, ...]: ...
    @property
    def content_root_key(self) -> str | None: ...


def settings_key(
    request: AnyRequest, settings: KeySettings, match_headers: Any = None, **kwargs: Any
) -> str:
    """Return the key of ``request`` under ``settings``: their ``key_fn``, or
    :func:`create_key` with their ``ignored_parameters``, ``match_headers`` and
    ``content_root_key``."""
    headers = settings.match_headers if match_headers is None else match_headers
    if settings.key_fn is not None:
        key: str = settings.key_fn(
            request=request,
            ignored_parameters=settings.ignored_parameters,
            match_headers=headers,
            **kwargs,
        )
        return key
    return create_key(
        request,
        ignored_parameters=settings.ignored_parameters,
        match_headers=headers,
        content_root_key=settings.content_root_key,
        **kwargs,
    )


def variant_key(key: str, group: str, names: tuple[str, ...], headers: Mapping[str, str]) -> str:
    """Return the storage key of one ``Vary`` variant of the response stored under ``key``:
    ``group`` is the variants' shared id, ``names`` the fields they vary on and ``headers``
    the request's (RFC 9111 §4.1)."""
    digest = blake2b(digest_size=8)
    digest.update(group.encode())
    for name, value in zip(names, vary_values(names, headers), strict=True):
        digest.update(f"\x00{name}\x01{value}".encode())
    return f"{key}-v{digest.hexdigest()}"
