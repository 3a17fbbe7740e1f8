"""Hostile headers through a real session: whatever caching fields an origin or a caller
sends, ``CachedSession.get()`` answers (never raises) with the right body, in both modes.

The origin is ``requests_mock.Mocker`` (never the network): a 200 with the drawn fields and
the body, or, to a request carrying ``If-None-Match`` / ``If-Modified-Since``, a 304 with
other drawn fields. Each example runs a miss, a second request (a hit or a revalidation), a
request with hostile fields of its own after the clock moved, a ``refresh=True`` revalidation
(answered 304) and a last request. The clock is frozen with time_machine; nothing sleeps.
Examples are derandomized and bounded (see tests/header_strategies.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import requests_mock
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from requests_cache_like import CachedSession
from requests_cache_like.concurrency import REFRESH_POOL
from requests_cache_like.policy import standards_mode
from requests_cache_like.settings import CacheSettings, RequestOptions

from ..header_strategies import bounded, format_http_date, request_headers, response_headers

UTC = timezone.utc
URL = "http://origin.test/resource"
BODY = "the representation"
START = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
#: Settings of each mode: override mode (requests-cache's rules, with and without response
#: directives) and standards mode (``cache_control=True`` without ``expire_after``).
MODES: dict[str, list[dict[str, Any]]] = {
    "override": [
        {},
        {"cache_control": True, "expire_after": 60},
        {"expire_after": 60, "stale_if_error": True, "stale_while_revalidate": 30},
    ],
    "standards": [
        {"cache_control": True},
        {"cache_control": True, "stale_if_error": True, "stale_while_revalidate": 60},
        {"cache_control": True, "always_revalidate": True},
    ],
}
#: A validator the origin adds unless the drawn fields carry their own, so most examples
#: can be revalidated (and answered 304).
_validators = st.sampled_from(
    [{"ETag": '"v1"'}, {"Last-Modified": format_http_date(START - timedelta(days=1))}, {}]
)
#: How far the clock moves before the third request.
_elapsed = st.sampled_from([0, 1, 59, 61, 3600, 86400, 30 * 365 * 86400]).map(
    lambda seconds: timedelta(seconds=seconds)
)


class Origin:
    """A requests_mock callback: 304 with ``not_modified`` to a conditional request, else 200
    with ``fields`` and :data:`BODY`."""

    def __init__(self, fields: Mapping[str, str], not_modified: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        self.not_modified = dict(not_modified)

    def __call__(self, request: Any, context: Any) -> str:
        if "If-None-Match" in request.headers or "If-Modified-Since" in request.headers:
            context.status_code = 304
            context.headers.update(self.not_modified)
            return ""
        context.status_code = 200
        context.headers.update(self.fields)
        return BODY


def check(response: requests.Response) -> None:
    """The right answer: the body, or (to the caller's own conditional or only-if-cached
    request) a bodiless 304 or a 504."""
    assert response.status_code in (200, 304, 504), response.status_code
    if response.status_code == 200:
        assert response.text == BODY


def run_exchanges(
    settings: Mapping[str, Any],
    fields: Mapping[str, str],
    not_modified: Mapping[str, str],
    later_request: Mapping[str, str],
    elapsed: timedelta,
) -> None:
    """A miss, a second request, a hostile request after ``elapsed``, a refresh answered 304
    and a last request, through one memory-backed session."""
    session = CachedSession(backend="memory", **settings)
    try:
        with (
            time_machine.travel(START, tick=False) as clock,
            requests_mock.Mocker() as mock,
        ):
            mock.get(URL, text=Origin(fields, not_modified))
            check(session.get(URL))
            check(session.get(URL))
            clock.shift(elapsed)
            check(session.get(URL, headers=dict(later_request)))
            check(session.get(URL, refresh=True))
            check(session.get(URL))
            assert REFRESH_POOL.wait_idle(timeout=30), "background refresh hung"
    finally:
        session.close()


@pytest.mark.parametrize("mode", sorted(MODES))
def test_hostile_headers_never_make_get_raise(mode: str) -> None:
    @bounded(250)
    @given(
        settings=st.sampled_from(MODES[mode]),
        validator=_validators,
        fields=response_headers(http_safe=True),
        not_modified=response_headers(http_safe=True),
        later_request=request_headers(http_safe=True),
        elapsed=_elapsed,
    )
    def exchange(
        settings: dict[str, Any],
        validator: dict[str, str],
        fields: dict[str, str],
        not_modified: dict[str, str],
        later_request: dict[str, str],
        elapsed: timedelta,
    ) -> None:
        run_exchanges(settings, {**validator, **fields}, not_modified, later_request, elapsed)

    exchange()


def test_the_modes_are_the_ones_named() -> None:
    for mode, variants in MODES.items():
        for settings in variants:
            standards = standards_mode(URL, CacheSettings(**settings), RequestOptions())
            assert standards is (mode == "standards"), settings


# --- regressions: fields that made get() raise --------------------------------------------

REGRESSIONS = [
    pytest.param(
        {"Expires": "Fri, 31 Dec 9999 23:59:59 GMT", "Date": "Sun, 06 Nov 1994 08:49:37 GMT"},
        id="expires-9999-old-date",
    ),
    pytest.param({"Age": "99999999999999999999", "Cache-Control": "max-age=60"}, id="huge-age"),
    pytest.param({"Cache-Control": "max-age=99999999999999999999"}, id="huge-max-age"),
    pytest.param({"Cache-Control": f"max-age={'9' * 5000}"}, id="max-age-5000-digits"),
    pytest.param(
        {"Date": "Mon, 01 Jan 0001 00:00:00 GMT", "Cache-Control": "max-age=60"}, id="date-0001"
    ),
    pytest.param({"Expires": "Sat, 01 Jan 10000 00:00:00 GMT"}, id="expires-year-10000"),
]


@pytest.mark.parametrize("headers", REGRESSIONS)
@pytest.mark.parametrize(
    "settings",
    [{}, {"cache_control": True, "expire_after": 60}, {"cache_control": True}],
    ids=["override", "override-cache-control", "standards"],
)
def test_regression_headers_on_miss_hit_and_304(
    headers: dict[str, str], settings: dict[str, Any]
) -> None:
    """The fields on the 200 and on the 304 that revalidates it, and in the request."""
    request = {"Cache-Control": headers.get("Cache-Control", "max-stale=99999999999999999999")}
    run_exchanges(settings, {"ETag": '"v1"', **headers}, headers, request, timedelta(seconds=61))
