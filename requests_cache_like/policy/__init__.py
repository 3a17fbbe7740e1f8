"""Sans-I/O caching policy: plain functions from values (request, stored entry, rules, now)
to plans. Nothing in this package reads a clock, touches storage, or sends a request.

One set of decisions serves both modes: :func:`build_rules` picks the mode (a :class:`Mode`
value) and resolves settings and options once per request; :func:`plan_request` decides
before sending, :func:`.respond.respond` what the origin's answer means, and
:func:`store_decision` what to store.
"""

from typing import Any

from ..clock import add_tzinfo, get_expiration_seconds, utcnow
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

#: Names requests-cache's ``policy`` package also exports, found in :mod:`..settings`.
_FROM_SETTINGS = frozenset(
    {
        "ALL_METHODS",
        "AUTH_HEADERS",
        "AUTH_PARAMS",
        "DEFAULT_CACHE_NAME",
        "DEFAULT_IGNORED_PARAMS",
        "DEFAULT_METHODS",
        "DEFAULT_STATUS_CODES",
        "CacheSettings",
    }
)


def __getattr__(name: str) -> Any:
    # Imported on first use: the settings module itself imports policy.expiration.
    if name in _FROM_SETTINGS:
        from .. import settings

        return getattr(settings, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ALL_METHODS",
    "AUTH_HEADERS",
    "AUTH_PARAMS",
    "DEFAULT_CACHE_NAME",
    "DEFAULT_IGNORED_PARAMS",
    "DEFAULT_METHODS",
    "DEFAULT_STATUS_CODES",
    "DO_NOT_CACHE",
    "EXPIRE_IMMEDIATELY",
    "NEVER_EXPIRE",
    "OVERRIDE",
    "STANDARDS",
    "CacheDirectives",
    "CacheSettings",
    "ExpirationPattern",
    "ExpirationTime",
    "Mode",
    "Plan",
    "PlanAction",
    "Rules",
    "StoreDecision",
    "add_tzinfo",
    "build_rules",
    "decide",
    "decide_store",
    "get_expiration_datetime",
    "get_expiration_seconds",
    "get_url_expiration",
    "parse_cache_control",
    "plan_request",
    "stale_if_error_allows",
    "standards_mode",
    "store_decision",
    "utcnow",
    "validate_expire_after",
]
