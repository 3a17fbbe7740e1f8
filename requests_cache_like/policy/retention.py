"""How long a stored response is worth keeping: what the background cleanup may remove.

A stored response is kept while some request could still be answered from it without the
origin: while it is fresh, and after that while a stale window covers its staleness —
``stale_while_revalidate`` and ``stale_if_error`` (RFC 5861 §3, §4), as
:func:`.decide.plan_request` reads them. Past every window it is removed, in both modes.

Validators do not keep a response. An expired response with an ``ETag`` or
``Last-Modified`` could still be revalidated (RFC 9111 §4.3), saving one body transfer if
it is unchanged, but nearly every response has one: keeping them all would mean the cleanup
never removes anything in standards mode. As ``delete(expired=True)`` does (and Varnish
with its default ``keep`` of 0), a response goes once it cannot be served; a session that
wants it kept longer gives a stale window, or leaves the cleanup off. A request's own
``max-stale`` and standards mode's "serve stale when the origin is unreachable" (§4.2.4)
are last resorts, not windows the settings give: they keep nothing.
"""

from __future__ import annotations

from datetime import datetime

from .decide import stale_window_allows
from .directives import parse_cache_control
from .plan import StoredResponse
from .rules import Rules

__all__ = ["removable"]


def removable(stored: StoredResponse, rules: Rules, now: datetime) -> bool:
    """Return True if ``stored`` may be removed at ``now``: it is expired, and no stale window
    can serve it any more (RFC 5861 §3, §4).

    The windows are the ``rules``' ``stale_while_revalidate`` and ``stale_if_error`` (True
    keeps an expired response forever, a number or timedelta that long past its expiry)
    and, when response directives are read (``cache_control=True``), the response's own
    ``stale-while-revalidate=`` and ``stale-if-error=``. In standards mode a response that
    may not be served stale (``must-revalidate``, ``no-cache``: RFC 9111 §5.2.2.2,
    §5.2.2.4) has no window, as in :func:`.decide.plan_request`. A response that never
    expires is never removed.
    """
    expires = stored.expires
    if expires is None or now < expires:
        return False
    response_cc = parse_cache_control(stored.headers.get("Cache-Control"))
    if rules.mode.stale_windows_obey_response and (
        response_cc.must_revalidate or (rules.mode.rfc_freshness and response_cc.no_cache)
    ):
        return True
    staleness = now - expires
    return not (
        stale_window_allows(
            rules.stale_while_revalidate,
            response_cc.stale_while_revalidate,
            rules.response_directives,
            staleness,
        )
        or stale_window_allows(
            rules.stale_if_error, response_cc.stale_if_error, rules.response_directives, staleness
        )
    )
