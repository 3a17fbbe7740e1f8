"""The user-facing cache (:class:`BaseCache`: two storages, ``responses`` and ``redirects``,
and the inspection API); the storage contract is in :mod:`.storage`, imported here too."""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from requests import Request, Response

from ..exceptions import DeserializationError
from ..keys import settings_key
from ..models import CachedResponse
from ..models.response import utcnow
from ..policy.expiration import ExpirationTime, expiration_datetime
from ..settings import DEFAULT_CACHE_NAME, CacheSettings, take_settings
from .limits import (
    CacheLimits,
    attach_limits,
    cache_totals,
    flush_uses,
    flushing_close,
    take_limits,
)
from .storage import BaseStorage, CopyStage, DictStorage, reject_unknown_kwargs
from .storage import _WarnOnce as _WarnOnce
from .storage import logger as logger
from .storage import warn_unreadable as warn_unreadable

if TYPE_CHECKING:
    from ..keys import AnyRequest
    from .limits import LimitEnforcer

__all__ = ["BaseCache", "BaseStorage", "CopyStage", "DictStorage", "reject_unknown_kwargs"]


def _accepting_settings(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap a backend's ``__init__`` so that it also takes cache settings, as requests-cache's
    backends do: they become the cache's settings (used by its own methods until a session
    brings its own), and requests-cache's ``decode_content`` is accepted. Size limits
    (``max_size``, ``max_entries``, ``eviction_policy``) are taken here for every backend, and
    applied once the backend is built (:mod:`.limits`)."""
    keep_policy = "eviction_policy" in inspect.signature(init).parameters

    @functools.wraps(init)
    def __init__(self: BaseCache, *args: Any, **kwargs: Any) -> None:
        owner = type(self).__name__
        settings = take_settings(kwargs, owner)
        limits = take_limits(kwargs, owner, keep_policy)
        if kwargs.pop("decode_content", False):
            warnings.warn(
                f"{owner}(decode_content=True) has no effect: response bodies are stored as "
                "bytes in every format",
                UserWarning,
                stacklevel=2,
            )
        init(self, *args, **kwargs)
        if settings:
            self._settings = CacheSettings(**settings)
            self.given_settings = tuple(sorted(settings))
        if limits is not None:
            attach_limits(self, limits)

    return __init__


def _verify(verify: bool) -> dict[str, bool]:
    """The key options for requests sent with ``verify`` (only False changes a key)."""
    return {} if verify is not False else {"verify": False}


class BaseCache:
    """A cache: ``responses`` and ``redirects`` storages plus the inspection API.

    This base class keeps everything in memory (``backend="memory"``); other backends
    replace the two storages. Every backend also takes cache settings
    (``SQLiteCache("c", expire_after=60)``): they apply to the cache's own methods until a
    session built on it brings its own; and size limits (``max_size``, ``max_entries``,
    ``eviction_policy``: see :mod:`.limits`).
    """

    #: The cache settings given to the constructor, if any.
    given_settings: tuple[str, ...] = ()
    #: Keeps the cache within ``max_size`` / ``max_entries``, if given (see :mod:`.limits`).
    _limits: LimitEnforcer | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _accepting_settings(cls.__dict__["__init__"])  # type: ignore[method-assign]
        for name in ("close",):  # uses remembered for the limits are written first
            if name in cls.__dict__:
                setattr(cls, name, flushing_close(cls.__dict__[name]))

    def __init__(self, cache_name: str = DEFAULT_CACHE_NAME, **kwargs: Any) -> None:
        settings = take_settings(kwargs, type(self).__name__)
        limits = take_limits(kwargs, type(self).__name__)
        kwargs.pop("decode_content", None)
        if kwargs.pop("serializer", None) is not None and type(self) is BaseCache:
            warnings.warn(
                "serializer= has no effect on the memory backend: it keeps response objects",
                UserWarning,
                stacklevel=3,
            )
        reject_unknown_kwargs(type(self).__name__, kwargs, ("cache_name",))
        self.cache_name = str(cache_name)
        self.responses: BaseStorage = DictStorage(serializer=CopyStage())
        self.redirects: BaseStorage = DictStorage()
        self._settings = CacheSettings(**settings)
        if settings:
            self.given_settings = tuple(sorted(settings))
        if limits is not None:
            attach_limits(self, limits)

    # -- settings shared with the session ------------------------------------------------
    @property
    def settings(self) -> CacheSettings:
        """The settings used to build keys and redact secrets (set by the session)."""
        return self._settings

    @settings.setter
    def settings(self, value: CacheSettings) -> None:
        self._settings = value

    # -- reading and writing ---------------------------------------------------------------
    def get_response(
        self, key: str, default: Any = None, follow_redirects: bool = True
    ) -> CachedResponse | Any:
        """Return the response stored under ``key`` (or its redirect alias), else ``default``.

        An entry that cannot be read is logged once and treated as absent.
        """
        try:
            return self._read(key)
        except KeyError:
            pass
        if follow_redirects:
            try:
                target = self.redirects.get_raw(key)
                response = self._read(target)
            except KeyError:
                return default
            if self._came_from(key, response):
                return response
            warn_unreadable(key, DeserializationError("alias leads to another request's response"))
        return default

    def _came_from(self, alias: str, response: CachedResponse) -> bool:
        """True if ``response`` followed a redirect from the request keyed ``alias`` (or
        followed none: an alias made with :meth:`save_redirect`). An alias whose value was
        damaged or swapped with another's leads to another chain's end, and is a miss."""
        if not response.history:
            return True
        for previous in response.history:
            request = getattr(previous, "request", None)
            if request is not None and self.create_key(request) == alias:
                return True
        return False

    def _read(self, key: str) -> CachedResponse:
        try:
            response: CachedResponse = self.responses[key]
            if not isinstance(response, CachedResponse):
                raise DeserializationError(f"stored value is a {type(response).__name__}")
        except DeserializationError as exc:
            warn_unreadable(key, exc)
            raise KeyError(key) from exc
        if response.cache_key != key:  # BaseStorage sets it; a custom storage may not
            response.cache_key = key
        limits = self._limits
        if limits is not None:
            limits.accessed(key)  # remembered here, written in batches
        return response

    def save_response(
        self,
        response: Response | CachedResponse,
        cache_key: str | None = None,
        expires: datetime | None = None,
        created_at: datetime | None = None,
    ) -> CachedResponse:
        """Store ``response`` (secrets redacted) and an alias for each redirect it followed."""
        cache_key = cache_key or self.create_key(response.request)
        if isinstance(response, CachedResponse) and all(
            isinstance(previous, CachedResponse) for previous in response.history
        ):
            cached = response
            cached.expires = expires if expires is not None else cached.expires
        else:
            cached = CachedResponse.from_response(
                response, expires, self._settings.ignored_parameters, created_at
            )
        self.responses.set(cache_key, cached, cached.expires)
        for previous in response.history:
            self.save_redirect(previous.request, cache_key)
        return cached

    def save_redirect(self, request: AnyRequest, cache_key: str) -> None:
        """Make ``request`` an alias of the response stored under ``cache_key``."""
        alias = self.create_key(request)
        if alias != cache_key:
            self.redirects[alias] = cache_key

    def save_aliases(self, aliases: Iterable[str], cache_key: str) -> None:
        """Make each key in ``aliases`` an alias of the response stored under ``cache_key``."""
        for alias in aliases:
            if alias != cache_key:
                self.redirects[alias] = cache_key

    # -- size limits -----------------------------------------------------------------------
    @property
    def limits(self) -> CacheLimits | None:
        """The cache's ``max_size``, ``max_entries`` and ``eviction_policy``, or None."""
        return self._limits.limits if self._limits is not None else None

    def size(self) -> int:
        """Total bytes of the stored responses, as ``max_size`` counts them."""
        return cache_totals(self)[0]

    def count(self, expired: bool = True) -> int:
        """Number of stored responses; with ``expired=False``, only unexpired ones."""
        if not expired:
            return sum(1 for _ in self.filter(expired=False))
        return cache_totals(self)[1]

    def enforce_limits(self) -> int:
        """Evict now if a limit is exceeded; return the number of responses evicted."""
        return self._limits.enforce() if self._limits is not None else 0

    # -- keys ------------------------------------------------------------------------------
    def create_key(self, request: AnyRequest, match_headers: Any = None, **kwargs: Any) -> str:
        """Return the key for ``request`` under this cache's settings."""
        return settings_key(request, self._settings, match_headers, **kwargs)

    # -- inspection ------------------------------------------------------------------------
    def contains(
        self,
        key: str | None = None,
        request: AnyRequest | None = None,
        url: str | None = None,
        verify: bool = True,
    ) -> bool:
        """True if a response is stored for ``key``, ``request`` or a GET of ``url`` (sent
        with ``verify``)."""
        if key is None and request is None and url is None:
            raise TypeError("contains() needs one of key=, request= or url=")
        if key is None:
            request = request if request is not None else Request("GET", url)
            key = self.create_key(request, **_verify(verify))
        return key in self.responses or key in self.redirects

    def filter(
        self,
        valid: bool = True,
        expired: bool = True,
        invalid: bool = False,
        older_than: ExpirationTime = None,
    ) -> Iterator[CachedResponse]:
        """Yield stored responses: ``valid`` (unexpired) and/or ``expired`` ones, optionally only
        those created longer ago than ``older_than``. With ``invalid=True``, each entry that
        cannot be read is also yielded, as an empty 504 response carrying its ``cache_key``
        (as in requests-cache); ``delete(invalid=True)`` removes them."""
        now = utcnow()
        seen: set[str] = set()
        for key, response in self.responses.readable_items():
            if not isinstance(response, Response):
                continue  # not a response: listed with invalid=True below
            seen.add(key)
            response.cache_key = key  # type: ignore[attr-defined]
            expires = getattr(response, "expires", None)
            is_expired = expires is not None and now >= expires
            if (is_expired and not expired) or (not is_expired and not valid):
                continue
            if older_than is not None and not (
                isinstance(response, CachedResponse) and response.is_older_than(older_than)
            ):
                continue
            yield response  # type: ignore[misc]  # a custom storage's look-alike, as in 1.x
        if invalid:
            for key in list(self.responses):
                if key in seen:
                    continue
                try:
                    self.responses[key]
                except KeyError:
                    continue
                except DeserializationError:
                    pass
                placeholder = CachedResponse(status_code=504, reason="Unreadable cache entry")
                placeholder.cache_key = key
                yield placeholder

    def urls(self, **kwargs: Any) -> list[str]:
        """Return the sorted, unique URLs of stored responses (``filter()`` arguments apply)."""
        return sorted({response.url for response in self.filter(**kwargs) if response.url})

    def delete(
        self,
        *keys: str,
        expired: bool = False,
        invalid: bool = False,
        older_than: ExpirationTime = None,
        urls: Iterable[str] | None = None,
        requests: Iterable[AnyRequest] | None = None,
        verify: bool = True,
    ) -> None:
        """Delete responses by key, URL (GET), request (sent with ``verify``), or condition,
        and their aliases."""
        doomed = set(keys)
        options = _verify(verify)
        doomed.update(self.create_key(Request("GET", url), **options) for url in urls or ())
        doomed.update(self.create_key(request, **options) for request in requests or ())
        if expired or invalid or older_than is not None:
            now = utcnow()
            for key in list(self.responses):
                try:
                    response = self.responses[key]
                except KeyError:
                    continue
                except DeserializationError:
                    response = None
                if not isinstance(response, CachedResponse):  # unreadable, or not a response
                    if invalid:
                        doomed.add(key)
                    continue
                if (expired and response.expires is not None and now >= response.expires) or (
                    older_than is not None and response.is_older_than(older_than)
                ):
                    doomed.add(key)
        # A key may name a redirect alias rather than a response.
        self.redirects.bulk_delete([k for k in doomed if k in self.redirects])
        self.responses.bulk_delete(doomed)
        self._prune_redirects()

    def _prune_redirects(self) -> None:
        stale = [
            k
            for k in list(self.redirects)
            if self.redirects.get_raw_default(k) not in self.responses
        ]
        if stale:
            self.redirects.bulk_delete(stale)

    def remove_expired_responses(self, expire_after: ExpirationTime = None) -> None:
        """Deprecated name kept for requests-cache users: ``delete(expired=True)``."""
        if expire_after is not None:
            self.reset_expiration(expire_after)
        self.delete(expired=True, invalid=True)

    def reset_expiration(self, expire_after: ExpirationTime = None) -> None:
        """Give every stored response a new expiry, relative to now."""
        now = utcnow()
        expires = expiration_datetime(expire_after, now)
        for key, response in list(self.responses.readable_items()):
            response.expires = expires
            self.responses.set(key, response, expires)

    def recreate_keys(self) -> None:
        """Re-key stored responses (after a change in key rules or settings)."""
        for key, response in list(self.responses.readable_items()):
            if not isinstance(response, CachedResponse):
                continue
            new_key = self.create_key(response.request)
            if new_key != key:
                self.responses.set(new_key, response, response.expires)
                self.responses.bulk_delete([key])

    def update(self, other: BaseCache) -> None:
        """Copy every response and redirect from ``other`` into this cache."""
        for key, value in other.responses.readable_items():
            try:
                self.responses.set(key, value, getattr(value, "expires", None))
            except TypeError as exc:  # a value this cache's format cannot hold
                warn_unreadable(key, exc)
        for key in list(other.redirects):
            try:
                self.redirects[key] = other.redirects.get_raw(key)
            except KeyError:
                continue

    def clear(self) -> None:
        """Delete every stored response and redirect."""
        self.responses.clear()
        self.redirects.clear()

    def close(self) -> None:
        """Close the storages' connections."""
        flush_uses(self)
        self.responses.close()
        self.redirects.close()

    def __str__(self) -> str:
        return f"<{type(self).__name__}(name={self.cache_name!r})>"

    __repr__ = __str__
