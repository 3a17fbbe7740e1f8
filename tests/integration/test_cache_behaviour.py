"""One suite of cache behaviour, run unchanged on all seven backends.

Whatever holds the bytes (a dict, SQLite, files, Redis, MongoDB, GridFS or DynamoDB), a
session must answer the same way: hits equal to the misses they replace, expiry and
revalidation, ``only_if_cached``, redirect aliases that outlive the session, the inspection
API, unreadable entries treated as misses, and bodies of any size and content.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests_mock
import time_machine

from requests_cache_like import CachedSession
from requests_cache_like.demo import LocalOrigin

SessionFactory = Callable[..., CachedSession]
#: Backends whose storage outlives the session object (all but memory).
PERSISTENT_BACKENDS = ["sqlite", "filesystem", "redis", "mongodb", "gridfs", "dynamodb"]


@pytest.fixture(scope="module")
def origin() -> Iterator[LocalOrigin]:
    """A private origin for this module, so hit counts move only with this module's requests."""
    with LocalOrigin() as server:
        yield server


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """A clock frozen at the real current time (server-side expiry stays plausible);
    ``clock.shift(seconds)`` moves it."""
    with time_machine.travel(datetime.now(timezone.utc), tick=False) as traveller:
        yield traveller


def mocked(session: CachedSession) -> requests_mock.Adapter:
    """Mount a requests_mock adapter for ``mock://`` URLs on ``session`` and return it."""
    adapter = requests_mock.Adapter()
    session.mount("mock://", adapter)
    return adapter


# -- hits equal misses -------------------------------------------------------------------------


def test_miss_then_hit_with_identical_response(
    make_any_session: SessionFactory, origin: LocalOrigin
) -> None:
    session = make_any_session()
    url = origin.url("/json?case=identical&word=caf%C3%A9")
    before = origin.hits["/json"]

    first = session.get(url)
    second = session.get(url)

    assert (first.from_cache, second.from_cache) == (False, True)
    assert origin.hits["/json"] == before + 1
    assert second.status_code == first.status_code == 200
    assert second.reason == first.reason
    assert second.content == first.content
    assert second.json() == {"path": "/json", "args": {"case": "identical", "word": "café"}}
    assert dict(second.headers) == dict(first.headers)
    assert second.url == first.url
    assert second.cache_key == first.cache_key
    assert second.expires is None
    assert second.is_expired is False


# -- expiration --------------------------------------------------------------------------------


def test_expired_response_without_validator_is_fetched_again_and_restored(
    make_any_session: SessionFactory, origin: LocalOrigin, clock: time_machine.Coordinates
) -> None:
    session = make_any_session(expire_after=60)
    url = origin.url("/json?case=refetch")
    before = origin.hits["/json"]
    first = session.get(url)
    stored = session.cache.get_response(first.cache_key)
    assert stored is not None
    assert stored.expires == first.created_at + timedelta(seconds=60)

    clock.shift(30)
    assert session.get(url).from_cache is True
    clock.shift(31)  # 61 s after storing: expired
    again = session.get(url)

    assert again.from_cache is False
    assert origin.hits["/json"] == before + 2
    refreshed = session.cache.get_response(first.cache_key)
    assert refreshed.created_at > stored.created_at
    assert refreshed.expires == refreshed.created_at + timedelta(seconds=60)
    assert session.get(url).from_cache is True
    assert origin.hits["/json"] == before + 2


def test_expired_response_with_etag_is_revalidated_with_304(
    make_any_session: SessionFactory, origin: LocalOrigin, clock: time_machine.Coordinates
) -> None:
    session = make_any_session(expire_after=60)
    url = origin.url("/etag/behaviour-revalidate")
    path = "/etag/behaviour-revalidate"
    before = origin.hits[path]
    first = session.get(url)
    stored_expires = session.cache.get_response(first.cache_key).expires

    clock.shift(120)
    revalidated = session.get(url)

    assert origin.hits[path] == before + 2  # the conditional request was sent
    assert revalidated.from_cache is True
    assert revalidated.revalidated is True
    assert revalidated.status_code == 200
    assert revalidated.content == first.content
    refreshed = session.cache.get_response(first.cache_key)
    assert refreshed.expires > stored_expires
    assert refreshed.expires == refreshed.created_at + timedelta(seconds=60)
    # Fresh again: answered without asking the origin.
    assert session.get(url).from_cache is True
    assert origin.hits[path] == before + 2


def test_cache_control_max_age_sets_the_expiry(
    make_any_session: SessionFactory, origin: LocalOrigin, clock: time_machine.Coordinates
) -> None:
    session = make_any_session(cache_control=True)
    url = origin.url("/cache/30")
    before = origin.hits["/cache/30"]
    first = session.get(url)
    # Standards mode: Date has whole seconds, so the response may already be up to 1 s old.
    lifetime = first.expires - first.created_at
    assert timedelta(seconds=29) <= lifetime <= timedelta(seconds=30)

    clock.shift(29)
    assert session.get(url).from_cache is True
    clock.shift(2)
    assert session.get(url).from_cache is False
    assert origin.hits["/cache/30"] == before + 2

    no_store = origin.url("/no-store")
    session.get(no_store)
    assert not session.cache.contains(url=no_store)
    assert session.get(no_store).from_cache is False


def test_only_if_cached_answers_504_on_a_miss(
    make_any_session: SessionFactory, origin: LocalOrigin
) -> None:
    session = make_any_session()
    url = origin.url("/json?case=only-if-cached")
    before = origin.hits["/json"]

    missing = session.get(url, only_if_cached=True)
    assert missing.status_code == 504
    assert origin.hits["/json"] == before
    assert not session.cache.contains(url=url)

    session.get(url)
    present = session.get(url, only_if_cached=True)
    assert present.status_code == 200
    assert present.from_cache is True
    assert origin.hits["/json"] == before + 1


# -- redirects ---------------------------------------------------------------------------------


@pytest.mark.parametrize("any_backend", PERSISTENT_BACKENDS, indirect=True)
def test_redirect_aliases_are_stored_for_a_new_session(
    make_any_session: SessionFactory, origin: LocalOrigin
) -> None:
    writer = make_any_session()
    chain = origin.url("/redirect/2")
    response = writer.get(chain)
    assert response.json() == {"path": "/json", "args": {}}
    assert len(writer.cache.responses) == 1
    assert len(writer.cache.redirects) == 2  # /redirect/2 and /redirect/1 point at /json

    # A new session on the same storage (new connections, nothing shared in memory).
    reader = make_any_session()
    assert reader.cache is not writer.cache
    assert len(reader.cache.redirects) == 2
    assert reader.cache.contains(url=chain)
    hits = {path: origin.hits[path] for path in ("/redirect/2", "/redirect/1", "/json")}
    again = reader.get(chain)
    assert again.from_cache is True
    assert again.json() == {"path": "/json", "args": {}}
    assert reader.get(origin.url("/redirect/1")).from_cache is True
    assert {path: origin.hits[path] for path in hits} == hits


# -- inspection API ----------------------------------------------------------------------------


def test_inspection_api(
    make_any_session: SessionFactory, origin: LocalOrigin, clock: time_machine.Coordinates
) -> None:
    session = make_any_session()
    cache = session.cache
    short, long, forever = (origin.url(f"/json?inspect={name}") for name in ("s", "l", "f"))
    session.get(short, expire_after=60)
    session.get(long, expire_after=3600)
    session.get(forever)
    session.get(origin.url("/redirect/1"))  # stores /json and one alias
    everything = sorted([short, long, forever, origin.url("/json")])

    assert len(cache.responses) == 4
    assert len(cache.redirects) == 1
    assert cache.contains(url=short)
    assert cache.contains(url=origin.url("/redirect/1"))
    assert not cache.contains(url=origin.url("/json?inspect=absent"))
    assert cache.urls() == everything

    clock.shift(120)  # the short one is now expired
    assert [r.url for r in cache.filter(valid=False, expired=True)] == [short]
    valid = sorted(r.url for r in cache.filter(valid=True, expired=False))
    assert valid == [url for url in everything if url != short]
    assert cache.urls(valid=False) == [short]

    cache.delete(expired=True)
    assert not cache.contains(url=short)
    assert len(cache.responses) == 3

    cache.delete(urls=[long])
    assert cache.urls() == sorted([forever, origin.url("/json")])

    # Deleting the response a redirect points at removes the alias too.
    cache.delete(urls=[origin.url("/json")])
    assert len(cache.redirects) == 0
    assert cache.urls() == [forever]

    cache.reset_expiration(10)
    (remaining,) = cache.filter()
    assert remaining.expires == datetime.now(timezone.utc) + timedelta(seconds=10)
    clock.shift(11)
    assert cache.urls(valid=False) == [forever]
    assert session.get(forever).from_cache is False  # expired: fetched again

    session.get(origin.url("/redirect/1"))
    assert len(cache.responses) == 2
    assert len(cache.redirects) == 1
    cache.clear()
    assert len(cache.responses) == 0
    assert len(cache.redirects) == 0
    assert cache.urls() == []


def test_update_copies_a_sqlite_cache_into_the_backend(
    make_any_session: SessionFactory, origin: LocalOrigin, tmp_path: Path
) -> None:
    source = CachedSession(str(tmp_path / "source.sqlite"), backend="sqlite")
    first, second = origin.url("/json?copy=1"), origin.url("/bytes/2048")
    for url in (first, second, origin.url("/redirect/1")):
        source.get(url)
    source_urls = source.cache.urls()

    session = make_any_session()
    session.cache.update(source.cache)
    source.close()

    assert session.cache.urls() == source_urls
    assert len(session.cache.redirects) == 1
    hits = sum(origin.hits.values())
    assert session.get(first).json() == {"path": "/json", "args": {"copy": "1"}}
    assert session.get(second).content == (b"0123456789abcdef" * 128)
    assert session.get(origin.url("/redirect/1")).from_cache is True
    assert session.get(first).from_cache is True
    assert sum(origin.hits.values()) == hits


# -- damaged entries ---------------------------------------------------------------------------


def test_corrupted_entry_is_a_miss_and_is_overwritten(
    make_any_session: SessionFactory, origin: LocalOrigin
) -> None:
    session = make_any_session()
    url = origin.url("/json?case=corrupted")
    before = origin.hits["/json"]
    key = session.get(url).cache_key
    session.cache.responses.set_raw(key, b"garbage")

    refetched = session.get(url)

    assert refetched.from_cache is False
    assert refetched.json() == {"path": "/json", "args": {"case": "corrupted"}}
    assert origin.hits["/json"] == before + 2
    assert session.cache.responses.get_raw(key) != b"garbage"
    assert session.cache.get_response(key).json() == refetched.json()
    assert session.get(url).from_cache is True
    assert origin.hits["/json"] == before + 2


# -- bodies and headers ------------------------------------------------------------------------


def test_large_incompressible_body_round_trips(make_any_session: SessionFactory) -> None:
    session = make_any_session()
    body = os.urandom(700_000)  # random bytes: compression cannot shrink them below limits
    mocked(session).register_uri(
        "GET", "mock://origin/blob", content=body, headers={"Content-Type": "image/png"}
    )

    first = session.get("mock://origin/blob")
    second = session.get("mock://origin/blob")

    assert (first.from_cache, second.from_cache) == (False, True)
    assert len(second.content) == len(body)
    assert second.content == body
    assert second.headers["Content-Type"] == "image/png"


def test_unicode_and_binary_bodies_round_trip(make_any_session: SessionFactory) -> None:
    session = make_any_session()
    adapter = mocked(session)
    text = "naïve café — 日本語 ✓ 🎉 \u0000 end"
    binary = bytes(range(256)) * 8 + b"\x00\xff\r\n\x1a"
    document = {"name": "Zoë", "emoji": "🙂", "nested": ["ß", {"k": "値"}]}
    adapter.register_uri(
        "GET",
        "mock://origin/text",
        text=text,
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    adapter.register_uri(
        "GET", "mock://origin/binary", content=binary, headers={"Content-Type": "application/x-raw"}
    )
    adapter.register_uri("GET", "mock://origin/json", json=document)

    for url in ("mock://origin/text", "mock://origin/binary", "mock://origin/json"):
        session.get(url)
    hits = [
        session.get(url)
        for url in ("mock://origin/text", "mock://origin/binary", "mock://origin/json")
    ]

    assert all(response.from_cache for response in hits)
    assert hits[0].text == text
    assert hits[0].content == text.encode("utf-8")
    assert hits[1].content == binary
    assert hits[2].json() == document


def test_response_with_many_headers_round_trips(make_any_session: SessionFactory) -> None:
    session = make_any_session()
    headers = {f"X-Header-{n:03d}": f"value {n} " + "v" * n for n in range(120)}
    headers["Link"] = ", ".join(f'<https://example.org/page/{n}>; rel="item"' for n in range(40))
    headers["Content-Type"] = "application/json"
    mocked(session).register_uri("GET", "mock://origin/headers", json={"ok": True}, headers=headers)

    first = session.get("mock://origin/headers")
    second = session.get("mock://origin/headers")

    assert second.from_cache is True
    assert dict(second.headers) == dict(first.headers)
    for name, value in headers.items():
        assert second.headers[name] == value
    assert second.headers["x-header-119"] == headers["X-Header-119"]  # still case-insensitive
