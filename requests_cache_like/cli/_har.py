"""Stored responses as HAR 1.2 (HTTP Archive), the format browsers' developer tools open.

Each response becomes one entry (one per redirect hop it followed, then the final answer);
the HAR has no place for a cache key or an expiry time, so they go in the custom fields
``_cacheKey`` and ``_expires`` (HAR allows fields that start with ``_``).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from datetime import timezone
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .. import __version__
from ..models import CachedRequest, CachedResponse
from ._output import PROG

__all__ = ["body_text", "har_document", "har_entries"]

_CHARSET = re.compile(r"charset=([^;\s]+)", re.IGNORECASE)
_HTTP_VERSION = "HTTP/1.1"  # the version is not stored; requests speaks HTTP/1.1


def _pairs(items: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": str(name), "value": str(value)} for name, value in items]


def _cookies(header: str | None) -> list[dict[str, str]]:
    """The name/value pairs of a ``Cookie`` or ``Set-Cookie`` header (attributes left out)."""
    if not header:
        return []
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return []
    return [{"name": name, "value": morsel.value} for name, morsel in jar.items()]


def _mime_type(headers: Mapping[str, str]) -> str:
    return headers.get("Content-Type") or "x-unknown"


def body_text(body: bytes, content_type: str | None) -> str | None:
    """``body`` as text in its ``charset`` (UTF-8 when the type names none), or None if it
    does not decode or holds NUL characters (binary)."""
    match = _CHARSET.search(content_type or "")
    try:
        text = body.decode(match.group(1).strip("\"'") if match else "utf-8")
    except (UnicodeDecodeError, LookupError):
        return None
    return None if "\x00" in text else text


def _content(body: bytes, mime_type: str) -> dict[str, Any]:
    """HAR ``content``: the body as text when it is text, else base64 with ``encoding``."""
    content: dict[str, Any] = {"size": len(body), "mimeType": mime_type}
    text = body_text(body, mime_type)
    if text is not None:
        content["text"] = text
    else:
        content["text"] = base64.b64encode(body).decode("ascii")
        content["encoding"] = "base64"
    return content


def _request(request: CachedRequest) -> dict[str, Any]:
    body = request.body or b""
    har: dict[str, Any] = {
        "method": request.method,
        "url": request.url,
        "httpVersion": _HTTP_VERSION,
        "headers": _pairs(request.headers.items()),
        "queryString": _pairs(parse_qsl(urlsplit(request.url).query, keep_blank_values=True)),
        "cookies": _cookies(request.headers.get("Cookie")),
        "headersSize": -1,
        "bodySize": len(body),
    }
    if body:
        mime_type = request.headers.get("Content-Type") or "application/octet-stream"
        content = _content(body, mime_type)
        har["postData"] = {"mimeType": mime_type, "params": [], "text": content["text"]}
        if "encoding" in content:
            har["postData"]["_encoding"] = "base64"
    return har


def _response(response: CachedResponse) -> dict[str, Any]:
    body = response.content or b""
    mime_type = _mime_type(response.headers)
    return {
        "status": response.status_code,
        "statusText": response.reason or "",
        "httpVersion": _HTTP_VERSION,
        "headers": _pairs(response.headers.items()),
        "cookies": _cookies(response.headers.get("Set-Cookie")),
        "content": _content(body, mime_type),
        "redirectURL": response.headers.get("Location", ""),
        "headersSize": -1,
        "bodySize": len(body),
    }


def _entry(response: CachedResponse, key: str) -> dict[str, Any]:
    wait = round(response.elapsed.total_seconds() * 1000, 3)
    started = response.created_at.astimezone(timezone.utc) - response.elapsed
    entry: dict[str, Any] = {
        "startedDateTime": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "time": wait,
        "request": _request(response.request),
        "response": _response(response),
        "cache": {},
        "timings": {"send": 0, "wait": wait, "receive": 0},
        "_cacheKey": key,
    }
    if response.expires is not None:
        entry["_expires"] = response.expires.isoformat()
    return entry


def har_entries(response: CachedResponse, key: str) -> list[dict[str, Any]]:
    """The HAR entries of one stored response: each redirect it followed, then itself."""
    entries = [_entry(hop, key) for hop in response.history] + [_entry(response, key)]
    # A hop's created_at is when the chain was stored, after the last response arrived: keep
    # each hop no later than the one it led to, so that sorting by start keeps the chain.
    for hop, led_to in zip(reversed(entries[:-1]), reversed(entries[1:]), strict=True):
        hop["startedDateTime"] = min(hop["startedDateTime"], led_to["startedDateTime"])
    return entries


def har_document(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A HAR 1.2 document holding ``entries``, sorted by when they started."""
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": PROG, "version": __version__},
            "pages": [],
            "entries": sorted(entries, key=lambda entry: entry["startedDateTime"]),
        }
    }
