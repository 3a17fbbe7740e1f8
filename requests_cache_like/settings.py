"""Validated cache settings (per session) and options (per request)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, MutableMapping
from datetime import timedelta
from typing import Any

from attrs import Attribute, define, field, frozen, setters

from .policy.expiration import (
    NEVER_EXPIRE,
    ExpirationPattern,
    ExpirationTime,
    compile_url_patterns,
    validate_expire_after,
)

__all__ = [
    "DEFAULT_CACHE_NAME",
    "DEFAULT_IGNORED_PARAMS",
    "DEFAULT_METHODS",
    "DEFAULT_STATUS_CODES",
    "DEPRECATED_ALIASES",
    "CacheSettings",
    "FilterCallback",
    "KeyCallback",
    "RequestOptions",
    "StaleWindow",
    "take_settings",
]

DEFAULT_CACHE_NAME = "http_cache"
DEFAULT_METHODS = ("GET", "HEAD")
DEFAULT_STATUS_CODES = (200,)
#: Every method a cache can be told to store (for ``allowable_methods=ALL_METHODS``).
ALL_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
#: Request headers that carry credentials.
AUTH_HEADERS = (
    "Authorization",
    "Proxy-Authorization",
    "X-API-Key",
    "X-Auth-Token",
    "X-API-Token",
    "X-Access-Token",
)
#: Query or body parameters that carry credentials.
AUTH_PARAMS = ("access_token", "api_key", "apikey")
#: Request parameters and headers that are secrets: left out of cache keys and redacted in
#: what is stored.
DEFAULT_IGNORED_PARAMS = AUTH_HEADERS + AUTH_PARAMS

FilterCallback = Callable[[Any], bool]
KeyCallback = Callable[..., str]
StaleWindow = bool | int | float | timedelta


def _status_codes(value: Any) -> frozenset[int]:
    if isinstance(value, (int, str)) or not isinstance(value, Iterable):
        raise TypeError(
            f"allowable_codes={value!r} must be an iterable of HTTP status codes, e.g. (200, 203)"
        )
    codes = tuple(value)
    for code in codes:
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
            raise ValueError(
                f"allowable_codes contains {code!r}; accepted: integer status codes 100-599"
            )
    return frozenset(codes)


def _methods(value: Any) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(
            f"allowable_methods={value!r} must be an iterable of method names, "
            "e.g. ('GET', 'HEAD'), not a single string"
        )
    methods = tuple(value)
    for method in methods:
        if not isinstance(method, str) or not method.isalpha():
            raise ValueError(
                f"allowable_methods contains {method!r}; accepted: HTTP method names like 'GET'"
            )
    return frozenset(m.upper() for m in methods)


def _names(value: Any, argument: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(
            f"{argument}={value!r} must be an iterable of names, e.g. ('api_key',), "
            "not a single string"
        )
    names = tuple(value)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{argument} contains {name!r}; accepted: strings")
    return names


def _ignored_parameters(value: Any) -> tuple[str, ...]:
    return _names(value, "ignored_parameters")


def _match_headers(value: Any) -> bool | tuple[str, ...]:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return tuple(n.lower() for n in _names(value, "match_headers"))


def _expire_after(value: Any) -> ExpirationTime:
    return validate_expire_after(value, "expire_after")


def _urls_expire_after(value: Any) -> tuple[ExpirationPattern, ...]:
    return compile_url_patterns(value)


def _stale_window(value: Any, name: str) -> StaleWindow:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value >= 0:
        return value
    if isinstance(value, timedelta) and value >= timedelta(0):
        return value
    raise ValueError(
        f"{name}={value!r}; accepted: True/False, or a maximum staleness as seconds >= 0 "
        "or a timedelta"
    )


def _stale_if_error(value: Any) -> StaleWindow:
    return _stale_window(value, "stale_if_error")


def _stale_while_revalidate(value: Any) -> StaleWindow:
    return _stale_window(value, "stale_while_revalidate")


def _seconds(value: Any, name: str, optional: bool) -> float | None:
    """A duration in seconds (> 0) from a number or a timedelta; None (or 0) when optional."""
    if optional and (value is None or (value == 0 and not isinstance(value, bool))):
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1e9:
        return float(value)
    accepted = "seconds > 0 as a number or a timedelta" + (", or None (off)" if optional else "")
    raise ValueError(f"{name}={value!r}; accepted: {accepted}")


def _lock_timeout(value: Any) -> float:
    seconds = _seconds(value, "lock_timeout", optional=False)
    assert seconds is not None  # not optional: never None
    return seconds


def _cleanup_interval(value: Any) -> float | None:
    return _seconds(value, "cleanup_interval", optional=True)


#: What a session does when its storage fails: raise the error, or answer from the origin.
BACKEND_ERROR_MODES = ("raise", "bypass")


def _check_backend_error_mode(instance: Any, attribute: Attribute[Any], value: Any) -> None:
    if value not in BACKEND_ERROR_MODES:
        raise ValueError(
            f"{attribute.name}={value!r}; accepted: {', '.join(map(repr, BACKEND_ERROR_MODES))}"
        )


def _check_bool(instance: Any, attribute: Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{attribute.name}={value!r} must be True or False")


def _check_callable(instance: Any, attribute: Attribute[Any], value: Any) -> None:
    if value is not None and not callable(value):
        raise TypeError(f"{attribute.name}={value!r} must be a callable or None")


def _check_optional_str(instance: Any, attribute: Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{attribute.name}={value!r} must be a string or None")


def _on_change(instance: CacheSettings, attribute: Attribute[Any], value: Any) -> Any:
    # Keys and rules depend on several settings; any change drops both memos.
    instance.key_memo.clear()
    instance.rules_memo.clear()
    if attribute.name == "expire_after":
        object.__setattr__(instance, "expire_after_given", True)
    elif attribute.name == "cleanup_interval":
        # Set before the wake, so the cleanup timer reads the new interval; imported here:
        # the cleanup module imports this one.
        object.__setattr__(instance, "cleanup_interval", value)
        from . import cleanup

        cleanup.CLEANUP.wake()
    return value


@define(kw_only=True, on_setattr=[setters.convert, setters.validate, _on_change])
class CacheSettings:
    """Settings that decide what is cached and for how long.

    Values are checked when built and when assigned (``session.settings.expire_after = 60``),
    so a bad value fails at once with a message naming it.
    """

    allowable_codes: frozenset[int] = field(default=DEFAULT_STATUS_CODES, converter=_status_codes)
    allowable_methods: frozenset[str] = field(default=DEFAULT_METHODS, converter=_methods)
    always_revalidate: bool = field(default=False, validator=_check_bool)
    autoclose: bool = field(default=True, validator=_check_bool)
    cache_control: bool = field(default=False, validator=_check_bool)
    #: Seconds between background removals of expired entries; None: off.
    cleanup_interval: float | None = field(default=None, converter=_cleanup_interval)
    content_root_key: str | None = field(default=None, validator=_check_optional_str)
    disabled: bool = field(default=False, validator=_check_bool)
    expire_after: ExpirationTime = field(default=NEVER_EXPIRE, converter=_expire_after)
    #: False while ``expire_after`` was neither passed nor assigned. With ``cache_control``
    #: that is standards mode: RFC 9111 alone decides freshness (see docs/expiration.md).
    expire_after_given: bool = field(default=False, validator=_check_bool)
    filter_fn: FilterCallback | None = field(default=None, validator=_check_callable)
    ignored_parameters: tuple[str, ...] = field(
        default=DEFAULT_IGNORED_PARAMS, converter=_ignored_parameters
    )
    on_backend_error: str = field(default="raise", validator=_check_backend_error_mode)
    key_fn: KeyCallback | None = field(default=None, validator=_check_callable)
    #: Longest wait, in seconds, for another fetcher of the same key (and a lease's lifetime).
    lock_timeout: float = field(default=30.0, converter=_lock_timeout)
    match_headers: bool | tuple[str, ...] = field(default=False, converter=_match_headers)
    only_if_cached: bool = field(default=False, validator=_check_bool)
    read_only: bool = field(default=False, validator=_check_bool)
    #: Concurrent misses of one key make one origin request; the others wait for its answer.
    single_flight: bool = field(default=True, validator=_check_bool)
    stale_if_error: StaleWindow = field(default=False, converter=_stale_if_error)
    stale_while_revalidate: StaleWindow = field(default=False, converter=_stale_while_revalidate)
    urls_expire_after: tuple[ExpirationPattern, ...] = field(
        default=None, converter=_urls_expire_after
    )
    #: Memo of request -> cache key for the hit fast path; cleared whenever a setting changes.
    key_memo: dict[Any, tuple[str, str]] = field(init=False, factory=dict, eq=False, repr=False)
    #: Memo of (method, options) -> policy Rules, while no URL pattern can change them.
    rules_memo: dict[Any, Any] = field(init=False, factory=dict, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.expire_after != NEVER_EXPIRE:
            object.__setattr__(self, "expire_after_given", True)

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> CacheSettings:
        """Build settings from keyword arguments, rejecting unknown names by name."""
        known = {a.name for a in cls.__attrs_attrs__ if a.init}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(
                f"unknown cache setting(s): {', '.join(unknown)}; "
                f"accepted: {', '.join(sorted(known))}"
            )
        return cls(**kwargs)


@frozen(cache_hash=True)
class RequestOptions:
    """Per-request options, passed as values into the policy.

    ``expire_after=None`` means "not given": the URL pattern or session value applies.
    """

    expire_after: ExpirationTime = field(default=None, converter=_expire_after)
    only_if_cached: bool = field(default=False, validator=_check_bool)
    refresh: bool = field(default=False, validator=_check_bool)
    force_refresh: bool = field(default=False, validator=_check_bool)


DEFAULT_OPTIONS = RequestOptions()


#: Old names of settings that requests-cache still accepts, and the settings they mean.
DEPRECATED_ALIASES = {"old_data_on_error": "stale_if_error", "include_get_headers": "match_headers"}
_SETTING_NAMES = frozenset(a.name for a in CacheSettings.__attrs_attrs__ if a.init) - {
    "expire_after_given"
}


def take_settings(kwargs: MutableMapping[str, Any], owner: str) -> dict[str, Any]:
    """Remove the cache settings (and their deprecated aliases) from ``kwargs`` and return
    them; an alias is renamed, with a DeprecationWarning naming ``owner``."""
    taken: dict[str, Any] = {}
    for old, new in DEPRECATED_ALIASES.items():
        if old in kwargs:
            warnings.warn(
                f"{owner}({old}=...) is deprecated; use {new}=...",
                DeprecationWarning,
                stacklevel=3,
            )
            value = kwargs.pop(old)
            kwargs.setdefault(new, value)
    for name in list(kwargs):
        if name in _SETTING_NAMES:
            taken[name] = kwargs.pop(name)
    return taken
