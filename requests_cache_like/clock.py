"""The clock the engine reads, and requests-cache's helpers that read it.

Policy decisions never read a clock: the engine reads this one and passes ``now`` in. These
names are also importable where requests-cache has them (``requests_cache_like.utcnow``,
``policy.utcnow``, ``policy.expiration.utcnow``, ``policy.expiration.get_expiration_seconds``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from math import ceil
from typing import Any

__all__ = ["add_tzinfo", "get_expiration_datetime", "get_expiration_seconds", "utcnow"]


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def add_tzinfo(value: datetime | None) -> datetime | None:
    """Return ``value`` with UTC as its time zone if it has none (as requests-cache does for
    datetimes read back from stores that drop the zone)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def get_expiration_datetime(
    expire_after: Any,
    start_time: datetime | None = None,
    negative_delta: bool = False,
    ignore_invalid_httpdate: bool = False,
) -> datetime | None:
    """Return the absolute expiry for ``expire_after`` counted from ``start_time`` (default:
    now), or None for never: requests-cache's helper, over the policy's
    :func:`~.policy.expiration.expiration_datetime`.

    An integer-like string (``"0"``, ``"-1"``, as some ``Expires`` headers are) means "now";
    another string must be an HTTP-date (``ValueError`` otherwise, unless
    ``ignore_invalid_httpdate``); ``negative_delta`` counts a delay backwards.
    """
    from .policy.expiration import (
        DO_NOT_CACHE,
        EXPIRE_IMMEDIATELY,
        expiration_datetime,
        parse_http_date,
    )

    if isinstance(expire_after, str) and expire_after.removeprefix("-").isdigit():
        expire_after = EXPIRE_IMMEDIATELY
    if isinstance(expire_after, str):
        parsed = parse_http_date(expire_after)
        if parsed is None and not ignore_invalid_httpdate:
            raise ValueError(f"Invalid HTTP date: {expire_after!r}")
        return parsed
    if expire_after is DO_NOT_CACHE or expire_after == DO_NOT_CACHE:
        return None
    if negative_delta and isinstance(expire_after, (int, float, timedelta)):
        if not isinstance(expire_after, timedelta):
            expire_after = timedelta(seconds=expire_after)
        expire_after = -expire_after
    return expiration_datetime(expire_after, start_time or utcnow())


def get_expiration_seconds(expire_after: Any) -> int:
    """Return ``expire_after`` as whole seconds from now (rounded up), or -1 for never
    (requests-cache's helper; an invalid HTTP-date string counts as "now")."""
    from .policy.expiration import NEVER_EXPIRE

    now = utcnow()
    expires = get_expiration_datetime(expire_after, now, ignore_invalid_httpdate=True)
    if expires is None:
        return NEVER_EXPIRE
    return ceil((expires - now).total_seconds())
