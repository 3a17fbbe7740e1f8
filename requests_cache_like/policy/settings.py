"""requests-cache's ``policy.settings`` module: the session settings and their defaults, which
live in :mod:`requests_cache_like.settings`."""

from ..settings import (
    ALL_METHODS,
    AUTH_HEADERS,
    AUTH_PARAMS,
    DEFAULT_CACHE_NAME,
    DEFAULT_IGNORED_PARAMS,
    DEFAULT_METHODS,
    DEFAULT_STATUS_CODES,
    CacheSettings,
    FilterCallback,
    KeyCallback,
)

__all__ = [
    "ALL_METHODS",
    "AUTH_HEADERS",
    "AUTH_PARAMS",
    "DEFAULT_CACHE_NAME",
    "DEFAULT_IGNORED_PARAMS",
    "DEFAULT_METHODS",
    "DEFAULT_STATUS_CODES",
    "CacheSettings",
    "FilterCallback",
    "KeyCallback",
]
