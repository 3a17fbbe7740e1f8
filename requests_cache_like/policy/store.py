"""Whether to store a response, and until when it is fresh (RFC 9111 §3, §4.2).

:func:`store_decision` is the one store decision for both modes; the freshness rule it uses
is the mode's (:attr:`.rules.Mode.rfc_freshness`). :func:`decide_store` is the same decision
for callers that hold settings and options.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .directives import (
    CacheDirectives,
    has_cache_headers,
    parse_cache_control,
    request_directives,
)
from .expiration import DO_NOT_CACHE, expiration_datetime
from .freshness import (
    HEURISTICALLY_CACHEABLE,
    UNDERSTOOD_STATUSES,
    corrected_initial_age,
    freshness_lifetime,
    parse_http_date,
    shift,
)
from .plan import StoreDecision
from .rules import Rules, build_rules

if TYPE_CHECKING:
    from .rules import Options, Settings

__all__ = ["decide_store", "store_decision"]

_EMPTY = CacheDirectives()


def store_decision(
    method: str,
    status_code: int,
    request_headers: Mapping[str, str],
    response_headers: Mapping[str, str],
    rules: Rules,
    request_time: datetime,
    response_time: datetime,
) -> StoreDecision:
    """Return whether to store a response and until when it is fresh (RFC 9111 §3).

    ``request_time`` is when the request was sent and ``response_time`` when the answer
    arrived. An ``expires`` in the past means "stored, validate before use".
    """
    if rules.read_only:
        return StoreDecision(False, reason="read-only")
    if method not in rules.allowable_methods:
        return StoreDecision(False, reason=f"method {method} not in allowable_methods")
    if not rules.storable_status(status_code):
        return StoreDecision(False, reason=f"status {status_code} not in allowable_codes")
    if rules.expire_after == DO_NOT_CACHE:
        return StoreDecision(False, reason="DO_NOT_CACHE")
    if has_cache_headers(request_headers):
        request_cc = request_directives(request_headers)
        if request_cc.no_store:
            return StoreDecision(False, reason="request no-store")
    else:
        request_cc = _EMPTY
    response_cc = _EMPTY
    if rules.response_directives:
        response_cc = parse_cache_control(response_headers.get("Cache-Control"))
        # §5.2.2.3: must-understand replaces no-store for the status codes this cache knows.
        if response_cc.must_understand:
            if status_code not in UNDERSTOOD_STATUSES:
                return StoreDecision(False, reason=f"must-understand and status {status_code}")
        elif response_cc.no_store:
            return StoreDecision(False, reason="response no-store")
    if rules.mode.rfc_freshness:
        return _rfc_freshness(
            status_code, response_headers, response_cc, request_time, response_time
        )
    expires = _override_expiry(response_headers, response_cc, request_cc, rules, response_time)
    if (
        not rules.mode.keep_unvalidatable
        and expires == response_time
        and not ("ETag" in response_headers or "Last-Modified" in response_headers)
    ):
        # Expires at once (EXPIRE_IMMEDIATELY, max-age=0, no-cache) with nothing to revalidate
        # with: never usable. A past expiry is kept, as in requests-cache: it can still answer
        # max-stale and stale-if-error.
        return StoreDecision(False, reason="expires immediately and has no validator")
    return StoreDecision(True, expires)


def _rfc_freshness(
    status_code: int,
    response_headers: Mapping[str, str],
    directives: CacheDirectives,
    request_time: datetime,
    response_time: datetime,
) -> StoreDecision:
    """Standards mode's expiry: freshness lifetime minus the corrected initial age (§4.2)."""
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
    # Both are at most 2**31 seconds, but response_time may be near either end of time.
    expires = shift(response_time, lifetime - initial_age)
    return StoreDecision(True, expires, initial_age=initial_age.total_seconds())


def _override_expiry(
    response_headers: Mapping[str, str],
    response_cc: CacheDirectives,
    request_cc: CacheDirectives,
    rules: Rules,
    now: datetime,
) -> datetime | None:
    """requests-cache 1.x's expiry precedence: response ``Cache-Control`` / ``Expires`` (with
    ``cache_control=True``), then request ``max-age``, then ``expire_after``."""
    if rules.response_directives:
        if response_cc.no_cache:
            return now  # store, but revalidate before every use (§5.2.2.4)
        if response_cc.immutable:
            return None
        if response_cc.max_age is not None:
            return shift(now, timedelta(seconds=response_cc.max_age))
        expires_header = response_headers.get("Expires")
        if expires_header is not None:
            # An invalid Expires value means "already expired" (§5.3).
            return parse_http_date(expires_header, now) or now
    if request_cc.max_age is not None:
        return shift(now, timedelta(seconds=request_cc.max_age))
    return expiration_datetime(rules.expire_after, now)


def decide_store(
    method: str,
    url: str,
    request_headers: Mapping[str, str],
    status_code: int,
    response_headers: Mapping[str, str],
    settings: Settings,
    options: Options,
    now: datetime,
    request_time: datetime | None = None,
) -> StoreDecision:
    """Return whether to store a response, and its expiry: :func:`store_decision` under the
    rules that ``settings`` and ``options`` give a ``method`` request for ``url``.

    ``now`` is when the response arrived, ``request_time`` when its request was sent
    (default ``now``).
    """
    rules = build_rules(method, url, settings, options)
    return store_decision(
        method, status_code, request_headers, response_headers, rules, request_time or now, now
    )
