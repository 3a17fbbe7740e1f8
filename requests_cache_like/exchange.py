"""Carrying out a plan: the one engine behind both modes.

For each request sent through a cached session: rules → key → lookup → decide → (send) →
what the answer means → write. Every decision is made in :mod:`.policy`; this module does
their I/O: storage (through :class:`StorageGuard`, which applies ``on_backend_error``),
sending over the session's adapters, and the response the caller gets."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from attrs import define, evolve, field
from requests import PreparedRequest, Request, Response
from requests.exceptions import RequestException

from .backends.base import BaseCache
from .concurrency import REFRESH_POOL
from .keys import settings_key, variant_key
from .lookup import answer_from, gateway_timeout, lookup, not_modified
from .models import CachedRequest, CachedResponse
from .models.raw import rewind_stream
from .models.response import set_response_attributes, utcnow
from .policy import Plan, PlanAction, Rules, StoreDecision, plan_request, store_decision
from .policy.messages import unstorable_headers, vary_names
from .policy.plan import PLAN_BYPASS, PLAN_FETCH, conditional_headers
from .policy.respond import Outcome, Reply, head_agrees, on_error, refresh_headers, respond
from .redirects import PENDING_STORE, PendingStore
from .single_flight import fetch_once, refresh_under_lease, shares_fetch
from .storage_guard import StorageGuard
from .streaming import store_as_read

if TYPE_CHECKING:
    from .settings import CacheSettings

__all__ = ["Exchange"]

logger = logging.getLogger(__name__)

Transport = Callable[..., Response]


@define
class Exchange:
    """One request carried out under its rules, for one session's cache and settings."""

    cache: BaseCache
    settings: CacheSettings
    guard: StorageGuard
    #: ``requests.Session.send`` of the session (one hop, over its adapters).
    transport: Transport
    request: PreparedRequest
    rules: Rules
    key: str
    send_kwargs: Mapping[str, Any]
    #: A hop of a redirect chain: its store waits for the chain's history (PendingStore).
    defer_store: bool = False
    method: str = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.method = (self.request.method or "GET").upper()

    # -- storage ------------------------------------------------------------------------------
    def read(self, key: str, follow_redirects: bool) -> CachedResponse | None:
        """Read ``key`` (fail-open as the settings say)."""
        return self.guard.read(key, follow_redirects)

    def write(self, write: Callable[[], object]) -> bool:
        """Run a storage write (fail-open as the settings say); False if it did not happen."""
        return self.guard.write(write)

    def key_as(self, method: str) -> str:
        """The key of this request sent with another method."""
        other = self.request.copy()
        other.method = method
        return settings_key(other, self.settings)

    # -- the request --------------------------------------------------------------------------
    def answer(self, known_miss: bool = False) -> Response:
        """Answer the request: from the cache, or from the origin as the plan says.
        ``known_miss``: nothing is stored under the key (just read), so it is not read again."""
        if not self.rules.cacheable:
            return self.fetch(PLAN_BYPASS, None, None)
        primary, selected, plan, now = self.plan(known_miss)
        early = self.answer_from_cache(plan, primary, selected, now)
        if early is not None:
            return early
        if shares_fetch(self, plan):
            return fetch_once(self, plan, primary, selected)
        return self.fetch(plan, primary, selected)

    def plan(
        self, known_miss: bool = False
    ) -> tuple[CachedResponse | None, CachedResponse | None, Plan, datetime]:
        """Read what is stored for the request and plan it: ``(primary, selected, plan, now)``."""
        rules = self.rules
        primary = selected = None
        if not (rules.force_refresh or known_miss):
            primary, selected = lookup(
                self.guard.read,
                self.key,
                lambda: self.key_as("GET"),
                self.method,
                self.request.headers,
                rules,
                self.send_kwargs.get("allow_redirects", True),
            )
        now = utcnow()
        return primary, selected, plan_request(self.request.headers, selected, rules, now), now

    def answer_from_cache(
        self,
        plan: Plan,
        primary: CachedResponse | None,
        selected: CachedResponse | None,
        now: datetime,
    ) -> Response | None:
        """The answer when ``plan`` needs no origin request, else None."""
        action, headers, rules = plan.action, self.request.headers, self.rules
        if action is PlanAction.SERVE and selected is not None:
            return answer_from(selected, self.method, headers, rules, now)
        if action is PlanAction.NOT_MODIFIED and selected is not None:
            return not_modified(selected, self.method, self.rules, now)
        if action is PlanAction.GATEWAY_TIMEOUT:
            return gateway_timeout(self.request, self.key, self.settings.ignored_parameters)
        if action is PlanAction.SERVE_STALE_AND_REFRESH and selected is not None:
            self.refresh_in_background(primary, selected)
            return answer_from(selected, self.method, headers, rules, now)
        return None

    def refresh_in_background(self, primary: CachedResponse | None, stale: CachedResponse) -> None:
        """Queue a refresh of ``stale`` (revalidating it when it has validators, RFC 5861 §3);
        the caller is answered with it meanwhile."""
        request = self.request.copy()
        request.hooks = {"response": []}  # user hooks run for the stale answer only
        validators = conditional_headers(stale)
        plan = Plan(PlanAction.REVALIDATE if validators else PlanAction.FETCH, validators)
        refresh = evolve(self, request=request, defer_store=False)
        # The caller holds ``stale``: a 304 freshens a copy of it, never theirs.
        job = lambda: refresh.fetch(plan, primary, stale.copy())  # noqa: E731
        REFRESH_POOL.submit(self.key, lambda: refresh_under_lease(refresh, job))

    # -- the origin ---------------------------------------------------------------------------
    def fetch(
        self, plan: Plan, primary: CachedResponse | None, selected: CachedResponse | None
    ) -> Response:
        """Send the request as the plan says (one hop) and answer as the origin's answer
        means."""
        outgoing = self.request
        if plan.conditional_headers or (outgoing.hooks or {}).get("response"):
            outgoing = outgoing.copy()  # the caller's request keeps its headers and hooks
            outgoing.hooks = {"response": []}  # dispatched once, on the answer, by the session
            outgoing.headers.update(plan.conditional_headers)
        request_time = utcnow()
        try:
            response = self.transport(outgoing, **{**self.send_kwargs, "allow_redirects": False})
        except RequestException as exc:
            return self.on_request_error(exc, plan, selected)
        response_time = utcnow()
        if response.next is not None:
            response.next.hooks = self.request.hooks  # as requests would have prepared it
        outcome = respond(
            self.method,
            self.request.url or "",
            self.request.headers,
            response.status_code,
            response.headers,
            plan,
            selected,
            None if primary is None else primary.status_code,
            self.rules,
            following=self.send_kwargs.get("allow_redirects", True) and response.is_redirect,
        )
        try:
            return self.apply(outcome, response, primary, selected, (request_time, response_time))
        except RequestException as exc:  # from a save_response() the user overrode
            return self.on_request_error(exc, plan, selected)

    def on_request_error(
        self, exc: RequestException, plan: Plan, selected: CachedResponse | None
    ) -> Response:
        """Answer stale or 504 after ``exc`` when the policy allows; otherwise re-raise it."""
        fallback = on_error(plan, selected is not None)
        if fallback == "stale" and selected is not None:
            logger.warning("Serving stale response for %s after error: %s", self.request.url, exc)
            return answer_from(selected, self.method, self.request.headers, self.rules, utcnow())
        if fallback == "gateway_timeout":
            logger.warning("Cannot revalidate %s (%s): answering 504", self.request.url, exc)
            return gateway_timeout(self.request, self.key, self.settings.ignored_parameters)
        raise exc

    def apply(
        self,
        outcome: Outcome,
        response: Response,
        primary: CachedResponse | None,
        selected: CachedResponse | None,
        times: tuple[datetime, datetime],
    ) -> Response:
        """Carry out what the origin's answer means; return the caller's answer. ``times``:
        when the request was sent and when its answer arrived."""
        request_time, response_time = times
        if outcome.invalidate:
            self.invalidate(outcome.invalidate)
        reply = outcome.reply
        if reply is not Reply.STORE and reply is not Reply.PASS:
            response.close()  # the answer is not used: release its connection
        if reply in (Reply.STALE, Reply.STORED) and selected is not None:
            if reply is Reply.STALE:
                logger.warning(
                    "Serving stale response for %s after status %s",
                    response.url,
                    response.status_code,
                )
            return answer_from(
                selected, self.method, self.request.headers, self.rules, response_time
            )
        if reply is Reply.REFETCH:
            return self.fetch(PLAN_FETCH, primary, None)
        if reply is Reply.FRESHEN and selected is not None:
            updated = self.freshen(selected, response.headers, request_time, response_time)
            updated.revalidated = True
            return answer_from(
                updated, self.method, self.request.headers, self.rules, response_time
            )
        if outcome.freshen_stored and selected is not None:
            self.freshen(selected, response.headers, request_time, response_time)
        if outcome.freshen_get:
            self.freshen_get(response, request_time, response_time)
        if outcome.store_for_get and not self.send_kwargs.get("stream"):
            self.store_for_get(response, request_time, response_time)
        if reply is Reply.STORE:
            return self.store(response, primary, request_time, response_time)
        return set_response_attributes(response, self.key)

    # -- writing ------------------------------------------------------------------------------
    def decide_store(
        self,
        method: str,
        status_code: int,
        response_headers: Mapping[str, str],
        request_time: datetime,
        response_time: datetime,
    ) -> StoreDecision:
        """:func:`.policy.store_decision` for this request."""
        return store_decision(
            method,
            status_code,
            self.request.headers,
            response_headers,
            self.rules,
            request_time,
            response_time,
        )

    def to_stored(
        self,
        response: Response,
        decision: StoreDecision,
        response_time: datetime,
        content: bytes | None = None,
    ) -> CachedResponse:
        """The stored form of a live response: secrets redacted, without the fields a cache
        must not keep (RFC 9111 §3.1), with its age on arrival. ``content``: the body to
        store instead of reading the response's."""
        cached = CachedResponse.from_response(
            response, decision.expires, self.settings.ignored_parameters, response_time, content
        )
        for name in unstorable_headers(response.headers):
            cached.headers.pop(name, None)
        cached.initial_age = decision.initial_age
        return cached

    def store(
        self,
        response: Response,
        primary: CachedResponse | None,
        request_time: datetime,
        response_time: datetime,
    ) -> Response:
        """Store the origin's answer if the policy and ``filter_fn`` agree; return it with
        the cache attributes."""
        decision = self.decide_store(
            self.method, response.status_code, response.headers, request_time, response_time
        )
        filter_fn = self.settings.filter_fn
        if not decision.store or (filter_fn is not None and not filter_fn(response)):
            return set_response_attributes(response, self.key)
        if store_as_read(self, response, decision, primary, response_time):
            return set_response_attributes(
                response, self.key, response_time, decision.expires, response_time
            )
        cached = self.to_stored(response, decision, response_time)
        if self.defer_store:
            setattr(response, PENDING_STORE, PendingStore(self, cached, primary))
            written = True
        else:
            written = self.write(lambda: self.save(cached, primary))
        if self.send_kwargs.get("stream"):
            rewind_stream(response)
        if not written:
            return set_response_attributes(response, self.key)
        return set_response_attributes(
            response, self.key, response_time, decision.expires, response_time
        )

    def save(self, cached: CachedResponse, primary: CachedResponse | None) -> None:
        """Write ``cached`` under the request's key and, when it varies, under its variant
        key too, so earlier variants stay reachable (RFC 9111 §4.1)."""
        key = self.key
        names = vary_names(cached.headers)
        if names is not None and names != ("*",):
            same_group = primary is not None and primary.vary_group and primary.cache_key == key
            cached.vary_group = (
                primary.vary_group if same_group and primary else uuid.uuid4().hex[:16]
            )
            variant = variant_key(key, cached.vary_group, names, cached.request.headers)
            self.cache.responses.set(variant, cached, cached.expires)
        self.put(key, cached)

    def put(self, key: str, cached: CachedResponse) -> None:
        """Write one stored response; through the cache's ``save_response`` when a subclass
        (or a test) overrides it, as requests-cache calls it for every write."""
        custom = self.cache.__dict__.get("save_response")
        if custom is None and type(self.cache).save_response is not BaseCache.save_response:
            custom = self.cache.save_response
        if custom is not None:
            custom(cached, key, cached.expires)
        else:
            self.cache.responses.set(key, cached, cached.expires)

    def freshen(
        self,
        stored: CachedResponse,
        headers: Mapping[str, str],
        request_time: datetime,
        response_time: datetime,
    ) -> CachedResponse:
        """Return ``stored`` updated from a 304 or HEAD answer's ``headers`` with its
        freshness recomputed (RFC 9111 §4.3.4), written back when it may still be stored."""
        updated = stored.copy()
        refresh_headers(updated.headers, headers, self.rules)
        decision = self.decide_store(
            (stored.request.method or "GET").upper(),
            updated.status_code,
            updated.headers,
            request_time,
            response_time,
        )
        updated.created_at = response_time
        updated.expires = decision.expires
        updated.initial_age = decision.initial_age
        key = stored.cache_key or self.key
        if decision.store and key:
            self.write(lambda: self.put(key, updated))
        return updated

    def freshen_get(
        self, response: Response, request_time: datetime, response_time: datetime
    ) -> None:
        """Freshen the stored GET response with a HEAD answer's headers when they agree;
        otherwise drop it (RFC 9111 §4.3.5)."""
        get_key = self.key_as("GET")
        stored = self.read(get_key, False)
        if stored is None:
            return
        if head_agrees(stored.headers, response.headers):
            self.freshen(stored, response.headers, request_time, response_time)
        else:
            self.write(lambda: self.cache.delete(get_key))

    def store_for_get(
        self, response: Response, request_time: datetime, response_time: datetime
    ) -> None:
        """Store a POST answer that is its URL's representation, for later GETs."""
        get_request = self.request.copy()
        get_request.method, get_request.body = "GET", None
        for name in ("Content-Length", "Content-Type"):
            get_request.headers.pop(name, None)
        decision = self.decide_store(
            "GET", response.status_code, response.headers, request_time, response_time
        )
        if not decision.store:
            return
        cached = self.to_stored(response, decision, response_time)
        cached.request = CachedRequest.from_request(get_request, self.settings.ignored_parameters)
        key = settings_key(get_request, self.settings)
        self.write(lambda: self.cache.responses.set(key, cached, cached.expires))

    def invalidate(self, urls: tuple[str, ...]) -> None:
        """Drop the stored GET and HEAD responses of ``urls`` (RFC 9111 §4.4)."""
        doomed = [
            settings_key(Request(method, url).prepare(), self.settings)
            for url in urls
            for method in ("GET", "HEAD")
        ]
        self.write(lambda: self.cache.delete(*doomed))
