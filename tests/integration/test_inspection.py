"""Inspecting and editing the cache through ``session.cache``, on every embedded backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
import time_machine

from requests_cache_like import CachedResponse, CachedSession
from requests_cache_like.backends import MemoryCache, SQLiteCache
from requests_cache_like.demo import LocalOrigin
from requests_cache_like.settings import DEFAULT_IGNORED_PARAMS

NOW = datetime(2031, 3, 4, 9, 30, tzinfo=timezone.utc)
GARBAGE = b"\x00\x01 this is not a stored response"

SessionFactory = Callable[..., CachedSession]


@pytest.fixture(scope="module")
def origin() -> Iterator[LocalOrigin]:
    """A private origin for this module: background work started by other modules cannot
    move its hit counts."""
    with LocalOrigin() as server:
        yield server


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """A frozen clock at NOW; ``clock.shift(seconds)`` moves it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


# -- contains --------------------------------------------------------------------------------


def test_contains_by_key_request_or_url(session: CachedSession, origin: LocalOrigin) -> None:
    url = origin.url("/json?inspect=contains")
    response = session.get(url)
    cache = session.cache
    assert cache.contains(key=response.cache_key)
    assert cache.contains(url=url)
    assert cache.contains(request=requests.Request("GET", url))
    assert cache.contains(request=requests.Request("GET", url).prepare())
    assert cache.contains(request=response.request)
    assert not cache.contains(key="0000000000000000")
    assert not cache.contains(url=url + "&other=1")
    assert not cache.contains(request=requests.Request("POST", url))


def test_contains_needs_an_argument(session: CachedSession) -> None:
    with pytest.raises(TypeError) as excinfo:
        session.cache.contains()
    assert "key=" in str(excinfo.value)
    assert "url=" in str(excinfo.value)


def test_contains_redirect_aliases(session: CachedSession, origin: LocalOrigin) -> None:
    session.get(origin.url("/redirect/2?inspect=alias"))
    assert session.cache.contains(url=origin.url("/redirect/2?inspect=alias"))
    assert session.cache.contains(url=origin.url("/redirect/1"))
    assert session.cache.contains(url=origin.url("/json"))


# -- the responses and redirects mappings ----------------------------------------------------


def test_responses_and_redirects_mappings(session: CachedSession, origin: LocalOrigin) -> None:
    plain = session.get(origin.url("/json?inspect=mapping"))
    redirected = session.get(origin.url("/redirect/2?inspect=mapping"))
    responses = session.cache.responses
    redirects = session.cache.redirects

    assert len(responses) == 2
    assert sorted(responses.keys()) == sorted([plain.cache_key, redirected.cache_key])
    assert sorted(r.url for r in responses.values()) == sorted([plain.url, redirected.url])
    items = dict(responses.items())
    assert isinstance(items[plain.cache_key], CachedResponse)
    assert items[plain.cache_key].json() == plain.json()

    assert len(redirects) == 2
    assert set(redirects.values()) == {redirected.cache_key}
    alias = session.cache.create_key(requests.Request("GET", origin.url("/redirect/1")))
    assert alias in redirects
    assert dict(redirects.items())[alias] == redirected.cache_key

    responses.bulk_delete([plain.cache_key, "not-a-key"])
    assert list(responses.keys()) == [redirected.cache_key]
    redirects.bulk_delete(list(redirects.keys()))
    assert len(redirects) == 0


# -- delete ----------------------------------------------------------------------------------


def test_delete_by_keys_urls_and_requests(session: CachedSession, origin: LocalOrigin) -> None:
    urls = [origin.url(f"/json?inspect=delete&n={n}") for n in range(5)]
    keys = [session.get(url).cache_key for url in urls]
    cache = session.cache
    cache.delete(keys[0], "no-such-key")
    cache.delete(urls=[urls[1], origin.url("/json?never=stored")])
    cache.delete(requests=[requests.Request("GET", urls[2]), requests.Request("GET", urls[2])])
    assert sorted(cache.responses) == sorted(keys[3:])
    assert [cache.contains(url=url) for url in urls] == [False, False, False, True, True]
    cache.delete()  # nothing named, no condition: nothing deleted
    assert len(cache.responses) == 2


def test_delete_expired(
    make_session: SessionFactory, origin: LocalOrigin, clock: time_machine.Coordinates
) -> None:
    session = make_session(expire_after=60)
    short = session.get(origin.url("/json?inspect=expired&n=1"))
    longer = session.get(origin.url("/json?inspect=expired&n=2"), expire_after=600)
    forever = session.get(origin.url("/json?inspect=expired&n=3"), expire_after=-1)
    clock.shift(120)
    session.cache.delete(expired=True)
    assert sorted(session.cache.responses) == sorted([longer.cache_key, forever.cache_key])
    assert not session.cache.contains(key=short.cache_key)
    clock.shift(1000)
    session.cache.delete(expired=True)
    assert list(session.cache.responses) == [forever.cache_key]


def test_delete_invalid(session: CachedSession, origin: LocalOrigin) -> None:
    good = session.get(origin.url("/json?inspect=invalid"))
    session.cache.responses.set_raw("unreadable", GARBAGE)
    session.cache.delete(expired=True)  # an unreadable entry is not "expired"
    assert "unreadable" in session.cache.responses
    session.cache.delete(invalid=True)
    assert list(session.cache.responses) == [good.cache_key]


def test_delete_older_than(
    session: CachedSession, origin: LocalOrigin, clock: time_machine.Coordinates
) -> None:
    oldest = session.get(origin.url("/json?inspect=age&n=1"))
    clock.shift(3600)
    middle = session.get(origin.url("/json?inspect=age&n=2"))
    clock.shift(3600)
    newest = session.get(origin.url("/json?inspect=age&n=3"))
    clock.shift(60)
    # now: oldest is 2h01m old, middle 1h01m, newest 1m
    session.cache.delete(older_than=timedelta(hours=1, minutes=30))
    assert sorted(session.cache.responses) == sorted([middle.cache_key, newest.cache_key])
    session.cache.delete(older_than=120)
    assert list(session.cache.responses) == [newest.cache_key]
    assert oldest.cache_key not in session.cache.responses


def test_deleting_a_response_prunes_its_redirect_aliases(
    session: CachedSession, origin: LocalOrigin
) -> None:
    final = session.get(origin.url("/redirect/2?inspect=prune"))
    other = session.get(origin.url("/json?inspect=keep"))
    other_alias = origin.url("/old-address?inspect=keep")
    session.cache.save_redirect(requests.Request("GET", other_alias), other.cache_key)
    assert len(session.cache.redirects) == 3
    session.cache.delete(final.cache_key)
    assert list(session.cache.redirects.values()) == [other.cache_key]
    assert not session.cache.contains(url=origin.url("/redirect/2?inspect=prune"))
    assert not session.cache.contains(url=origin.url("/redirect/1"))
    assert session.cache.contains(url=other_alias)
    assert (
        session.cache.get_response(
            session.cache.create_key(requests.Request("GET", other_alias))
        ).json()
        == other.json()
    )


def test_delete_by_url_of_a_redirect(session: CachedSession, origin: LocalOrigin) -> None:
    start = origin.url("/redirect/1?inspect=alias-delete")
    session.get(start)
    assert session.cache.contains(url=start)
    session.cache.delete(urls=[start])
    assert not session.cache.contains(url=start)


def test_delete_expired_prunes_aliases(
    make_session: SessionFactory, origin: LocalOrigin, clock: time_machine.Coordinates
) -> None:
    session = make_session(expire_after=60)
    session.get(origin.url("/redirect/2?inspect=expire-prune"))
    assert len(session.cache.redirects) == 2
    clock.shift(61)
    session.cache.delete(expired=True)
    assert len(session.cache.responses) == 0
    assert len(session.cache.redirects) == 0


# -- filter and urls -------------------------------------------------------------------------


@pytest.fixture
def mixed_session(
    make_session: SessionFactory, origin: LocalOrigin, clock: time_machine.Coordinates
) -> CachedSession:
    """Responses made an hour apart: 'old' (expired), 'mid' (fresh), 'new' (never expires),
    plus one unreadable entry; the clock is then at NOW + 2h."""
    session = make_session()
    session.get(origin.url("/json?age=old"), expire_after=1800)
    clock.shift(3600)
    session.get(origin.url("/json?age=mid"), expire_after=7200)
    clock.shift(3600)
    session.get(origin.url("/json?age=new"))
    session.cache.responses.set_raw("unreadable", GARBAGE)
    return session


def ages(responses: Iterator[CachedResponse]) -> list[str]:
    return sorted(r.json()["args"]["age"] for r in responses)


def test_filter(mixed_session: CachedSession) -> None:
    cache = mixed_session.cache
    assert ages(cache.filter()) == ["mid", "new", "old"]
    assert ages(cache.filter(valid=True, expired=False)) == ["mid", "new"]
    assert ages(cache.filter(valid=False, expired=True)) == ["old"]
    assert ages(cache.filter(valid=False, expired=False)) == []
    assert ages(cache.filter(older_than=timedelta(minutes=50))) == ["mid", "old"]
    assert ages(cache.filter(older_than=5400)) == ["old"]
    assert ages(cache.filter(expired=False, older_than=timedelta(minutes=50))) == ["mid"]
    for response in cache.filter():
        assert response.cache_key in cache.responses
        assert response.from_cache is True


def test_filter_invalid(mixed_session: CachedSession) -> None:
    cache = mixed_session.cache
    placeholders = [r for r in cache.filter(invalid=True) if r.cache_key == "unreadable"]
    assert len(placeholders) == 1
    assert placeholders[0].status_code == 504
    assert placeholders[0].content == b""
    only_invalid = list(cache.filter(valid=False, expired=False, invalid=True))
    assert [r.cache_key for r in only_invalid] == ["unreadable"]
    assert "unreadable" not in [r.cache_key for r in cache.filter()]


def test_urls(mixed_session: CachedSession, origin: LocalOrigin) -> None:
    cache = mixed_session.cache
    all_urls = [origin.url(f"/json?age={age}") for age in ("mid", "new", "old")]
    assert cache.urls() == sorted(all_urls)
    assert cache.urls(expired=False) == sorted(all_urls[:2])
    assert cache.urls(valid=False) == [all_urls[2]]
    assert cache.urls(invalid=True) == sorted(all_urls)


def test_urls_are_unique_and_redacted(session: CachedSession, origin: LocalOrigin) -> None:
    session.get(origin.url("/bytes/8?api_key=one"))
    session.get(origin.url("/bytes/8?api_key=two"))  # same key: replaces the first
    session.get(origin.url("/bytes/16"))
    assert session.cache.urls() == [
        origin.url("/bytes/16"),
        origin.url("/bytes/8?api_key=REDACTED"),
    ]


# -- reset_expiration ------------------------------------------------------------------------


def test_reset_expiration(
    session: CachedSession, origin: LocalOrigin, clock: time_machine.Coordinates
) -> None:
    urls = [origin.url(f"/json?inspect=reset&n={n}") for n in range(3)]
    for url in urls:
        session.get(url)
    assert all(r.expires is None for r in session.cache.filter())
    session.cache.reset_expiration(60)
    expected = NOW + timedelta(seconds=60)
    assert [r.expires for r in session.cache.filter()] == [expected] * 3
    if isinstance(session.cache, SQLiteCache):
        assert session.cache.count(expired=False) == 3

    clock.shift(61)
    assert len(list(session.cache.filter(valid=False))) == 3
    before = origin.hits["/json"]
    assert session.get(urls[0]).from_cache is False
    assert origin.hits["/json"] == before + 1

    session.cache.reset_expiration(-1)
    assert [r.expires for r in session.cache.filter()] == [None] * 3
    clock.shift(10**6)
    assert session.get(urls[1]).from_cache is True


# -- clear and close -------------------------------------------------------------------------


def test_clear(session: CachedSession, origin: LocalOrigin) -> None:
    session.get(origin.url("/json?inspect=clear"))
    session.get(origin.url("/redirect/1?inspect=clear"))
    session.cache.responses.set_raw("unreadable", GARBAGE)
    session.cache.clear()
    assert len(session.cache.responses) == 0
    assert len(session.cache.redirects) == 0
    assert session.get(origin.url("/json?inspect=clear")).from_cache is False
    assert session.get(origin.url("/json?inspect=clear")).from_cache is True


def test_cache_is_usable_after_close(session: CachedSession, origin: LocalOrigin) -> None:
    url = origin.url("/json?inspect=close")
    session.get(url)
    session.cache.close()
    again = session.get(url)
    assert again.from_cache is True
    assert again.json()["args"] == {"inspect": "close"}
    session.close()  # autoclose: the cache is closed too
    assert session.get(url).from_cache is True
    assert session.cache.contains(url=url)


def test_close_without_autoclose_leaves_the_cache_open(
    make_session: SessionFactory, origin: LocalOrigin
) -> None:
    session = make_session(autoclose=False)
    url = origin.url("/json?inspect=no-autoclose")
    session.get(url)
    session.close()
    assert session.cache.contains(url=url)
    assert session.get(url).from_cache is True


# -- update and recreate_keys ----------------------------------------------------------------


def test_update_copies_memory_into_sqlite(tmp_path: Path, origin: LocalOrigin) -> None:
    memory_session = CachedSession(backend="memory")
    plain = memory_session.get(origin.url("/json?inspect=update"))
    redirected = memory_session.get(origin.url("/redirect/1?inspect=update"))
    memory_session.cache.responses.set_raw("unreadable", object())

    sqlite_session = CachedSession(f"{tmp_path}/updated", backend="sqlite")
    sqlite_session.cache.update(memory_session.cache)
    assert sorted(sqlite_session.cache.responses) == sorted([plain.cache_key, redirected.cache_key])
    assert dict(sqlite_session.cache.redirects.items()) == dict(
        memory_session.cache.redirects.items()
    )

    before = dict(origin.hits)
    copied = sqlite_session.get(origin.url("/json?inspect=update"))
    via_alias = sqlite_session.get(origin.url("/redirect/1?inspect=update"))
    assert dict(origin.hits) == before
    assert copied.from_cache is True
    assert copied.json() == plain.json()
    assert via_alias.from_cache is True
    assert via_alias.json() == redirected.json()
    sqlite_session.close()


def test_update_copies_sqlite_into_memory(tmp_path: Path, origin: LocalOrigin) -> None:
    sqlite_session = CachedSession(f"{tmp_path}/source", backend="sqlite")
    stored = sqlite_session.get(origin.url("/bytes/64?inspect=update"))
    memory = MemoryCache()
    memory.update(sqlite_session.cache)
    copy = memory.get_response(stored.cache_key)
    assert copy is not None
    assert copy.content == stored.content
    sqlite_session.close()


def test_recreate_keys(session: CachedSession, origin: LocalOrigin) -> None:
    url = origin.url("/json?inspect=recreate&version=2")
    old_key = session.get(url).cache_key
    variant = origin.url("/json?inspect=recreate&version=99")
    assert not session.cache.contains(url=variant)

    session.settings.ignored_parameters = (*DEFAULT_IGNORED_PARAMS, "version")
    assert not session.cache.contains(url=variant)  # the stored key follows the old rules
    session.cache.recreate_keys()
    assert old_key not in session.cache.responses
    assert session.cache.contains(url=variant)
    before = origin.hits["/json"]
    hit = session.get(variant)
    assert hit.from_cache is True
    assert hit.json()["args"] == {"inspect": "recreate", "version": "2"}
    assert origin.hits["/json"] == before


def test_recreate_keys_keeps_unchanged_keys(session: CachedSession, origin: LocalOrigin) -> None:
    keys = sorted(session.get(origin.url(f"/json?inspect=same&n={n}")).cache_key for n in (1, 2))
    session.cache.responses.set_raw("unreadable", GARBAGE)
    session.cache.recreate_keys()
    assert sorted(session.cache.responses) == sorted([*keys, "unreadable"])
