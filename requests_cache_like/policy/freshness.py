"""Freshness and age of stored responses (RFC 9111 §4.2), for standards mode.

Plain functions over header mappings and explicit times: nothing here reads a clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Protocol

from .directives import MAX_DELTA_SECONDS, CacheDirectives, bounded_int

__all__ = [
    "EARLIEST",
    "HEURISTICALLY_CACHEABLE",
    "HEURISTIC_FRACTION",
    "HEURISTIC_LIMIT",
    "LATEST",
    "MAX_DELTA",
    "UNDERSTOOD_STATUSES",
    "age_header",
    "age_value",
    "corrected_initial_age",
    "current_age",
    "freshness_lifetime",
    "parse_http_date",
    "parse_http_date_strict",
    "shift",
]

#: RFC 9110 §15.1: status codes whose responses are heuristically cacheable.
HEURISTICALLY_CACHEABLE = frozenset({200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501})
#: Final status codes whose caching semantics this cache implements (RFC 9111 §5.2.2.3,
#: ``must-understand``): the heuristically cacheable ones and the other codes RFC 9110 defines.
UNDERSTOOD_STATUSES = HEURISTICALLY_CACHEABLE | frozenset(
    {
        *range(200, 208),
        302,
        303,
        307,
        *range(400, 418),
        421,
        422,
        426,
        *range(500, 506),
    }
)
#: RFC 9111 §4.2.2: a typical heuristic is a fraction of the time since Last-Modified.
HEURISTIC_FRACTION = 0.1
#: Upper bound of a heuristic lifetime, so a very old Last-Modified cannot pin a response
#: for months.
HEURISTIC_LIMIT = timedelta(days=1)
#: RFC 9111 §1.2.2: the largest delta-seconds a cache needs to represent; ages and freshness
#: lifetimes are capped at it, however far apart the dates they come from are.
MAX_DELTA = timedelta(seconds=MAX_DELTA_SECONDS)
#: The range of times the policy computes with (aware UTC).
EARLIEST = datetime.min.replace(tzinfo=timezone.utc)
LATEST = datetime.max.replace(tzinfo=timezone.utc)

#: RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is in the past century.
_FIFTY_YEARS = timedelta(days=50 * 365.25)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_DAY = r"(?:mon|tue|wed|thu|fri|sat|sun)"
_LONG_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_TIME = r"(\d\d):(\d\d):(\d\d)"
# RFC 9110 §5.6.7: the three forms a recipient must accept, and nothing looser.
# re.ASCII: a DIGIT is 0-9 (RFC 5234), not any Unicode digit.
_FLAGS = re.IGNORECASE | re.ASCII
_IMF_FIXDATE = re.compile(rf"{_DAY}, (\d\d) ([a-z]{{3}}) (\d{{4}}) {_TIME} gmt", _FLAGS)
_RFC850 = re.compile(rf"{_LONG_DAY}, (\d\d)-([a-z]{{3}})-(\d\d) {_TIME} gmt", _FLAGS)
_ASCTIME = re.compile(rf"{_DAY} ([a-z]{{3}}) ([ \d]\d) {_TIME} (\d{{4}})", _FLAGS)


def shift(moment: datetime, delta: timedelta) -> datetime:
    """Return ``moment + delta``, held within the datetime range (:data:`EARLIEST`,
    :data:`LATEST`) instead of raising ``OverflowError``."""
    try:
        return moment + delta
    except OverflowError:
        return LATEST if delta > timedelta(0) else EARLIEST


def parse_http_date(
    value: str | None, now: datetime | None = None, *, lenient: bool = False
) -> datetime | None:
    """Return the time in an HTTP-date (RFC 9110 §5.6.7) as aware UTC, or None if it is not one.

    This is the project's one date parser. Header values are read strictly: IMF-fixdate, the
    obsolete RFC 850 and asctime forms, with any letter case; anything else (other time
    zones, missing comma, one-digit hours, several values) is invalid, and an invalid
    ``Expires`` means "already stale". A two-digit RFC 850 year more than 50 years ahead of
    ``now`` is taken as the previous century (§5.6.7); without ``now``, years 50-99 are
    19xx and 00-49 are 20xx (RFC 5322 §4.3).

    Never raises: a date a datetime cannot hold (year 0, year 10000, 30 February) is not
    an HTTP-date either.

    ``lenient=True`` is for dates a user writes (``expire_after="..."``): any RFC 5322 date
    is also accepted, with a numeric or named zone (``+0200``, ``EST``).
    """
    if not value:
        return None
    parsed = _parse_strict(value.strip(), now)
    if parsed is None and lenient:
        parsed = _parse_rfc5322(value)
    return parsed


def parse_http_date_strict(value: str | None, now: datetime | None = None) -> datetime | None:
    """:func:`parse_http_date` of a header value (strict)."""
    return parse_http_date(value, now)


def _parse_rfc5322(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        # A zone offset can carry 01 Jan 0001 +0100 out of the datetime range.
        return parsed.astimezone(timezone.utc)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _parse_strict(value: str, now: datetime | None) -> datetime | None:
    rfc850 = False
    match = _IMF_FIXDATE.fullmatch(value)
    if match:
        day, month, year, hour, minute, second = match.groups()
    else:
        match = _RFC850.fullmatch(value)
        if match:
            day, month, short_year, hour, minute, second = match.groups()
            if now is None:  # no clock to compare with: RFC 5322 §4.3's reading
                century = 2000 if int(short_year) < 50 else 1900
            else:
                century = now.year // 100 * 100
            year = str(century + int(short_year))
            rfc850 = True
        else:
            match = _ASCTIME.fullmatch(value)
            if not match:
                return None
            month, day, hour, minute, second, year = match.groups()
    month_number = _MONTHS.get(month.lower())
    if month_number is None:
        return None
    try:
        parsed = datetime(
            int(year),
            month_number,
            int(day),
            int(hour),
            int(minute),
            min(int(second), 59),  # a leap second (60) is valid HTTP but not a datetime
            tzinfo=timezone.utc,
        )
    except ValueError:
        return None
    if rfc850 and now is not None and parsed - now > _FIFTY_YEARS and parsed.year > 100:
        try:
            parsed = parsed.replace(year=parsed.year - 100)
        except ValueError:  # 29 February of a year whose previous century is no leap year
            return None
    return parsed


class AgedResponse(Protocol):
    """What the age of a stored response is computed from."""

    @property
    def created_at(self) -> datetime: ...
    @property
    def initial_age(self) -> float: ...


def current_age(stored: AgedResponse, now: datetime) -> timedelta:
    """Return the age of a stored response now (RFC 9111 §4.2.3): its corrected initial age
    plus the time it has been stored. Override mode stores no initial age (0)."""
    initial_age = stored.initial_age
    if not 0.0 <= initial_age <= MAX_DELTA_SECONDS:  # also NaN: not one this cache stored
        initial_age = MAX_DELTA_SECONDS if initial_age > 0 else 0.0
    return timedelta(seconds=initial_age) + max(timedelta(0), now - stored.created_at)


def age_header(stored: AgedResponse, now: datetime) -> str:
    """Return the ``Age`` field value of a stored response served ``now`` (RFC 9111 §5.1)."""
    return str(int(current_age(stored, now).total_seconds()))


def age_value(headers: Mapping[str, str]) -> int:
    """Return the ``Age`` a response arrived with, in seconds (RFC 9111 §5.1).

    Of a list, the first member counts; an invalid value (negative, fractional, not ASCII
    digits) is ignored (0), and one past 2**31 is 2**31 (§1.2.2).
    """
    raw = headers.get("Age")
    if raw is None:
        return 0
    first = raw.split(",", 1)[0].strip()
    if not (first.isascii() and first.isdigit()):
        return 0
    return bounded_int(first, MAX_DELTA_SECONDS)


def corrected_initial_age(
    headers: Mapping[str, str], request_time: datetime, response_time: datetime
) -> timedelta:
    """Return the age of a response when it was received (RFC 9111 §4.2.3).

    The larger of the apparent age (from ``Date``) and the ``Age`` header plus the time the
    request took, so clocks that disagree never make a response look younger than it is.
    Capped at 2**31 seconds (§1.2.2), however old the ``Date``.
    """
    date = parse_http_date(headers.get("Date"), response_time)
    apparent_age = max(timedelta(0), response_time - date) if date else timedelta(0)
    response_delay = max(timedelta(0), response_time - request_time)
    corrected_age_value = timedelta(seconds=age_value(headers)) + response_delay
    return min(max(apparent_age, corrected_age_value), MAX_DELTA)


def _expires_lifetime(headers: Mapping[str, str], response_time: datetime) -> timedelta:
    """``Expires`` minus ``Date`` (RFC 9111 §4.2.1), at most 2**31 seconds (§1.2.2); an
    invalid ``Expires`` (not an HTTP-date, or a year a datetime cannot hold) is already stale
    (§5.3)."""
    expires = parse_http_date(headers.get("Expires"), response_time)
    if expires is None:
        return timedelta(0)
    date = parse_http_date(headers.get("Date"), response_time) or response_time
    return min(max(timedelta(0), expires - date), MAX_DELTA)


def _heuristic_lifetime(headers: Mapping[str, str], response_time: datetime) -> timedelta | None:
    """A fraction of the time since ``Last-Modified`` (RFC 9111 §4.2.2), or None."""
    last_modified = parse_http_date(headers.get("Last-Modified"), response_time)
    if last_modified is None:
        return None
    date = parse_http_date(headers.get("Date"), response_time) or response_time
    if last_modified > date:
        return None
    return min((date - last_modified) * HEURISTIC_FRACTION, HEURISTIC_LIMIT)


def freshness_lifetime(
    status_code: int,
    headers: Mapping[str, str],
    directives: CacheDirectives,
    response_time: datetime,
) -> timedelta | None:
    """Return how long a response stays fresh (RFC 9111 §4.2.1), or None if it has no
    freshness information at all (it may be stored, but never used without validation).

    A private cache ignores ``s-maxage``. ``max-age`` beats ``Expires``; a heuristic from
    ``Last-Modified`` applies only to heuristically cacheable status codes, or when the
    response is marked ``public`` (§4.2.2).
    """
    if directives.max_age is not None:
        return timedelta(seconds=directives.max_age)
    if "Expires" in headers:
        return _expires_lifetime(headers, response_time)
    if status_code in HEURISTICALLY_CACHEABLE or directives.public:
        return _heuristic_lifetime(headers, response_time)
    return None
