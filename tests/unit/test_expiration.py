"""Expiration values, absolute expiry times and per-URL patterns (policy/expiration.py)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from requests_cache_like.policy.expiration import (
    DO_NOT_CACHE,
    EXPIRE_IMMEDIATELY,
    NEVER_EXPIRE,
    ExpirationPattern,
    compile_url_patterns,
    expiration_datetime,
    get_expiration_datetime,
    get_url_expiration,
    match_url_expiration,
    parse_http_date,
    validate_expire_after,
)

UTC = timezone.utc
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
PLUS_TWO = timezone(timedelta(hours=2))


# --- validate_expire_after ---------------------------------------------------------------

ACCEPTED: list[Any] = [
    pytest.param(None, None, id="none"),
    pytest.param(NEVER_EXPIRE, NEVER_EXPIRE, id="never-expire"),
    pytest.param(EXPIRE_IMMEDIATELY, EXPIRE_IMMEDIATELY, id="expire-immediately"),
    pytest.param(DO_NOT_CACHE, DO_NOT_CACHE, id="do-not-cache"),
    pytest.param(60, 60, id="int-seconds"),
    pytest.param(0.5, 0.5, id="float-seconds"),
    pytest.param(timedelta(hours=1), timedelta(hours=1), id="timedelta"),
    pytest.param(timedelta(0), timedelta(0), id="zero-timedelta"),
    pytest.param(NOW, NOW, id="aware-datetime"),
    pytest.param(
        datetime(2030, 1, 1, 8, 0), datetime(2030, 1, 1, 8, 0, tzinfo=UTC), id="naive-datetime-utc"
    ),
    pytest.param(
        datetime(2030, 1, 1, 8, 0, tzinfo=PLUS_TWO),
        datetime(2030, 1, 1, 6, 0, tzinfo=UTC),
        id="aware-datetime-other-zone",
    ),
    pytest.param(
        "Wed, 21 Oct 2015 07:28:00 GMT", datetime(2015, 10, 21, 7, 28, tzinfo=UTC), id="http-date"
    ),
    pytest.param(
        "Wed, 21 Oct 2015 09:28:00 +0200",
        datetime(2015, 10, 21, 7, 28, tzinfo=UTC),
        id="http-date-offset",
    ),
    pytest.param("2030-01-01T00:00:00", datetime(2030, 1, 1, tzinfo=UTC), id="iso-naive-utc"),
    pytest.param(
        "2030-01-01T02:00:00+02:00", datetime(2030, 1, 1, tzinfo=UTC), id="iso-with-offset"
    ),
    pytest.param("2030-01-01", datetime(2030, 1, 1, tzinfo=UTC), id="iso-date-only"),
    # requests-cache's "expired that long ago": stored already stale, revalidated on next use.
    pytest.param(timedelta(seconds=-2), timedelta(seconds=-2), id="negative-timedelta"),
]


@pytest.mark.parametrize(("value", "expected"), ACCEPTED)
def test_validate_expire_after_accepts(value: Any, expected: Any) -> None:
    result = validate_expire_after(value)
    assert result == expected
    if isinstance(result, datetime):
        assert result.utcoffset() is not None  # always aware


REJECTED: list[Any] = [
    pytest.param(True, TypeError, "bool", id="true"),
    pytest.param(False, TypeError, "bool", id="false"),
    pytest.param(-2, ValueError, "negative", id="negative-int"),
    pytest.param(-0.5, ValueError, "negative", id="negative-float"),
    pytest.param(float("nan"), ValueError, "accepted", id="nan"),
    pytest.param("soon", ValueError, "not a date", id="soon"),
    pytest.param("", ValueError, "not a date", id="empty-string"),
    pytest.param("60", ValueError, "not a date", id="numeric-string"),
    pytest.param([60], TypeError, "list", id="list"),
    pytest.param(object(), TypeError, "object", id="object"),
]


@pytest.mark.parametrize(("value", "error", "fragment"), REJECTED)
def test_validate_expire_after_rejects(value: Any, error: type[Exception], fragment: str) -> None:
    with pytest.raises(error) as info:
        validate_expire_after(value, name="my_arg")
    message = str(info.value)
    assert message.startswith("my_arg=")
    assert fragment in message
    assert "accepted:" in message


def test_validate_expire_after_default_name() -> None:
    with pytest.raises(ValueError, match=r"^expire_after='soon'"):
        validate_expire_after("soon")


# --- parse_http_date ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            "Sun, 06 Nov 1994 08:49:37 GMT", datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC), id="imf"
        ),
        pytest.param(
            "Sun, 06 Nov 1994 08:49:37 -0000",
            datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC),
            id="minus-zero",
        ),
        pytest.param("0", None, id="zero"),
        pytest.param("", None, id="empty"),
        pytest.param("not a date", None, id="garbage"),
    ],
)
def test_parse_http_date(value: str, expected: datetime | None) -> None:
    result = parse_http_date(value)
    assert result == expected
    if result is not None:
        assert result.tzinfo == UTC


# --- get_expiration_datetime -------------------------------------------------------------

EXPIRY_CASES: list[Any] = [
    pytest.param(None, None, id="none-never"),
    pytest.param(NEVER_EXPIRE, None, id="never-expire"),
    pytest.param(EXPIRE_IMMEDIATELY, NOW, id="expire-immediately-is-now"),
    pytest.param(90, NOW + timedelta(seconds=90), id="int"),
    pytest.param(1.5, NOW + timedelta(seconds=1.5), id="float"),
    pytest.param(timedelta(days=2), NOW + timedelta(days=2), id="timedelta"),
    pytest.param(
        datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC), id="datetime-as-is"
    ),
    pytest.param(
        "Wed, 21 Oct 2015 07:28:00 GMT", datetime(2015, 10, 21, 7, 28, tzinfo=UTC), id="http-date"
    ),
    pytest.param("2030-01-01T00:00:00", datetime(2030, 1, 1, tzinfo=UTC), id="iso-string"),
    pytest.param("garbage", NOW, id="bad-string-is-now"),
    pytest.param(float("inf"), None, id="infinite-never"),
    pytest.param(timedelta.max, None, id="timedelta-max-never"),
    pytest.param(10**15, None, id="past-datetime-max-never"),
]


@pytest.mark.parametrize(("expire_after", "expected"), EXPIRY_CASES)
def test_get_expiration_datetime(expire_after: Any, expected: datetime | None) -> None:
    assert expiration_datetime(expire_after, NOW) == expected


def test_negative_timedelta_means_expired_that_long_ago() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert expiration_datetime(timedelta(seconds=-2), now) == now - timedelta(seconds=2)


def test_get_expiration_datetime_is_relative_to_now() -> None:
    later = NOW + timedelta(hours=5)
    assert expiration_datetime(60, later) == later + timedelta(seconds=60)


# --- compile_url_patterns / get_url_expiration -------------------------------------------

URL_CASES: list[Any] = [
    pytest.param({"site.com/api": 60}, "https://site.com/api", (True, 60), id="exact"),
    pytest.param(
        {"site.com/api": 60}, "https://site.com/api/users?page=2", (True, 60), id="implied-star"
    ),
    pytest.param({"site.com/api": 60}, "http://site.com/api/x", (True, 60), id="any-scheme"),
    pytest.param(
        {"https://site.com/api": 60},
        "http://site.com/api/x",
        (True, 60),
        id="pattern-scheme-dropped",
    ),
    pytest.param({"site.com/api*": 60}, "https://site.com/apis", (True, 60), id="explicit-star"),
    pytest.param(
        {"SITE.com/API": 60}, "https://site.com/api/v1", (True, 60), id="case-insensitive"
    ),
    pytest.param({"site.com/api": 60}, "https://site.com/other", (False, None), id="other-path"),
    pytest.param({"site.com": 60}, "https://notsite.com/", (False, None), id="anchored-at-host"),
    pytest.param({"*.site.com": 60}, "https://img.site.com/a.png", (True, 60), id="glob-subdomain"),
    pytest.param({"*.site.com": 60}, "https://site.com/a.png", (False, None), id="glob-needs-dot"),
    pytest.param(
        {"site.com/*/static": 60}, "https://site.com/v2/static/a.css", (True, 60), id="glob-middle"
    ),
    pytest.param(
        {"site.com/api": 60, "site.com": 5}, "https://site.com/api/x", (True, 60), id="first-wins"
    ),
    pytest.param(
        {"site.com": 5, "site.com/api": 60}, "https://site.com/api/x", (True, 5), id="order-matters"
    ),
    pytest.param(
        {"site.com/api": 60, "site.com": 5}, "https://site.com/img", (True, 5), id="falls-through"
    ),
    pytest.param(
        {re.compile(r"/v\d+/users"): 30}, "https://api.site.com/v2/users/1", (True, 30), id="regex"
    ),
    pytest.param(
        {re.compile(r"^https://"): 30}, "https://site.com/", (True, 30), id="regex-sees-scheme"
    ),
    pytest.param(
        {re.compile(r"/v\d+/users"): 30}, "https://site.com/users", (False, None), id="regex-miss"
    ),
    pytest.param(
        {"site.com": DO_NOT_CACHE}, "https://site.com/x", (True, DO_NOT_CACHE), id="do-not-cache"
    ),
    pytest.param({"site.com": 60}, None, (False, None), id="no-url"),
    pytest.param({"site.com": 60}, "", (False, None), id="empty-url"),
    pytest.param({}, "https://site.com/", (False, None), id="no-patterns"),
]


@pytest.mark.parametrize(("patterns", "url", "expected"), URL_CASES)
def test_get_url_expiration(patterns: dict[Any, Any], url: str | None, expected: Any) -> None:
    assert match_url_expiration(url, compile_url_patterns(patterns)) == expected


def test_compile_url_patterns_keeps_order_and_values() -> None:
    regex = re.compile("x")
    patterns: dict[Any, Any] = {"b.com": 1, "a.com": "2030-01-01", regex: timedelta(1)}
    compiled = compile_url_patterns(patterns)
    assert [p.pattern for p in compiled] == ["b.com", "a.com", regex]
    assert compiled[1].expire_after == datetime(2030, 1, 1, tzinfo=UTC)  # validated and parsed
    assert compiled[2].regex is regex


@pytest.mark.parametrize("patterns", [None, {}, []], ids=["none", "empty-dict", "empty-list"])
def test_compile_url_patterns_empty(patterns: Any) -> None:
    assert compile_url_patterns(patterns) == ()


def test_compile_url_patterns_accepts_compiled_rules() -> None:
    patterns: dict[Any, Any] = {"site.com": 60}
    compiled = compile_url_patterns(patterns)
    assert compile_url_patterns(list(compiled)) == compiled
    assert isinstance(compiled[0], ExpirationPattern)


@pytest.mark.parametrize(
    ("patterns", "error", "fragment"),
    [
        pytest.param({1: 60}, TypeError, "urls_expire_after key 1 has type int", id="int-key"),
        pytest.param({b"site.com": 60}, TypeError, "has type bytes", id="bytes-key"),
        pytest.param(
            {"site.com": "soon"}, ValueError, "urls_expire_after['site.com']='soon'", id="bad-value"
        ),
        pytest.param({"site.com": True}, TypeError, "is a bool", id="bool-value"),
        pytest.param([("site.com", 60)], TypeError, "is not a mapping", id="list-of-pairs"),
    ],
)
def test_compile_url_patterns_rejects(patterns: Any, error: type[Exception], fragment: str) -> None:
    with pytest.raises(error) as info:
        compile_url_patterns(patterns)
    assert fragment in str(info.value)
    assert "accepted" in str(info.value)


# --- requests-cache's helpers -----------------------------------------------------------


@pytest.mark.parametrize(
    ("expire_after", "kwargs", "expected"),
    [
        pytest.param(60, {}, NOW + timedelta(seconds=60), id="seconds"),
        pytest.param(60, {"negative_delta": True}, NOW - timedelta(seconds=60), id="negative"),
        pytest.param("0", {}, NOW, id="integer-string"),
        pytest.param("-1", {}, NOW, id="negative-integer-string"),
        pytest.param(DO_NOT_CACHE, {}, None, id="do-not-cache"),
        pytest.param(NEVER_EXPIRE, {}, None, id="never"),
        pytest.param("garbage", {"ignore_invalid_httpdate": True}, None, id="ignored-garbage"),
        pytest.param(
            "Sun, 06 Nov 2094 08:49:37 GMT",
            {},
            datetime(2094, 11, 6, 8, 49, 37, tzinfo=UTC),
            id="http-date",
        ),
    ],
)
def test_requests_cache_get_expiration_datetime(
    expire_after: Any, kwargs: dict[str, Any], expected: datetime | None
) -> None:
    assert get_expiration_datetime(expire_after, NOW, **kwargs) == expected


def test_requests_cache_get_expiration_datetime_rejects_a_bad_date() -> None:
    with pytest.raises(ValueError, match="garbage"):
        get_expiration_datetime("garbage", NOW)


def test_requests_cache_get_url_expiration_takes_the_settings_mapping() -> None:
    patterns = {"site.com/api": 60, re.compile(r"/img/"): DO_NOT_CACHE}
    assert get_url_expiration("https://site.com/api/x", patterns) == 60
    assert get_url_expiration("https://cdn.org/img/a.png", patterns) == DO_NOT_CACHE
    assert get_url_expiration("https://other.org/", patterns) is None
    assert get_url_expiration(None, patterns) is None
