"""The read side shared by the full path and the fast path: the rules of a request, the
stored response it selects, and the response served from it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from requests import PreparedRequest
from requests.structures import CaseInsensitiveDict

from .keys import variant_key
from .models import CachedRequest, CachedResponse
from .policy import Rules, build_rules
from .policy.freshness import age_header
from .policy.messages import not_modified_headers, variants_match
from .policy.select import byte_slice, range_usable, same_range, variant_needed
from .settings import DEFAULT_OPTIONS

if TYPE_CHECKING:
    from .settings import CacheSettings, RequestOptions

__all__ = ["answer_from", "gateway_timeout", "lookup", "not_modified", "rules_for"]

_RULES_MEMO_LIMIT = 256


def rules_for(settings: CacheSettings, method: str, url: str, options: RequestOptions) -> Rules:
    """Return the policy's rules for one request, memoised while no URL pattern applies."""
    if settings.urls_expire_after:
        return build_rules(method, url, settings, options)
    memo = settings.rules_memo
    # Default options (most requests) are keyed by the method alone: no options hash to compute.
    memo_key = method if options is DEFAULT_OPTIONS else (method, options)
    rules: Rules | None = memo.get(memo_key)
    if rules is None:
        if len(memo) >= _RULES_MEMO_LIMIT:
            memo.clear()
        rules = memo[memo_key] = build_rules(method, url, settings, options)
    return rules


def _has_vary(headers: Mapping[str, str]) -> bool:
    """True if the stored headers have ``Vary``; CaseInsensitiveDict keeps lower-cased names
    in ``_store``, which answers without the KeyError a miss raises inside ``get()``."""
    names = getattr(headers, "_store", headers)
    return "vary" in names or "Vary" in names


def lookup(
    read: Callable[[str, bool], CachedResponse | None],
    key: str,
    get_key: Callable[[], str],
    method: str,
    headers: Mapping[str, str] | Callable[[], Mapping[str, str]],
    rules: Rules,
    follow_redirects: bool = True,
) -> tuple[CachedResponse | None, CachedResponse | None]:
    """Return ``(primary, selected)``: the newest response stored under the request's key
    and the one the request selects (its ``Vary`` variant and range), each or both None.

    ``headers`` may be a function that returns them, called only when they are needed.
    """
    primary = read(key, follow_redirects)
    if primary is None and method == "HEAD" and rules.mode.head_from_get:
        key = get_key()  # RFC 9111 §4: a stored GET response can answer HEAD
        primary = read(key, True)
    if primary is None:
        return None, None
    varies = _has_vary(primary.headers)
    if callable(headers):
        if not (varies or rules.mode.serve_ranges):
            return primary, primary
        headers = headers()
    selected: CachedResponse | None = primary
    if varies:
        choice = variant_needed(primary, headers)  # RFC 9111 §4.1: the variant asked for
        if choice is False:
            selected = None
        elif choice is not True:
            variant = read(variant_key(key, primary.vary_group, choice, headers), False)
            same = variant is not None and variants_match(choice, variant.request.headers, headers)
            selected = variant if same else None
    if (
        selected is not None
        and rules.mode.serve_ranges
        and not range_usable(selected, len(selected.content), headers)
    ):
        selected = None
    return primary, selected


def answer_from(
    stored: CachedResponse, method: str, headers: Mapping[str, str], rules: Rules, now: datetime
) -> CachedResponse:
    """Return the response to give for a request from ``stored``: with its ``Age``, cut to the
    requested range, without a body for HEAD, as the mode asks."""
    mode = rules.mode
    range_header = headers.get("Range") if mode.serve_ranges else None
    head = method == "HEAD" and mode.head_from_get
    if not (mode.age_header or range_header or head):
        return stored
    response = stored.copy()
    if mode.age_header:
        response.headers["Age"] = age_header(stored, now)
    if range_header and not same_range(stored, range_header):
        body = stored.content or b""
        part = byte_slice(stored, len(body), range_header)
        if part is not None:
            start, end, total, offset = part
            response._content = body[start - offset : end - offset + 1]
            response.status_code, response.reason = 206, "Partial Content"
            response.headers["Content-Range"] = f"bytes {start}-{end}/{total}"
            response.headers["Content-Length"] = str(end - start + 1)
    if head:
        response._content = b""
    return response


def not_modified(
    stored: CachedResponse, method: str, rules: Rules, now: datetime
) -> CachedResponse:
    """A 304 built from the stored response, for the application's own conditional request
    (RFC 9110 §15.4.5)."""
    response = answer_from(stored, method, {}, rules, now).copy()
    response.status_code, response.reason = 304, "Not Modified"
    response.headers = CaseInsensitiveDict(not_modified_headers(response.headers))
    response._content = b""
    return response


def gateway_timeout(
    request: PreparedRequest, key: str, ignored_parameters: tuple[str, ...]
) -> CachedResponse:
    """A 504 made by the cache: nothing usable is stored and it may not ask the origin."""
    response = CachedResponse(
        url=request.url or "",
        status_code=504,
        reason="Not Cached",
        request=CachedRequest.from_request(request, ignored_parameters),
        expires=None,
    )
    response.cache_key = key
    return response
