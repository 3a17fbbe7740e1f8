"""What to do with a request before anything is sent (RFC 9111 §4, RFC 5861).

:func:`plan_request` is the one decision for both modes: it reads the request's headers, the
stored response it selects (if any), the request's :class:`.rules.Rules` and an explicit
``now``. :func:`decide` is the same decision for callers that hold settings and options.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from attrs import frozen

from .directives import (
    CacheDirectives,
    has_cache_headers,
    parse_cache_control,
    request_directives,
)
from .expiration import window_allows
from .freshness import current_age
from .messages import is_not_modified
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
from .rules import Rules, build_rules, resolve_expire_after, standards_mode
from .store import decide_store

if TYPE_CHECKING:
    from .rules import Options, Settings

__all__ = [
    "Plan",
    "PlanAction",
    "StoreDecision",
    "StoredResponse",
    "conditional_headers",
    "decide",
    "decide_store",
    "plan_request",
    "resolve_expire_after",
    "stale_if_error_allows",
    "standards_mode",
]

_EMPTY = CacheDirectives()
#: Fields that make a request conditional: the application expects the origin's answer.
_CONDITIONAL_FIELDS = ("If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since")
_PRECONDITIONS = _CONDITIONAL_FIELDS[2:]


def _window(seconds: int | None, staleness: timedelta) -> bool:
    return seconds is not None and staleness <= timedelta(seconds=seconds)


def stale_window_allows(
    setting: bool | int | float | timedelta,
    directive: int | None,
    response_directives: bool,
    staleness: timedelta,
) -> bool:
    """True if a stale window covers ``staleness``: the session setting, or the response's
    own directive when response directives are read (RFC 5861 §3, §4)."""
    if window_allows(setting, staleness):
        return True
    return response_directives and _window(directive, staleness)


def stale_if_error_allows(stored: StoredResponse, settings: Settings, now: datetime) -> bool:
    """True if ``stored`` may answer a request whose origin fetch failed (RFC 5861 §4): the
    ``stale_if_error`` setting, or with ``cache_control=True`` the response's directive."""
    staleness = now - stored.expires if stored.expires is not None else timedelta(0)
    directive = parse_cache_control(stored.headers.get("Cache-Control")).stale_if_error
    return stale_window_allows(
        settings.stale_if_error, directive, settings.cache_control, staleness
    )


@frozen
class _Use:
    """How a stored response stands against one request (RFC 9111 §4.2, §5.2)."""

    response_cc: CacheDirectives
    #: Fresh, and within the request's max-age and min-fresh.
    fresh: bool
    #: Older than the request's max-age: not even max-stale accepts it (§5.2.1.1).
    too_old: bool
    #: no-cache (request or, in standards mode, response) or refresh=True (§5.2.1.4, §5.2.2.4).
    must_validate: bool
    #: How long it has been stale (zero while fresh).
    staleness: timedelta
    #: It may be used stale at all: not must-revalidate, not no-cache (§5.2.2.2).
    stale_allowed: bool


def _assess(
    stored: StoredResponse, request_cc: CacheDirectives, rules: Rules, now: datetime
) -> _Use:
    response_cc = parse_cache_control(stored.headers.get("Cache-Control"))
    # Standards mode reads the stored response's no-cache on every use; override mode decided
    # its expiry from it when storing it (already stale).
    response_no_cache = rules.mode.rfc_freshness and response_cc.no_cache
    expires = stored.expires
    too_old = request_cc.max_age is not None and current_age(stored, now) > timedelta(
        seconds=request_cc.max_age
    )
    # §5.2.1.3: min-fresh narrows what the client accepts as fresh.
    short_lived = (
        request_cc.min_fresh is not None
        and expires is not None
        and expires - now < timedelta(seconds=request_cc.min_fresh)
    )
    return _Use(
        response_cc=response_cc,
        fresh=(expires is None or now < expires) and not too_old and not short_lived,
        too_old=too_old,
        must_validate=rules.refresh or request_cc.no_cache or response_no_cache,
        staleness=now - expires if expires is not None else timedelta(0),
        stale_allowed=not (response_cc.must_revalidate or response_no_cache),
    )


def plan_request(
    headers: Mapping[str, str],
    stored: StoredResponse | None,
    rules: Rules,
    now: datetime,
) -> Plan:
    """Return the plan for one request (RFC 9111 §4: constructing responses from caches).

    ``headers`` are the request's headers, ``stored`` the response its key (and, in
    standards mode, its ``Vary`` fields) select, if any.
    """
    if not rules.cacheable:
        return PLAN_BYPASS
    request_cc = request_directives(headers) if has_cache_headers(headers) else _EMPTY
    if rules.force_refresh:
        return PLAN_FETCH
    only_if_cached = rules.only_if_cached or request_cc.only_if_cached
    if stored is None:
        return PLAN_GATEWAY_TIMEOUT if only_if_cached else PLAN_FETCH
    expires = stored.expires
    if (
        request_cc is _EMPTY
        and not rules.refresh
        and (expires is None or now < expires)
        and not (
            rules.mode.rfc_freshness
            and parse_cache_control(stored.headers.get("Cache-Control")).no_cache
        )
    ):
        # Fresh, and nothing in the request or the response asks for more: the common hit,
        # decided without assessing staleness (the same answer _assess would give).
        if rules.mode.answer_conditionals or rules.always_revalidate:
            return _usable(headers, stored, rules, now)
        return PLAN_SERVE
    use = _assess(stored, request_cc, rules, now)
    # §5.2.1.2: max-stale accepts this much staleness (unless the response forbids it).
    if not use.must_validate and (
        use.fresh
        or (
            not use.too_old
            and use.stale_allowed
            and request_cc.max_stale is not None
            and use.staleness <= timedelta(seconds=request_cc.max_stale)
        )
    ):
        return _usable(headers, stored, rules, now)
    return _unusable(headers, stored, request_cc, use, rules, only_if_cached)


def _unusable(
    headers: Mapping[str, str],
    stored: StoredResponse,
    request_cc: CacheDirectives,
    use: _Use,
    rules: Rules,
    only_if_cached: bool,
) -> Plan:
    """The plan for a stored response the request does not accept as it is: served stale
    while it is refreshed, a 504, or a request to the origin."""
    response_cc, staleness = use.response_cc, use.staleness
    windows_allowed = use.stale_allowed or not rules.mode.stale_windows_obey_response
    if (
        not use.must_validate
        and windows_allowed
        and not only_if_cached
        # A client that bounds the age it accepts does not want a stale answer, even one
        # refreshed behind its back (§5.2.1.1, RFC 5861 §3).
        and request_cc.max_age is None
        and request_cc.min_fresh is None
        and stale_window_allows(
            rules.stale_while_revalidate,
            response_cc.stale_while_revalidate,
            rules.response_directives,
            staleness,
        )
    ):
        return Plan(PlanAction.SERVE_STALE_AND_REFRESH)
    # RFC 5861 §4: stale-if-error covers 5xx answers and failures. §4.2.4 lets a
    # disconnected cache serve stale, unless the response forbids it: then a 504 (§5.2.2.2).
    fallback = windows_allowed and stale_window_allows(
        rules.stale_if_error, response_cc.stale_if_error, rules.response_directives, staleness
    )
    if only_if_cached:
        # Offline, a stale response within stale-if-error is better than nothing (override
        # mode, as requests-cache); standards mode answers only-if-cached strictly (§5.2.1.7).
        if fallback and not rules.mode.strict_only_if_cached:
            return PLAN_SERVE
        return PLAN_GATEWAY_TIMEOUT
    disconnect = "raise"
    if rules.mode.stale_on_disconnect:
        disconnect = "stale" if use.stale_allowed else "gateway_timeout"
    if rules.mode.answer_conditionals and any(name in headers for name in _CONDITIONAL_FIELDS):
        # The application validates its own copy: its request goes through unchanged.
        return Plan(PlanAction.FETCH, stale_fallback=fallback, on_disconnect=disconnect)
    validators = conditional_headers(stored)
    action = PlanAction.REVALIDATE if validators else PlanAction.FETCH
    return Plan(action, validators, stale_fallback=fallback, on_disconnect=disconnect)


def _usable(
    headers: Mapping[str, str], stored: StoredResponse, rules: Rules, now: datetime
) -> Plan:
    """The plan for a stored response the request accepts as it is."""
    conditional = None
    if rules.mode.answer_conditionals:
        conditional = is_not_modified(headers, stored.headers, now)
        if conditional is True:
            return Plan(PlanAction.NOT_MODIFIED)
        if conditional is None and any(name in headers for name in _PRECONDITIONS):
            return PLAN_FETCH  # If-Match and friends are for the origin to evaluate
    if rules.always_revalidate and conditional is None:
        validators = conditional_headers(stored)
        if validators:
            return Plan(PlanAction.REVALIDATE, validators)
    return PLAN_SERVE


def decide(
    method: str,
    url: str,
    headers: Mapping[str, str],
    stored: StoredResponse | None,
    settings: Settings,
    options: Options,
    now: datetime,
) -> Plan:
    """Return the plan for one request: :func:`plan_request` under the rules that
    ``settings`` and ``options`` give a ``method`` request for ``url``."""
    return plan_request(headers, stored, build_rules(method, url, settings, options), now)
