"""CachedSession and CacheMixin: the requests-facing surface. :mod:`.exchange` carries requests
out, :mod:`.fast_path` answers fresh hits early; every decision is :mod:`.policy`'s."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from requests import PreparedRequest, Session

from . import cleanup
from .arguments import (
    EXPIRE_AFTER_NOT_GIVEN,
    SETTING_ARGS,
    WRAPPED_ATTRIBUTES,
    SettingAttributes,
    apply_setting_kwargs,
    check_send_kwargs,
    unknown_argument_error,
    warn_replaced_settings,
)
from .backends import BaseCache, init_backend
from .exchange import Exchange
from .fast_path import DISPATCH_HOOK, KeyHint, dispatch_hit_hooks, fast_hit, supports_fast_path
from .keys import settings_key
from .lookup import rules_for
from .models import CachedResponse, OriginalResponse
from .policy.expiration import NEVER_EXPIRE, ExpirationTime
from .redirects import IN_REDIRECT_CHAIN, follow_redirects
from .settings import (
    DEFAULT_CACHE_NAME,
    DEFAULT_IGNORED_PARAMS,
    DEFAULT_METHODS,
    DEFAULT_OPTIONS,
    DEFAULT_STATUS_CODES,
    CacheSettings,
    RequestOptions,
)
from .single_flight import release_unclaimed
from .storage_guard import StorageGuard

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .serializers.pipeline import SerializerType

__all__ = ["SETTING_ARGS", "CacheMixin", "CachedSession", "unknown_argument_error"]

#: What request() hands to the send() calls it makes (redirect hops included), without
#: touching the request itself: the per-request options, and what the fast path learnt.
_CALL: ContextVar[tuple[RequestOptions, KeyHint | None] | None] = ContextVar(
    "requests_cache_like_call", default=None
)


def _supports_fast_path(cls: type) -> bool:
    """True if fresh hits of ``cls`` may be answered before preparation (see fast_path)."""
    return supports_fast_path(cls, CacheMixin)  # memoised there


class CacheMixin(SettingAttributes):
    """Adds caching to a :class:`requests.Session` subclass: ``class S(CacheMixin, Session)``.

    See :class:`CachedSession` for the arguments; every setting is also an attribute."""

    def __init__(
        self,
        cache_name: str | Path = DEFAULT_CACHE_NAME,
        backend: str | BaseCache | None = None,
        serializer: SerializerType = None,
        expire_after: ExpirationTime = EXPIRE_AFTER_NOT_GIVEN,
        urls_expire_after: Mapping[Any, ExpirationTime] | None = None,
        cache_control: bool = False,
        allowable_codes: Iterable[int] = DEFAULT_STATUS_CODES,
        allowable_methods: Iterable[str] = DEFAULT_METHODS,
        always_revalidate: bool = False,
        ignored_parameters: Iterable[str] = DEFAULT_IGNORED_PARAMS,
        match_headers: Iterable[str] | bool = False,
        filter_fn: Any = None,
        key_fn: Any = None,
        read_only: bool = False,
        stale_if_error: bool | int | Any = False,
        stale_while_revalidate: bool | int | Any = False,
        content_root_key: str | None = None,
        autoclose: bool = True,
        on_backend_error: str = "raise",
        **kwargs: Any,
    ) -> None:
        self._settings = CacheSettings(
            allowable_codes=allowable_codes,
            allowable_methods=allowable_methods,
            always_revalidate=always_revalidate,
            autoclose=autoclose,
            cache_control=cache_control,
            content_root_key=content_root_key,
            expire_after=NEVER_EXPIRE if expire_after is EXPIRE_AFTER_NOT_GIVEN else expire_after,
            expire_after_given=expire_after is not EXPIRE_AFTER_NOT_GIVEN,
            filter_fn=filter_fn,
            ignored_parameters=ignored_parameters,
            key_fn=key_fn,
            match_headers=match_headers,
            read_only=read_only,
            stale_if_error=stale_if_error,
            stale_while_revalidate=stale_while_revalidate,
            urls_expire_after=urls_expire_after,
            on_backend_error=on_backend_error,
        )
        apply_setting_kwargs(self._settings, kwargs, type(self).__name__)
        backend_kwargs = dict(kwargs)
        if serializer is not None:
            backend_kwargs["serializer"] = serializer
        try:
            self.cache: BaseCache = init_backend(cache_name, backend, **backend_kwargs)
        except TypeError as exc:
            raise unknown_argument_error(type(self).__name__, kwargs, backend, exc) from None
        warn_replaced_settings(self.cache, type(self).__name__)
        # The cache's own inspection methods (contains(url=...), delete(urls=...)) build keys
        # with the settings of the session made last; requests never read them from there.
        self.cache.settings = self._settings
        self._storage = StorageGuard(self)
        self._disable_lock = threading.Lock()
        self._disabled_depth = 0
        super().__init__()
        cleanup.CLEANUP.watch(self)  # runs while cleanup_interval is set, until close()

    # -- settings ---------------------------------------------------------------------------
    @property
    def settings(self) -> CacheSettings:
        """The session's cache settings: its own, even when it shares its cache."""
        return self._settings

    @settings.setter
    def settings(self, value: CacheSettings) -> None:
        if not isinstance(value, CacheSettings):
            raise TypeError(f"settings={value!r}; accepted: a CacheSettings instance")
        self._settings = value
        self.cache.settings = value
        cleanup.CLEANUP.wake()

    # -- requests API -----------------------------------------------------------------------
    def request(
        self,
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        cookies: Any = None,
        files: Any = None,
        auth: Any = None,
        timeout: Any = None,
        allow_redirects: bool = True,
        proxies: Any = None,
        hooks: Any = None,
        stream: bool | None = None,
        verify: Any = None,
        cert: Any = None,
        json: Any = None,
        *,
        expire_after: ExpirationTime = None,
        only_if_cached: bool = False,
        refresh: bool = False,
        force_refresh: bool = False,
    ) -> OriginalResponse | CachedResponse:
        """Send a request as :meth:`requests.Session.request` does, answering from the cache
        when the policy allows.

        :param expire_after: Expiration for this response, overriding URL and session values.
        :param only_if_cached: Answer only from the cache: a 504 response on a miss.
        :param refresh: Revalidate a stored response with the server before using it.
        :param force_refresh: Skip the cache read and fetch afresh (the result is stored).
        """
        if expire_after is None and not (only_if_cached or refresh or force_refresh):
            options = DEFAULT_OPTIONS
        else:
            options = RequestOptions(expire_after, only_if_cached, refresh, force_refresh)

        hint = None
        if (
            data is None
            and json is None
            and files is None
            and auth is None
            and isinstance(method, str)
            and _supports_fast_path(type(self))
        ):
            hit, hint = fast_hit(
                self, method, url, params, headers, options, allow_redirects, verify
            )
            if hit is not None:
                if hooks is None and not self.hooks.get("response"):
                    return hit
                send_kwargs = {"stream": stream, "timeout": timeout, "verify": verify}
                send_kwargs.update(cert=cert, proxies=proxies)
                return dispatch_hit_hooks(self, hit, hooks, send_kwargs)

        token = _CALL.set((options, hint))
        try:
            return super().request(  # type: ignore[misc, no-any-return]
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                cookies=cookies,
                files=files,
                auth=auth,
                timeout=timeout,
                allow_redirects=allow_redirects,
                proxies=proxies,
                hooks=hooks,
                stream=stream,
                verify=verify,
                cert=cert,
                json=json,
            )
        finally:
            _CALL.reset(token)
            if hint is not None:  # a lease its lookup took that no fetch adopted
                release_unclaimed(self.cache, hint.key)

    def send(
        self,
        request: PreparedRequest,
        expire_after: ExpirationTime = None,
        only_if_cached: bool = False,
        refresh: bool = False,
        force_refresh: bool = False,
        **kwargs: Any,
    ) -> OriginalResponse | CachedResponse:
        """Send a prepared request, answering from the cache when the policy allows.

        Takes the same cache options as :meth:`request`. Response hooks run once, on the
        answer, which carries the cache attributes whether it came from the cache or not.
        """
        check_send_kwargs(type(self).__name__, kwargs)
        call = _CALL.get()
        hint = None
        if expire_after is not None or only_if_cached or refresh or force_refresh:
            options = RequestOptions(expire_after, only_if_cached, refresh, force_refresh)
        elif call is not None:
            options, hint = call
        else:
            options = DEFAULT_OPTIONS
        if hint is not None:
            _CALL.set((options, None))  # the fast path's hint is for the first hop only
            if hint.method != (request.method or "GET").upper() or hint.url != request.url:
                hint = None  # the request changed on its way here: work it out again
        exchange = self._exchange(request, options, hint, kwargs)
        response = exchange.answer(known_miss=hint is not None and hint.missing)
        for name in ("stream", "verify", "cert"):
            kwargs.setdefault(name, getattr(self, name))
        allow_redirects = kwargs.pop("allow_redirects", True)
        if request.hooks.get("response"):
            response = DISPATCH_HOOK("response", request.hooks, response, **kwargs)
        if allow_redirects and response.is_redirect:
            response = follow_redirects(self.resolve_redirects, exchange, response, request, kwargs)
        return response  # type: ignore[return-value]

    def _exchange(
        self,
        request: PreparedRequest,
        options: RequestOptions,
        hint: KeyHint | None,
        send_kwargs: dict[str, Any],
    ) -> Exchange:
        """The exchange that carries ``request`` out: its rules and key, computed once."""
        settings = self._settings
        method = (request.method or "GET").upper()
        url = request.url or ""
        if hint is not None:
            rules = hint.rules
            key = hint.key if rules.cacheable else ""
        else:
            rules = rules_for(settings, method, url, options)
            unverified = {"verify": False} if send_kwargs.get("verify") is False else {}
            key = settings_key(request, settings, **unverified) if rules.cacheable else ""
        transport = super().send  # type: ignore[misc]
        return Exchange(
            self.cache,
            settings,
            self._storage,
            transport,
            request,
            rules,
            key,
            dict(send_kwargs),
            defer_store=IN_REDIRECT_CHAIN.get(),
        )

    # Verb helpers, typed with the cache attributes their responses carry.
    def get(self, url: str, params: Any = None, **kwargs: Any) -> OriginalResponse | CachedResponse:
        """Send a GET request (see :meth:`request` for the cache options)."""
        return self.request("GET", url, params=params, **kwargs)

    def options(self, url: str, **kwargs: Any) -> OriginalResponse | CachedResponse:
        """Send an OPTIONS request."""
        return self.request("OPTIONS", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> OriginalResponse | CachedResponse:
        """Send a HEAD request (redirects are not followed unless ``allow_redirects=True``)."""
        kwargs.setdefault("allow_redirects", False)
        return self.request("HEAD", url, **kwargs)

    def post(
        self, url: str, data: Any = None, json: Any = None, **kwargs: Any
    ) -> OriginalResponse | CachedResponse:
        """Send a POST request."""
        return self.request("POST", url, data=data, json=json, **kwargs)

    def put(self, url: str, data: Any = None, **kwargs: Any) -> OriginalResponse | CachedResponse:
        """Send a PUT request."""
        return self.request("PUT", url, data=data, **kwargs)

    def patch(self, url: str, data: Any = None, **kwargs: Any) -> OriginalResponse | CachedResponse:
        """Send a PATCH request."""
        return self.request("PATCH", url, data=data, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> OriginalResponse | CachedResponse:
        """Send a DELETE request."""
        return self.request("DELETE", url, **kwargs)

    # -- scoping ----------------------------------------------------------------------------
    @contextmanager
    def cache_disabled(self) -> Iterator[None]:
        """Within this block the session neither reads nor writes the cache (all threads)."""
        with self._disable_lock:
            self._disabled_depth += 1
            self._settings.disabled = True
        try:
            yield
        finally:
            with self._disable_lock:
                self._disabled_depth -= 1
                if self._disabled_depth == 0:
                    self._settings.disabled = False

    def close(self) -> None:
        """Close the session's connections and background cleanup, and (``autoclose``) its cache."""
        cleanup.CLEANUP.forget(self)
        if self._settings.autoclose:
            self.cache.close()
        super().close()  # type: ignore[misc]

    @classmethod
    def wrap(cls, original_session: Session, **kwargs: Any) -> CacheMixin:
        """A cached session with ``original_session``'s state (auth, headers, adapters...)."""
        session = cls(**kwargs)
        for attr in WRAPPED_ATTRIBUTES:
            setattr(session, attr, getattr(original_session, attr))
        session.adapters = original_session.adapters  # type: ignore[attr-defined]
        return session

    def __getstate__(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} cannot be pickled (open connections)")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}(cache={self.cache!r}, settings={self._settings!r})>"


class CachedSession(CacheMixin, Session):  # type: ignore[misc]
    """A :class:`requests.Session` with a persistent cache.

    :param cache_name: Cache name: a file path for SQLite, a namespace for other backends.
    :param backend: ``"sqlite"`` (default), ``"memory"``, a URL such as
        ``"sqlite:///path/cache.db"``, or a :class:`BaseCache` instance.
    :param serializer: ``"default"`` (safe and fast), ``"json"``, ``"pickle"``, ``"yaml"``,
        a spec such as ``"json+zstd"``, or a serializer object.
    :param expire_after: How long responses stay fresh: seconds, a timedelta, a datetime,
        ``NEVER_EXPIRE`` (-1, default), ``EXPIRE_IMMEDIATELY`` (0) or ``DO_NOT_CACHE``. Given
        at all (even -1), it overrides standards mode.
    :param urls_expire_after: ``{glob-or-regex: expire_after}``; the first match wins.
    :param cache_control: Let response ``Cache-Control``/``Expires`` headers set expiration.
        Without ``expire_after`` this is standards mode: an RFC 9111 private cache.
    :param allowable_codes: Status codes that may be stored.
    :param allowable_methods: Methods whose responses may be stored.
    :param always_revalidate: Revalidate stored responses that have a validator on every use.
    :param ignored_parameters: Request parameters and headers left out of keys and redacted
        from what is stored (defaults: common credentials).
    :param match_headers: True, or a list of header names, to make headers part of the key.
    :param filter_fn: ``f(response) -> bool``; False means "do not store".
    :param key_fn: ``f(request, ignored_parameters, match_headers) -> str``: custom keys.
    :param read_only: Read the cache, never write to it.
    :param stale_if_error: Serve a stale response if the origin fails (True, or max seconds).
    :param stale_while_revalidate: Serve a stale response while refreshing it in the
        background (True, or max seconds of staleness).
    :param content_root_key: For JSON bodies, only this top-level field is part of the key.
    :param autoclose: Close the cache when the session is closed.
    :param on_backend_error: When the storage fails: ``"raise"`` its ``StorageError``
        (default), or ``"bypass"`` the cache and answer from the origin.
    :param kwargs: Settings ``single_flight`` (default True), ``lock_timeout`` (seconds,
        default 30) and ``cleanup_interval`` (seconds between background removals of
        expired responses; None, the default: off); backend options (``max_size="500MB"``,
        ``wal=True`` ...). Anything unknown: TypeError, with a "did you mean" hint.
    """
