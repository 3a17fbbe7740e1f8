"""What the origin's answer means (policy/respond.py): a table per rule, in both modes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from attrs import evolve, frozen
from requests.structures import CaseInsensitiveDict

from requests_cache_like.policy import OVERRIDE, STANDARDS, Plan, PlanAction, Rules, build_rules
from requests_cache_like.policy.plan import PLAN_BYPASS, PLAN_FETCH
from requests_cache_like.policy.respond import (
    Outcome,
    Reply,
    head_agrees,
    is_own_representation,
    on_error,
    refresh_headers,
    respond,
    same_entity,
)
from requests_cache_like.settings import CacheSettings, RequestOptions

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
URL = "https://site.com/items"
REVALIDATE = Plan(PlanAction.REVALIDATE, {"If-None-Match": '"v1"'})
GATEWAY_TIMEOUT_ON_DISCONNECT = Plan(PlanAction.FETCH, on_disconnect="gateway_timeout")
WITH_FALLBACK = Plan(PlanAction.REVALIDATE, {"If-None-Match": '"v1"'}, stale_fallback=True)


@frozen
class Stored:
    headers: CaseInsensitiveDict[str]
    created_at: datetime = NOW - timedelta(seconds=90)
    expires: datetime | None = NOW - timedelta(seconds=30)
    initial_age: float = 0.0


def stored(**headers: str) -> Stored:
    return Stored(CaseInsensitiveDict({name.replace("_", "-"): v for name, v in headers.items()}))


def rules(mode: Any = OVERRIDE, **settings: Any) -> Rules:
    built = build_rules("GET", URL, CacheSettings(**settings), RequestOptions())
    return evolve(built, mode=mode)


def row(
    case_id: str,
    expected: Outcome,
    *,
    method: str = "GET",
    status: int = 200,
    headers: dict[str, str] | None = None,
    request_headers: dict[str, str] | None = None,
    plan: Plan = PLAN_FETCH,
    entry: Stored | None = None,
    primary_status: int | None = None,
    mode: Any = STANDARDS,
    settings: dict[str, Any] | None = None,
    following: bool = False,
) -> Any:
    return pytest.param(
        method,
        status,
        headers or {},
        request_headers or {},
        plan,
        entry,
        primary_status,
        rules(mode, **(settings or {})),
        following,
        expected,
        id=case_id,
    )


STORE = Outcome(Reply.STORE)
PASS = Outcome(Reply.PASS)
RESPOND_CASES: list[Any] = [
    row("miss-stored", STORE),
    row("miss-stored-override", STORE, mode=OVERRIDE),
    # stale-if-error on a 5xx (RFC 5861 §4), only with a fallback and a stored response
    row("5xx-with-fallback", Outcome(Reply.STALE), status=503, plan=WITH_FALLBACK, entry=stored()),
    row("5xx-without-fallback", STORE, status=503, plan=REVALIDATE, entry=stored()),
    row("4xx-is-no-error", STORE, status=404, plan=WITH_FALLBACK, entry=stored()),
    # 304 to our revalidation (RFC 9111 §4.3.4)
    row(
        "304-same-etag",
        Outcome(Reply.FRESHEN),
        status=304,
        headers={"ETag": '"v1"'},
        plan=REVALIDATE,
        entry=stored(ETag='"v1"'),
    ),
    row(
        "304-weak-same-etag",
        Outcome(Reply.FRESHEN),
        status=304,
        headers={"ETag": 'W/"v1"'},
        plan=REVALIDATE,
        entry=stored(ETag='"v1"'),
    ),
    row(
        "304-other-etag",
        Outcome(Reply.REFETCH),
        status=304,
        headers={"ETag": '"v2"'},
        plan=REVALIDATE,
        entry=stored(ETag='"v1"'),
    ),
    row(
        "304-other-etag-override",
        Outcome(Reply.REFETCH),
        status=304,
        headers={"ETag": '"v2"'},
        plan=REVALIDATE,
        entry=stored(ETag='"v1"'),
        mode=OVERRIDE,
    ),
    row(
        "304-no-etag",
        Outcome(Reply.FRESHEN),
        status=304,
        plan=REVALIDATE,
        entry=stored(Last_Modified="Wed, 01 May 2024 00:00:00 GMT"),
    ),
    # the application's own conditional request (standards mode passes it through)
    row(
        "app-304-same-entity",
        Outcome(Reply.PASS, freshen_stored=True),
        status=304,
        request_headers={"If-None-Match": '"v1"'},
        entry=stored(ETag='"v1"'),
    ),
    row(
        "app-304-other-entity",
        PASS,
        status=304,
        headers={"ETag": '"v9"'},
        request_headers={"If-None-Match": '"v9"'},
        entry=stored(ETag='"v1"'),
    ),
    row(
        "app-304-override-not-stored",
        STORE,
        status=304,
        request_headers={"If-None-Match": '"v1"'},
        entry=stored(ETag='"v1"'),
        mode=OVERRIDE,
    ),
    # ranges (§3.4), redirects being followed
    row("206-over-stored-200", PASS, status=206, primary_status=200),
    row("206-over-stored-206", STORE, status=206, primary_status=206),
    row("206-nothing-stored", STORE, status=206),
    row("redirect-being-followed", PASS, status=302, following=True),
    # HEAD freshens the stored GET (§4.3.5)
    row("head-200", Outcome(Reply.STORE, freshen_get=True), method="HEAD"),
    row("head-200-override", STORE, method="HEAD", mode=OVERRIDE),
    row("head-200-read-only", STORE, method="HEAD", settings={"read_only": True}),
    # invalidation after unsafe methods (§4.4)
    row(
        "post-invalidates",
        Outcome(Reply.PASS, invalidate=(URL,)),
        method="POST",
        status=201,
        plan=PLAN_BYPASS,
    ),
    row(
        "post-invalidates-locations",
        Outcome(Reply.PASS, invalidate=(URL, "https://site.com/items/7")),
        method="POST",
        status=201,
        headers={"Location": "/items/7", "Content-Location": "https://other.org/x"},
        plan=PLAN_BYPASS,
    ),
    row(
        "post-own-representation",
        Outcome(Reply.PASS, invalidate=(URL,), store_for_get=True),
        method="POST",
        headers={"Content-Location": "/items"},
        plan=PLAN_BYPASS,
    ),
    row("post-error-invalidates-nothing", PASS, method="POST", status=500, plan=PLAN_BYPASS),
    row("post-override", PASS, method="POST", plan=PLAN_BYPASS, mode=OVERRIDE),
    row("post-read-only", PASS, method="POST", plan=PLAN_BYPASS, settings={"read_only": True}),
    row(
        "delete-made-cacheable",
        Outcome(Reply.STORE, invalidate=(URL,)),
        method="DELETE",
        settings={"allowable_methods": ("GET", "DELETE")},
    ),
]


@pytest.mark.parametrize(
    (
        "method",
        "status",
        "headers",
        "request_headers",
        "plan",
        "entry",
        "primary_status",
        "rules_",
        "following",
        "expected",
    ),
    RESPOND_CASES,
)
def test_respond(
    method: str,
    status: int,
    headers: dict[str, str],
    request_headers: dict[str, str],
    plan: Plan,
    entry: Stored | None,
    primary_status: int | None,
    rules_: Rules,
    following: bool,
    expected: Outcome,
) -> None:
    outcome = respond(
        method,
        URL,
        CaseInsensitiveDict(request_headers),
        status,
        CaseInsensitiveDict(headers),
        plan,
        entry,
        primary_status,
        rules_,
        following=following,
    )
    assert outcome == expected


@pytest.mark.parametrize(
    ("plan", "has_stored", "expected"),
    [
        pytest.param(PLAN_FETCH, False, "raise", id="nothing-stored"),
        pytest.param(WITH_FALLBACK, True, "stale", id="stale-if-error"),
        pytest.param(Plan(PlanAction.FETCH, on_disconnect="stale"), True, "stale", id="stale"),
        pytest.param(
            Plan(PlanAction.FETCH, on_disconnect="gateway_timeout"),
            True,
            "gateway_timeout",
            id="504",
        ),
        pytest.param(Plan(PlanAction.FETCH, on_disconnect="stale"), False, "raise", id="no-entry"),
    ],
)
def test_on_error(plan: Plan, has_stored: bool, expected: str) -> None:
    assert on_error(plan, has_stored) == expected


@pytest.mark.parametrize(
    ("stored_etag", "received", "expected"),
    [
        ('"a"', '"a"', True),
        ('"a"', 'W/"a"', True),
        ('"a"', '"b"', False),
        (None, '"b"', True),
        ('"a"', None, True),
    ],
)
def test_same_entity(stored_etag: str | None, received: str | None, expected: bool) -> None:
    assert same_entity(stored_etag, received) is expected


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/items", True),
        ("https://site.com/items", True),
        ("/items/7", False),
        (None, False),
    ],
)
def test_is_own_representation(location: str | None, expected: bool) -> None:
    headers = {} if location is None else {"Content-Location": location}
    assert is_own_representation(URL, headers) is expected


@pytest.mark.parametrize(
    ("stored_headers", "head_headers", "expected"),
    [
        ({"ETag": '"a"'}, {"ETag": '"a"'}, True),
        ({"ETag": '"a"'}, {"ETag": '"b"'}, False),
        ({"Content-Length": "10"}, {"Content-Length": "11"}, False),
        ({"Last-Modified": "x"}, {}, True),
    ],
)
def test_head_agrees(
    stored_headers: dict[str, str], head_headers: dict[str, str], expected: bool
) -> None:
    assert head_agrees(stored_headers, head_headers) is expected


@pytest.mark.parametrize("mode", [OVERRIDE, STANDARDS], ids=lambda mode: mode.name)
def test_refresh_headers_is_one_rule(mode: Any) -> None:
    headers = CaseInsensitiveDict(
        {"Date": "old", "Age": "100", "Content-Length": "10", "X-A": "1", "Content-Type": "a/b"}
    )
    fresh = {"X-A": "2", "Content-Length": "99", "Connection": "close", "Content-Type": "c/d"}
    refresh_headers(headers, fresh, rules(mode))
    assert "Date" not in headers
    assert "Age" not in headers
    assert headers["X-A"] == "2"
    assert headers["Content-Length"] == "10"
    assert "Connection" not in headers
    assert headers["Content-Type"] == ("c/d" if mode.update_body_fields else "a/b")
