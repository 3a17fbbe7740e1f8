"""Header-level rules of standards mode: what is stored, how a 304 or HEAD freshens a stored
response, how an application's own conditional request is answered, which variant a request
selects, and which stored responses an unsafe request invalidates.

Plain functions over header mappings; nothing here performs I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from .directives import bounded_int, parse_cache_control
from .freshness import parse_http_date

__all__ = [
    "HOP_BY_HOP",
    "SAFE_METHODS",
    "byte_range",
    "invalidation_targets",
    "is_not_modified",
    "merge_headers",
    "unstorable_headers",
    "variants_match",
    "vary_names",
    "vary_values",
]

#: RFC 9110 §7.6.1 and RFC 9111 §3.1: connection-specific fields a cache must not store.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authentication-info",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
#: RFC 9110 §9.2.1: methods that do not invalidate stored responses.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: RFC 9111 §3.2: a 304 or HEAD response never replaces these stored fields.
_NEVER_UPDATED = frozenset({"content-length"})
#: Fields of a stored response that a 304 answer to the application leaves out.
_BODY_FIELDS = frozenset(
    {"content-length", "content-encoding", "content-range", "transfer-encoding"}
)


def unstorable_headers(headers: Mapping[str, str]) -> set[str]:
    """Return the (lower-case) names of fields not to store with a response.

    Hop-by-hop fields and those named in ``Connection`` (RFC 9111 §3.1), and those named by
    ``no-cache="..."`` (§5.2.2.4): dropping them lets the rest of the response be reused
    without revalidation. ``private="..."`` fields are kept: this is a private cache.
    """
    names = {name.lower() for name in headers if name.lower() in HOP_BY_HOP}
    for listed in headers.get("Connection", "").split(","):
        if listed.strip():
            names.add(listed.strip().lower())
    directives = parse_cache_control(headers.get("Cache-Control"))
    names.update(directives.no_cache_fields)
    return names


def merge_headers(
    stored: MutableMapping[str, str], fresh: Mapping[str, str], keep: Iterable[str] = ()
) -> None:
    """Update ``stored`` with the fields of a 304 or HEAD response (RFC 9111 §3.2, §4.3.4).

    Every field replaces the stored one, except ``Content-Length``, hop-by-hop fields and
    those in ``keep``.
    """
    skip = _NEVER_UPDATED | unstorable_headers(fresh) | {name.lower() for name in keep}
    for name, value in fresh.items():
        if name.lower() not in skip:
            stored[name] = value


def not_modified_headers(stored: Mapping[str, str]) -> dict[str, str]:
    """Return the fields of a 304 generated from a stored response (RFC 9110 §15.4.5)."""
    return {name: value for name, value in stored.items() if name.lower() not in _BODY_FIELDS}


_ETAG = re.compile(r'\s*(W/)?("[^"]*"|[^,\s]+)\s*(?:,|$)')


def _entity_tags(value: str) -> list[str]:
    """Return the opaque tags in an ``If-None-Match`` list (weak prefixes dropped)."""
    return [match.group(2) for match in _ETAG.finditer(value) if match.group(2)]


def is_not_modified(
    request_headers: Mapping[str, str], stored_headers: Mapping[str, str], now: datetime
) -> bool | None:
    """Evaluate an application's ``If-None-Match`` / ``If-Modified-Since`` against a stored
    response (RFC 9110 §13.1.2, §13.1.3, §13.2.2).

    True: the stored representation is unchanged (answer 304); False: it differs (answer
    with it); None: the request carries neither field.
    """
    if_none_match = request_headers.get("If-None-Match")
    if if_none_match is not None:
        # If-None-Match takes precedence over If-Modified-Since, using weak comparison.
        if if_none_match.strip() == "*":
            return True
        etag = stored_headers.get("ETag")
        if not etag:
            return False
        stored_tag = etag.strip().removeprefix("W/")
        return stored_tag in _entity_tags(if_none_match)
    if_modified_since = request_headers.get("If-Modified-Since")
    if if_modified_since is None:
        return None
    since = parse_http_date(if_modified_since, now)
    if since is None:
        return False
    modified = parse_http_date(
        stored_headers.get("Last-Modified") or stored_headers.get("Date"), now
    )
    return modified is not None and modified <= since


def vary_names(headers: Mapping[str, str]) -> tuple[str, ...] | None:
    """Return the request fields a response varies on (lower-case, sorted), ``("*",)`` if it
    varies on something no request field expresses, or None without ``Vary`` (RFC 9110
    §12.5.5)."""
    raw = headers.get("Vary")
    if raw is None:
        return None
    names = {name.strip().lower() for name in raw.split(",") if name.strip()}
    if "*" in names:
        return ("*",)
    return tuple(sorted(names))


def _normalise(name: str, value: str | None) -> str | None:
    """Normalise a field value so equivalent spellings match (RFC 9111 §4.1): list members
    trimmed; language tags also case-folded and ordered."""
    if value is None:
        return None
    members = [member.strip() for member in value.split(",")]
    if name == "accept-language":
        members = sorted(member.lower().replace(" ", "") for member in members)
    return ",".join(member for member in members if member)


def vary_values(names: Iterable[str], request_headers: Mapping[str, str]) -> tuple[str | None, ...]:
    """Return the normalised values of the fields ``names`` in a request."""
    return tuple(_normalise(name, request_headers.get(name)) for name in names)


def variants_match(
    names: tuple[str, ...], stored_request: Mapping[str, str], request: Mapping[str, str]
) -> bool:
    """True if ``request`` selects the stored response whose request was ``stored_request``
    (RFC 9111 §4.1). ``Vary: *`` never matches."""
    if names == ("*",):
        return False
    return vary_values(names, stored_request) == vary_values(names, request)


_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.IGNORECASE | re.ASCII)
_CONTENT_RANGE = re.compile(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", re.IGNORECASE | re.ASCII)
#: Byte positions past this are all "beyond any representation" (and never int() of a
#: string longer than Python converts).
_MAX_POSITION = 2**63 - 1


def _position(digits: str) -> int:
    return bounded_int(digits, _MAX_POSITION)


def byte_range(range_header: str, length: int) -> tuple[int, int] | None:
    """Return the ``(first, last)`` byte positions of a single-range ``Range`` request
    against a representation of ``length`` bytes (RFC 9110 §14.1.2), or None if the request
    is not one satisfiable range."""
    match = _RANGE.fullmatch(range_header)
    if not match or length <= 0:
        return None
    first, last = match.groups()
    if not first:
        if not last or _position(last) == 0:
            return None
        return max(0, length - _position(last)), length - 1
    start = _position(first)
    end = min(_position(last), length - 1) if last else length - 1
    if start >= length or end < start:
        return None
    return start, end


def content_range(headers: Mapping[str, str]) -> tuple[int, int, int | None] | None:
    """Return ``(first, last, complete_length)`` from a 206 response's ``Content-Range``."""
    match = _CONTENT_RANGE.fullmatch(headers.get("Content-Range", ""))
    if not match:
        return None
    first_text, last_text, total_text = match.groups()
    first, last = _position(first_text), _position(last_text)
    total = None if total_text == "*" else _position(total_text)
    # RFC 9110 §14.4: a range that ends before it starts, or past the end, is invalid.
    if last < first or (total is not None and last >= total):
        return None
    return first, last, total


def invalidation_targets(
    method: str, url: str, status_code: int, response_headers: Mapping[str, str]
) -> list[str]:
    """Return the URLs whose stored responses an answer to an unsafe request invalidates
    (RFC 9111 §4.4): the target URI, and ``Location`` / ``Content-Location`` when they are on
    the same origin, after a non-error (2xx or 3xx) response."""
    if method.upper() in SAFE_METHODS or not 200 <= status_code < 400:
        return []
    targets = [url]
    origin = urlsplit(url)[:2]
    for name in ("Location", "Content-Location"):
        value = response_headers.get(name)
        if value:
            try:
                absolute = urljoin(url, value.strip())
                same_origin = urlsplit(absolute)[:2] == origin
            except ValueError:  # not a URI reference ("http://[::1"): names nothing stored
                continue
            if same_origin and absolute not in targets:
                targets.append(absolute)
    return targets
