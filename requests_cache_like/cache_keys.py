"""requests-cache's ``cache_keys`` module: normalised requests and redacted responses.

:func:`create_key` is this package's key (the one sessions use, see :mod:`.keys`). The
``normalize_*`` helpers give requests-cache's normalised forms, used to compare requests and
to keep secrets out of what is stored: parameters are sorted, multi-value headers tidied, and
the values of ``ignored_parameters`` replaced by ``REDACTED``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from requests import PreparedRequest, Request, Session
from requests.structures import CaseInsensitiveDict
from url_normalize import url_normalize

from .keys import REDACTED, AnyRequest, create_key

if TYPE_CHECKING:
    from .models import CachedResponse

__all__ = [
    "MAX_NORM_BODY_SIZE",
    "create_key",
    "normalize_body",
    "normalize_headers",
    "normalize_json_body",
    "normalize_params",
    "normalize_request",
    "normalize_url",
    "redact_response",
]

logger = logging.getLogger(__name__)

#: JSON bodies larger than this are left as they are (parsing them would cost too much).
MAX_NORM_BODY_SIZE = 10 * 1024 * 1024
_JSON_TYPES = ("application/json", "application/vnd.api+json")


def _text(value: str | bytes | None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value or ""


def _redacted(pairs: Iterable[tuple[str, Any]], ignored: Iterable[str] | None) -> list[Any]:
    names = set(ignored or ())
    return [(name, REDACTED if name in names else value) for name, value in sorted(pairs)]


def normalize_params(value: str | bytes, ignored_parameters: Iterable[str] | None = None) -> str:
    """Return URL-encoded parameters (a query string or a form body) sorted, with the values of
    ``ignored_parameters`` replaced by ``REDACTED``; names without a value are kept, last."""
    text = _text(value)
    query = urlencode(_redacted(parse_qsl(text), ignored_parameters))
    bare = sorted(part for part in text.split("&") if part and "=" not in part)
    return "&".join(part for part in [query, *bare] if part)


def _filter_url(url: str, ignored_parameters: Iterable[str] | None) -> str:
    scheme, netloc, path, query, fragment = urlsplit(url)
    return urlunsplit((scheme, netloc, path, normalize_params(query, ignored_parameters), fragment))


def normalize_url(url: str, ignored_parameters: Iterable[str] | None = None) -> str:
    """Return ``url`` normalised (scheme, host, port, percent-encoding, sorted parameters) with
    the values of ``ignored_parameters`` redacted."""
    return url_normalize(_filter_url(url, ignored_parameters)) or ""


def normalize_headers(
    headers: Mapping[str, Any], ignored_parameters: Iterable[str] | None = None
) -> CaseInsensitiveDict[str]:
    """Return ``headers`` sorted, ignored ones redacted, and comma-separated values
    lower-cased and sorted so that equivalent spellings compare equal."""
    items = [(name, _text(value)) for name, value in headers.items()]
    normalised = {}
    for name, value in _redacted(items, ignored_parameters):
        if "," in value:
            members = [member.strip() for member in value.lower().split(",") if member.strip()]
            value = ", ".join(sorted(members))
        normalised[name] = value
    return CaseInsensitiveDict(normalised)


def _sorted_json(data: Any, ignored_parameters: Iterable[str] | None) -> Any:
    names = set(ignored_parameters or ())
    if isinstance(data, Mapping):
        return {k: (REDACTED if k in names else v) for k, v in sorted(data.items())}
    if isinstance(data, list):
        try:
            return [item for item in sorted(data) if item not in names]
        except TypeError:  # items that do not compare (dicts): keep their order
            return [item for item in data if not (isinstance(item, str) and item in names)]
    return data


def normalize_json_body(
    original_body: str | bytes,
    ignored_parameters: Iterable[str] | None = None,
    content_root_key: str | None = None,
) -> str | bytes:
    """Return a JSON body with its keys sorted and ignored ones redacted (under
    ``content_root_key`` only, when given); other bodies are returned as they are."""
    if len(original_body) <= 2 or len(original_body) > MAX_NORM_BODY_SIZE:
        return original_body
    try:
        body = json.loads(_text(original_body))
    except ValueError:
        logger.debug("Request body is not valid JSON; left as it is")
        return original_body
    if content_root_key and isinstance(body, dict) and content_root_key in body:
        body[content_root_key] = _sorted_json(body[content_root_key], ignored_parameters)
    else:
        body = _sorted_json(body, ignored_parameters)
    return json.dumps(body)


def normalize_body(
    request: Any,
    ignored_parameters: Iterable[str] | None = None,
    content_root_key: str | None = None,
) -> bytes:
    """Return a request's body normalised by its ``Content-Type`` (JSON or a form); a
    file-like body is read and rewound."""
    body = request.body
    if not body:
        return b""
    if hasattr(body, "read"):
        data = body.read() or b""
        if hasattr(body, "seek"):
            body.seek(0)
        body = data
    content_type = str((request.headers or {}).get("Content-Type", "")).split(";")[0].lower()
    if content_type in _JSON_TYPES or content_type.endswith("+json"):
        body = normalize_json_body(body, ignored_parameters, content_root_key)
    elif content_type == "application/x-www-form-urlencoded":
        body = normalize_params(body, ignored_parameters)
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def normalize_request(
    request: AnyRequest,
    ignored_parameters: Iterable[str] | None = None,
    content_root_key: str | None = None,
) -> PreparedRequest:
    """Return a normalised copy of ``request`` (prepared first if it is a ``Request``): method
    upper-cased, URL, headers and body normalised, ignored parameters redacted."""
    prepared = (
        Session().prepare_request(request) if isinstance(request, Request) else request.copy()
    )
    prepared.method = (prepared.method or "").upper()
    prepared.url = normalize_url(prepared.url or "", ignored_parameters)
    prepared.headers = normalize_headers(prepared.headers or {}, ignored_parameters)
    prepared.body = normalize_body(prepared, ignored_parameters, content_root_key)
    return prepared


def redact_response(
    response: CachedResponse, ignored_parameters: Iterable[str] | None
) -> CachedResponse:
    """Return ``response`` with the values of ``ignored_parameters`` redacted from its URL, its
    headers, and its request's URL, headers and body."""
    if ignored_parameters:
        ignored = tuple(ignored_parameters)
        response.url = _filter_url(response.url, ignored)
        response.headers = CaseInsensitiveDict(dict(_redacted(response.headers.items(), ignored)))
        request = response.request
        request.url = _filter_url(request.url, ignored)
        request.headers = CaseInsensitiveDict(dict(_redacted(request.headers.items(), ignored)))
        request.body = normalize_body(request, ignored)
    return response
