"""Sans-I/O caching policy: plain functions from values (request, stored entry, settings, now)
to plans. Nothing in this package reads a clock, touches storage, or sends a request.
"""

from .decide import Plan, PlanAction, StoreDecision, decide, decide_store
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

__all__ = [
    "DO_NOT_CACHE",
    "EXPIRE_IMMEDIATELY",
    "NEVER_EXPIRE",
    "CacheDirectives",
    "ExpirationPattern",
    "ExpirationTime",
    "Plan",
    "PlanAction",
    "StoreDecision",
    "decide",
    "decide_store",
    "get_expiration_datetime",
    "get_url_expiration",
    "parse_cache_control",
    "validate_expire_after",
]
