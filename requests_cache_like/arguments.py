"""The arguments of a cached session: which are cache settings, how a typo is reported, and
the session attributes that read and assign settings."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

from .settings import CacheSettings, take_settings

if TYPE_CHECKING:
    from requests import PreparedRequest, Response

    from .backends import BaseCache
    from .policy.expiration import ExpirationTime
    from .settings import FilterCallback, KeyCallback, StaleWindow

__all__ = [
    "EXPIRE_AFTER_NOT_GIVEN",
    "SEND_KWARGS",
    "SETTING_ARGS",
    "WRAPPED_ATTRIBUTES",
    "SettingAttribute",
    "SettingAttributes",
    "apply_setting_kwargs",
    "check_send_kwargs",
    "unknown_argument_error",
    "warn_replaced_settings",
]

#: CachedSession arguments that are cache settings (the rest go to the backend).
SETTING_ARGS = frozenset(
    {
        "on_backend_error",
        "expire_after",
        "urls_expire_after",
        "cache_control",
        "allowable_codes",
        "allowable_methods",
        "always_revalidate",
        "ignored_parameters",
        "match_headers",
        "filter_fn",
        "key_fn",
        "read_only",
        "stale_if_error",
        "stale_while_revalidate",
        "content_root_key",
        "autoclose",
        "single_flight",
        "lock_timeout",
        "cleanup_interval",
    }
)
_SESSION_ARGS = SETTING_ARGS | {"cache_name", "backend", "serializer"}
#: Keyword arguments requests.Session.send passes on to the transport adapter.
SEND_KWARGS = frozenset({"stream", "timeout", "verify", "cert", "proxies", "allow_redirects"})
#: The state of a requests.Session that wrap() carries over (besides its adapters).
WRAPPED_ATTRIBUTES = [
    "auth",
    "cert",
    "cookies",
    "headers",
    "hooks",
    "max_redirects",
    "proxies",
    "params",
    "stream",
    "trust_env",
    "verify",
]
_T = TypeVar("_T")


def unknown_argument_error(
    owner: str, kwargs: Mapping[str, Any], backend: Any, error: TypeError
) -> TypeError:
    """Return ``error`` reworded for the caller when it is about keyword arguments that are
    neither cache settings nor backend options, with a "did you mean" hint for each."""
    from .backends import known_backend_options  # the backends import the settings

    unknown = [k for k in kwargs if k not in _SESSION_ARGS and k in str(error)]
    if not unknown:
        return error
    candidates = sorted(_SESSION_ARGS | known_backend_options())
    hints = [
        f"{name!r} (did you mean {match[0]!r}?)" if match else repr(name)
        for name in unknown
        for match in [get_close_matches(name, candidates, n=1)]
    ]
    return TypeError(
        f"{owner}() got unexpected keyword argument(s) {', '.join(hints)}: neither a cache "
        f"setting nor an option of the {backend or 'sqlite'!s} backend ({error})"
    )


def check_send_kwargs(owner: str, kwargs: Mapping[str, Any]) -> None:
    """Reject keyword arguments of ``send()`` that no adapter takes: a hit never reaches the
    adapter that would reject them."""
    unknown = kwargs.keys() - SEND_KWARGS
    if unknown:
        raise TypeError(
            f"{owner}.send() got unexpected keyword argument(s) {', '.join(sorted(unknown))}; "
            f"accepted: {', '.join(sorted(SEND_KWARGS))}, expire_after, only_if_cached, "
            "refresh, force_refresh"
        )


def apply_setting_kwargs(settings: CacheSettings, kwargs: dict[str, Any], owner: str) -> None:
    """Apply the settings requests-cache also takes through ``**kwargs`` (``only_if_cached``,
    deprecated aliases such as ``old_data_on_error``), removing them from ``kwargs``, unless
    the named argument was given."""
    defaults = CacheSettings()
    for name, value in take_settings(kwargs, owner).items():
        if getattr(settings, name) == getattr(defaults, name):
            setattr(settings, name, value)


def warn_replaced_settings(cache: BaseCache, owner: str) -> None:
    """Warn that settings given to a backend class are replaced by the session's."""
    if cache.given_settings:
        warnings.warn(
            f"{', '.join(cache.given_settings)} given to {type(cache).__name__} are replaced "
            f"by the session's settings: pass them to {owner}",
            UserWarning,
            stacklevel=3,
        )


class _NotGiven:
    """Default of ``expire_after``: never expire, and with ``cache_control=True`` standards
    mode (an explicit ``expire_after``, even -1, keeps requests-cache's override meaning)."""

    def __repr__(self) -> str:
        return "NEVER_EXPIRE"


EXPIRE_AFTER_NOT_GIVEN: Any = _NotGiven()


class _HasSettings(Protocol):
    @property
    def settings(self) -> CacheSettings: ...


class SettingAttribute(Generic[_T]):
    """A session attribute that reads and assigns one field of the session's settings, so
    ``session.expire_after = 60`` is validated like the constructor argument and applies to
    the next request."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, session: None, owner: type) -> SettingAttribute[_T]: ...
    @overload
    def __get__(self, session: _HasSettings, owner: type) -> _T: ...
    def __get__(self, session: _HasSettings | None, owner: type) -> _T | SettingAttribute[_T]:
        if session is None:
            return self
        value: _T = getattr(session.settings, self.name)
        return value

    def __set__(self, session: _HasSettings, value: Any) -> None:
        setattr(session.settings, self.name, value)


class SettingAttributes:
    """Every cache setting as a session attribute: ``session.expire_after = 60`` assigns
    ``session.settings.expire_after``, validated as the constructor argument is."""

    # Attributes of requests.Session the mixin relies on (for type checkers).
    if TYPE_CHECKING:
        headers: Any
        hooks: dict[str, list[Any]]
        params: Any
        auth: Any
        stream: bool
        verify: Any
        cert: Any

        def resolve_redirects(self, resp: Response, req: PreparedRequest, **kwargs: Any) -> Any: ...

    allowable_codes: SettingAttribute[frozenset[int]] = SettingAttribute()
    allowable_methods: SettingAttribute[frozenset[str]] = SettingAttribute()
    always_revalidate: SettingAttribute[bool] = SettingAttribute()
    autoclose: SettingAttribute[bool] = SettingAttribute()
    cache_control: SettingAttribute[bool] = SettingAttribute()
    cleanup_interval: SettingAttribute[float | None] = SettingAttribute()
    content_root_key: SettingAttribute[str | None] = SettingAttribute()
    disabled: SettingAttribute[bool] = SettingAttribute()
    expire_after: SettingAttribute[ExpirationTime] = SettingAttribute()
    filter_fn: SettingAttribute[FilterCallback | None] = SettingAttribute()
    ignored_parameters: SettingAttribute[tuple[str, ...]] = SettingAttribute()
    key_fn: SettingAttribute[KeyCallback | None] = SettingAttribute()
    lock_timeout: SettingAttribute[float] = SettingAttribute()
    match_headers: SettingAttribute[bool | tuple[str, ...]] = SettingAttribute()
    on_backend_error: SettingAttribute[str] = SettingAttribute()
    only_if_cached: SettingAttribute[bool] = SettingAttribute()
    read_only: SettingAttribute[bool] = SettingAttribute()
    single_flight: SettingAttribute[bool] = SettingAttribute()
    stale_if_error: SettingAttribute[StaleWindow] = SettingAttribute()
    stale_while_revalidate: SettingAttribute[StaleWindow] = SettingAttribute()
    urls_expire_after: SettingAttribute[Any] = SettingAttribute()
