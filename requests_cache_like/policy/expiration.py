"""Expiration values: validation, conversion to an absolute time, and per-URL patterns."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from fnmatch import translate

from attrs import frozen

from ..clock import add_tzinfo, get_expiration_datetime, get_expiration_seconds, utcnow
from .freshness import parse_http_date as _parse_date

__all__ = [
    "DO_NOT_CACHE",
    "EXPIRE_IMMEDIATELY",
    "NEVER_EXPIRE",
    "ExpirationPattern",
    "ExpirationPatterns",
    "ExpirationTime",
    "add_tzinfo",
    "compile_url_patterns",
    "expiration_datetime",
    "get_expiration_datetime",
    "get_expiration_seconds",
    "get_url_expiration",
    "match_url_expiration",
    "parse_http_date",
    "utcnow",
    "validate_expire_after",
    "window_allows",
]

#: Never expire: the stored response is fresh forever.
NEVER_EXPIRE = -1
#: Store the response (if it has a validator) but revalidate it on every use.
EXPIRE_IMMEDIATELY = 0
#: Skip both reading from and writing to the cache. Same value as requests-cache 1.x.
DO_NOT_CACHE = 0x0D0E0200020704

ExpirationTime = None | int | float | str | datetime | timedelta
#: ``urls_expire_after``: ``{glob-or-regex: expire_after}``.
ExpirationPatterns = Mapping[str | re.Pattern[str], ExpirationTime]

_ACCEPTED = (
    "None, -1/NEVER_EXPIRE, 0/EXPIRE_IMMEDIATELY, DO_NOT_CACHE, a number of seconds >= 0, "
    "a datetime.timedelta, a datetime.datetime, or an HTTP-date/ISO-8601 string"
)


def window_allows(window: bool | int | float | timedelta | None, staleness: timedelta) -> bool:
    """True if a stale window setting (``True``: any, a number of seconds, or a timedelta)
    covers ``staleness``."""
    if window is None or window is False:
        return False
    if window is True:
        return True
    limit = window if isinstance(window, timedelta) else timedelta(seconds=window)
    return staleness <= limit


def parse_http_date(value: str) -> datetime | None:
    """Return an aware UTC datetime for a date a user wrote as an HTTP-date, or None.

    Lenient: :func:`.freshness.parse_http_date` with ``lenient=True``."""
    return _parse_date(value, lenient=True)


def _parse_time_string(value: str) -> datetime | None:
    parsed = parse_http_date(value)
    if parsed is not None:
        return parsed
    try:
        iso = datetime.fromisoformat(value)
    except ValueError:
        return None
    return iso if iso.tzinfo else iso.replace(tzinfo=timezone.utc)


def validate_expire_after(value: object, name: str = "expire_after") -> ExpirationTime:
    """Return ``value`` if it is a valid expiration time, else raise naming ``name``.

    Strings are parsed here, once, so a bad date fails when settings are built rather than on
    the first request.
    """
    if value is None or value is DO_NOT_CACHE:
        return value
    if isinstance(value, bool):
        raise TypeError(f"{name}={value!r} is a bool; accepted: {_ACCEPTED}")
    if isinstance(value, (int, float)):
        if value in (DO_NOT_CACHE, NEVER_EXPIRE) or value >= 0:
            return value
        raise ValueError(f"{name}={value!r} is negative; accepted: {_ACCEPTED}")
    if isinstance(value, timedelta):
        return value  # a negative one means "expired that long ago", as in requests-cache
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str):
        parsed = _parse_time_string(value)
        if parsed is None:
            raise ValueError(f"{name}={value!r} is not a date or time; accepted: {_ACCEPTED}")
        return parsed
    raise TypeError(f"{name}={value!r} has type {type(value).__name__}; accepted: {_ACCEPTED}")


def expiration_datetime(expire_after: ExpirationTime, now: datetime) -> datetime | None:
    """Return the absolute expiry (aware UTC) for ``expire_after`` relative to ``now``.

    ``None`` means "never expires". :data:`DO_NOT_CACHE` must be handled by the caller.
    """
    if expire_after is None or expire_after == NEVER_EXPIRE:
        return None
    if isinstance(expire_after, datetime):
        return expire_after
    if isinstance(expire_after, str):
        return _parse_time_string(expire_after) or now
    try:
        if isinstance(expire_after, timedelta):
            return now + expire_after
        return now + timedelta(seconds=expire_after)
    except OverflowError:
        # float("inf"), timedelta.max or thousands of years: past datetime.max, never expires.
        return None


@frozen
class ExpirationPattern:
    """One ``urls_expire_after`` rule: the pattern as given, its compiled form, and the value."""

    pattern: str | re.Pattern[str]
    regex: re.Pattern[str]
    expire_after: ExpirationTime


def _compile(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    if isinstance(pattern, re.Pattern):
        return pattern
    if not isinstance(pattern, str):
        raise TypeError(
            f"urls_expire_after key {pattern!r} has type {type(pattern).__name__}; "
            "accepted: a glob string or a compiled re.Pattern"
        )
    # A glob is matched against the URL without its scheme; a trailing "*" is implied, so
    # "site.com/api" also matches "site.com/api/users?page=2".
    glob = pattern.split("://", 1)[-1].rstrip("*") + "*"
    return re.compile(translate(glob), re.IGNORECASE)


def compile_url_patterns(
    patterns: Mapping[str | re.Pattern[str], ExpirationTime] | Iterable[ExpirationPattern] | None,
) -> tuple[ExpirationPattern, ...]:
    """Validate and compile ``urls_expire_after`` in its given (first-match-wins) order."""
    if not patterns:
        return ()
    if not isinstance(patterns, Mapping):
        items = list(patterns)
        if all(isinstance(p, ExpirationPattern) for p in items):
            return tuple(items)
        raise TypeError(
            f"urls_expire_after={patterns!r} is not a mapping; accepted: a dict of "
            "{glob-or-regex: expire_after}"
        )
    return tuple(
        ExpirationPattern(
            pattern=key,
            regex=_compile(key),
            expire_after=validate_expire_after(value, f"urls_expire_after[{key!r}]"),
        )
        for key, value in patterns.items()
    )


def get_url_expiration(
    url: str | None,
    urls_expire_after: ExpirationPatterns | Iterable[ExpirationPattern] | None = None,
) -> ExpirationTime:
    """Return the ``expire_after`` of the first pattern that matches ``url``, or None
    (requests-cache's helper; ``urls_expire_after`` as given to a session, or compiled)."""
    matched, value = match_url_expiration(url, compile_url_patterns(urls_expire_after))
    return value if matched else None


def match_url_expiration(
    url: str | None, patterns: tuple[ExpirationPattern, ...]
) -> tuple[bool, ExpirationTime]:
    """Return ``(matched, expire_after)`` for the first pattern that matches ``url``."""
    if not url or not patterns:
        return False, None
    bare = url.split("://", 1)[-1]
    for rule in patterns:
        target = url if isinstance(rule.pattern, re.Pattern) else bare
        if (
            rule.regex.search(target)
            if isinstance(rule.pattern, re.Pattern)
            else (rule.regex.match(target))
        ):
            return True, rule.expire_after
    return False, None
