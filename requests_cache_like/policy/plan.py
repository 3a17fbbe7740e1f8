"""The values the policy returns: plans for requests and decisions about storing."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from attrs import frozen

__all__ = [
    "PLAN_BYPASS",
    "PLAN_FETCH",
    "PLAN_GATEWAY_TIMEOUT",
    "PLAN_SERVE",
    "Plan",
    "PlanAction",
    "StoreDecision",
    "StoredResponse",
    "conditional_headers",
]

_NO_HEADERS: Mapping[str, str] = {}


class StoredResponse(Protocol):
    """What the policy needs to know about a stored response."""

    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def expires(self) -> datetime | None: ...
    @property
    def initial_age(self) -> float: ...


class PlanAction(enum.Enum):
    """The outcome of :func:`decide` (named states, one per way a request can go)."""

    #: Answer from the stored response without contacting the origin.
    SERVE = "serve"
    #: Answer from the stale stored response now, refresh it in the background (RFC 5861 §3).
    SERVE_STALE_AND_REFRESH = "serve_stale_and_refresh"
    #: Send a conditional request built from the stored validators (RFC 9111 §4.3.1).
    REVALIDATE = "revalidate"
    #: Send the request; store the response if :func:`decide_store` agrees.
    FETCH = "fetch"
    #: Send the request and leave the cache alone: neither read nor written.
    BYPASS = "bypass"
    #: Answer 504 without contacting the origin (``only-if-cached``, RFC 9111 §5.2.1.7).
    GATEWAY_TIMEOUT = "gateway_timeout"
    #: Answer the application's own conditional request with a 304 built from the stored
    #: response (RFC 9110 §13.2.2; standards mode).
    NOT_MODIFIED = "not_modified"


@frozen
class Plan:
    """A decision and what carrying it out needs."""

    action: PlanAction
    #: For REVALIDATE: the ``If-None-Match`` / ``If-Modified-Since`` headers to add.
    conditional_headers: Mapping[str, str] = _NO_HEADERS
    #: The stored response may be used if the origin fails (``stale_if_error``).
    stale_fallback: bool = False
    #: When the origin cannot be reached: ``"raise"`` the error, serve the ``"stale"``
    #: response, or answer ``"gateway_timeout"`` (504; RFC 9111 §4.2.4, §5.2.2.2).
    on_disconnect: str = "raise"


@frozen
class StoreDecision:
    """Whether to store a response and until when it is fresh (``None``: never expires)."""

    store: bool
    expires: datetime | None = None
    reason: str = ""
    #: Standards mode: the response's corrected initial age in seconds (RFC 9111 §4.2.3).
    initial_age: float = 0.0


PLAN_SERVE = Plan(PlanAction.SERVE)
PLAN_FETCH = Plan(PlanAction.FETCH)
PLAN_BYPASS = Plan(PlanAction.BYPASS)
PLAN_GATEWAY_TIMEOUT = Plan(PlanAction.GATEWAY_TIMEOUT)


def conditional_headers(stored: StoredResponse) -> dict[str, str]:
    """Return the validators to send when revalidating ``stored`` (RFC 9111 §4.3.1)."""
    headers: dict[str, str] = {}
    etag = stored.headers.get("ETag")
    if etag:
        headers["If-None-Match"] = etag
    last_modified = stored.headers.get("Last-Modified")
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers
