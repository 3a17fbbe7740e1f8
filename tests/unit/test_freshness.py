"""Freshness and age arithmetic of standards mode (policy/freshness.py).

- HTTP-date parsing: RFC 9110 §5.6.7 (IMF-fixdate, obsolete RFC 850 and asctime forms).
- ``Age``: RFC 9111 §5.1 (first member of a list, invalid ignored, §1.2.2 cap at 2**31).
- Corrected initial age: RFC 9111 §4.2.3.
- Freshness lifetime: RFC 9111 §4.2.1 (max-age, Expires - Date, s-maxage only for shared
  caches) and §4.2.2 (heuristics), RFC 9110 §15.1 (heuristically cacheable statuses).

Every time is explicit; nothing reads a clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from requests.structures import CaseInsensitiveDict

from requests_cache_like.policy.directives import MAX_DELTA_SECONDS, parse_cache_control
from requests_cache_like.policy.freshness import (
    HEURISTIC_LIMIT,
    age_value,
    corrected_initial_age,
    freshness_lifetime,
    parse_http_date_strict,
)

UTC = timezone.utc
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)  # a Wednesday
#: RFC 9110 §5.6.7's own example instant, in its three spellings.
EXAMPLE = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def http_date(moment: datetime) -> str:
    """IMF-fixdate of ``moment`` (what an origin would send)."""
    return format_datetime(moment, usegmt=True)


# --- parse_http_date_strict: RFC 9110 §5.6.7 ---------------------------------------------

VALID_DATES: list[Any] = [
    # The three forms a recipient must accept.
    pytest.param("Sun, 06 Nov 1994 08:49:37 GMT", EXAMPLE, id="imf-fixdate"),
    pytest.param("Sunday, 06-Nov-94 08:49:37 GMT", EXAMPLE, id="rfc850"),
    pytest.param("Sun Nov  6 08:49:37 1994", EXAMPLE, id="asctime-space-padded-day"),
    pytest.param("Sun Nov 06 08:49:37 1994", EXAMPLE, id="asctime-zero-padded-day"),
    # Day and month names, and GMT, in any letter case.
    pytest.param("sun, 06 nov 1994 08:49:37 gmt", EXAMPLE, id="imf-lower-case"),
    pytest.param("SUN, 06 NOV 1994 08:49:37 GMT", EXAMPLE, id="imf-upper-case"),
    pytest.param("SUNDAY, 06-nOv-94 08:49:37 Gmt", EXAMPLE, id="rfc850-mixed-case"),
    pytest.param("sun NOV  6 08:49:37 1994", EXAMPLE, id="asctime-mixed-case"),
    # Surrounding whitespace is not part of a field value.
    pytest.param("  Sun, 06 Nov 1994 08:49:37 GMT ", EXAMPLE, id="imf-outer-whitespace"),
    pytest.param("Wed, 01 May 2024 12:00:00 GMT", NOW, id="imf-now"),
    pytest.param(
        "Thu, 29 Feb 2024 23:59:59 GMT",
        datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
        id="imf-leap-day",
    ),
]

INVALID_DATES: list[Any] = [
    pytest.param(None, id="none"),
    pytest.param("", id="empty"),
    pytest.param("0", id="zero"),
    pytest.param("-1", id="minus-one"),
    pytest.param("1714564800", id="epoch-seconds"),
    pytest.param("2024-05-01T12:00:00Z", id="iso-8601"),
    # Only GMT: other zone names and numeric offsets are not HTTP-dates.
    pytest.param("Sun, 06 Nov 1994 08:49:37 UTC", id="imf-utc"),
    pytest.param("Sun, 06 Nov 1994 08:49:37 AEST", id="imf-aest"),
    pytest.param("Sun, 06 Nov 1994 08:49:37 +0000", id="imf-numeric-offset"),
    pytest.param("Sun, 06 Nov 1994 08:49:37", id="imf-no-zone"),
    pytest.param("Sunday, 06-Nov-94 08:49:37 UTC", id="rfc850-utc"),
    # IMF-fixdate is fixed-length: four-digit year, two-digit day, single spaces.
    pytest.param("Sun, 06 Nov 94 08:49:37 GMT", id="imf-two-digit-year"),
    pytest.param("Sun, 6 Nov 1994 08:49:37 GMT", id="imf-one-digit-day"),
    pytest.param("Sun 06 Nov 1994 08:49:37 GMT", id="imf-no-comma"),
    pytest.param("Sun,  06 Nov 1994 08:49:37 GMT", id="imf-two-spaces-after-comma"),
    pytest.param("Sun, 06 Nov 1994  08:49:37 GMT", id="imf-two-spaces-before-time"),
    pytest.param("Sun, 06-Nov-1994 08:49:37 GMT", id="imf-dashes"),
    pytest.param("Sun, 06 Nov 1994 08.49.37 GMT", id="imf-time-with-periods"),
    pytest.param("Sun, 06 Nov 1994 8:49:37 GMT", id="imf-one-digit-hour"),
    pytest.param("Sun, 06 Nov 1994 08:49 GMT", id="imf-no-seconds"),
    pytest.param("Sunday, 06 Nov 1994 08:49:37 GMT", id="imf-long-day-name"),
    pytest.param("Sun, 06 November 1994 08:49:37 GMT", id="imf-long-month-name"),
    pytest.param("Sun, 06 Foo 1994 08:49:37 GMT", id="imf-unknown-month"),
    pytest.param("Xyz, 06 Nov 1994 08:49:37 GMT", id="imf-unknown-day"),
    pytest.param("Wed, 31 Feb 2024 08:49:37 GMT", id="imf-no-such-day"),
    pytest.param("Sun, 06 Nov 1994 24:00:00 GMT", id="imf-hour-24"),
    pytest.param("Sun, 06 Nov 1994 08:49:37 GMT junk", id="imf-trailing-junk"),
    # Two values folded into one field: not a single HTTP-date.
    pytest.param(
        "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT", id="two-dates-joined"
    ),
    # RFC 850 has a long day name and a two-digit year; asctime has no comma and no zone.
    pytest.param("Sun, 06-Nov-94 08:49:37 GMT", id="rfc850-short-day-name"),
    pytest.param("Sunday, 06-Nov-1994 08:49:37 GMT", id="rfc850-four-digit-year"),
    pytest.param("Sunday, 06 Nov 94 08:49:37 GMT", id="rfc850-spaces"),
    pytest.param("Sun Nov 6 08:49:37 1994", id="asctime-unpadded-day"),
    pytest.param("Sun Nov  6 08:49:37 1994 GMT", id="asctime-with-zone"),
    pytest.param("Sun, Nov  6 08:49:37 1994", id="asctime-with-comma"),
]


@pytest.mark.parametrize(("value", "expected"), VALID_DATES)
def test_parse_http_date_valid(value: str, expected: datetime) -> None:
    assert parse_http_date_strict(value, NOW) == expected


@pytest.mark.parametrize("value", INVALID_DATES)
def test_parse_http_date_invalid(value: str | None) -> None:
    assert parse_http_date_strict(value, NOW) is None


def test_parse_http_date_leap_second() -> None:
    """Which instant a leap second maps to is unspecified; that it is a date is not."""
    assert parse_http_date_strict("Sat, 31 Dec 2016 23:59:60 GMT", NOW) is not None


def test_parse_http_date_is_aware_utc() -> None:
    parsed = parse_http_date_strict("Sun, 06 Nov 1994 08:49:37 GMT")
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)


RFC850_CENTURY: list[Any] = [
    # §5.6.7: a two-digit year more than 50 years in the future is the most recent past
    # year with those digits.
    pytest.param("Monday, 01-Jan-24 00:00:00 GMT", NOW, 2024, id="this-year"),
    pytest.param("Tuesday, 01-Jan-30 00:00:00 GMT", NOW, 2030, id="near-future"),
    pytest.param("Sunday, 06-Nov-94 08:49:37 GMT", NOW, 1994, id="far-future-is-past"),
    pytest.param("Friday, 31-Dec-99 23:59:59 GMT", NOW, 1999, id="99-is-1999"),
    pytest.param("Saturday, 01-Jan-00 00:00:00 GMT", NOW, 2000, id="00-is-2000"),
    pytest.param("Monday, 01-Jan-74 00:00:00 GMT", NOW, 2074, id="under-50-years-ahead"),
    pytest.param(
        "Sunday, 01-Dec-74 00:00:00 GMT",
        NOW,
        1974,
        id="over-50-years-ahead-same-year",
    ),
    # The rule follows the clock it is given, across a century boundary too.
    pytest.param(
        "Wednesday, 01-Jan-98 00:00:00 GMT",
        datetime(2099, 6, 1, tzinfo=UTC),
        2098,
        id="late-century-clock",
    ),
    pytest.param(
        "Sunday, 01-Jan-50 00:00:00 GMT", datetime(1990, 6, 1, tzinfo=UTC), 1950, id="clock-in-1990"
    ),
]


@pytest.mark.parametrize(("value", "now", "year"), RFC850_CENTURY)
def test_rfc850_two_digit_year(value: str, now: datetime, year: int) -> None:
    parsed = parse_http_date_strict(value, now)
    assert parsed is not None
    assert parsed.year == year


# --- age_value: RFC 9111 §5.1 -------------------------------------------------------------

AGE_CASES: list[Any] = [
    pytest.param({}, 0, id="absent"),
    pytest.param({"Age": "0"}, 0, id="zero"),
    pytest.param({"Age": "60"}, 60, id="seconds"),
    pytest.param({"age": "60"}, 60, id="name-case"),
    pytest.param({"Age": " 60 "}, 60, id="whitespace"),
    pytest.param({"Age": "007"}, 7, id="leading-zeros"),
    # A list: the first member counts, the rest are discarded.
    pytest.param({"Age": "60, 30"}, 60, id="list-first-member"),
    pytest.param({"Age": "30,600"}, 30, id="list-no-space"),
    pytest.param({"Age": "abc, 60"}, 0, id="list-invalid-first-member"),
    # Anything but a non-negative integer is ignored.
    pytest.param({"Age": ""}, 0, id="empty"),
    pytest.param({"Age": "-5"}, 0, id="negative"),
    pytest.param({"Age": "1.5"}, 0, id="float"),
    pytest.param({"Age": "1e3"}, 0, id="exponent"),
    pytest.param({"Age": "abc"}, 0, id="text"),
    pytest.param({"Age": "60;foo=bar"}, 0, id="parameters"),
    pytest.param({"Age": "60 s"}, 0, id="unit"),
    pytest.param({"Age": "\u00b2"}, 0, id="non-ascii-digit"),
    # §1.2.2: too large to represent is taken as 2**31.
    pytest.param({"Age": "2147483648"}, MAX_DELTA_SECONDS, id="exactly-2-31"),
    pytest.param({"Age": "99999999999999999999"}, MAX_DELTA_SECONDS, id="huge"),
]


@pytest.mark.parametrize(("headers", "expected"), AGE_CASES)
def test_age_value(headers: dict[str, str], expected: int) -> None:
    assert age_value(CaseInsensitiveDict(headers)) == expected


# --- corrected_initial_age: RFC 9111 §4.2.3 ----------------------------------------------
#
# corrected_initial_age = max(apparent_age, Age + response_delay), where
# apparent_age = max(0, response_time - Date) and response_delay = response_time - request_time.

INITIAL_AGE_CASES: list[Any] = [
    pytest.param({}, 0, 0, id="no-date-no-age-no-delay"),
    pytest.param({}, -3, 3, id="no-date-delay-only"),
    pytest.param({"Date": http_date(NOW)}, 0, 0, id="date-now"),
    # Apparent age wins when the origin's clock says the response is older.
    pytest.param({"Date": http_date(at(-100)), "Age": "5"}, -2, 100, id="apparent-age-wins"),
    # Age plus the request's round trip wins when it is larger.
    pytest.param({"Date": http_date(at(-10)), "Age": "30"}, -2, 32, id="age-plus-delay-wins"),
    pytest.param({"Age": "30"}, -2, 32, id="age-no-date"),
    # A Date in the future (origin clock ahead) gives no negative apparent age.
    pytest.param({"Date": http_date(at(3600))}, 0, 0, id="date-in-future"),
    pytest.param({"Date": http_date(at(3600)), "Age": "7"}, -1, 8, id="date-in-future-age"),
    # An invalid Date or Age is ignored, not fatal.
    pytest.param({"Date": "yesterday", "Age": "4"}, 0, 4, id="invalid-date"),
    pytest.param({"Date": http_date(at(-50)), "Age": "x"}, 0, 50, id="invalid-age"),
    # request_time after response_time (clock adjusted): no negative delay.
    pytest.param({"Age": "10"}, 5, 10, id="negative-delay-clamped"),
]


@pytest.mark.parametrize(("headers", "request_offset", "expected"), INITIAL_AGE_CASES)
def test_corrected_initial_age(headers: dict[str, str], request_offset: int, expected: int) -> None:
    """The request was sent ``request_offset`` seconds relative to the response (at NOW)."""
    age = corrected_initial_age(CaseInsensitiveDict(headers), at(request_offset), NOW)
    assert age == timedelta(seconds=expected)


# --- freshness_lifetime: RFC 9111 §4.2.1, §4.2.2 ------------------------------------------

DAY = 86400
LIFETIME_CASES: list[Any] = [
    # §4.2.1: max-age first (s-maxage is for shared caches only).
    pytest.param(200, {"Cache-Control": "max-age=60"}, 60, id="max-age"),
    pytest.param(200, {"Cache-Control": "max-age=0"}, 0, id="max-age-0"),
    pytest.param(200, {"Cache-Control": "max-age=abc"}, 0, id="max-age-invalid-is-stale"),
    pytest.param(
        200,
        {"Cache-Control": "max-age=60", "Expires": http_date(at(3600)), "Date": http_date(NOW)},
        60,
        id="max-age-beats-expires",
    ),
    pytest.param(
        200,
        {"Cache-Control": "max-age=60", "Last-Modified": http_date(at(-100 * DAY))},
        60,
        id="max-age-beats-heuristic",
    ),
    pytest.param(500, {"Cache-Control": "max-age=60"}, 60, id="max-age-any-status"),
    pytest.param(200, {"Cache-Control": "s-maxage=60"}, None, id="s-maxage-ignored"),
    pytest.param(
        200, {"Cache-Control": "s-maxage=600, max-age=60"}, 60, id="s-maxage-not-preferred"
    ),
    pytest.param(
        200,
        {"Cache-Control": "s-maxage=600", "Expires": http_date(at(60)), "Date": http_date(NOW)},
        60,
        id="s-maxage-does-not-beat-expires",
    ),
    # §4.2.1: Expires minus Date (the origin's clock on both), not minus response time.
    pytest.param(
        200, {"Expires": http_date(at(60)), "Date": http_date(NOW)}, 60, id="expires-minus-date"
    ),
    pytest.param(
        200,
        {"Expires": http_date(at(3600 + 60)), "Date": http_date(at(3600))},
        60,
        id="expires-relative-to-date-not-response-time",
    ),
    pytest.param(200, {"Expires": http_date(at(90))}, 90, id="expires-no-date-uses-response-time"),
    pytest.param(
        200,
        {"Expires": http_date(at(90)), "Date": "garbage"},
        90,
        id="expires-invalid-date-uses-response-time",
    ),
    pytest.param(
        200, {"Expires": http_date(at(-60)), "Date": http_date(NOW)}, 0, id="expires-in-past"
    ),
    pytest.param(404, {"Expires": http_date(at(60))}, 60, id="expires-any-status"),
    pytest.param(599, {"Expires": http_date(at(60))}, 60, id="expires-unknown-status"),
    # §5.3: an invalid Expires (notably "0") means already expired, and stops heuristics.
    pytest.param(200, {"Expires": "0"}, 0, id="expires-zero"),
    pytest.param(200, {"Expires": ""}, 0, id="expires-empty"),
    pytest.param(
        200,
        {"Expires": "tomorrow", "Last-Modified": http_date(at(-10 * DAY))},
        0,
        id="expires-invalid-beats-heuristic",
    ),
    pytest.param(200, {"Expires": "Thu, 02 May 2024 12:00:00 UTC"}, 0, id="expires-wrong-zone"),
    pytest.param(200, {"expires": http_date(at(60))}, 60, id="expires-name-case"),
    # §4.2.2: heuristic, 10% of Date - Last-Modified, at most a day.
    pytest.param(
        200,
        {"Last-Modified": http_date(at(-1000)), "Date": http_date(NOW)},
        100,
        id="heuristic-10-percent",
    ),
    pytest.param(
        200, {"Last-Modified": http_date(at(-1000))}, 100, id="heuristic-no-date-uses-response-time"
    ),
    pytest.param(
        200,
        {"Last-Modified": http_date(at(-2000)), "Date": http_date(at(-1000))},
        100,
        id="heuristic-from-date-not-response-time",
    ),
    pytest.param(
        200,
        {"Last-Modified": http_date(at(-10 * DAY)), "Date": http_date(NOW)},
        DAY,
        id="heuristic-capped-at-one-day",
    ),
    pytest.param(
        200,
        {"Last-Modified": http_date(at(-10 * DAY - 3600))},
        HEURISTIC_LIMIT.total_seconds(),
        id="heuristic-cap-constant",
    ),
    pytest.param(
        200,
        {"Last-Modified": http_date(NOW), "Date": http_date(NOW)},
        0,
        id="heuristic-just-modified",
    ),
    pytest.param(
        200,
        {"Last-Modified": http_date(at(60)), "Date": http_date(NOW)},
        None,
        id="heuristic-last-modified-after-date",
    ),
    pytest.param(200, {"Last-Modified": "last week"}, None, id="heuristic-invalid-last-modified"),
    # Heuristics only for heuristically cacheable statuses (RFC 9110 §15.1), or public.
    pytest.param(404, {"Last-Modified": http_date(at(-1000))}, 100, id="heuristic-404"),
    pytest.param(301, {"Last-Modified": http_date(at(-1000))}, 100, id="heuristic-301"),
    pytest.param(501, {"Last-Modified": http_date(at(-1000))}, 100, id="heuristic-501"),
    pytest.param(302, {"Last-Modified": http_date(at(-1000))}, None, id="no-heuristic-302"),
    pytest.param(500, {"Last-Modified": http_date(at(-1000))}, None, id="no-heuristic-500"),
    pytest.param(201, {"Last-Modified": http_date(at(-1000))}, None, id="no-heuristic-201"),
    pytest.param(
        302,
        {"Cache-Control": "public", "Last-Modified": http_date(at(-1000))},
        100,
        id="heuristic-302-public",
    ),
    pytest.param(
        500,
        {"Cache-Control": "public", "Last-Modified": http_date(at(-1000))},
        100,
        id="heuristic-500-public",
    ),
    # No freshness information at all.
    pytest.param(200, {}, None, id="nothing"),
    pytest.param(200, {"Cache-Control": "public"}, None, id="public-without-last-modified"),
    pytest.param(200, {"Cache-Control": "no-cache"}, None, id="no-cache-only"),
    pytest.param(200, {"ETag": '"v1"', "Date": http_date(NOW)}, None, id="validator-only"),
]


@pytest.mark.parametrize(("status", "headers", "expected"), LIFETIME_CASES)
def test_freshness_lifetime(status: int, headers: dict[str, str], expected: float | None) -> None:
    """The response arrived at NOW."""
    fields = CaseInsensitiveDict(headers)
    directives = parse_cache_control(fields.get("Cache-Control"))
    lifetime = freshness_lifetime(status, fields, directives, NOW)
    assert lifetime == (None if expected is None else timedelta(seconds=expected))
