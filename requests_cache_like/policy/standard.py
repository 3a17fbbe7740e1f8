"""Standards mode: the decisions of an RFC 9111 private cache.

Standards mode applies when ``cache_control=True`` and no ``expire_after`` was given for the
request (session, URL pattern or per request). Outside it, :mod:`.decide` keeps the
requests-cache 1.x behaviour. Both functions are pure: times come in as arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from .directives import CacheDirectives, parse_cache_control, request_directives
from .expiration import window_allows
from .freshness import (
    HEURISTICALLY_CACHEABLE,
    UNDERSTOOD_STATUSES,
    corrected_initial_age,
    freshness_lifetime,
)
from .messages import is_not_modified
from .plan import (
    PLAN_FETCH,
    PLAN_GATEWAY_TIMEOUT,
    PLAN_SERVE,
    Plan,
    PlanAction,
    StoreDecision,
    StoredResponse,
    conditional_headers,
)

if TYPE_CHECKING:
    from ..settings import CacheSettings, RequestOptions

__all__ = ["current_age", "decide_standard", "store_standard"]

#: Fields that make a request conditional; the application expects the origin's answer.
_CONDITIONAL_FIELDS = ("If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since")


class StandardStored(StoredResponse, Protocol):
    """What standards mode needs to know about a stored response: also its age on arrival."""

    @property
    def initial_age(self) -> float: ...


def current_age(stored: StandardStored, now: datetime) -> timedelta:
    """Return the age of a stored response now (RFC 9111 §4.2.3): its corrected initial age
    plus the time it has been stored."""
    return timedelta(seconds=stored.initial_age) + max(timedelta(0), now - stored.created_at)


def _window(seconds: int | None, staleness: timedelta) -> bool:
    return seconds is not None and staleness <= timedelta(seconds=seconds)


def decide_standard(
    headers: Mapping[str, str],
    stored: StandardStored | None,
    settings: CacheSettings,
    options: RequestOptions,
    now: datetime,
) -> Plan:
    """Return the plan for a request in standards mode (RFC 9111 §4, RFC 5861).

    ``stored`` is the response the request selects (same key, matching ``Vary``), if any.
    """
    request_cc = request_directives(headers)
    only_if_cached = options.only_if_cached or settings.only_if_cached or request_cc.only_if_cached
    if options.force_refresh:
        return PLAN_FETCH
    if stored is None:
        return PLAN_GATEWAY_TIMEOUT if only_if_cached else PLAN_FETCH

    response_cc = parse_cache_control(stored.headers.get("Cache-Control"))
    age = current_age(stored, now)
    expires = stored.expires
    fresh = expires is None or now < expires
    # §5.2.1.1: the client accepts nothing older than its max-age, fresh or stale.
    too_old = request_cc.max_age is not None and age > timedelta(seconds=request_cc.max_age)
    # §5.2.1.3 min-fresh narrows what the client accepts as fresh.
    if too_old:
        fresh = False
    if (
        request_cc.min_fresh is not None
        and expires is not None
        and expires - now < timedelta(seconds=request_cc.min_fresh)
    ):
        fresh = False
    # §5.2.1.4 / §5.2.2.4: no-cache means "validate before every use".
    must_validate = options.refresh or request_cc.no_cache or response_cc.no_cache
    staleness = now - expires if expires is not None else timedelta(0)
    # §5.2.2.2: once stale, a must-revalidate response is never used unvalidated.
    stale_allowed = not (response_cc.must_revalidate or response_cc.no_cache)

    # §5.2.1.2: max-stale accepts this much staleness (unless the response forbids it).
    usable = (fresh and not must_validate) or (
        not must_validate
        and not too_old
        and stale_allowed
        and request_cc.max_stale is not None
        and staleness <= timedelta(seconds=request_cc.max_stale)
    )
    if usable:
        conditional = is_not_modified(headers, stored.headers, now)
        if conditional is True:
            return Plan(PlanAction.NOT_MODIFIED)
        if conditional is None and any(name in headers for name in _CONDITIONAL_FIELDS[2:]):
            return PLAN_FETCH  # If-Match and friends are for the origin to evaluate
        if settings.always_revalidate and conditional is None:
            validators = conditional_headers(stored)
            if validators:
                return Plan(PlanAction.REVALIDATE, validators)
        return PLAN_SERVE

    if (
        not must_validate
        and stale_allowed
        and not only_if_cached
        and request_cc.max_age is None
        and request_cc.min_fresh is None
        and (
            _window(response_cc.stale_while_revalidate, staleness)
            or window_allows(settings.stale_while_revalidate, staleness)
        )
    ):
        # RFC 5861 §3: answer now, revalidate in the background.
        return Plan(PlanAction.SERVE_STALE_AND_REFRESH)
    if only_if_cached:
        return PLAN_GATEWAY_TIMEOUT

    # RFC 5861 §4: stale-if-error covers 5xx answers and failures; §4.2.4 lets a
    # disconnected cache serve stale, unless the response forbids it, in which case the
    # cache answers 504 itself (§5.2.2.2).
    fallback = stale_allowed and (
        _window(response_cc.stale_if_error, staleness)
        or window_allows(settings.stale_if_error, staleness)
    )
    disconnect = "stale" if stale_allowed else "gateway_timeout"
    if any(name in headers for name in _CONDITIONAL_FIELDS):
        # The application validates its own copy: pass its request through unchanged.
        return Plan(PlanAction.FETCH, stale_fallback=fallback, on_disconnect=disconnect)
    validators = conditional_headers(stored)
    action = PlanAction.REVALIDATE if validators else PlanAction.FETCH
    return Plan(action, validators, stale_fallback=fallback, on_disconnect=disconnect)


def _storable_status(
    status_code: int, directives: CacheDirectives, settings: CacheSettings
) -> bool:
    from ..settings import DEFAULT_STATUS_CODES

    if settings.allowable_codes != frozenset(DEFAULT_STATUS_CODES):
        # The user narrowed (or widened) the codes: theirs is the list.
        return status_code in settings.allowable_codes
    return 200 <= status_code < 600 and status_code != 304


def store_standard(
    method: str,
    status_code: int,
    request_headers: Mapping[str, str],
    response_headers: Mapping[str, str],
    settings: CacheSettings,
    request_time: datetime,
    response_time: datetime,
) -> StoreDecision:
    """Return whether a private cache may store a response, and until when it is fresh
    (RFC 9111 §3, §4.2). ``expires`` in the past means "stored, validate before use"."""
    if method not in settings.allowable_methods:
        return StoreDecision(False, reason=f"method {method} not in allowable_methods")
    directives = parse_cache_control(response_headers.get("Cache-Control"))
    # §5.2.2.3: must-understand replaces no-store for the status codes this cache knows.
    if directives.must_understand:
        if status_code not in UNDERSTOOD_STATUSES:
            return StoreDecision(False, reason=f"must-understand and status {status_code}")
    elif directives.no_store:
        return StoreDecision(False, reason="response no-store")
    if request_directives(request_headers).no_store:
        return StoreDecision(False, reason="request no-store")
    if not _storable_status(status_code, directives, settings):
        return StoreDecision(False, reason=f"status {status_code} is not stored")
    explicit = (
        directives.max_age is not None
        or "Expires" in response_headers
        or directives.public
        or directives.private
    )
    # §3: without explicit freshness, only heuristically cacheable statuses are stored.
    if not explicit and status_code not in HEURISTICALLY_CACHEABLE:
        return StoreDecision(False, reason=f"status {status_code} without explicit freshness")
    if status_code == 206 and "Content-Range" not in response_headers:
        return StoreDecision(False, reason="206 without Content-Range")

    initial_age = corrected_initial_age(response_headers, request_time, response_time)
    lifetime = freshness_lifetime(status_code, response_headers, directives, response_time)
    if lifetime is None:
        lifetime = timedelta(0)  # no freshness information: validate before every use
    expires = response_time + lifetime - initial_age
    return StoreDecision(True, expires, initial_age=initial_age.total_seconds())
