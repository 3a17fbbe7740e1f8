"""What the background cleanup may remove (policy/retention.py): one row per rule, with an
explicit ``now``; and proof that it agrees with ``plan_request`` on which stale responses can
still be served."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from requests_cache_like.policy import PlanAction, build_rules, plan_request
from requests_cache_like.policy.retention import removable
from requests_cache_like.policy.rules import NO_OPTIONS
from requests_cache_like.settings import CacheSettings

from .stored import Stored

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
URL = "https://site.com/api/items"
#: cache_control=True with an expire_after given: override mode reading response directives.
OVERRIDE_CC = {"cache_control": True, "expire_after": 60}
#: cache_control=True and no expire_after: standards mode.
STANDARDS = {"cache_control": True}
YEAR = 365 * 24 * 3600


def expired(by: float, headers: Mapping[str, str] | None = None) -> Stored:
    """Stored an hour ago, expired ``by`` seconds before NOW (negative: still fresh)."""
    expires = NOW - timedelta(seconds=by)
    return Stored(NOW - timedelta(hours=1), expires, headers or {})


NEVER = Stored(NOW - timedelta(days=9000), None)

# (id, settings, stored, removable at NOW)
CASES: list[tuple[str, dict[str, Any], Stored, bool]] = [
    ("never expires", {}, NEVER, False),
    ("fresh", {}, expired(-1), False),
    ("expired, no window", {}, expired(1), True),
    ("expires exactly now", {}, expired(0), True),
    ("stale_if_error=True keeps forever", {"stale_if_error": True}, expired(10 * YEAR), False),
    ("swr=True keeps forever", {"stale_while_revalidate": True}, expired(10 * YEAR), False),
    ("inside stale_if_error seconds", {"stale_if_error": 300}, expired(200), False),
    ("at the end of the window", {"stale_if_error": 300}, expired(300), False),
    ("past stale_if_error seconds", {"stale_if_error": 300}, expired(301), True),
    (
        "past swr timedelta",
        {"stale_while_revalidate": timedelta(minutes=5)},
        expired(400),
        True,
    ),
    (
        "the longer of the two windows",
        {"stale_if_error": 60, "stale_while_revalidate": 600},
        expired(300),
        False,
    ),
    (
        "response stale-if-error, directives read",
        OVERRIDE_CC,
        expired(300, {"Cache-Control": "max-age=60, stale-if-error=600"}),
        False,
    ),
    (
        "response stale-if-error, directives not read",
        {"expire_after": 60},
        expired(300, {"Cache-Control": "max-age=60, stale-if-error=600"}),
        True,
    ),
    (
        "response stale-while-revalidate, standards",
        STANDARDS,
        expired(30, {"Cache-Control": "max-age=60, stale-while-revalidate=60"}),
        False,
    ),
    (
        "past the response's window",
        STANDARDS,
        expired(90, {"Cache-Control": "max-age=60, stale-while-revalidate=60"}),
        True,
    ),
    (
        "standards: must-revalidate has no window",
        {**STANDARDS, "stale_if_error": True},
        expired(1, {"Cache-Control": "max-age=60, must-revalidate"}),
        True,
    ),
    (
        "standards: no-cache has no window",
        {**STANDARDS, "stale_while_revalidate": True},
        expired(1, {"Cache-Control": "no-cache", "ETag": '"v1"'}),
        True,
    ),
    (
        "override: the session's windows apply whatever the response says",
        {**OVERRIDE_CC, "stale_if_error": True},
        expired(YEAR, {"Cache-Control": "max-age=60, must-revalidate"}),
        False,
    ),
    (
        "standards: a validator keeps nothing",
        STANDARDS,
        expired(1, {"ETag": '"v1"', "Last-Modified": "Wed, 01 May 2024 00:00:00 GMT"}),
        True,
    ),
    (
        "override: a validator keeps nothing",
        {},
        expired(1, {"ETag": '"v1"'}),
        True,
    ),
]


@pytest.mark.parametrize(
    ("settings", "stored", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_removable(settings: dict[str, Any], stored: Stored, expected: bool) -> None:
    rules = build_rules("GET", URL, CacheSettings(**settings), NO_OPTIONS)
    assert removable(stored, rules, NOW) is expected


EXPIRED = [c for c in CASES if c[2].expires is not None and c[2].expires <= NOW]


@pytest.mark.parametrize(
    ("settings", "stored"), [c[1:3] for c in EXPIRED], ids=[c[0] for c in EXPIRED]
)
def test_removable_is_what_no_stale_window_can_serve(
    settings: dict[str, Any], stored: Stored
) -> None:
    """An expired response is kept exactly while plan_request could still serve it under a
    stale window: stale while revalidating, or as the fallback when the origin fails."""
    rules = build_rules("GET", URL, CacheSettings(**settings), NO_OPTIONS)
    plan = plan_request({}, stored, rules, NOW)
    servable = plan.action is PlanAction.SERVE_STALE_AND_REFRESH or plan.stale_fallback
    assert removable(stored, rules, NOW) is (not servable)


def test_read_only_settings_do_not_matter_to_the_policy() -> None:
    """The policy says what may go; whether a session deletes at all is the scheduler's
    business (a read-only session removes nothing: see tests/integration/test_cleanup.py)."""
    rules = build_rules("GET", URL, CacheSettings(read_only=True), NO_OPTIONS)
    assert removable(expired(1), rules, NOW)
