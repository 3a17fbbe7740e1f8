"""What to do with a request, and whether to store its response (policy/decide.py).

Every rule is a row: settings, per-request options, request headers, the stored entry and an
explicit ``now`` go in; a plan (or a store decision) comes out. No network, storage or clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from requests.structures import CaseInsensitiveDict

from requests_cache_like.policy import (
    DO_NOT_CACHE,
    EXPIRE_IMMEDIATELY,
    Plan,
    PlanAction,
    StoreDecision,
    decide,
    decide_store,
)
from requests_cache_like.policy.decide import (
    conditional_headers,
    resolve_expire_after,
    stale_if_error_allows,
)
from requests_cache_like.settings import CacheSettings, RequestOptions

from .stored import Stored

UTC = timezone.utc
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
URL = "https://site.com/api/items?page=1"
OTHER_URL = "https://other.org/page"
ETAG = {"ETag": '"v1"'}
LAST_MODIFIED = {"Last-Modified": "Wed, 01 May 2024 00:00:00 GMT"}
IF_NONE_MATCH = {"If-None-Match": '"v1"'}
IF_MODIFIED_SINCE = {"If-Modified-Since": "Wed, 01 May 2024 00:00:00 GMT"}

SERVE = Plan(PlanAction.SERVE)
FETCH = Plan(PlanAction.FETCH)
BYPASS = Plan(PlanAction.BYPASS)
GATEWAY_TIMEOUT = Plan(PlanAction.GATEWAY_TIMEOUT)
STALE_AND_REFRESH = Plan(PlanAction.SERVE_STALE_AND_REFRESH)


def revalidate(headers: Mapping[str, str] = IF_NONE_MATCH, fallback: bool = False) -> Plan:
    return Plan(PlanAction.REVALIDATE, dict(headers), stale_fallback=fallback)


#: cache_control=True with an expire_after given: requests-cache 1.x semantics, not
#: standards mode (tested in test_standard.py).
COMPAT_CC = {"cache_control": True, "expire_after_given": True}


def fresh(headers: Mapping[str, str] | None = None, age: int = 10, ttl: int = 60) -> Stored:
    """Stored ``age`` seconds ago, fresh for another ``ttl`` seconds."""
    return Stored(NOW - timedelta(seconds=age), NOW + timedelta(seconds=ttl), headers or {})


def stale(headers: Mapping[str, str] | None = None, by: int = 30) -> Stored:
    """Stored 90 seconds ago, expired ``by`` seconds ago."""
    return Stored(NOW - timedelta(seconds=90), NOW - timedelta(seconds=by), headers or {})


def forever(headers: Mapping[str, str] | None = None) -> Stored:
    """Stored an hour ago, never expires."""
    return Stored(NOW - timedelta(hours=1), None, headers or {})


def row(
    case_id: str,
    expected: Plan,
    stored: Stored | None = None,
    *,
    method: str = "GET",
    url: str = URL,
    settings: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    marks: Any = (),
) -> Any:
    return pytest.param(
        method,
        url,
        settings or {},
        options or {},
        headers or {},
        stored,
        expected,
        id=case_id,
        marks=marks,
    )


DECIDE_CASES: list[Any] = [
    # --- the cache is not used at all
    row("disabled", BYPASS, fresh(), settings={"disabled": True}),
    row("method-not-allowed", BYPASS, fresh(), method="POST"),
    row("method-delete", BYPASS, None, method="DELETE"),
    row(
        "method-allowed",
        SERVE,
        fresh(),
        method="POST",
        settings={"allowable_methods": ("GET", "POST")},
    ),
    row("do-not-cache-session", BYPASS, fresh(), settings={"expire_after": DO_NOT_CACHE}),
    row(
        "do-not-cache-url",
        BYPASS,
        fresh(),
        settings={"urls_expire_after": {"site.com/api": DO_NOT_CACHE}},
    ),
    row(
        "do-not-cache-url-other-site",
        SERVE,
        fresh(),
        url=OTHER_URL,
        settings={"urls_expire_after": {"site.com/api": DO_NOT_CACHE}},
    ),
    row("do-not-cache-request", BYPASS, fresh(), options={"expire_after": DO_NOT_CACHE}),
    row(
        "request-expiry-overrides-session-do-not-cache",
        SERVE,
        fresh(),
        settings={"expire_after": DO_NOT_CACHE},
        options={"expire_after": 60},
    ),
    # --- forced refresh
    row("force-refresh-fresh", FETCH, fresh(ETAG), options={"force_refresh": True}),
    row("force-refresh-miss", FETCH, None, options={"force_refresh": True}),
    row(
        "force-refresh-beats-only-if-cached",
        FETCH,
        fresh(),
        options={"force_refresh": True, "only_if_cached": True},
    ),
    # --- misses
    row("miss", FETCH),
    row("miss-only-if-cached-option", GATEWAY_TIMEOUT, options={"only_if_cached": True}),
    row("miss-only-if-cached-setting", GATEWAY_TIMEOUT, settings={"only_if_cached": True}),
    row(
        "miss-only-if-cached-header",
        GATEWAY_TIMEOUT,
        headers={"Cache-Control": "only-if-cached"},
    ),
    # --- fresh entries
    row("fresh", SERVE, fresh()),
    row("fresh-with-etag", SERVE, fresh(ETAG)),
    row("never-expires", SERVE, forever(ETAG)),
    row("fresh-only-if-cached", SERVE, fresh(), options={"only_if_cached": True}),
    row("expires-exactly-now-is-stale", FETCH, fresh(ttl=0)),
    # --- expired entries
    row("stale-etag", revalidate(IF_NONE_MATCH), stale(ETAG)),
    row("stale-last-modified", revalidate(IF_MODIFIED_SINCE), stale(LAST_MODIFIED)),
    row(
        "stale-both-validators",
        revalidate({**IF_NONE_MATCH, **IF_MODIFIED_SINCE}),
        stale({**ETAG, **LAST_MODIFIED}),
    ),
    row("stale-etag-header-name-case", revalidate(IF_NONE_MATCH), stale({"etag": '"v1"'})),
    row("stale-no-validator", FETCH, stale()),
    row("stale-empty-etag", FETCH, stale({"ETag": ""})),
    row("stale-only-if-cached", GATEWAY_TIMEOUT, stale(), options={"only_if_cached": True}),
    row(
        "stale-etag-only-if-cached",
        GATEWAY_TIMEOUT,
        stale(ETAG),
        settings={"only_if_cached": True},
    ),
    # --- refresh / always_revalidate
    row("refresh-fresh-etag", revalidate(), fresh(ETAG), options={"refresh": True}),
    row("refresh-fresh-no-validator", FETCH, fresh(), options={"refresh": True}),
    row("refresh-stale-etag", revalidate(), stale(ETAG), options={"refresh": True}),
    row(
        "refresh-only-if-cached",
        GATEWAY_TIMEOUT,
        fresh(ETAG),
        options={"refresh": True, "only_if_cached": True},
    ),
    row("always-revalidate-etag", revalidate(), fresh(ETAG), settings={"always_revalidate": True}),
    row(
        "always-revalidate-last-modified",
        revalidate(IF_MODIFIED_SINCE),
        forever(LAST_MODIFIED),
        settings={"always_revalidate": True},
    ),
    row("always-revalidate-no-validator", SERVE, fresh(), settings={"always_revalidate": True}),
    row(
        "always-revalidate-no-fallback-when-fresh",
        revalidate(fallback=False),
        fresh(ETAG),
        settings={"always_revalidate": True, "stale_if_error": True},
    ),
    # --- request no-cache / Pragma
    row("request-no-cache", revalidate(), fresh(ETAG), headers={"Cache-Control": "no-cache"}),
    row("request-no-cache-lower", revalidate(), fresh(ETAG), headers={"cache-control": "NO-CACHE"}),
    row("request-no-cache-no-validator", FETCH, fresh(), headers={"Cache-Control": "no-cache"}),
    row("request-pragma-no-cache", revalidate(), fresh(ETAG), headers={"Pragma": "no-cache"}),
    row("request-pragma-other", SERVE, fresh(ETAG), headers={"Pragma": "x-other"}),
    row(
        "request-cache-control-beats-pragma",
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
    # --- request max-age / min-fresh
    row(
        "request-max-age-young-enough",
        SERVE,
        fresh(age=10),
        headers={"Cache-Control": "max-age=60"},
    ),
    row(
        "request-max-age-too-old",
        revalidate(),
        fresh(ETAG, age=10),
        headers={"Cache-Control": "max-age=5"},
    ),
    row(
        "request-max-age-0-no-validator",
        FETCH,
        fresh(age=1),
        headers={"Cache-Control": "max-age=0"},
    ),
    row(
        "request-max-age-never-expires-too-old",
        revalidate(),
        forever(ETAG),
        headers={"Cache-Control": "max-age=60"},
    ),
    row("request-min-fresh-ok", SERVE, fresh(ttl=60), headers={"Cache-Control": "min-fresh=30"}),
    row(
        "request-min-fresh-not-enough",
        revalidate(),
        fresh(ETAG, ttl=60),
        headers={"Cache-Control": "min-fresh=120"},
    ),
    row(
        "request-min-fresh-never-expires",
        SERVE,
        forever(),
        headers={"Cache-Control": "min-fresh=9"},
    ),
    # --- request max-stale
    row("max-stale-any", SERVE, stale(ETAG, by=3600), headers={"Cache-Control": "max-stale"}),
    row("max-stale-within", SERVE, stale(ETAG, by=30), headers={"Cache-Control": "max-stale=60"}),
    row(
        "max-stale-exceeded",
        revalidate(),
        stale(ETAG, by=30),
        headers={"Cache-Control": "max-stale=10"},
    ),
    row(
        "max-stale-blocked-by-must-revalidate",
        revalidate(),
        stale({**ETAG, "Cache-Control": "max-age=60, must-revalidate"}),
        headers={"Cache-Control": "max-stale"},
    ),
    row(
        "max-stale-blocked-by-must-revalidate-no-validator",
        FETCH,
        stale({"Cache-Control": "must-revalidate"}),
        headers={"Cache-Control": "max-stale"},
    ),
    row(
        "max-stale-with-no-cache",
        revalidate(),
        stale(ETAG),
        headers={"Cache-Control": "max-stale, no-cache"},
    ),
    row(
        "max-stale-with-refresh",
        revalidate(),
        stale(ETAG),
        options={"refresh": True},
        headers={"Cache-Control": "max-stale"},
    ),
    row(
        "max-stale-with-only-if-cached",
        SERVE,
        stale(),
        headers={"Cache-Control": "max-stale, only-if-cached"},
    ),
    # --- stale-while-revalidate
    row("swr-true", STALE_AND_REFRESH, stale(by=3600), settings={"stale_while_revalidate": True}),
    row(
        "swr-seconds-within",
        STALE_AND_REFRESH,
        stale(by=30),
        settings={"stale_while_revalidate": 60},
    ),
    row(
        "swr-seconds-boundary",
        STALE_AND_REFRESH,
        stale(by=60),
        settings={"stale_while_revalidate": 60},
    ),
    row(
        "swr-seconds-exceeded",
        revalidate(),
        stale(ETAG, by=30),
        settings={"stale_while_revalidate": 10},
    ),
    row(
        "swr-timedelta",
        STALE_AND_REFRESH,
        stale(by=30),
        settings={"stale_while_revalidate": timedelta(minutes=1)},
    ),
    row("swr-false", FETCH, stale(by=30), settings={"stale_while_revalidate": False}),
    row(
        "swr-response-directive",
        STALE_AND_REFRESH,
        stale({"Cache-Control": "max-age=60, stale-while-revalidate=60"}, by=30),
        settings=COMPAT_CC,
    ),
    row(
        "swr-response-directive-exceeded",
        FETCH,
        stale({"Cache-Control": "stale-while-revalidate=10"}, by=30),
        settings=COMPAT_CC,
    ),
    row(
        "swr-response-directive-ignored-without-cache-control",
        FETCH,
        stale({"Cache-Control": "stale-while-revalidate=60"}, by=30),
    ),
    row("swr-fresh-serves", SERVE, fresh(), settings={"stale_while_revalidate": True}),
    row(
        "swr-only-if-cached",
        GATEWAY_TIMEOUT,
        stale(),
        settings={"stale_while_revalidate": True},
        options={"only_if_cached": True},
    ),
    row(
        "swr-refresh",
        revalidate(),
        stale(ETAG),
        settings={"stale_while_revalidate": True},
        options={"refresh": True},
    ),
    row(
        "swr-request-no-cache",
        FETCH,
        stale(),
        settings={"stale_while_revalidate": True},
        headers={"Cache-Control": "no-cache"},
    ),
    row(
        "swr-not-for-client-max-age-0",
        revalidate(),
        fresh(ETAG),
        settings={"stale_while_revalidate": True},
        headers={"Cache-Control": "max-age=0"},
    ),
    # --- stale-if-error: a flag on the plan
    row("sie-true-etag", revalidate(fallback=True), stale(ETAG), settings={"stale_if_error": True}),
    row(
        "sie-true-no-validator",
        Plan(PlanAction.FETCH, stale_fallback=True),
        stale(),
        settings={"stale_if_error": True},
    ),
    row(
        "sie-seconds-within",
        Plan(PlanAction.FETCH, stale_fallback=True),
        stale(by=30),
        settings={"stale_if_error": 60},
    ),
    row("sie-seconds-exceeded", FETCH, stale(by=30), settings={"stale_if_error": 10}),
    row(
        "sie-timedelta",
        revalidate(fallback=True),
        stale(ETAG, by=30),
        settings={"stale_if_error": timedelta(seconds=30)},
    ),
    row(
        "sie-response-directive",
        revalidate(fallback=True),
        stale({**ETAG, "Cache-Control": "stale-if-error=60"}, by=30),
        settings=COMPAT_CC,
    ),
    row(
        "sie-response-directive-exceeded",
        revalidate(fallback=False),
        stale({**ETAG, "Cache-Control": "stale-if-error=10"}, by=30),
        settings=COMPAT_CC,
    ),
    row(
        "sie-response-directive-ignored-without-cache-control",
        revalidate(fallback=False),
        stale({**ETAG, "Cache-Control": "stale-if-error=60"}, by=30),
    ),
    row(
        "sie-on-refresh-of-fresh",
        revalidate(fallback=True),
        fresh(ETAG),
        settings={"stale_if_error": 1},
        options={"refresh": True},
    ),
    row(
        "sie-never-expiring-entry",
        revalidate(fallback=True),
        forever(ETAG),
        settings={"stale_if_error": True},
        headers={"Cache-Control": "no-cache"},
    ),
]


@pytest.mark.parametrize(
    ("method", "url", "settings", "options", "headers", "stored", "expected"), DECIDE_CASES
)
def test_decide(
    method: str,
    url: str,
    settings: dict[str, Any],
    options: dict[str, Any],
    headers: dict[str, str],
    stored: Stored | None,
    expected: Plan,
) -> None:
    plan = decide(
        method,
        url,
        CaseInsensitiveDict(headers),
        stored,
        CacheSettings(**settings),
        RequestOptions(**options),
        NOW,
    )
    assert plan == expected


def test_decide_uses_the_given_clock() -> None:
    """The same entry is fresh at one ``now`` and stale at a later one."""
    entry = fresh(ETAG, ttl=60)
    settings, options = CacheSettings(), RequestOptions()
    assert decide("GET", URL, {}, entry, settings, options, NOW) == SERVE
    later = NOW + timedelta(seconds=61)
    assert decide("GET", URL, {}, entry, settings, options, later) == revalidate()


def test_conditional_headers() -> None:
    assert conditional_headers(stale()) == {}
    assert conditional_headers(stale({**ETAG, **LAST_MODIFIED})) == {
        **IF_NONE_MATCH,
        **IF_MODIFIED_SINCE,
    }


@pytest.mark.parametrize(
    ("settings", "entry", "expected"),
    [
        pytest.param({}, stale(by=1), False, id="off"),
        pytest.param({"stale_if_error": True}, stale(by=10**6), True, id="true"),
        pytest.param({"stale_if_error": 30}, stale(by=30), True, id="boundary"),
        pytest.param({"stale_if_error": 30}, stale(by=31), False, id="past"),
        pytest.param({"stale_if_error": 0}, forever(), True, id="never-expires-not-stale"),
    ],
)
def test_stale_if_error_allows(settings: dict[str, Any], entry: Stored, expected: bool) -> None:
    assert stale_if_error_allows(entry, CacheSettings(**settings), NOW) is expected


# --- resolve_expire_after ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "settings", "options", "expected"),
    [
        pytest.param(URL, {"expire_after": 90}, {}, 90, id="session"),
        pytest.param(
            URL, {"expire_after": 90, "urls_expire_after": {"site.com": 60}}, {}, 60, id="url"
        ),
        pytest.param(
            OTHER_URL,
            {"expire_after": 90, "urls_expire_after": {"site.com": 60}},
            {},
            90,
            id="url-no-match",
        ),
        pytest.param(
            URL,
            {"expire_after": 90, "urls_expire_after": {"site.com": 60}},
            {"expire_after": 30},
            30,
            id="request",
        ),
        pytest.param(
            URL,
            {"urls_expire_after": {re.compile(r"/api/"): EXPIRE_IMMEDIATELY}},
            {},
            EXPIRE_IMMEDIATELY,
            id="regex-zero",
        ),
    ],
)
def test_resolve_expire_after(
    url: str, settings: dict[str, Any], options: dict[str, Any], expected: Any
) -> None:
    resolved = resolve_expire_after(url, CacheSettings(**settings), RequestOptions(**options))
    assert resolved == expected


# --- decide_store ------------------------------------------------------------------------


def after(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def store_row(
    case_id: str,
    store: bool,
    expires: datetime | None = None,
    *,
    method: str = "GET",
    url: str = URL,
    status: int = 200,
    request_headers: dict[str, str] | None = None,
    response_headers: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> Any:
    return pytest.param(
        method,
        url,
        request_headers or {},
        status,
        response_headers or {},
        settings or {},
        options or {},
        StoreDecision(store, expires),
        id=case_id,
    )


CC = COMPAT_CC
PAST_DATE = "Tue, 30 Apr 2024 12:00:00 GMT"  # a day before NOW
FUTURE_DATE = "Thu, 02 May 2024 12:00:00 GMT"  # a day after NOW

STORE_CASES: list[Any] = [
    store_row("default-never-expires", True, None),
    store_row("read-only", False, settings={"read_only": True}),
    store_row("disabled", False, settings={"disabled": True}),
    store_row("method-not-allowed", False, method="POST"),
    store_row(
        "method-allowed", True, method="POST", settings={"allowable_methods": ["GET", "POST"]}
    ),
    store_row("status-not-allowed", False, status=404),
    store_row("status-allowed", True, status=404, settings={"allowable_codes": (200, 404)}),
    store_row("status-304-not-stored", False, status=304),
    store_row("do-not-cache-session", False, settings={"expire_after": DO_NOT_CACHE}),
    store_row(
        "do-not-cache-url", False, settings={"urls_expire_after": {"site.com": DO_NOT_CACHE}}
    ),
    store_row("do-not-cache-request", False, options={"expire_after": DO_NOT_CACHE}),
    store_row("request-no-store", False, request_headers={"Cache-Control": "no-store"}),
    store_row("request-no-store-lower", False, request_headers={"cache-control": "No-Store"}),
    # response headers, honoured only with cache_control=True
    store_row(
        "max-age",
        True,
        after(60),
        response_headers={"Cache-Control": "max-age=60"},
        settings={**CC, "expire_after": 10},
    ),
    store_row(
        "max-age-ignored-without-cache-control",
        True,
        after(10),
        response_headers={"Cache-Control": "max-age=60"},
        settings={"expire_after": 10},
    ),
    store_row(
        "max-age-0-no-validator",
        False,
        response_headers={"Cache-Control": "max-age=0"},
        settings=CC,
    ),
    store_row(
        "max-age-0-with-etag",
        True,
        NOW,
        response_headers={"Cache-Control": "max-age=0", **ETAG},
        settings=CC,
    ),
    store_row(
        "expires-valid",
        True,
        datetime(2024, 5, 2, 12, tzinfo=UTC),
        response_headers={"Expires": FUTURE_DATE},
        settings=CC,
    ),
    store_row(
        # kept, as in requests-cache: it can still answer max-stale and stale-if-error
        "expires-past-no-validator",
        True,
        NOW - timedelta(days=1),
        response_headers={"Expires": PAST_DATE},
        settings=CC,
    ),
    store_row(
        "expires-past-with-validator",
        True,
        datetime(2024, 4, 30, 12, tzinfo=UTC),
        response_headers={"Expires": PAST_DATE, **LAST_MODIFIED},
        settings=CC,
    ),
    store_row(
        "expires-invalid-no-validator", False, response_headers={"Expires": "0"}, settings=CC
    ),
    store_row(
        "expires-invalid-with-validator",
        True,
        NOW,
        response_headers={"Expires": "0", **ETAG},
        settings=CC,
    ),
    store_row(
        "max-age-beats-expires",
        True,
        after(60),
        response_headers={"Cache-Control": "max-age=60", "Expires": PAST_DATE},
        settings=CC,
    ),
    store_row(
        "expires-ignored-without-cache-control",
        True,
        after(10),
        response_headers={"Expires": PAST_DATE},
        settings={"expire_after": 10},
    ),
    store_row(
        "no-store", False, response_headers={"Cache-Control": "max-age=60, no-store"}, settings=CC
    ),
    store_row(
        "no-store-ignored-without-cache-control",
        True,
        None,
        response_headers={"Cache-Control": "no-store"},
    ),
    store_row(
        "no-cache-no-validator", False, response_headers={"Cache-Control": "no-cache"}, settings=CC
    ),
    store_row(
        "no-cache-with-etag",
        True,
        NOW,
        response_headers={"Cache-Control": "no-cache, max-age=60", **ETAG},
        settings=CC,
    ),
    store_row(
        "no-cache-field-list-is-not-no-cache",
        True,
        after(60),
        response_headers={"Cache-Control": 'no-cache="Set-Cookie", max-age=60'},
        settings=CC,
    ),
    store_row(
        "immutable-never-expires",
        True,
        None,
        response_headers={"Cache-Control": "immutable"},
        settings={**CC, "expire_after": 10},
    ),
    store_row(
        "immutable-beats-max-age",
        True,
        None,
        response_headers={"Cache-Control": "max-age=60, immutable"},
        settings=CC,
    ),
    store_row("no-headers-falls-back", True, after(300), settings={**CC, "expire_after": 300}),
    store_row(
        "unknown-directives-fall-back",
        True,
        after(300),
        response_headers={"Cache-Control": "public, x-custom"},
        settings={**CC, "expire_after": 300},
    ),
    # expiration precedence
    store_row(
        "session",
        True,
        after(90),
        settings={"expire_after": 90, "urls_expire_after": {"other.org": 60}},
    ),
    store_row(
        "url-beats-session",
        True,
        after(60),
        settings={"expire_after": 90, "urls_expire_after": {"site.com/api": 60}},
    ),
    store_row(
        "first-url-pattern-wins",
        True,
        after(60),
        settings={"urls_expire_after": {"site.com/api": 60, "site.com": 5}},
    ),
    store_row(
        "request-beats-url",
        True,
        after(30),
        settings={"expire_after": 90, "urls_expire_after": {"site.com": 60}},
        options={"expire_after": 30},
    ),
    store_row(
        "request-max-age-beats-options",
        True,
        after(120),
        request_headers={"Cache-Control": "max-age=120"},
        options={"expire_after": 30},
    ),
    store_row(
        "response-max-age-beats-request-max-age",
        True,
        after(60),
        request_headers={"Cache-Control": "max-age=120"},
        response_headers={"Cache-Control": "max-age=60"},
        settings=CC,
    ),
    store_row(
        "request-max-age-when-response-silent",
        True,
        after(120),
        request_headers={"Cache-Control": "max-age=120"},
        settings=CC,
    ),
    # expire_after values
    store_row(
        "expire-immediately-no-validator", False, settings={"expire_after": EXPIRE_IMMEDIATELY}
    ),
    store_row(
        "expire-immediately-etag",
        True,
        NOW,
        response_headers=ETAG,
        settings={"expire_after": EXPIRE_IMMEDIATELY},
    ),
    store_row(
        "expire-immediately-last-modified",
        True,
        NOW,
        response_headers=LAST_MODIFIED,
        options={"expire_after": EXPIRE_IMMEDIATELY},
    ),
    store_row("timedelta", True, after(7200), settings={"expire_after": timedelta(hours=2)}),
    store_row("float-seconds", True, after(1.5), settings={"expire_after": 1.5}),
    store_row(
        "datetime-future",
        True,
        datetime(2030, 1, 1, tzinfo=UTC),
        settings={"expire_after": datetime(2030, 1, 1, tzinfo=UTC)},
    ),
    store_row(
        "naive-datetime-is-utc",
        True,
        datetime(2030, 1, 1, tzinfo=UTC),
        options={"expire_after": datetime(2030, 1, 1)},
    ),
    # a past expire_after is kept, as in requests-cache (stale-if-error can still use it)
    store_row(
        "datetime-past-no-validator",
        True,
        datetime(2020, 1, 1, tzinfo=UTC),
        settings={"expire_after": datetime(2020, 1, 1)},
    ),
    store_row(
        "http-date-string",
        True,
        datetime(2024, 5, 2, 12, tzinfo=UTC),
        settings={"expire_after": FUTURE_DATE},
    ),
]


@pytest.mark.parametrize(
    (
        "method",
        "url",
        "request_headers",
        "status",
        "response_headers",
        "settings",
        "options",
        "expected",
    ),
    STORE_CASES,
)
def test_decide_store(
    method: str,
    url: str,
    request_headers: dict[str, str],
    status: int,
    response_headers: dict[str, str],
    settings: dict[str, Any],
    options: dict[str, Any],
    expected: StoreDecision,
) -> None:
    decision = decide_store(
        method,
        url,
        CaseInsensitiveDict(request_headers),
        status,
        CaseInsensitiveDict(response_headers),
        CacheSettings(**settings),
        RequestOptions(**options),
        NOW,
    )
    assert (decision.store, decision.expires) == (expected.store, expected.expires)
    if not decision.store:
        assert decision.reason  # a skipped store says why


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        pytest.param({"status": 500}, "500", id="status"),
        pytest.param({"method": "PUT"}, "PUT", id="method"),
        pytest.param({"settings": CacheSettings(read_only=True)}, "read-only", id="read-only"),
    ],
)
def test_decide_store_reason_names_the_cause(kwargs: dict[str, Any], fragment: str) -> None:
    arguments: dict[str, Any] = {
        "method": "GET",
        "url": URL,
        "request_headers": {},
        "status_code": 200,
        "response_headers": {},
        "settings": CacheSettings(),
        "options": RequestOptions(),
        "now": NOW,
    }
    if "status" in kwargs:
        arguments["status_code"] = kwargs.pop("status")
    arguments.update(kwargs)
    decision = decide_store(**arguments)
    assert not decision.store
    assert fragment in decision.reason
