"""What the origin's answer means for the cache (RFC 9111 §4.3, §4.4, RFC 5861 §4).

:func:`respond` reads the answer's status and headers against the plan that sent the request
and the stored response it had in hand, and returns an :class:`Outcome`: store the answer,
pass it on, answer from the stored response instead, freshen that response, or ask again.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, MutableMapping
from urllib.parse import urljoin

from attrs import frozen

from .messages import SAFE_METHODS, invalidation_targets, merge_headers
from .plan import Plan, PlanAction, StoredResponse
from .rules import Rules

__all__ = [
    "BODY_FIELDS",
    "ERROR_STATUSES",
    "Outcome",
    "Reply",
    "head_agrees",
    "is_own_representation",
    "on_error",
    "refresh_headers",
    "respond",
    "same_entity",
]

#: RFC 5861 §4: the errors for which stale-if-error applies.
ERROR_STATUSES = frozenset({500, 502, 503, 504})
#: Fields describing the stored body as it was decoded, which override mode keeps on a 304.
BODY_FIELDS = ("Content-Type", "Content-Encoding", "Content-Range", "Transfer-Encoding")
#: Request fields that make a request conditional (RFC 9110 §13.1), lower-case.
_CONDITIONAL_FIELDS = frozenset(
    {"if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range"}
)


class Reply(enum.Enum):
    """How the request is answered once the origin has answered."""

    #: With the origin's answer, stored if :func:`.store.store_decision` agrees.
    STORE = "store"
    #: With the origin's answer; nothing is stored.
    PASS = "pass"
    #: With the stored response: the origin failed and stale-if-error allows it.
    STALE = "stale"
    #: With the stored response as it is: a 304 to a request sent without validators.
    STORED = "stored"
    #: With the stored response, freshened by the origin's 304 (§4.3.4).
    FRESHEN = "freshen"
    #: Not yet: the 304 is about another representation, so ask again without validators.
    REFETCH = "refetch"


@frozen
class Outcome:
    """What the origin's answer means, and what else it changes in the cache."""

    reply: Reply
    #: The application's own 304 also freshens the stored response (§4.3.4).
    freshen_stored: bool = False
    #: A HEAD 200 freshens the stored GET response, or drops it if they disagree (§4.3.5).
    freshen_get: bool = False
    #: URLs whose stored responses are now obsolete (§4.4).
    invalidate: tuple[str, ...] = ()
    #: A POST answer that says it is its URL's representation; it may answer later GETs.
    store_for_get: bool = False


def same_entity(stored: str | None, received: str | None) -> bool:
    """False only when both entity-tags are present and differ (weak comparison)."""
    if not isinstance(stored, str) or not isinstance(received, str):
        return True  # absent (or not a field value at all, as from a test double)
    return stored.strip().removeprefix("W/") == received.strip().removeprefix("W/")


def is_own_representation(url: str, response_headers: Mapping[str, str]) -> bool:
    """True if a POST answer's ``Content-Location`` is its own URL: it is that resource's
    representation and may answer later GETs (RFC 9111 §4, RFC 9110 §9.3.3)."""
    location = response_headers.get("Content-Location")
    if location is None:
        return False
    try:
        return urljoin(url, location.strip()) == url
    except ValueError:  # not a URI reference ("http://[::1")
        return False


def _is_error(status_code: int, rules: Rules) -> bool:
    """True if stale-if-error covers an answer with ``status_code`` (RFC 5861 §4)."""
    if rules.mode.rfc_error_statuses:
        return status_code in ERROR_STATUSES
    return status_code >= 400 and not rules.storable_status(status_code)


def respond(
    method: str,
    url: str,
    request_headers: Mapping[str, str],
    status_code: int,
    response_headers: Mapping[str, str],
    plan: Plan,
    stored: StoredResponse | None,
    primary_status: int | None,
    rules: Rules,
    following: bool = False,
) -> Outcome:
    """Return what the origin's answer to a request sent under ``plan`` means.

    ``stored`` is the response the request selected (if any); ``primary_status`` the status
    of the newest response stored under the request's key; ``following``: the answer is a
    redirect that will be followed (the chain's last response is stored, not this one).
    A read-only session changes nothing in the cache.
    """
    invalidate: tuple[str, ...] = ()
    if rules.mode.invalidate_unsafe and not rules.read_only and method not in SAFE_METHODS:
        invalidate = tuple(invalidation_targets(method, url, status_code, response_headers))
    if plan.action is PlanAction.BYPASS:
        return Outcome(
            Reply.PASS,
            invalidate=invalidate,
            store_for_get=bool(invalidate)
            and method == "POST"
            and is_own_representation(url, response_headers),
        )
    if stored is not None and plan.stale_fallback and _is_error(status_code, rules):
        return Outcome(Reply.STALE)
    if status_code == 304 and stored is not None:
        stored_etag = stored.headers.get("ETag")
        if plan.action is PlanAction.REVALIDATE:
            if not same_entity(stored_etag, response_headers.get("ETag")):
                return Outcome(Reply.REFETCH)
            return Outcome(Reply.FRESHEN)
        own_conditional = any(name.lower() in _CONDITIONAL_FIELDS for name in request_headers)
        if not rules.mode.only_conditional_304 and not own_conditional:
            return Outcome(Reply.STORED, invalidate=invalidate)
        if rules.mode.answer_conditionals:
            # The application's own conditional request: its 304 goes back to it.
            received = response_headers.get("ETag") or request_headers.get("If-None-Match")
            return Outcome(
                Reply.PASS,
                freshen_stored=bool(
                    stored_etag and received and same_entity(stored_etag, received)
                ),
                invalidate=invalidate,
            )
    # A part never displaces a complete stored response (§3.4).
    keep_whole = status_code == 206 and primary_status not in (None, 206)
    return Outcome(
        Reply.PASS if keep_whole or following else Reply.STORE,
        freshen_get=(
            rules.mode.head_from_get
            and not rules.read_only
            and method == "HEAD"
            and status_code == 200
        ),
        invalidate=invalidate,
    )


def on_error(plan: Plan, has_stored: bool) -> str:
    """Return how to answer when the origin cannot be reached: ``"stale"`` (the stored
    response), ``"gateway_timeout"`` (a 504) or ``"raise"`` (RFC 9111 §4.2.4, RFC 5861 §4)."""
    if has_stored and (plan.stale_fallback or plan.on_disconnect == "stale"):
        return "stale"
    if has_stored and plan.on_disconnect == "gateway_timeout":
        return "gateway_timeout"
    return "raise"


def refresh_headers(
    stored: MutableMapping[str, str], fresh: Mapping[str, str], rules: Rules
) -> None:
    """Update a stored response's fields from a 304 or HEAD answer (RFC 9111 §3.2, §4.3.4):
    the one merge rule of both modes, keeping what :attr:`.Mode.update_body_fields` says.

    ``Date`` and ``Age`` describe the new answer (§4.2.3): without its own, the old values
    would make the freshened response look as old as the stored one.
    """
    for name in ("Date", "Age"):
        stored.pop(name, None)
    merge_headers(stored, fresh, keep=() if rules.mode.update_body_fields else BODY_FIELDS)


def head_agrees(stored: Mapping[str, str], head: Mapping[str, str]) -> bool:
    """True if a HEAD answer describes the stored GET response: no validator or length in
    both that differs (RFC 9111 §4.3.5)."""
    for name in ("ETag", "Last-Modified", "Content-Length"):
        ours, theirs = stored.get(name), head.get(name)
        if ours is not None and theirs is not None and ours != theirs:
            return False
    return True
