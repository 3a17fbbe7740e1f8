"""Standards mode end to end: ``CachedSession(cache_control=True)`` without ``expire_after``
acts as an RFC 9111 private cache.

Origins are requests_mock adapters mounted on the session, the shared LocalOrigin, or (for
real connection failures) a tiny socket server that hangs up. The clock is frozen and moved
with time_machine; nothing sleeps. The tests on storage-sensitive behaviour (freshness,
``Age``, ``Vary``, invalidation) run on all seven backends, because they depend on fields
(``initial_age``, ``vary_group``, variant keys, stored request headers) that each backend
must round-trip.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
import requests
import time_machine
from requests.structures import CaseInsensitiveDict
from requests_mock import Adapter

from requests_cache_like import CachedSession
from requests_cache_like.concurrency import REFRESH_POOL
from requests_cache_like.demo import LocalOrigin

SessionFactory = Callable[..., CachedSession]
API = "http://api.test"
OTHER = "http://other.test"


@pytest.fixture
def start() -> datetime:
    """The frozen time the test starts at: now (so server-side TTLs stay plausible), in whole
    seconds (so HTTP dates, which have no fractions, compare exactly)."""
    return datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def clock(start: datetime) -> Iterator[time_machine.Traveller]:
    """Time frozen at ``start``; tests move it with ``clock.shift(seconds)``."""
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def wait_for_refreshes() -> None:
    assert REFRESH_POOL.wait_idle(timeout=30), "background refresh hung"


def mocked(session: CachedSession) -> Adapter:
    """Mount a requests_mock adapter for API and OTHER on ``session`` and return it."""
    adapter = Adapter()
    session.mount(f"{API}/", adapter)
    session.mount(f"{OTHER}/", adapter)
    return adapter


class Resource:
    """A mocked resource whose answer tests change between requests.

    A ``status`` response with ``headers`` and ``body``; with an ``etag``, a 304 carrying
    ``not_modified_headers`` to a matching If-None-Match; ``error`` is raised when set. The
    headers of every request are recorded.
    """

    def __init__(
        self,
        body: str = "body-v1",
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        not_modified_headers: dict[str, str] | None = None,
        status: int = 200,
    ) -> None:
        self.body = body
        self.headers = headers or {}
        self.etag = etag
        self.not_modified_headers = not_modified_headers or {}
        self.status = status
        self.error: Exception | None = None
        self.requests: list[CaseInsensitiveDict[str]] = []

    @property
    def calls(self) -> int:
        return len(self.requests)

    @property
    def last(self) -> CaseInsensitiveDict[str]:
        return self.requests[-1]

    def __call__(self, request: Any, context: Any) -> str:
        self.requests.append(CaseInsensitiveDict(request.headers))
        if self.error is not None:
            raise self.error
        etag = {"ETag": self.etag} if self.etag else {}
        if self.etag and request.headers.get("If-None-Match") == self.etag:
            context.status_code = 304
            context.headers = {**self.not_modified_headers, **etag}
            return ""
        context.status_code = self.status
        context.headers = {**self.headers, **etag}
        return self.body


def serve(session: CachedSession, resource: Resource, url: str, methods: str = "GET") -> None:
    adapter = mocked(session)
    for method in methods.split():
        adapter.register_uri(method, url, text=resource)


# -- 1. no freshness information: stored, validated before every use (all backends) ---------
def test_response_without_freshness_is_stored_and_revalidated_on_every_use(
    make_any_session: SessionFactory,
    origin: LocalOrigin,
    clock: time_machine.Traveller,
    unique_name: str,
) -> None:
    session = make_any_session(cache_control=True)
    path = f"/etag/{unique_name}"  # ETag, no Cache-Control/Expires/Last-Modified
    url = origin.url(path)
    before = origin.hits[path]
    first = session.get(url)
    assert first.from_cache is False
    assert session.cache.contains(url=url)
    for use in range(1, 3):
        clock.shift(1)
        again = session.get(url)
        # The origin was asked each time and said 304 (it only does for a matching
        # If-None-Match); the body came from the cache.
        assert origin.hits[path] == before + 1 + use
        assert (again.status_code, again.from_cache, again.revalidated) == (200, True, True)
        assert again.json() == first.json() == {"etag": f'"{unique_name}"'}


def test_response_without_freshness_or_validator_is_refetched(
    make_any_session: SessionFactory,
    origin: LocalOrigin,
    clock: time_machine.Traveller,
    unique_name: str,
) -> None:
    session = make_any_session(cache_control=True)
    url = origin.url(f"/json?standards={unique_name}")
    before = origin.hits["/json"]
    for use in range(1, 4):
        response = session.get(url)
        assert (response.from_cache, response.revalidated) == (False, False)
        assert origin.hits["/json"] == before + use
        clock.shift(1)


def test_mocked_no_freshness_sends_the_stored_etag(
    make_session: SessionFactory, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    resource = Resource(etag='"v1"')
    serve(session, resource, f"{API}/plain")
    session.get(f"{API}/plain")
    again = session.get(f"{API}/plain")  # no clock movement: still not fresh
    assert resource.last["If-None-Match"] == '"v1"'
    assert (again.from_cache, again.revalidated, again.text) == (True, True, "body-v1")


# -- 2. Age (all backends) ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("age", "date_offset", "initial"),
    [("30", None, 30), (None, 50, 50), ("20", 50, 50), ("45", 10, 45)],
    ids=["age-header", "date-in-the-past", "date-beats-smaller-age", "age-beats-apparent"],
)
def test_age_grows_with_the_clock_and_ends_freshness(
    make_any_session: SessionFactory,
    start: datetime,
    clock: time_machine.Traveller,
    age: str | None,
    date_offset: int | None,
    initial: int,
) -> None:
    headers = {"Cache-Control": "max-age=60"}
    if age is not None:
        headers["Age"] = age
    if date_offset is not None:
        headers["Date"] = http_date(start - timedelta(seconds=date_offset))
    session = make_any_session(cache_control=True)
    resource = Resource(headers=headers)
    url = f"{API}/aged"
    serve(session, resource, url)
    first = session.get(url)
    remaining = 60 - initial
    assert first.expires == start + timedelta(seconds=remaining)

    hit = session.get(url)
    assert (hit.from_cache, hit.headers["Age"]) == (True, str(initial))
    clock.shift(remaining - 1)
    hit = session.get(url)
    assert (hit.from_cache, hit.headers["Age"]) == (True, "59")
    assert resource.calls == 1
    clock.shift(1)  # now exactly max-age old: stale
    refetched = session.get(url)
    assert refetched.from_cache is False
    assert resource.calls == 2


# -- 3. heuristic freshness -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("modified_ago", "lifetime"),
    [(timedelta(seconds=1000), timedelta(seconds=100)), (timedelta(days=365), timedelta(days=1))],
    ids=["ten-percent", "capped-at-a-day"],
)
def test_heuristic_freshness_from_last_modified(
    make_session: SessionFactory,
    start: datetime,
    clock: time_machine.Traveller,
    modified_ago: timedelta,
    lifetime: timedelta,
) -> None:
    session = make_session(cache_control=True)
    resource = Resource(
        headers={"Date": http_date(start), "Last-Modified": http_date(start - modified_ago)}
    )
    serve(session, resource, f"{API}/heuristic")
    assert session.get(f"{API}/heuristic").expires == start + lifetime
    clock.shift(lifetime - timedelta(seconds=1))
    assert session.get(f"{API}/heuristic").from_cache is True
    assert resource.calls == 1
    clock.shift(1)
    # Stale now; Last-Modified is a validator, so the origin is asked conditionally.
    assert session.get(f"{API}/heuristic").from_cache is False
    assert resource.calls == 2
    assert resource.last["If-Modified-Since"] == http_date(start - modified_ago)


@pytest.mark.parametrize(
    ("status", "cache_control", "stored"),
    [(500, None, False), (503, None, False), (500, "max-age=60", True), (404, None, True)],
    ids=["500-heuristic", "503-heuristic", "500-explicit", "404-heuristic"],
)
def test_heuristic_freshness_only_for_heuristically_cacheable_statuses(
    make_session: SessionFactory,
    start: datetime,
    clock: time_machine.Traveller,
    status: int,
    cache_control: str | None,
    stored: bool,
) -> None:
    headers = {"Date": http_date(start), "Last-Modified": http_date(start - timedelta(hours=1))}
    if cache_control:
        headers["Cache-Control"] = cache_control
    session = make_session(cache_control=True)
    resource = Resource(headers=headers, status=status)
    serve(session, resource, f"{API}/status")
    assert session.get(f"{API}/status").status_code == status
    assert session.cache.contains(url=f"{API}/status") is stored
    clock.shift(5)
    again = session.get(f"{API}/status")
    assert (again.status_code, again.from_cache) == (status, stored)
    assert resource.calls == (1 if stored else 2)


# -- 4. Vary (all backends) -----------------------------------------------------------------
def _by_language(request: Any, context: Any) -> str:
    context.headers = {"Cache-Control": "max-age=600", "Vary": "Accept-Language"}
    return f"text in {request.headers.get('Accept-Language', 'nothing')}"


def test_vary_keeps_each_variant(
    make_any_session: SessionFactory, clock: time_machine.Traveller
) -> None:
    session = make_any_session(cache_control=True)
    adapter = mocked(session)
    matcher = adapter.register_uri("GET", f"{API}/page", text=_by_language)
    english, german = {"Accept-Language": "en"}, {"Accept-Language": "de"}
    assert session.get(f"{API}/page", headers=english).from_cache is False
    assert session.get(f"{API}/page", headers=german).from_cache is False
    clock.shift(10)
    for headers, text in [(english, "text in en"), (german, "text in de")] * 2:
        response = session.get(f"{API}/page", headers=headers)
        assert (response.from_cache, response.text) == (True, text)
    assert matcher.call_count == 2
    # Another spelling of the same languages selects the same variant (RFC 9111 §4.1).
    assert session.get(f"{API}/page", headers={"accept-language": "EN"}).text == "text in en"
    assert matcher.call_count == 2


def test_vary_request_without_the_field_does_not_match_a_variant_with_it(
    make_any_session: SessionFactory, clock: time_machine.Traveller
) -> None:
    session = make_any_session(cache_control=True)
    adapter = mocked(session)
    matcher = adapter.register_uri("GET", f"{API}/page", text=_by_language)
    session.get(f"{API}/page", headers={"Accept-Language": "en"})
    bare = session.get(f"{API}/page")
    assert (bare.from_cache, bare.text) == (False, "text in nothing")
    assert matcher.call_count == 2
    assert session.get(f"{API}/page").from_cache is True
    assert session.get(f"{API}/page", headers={"Accept-Language": "en"}).from_cache is True


def test_vary_lowercase_field_name_matches(
    make_any_session: SessionFactory, clock: time_machine.Traveller
) -> None:
    # Field names are case-insensitive: the stored request's headers must be looked up so.
    session = make_any_session(cache_control=True)
    resource = Resource(headers={"Cache-Control": "max-age=600", "Vary": "accept-language"})
    serve(session, resource, f"{API}/lower")
    session.get(f"{API}/lower", headers={"Accept-Language": "en"})
    assert session.get(f"{API}/lower", headers={"Accept-Language": "en"}).from_cache is True
    assert session.get(f"{API}/lower", headers={"Accept-Language": "fr"}).from_cache is False
    assert resource.calls == 2


def test_vary_star_is_never_served(
    make_session: SessionFactory, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    resource = Resource(headers={"Cache-Control": "max-age=600", "Vary": "*"})
    serve(session, resource, f"{API}/star")
    for call in range(1, 4):
        assert session.get(f"{API}/star").from_cache is False
        assert resource.calls == call


# -- 5. invalidation by unsafe methods (all backends) ---------------------------------------
@pytest.mark.parametrize(
    ("method", "status", "invalidates"),
    [
        ("POST", 201, True),
        ("PUT", 204, True),
        ("DELETE", 200, True),
        ("PATCH", 200, True),
        ("POST", 303, True),
        ("POST", 500, False),
        ("POST", 404, False),
    ],
)
def test_unsafe_request_invalidates_the_target(
    make_any_session: SessionFactory,
    clock: time_machine.Traveller,
    method: str,
    status: int,
    invalidates: bool,
) -> None:
    session = make_any_session(cache_control=True)
    resource = Resource(headers={"Cache-Control": "max-age=600"})
    adapter = mocked(session)
    url = f"{API}/items/1"
    adapter.register_uri("GET", url, text=resource)
    adapter.register_uri(method, url, status_code=status, text="done")
    session.get(url)
    assert session.get(url).from_cache is True
    assert session.request(method, url).status_code == status
    after = session.get(url)
    assert after.from_cache is not invalidates
    assert resource.calls == (2 if invalidates else 1)


def test_post_response_naming_its_own_url_answers_a_later_get(
    make_session: SessionFactory, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    adapter = mocked(session)
    url = f"{API}/report"
    fresh = {"Cache-Control": "max-age=600"}
    posts = adapter.register_uri(
        "POST", url, text="made", headers={**fresh, "Content-Location": "/report"}
    )
    gets = adapter.register_uri("GET", url, text="fetched", headers=fresh)
    session.post(url, data=b"x")
    get = session.get(url)
    assert (get.from_cache, get.text, posts.call_count, gets.call_count) == (True, "made", 1, 0)


def test_read_only_session_neither_stores_nor_invalidates(
    make_session: SessionFactory, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    adapter = mocked(session)
    url = f"{API}/items/1"
    adapter.register_uri("GET", url, text="stored", headers={"Cache-Control": "max-age=600"})
    adapter.register_uri("POST", url, text="done")
    session.get(url)
    session.settings.read_only = True
    assert session.get(f"{API}/items/1?new=1").from_cache is False
    assert session.get(f"{API}/items/1?new=1").from_cache is False  # never stored
    session.post(url, data=b"x")
    assert session.get(url).from_cache is True  # the POST invalidated nothing


@pytest.mark.parametrize(
    ("field", "value", "invalidated"),
    [
        ("Location", f"{API}/items/2", True),
        ("Content-Location", "/items/2", True),
        ("Location", f"{OTHER}/items/2", False),
        ("Content-Location", f"{OTHER}/items/2", False),
    ],
    ids=["location-same-origin", "content-location-relative", "location-other", "cl-other"],
)
def test_unsafe_request_invalidates_location_on_the_same_origin(
    make_any_session: SessionFactory,
    clock: time_machine.Traveller,
    field: str,
    value: str,
    invalidated: bool,
) -> None:
    session = make_any_session(cache_control=True)
    adapter = mocked(session)
    target = f"{API}/items/2" if invalidated else f"{OTHER}/items/2"
    resource = Resource(headers={"Cache-Control": "max-age=600"})
    adapter.register_uri("GET", target, text=resource)
    adapter.register_uri("POST", f"{API}/items", status_code=201, headers={field: value})
    session.get(target)
    session.post(f"{API}/items", data="new")
    after = session.get(target)
    assert after.from_cache is not invalidated
    assert resource.calls == (2 if invalidated else 1)


# -- 6. 304 merging ---------------------------------------------------------------------------
def test_304_updates_headers_but_not_content_length_and_recomputes_freshness(
    make_session: SessionFactory, start: datetime, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    resource = Resource(
        etag='"v1"',
        headers={"Cache-Control": "max-age=10", "X-Version": "1", "Content-Length": "7"},
        not_modified_headers={
            "Cache-Control": "max-age=100",
            "X-Version": "2",
            "Content-Length": "0",
        },
    )
    serve(session, resource, f"{API}/merge")
    session.get(f"{API}/merge")
    clock.shift(11)
    merged = session.get(f"{API}/merge")
    assert resource.last["If-None-Match"] == '"v1"'
    assert (merged.status_code, merged.from_cache, merged.revalidated) == (200, True, True)
    assert merged.headers["X-Version"] == "2"
    assert merged.headers["Cache-Control"] == "max-age=100"
    assert merged.headers["Content-Length"] == "7"
    assert merged.text == "body-v1"
    assert merged.expires == start + timedelta(seconds=111)

    clock.shift(99)  # fresh for the 304's max-age=100, not the 200's max-age=10
    later = session.get(f"{API}/merge")
    assert (later.from_cache, later.revalidated, later.headers["X-Version"]) == (True, False, "2")
    assert later.headers["Content-Length"] == "7"
    assert resource.calls == 2


def test_304_from_the_origin_resets_the_age(
    make_session: SessionFactory, start: datetime, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    # The first 200 came through a cache that had it for 30 s; the 304 is the origin's own.
    resource = Resource(
        etag='"v1"',
        headers={"Cache-Control": "max-age=60", "Age": "30"},
        not_modified_headers={"Cache-Control": "max-age=60"},
    )
    serve(session, resource, f"{API}/aged-304")
    session.get(f"{API}/aged-304")
    clock.shift(31)
    revalidated = session.get(f"{API}/aged-304")
    assert revalidated.revalidated is True
    assert revalidated.headers["Age"] == "0"
    assert revalidated.expires == start + timedelta(seconds=91)
    clock.shift(40)
    assert session.get(f"{API}/aged-304").revalidated is False
    assert resource.calls == 2


# -- 7. HEAD ----------------------------------------------------------------------------------
def test_head_is_answered_from_a_fresh_stored_get(
    make_session: SessionFactory, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    resource = Resource(headers={"Cache-Control": "max-age=60", "X-Version": "1"})
    serve(session, resource, f"{API}/doc", "GET HEAD")
    session.get(f"{API}/doc")
    head = session.head(f"{API}/doc")
    assert (head.status_code, head.from_cache, head.content) == (200, True, b"")
    assert head.headers["X-Version"] == "1"
    assert resource.calls == 1


def test_head_is_answered_from_any_stored_get_variant(
    make_session: SessionFactory, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    adapter = mocked(session)
    gets = adapter.register_uri("GET", f"{API}/page", text=_by_language)
    heads = adapter.register_uri("HEAD", f"{API}/page", text="")
    session.get(f"{API}/page", headers={"Accept-Language": "en"})
    session.get(f"{API}/page", headers={"Accept-Language": "de"})  # now the newest
    head = session.head(f"{API}/page", headers={"Accept-Language": "en"})
    assert (head.from_cache, head.content) == (True, b"")
    assert (gets.call_count, heads.call_count) == (2, 0)


def test_head_200_freshens_the_stored_get(
    make_session: SessionFactory, start: datetime, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    resource = Resource(headers={"Cache-Control": "max-age=10", "X-Version": "1"})
    serve(session, resource, f"{API}/doc", "GET HEAD")
    session.get(f"{API}/doc")
    clock.shift(20)  # the stored GET is stale: HEAD goes to the origin
    resource.headers = {"Cache-Control": "max-age=300", "X-Version": "2"}
    head = session.head(f"{API}/doc")
    assert (head.status_code, head.from_cache) == (200, False)
    assert resource.calls == 2
    clock.shift(200)  # stale under the GET's max-age=10, fresh under the HEAD's 300
    get = session.get(f"{API}/doc")
    assert (get.from_cache, get.text, get.headers["X-Version"]) == (True, "body-v1", "2")
    assert get.expires == start + timedelta(seconds=320)
    assert resource.calls == 2


# -- 8. the application's own conditional requests -------------------------------------------
@pytest.mark.parametrize(
    "condition",
    [
        {"If-None-Match": 'W/"v0", "v1"'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": "LAST-MODIFIED"},
    ],
    ids=["etag-list", "star", "if-modified-since"],
)
def test_application_conditional_on_fresh_entry_gets_304_from_cache(
    make_session: SessionFactory,
    start: datetime,
    clock: time_machine.Traveller,
    condition: dict[str, str],
) -> None:
    session = make_session(cache_control=True)
    last_modified = http_date(start - timedelta(days=2))
    resource = Resource(
        etag='"v1"', headers={"Cache-Control": "max-age=60", "Last-Modified": last_modified}
    )
    serve(session, resource, f"{API}/cond")
    session.get(f"{API}/cond")
    clock.shift(5)
    headers = {
        name: value.replace("LAST-MODIFIED", last_modified) for name, value in condition.items()
    }
    matching = session.get(f"{API}/cond", headers=headers)
    assert (matching.status_code, matching.from_cache) == (304, True)
    assert matching.headers["ETag"] == '"v1"'
    assert matching.content == b""
    assert "Content-Length" not in matching.headers
    # A tag that does not match: the stored 200 answers (RFC 9110 §13.1.2).
    other = session.get(f"{API}/cond", headers={"If-None-Match": '"v0"'})
    assert (other.status_code, other.from_cache, other.text) == (200, True, "body-v1")
    assert resource.calls == 1


def test_application_if_none_match_on_stale_entry_is_passed_through(
    make_session: SessionFactory, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    resource = Resource(etag='"v1"', headers={"Cache-Control": "max-age=10"})
    serve(session, resource, f"{API}/cond")
    session.get(f"{API}/cond")
    clock.shift(20)
    response = session.get(f"{API}/cond", headers={"If-None-Match": '"v0"'})
    assert resource.last["If-None-Match"] == '"v0"'  # the application's, not the cache's
    assert (response.status_code, response.from_cache, response.text) == (200, False, "body-v1")

    clock.shift(20)
    own = session.get(f"{API}/cond", headers={"If-None-Match": '"v1"'})
    assert resource.last["If-None-Match"] == '"v1"'
    # The origin's 304 belongs to the application: it gets it as it is.
    assert (own.status_code, own.from_cache) == (304, False)
    assert resource.calls == 3


def test_304_to_application_conditional_freshens_the_stored_response(
    make_session: SessionFactory, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    resource = Resource(
        etag='"v1"',
        headers={"Cache-Control": "max-age=10"},
        not_modified_headers={"Cache-Control": "max-age=100"},
    )
    serve(session, resource, f"{API}/cond")
    session.get(f"{API}/cond")
    clock.shift(20)
    assert session.get(f"{API}/cond", headers={"If-None-Match": '"v1"'}).status_code == 304
    clock.shift(5)
    assert session.get(f"{API}/cond").from_cache is True
    assert resource.calls == 2


# -- 9. ranges --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("range_header", "body", "content_range"),
    [
        ("bytes=0-1", "01", "bytes 0-1/10"),
        ("bytes=7-", "789", "bytes 7-9/10"),
        ("bytes=-3", "789", "bytes 7-9/10"),
        ("bytes=8-20", "89", "bytes 8-9/10"),
    ],
)
def test_range_is_cut_from_a_fresh_stored_complete_response(
    make_session: SessionFactory,
    clock: time_machine.Traveller,
    range_header: str,
    body: str,
    content_range: str,
) -> None:
    session = make_session(cache_control=True)
    resource = Resource(body="0123456789", headers={"Cache-Control": "max-age=60"})
    serve(session, resource, f"{API}/digits")
    session.get(f"{API}/digits")
    part = session.get(f"{API}/digits", headers={"Range": range_header})
    assert (part.status_code, part.from_cache, part.text) == (206, True, body)
    assert part.headers["Content-Range"] == content_range
    assert part.headers["Content-Length"] == str(len(body))
    assert resource.calls == 1
    whole = session.get(f"{API}/digits")  # the stored response is still the complete one
    assert (whole.status_code, whole.text) == (200, "0123456789")


def test_stored_partial_response_does_not_answer_a_full_get(
    make_session: SessionFactory, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    adapter = mocked(session)

    def ranged(request: Any, context: Any) -> str:
        context.headers = {"Cache-Control": "max-age=60"}
        if request.headers.get("Range") == "bytes=0-3":
            context.status_code = 206
            context.headers["Content-Range"] = "bytes 0-3/10"
            return "0123"
        return "0123456789"

    matcher = adapter.register_uri("GET", f"{API}/digits", text=ranged)
    part = session.get(f"{API}/digits", headers={"Range": "bytes=0-3"})
    assert (part.status_code, part.text) == (206, "0123")
    whole = session.get(f"{API}/digits")
    assert (whole.status_code, whole.from_cache, whole.text) == (200, False, "0123456789")
    assert matcher.call_count == 2
    again = session.get(f"{API}/digits")
    assert (again.status_code, again.from_cache, again.text) == (200, True, "0123456789")


# -- 10. stale-if-error and disconnection -----------------------------------------------------
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_stale_if_error_serves_stale_within_the_window(
    make_session: SessionFactory, clock: time_machine.Traveller, status: int
) -> None:
    session = make_session(cache_control=True)
    resource = Resource(body="good", headers={"Cache-Control": "max-age=1, stale-if-error=60"})
    serve(session, resource, f"{API}/flaky")
    key = session.get(f"{API}/flaky").cache_key
    clock.shift(30)  # 29 s stale
    resource.status, resource.body, resource.headers = status, "down", {}
    stale = session.get(f"{API}/flaky")
    assert (stale.status_code, stale.text, stale.from_cache) == (200, "good", True)
    assert resource.calls == 2
    clock.shift(40)  # 69 s stale: beyond the window
    error = session.get(f"{API}/flaky")
    assert (error.status_code, error.text, error.from_cache) == (status, "down", False)
    assert session.cache.get_response(key).text == "good"  # the error did not replace it


def test_stale_if_error_does_not_cover_other_statuses(
    make_session: SessionFactory, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    resource = Resource(body="good", headers={"Cache-Control": "max-age=1, stale-if-error=60"})
    serve(session, resource, f"{API}/flaky")
    session.get(f"{API}/flaky")
    clock.shift(10)
    resource.status, resource.body, resource.headers = 404, "gone", {}
    gone = session.get(f"{API}/flaky")
    assert (gone.status_code, gone.text, gone.from_cache) == (404, "gone", False)


@pytest.mark.parametrize(
    ("cache_control", "stale_served"),
    [
        ("max-age=1", True),
        ("max-age=1, stale-if-error=5", True),  # disconnected: served beyond the window too
        ("max-age=1, must-revalidate", False),
        ("no-cache", False),
    ],
    ids=["plain", "short-stale-if-error", "must-revalidate", "no-cache"],
)
def test_connection_error_serves_stale_unless_forbidden(
    make_session: SessionFactory,
    clock: time_machine.Traveller,
    cache_control: str,
    stale_served: bool,
) -> None:
    session = make_session(cache_control=True)
    resource = Resource(body="good", etag='"v1"', headers={"Cache-Control": cache_control})
    serve(session, resource, f"{API}/offline")
    key = session.get(f"{API}/offline").cache_key
    clock.shift(30)
    resource.error = requests.exceptions.ConnectionError("origin unreachable")
    response = session.get(f"{API}/offline")
    assert resource.calls == 2  # it did try the origin
    if stale_served:
        assert (response.status_code, response.text, response.from_cache) == (200, "good", True)
    else:
        assert response.status_code == 504
        assert response.content == b""
    assert session.cache.get_response(key).text == "good"


def test_connection_error_without_a_stored_response_propagates(
    make_session: SessionFactory, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    resource = Resource()
    resource.error = requests.exceptions.ConnectionError("origin unreachable")
    serve(session, resource, f"{API}/never")
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(f"{API}/never")


class HangingUpOrigin:
    """A socket server on 127.0.0.1: while ``up`` it answers every request with ``headers``
    and ``body`` (and closes); otherwise it closes each connection unanswered, as a crashed
    origin or a broken network would."""

    def __init__(self, headers: dict[str, str], body: bytes = b"good") -> None:
        self.up = True
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._response = (
            f"HTTP/1.1 200 OK\r\n{head}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode() + body
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/resource"

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed
            with connection:
                self.connections += 1
                if not self.up:
                    continue
                received = b""
                while b"\r\n\r\n" not in received:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    received += chunk
                connection.sendall(self._response)

    def close(self) -> None:
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._listener.close()
        self._thread.join(timeout=10)
        assert not self._thread.is_alive()


@pytest.mark.parametrize(
    ("cache_control", "stale_served"),
    [("max-age=1", True), ("max-age=1, must-revalidate", False)],
    ids=["stale", "must-revalidate"],
)
def test_real_disconnection_serves_stale_or_504(
    make_session: SessionFactory,
    clock: time_machine.Traveller,
    cache_control: str,
    stale_served: bool,
) -> None:
    server = HangingUpOrigin({"Cache-Control": cache_control, "ETag": '"v1"'})
    try:
        session = make_session(cache_control=True)
        assert session.get(server.url, timeout=10).text == "good"
        clock.shift(30)
        server.up = False
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(server.url, timeout=10)  # what an uncached client would get
        response = session.get(server.url, timeout=10)
        assert server.connections == 3
        if stale_served:
            assert (response.status_code, response.text, response.from_cache) == (
                200,
                "good",
                True,
            )
        else:
            assert response.status_code == 504
    finally:
        server.close()


# -- 11. stale-while-revalidate ---------------------------------------------------------------
def test_stale_while_revalidate_serves_stale_and_refreshes_in_background(
    make_session: SessionFactory, start: datetime, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    resource = Resource(
        body="v1", headers={"Cache-Control": "max-age=10, stale-while-revalidate=30"}
    )
    serve(session, resource, f"{API}/swr")
    session.get(f"{API}/swr")
    clock.shift(20)  # 10 s stale: inside the window
    resource.body = "v2"
    stale = session.get(f"{API}/swr")
    assert (stale.text, stale.from_cache, stale.headers["Age"]) == ("v1", True, "20")
    wait_for_refreshes()
    assert resource.calls == 2
    fresh = session.get(f"{API}/swr")
    assert (fresh.text, fresh.from_cache) == ("v2", True)
    assert fresh.expires == start + timedelta(seconds=30)
    assert resource.calls == 2


def test_stale_while_revalidate_beyond_the_window_fetches_in_line(
    make_session: SessionFactory, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    resource = Resource(
        body="v1", headers={"Cache-Control": "max-age=10, stale-while-revalidate=30"}
    )
    serve(session, resource, f"{API}/swr")
    session.get(f"{API}/swr")
    clock.shift(60)  # 50 s stale
    resource.body = "v2"
    response = session.get(f"{API}/swr")
    assert (response.text, response.from_cache) == ("v2", False)
    assert resource.calls == 2
    wait_for_refreshes()
    assert resource.calls == 2  # no background request on top


# -- 12. outside standards mode nothing changes -----------------------------------------------
@pytest.mark.parametrize(
    "how", ["session-expire-after", "per-request", "url-pattern"], ids=lambda how: how
)
def test_an_explicit_expire_after_leaves_standards_mode(
    make_session: SessionFactory, clock: time_machine.Traveller, how: str
) -> None:
    kwargs: dict[str, Any] = {"cache_control": True}
    per_request: dict[str, Any] = {}
    if how == "session-expire-after":
        kwargs["expire_after"] = -1
    elif how == "per-request":
        per_request["expire_after"] = -1
    else:
        kwargs["urls_expire_after"] = {"api.test/plain*": -1}
    session = make_session(**kwargs)
    resource = Resource()  # no freshness information, no validator
    serve(session, resource, f"{API}/plain")
    first = session.get(f"{API}/plain", **per_request)
    assert first.expires is None
    clock.shift(timedelta(days=3650))
    hit = session.get(f"{API}/plain", **per_request)
    assert (hit.from_cache, hit.is_expired) == (True, False)
    assert "Age" not in hit.headers
    assert resource.calls == 1


def test_assigning_expire_after_leaves_standards_mode(
    make_session: SessionFactory, start: datetime, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True)
    resource = Resource()
    serve(session, resource, f"{API}/plain")
    session.get(f"{API}/plain")
    assert session.get(f"{API}/plain").from_cache is False  # standards mode: never fresh
    session.settings.expire_after = 60
    stored = session.get(f"{API}/plain")
    assert stored.expires == start + timedelta(seconds=60)
    clock.shift(30)
    hit = session.get(f"{API}/plain")
    assert (hit.from_cache, "Age" in hit.headers) == (True, False)
    assert resource.calls == 3
