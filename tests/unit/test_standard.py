"""Standards mode decisions (policy/standard.py): an RFC 9111 private cache.

Rows of (request headers, stored stand-in, settings, options, now) -> Plan, and of
(method, status, request headers, response headers, settings, request/response times)
-> StoreDecision. Settings are ``CacheSettings(cache_control=True)`` (no ``expire_after``)
plus the row's extras. Sections cited:

- Reuse: RFC 9111 §4 (§4.2 freshness, §4.2.3 age, §4.2.4 stale responses, §4.3.1 sending a
  validation request, §4.3.2 answering the application's own conditional request).
- Request directives: §5.2.1.1 max-age, §5.2.1.2 max-stale, §5.2.1.3 min-fresh,
  §5.2.1.4 no-cache, §5.2.1.5 no-store, §5.2.1.7 only-if-cached; §5.4 Pragma.
- Response directives: §5.2.2.2 must-revalidate, §5.2.2.3 must-understand, §5.2.2.4
  no-cache, §5.2.2.5 no-store, §5.2.2.6 public, §5.2.2.7 private, §5.2.2.8 proxy-revalidate,
  §5.2.2.10 s-maxage; RFC 5861 §3 stale-while-revalidate, §4 stale-if-error.
- Storing: RFC 9111 §3 (and §3.3/§3.4 for 206), RFC 9110 §15.1 (heuristically cacheable).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import attrs
import pytest
from requests.structures import CaseInsensitiveDict

from requests_cache_like.policy import Plan, PlanAction, StoreDecision, decide, decide_store
from requests_cache_like.policy.decide import standards_mode
from requests_cache_like.policy.standard import current_age, decide_standard, store_standard
from requests_cache_like.settings import CacheSettings, RequestOptions

from .stored import Stored

UTC = timezone.utc
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
URL = "https://site.com/api/items?page=1"
STANDARDS: dict[str, Any] = {"cache_control": True}

LAST_MODIFIED_VALUE = "Wed, 01 May 2024 00:00:00 GMT"
ETAG = {"ETag": '"v1"'}
LAST_MODIFIED = {"Last-Modified": LAST_MODIFIED_VALUE}
VALIDATORS = {**ETAG, **LAST_MODIFIED}
IF_NONE_MATCH = {"If-None-Match": '"v1"'}
IF_MODIFIED_SINCE = {"If-Modified-Since": LAST_MODIFIED_VALUE}


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def fresh(headers: Mapping[str, str] | None = None, age: int = 10, ttl: int = 60) -> Stored:
    """Stored ``age`` seconds ago, fresh for another ``ttl`` seconds."""
    return Stored(at(-age), at(ttl), headers or {})


def stale(headers: Mapping[str, str] | None = None, by: int = 30) -> Stored:
    """Stored 90 seconds ago, stale for ``by`` seconds."""
    return Stored(at(-90), at(-by), headers or {})


# Expected plans. In standards mode a plan that reaches the origin for a stored response
# says what to do if the origin cannot be reached (§4.2.4): serve it stale, unless the
# response forbids stale use (then a 504, §5.2.2.2).
SERVE = Plan(PlanAction.SERVE)
FETCH = Plan(PlanAction.FETCH)
GATEWAY_TIMEOUT = Plan(PlanAction.GATEWAY_TIMEOUT)
NOT_MODIFIED = Plan(PlanAction.NOT_MODIFIED)
STALE_AND_REFRESH = Plan(PlanAction.SERVE_STALE_AND_REFRESH)
NO_STALE = "gateway_timeout"


def revalidate(
    headers: Mapping[str, str] = IF_NONE_MATCH, fallback: bool = False, disconnect: str = "stale"
) -> Plan:
    return Plan(PlanAction.REVALIDATE, dict(headers), fallback, disconnect)


def fetch(fallback: bool = False, disconnect: str = "stale") -> Plan:
    """Fetch with a stored response in hand (no validators, or the application's own)."""
    return Plan(PlanAction.FETCH, {}, fallback, disconnect)


def row(
    case_id: str,
    expected: Plan,
    stored: Stored | None = None,
    *,
    headers: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    now: datetime = NOW,
    marks: Any = (),
) -> Any:
    return pytest.param(
        headers or {},
        stored,
        {**STANDARDS, **(settings or {})},
        options or {},
        now,
        expected,
        id=case_id,
        marks=marks,
    )


DECIDE_CASES: list[Any] = [
    # --- §4: nothing stored
    row("miss", FETCH),
    row("miss-only-if-cached-header", GATEWAY_TIMEOUT, headers={"Cache-Control": "only-if-cached"}),
    row("miss-only-if-cached-option", GATEWAY_TIMEOUT, options={"only_if_cached": True}),
    row("miss-only-if-cached-setting", GATEWAY_TIMEOUT, settings={"only_if_cached": True}),
    # --- force_refresh: straight to the origin, whatever is stored or asked
    row("force-refresh-fresh", FETCH, fresh(ETAG), options={"force_refresh": True}),
    row("force-refresh-miss", FETCH, options={"force_refresh": True}),
    row(
        "force-refresh-beats-only-if-cached",
        FETCH,
        fresh(),
        headers={"Cache-Control": "only-if-cached"},
        options={"force_refresh": True},
    ),
    row(
        "force-refresh-beats-conditional",
        FETCH,
        fresh(ETAG),
        headers=IF_NONE_MATCH,
        options={"force_refresh": True},
    ),
    # --- §4.2: fresh responses are served
    row("fresh", SERVE, fresh()),
    row("fresh-with-validators", SERVE, fresh(VALIDATORS)),
    row("fresh-no-expiry", SERVE, Stored(at(-3600), None, ETAG)),
    row("fresh-only-if-cached", SERVE, fresh(), headers={"Cache-Control": "only-if-cached"}),
    # must-revalidate and proxy-revalidate only matter once stale; qualified no-cache
    # fields are not stored, so the rest is reused (§5.2.2.4).
    row("fresh-must-revalidate", SERVE, fresh({"Cache-Control": "max-age=70, must-revalidate"})),
    row("fresh-proxy-revalidate", SERVE, fresh({"Cache-Control": "proxy-revalidate"})),
    row("fresh-qualified-no-cache", SERVE, fresh({"Cache-Control": 'no-cache="Set-Cookie"'})),
    row("fresh-private", SERVE, fresh({"Cache-Control": "private, max-age=70"})),
    # --- §4.2 / §4.3.1: stale responses are validated with the stored validators
    row("expires-now-is-stale", revalidate(), fresh(ETAG, ttl=0)),
    row("stale-etag", revalidate(IF_NONE_MATCH), stale(ETAG)),
    row("stale-last-modified", revalidate(IF_MODIFIED_SINCE), stale(LAST_MODIFIED)),
    row(
        "stale-both-validators",
        revalidate({**IF_NONE_MATCH, **IF_MODIFIED_SINCE}),
        stale(VALIDATORS),
    ),
    row("stale-validator-name-case", revalidate(IF_NONE_MATCH), stale({"etag": '"v1"'})),
    row("stale-no-validators", fetch(), stale()),
    row("stale-empty-etag", fetch(), stale({"ETag": ""})),
    row(
        "stale-only-if-cached",
        GATEWAY_TIMEOUT,
        stale(ETAG),
        headers={"Cache-Control": "only-if-cached"},
    ),
    row(
        "stale-only-if-cached-setting",
        GATEWAY_TIMEOUT,
        stale(ETAG),
        settings={"only_if_cached": True},
    ),
    # --- §5.2.1.1 request max-age: an upper bound on current age (initial age included)
    row("max-age-young-enough", SERVE, fresh(age=10), headers={"Cache-Control": "max-age=60"}),
    row("max-age-equal-to-age", SERVE, fresh(age=10), headers={"Cache-Control": "max-age=10"}),
    row(
        "max-age-too-old", revalidate(), fresh(ETAG, age=10), headers={"Cache-Control": "max-age=9"}
    ),
    row("max-age-0", fetch(), fresh(age=1), headers={"Cache-Control": "max-age=0"}),
    row(
        "max-age-counts-initial-age",
        revalidate(),
        Stored(at(-10), at(60), ETAG, initial_age=50),
        headers={"Cache-Control": "max-age=30"},
    ),
    row(
        "max-age-never-expiring-too-old",
        revalidate(),
        Stored(at(-3600), None, ETAG),
        headers={"Cache-Control": "max-age=60"},
    ),
    row(
        "max-age-and-max-stale-within-both",
        SERVE,
        Stored(at(-10), at(-5), ETAG),
        headers={"Cache-Control": "max-age=60, max-stale=10"},
    ),
    row(
        "max-age-and-max-stale-fresh-but-too-old",
        revalidate(),
        fresh(ETAG, age=10),
        headers={"Cache-Control": "max-age=5, max-stale"},
    ),
    row(
        "max-age-and-max-stale-stale-and-too-old",
        revalidate(),
        stale(ETAG, by=30),
        headers={"Cache-Control": "max-age=60, max-stale=3600"},
    ),
    # --- §5.2.1.3 request min-fresh: at least this much freshness left
    row("min-fresh-ok", SERVE, fresh(ttl=60), headers={"Cache-Control": "min-fresh=30"}),
    row("min-fresh-exact", SERVE, fresh(ttl=60), headers={"Cache-Control": "min-fresh=60"}),
    row(
        "min-fresh-short",
        revalidate(),
        fresh(ETAG, ttl=60),
        headers={"Cache-Control": "min-fresh=61"},
    ),
    row(
        "min-fresh-never-expiring",
        SERVE,
        Stored(at(-10), None),
        headers={"Cache-Control": "min-fresh=9"},
    ),
    # --- §5.2.1.2 request max-stale: accept this much staleness
    row("max-stale-any", SERVE, stale(ETAG, by=3600), headers={"Cache-Control": "max-stale"}),
    row("max-stale-within", SERVE, stale(ETAG, by=30), headers={"Cache-Control": "max-stale=60"}),
    row("max-stale-boundary", SERVE, stale(ETAG, by=60), headers={"Cache-Control": "max-stale=60"}),
    row(
        "max-stale-exceeded",
        revalidate(),
        stale(ETAG, by=30),
        headers={"Cache-Control": "max-stale=29"},
    ),
    row(
        "max-stale-ignores-proxy-revalidate",  # §5.2.2.8: shared caches only
        SERVE,
        stale({**ETAG, "Cache-Control": "max-age=60, proxy-revalidate"}),
        headers={"Cache-Control": "max-stale"},
    ),
    row(
        "max-stale-blocked-by-must-revalidate",
        revalidate(disconnect=NO_STALE),
        stale({**ETAG, "Cache-Control": "max-age=60, must-revalidate"}),
        headers={"Cache-Control": "max-stale"},
    ),
    row(
        "max-stale-blocked-by-response-no-cache",
        revalidate(disconnect=NO_STALE),
        stale({**ETAG, "Cache-Control": "no-cache"}),
        headers={"Cache-Control": "max-stale"},
    ),
    row(
        "max-stale-with-request-no-cache",
        revalidate(),
        stale(ETAG),
        headers={"Cache-Control": "max-stale, no-cache"},
    ),
    row(
        "max-stale-with-only-if-cached",
        SERVE,
        stale(),
        headers={"Cache-Control": "max-stale, only-if-cached"},
    ),
    # --- §5.2.1.4 request no-cache; §5.4 Pragma: no-cache only without Cache-Control
    row("request-no-cache", revalidate(), fresh(ETAG), headers={"Cache-Control": "no-cache"}),
    row(
        "request-no-cache-any-case",
        revalidate(),
        fresh(ETAG),
        headers={"cache-control": "NO-CACHE"},
    ),
    row("request-no-cache-no-validator", fetch(), fresh(), headers={"Cache-Control": "no-cache"}),
    row("pragma-no-cache", revalidate(), fresh(ETAG), headers={"Pragma": "no-cache"}),
    row("pragma-no-cache-no-validator", fetch(), fresh(), headers={"Pragma": "no-cache"}),
    row("pragma-other", SERVE, fresh(ETAG), headers={"Pragma": "x-whatever"}),
    row(
        "pragma-ignored-with-cache-control",
        SERVE,
        fresh(ETAG),
        headers={"Pragma": "no-cache", "Cache-Control": "max-age=600"},
    ),
    row(
        "request-no-cache-only-if-cached",
        GATEWAY_TIMEOUT,
        fresh(ETAG),
        headers={"Cache-Control": "no-cache, only-if-cached"},
    ),
    # --- §5.2.2.4 response no-cache: validate every use, never serve it stale (504 instead)
    row(
        "response-no-cache-fresh",
        revalidate(disconnect=NO_STALE),
        fresh({**ETAG, "Cache-Control": "no-cache"}),
    ),
    row(
        "response-no-cache-no-validator",
        fetch(disconnect=NO_STALE),
        fresh({"Cache-Control": "no-cache, max-age=3600"}),
    ),
    row(
        "response-no-cache-no-swr",
        revalidate(disconnect=NO_STALE),
        stale({**ETAG, "Cache-Control": "no-cache, stale-while-revalidate=600"}),
        settings={"stale_while_revalidate": True},
    ),
    row(
        "response-no-cache-no-stale-if-error",
        revalidate(disconnect=NO_STALE),
        stale({**ETAG, "Cache-Control": "no-cache, stale-if-error=600"}),
        settings={"stale_if_error": True},
    ),
    row(
        "response-no-cache-only-if-cached",
        GATEWAY_TIMEOUT,
        fresh({**ETAG, "Cache-Control": "no-cache"}),
        headers={"Cache-Control": "only-if-cached"},
    ),
    # --- §5.2.2.2 must-revalidate: once stale, never used unvalidated
    row(
        "must-revalidate-stale",
        revalidate(disconnect=NO_STALE),
        stale({**ETAG, "Cache-Control": "max-age=60, must-revalidate"}),
    ),
    row(
        "must-revalidate-no-validator",
        fetch(disconnect=NO_STALE),
        stale({"Cache-Control": "must-revalidate"}),
    ),
    row(
        "must-revalidate-no-swr",
        revalidate(disconnect=NO_STALE),
        stale({**ETAG, "Cache-Control": "must-revalidate, stale-while-revalidate=600"}),
    ),
    row(
        "must-revalidate-no-swr-setting",
        revalidate(disconnect=NO_STALE),
        stale({**ETAG, "Cache-Control": "must-revalidate"}),
        settings={"stale_while_revalidate": True},
    ),
    row(
        "must-revalidate-no-stale-if-error",
        revalidate(disconnect=NO_STALE),
        stale({**ETAG, "Cache-Control": "must-revalidate, stale-if-error=600"}),
    ),
    # --- RFC 5861 §3 stale-while-revalidate: answer now, refresh in the background
    row(
        "swr-directive-inside",
        STALE_AND_REFRESH,
        stale({**ETAG, "Cache-Control": "max-age=60, stale-while-revalidate=60"}, by=30),
    ),
    row(
        "swr-directive-boundary",
        STALE_AND_REFRESH,
        stale({"Cache-Control": "stale-while-revalidate=30"}, by=30),
    ),
    row(
        "swr-directive-outside",
        revalidate(),
        stale({**ETAG, "Cache-Control": "stale-while-revalidate=29"}, by=30),
    ),
    row(
        "swr-setting-true",
        STALE_AND_REFRESH,
        stale(by=3600),
        settings={"stale_while_revalidate": True},
    ),
    row(
        "swr-setting-inside",
        STALE_AND_REFRESH,
        stale(by=30),
        settings={"stale_while_revalidate": 60},
    ),
    row(
        "swr-setting-timedelta",
        STALE_AND_REFRESH,
        stale(by=30),
        settings={"stale_while_revalidate": timedelta(seconds=30)},
    ),
    row("swr-setting-outside", fetch(), stale(by=30), settings={"stale_while_revalidate": 10}),
    row(
        "swr-setting-widens-directive",
        STALE_AND_REFRESH,
        stale({"Cache-Control": "stale-while-revalidate=10"}, by=30),
        settings={"stale_while_revalidate": 60},
    ),
    row("swr-fresh-serves", SERVE, fresh(), settings={"stale_while_revalidate": True}),
    # A client that bounds age or asks for validation does not get a stale answer.
    row(
        "swr-request-max-age",
        revalidate(),
        stale({**ETAG, "Cache-Control": "stale-while-revalidate=600"}),
        headers={"Cache-Control": "max-age=3600"},
    ),
    row(
        "swr-request-min-fresh",
        revalidate(),
        stale({**ETAG, "Cache-Control": "stale-while-revalidate=600"}),
        headers={"Cache-Control": "min-fresh=1"},
    ),
    row(
        "swr-request-no-cache",
        revalidate(),
        stale({**ETAG, "Cache-Control": "stale-while-revalidate=600"}),
        headers={"Cache-Control": "no-cache"},
    ),
    row(
        "swr-refresh-option",
        revalidate(),
        stale(ETAG),
        settings={"stale_while_revalidate": True},
        options={"refresh": True},
    ),
    row(
        "swr-only-if-cached",
        GATEWAY_TIMEOUT,
        stale({"Cache-Control": "stale-while-revalidate=600"}),
        headers={"Cache-Control": "only-if-cached"},
    ),
    # --- RFC 5861 §4 stale-if-error: a fallback flag on the plan, within the window
    row(
        "sie-directive-inside",
        revalidate(fallback=True),
        stale({**ETAG, "Cache-Control": "max-age=60, stale-if-error=60"}, by=30),
    ),
    row(
        "sie-directive-boundary",
        fetch(fallback=True),
        stale({"Cache-Control": "stale-if-error=30"}, by=30),
    ),
    row(
        "sie-directive-outside",
        revalidate(fallback=False),
        stale({**ETAG, "Cache-Control": "stale-if-error=29"}, by=30),
    ),
    row(
        "sie-setting-true",
        revalidate(fallback=True),
        stale(ETAG, by=10**6),
        settings={"stale_if_error": True},
    ),
    row("sie-setting-inside", fetch(fallback=True), stale(by=30), settings={"stale_if_error": 60}),
    row("sie-setting-outside", fetch(), stale(by=30), settings={"stale_if_error": 10}),
    row(
        "sie-setting-timedelta",
        revalidate(fallback=True),
        stale(ETAG, by=30),
        settings={"stale_if_error": timedelta(minutes=1)},
    ),
    row(
        "sie-fresh-revalidated-on-request",
        revalidate(fallback=True),
        fresh(ETAG),
        headers={"Cache-Control": "no-cache"},
        settings={"stale_if_error": 1},
    ),
    # --- §4.3.2: the application's own conditional request
    row("conditional-inm-match", NOT_MODIFIED, fresh(ETAG), headers=IF_NONE_MATCH),
    row("conditional-inm-weak", NOT_MODIFIED, fresh({"ETag": 'W/"v1"'}), headers=IF_NONE_MATCH),
    row("conditional-inm-star", NOT_MODIFIED, fresh(ETAG), headers={"If-None-Match": "*"}),
    row("conditional-inm-differs", SERVE, fresh(ETAG), headers={"If-None-Match": '"v0"'}),
    row("conditional-ims-unchanged", NOT_MODIFIED, fresh(LAST_MODIFIED), headers=IF_MODIFIED_SINCE),
    row(
        "conditional-ims-changed",
        SERVE,
        fresh(LAST_MODIFIED),
        headers={"If-Modified-Since": "Tue, 30 Apr 2024 00:00:00 GMT"},
    ),
    row(
        "conditional-inm-precedence",
        SERVE,
        fresh(VALIDATORS),
        headers={"If-None-Match": '"v0"', **IF_MODIFIED_SINCE},
    ),
    row(
        "conditional-max-stale",
        NOT_MODIFIED,
        stale(ETAG),
        headers={**IF_NONE_MATCH, "Cache-Control": "max-stale"},
    ),
    # If-Match / If-Unmodified-Since are for the origin to evaluate.
    row("conditional-if-match", FETCH, fresh(ETAG), headers={"If-Match": '"v1"'}),
    row(
        "conditional-if-unmodified-since",
        FETCH,
        fresh(LAST_MODIFIED),
        headers={"If-Unmodified-Since": LAST_MODIFIED_VALUE},
    ),
    # Stale (or to be validated): the application's request goes through as it is.
    row("conditional-stale-inm", fetch(), stale(ETAG), headers=IF_NONE_MATCH),
    row("conditional-stale-ims", fetch(), stale(LAST_MODIFIED), headers=IF_MODIFIED_SINCE),
    row("conditional-stale-if-match", fetch(), stale(ETAG), headers={"If-Match": '"v1"'}),
    row(
        "conditional-stale-must-revalidate",
        fetch(disconnect=NO_STALE),
        stale({**ETAG, "Cache-Control": "must-revalidate"}),
        headers=IF_NONE_MATCH,
    ),
    row(
        "conditional-stale-if-error",
        fetch(fallback=True),
        stale(ETAG),
        headers=IF_NONE_MATCH,
        settings={"stale_if_error": True},
    ),
    row(
        "conditional-request-no-cache",
        fetch(),
        fresh(ETAG),
        headers={**IF_NONE_MATCH, "Cache-Control": "no-cache"},
    ),
    row(
        "conditional-refresh",
        fetch(),
        fresh(ETAG),
        headers=IF_NONE_MATCH,
        options={"refresh": True},
    ),
    row(
        "conditional-stale-only-if-cached",
        GATEWAY_TIMEOUT,
        stale(ETAG),
        headers={**IF_NONE_MATCH, "Cache-Control": "only-if-cached"},
    ),
    # --- options.refresh and settings.always_revalidate
    row("refresh-fresh", revalidate(), fresh(ETAG), options={"refresh": True}),
    row("refresh-fresh-no-validator", fetch(), fresh(), options={"refresh": True}),
    row(
        "refresh-stale",
        revalidate(IF_MODIFIED_SINCE),
        stale(LAST_MODIFIED),
        options={"refresh": True},
    ),
    row(
        "refresh-only-if-cached",
        GATEWAY_TIMEOUT,
        fresh(ETAG),
        options={"refresh": True, "only_if_cached": True},
    ),
    row(
        "always-revalidate-fresh",
        Plan(PlanAction.REVALIDATE, IF_NONE_MATCH),
        fresh(ETAG),
        settings={"always_revalidate": True},
    ),
    row(
        "always-revalidate-fresh-last-modified",
        Plan(PlanAction.REVALIDATE, IF_MODIFIED_SINCE),
        Stored(at(-3600), None, LAST_MODIFIED),
        settings={"always_revalidate": True},
    ),
    row("always-revalidate-no-validator", SERVE, fresh(), settings={"always_revalidate": True}),
    row(
        "always-revalidate-stale",
        revalidate(),
        stale(ETAG),
        settings={"always_revalidate": True},
    ),
]


@pytest.mark.parametrize(
    ("headers", "stored", "settings", "options", "now", "expected"), DECIDE_CASES
)
def test_decide_standard(
    headers: dict[str, str],
    stored: Stored | None,
    settings: dict[str, Any],
    options: dict[str, Any],
    now: datetime,
    expected: Plan,
) -> None:
    plan = decide_standard(
        CaseInsensitiveDict(headers),
        stored,
        CacheSettings(**settings),
        RequestOptions(**options),
        now,
    )
    assert plan == expected


def test_decide_standard_uses_the_given_clock() -> None:
    """Freshness follows ``now``: fresh until ``expires``, stale from that instant on."""
    entry = fresh(ETAG, ttl=60)
    settings, options = CacheSettings(**STANDARDS), RequestOptions()
    assert decide_standard({}, entry, settings, options, at(59)) == SERVE
    assert decide_standard({}, entry, settings, options, at(60)) == revalidate()
    swr = fresh({"Cache-Control": "stale-while-revalidate=30"}, ttl=60)
    assert decide_standard({}, swr, settings, options, at(90)) == STALE_AND_REFRESH
    assert decide_standard({}, swr, settings, options, at(91)) == fetch()


@pytest.mark.parametrize(
    ("stored", "now", "expected"),
    [
        pytest.param(Stored(NOW, at(60)), NOW, 0, id="just-stored"),
        pytest.param(
            Stored(NOW, at(60), initial_age=12.5), at(10), 22.5, id="initial-plus-resident"
        ),
        pytest.param(Stored(NOW, at(60), initial_age=5), at(-10), 5, id="clock-went-back"),
    ],
)
def test_current_age(stored: Stored, now: datetime, expected: float) -> None:
    """RFC 9111 §4.2.3: corrected initial age plus resident time."""
    assert current_age(stored, now) == timedelta(seconds=expected)


# --- store_standard: RFC 9111 §3, §4.2 ----------------------------------------------------


def store_row(
    case_id: str,
    store: bool,
    expires: datetime | None = None,
    initial_age: float = 0.0,
    *,
    method: str = "GET",
    status: int = 200,
    request_headers: dict[str, str] | None = None,
    response_headers: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
    delay: float = 0,
    marks: Any = (),
) -> Any:
    """The request was sent ``delay`` seconds before its response arrived at NOW."""
    return pytest.param(
        method,
        status,
        request_headers or {},
        response_headers or {},
        {**STANDARDS, **(settings or {})},
        at(-delay),
        StoreDecision(store, expires, initial_age=initial_age),
        id=case_id,
        marks=marks,
    )


MAX_AGE = {"Cache-Control": "max-age=60"}
NO_STORE_UNDERSTOOD = {"Cache-Control": "no-store, must-understand, max-age=60"}
LAST_MODIFIED_1000 = {"Last-Modified": http_date(at(-1000)), "Date": http_date(NOW)}

STORE_CASES: list[Any] = [
    # --- §3: the request method
    store_row("get", True, at(60), response_headers=MAX_AGE),
    store_row("head", True, at(60), method="HEAD", response_headers=MAX_AGE),
    store_row("post-not-allowed", False, method="POST", response_headers=MAX_AGE),
    store_row("delete-not-allowed", False, method="DELETE", response_headers=MAX_AGE),
    store_row(
        "post-allowed",
        True,
        at(60),
        method="POST",
        response_headers=MAX_AGE,
        settings={"allowable_methods": ("GET", "POST")},
    ),
    store_row(
        "head-not-in-allowable-methods",
        False,
        method="HEAD",
        response_headers=MAX_AGE,
        settings={"allowable_methods": ("GET",)},
    ),
    # --- §5.2.2.5 / §5.2.1.5 no-store, response or request
    store_row("response-no-store", False, response_headers={"Cache-Control": "no-store"}),
    store_row(
        "response-no-store-beats-max-age",
        False,
        response_headers={"Cache-Control": "Max-Age=60, NO-STORE"},
    ),
    store_row(
        "request-no-store",
        False,
        request_headers={"Cache-Control": "no-store"},
        response_headers=MAX_AGE,
    ),
    store_row(
        "request-no-store-beats-must-understand",
        False,
        request_headers={"Cache-Control": "no-store"},
        response_headers=NO_STORE_UNDERSTOOD,
    ),
    store_row(
        "request-pragma-is-not-no-store",
        True,
        at(60),
        request_headers={"Pragma": "no-cache"},
        response_headers=MAX_AGE,
    ),
    # --- §5.2.2.3 must-understand: no-store ignored for status codes this cache knows
    store_row("must-understand-200", True, at(60), response_headers=NO_STORE_UNDERSTOOD),
    store_row(
        "must-understand-404", True, at(60), status=404, response_headers=NO_STORE_UNDERSTOOD
    ),
    store_row(
        "must-understand-unknown-299", False, status=299, response_headers=NO_STORE_UNDERSTOOD
    ),
    store_row(
        "must-understand-unknown-599", False, status=599, response_headers=NO_STORE_UNDERSTOOD
    ),
    store_row(
        "must-understand-no-freshness",
        True,
        NOW,
        response_headers={"Cache-Control": "no-store, must-understand"},
    ),
    store_row(
        "must-understand-500-no-freshness",
        False,
        status=500,
        response_headers={"Cache-Control": "no-store, must-understand"},
    ),
    # --- §3: status codes. Heuristically cacheable ones are stored without explicit
    # freshness (validated before use when there is no heuristic either).
    store_row("200-no-freshness", True, NOW),
    store_row("200-heuristic", True, at(100), response_headers=LAST_MODIFIED_1000),
    store_row("203-heuristic", True, at(100), status=203, response_headers=LAST_MODIFIED_1000),
    store_row("204-no-freshness", True, NOW, status=204),
    store_row("301-heuristic", True, at(100), status=301, response_headers=LAST_MODIFIED_1000),
    store_row("404-no-freshness", True, NOW, status=404),
    store_row("404-heuristic", True, at(100), status=404, response_headers=LAST_MODIFIED_1000),
    store_row("410-max-age", True, at(60), status=410, response_headers=MAX_AGE),
    store_row("501-no-freshness", True, NOW, status=501),
    # Others need explicit freshness (max-age, Expires, public, private).
    store_row("500-no-freshness", False, status=500),
    store_row("500-last-modified-only", False, status=500, response_headers=LAST_MODIFIED_1000),
    store_row("500-max-age", True, at(60), status=500, response_headers=MAX_AGE),
    store_row(
        "503-expires",
        True,
        at(30),
        status=503,
        response_headers={"Expires": http_date(at(30)), "Date": http_date(NOW)},
    ),
    store_row("302-no-freshness", False, status=302),
    store_row("302-public", True, NOW, status=302, response_headers={"Cache-Control": "public"}),
    store_row(
        "302-public-heuristic",
        True,
        at(100),
        status=302,
        response_headers={"Cache-Control": "public", **LAST_MODIFIED_1000},
    ),
    store_row("302-private", True, NOW, status=302, response_headers={"Cache-Control": "private"}),
    store_row(
        "201-s-maxage-is-for-shared-caches",
        False,
        status=201,
        response_headers={"Cache-Control": "s-maxage=60"},
    ),
    store_row("299-no-freshness", False, status=299),
    store_row("299-max-age", True, at(60), status=299, response_headers=MAX_AGE),
    # 304 updates a stored response; it is never stored itself. 1xx are not final.
    store_row("304", False, status=304, response_headers=MAX_AGE),
    store_row("100", False, status=100, response_headers=MAX_AGE),
    store_row("600", False, status=600, response_headers=MAX_AGE),
    # §3.3/§3.4: a partial response is stored only with the range it holds.
    store_row(
        "206-content-range",
        True,
        at(60),
        status=206,
        response_headers={**MAX_AGE, "Content-Range": "bytes 0-4/10"},
    ),
    store_row("206-no-content-range", False, status=206, response_headers=MAX_AGE),
    # --- custom allowable_codes: the user's list replaces "any final status"
    store_row(
        "custom-codes-listed", True, NOW, status=404, settings={"allowable_codes": (200, 404)}
    ),
    store_row(
        "custom-codes-not-listed",
        False,
        status=203,
        response_headers=MAX_AGE,
        settings={"allowable_codes": (200, 404)},
    ),
    store_row(
        "custom-codes-still-need-freshness",
        False,
        status=500,
        settings={"allowable_codes": (200, 500)},
    ),
    store_row(
        "custom-codes-500-max-age",
        True,
        at(60),
        status=500,
        response_headers=MAX_AGE,
        settings={"allowable_codes": (200, 500)},
    ),
    # --- §4.2.1 / §4.2.3: expires = response_time + lifetime - corrected initial age
    store_row("max-age-0", True, NOW, response_headers={"Cache-Control": "max-age=0"}),
    store_row(
        "apparent-age-wins",
        True,
        at(50),
        10,
        response_headers={**MAX_AGE, "Date": http_date(at(-10)), "Age": "5"},
        delay=2,
    ),
    store_row(
        "age-plus-delay-wins",
        True,
        at(28),
        32,
        response_headers={**MAX_AGE, "Date": http_date(NOW), "Age": "30"},
        delay=2,
    ),
    store_row("delay-only", True, at(57), 3, response_headers=MAX_AGE, delay=3),
    store_row(
        "date-in-future",
        True,
        at(59),
        1,
        response_headers={**MAX_AGE, "Date": http_date(at(3600))},
        delay=1,
    ),
    store_row(
        "older-than-max-age-stored-stale",
        True,
        at(-40),
        100,
        response_headers={**MAX_AGE, "Age": "100"},
    ),
    store_row(
        "expires-minus-date-minus-age",
        True,
        at(100),
        100,
        response_headers={"Expires": http_date(at(100)), "Date": http_date(at(-100))},
    ),
    store_row(
        "expires-with-origin-clock-ahead",
        True,
        at(60),
        response_headers={"Expires": http_date(at(3660)), "Date": http_date(at(3600))},
    ),
    store_row(
        "expires-with-age",
        True,
        at(40),
        20,
        response_headers={"Expires": http_date(at(60)), "Date": http_date(NOW), "Age": "20"},
    ),
    store_row("expires-invalid", True, at(-5), 5, response_headers={"Expires": "0", "Age": "5"}),
    store_row(
        "max-age-beats-expires",
        True,
        at(60),
        response_headers={**MAX_AGE, "Expires": http_date(at(-3600))},
    ),
    store_row(
        "heuristic-minus-age",
        True,
        at(80),
        20,
        response_headers={**LAST_MODIFIED_1000, "Age": "20"},
    ),
    store_row(
        "heuristic-capped",
        True,
        at(86400),
        response_headers={"Last-Modified": http_date(at(-100 * 86400)), "Date": http_date(NOW)},
    ),
]


@pytest.mark.parametrize(
    (
        "method",
        "status",
        "request_headers",
        "response_headers",
        "settings",
        "request_time",
        "expected",
    ),
    STORE_CASES,
)
def test_store_standard(
    method: str,
    status: int,
    request_headers: dict[str, str],
    response_headers: dict[str, str],
    settings: dict[str, Any],
    request_time: datetime,
    expected: StoreDecision,
) -> None:
    decision = store_standard(
        method,
        status,
        CaseInsensitiveDict(request_headers),
        CaseInsensitiveDict(response_headers),
        CacheSettings(**settings),
        request_time,
        NOW,
    )
    # A refusal says why; the wording is not part of the contract.
    assert bool(decision.reason) is not decision.store
    assert attrs.evolve(decision, reason="") == expected


# --- dispatch: decide()/decide_store() use the rules above only in standards mode --------


@pytest.mark.parametrize(
    ("settings", "options", "expected"),
    [
        pytest.param({"cache_control": True}, {}, True, id="cache-control-only"),
        pytest.param({}, {}, False, id="default"),
        pytest.param({"cache_control": True, "expire_after": 60}, {}, False, id="session-expiry"),
        pytest.param(
            {"cache_control": True, "expire_after": -1}, {}, True, id="never-expire-is-not-given"
        ),
        pytest.param({"cache_control": True}, {"expire_after": 60}, False, id="request-expiry"),
        pytest.param(
            {"cache_control": True, "urls_expire_after": {"site.com/api": 60}},
            {},
            False,
            id="url-pattern-matches",
        ),
        pytest.param(
            {"cache_control": True, "urls_expire_after": {"other.org": 60}},
            {},
            True,
            id="url-pattern-other-site",
        ),
    ],
)
def test_standards_mode(settings: dict[str, Any], options: dict[str, Any], expected: bool) -> None:
    assert standards_mode(URL, CacheSettings(**settings), RequestOptions(**options)) is expected


def test_decide_dispatches_to_standard() -> None:
    """A fresh ``no-cache`` response: validated in standards mode, served otherwise."""
    entry = fresh({**ETAG, "Cache-Control": "no-cache"})
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    standard = CacheSettings(**STANDARDS)
    compat = CacheSettings(cache_control=True, expire_after=60)
    plan = decide("GET", URL, headers, entry, standard, RequestOptions(), NOW)
    assert plan == revalidate(disconnect=NO_STALE)
    assert decide("GET", URL, headers, entry, compat, RequestOptions(), NOW) == SERVE


def test_decide_store_passes_request_time() -> None:
    """The request's send time reaches the age correction (§4.2.3)."""
    decision = decide_store(
        "GET",
        URL,
        CaseInsensitiveDict(),
        200,
        CaseInsensitiveDict({**MAX_AGE, "Age": "10"}),
        CacheSettings(**STANDARDS),
        RequestOptions(),
        NOW,
        request_time=at(-5),
    )
    assert (decision.store, decision.expires, decision.initial_age) == (True, at(45), 15.0)
