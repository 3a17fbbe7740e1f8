"""Standards mode of the session: carrying out the plans of an RFC 9111 private cache.

:class:`CacheMixin` hands a request here when ``cache_control=True`` and no ``expire_after``
applies to it. The decisions themselves are in :mod:`.policy.standard` and
:mod:`.policy.messages`; this module does the I/O they imply: stored variants (``Vary``),
304 and HEAD freshening, ranges served from stored responses, invalidation after unsafe
methods, and the ``Age`` of responses served from the cache.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from hashlib import blake2b
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from requests import PreparedRequest, Request, Response
from requests.exceptions import RequestException

from .models import CachedRequest, CachedResponse
from .models.raw import rewind_stream
from .models.response import set_response_attributes, utcnow
from .policy import Plan, PlanAction, StoreDecision
from .policy.messages import (
    SAFE_METHODS,
    byte_range,
    content_range,
    invalidation_targets,
    merge_headers,
    not_modified_headers,
    unstorable_headers,
    variants_match,
    vary_names,
    vary_values,
)
from .policy.standard import current_age, decide_standard, store_standard

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .backends import BaseCache
    from .settings import CacheSettings, RequestOptions

__all__ = ["StandardsMixin", "variant_key", "with_age"]

logger = logging.getLogger(__name__)

#: RFC 5861 §4: the errors for which stale-if-error applies.
_ERROR_STATUSES = frozenset({500, 502, 503, 504})


def variant_key(key: str, group: str, names: tuple[str, ...], headers: Mapping[str, str]) -> str:
    """Return the storage key of one variant of the response stored under ``key``."""
    digest = blake2b(digest_size=8)
    digest.update(group.encode())
    for name, value in zip(names, vary_values(names, headers), strict=True):
        digest.update(f"\x00{name}\x01{value}".encode())
    return f"{key}-v{digest.hexdigest()}"


def _same_entity(stored: str | None, received: str | None) -> bool:
    """False only when both entity-tags are present and differ (weak comparison)."""
    if stored is None or received is None:
        return True
    return stored.strip().removeprefix("W/") == received.strip().removeprefix("W/")


def with_age(cached: CachedResponse, now: datetime) -> CachedResponse:
    """A copy of ``cached`` carrying its current ``Age`` (RFC 9111 §5.1)."""
    response = cached.copy()
    response.headers["Age"] = str(int(current_age(cached, now).total_seconds()))
    return response


class StandardsMixin:
    """The standards-mode half of :class:`~requests_cache_like.CacheMixin`."""

    if TYPE_CHECKING:
        cache: BaseCache
        _settings: CacheSettings

        def _cache_read(self, key: str, follow_redirects: bool) -> CachedResponse | None: ...
        def _cache_write(self, write: Any) -> bool: ...
        def _serve(
            self, cached: CachedResponse, hooks: Any, kwargs: Mapping[str, Any]
        ) -> CachedResponse: ...
        def _gateway_timeout(self, request: PreparedRequest, key: str) -> CachedResponse: ...
        def _alias_history(self, response: Response, final_key: str) -> None: ...
        def _refresh_in_background(
            self,
            request: PreparedRequest,
            key: str,
            stored: CachedResponse,
            kwargs: dict[str, Any],
            fetch: Any,
        ) -> None: ...

    # -- entry point ------------------------------------------------------------------------
    def _send_standard(
        self,
        request: PreparedRequest,
        method: str,
        options: RequestOptions,
        kwargs: dict[str, Any],
    ) -> Any:
        """Answer ``request`` as an RFC 9111 private cache would."""
        settings = self._settings
        if method not in settings.allowable_methods:
            request_time = utcnow()
            response = super().send(request, **kwargs)  # type: ignore[misc]
            self._invalidate(method, request, response)
            if method == "POST" and not kwargs.get("stream"):
                self._store_for_get(request, response, request_time)
            return set_response_attributes(response, "")
        now = utcnow()
        key = self.cache.create_key(request)
        primary = None if options.force_refresh else self._cache_read(key, True)
        lookup_key = key
        if primary is None and method == "HEAD" and not options.force_refresh:
            # RFC 9111 §4: a stored GET response can answer HEAD.
            lookup_key = self._key_for(request, "GET")
            primary = self._cache_read(lookup_key, True)
        selected = self._select(lookup_key, primary, request)
        plan = decide_standard(request.headers, selected, settings, options, now)
        action = plan.action
        if action is PlanAction.SERVE:
            return self._serve(self._answer(selected, request, now), request.hooks, kwargs)  # type: ignore[arg-type]
        if action is PlanAction.NOT_MODIFIED:
            not_modified = with_age(selected, now)  # type: ignore[arg-type]
            not_modified.status_code, not_modified.reason = 304, "Not Modified"
            not_modified.headers = not_modified_headers(not_modified.headers)  # type: ignore[assignment]
            not_modified._content = b""
            return self._serve(not_modified, request.hooks, kwargs)
        if action is PlanAction.GATEWAY_TIMEOUT:
            return self._gateway_timeout(request, key)
        if action is PlanAction.SERVE_STALE_AND_REFRESH:
            self._refresh_in_background(
                request,
                key,
                selected,  # type: ignore[arg-type]
                kwargs,
                lambda refresh, plan, send_kwargs: self._fetch_standard(
                    refresh, key, primary, selected, plan, send_kwargs
                ),
            )
            return self._serve(self._answer(selected, request, now), request.hooks, kwargs)  # type: ignore[arg-type]
        return self._fetch_standard(request, key, primary, selected, plan, kwargs)

    # -- selecting a stored response ----------------------------------------------------------
    def _key_for(self, request: PreparedRequest, method: str) -> str:
        other = request.copy()
        other.method = method
        return self.cache.create_key(other)

    def _select(
        self, key: str, primary: CachedResponse | None, request: PreparedRequest
    ) -> CachedResponse | None:
        """Return the stored response ``request`` may use: the variant its ``Vary`` fields
        select (RFC 9111 §4.1), whole or partial as its ``Range`` allows."""
        if primary is None:
            return None
        selected = primary
        names = vary_names(primary.headers)
        if names is not None and not variants_match(
            names, primary.request.headers, request.headers
        ):
            if names == ("*",) or not primary.vary_group:
                return None
            variant = self._cache_read(
                variant_key(key, primary.vary_group, names, request.headers), False
            )
            if variant is None or not variants_match(
                names, variant.request.headers, request.headers
            ):
                return None
            selected = variant
        range_header = request.headers.get("Range")
        if selected.status_code == 206:
            # Partial content answers only a range it covers (RFC 9111 §3.4).
            if not range_header or not (
                self._same_range(selected, range_header)
                or self._slice(selected, range_header) is not None
            ):
                return None
        elif range_header and (
            selected.status_code != 200 or self._slice(selected, range_header) is None
        ):
            return None
        return selected

    @staticmethod
    def _same_range(stored: CachedResponse, range_header: str) -> bool:
        """True if ``stored`` is the partial answer to this very range."""
        return stored.status_code == 206 and stored.request.headers.get("Range") == range_header

    @staticmethod
    def _slice(stored: CachedResponse, range_header: str) -> tuple[int, int, int, int] | None:
        """Return ``(start, end, complete_length, offset)`` of the requested range, ``offset``
        being the position of the stored body's first byte, or None if the stored response
        cannot answer it."""
        body = stored.content or b""
        if stored.status_code == 206:
            stored_range = content_range(stored.headers)
            if stored_range is None:
                return None
            first, last, total = stored_range
            if total is None:
                return None
            wanted = byte_range(range_header, total)
            if wanted is None or wanted[0] < first or wanted[1] > min(last, first + len(body) - 1):
                return None
            return wanted[0], wanted[1], total, first
        wanted = byte_range(range_header, len(body))
        return None if wanted is None else (wanted[0], wanted[1], len(body), 0)

    def _answer(
        self, stored: CachedResponse, request: PreparedRequest, now: datetime
    ) -> CachedResponse:
        """The response to send for ``request`` from ``stored``: with its ``Age``, cut to the
        requested range, without a body for HEAD."""
        response = with_age(stored, now)
        range_header = request.headers.get("Range")
        if range_header and not self._same_range(stored, range_header):
            part = self._slice(stored, range_header)
            if part is not None:
                start, end, total, offset = part
                response._content = (stored.content or b"")[start - offset : end - offset + 1]
                response.status_code, response.reason = 206, "Partial Content"
                response.headers["Content-Range"] = f"bytes {start}-{end}/{total}"
                response.headers["Content-Length"] = str(end - start + 1)
        if (request.method or "GET").upper() == "HEAD":
            response._content = b""
        return response

    # -- talking to the origin ----------------------------------------------------------------
    def _fetch_standard(
        self,
        request: PreparedRequest,
        key: str,
        primary: CachedResponse | None,
        selected: CachedResponse | None,
        plan: Plan,
        kwargs: dict[str, Any],
    ) -> Any:
        outgoing = request
        if plan.action is PlanAction.REVALIDATE:
            outgoing = request.copy()
            outgoing.headers.update(plan.conditional_headers)
        request_time = utcnow()
        try:
            response: Response = super().send(outgoing, **kwargs)  # type: ignore[misc]
        except RequestException as exc:
            if selected is not None and (plan.stale_fallback or plan.on_disconnect == "stale"):
                logger.warning("Serving stale response for %s after error: %s", request.url, exc)
                return self._answer(selected, request, utcnow())
            if selected is not None and plan.on_disconnect == "gateway_timeout":
                logger.warning("Cannot revalidate %s (%s): answering 504", request.url, exc)
                return self._gateway_timeout(request, key)
            raise
        response_time = utcnow()
        if selected is not None and plan.stale_fallback and response.status_code in _ERROR_STATUSES:
            logger.warning(
                "Serving stale response for %s after status %s", request.url, response.status_code
            )
            response.close()
            return self._answer(selected, request, response_time)
        method = (request.method or "GET").upper()
        if method not in SAFE_METHODS:
            # An unsafe method the user made cacheable still invalidates (RFC 9111 §4.4).
            self._invalidate(method, request, response)
        if (
            response.status_code == 304
            and selected is not None
            and plan.action is PlanAction.REVALIDATE
        ):
            if not _same_entity(selected.headers.get("ETag"), response.headers.get("ETag")):
                # The 304 is about another representation: it cannot freshen ours
                # (RFC 9111 §4.3.4), so ask again without validators.
                response.close()
                return self._fetch_standard(
                    request, key, primary, None, Plan(PlanAction.FETCH), kwargs
                )
            return self._freshen(request, selected, response, request_time, response_time)
        if response.status_code == 304 and selected is not None:
            # The application's own conditional request: its 304 goes back to it, and
            # freshens the stored response when it is about the same one (§4.3.4).
            stored_etag = selected.headers.get("ETag")
            received = response.headers.get("ETag") or request.headers.get("If-None-Match")
            if stored_etag and received and _same_entity(stored_etag, received):
                self._updated(selected, response.headers, request, request_time, response_time)
            return set_response_attributes(response, key)
        if method == "HEAD" and response.status_code == 200:
            self._update_from_head(request, response, request_time, response_time)
        return self._store_standard(
            request, key, primary, response, request_time, response_time, kwargs
        )

    def _freshen(
        self,
        request: PreparedRequest,
        stored: CachedResponse,
        not_modified: Response,
        request_time: datetime,
        response_time: datetime,
    ) -> CachedResponse:
        """Update a stored response from a 304 (RFC 9111 §4.3.4) and answer with it."""
        not_modified.close()  # no body to read: release its connection
        updated = self._updated(stored, not_modified.headers, request, request_time, response_time)
        updated.revalidated = True
        return self._answer(updated, request, response_time)

    def _updated(
        self,
        stored: CachedResponse,
        headers: Mapping[str, str],
        request: PreparedRequest,
        request_time: datetime,
        response_time: datetime,
    ) -> CachedResponse:
        """Return ``stored`` with ``headers`` merged in and its freshness recomputed, saved
        back under its key when it may still be stored."""
        updated = stored.copy()
        # Date and Age describe the new response (RFC 9111 §5.1, §4.2.3): without its own,
        # the old values would make the freshened response look as old as the stored one.
        for name in ("Date", "Age"):
            updated.headers.pop(name, None)
        merge_headers(updated.headers, headers)
        decision = self._decide_store(
            (stored.request.method or "GET").upper(),
            request.headers,
            updated.status_code,
            updated.headers,
            request_time,
            response_time,
        )
        updated.created_at = response_time
        updated.expires = decision.expires
        updated.initial_age = decision.initial_age
        key = stored.cache_key
        if decision.store and key:
            self._cache_write(lambda: self.cache.responses.set(key, updated, updated.expires))
        return updated

    def _update_from_head(
        self,
        request: PreparedRequest,
        response: Response,
        request_time: datetime,
        response_time: datetime,
    ) -> None:
        """Freshen a stored GET response with the headers of a HEAD response for the same
        resource, when their validators agree; otherwise drop it (RFC 9111 §4.3.5)."""
        get_key = self._key_for(request, "GET")
        stored = self._cache_read(get_key, False)
        if stored is None:
            return
        for name in ("ETag", "Last-Modified", "Content-Length"):
            ours, theirs = stored.headers.get(name), response.headers.get(name)
            if ours is not None and theirs is not None and ours != theirs:
                self._cache_write(lambda: self.cache.delete(get_key))
                return
        self._updated(stored, response.headers, request, request_time, response_time)

    def _store_standard(
        self,
        request: PreparedRequest,
        key: str,
        primary: CachedResponse | None,
        response: Response,
        request_time: datetime,
        response_time: datetime,
        kwargs: Mapping[str, Any],
    ) -> Any:
        final_request = response.request if response.history else request
        final_key = self.cache.create_key(final_request) if response.history else key
        if isinstance(response, CachedResponse):
            self._cache_write(lambda: self._alias_history(response, final_key))
            return response
        decision = self._decide_store(
            (final_request.method or "GET").upper(),
            final_request.headers,
            response.status_code,
            response.headers,
            request_time,
            response_time,
        )
        filter_fn = self._settings.filter_fn
        if response.status_code == 206 and primary is not None and primary.status_code != 206:
            store = False  # never let a part displace a complete stored response
        else:
            store = decision.store and (filter_fn is None or filter_fn(response))
        if not store:
            return set_response_attributes(response, final_key)
        cached = self._to_stored(response, decision, response_time)
        stored = self._cache_write(lambda: self._save_variant(final_key, primary, cached, response))
        if kwargs.get("stream"):
            rewind_stream(response)
        if not stored:
            return set_response_attributes(response, final_key)
        return set_response_attributes(
            response, final_key, response_time, decision.expires, response_time
        )

    def _decide_store(
        self,
        method: str,
        request_headers: Mapping[str, str],
        status_code: int,
        response_headers: Mapping[str, str],
        request_time: datetime,
        response_time: datetime,
    ) -> StoreDecision:
        """:func:`.policy.standard.store_standard` under the session's settings; nothing is
        stored by a read-only session."""
        if self._settings.read_only:
            return StoreDecision(False, reason="read-only")
        return store_standard(
            method,
            status_code,
            request_headers,
            response_headers,
            self._settings,
            request_time,
            response_time,
        )

    def _to_stored(
        self, response: Response, decision: StoreDecision, response_time: datetime
    ) -> CachedResponse:
        """The stored form of a live response: without the fields a cache must not keep
        (RFC 9111 §3.1), with its age on arrival."""
        cached = CachedResponse.from_response(
            response, decision.expires, self._settings.ignored_parameters, response_time
        )
        for name in unstorable_headers(response.headers):
            cached.headers.pop(name, None)
        cached.initial_age = decision.initial_age
        return cached

    def _save_variant(
        self,
        key: str,
        primary: CachedResponse | None,
        cached: CachedResponse,
        response: Response,
    ) -> None:
        """Store ``cached`` under ``key`` and, if it varies, under its variant key too, so
        earlier variants stay reachable (RFC 9111 §4.1)."""
        names = vary_names(cached.headers)
        if names is not None and names != ("*",):
            same_group = primary is not None and primary.vary_group and primary.cache_key == key
            cached.vary_group = primary.vary_group if same_group else uuid.uuid4().hex[:16]  # type: ignore[union-attr]
            self.cache.responses.set(
                variant_key(key, cached.vary_group, names, cached.request.headers),
                cached,
                cached.expires,
            )
        self.cache.responses.set(key, cached, cached.expires)
        for previous in response.history:
            self.cache.save_redirect(previous.request, key)

    def _store_for_get(
        self,
        request: PreparedRequest,
        response: Response,
        request_time: datetime,
    ) -> None:
        """Store a POST response for later GETs when it says it is the representation of the
        target URI (``Content-Location`` equal to it, RFC 9111 §4, RFC 9110 §9.3.3)."""
        location = response.headers.get("Content-Location")
        url = request.url or ""
        if location is None or urljoin(url, location.strip()) != url:
            return
        get_request = request.copy()
        get_request.method, get_request.body = "GET", None
        for name in ("Content-Length", "Content-Type"):
            get_request.headers.pop(name, None)
        response_time = utcnow()
        decision = self._decide_store(
            "GET",
            get_request.headers,
            response.status_code,
            response.headers,
            request_time,
            response_time,
        )
        if not decision.store:
            return
        cached = self._to_stored(response, decision, response_time)
        cached.request = CachedRequest.from_request(get_request, self._settings.ignored_parameters)
        key = self.cache.create_key(get_request)
        self._cache_write(lambda: self.cache.responses.set(key, cached, cached.expires))

    def _invalidate(self, method: str, request: PreparedRequest, response: Response) -> None:
        """Drop stored responses an unsafe request made obsolete (RFC 9111 §4.4)."""
        targets = invalidation_targets(
            method, request.url or "", response.status_code, response.headers
        )
        if targets and not self._settings.read_only:
            doomed = [Request(verb, url).prepare() for url in targets for verb in ("GET", "HEAD")]
            self._cache_write(lambda: self.cache.delete(requests=doomed))
