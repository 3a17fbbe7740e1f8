"""What to do with a request, and whether to store its response.

Both decisions are pure: they take the request's method, URL and headers, the stored entry (if
any), the session settings, the per-request options and an explicit ``now``, and return a value.
The session carries the plan out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .directives import CacheDirectives, parse_cache_control, request_directives
from .expiration import (
    DO_NOT_CACHE,
    ExpirationTime,
    get_expiration_datetime,
    get_url_expiration,
    parse_http_date,
    window_allows,
)
from .plan import (
    PLAN_BYPASS,
    PLAN_FETCH,
    PLAN_GATEWAY_TIMEOUT,
    PLAN_SERVE,
    Plan,
    PlanAction,
    StoreDecision,
    StoredResponse,
    conditional_headers,
)
from .standard import decide_standard, store_standard

if TYPE_CHECKING:
    from ..settings import CacheSettings, RequestOptions

_EMPTY = CacheDirectives()

__all__ = [
    "Plan",
    "PlanAction",
    "StoreDecision",
    "StoredResponse",
    "conditional_headers",
    "decide",
    "decide_store",
    "resolve_expire_after",
    "stale_if_error_allows",
    "standards_mode",
]


def resolve_expire_after(
    url: str, settings: CacheSettings, options: RequestOptions
) -> ExpirationTime:
    """Return the expire_after that applies: per request, else first matching URL pattern,
    else the session's."""
    if options.expire_after is not None:
        return options.expire_after
    if settings.urls_expire_after:
        matched, value = get_url_expiration(url, settings.urls_expire_after)
        if matched:
            return value
    return settings.expire_after


def standards_mode(url: str, settings: CacheSettings, options: RequestOptions) -> bool:
    """True if RFC 9111 alone governs this request: ``cache_control=True`` and no
    ``expire_after`` given for it (per request, by URL pattern, or for the session)."""
    if not settings.cache_control or settings.expire_after_given:
        return False
    if options.expire_after is not None:
        return False
    if settings.urls_expire_after:
        matched, _ = get_url_expiration(url, settings.urls_expire_after)
        return not matched
    return True


def _has_cache_headers(headers: Mapping[str, str]) -> bool:
    return "Cache-Control" in headers or "Pragma" in headers


def _stale_allowed(
    stored: StoredResponse, settings: CacheSettings, staleness: timedelta, extension: str
) -> bool:
    """True if the session setting named ``extension`` or, with ``cache_control=True``, the
    response's own directive of that name (RFC 5861) covers ``staleness``."""
    if window_allows(getattr(settings, extension), staleness):
        return True
    if settings.cache_control:
        directives = parse_cache_control(stored.headers.get("Cache-Control"))
        seconds = getattr(directives, extension)
        if seconds is not None:
            return staleness <= timedelta(seconds=seconds)
    return False


def stale_if_error_allows(stored: StoredResponse, settings: CacheSettings, now: datetime) -> bool:
    """True if ``stored`` may answer a request whose origin fetch failed (RFC 5861 §4).

    The session setting applies, or, with ``cache_control=True``, the response's own
    ``stale-if-error`` directive.
    """
    staleness = now - stored.expires if stored.expires is not None else timedelta(0)
    return _stale_allowed(stored, settings, staleness, "stale_if_error")


def _stale_while_revalidate_allows(
    stored: StoredResponse, settings: CacheSettings, staleness: timedelta
) -> bool:
    """True if ``stored`` may be served while it is refreshed in the background (RFC 5861 §3)."""
    return _stale_allowed(stored, settings, staleness, "stale_while_revalidate")


def _outside_request_limits(
    request_cc: CacheDirectives, stored: StoredResponse, now: datetime
) -> bool:
    """True if a fresh response is older than request max-age or fresh for less than
    min-fresh."""
    if request_cc.max_age is not None and now - stored.created_at > timedelta(
        seconds=request_cc.max_age
    ):
        return True
    expires = stored.expires
    return (
        request_cc.min_fresh is not None
        and expires is not None
        and expires - now < timedelta(seconds=request_cc.min_fresh)
    )


def decide(
    method: str,
    url: str,
    headers: Mapping[str, str],
    stored: StoredResponse | None,
    settings: CacheSettings,
    options: RequestOptions,
    now: datetime,
) -> Plan:
    """Return the plan for one request (RFC 9111 §4: constructing responses from caches).

    ``headers`` are the request's headers, ``stored`` the entry found under its key, if any.
    """
    if settings.disabled or method not in settings.allowable_methods:
        return PLAN_BYPASS
    if resolve_expire_after(url, settings, options) == DO_NOT_CACHE:
        return PLAN_BYPASS
    if standards_mode(url, settings, options):
        return decide_standard(headers, stored, settings, options, now)  # type: ignore[arg-type]
    request_cc = request_directives(headers) if _has_cache_headers(headers) else _EMPTY
    if options.force_refresh:
        return PLAN_FETCH
    only_if_cached = options.only_if_cached or settings.only_if_cached or request_cc.only_if_cached
    if stored is None:
        return PLAN_GATEWAY_TIMEOUT if only_if_cached else PLAN_FETCH

    expires = stored.expires
    fresh = expires is None or now < expires
    # Request max-age / min-fresh narrow what the client accepts (RFC 9111 §5.2.1.1, .3).
    if fresh and request_cc is not _EMPTY and _outside_request_limits(request_cc, stored, now):
        fresh = False
    must_validate = options.refresh or request_cc.no_cache

    if fresh and not must_validate:
        if settings.always_revalidate:
            validators = conditional_headers(stored)
            if validators:
                return Plan(PlanAction.REVALIDATE, validators, stale_fallback=False)
        return PLAN_SERVE

    staleness = now - expires if expires is not None else timedelta(0)
    if not fresh and not must_validate:
        # Request max-stale (RFC 9111 §5.2.1.2) accepts a stale response, unless the response
        # itself said must-revalidate (§5.2.2.2).
        if request_cc.max_stale is not None and staleness <= timedelta(
            seconds=request_cc.max_stale
        ):
            response_cc = parse_cache_control(stored.headers.get("Cache-Control"))
            if not response_cc.must_revalidate:
                return PLAN_SERVE
        # A client that bounds the age it accepts (max-age, min-fresh) does not want a stale
        # answer, even one refreshed behind its back (RFC 9111 §5.2.1.1, RFC 5861 §3).
        client_bounds_age = request_cc.max_age is not None or request_cc.min_fresh is not None
        if (
            not only_if_cached
            and not client_bounds_age
            and _stale_while_revalidate_allows(stored, settings, staleness)
        ):
            return Plan(PlanAction.SERVE_STALE_AND_REFRESH)

    if only_if_cached:
        return PLAN_GATEWAY_TIMEOUT
    fallback = stale_if_error_allows(stored, settings, now)
    validators = conditional_headers(stored)
    if validators:
        return Plan(PlanAction.REVALIDATE, validators, stale_fallback=fallback)
    return Plan(PlanAction.FETCH, stale_fallback=fallback)


def _header_expiry(
    response_cc: CacheDirectives, response_headers: Mapping[str, str], now: datetime
) -> tuple[bool, datetime | None]:
    """Return ``(decided, expires)`` from response freshness headers (RFC 9111 §4.2.1)."""
    if response_cc.no_cache:
        return True, now  # store, but revalidate before every use (§5.2.2.4)
    if response_cc.immutable:
        return True, None
    if response_cc.max_age is not None:
        return True, now + timedelta(seconds=response_cc.max_age)
    expires_header = response_headers.get("Expires")
    if expires_header is not None:
        # An invalid Expires value means "already expired" (§5.3).
        return True, parse_http_date(expires_header) or now
    return False, None


def decide_store(
    method: str,
    url: str,
    request_headers: Mapping[str, str],
    status_code: int,
    response_headers: Mapping[str, str],
    settings: CacheSettings,
    options: RequestOptions,
    now: datetime,
    request_time: datetime | None = None,
) -> StoreDecision:
    """Return whether to store a response, and its expiry (RFC 9111 §3: storing responses).

    ``now`` is when the response arrived, ``request_time`` when its request was sent (for
    the age correction of standards mode; default ``now``). In standards mode see
    :func:`.standard.store_standard`; otherwise expiration precedence is as in
    requests-cache 1.x: response ``Cache-Control``/``Expires`` (with ``cache_control=True``),
    then request ``Cache-Control: max-age``, then the per-request ``expire_after``, the first
    matching ``urls_expire_after`` pattern, and the session's ``expire_after``.
    """
    if settings.read_only or settings.disabled:
        return StoreDecision(False, reason="read-only")
    if standards_mode(url, settings, options):
        return store_standard(
            method,
            status_code,
            request_headers,
            response_headers,
            settings,
            request_time or now,
            now,
        )
    if method not in settings.allowable_methods:
        return StoreDecision(False, reason=f"method {method} not in allowable_methods")
    if status_code not in settings.allowable_codes:
        return StoreDecision(False, reason=f"status {status_code} not in allowable_codes")
    expire_after = resolve_expire_after(url, settings, options)
    if expire_after == DO_NOT_CACHE:
        return StoreDecision(False, reason="DO_NOT_CACHE")
    request_cc = (
        request_directives(request_headers) if _has_cache_headers(request_headers) else _EMPTY
    )
    if request_cc.no_store:
        return StoreDecision(False, reason="request no-store")

    decided = False
    expires: datetime | None = None
    if settings.cache_control:
        response_cc = parse_cache_control(response_headers.get("Cache-Control"))
        if response_cc.no_store:
            return StoreDecision(False, reason="response no-store")
        decided, expires = _header_expiry(response_cc, response_headers, now)
    if not decided and request_cc.max_age is not None:
        decided, expires = True, now + timedelta(seconds=request_cc.max_age)
    if not decided:
        expires = get_expiration_datetime(expire_after, now)

    if (
        expires is not None
        and expires <= now
        and not ("ETag" in response_headers or "Last-Modified" in response_headers)
    ):
        # Already stale and nothing to revalidate with: storing it would only waste space.
        return StoreDecision(False, reason="expires immediately and has no validator")
    return StoreDecision(True, expires)
