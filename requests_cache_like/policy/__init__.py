"""Sans-I/O caching policy: plain functions from values (request, stored entry, rules, now)
to plans. Nothing in this package reads a clock, touches storage, or sends a request.

One set of decisions serves both modes: :func:`build_rules` picks the mode (a :class:`Mode`
value) and resolves settings and options once per request; :func:`plan_request` decides
before sending, :func:`.respond.respond` what the origin's answer means, and
:func:`store_decision` what to store.
"""

from .decide import decide, plan_request, stale_if_error_allows
from .directives import CacheDirectives, parse_cache_control
from .expiration import (
    DO_NOT_CACHE,
    EXPIRE_IMMEDIATELY,
    NEVER_EXPIRE,
    ExpirationPattern,
    ExpirationTime,
    get_expiration_datetime,
    get_url_expiration,
    validate_expire_after,
)
from .plan import Plan, PlanAction, StoreDecision
from .rules import OVERRIDE, STANDARDS, Mode, Rules, build_rules, standards_mode
from .store import decide_store, store_decision

__all__ = [
    "DO_NOT_CACHE",
    "EXPIRE_IMMEDIATELY",
    "NEVER_EXPIRE",
    "OVERRIDE",
    "STANDARDS",
    "CacheDirectives",
    "ExpirationPattern",
    "ExpirationTime",
    "Mode",
    "Plan",
    "PlanAction",
    "Rules",
    "StoreDecision",
    "build_rules",
    "decide",
    "decide_store",
    "get_expiration_datetime",
    "get_url_expiration",
    "parse_cache_control",
    "plan_request",
    "stale_if_error_allows",
    "standards_mode",
    "store_decision",
    "validate_expire_after",
]
