"""CachedSession and CacheMixin: the glue between requests, the policy and the cache."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from difflib import get_close_matches
from pathlib import Path
from typing import TYPE_CHECKING, Any

from requests import PreparedRequest, Request, Response, Session
from requests.auth import HTTPBasicAuth
from requests.exceptions import RequestException
from requests.hooks import dispatch_hook
from requests.sessions import merge_hooks

from .backends import BaseCache, EntryTooLargeError, init_backend
from .concurrency import RefreshPool
from .exceptions import StorageError
from .models import CachedRequest, CachedResponse, OriginalResponse
from .models.raw import rewind_stream
from .models.response import set_response_attributes, utcnow
from .policy import Plan, PlanAction, decide, decide_store
from .policy.decide import standards_mode
from .policy.expiration import NEVER_EXPIRE, ExpirationTime
from .policy.plan import conditional_headers
from .policy.standard import decide_standard
from .settings import (
    DEFAULT_CACHE_NAME,
    DEFAULT_IGNORED_PARAMS,
    DEFAULT_METHODS,
    DEFAULT_OPTIONS,
    DEFAULT_STATUS_CODES,
    CacheSettings,
    RequestOptions,
)
from .standard_session import StandardsMixin, with_age

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .serializers.pipeline import SerializerType

__all__ = ["SETTING_ARGS", "CacheMixin", "CachedSession", "unknown_argument_error"]

logger = logging.getLogger(__name__)

#: Per-request options, handed from request() to the send() calls it makes (redirect hops
#: included) without touching the request itself.
_REQUEST_OPTIONS: ContextVar[RequestOptions | None] = ContextVar(
    "requests_cache_like_options", default=None
)
#: Request headers that need the full policy (conditional or cache-directive requests).
_SLOW_PATH_HEADERS = frozenset(
    {
        "cache-control",
        "pragma",
        "if-none-match",
        "if-modified-since",
        "if-match",
        "if-unmodified-since",
        "if-range",
        "range",
    }
)
#: RFC 5861 §4: the errors for which stale-if-error applies.
_ERROR_STATUSES = frozenset({500, 502, 503, 504})
#: Headers a 304 must not change in the stored response (RFC 9111 §3.2).
_PROTECTED_HEADERS = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "content-range", "content-type"}
)
_MEMO_LIMIT = 4096
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
    }
)
_SESSION_ARGS = SETTING_ARGS | {"cache_name", "backend", "serializer"}
#: Keyword arguments requests.Session.send passes on to the transport adapter.
_SEND_KWARGS = frozenset({"stream", "timeout", "verify", "cert", "proxies", "allow_redirects"})
_refresh_pool = RefreshPool()
_fast_path_classes: dict[type, bool] = {}


def unknown_argument_error(
    owner: str, kwargs: Mapping[str, Any], backend: Any, error: TypeError
) -> TypeError:
    """Return ``error`` reworded for the caller when it is about keyword arguments that are
    neither cache settings nor backend options, with a "did you mean" hint for each."""
    unknown = [k for k in kwargs if k not in _SESSION_ARGS and k in str(error)]
    if not unknown:
        return error
    hints = [
        f"{name!r} (did you mean {match[0]!r}?)" if match else repr(name)
        for name in unknown
        for match in [get_close_matches(name, _SESSION_ARGS, n=1)]
    ]
    return TypeError(
        f"{owner}() got unexpected keyword argument(s) {', '.join(hints)}: neither a cache "
        f"setting nor an option of the {backend or 'sqlite'!s} backend ({error})"
    )


def _supports_fast_path(cls: type) -> bool:
    """True if nothing between CacheMixin and requests.Session changes how a request is
    prepared or sent, so a fresh hit may be answered before preparation."""
    cached = _fast_path_classes.get(cls)
    if cached is not None:
        return cached
    mro = cls.__mro__
    after_mixin = mro[mro.index(CacheMixin) + 1 :]

    def definer(classes: tuple[type, ...], name: str) -> type | None:
        return next((k for k in classes if name in k.__dict__), None)

    # The fast path skips send(), prepare_request() and merge_environment_settings()
    # entirely, and request() of anything after the mixin: an override of one of these,
    # wherever it sits in the MRO, may change the key or the answer. An override of
    # request() before the mixin is fine: it still ends in CacheMixin.request.
    ok = (
        definer(mro, "send") is CacheMixin
        and definer(mro, "prepare_request") is Session
        and definer(mro, "merge_environment_settings") is Session
        and all(definer(after_mixin, name) is Session for name in ("request", "send"))
    )
    _fast_path_classes[cls] = ok
    return ok


#: Types of query parameter values the key memo can tell apart (with their type alongside).
_MEMO_PARAM_TYPES = frozenset({str, bytes, int, float, bool, type(None)})


def _params_memo_key(params: Any) -> Any:
    """Return a hashable stand-in for ``params`` that two values share only if requests
    encodes them alike; raise TypeError for params the memo should not handle.

    ``1``, ``1.0`` and ``True`` are equal in Python but encode as ``1``, ``1.0`` and
    ``True``, so each value's type is part of the stand-in.
    """
    if params is None:
        return None
    if type(params) in (str, bytes):
        return (type(params), params)
    if isinstance(params, dict):
        items = tuple(params.items())
        for name, value in items:
            if type(name) is not str or type(value) not in _MEMO_PARAM_TYPES:
                raise TypeError("params not memoised")
        return tuple((name, type(value), value) for name, value in items)
    raise TypeError("params not memoised")


class _NotGiven:
    """Default of ``expire_after``: never expire, and with ``cache_control=True`` standards
    mode (an explicit ``expire_after``, even -1, keeps requests-cache's override meaning)."""

    def __repr__(self) -> str:
        return "NEVER_EXPIRE"


EXPIRE_AFTER_NOT_GIVEN: Any = _NotGiven()


class CacheMixin(StandardsMixin):
    """Adds caching to a :class:`requests.Session` subclass: ``class S(CacheMixin, Session)``.

    See :class:`CachedSession` for the arguments.
    """

    # Attributes of requests.Session this mixin relies on (for type checkers).
    if TYPE_CHECKING:
        headers: Any
        hooks: dict[str, list[Any]]
        params: Any
        auth: Any
        stream: bool
        verify: Any
        cert: Any

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
        backend_kwargs = dict(kwargs)
        if serializer is not None:
            backend_kwargs["serializer"] = serializer
        try:
            self.cache: BaseCache = init_backend(cache_name, backend, **backend_kwargs)
        except TypeError as exc:
            raise unknown_argument_error(type(self).__name__, kwargs, backend, exc) from None
        self.cache.settings = self._settings
        self._disable_lock = threading.Lock()
        self._disabled_depth = 0
        self._failing: set[str] = set()  # "reads" / "writes" while storage fails
        super().__init__()

    # -- settings ---------------------------------------------------------------------------
    @property
    def settings(self) -> CacheSettings:
        """The session's cache settings (assigning a new value also updates the cache's)."""
        return self._settings

    @settings.setter
    def settings(self, value: CacheSettings) -> None:
        if not isinstance(value, CacheSettings):
            raise TypeError(f"settings={value!r}; accepted: a CacheSettings instance")
        self._settings = value
        self.cache.settings = value

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

        if (
            data is None
            and json is None
            and files is None
            and auth is None
            and isinstance(method, str)
            and _supports_fast_path(type(self))
        ):
            hit = self._fast_hit(
                method,
                url,
                params,
                headers,
                hooks,
                allow_redirects,
                options,
                stream,
                timeout,
                verify,
                cert,
                proxies,
            )
            if hit is not None:
                return hit

        token = _REQUEST_OPTIONS.set(options)
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
            _REQUEST_OPTIONS.reset(token)

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

        Takes the same cache options as :meth:`request`.
        """
        if kwargs.keys() - _SEND_KWARGS:
            # A hit never reaches the adapter that would reject these: reject them here.
            raise TypeError(
                f"{type(self).__name__}.send() got unexpected keyword argument(s) "
                f"{', '.join(sorted(kwargs.keys() - _SEND_KWARGS))}; accepted: "
                f"{', '.join(sorted(_SEND_KWARGS))}, expire_after, only_if_cached, refresh, "
                "force_refresh"
            )
        if expire_after is not None or only_if_cached or refresh or force_refresh:
            options = RequestOptions(expire_after, only_if_cached, refresh, force_refresh)
        else:
            options = _REQUEST_OPTIONS.get() or DEFAULT_OPTIONS
        settings = self._settings
        method = (request.method or "GET").upper()
        if (
            settings.cache_control
            and not settings.disabled
            and standards_mode(request.url or "", settings, options)
        ):
            return self._send_standard(request, method, options, kwargs)  # type: ignore[no-any-return]
        now = utcnow()
        cacheable = method in settings.allowable_methods and not settings.disabled
        key = self.cache.create_key(request) if cacheable else ""
        cached = (
            self._cache_read(key, kwargs.get("allow_redirects", True))
            if cacheable and not options.force_refresh
            else None
        )
        plan = decide(method, request.url or "", request.headers, cached, settings, options, now)
        action = plan.action

        if action is PlanAction.SERVE:
            return self._serve(cached, request.hooks, kwargs)  # type: ignore[arg-type]
        if action is PlanAction.GATEWAY_TIMEOUT:
            return self._gateway_timeout(request, key)
        if action is PlanAction.BYPASS:
            response = super().send(request, **kwargs)  # type: ignore[misc]
            return set_response_attributes(response, key)
        if action is PlanAction.SERVE_STALE_AND_REFRESH:
            # The caller holds the stale response: a 304 must freshen a copy, not edit theirs.
            stale = cached.copy()  # type: ignore[union-attr]
            self._refresh_in_background(
                request,
                key,
                stale,
                kwargs,
                lambda refresh, plan, send_kwargs: self._fetch(
                    refresh, key, stale, plan, options, utcnow(), send_kwargs
                ),
            )
            return self._serve(cached, request.hooks, kwargs)  # type: ignore[arg-type]
        return self._fetch(request, key, cached, plan, options, now, kwargs)

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

    # -- the fast path ----------------------------------------------------------------------
    def _fast_hit(
        self,
        method: str,
        url: Any,
        params: Any,
        headers: Any,
        hooks: Any,
        allow_redirects: bool,
        options: RequestOptions,
        stream: Any,
        timeout: Any,
        verify: Any,
        cert: Any,
        proxies: Any,
    ) -> CachedResponse | None:
        """Answer a fresh hit without preparing the request, or return None.

        The key is the one :meth:`send` computes for the prepared request (the URL is
        prepared by the same requests code, memoised per input); only requests whose key and
        policy cannot depend on anything else take this path.
        """
        settings = self._settings
        method = method.upper()
        if settings.disabled or method not in settings.allowable_methods:
            return None
        if settings.key_fn is not None or settings.match_headers or self.params:
            return None
        if self.auth is not None and type(self.auth) not in (tuple, HTTPBasicAuth):
            return None  # an auth callable may change the URL, hence the key
        if headers and any(str(name).lower() in _SLOW_PATH_HEADERS for name in headers):
            return None
        session_headers = self.headers
        if "Cache-Control" in session_headers or "Pragma" in session_headers:
            return None
        memo = settings.key_memo
        try:
            memo_key = (method, url, _params_memo_key(params))
            entry = memo.get(memo_key)
        except (TypeError, AttributeError):  # params the memo cannot tell apart: usual path
            return None
        if entry is None:
            prepared = PreparedRequest()
            try:
                prepared.prepare_method(method)
                prepared.prepare_url(url, params)
            except Exception:  # invalid URL: let requests raise its own error, on the slow path
                return None
            prepared.prepare_headers(None)
            prepared.prepare_body(None, None, None)
            entry = (self.cache.create_key(prepared), prepared.url or "")
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[memo_key] = entry
        key, prepared_url = entry
        cached = self._cache_read(key, allow_redirects)
        if cached is None:
            return None
        standards = settings.cache_control and standards_mode(prepared_url, settings, options)
        if standards and ("Vary" in cached.headers or cached.status_code == 206):
            return None  # the variant or range to serve depends on the request's headers
        now = utcnow()
        if standards:
            plan = decide_standard({}, cached, settings, options, now)
        else:
            plan = decide(method, prepared_url, {}, cached, settings, options, now)
        if plan.action is not PlanAction.SERVE:
            return None
        if standards:
            cached = with_age(cached, now)
        request_hooks = (
            self.hooks if hooks is None else merge_hooks(Request(hooks=hooks).hooks, self.hooks)  # type: ignore[no-untyped-call]
        )
        if request_hooks.get("response"):
            send_kwargs = {
                "stream": self.stream if stream is None else stream,
                "timeout": timeout,
                "verify": self.verify if verify is None else verify,
                "cert": self.cert if cert is None else cert,
                "proxies": proxies or {},
            }
            return self._serve(cached, request_hooks, send_kwargs)
        return cached

    # -- carrying out a plan ----------------------------------------------------------------
    def _serve(
        self, cached: CachedResponse, hooks: Mapping[str, Any] | None, kwargs: Mapping[str, Any]
    ) -> CachedResponse:
        if hooks and hooks.get("response"):
            # requests dispatches response hooks in Session.send, which a hit does not reach.
            return dispatch_hook("response", hooks, cached, **kwargs)  # type: ignore[no-any-return, no-untyped-call]
        return cached

    def _gateway_timeout(self, request: PreparedRequest, key: str) -> CachedResponse:
        response = CachedResponse(
            url=request.url or "",
            status_code=504,
            reason="Not Cached",
            request=CachedRequest.from_request(request, self._settings.ignored_parameters),
            expires=None,
        )
        response.cache_key = key
        return response

    def _fetch(
        self,
        request: PreparedRequest,
        key: str,
        cached: CachedResponse | None,
        plan: Plan,
        options: RequestOptions,
        now: datetime,
        kwargs: dict[str, Any],
    ) -> OriginalResponse | CachedResponse:
        """Send the request (conditionally, for REVALIDATE) and store what the policy allows.
        With a stale fallback, an error or 5xx from the origin is answered from the cache."""
        outgoing = request
        if plan.action is PlanAction.REVALIDATE:
            outgoing = request.copy()
            outgoing.headers.update(plan.conditional_headers)
        try:
            response: Response = super().send(outgoing, **kwargs)  # type: ignore[misc]
        except RequestException as exc:
            if cached is not None and plan.stale_fallback:
                logger.warning("Serving stale response for %s after error: %s", request.url, exc)
                return cached
            raise
        if cached is not None and plan.stale_fallback and response.status_code in _ERROR_STATUSES:
            logger.warning(
                "Serving stale response for %s after status %s", request.url, response.status_code
            )
            response.close()  # release the connection of the answer we do not use
            return cached
        if (
            response.status_code == 304
            and cached is not None
            and (plan.action is PlanAction.REVALIDATE)
        ):
            return self._update_from_304(request, key, cached, response, options, now)
        return self._store(request, key, response, options, now, kwargs.get("stream", False))

    def _update_from_304(
        self,
        request: PreparedRequest,
        key: str,
        cached: CachedResponse,
        not_modified: Response,
        options: RequestOptions,
        now: datetime,
    ) -> CachedResponse:
        """Freshen a stored response with a 304's headers (RFC 9111 §4.3.4)."""
        not_modified.close()  # no body to read: release its connection
        for name, value in not_modified.headers.items():
            if name.lower() not in _PROTECTED_HEADERS:
                cached.headers[name] = value
        decision = decide_store(
            (request.method or "GET").upper(),
            request.url or "",
            request.headers,
            cached.status_code,
            cached.headers,
            self._settings,
            options,
            now,
        )
        cached.created_at = now
        cached.expires = decision.expires
        if decision.store:
            self._cache_write(
                lambda: self.cache.responses.set(cached.cache_key or key, cached, cached.expires)
            )
        cached.revalidated = True
        return cached

    def _store(
        self,
        request: PreparedRequest,
        key: str,
        response: Response,
        options: RequestOptions,
        now: datetime,
        stream: bool,
    ) -> OriginalResponse | CachedResponse:
        settings = self._settings
        # After redirects, the response answers the last request of the chain: store it
        # under that request's key, and the earlier requests as aliases.
        final_request = response.request if response.history else request
        final_key = self.cache.create_key(final_request) if response.history else key
        decision = decide_store(
            (final_request.method or "GET").upper(),
            final_request.url or "",
            final_request.headers,
            response.status_code,
            response.headers,
            settings,
            options,
            now,
        )
        if isinstance(response, CachedResponse):
            # The last hop was answered from the cache: keep its expiry, add the aliases.
            self._cache_write(lambda: self._alias_history(response, final_key))
            return response
        store = decision.store and (settings.filter_fn is None or settings.filter_fn(response))
        if not store:
            return set_response_attributes(response, final_key)
        stored = self._cache_write(
            lambda: self.cache.save_response(response, final_key, decision.expires, created_at=now)
        )
        if stream:
            rewind_stream(response)
        if not stored:
            return set_response_attributes(response, final_key)
        return set_response_attributes(response, final_key, now, decision.expires, now)

    def _alias_history(self, response: Response, final_key: str) -> None:
        if final_key in self.cache.responses:
            for previous in response.history:
                self.cache.save_redirect(previous.request, final_key)

    # -- storage failures -------------------------------------------------------------------
    def _cache_read(self, key: str, follow_redirects: bool) -> CachedResponse | None:
        """Read ``key``; with ``on_backend_error="bypass"`` a storage failure is a miss."""
        try:
            cached: CachedResponse | None = self.cache.get_response(
                key, follow_redirects=follow_redirects
            )
        except StorageError as exc:
            self._storage_failed(exc, "reads")
            return None
        if self._failing:
            self._storage_recovered("reads")
        return cached

    def _cache_write(self, write: Callable[[], object]) -> bool:
        """Run a write; return False if it did not happen (the error is raised, or with
        ``on_backend_error="bypass"`` logged). An entry too large for the backend is always
        logged and skipped: the response is still returned."""
        try:
            write()
        except EntryTooLargeError as exc:
            logger.warning("Response not cached: %s", exc)
            return False
        except StorageError as exc:
            self._storage_failed(exc, "writes")
            return False
        if self._failing:
            self._storage_recovered("writes")
        return True

    def _storage_failed(self, error: StorageError, operation: str) -> None:
        if self._settings.on_backend_error != "bypass":
            raise error
        # Reads and writes are tracked apart and the storage counts as working again only
        # when both are, so a store that serves reads but refuses writes (out of memory, say)
        # warns once instead of flapping between "failed" and "working" on every request.
        if not self._failing:
            logger.warning(
                "Cache storage failed (%s); answering from the origin until it recovers", error
            )
        else:
            logger.debug("Cache storage %s failing: %s", operation, error)
        self._failing.add(operation)

    def _storage_recovered(self, operation: str) -> None:
        self._failing.discard(operation)
        if not self._failing:
            logger.warning("Cache storage is working again")

    def _refresh_in_background(
        self,
        request: PreparedRequest,
        key: str,
        stored: CachedResponse,
        kwargs: dict[str, Any],
        fetch: Callable[[PreparedRequest, Plan, dict[str, Any]], object],
    ) -> None:
        """Queue ``fetch(request, plan, send_kwargs)`` on the refresh pool, revalidating
        ``stored`` when it has validators (RFC 5861 §3)."""
        refresh_request = request.copy()
        refresh_request.hooks = {"response": []}  # user hooks ran for the stale answer
        send_kwargs = dict(kwargs)
        validators = conditional_headers(stored)
        plan = Plan(PlanAction.REVALIDATE if validators else PlanAction.FETCH, validators)
        _refresh_pool.submit(key, lambda: fetch(refresh_request, plan, send_kwargs))

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
        """Close the session's connections, and the cache too if ``autoclose`` is set."""
        if self._settings.autoclose:
            self.cache.close()
        super().close()  # type: ignore[misc]

    @classmethod
    def wrap(cls, original_session: Session, **kwargs: Any) -> CacheMixin:
        """Return a cached session with the state of ``original_session`` (auth, headers,
        cookies, hooks, adapters, proxies, params, verify...)."""
        session = cls(**kwargs)
        for attr in (
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
        ):
            setattr(session, attr, getattr(original_session, attr))
        session.adapters = original_session.adapters  # type: ignore[attr-defined]
        return session

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
    :param kwargs: Backend options (e.g. ``use_cache_dir=True``, ``wal=True`` for SQLite).
        Anything unknown is a TypeError.
    """
