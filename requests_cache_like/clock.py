"""The clock the engine reads, and requests-cache's helpers that read it.

Policy decisions never read a clock: the engine reads this one and passes ``now`` in. These
names are also importable where requests-cache has them (``requests_cache_like.utcnow``,
``policy.utcnow``, ``policy.expiration.utcnow``, ``policy.expiration.get_expiration_seconds``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from math import ceil
from typing import Any

__all__ = ["add_tzinfo", "get_expiration_seconds", "utcnow"]


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def add_tzinfo(value: datetime | None) -> datetime | None:
    """Return ``value`` with UTC as its time zone if it has none (as requests-cache does for
    datetimes read back from stores that drop the zone)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def get_expiration_seconds(expire_after: Any) -> int:
    """Return ``expire_after`` as whole seconds from now (rounded up), or -1 for never
    (requests-cache's helper; an invalid HTTP-date string counts as "now")."""
    from .policy.expiration import NEVER_EXPIRE, get_expiration_datetime

    now = utcnow()
    expires = get_expiration_datetime(expire_after, now)
    return NEVER_EXPIRE if expires is None else ceil((expires - now).total_seconds())
