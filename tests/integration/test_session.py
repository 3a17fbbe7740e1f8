"""CachedSession end to end: mixing into other sessions, wrap(), scoping, settings, every
expiration form, per-request options, Cache-Control, stale-if-error and
stale-while-revalidate. The clock is moved with time_machine, never waited for."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
import requests
import time_machine
from requests import PreparedRequest, Request, Session
from requests_mock import Adapter, Mocker

from requests_cache_like import (
    DO_NOT_CACHE,
    EXPIRE_IMMEDIATELY,
    NEVER_EXPIRE,
    CachedSession,
    CacheMixin,
    CacheSettings,
)
from requests_cache_like import session as session_module
from requests_cache_like.concurrency import REFRESH_POOL
from requests_cache_like.demo import LocalOrigin

SessionFactory = Callable[..., CachedSession]
START = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)
API = "http://api.test"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """Time frozen at START; tests move it with ``clock.shift(...)``."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def wait_for_refreshes() -> None:
    assert REFRESH_POOL.wait_idle(timeout=30), "background refresh hung"


class Validated:
    """A mocked resource with an ETag: 304 to a matching If-None-Match, 200 otherwise.

    ``headers`` go on the 200, ``not_modified_headers`` on the 304; every call is recorded.
    """

    def __init__(
        self,
        headers: dict[str, str] | None = None,
        not_modified_headers: dict[str, str] | None = None,
        etag: str = '"v1"',
        body: str = "body-v1",
    ) -> None:
        self.headers = headers or {}
        self.not_modified_headers = not_modified_headers or {}
        self.etag = etag
        self.body = body
        self.conditions: list[str | None] = []

    @property
    def calls(self) -> int:
        return len(self.conditions)

    def __call__(self, request: Any, context: Any) -> str:
        condition = request.headers.get("If-None-Match")
        self.conditions.append(condition)
        if condition == self.etag:
            context.status_code = 304
            context.headers = {**self.not_modified_headers, "ETag": self.etag}
            return ""
        context.headers = {**self.headers, "ETag": self.etag}
        return self.body


# -- CacheMixin with other Session subclasses ---------------------------------------------
class HeaderOnSend(Session):
    """A third-party session that adds a header in send()."""

    sends = 0

    def send(self, request: PreparedRequest, **kwargs: Any) -> Any:  # type: ignore[override]
        type(self).sends += 1
        request.headers["X-Sent-By"] = "subclass"
        return super().send(request, **kwargs)


class MixinFirst(CacheMixin, HeaderOnSend):  # type: ignore[misc]
    sends = 0


class SubclassFirst(HeaderOnSend, CacheMixin, Session):  # type: ignore[misc]
    sends = 0


class HeaderOnRequest(Session):
    """A third-party session that adds a header in request()."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        headers = dict(kwargs.pop("headers", None) or {})
        headers["X-Request-Hook"] = "yes"
        return super().request(method, url, *args, headers=headers, **kwargs)


class RequestFirst(HeaderOnRequest, CacheMixin, Session):  # type: ignore[misc]
    pass


class VersionParam(Session):
    """A third-party session that rewrites every prepared URL (adds ``v=2``)."""

    def prepare_request(self, request: Request) -> PreparedRequest:
        prepared = super().prepare_request(request)
        prepared.prepare_url(prepared.url, {"v": "2"})
        return prepared


class PrepareFirst(VersionParam, CacheMixin, Session):  # type: ignore[misc]
    pass


@pytest.mark.parametrize(
    ("session_class", "sends_on_hit"),
    [(MixinFirst, 0), (SubclassFirst, 1)],
    ids=["mixin-first", "subclass-first"],
)
def test_subclass_send_still_runs_on_misses(
    cache_path: str,
    backend_name: str,
    origin: LocalOrigin,
    session_class: type[CachedSession],
    sends_on_hit: int,
) -> None:
    assert session_module._supports_fast_path(session_class) is False
    with session_class(cache_path, backend=backend_name) as session:
        for number in range(3):
            url = origin.url(f"/headers?mro={session_class.__name__}&n={number}")
            miss = session.get(url)
            assert miss.from_cache is False
            assert miss.json()["headers"]["X-Sent-By"] == "subclass"
            sends = session_class.sends
            hit = session.get(url)
            assert hit.from_cache is True
            assert hit.json()["headers"]["X-Sent-By"] == "subclass"
            # Mixin first: a hit never reaches the subclass; subclass first: it always does.
            assert session_class.sends - sends == sends_on_hit


def test_request_override_before_the_mixin_keeps_the_fast_path(
    cache_path: str, backend_name: str, origin: LocalOrigin
) -> None:
    assert session_module._supports_fast_path(RequestFirst) is True
    with RequestFirst(cache_path, backend=backend_name) as session:
        url = origin.url("/headers?mro=request-first")
        assert session.get(url).json()["headers"]["X-Request-Hook"] == "yes"
        hit = session.get(url)
        assert hit.from_cache is True
        assert hit.json()["headers"]["X-Request-Hook"] == "yes"


def test_prepare_request_override_before_the_mixin_disables_the_fast_path(
    make_session: SessionFactory, origin: LocalOrigin
) -> None:
    assert session_module._supports_fast_path(PrepareFirst) is False
    plain = make_session()
    url = origin.url("/json?rewritten=1")
    assert plain.get(url).json()["args"] == {"rewritten": "1"}
    # Same cache, but this session sends (and so must key) the rewritten URL.
    rewriting = PrepareFirst(backend=plain.cache)
    response = rewriting.get(url)
    assert response.from_cache is False
    assert response.json()["args"] == {"rewritten": "1", "v": "2"}
    assert rewriting.get(url).json()["args"] == {"rewritten": "1", "v": "2"}


# -- wrap() -------------------------------------------------------------------------------
def test_wrap_keeps_auth_headers_adapters_and_hooks(cache_path: str, backend_name: str) -> None:
    original = requests.Session()
    original.auth = ("alice", "secret")
    original.headers["X-Team"] = "blue"
    original.params = {}
    original.verify = False
    seen: list[int] = []
    original.hooks["response"].append(lambda response, **kwargs: seen.append(1))
    adapter = Adapter()
    adapter.register_uri("GET", f"{API}/wrapped", json={"wrapped": True})
    original.mount(f"{API}/", adapter)

    session = CachedSession.wrap(original, cache_name=cache_path, backend=backend_name)
    try:
        assert isinstance(session, CachedSession)
        assert session.auth == ("alice", "secret")
        assert session.headers["X-Team"] == "blue"
        assert session.verify is False
        assert session.get_adapter(f"{API}/wrapped") is adapter
        first = session.get(f"{API}/wrapped")
        second = session.get(f"{API}/wrapped")
        assert (first.from_cache, second.from_cache) == (False, True)
        assert second.json() == {"wrapped": True}
        assert adapter.call_count == 1
        sent = adapter.last_request
        assert sent.headers["X-Team"] == "blue"
        assert sent.headers["Authorization"].startswith("Basic ")
        assert seen == [1, 1]  # the hook ran for the miss and for the hit
    finally:
        session.close()


# -- cache_disabled() -----------------------------------------------------------------------
def test_cache_disabled_neither_reads_nor_writes_and_nests(
    session: CachedSession, origin: LocalOrigin
) -> None:
    stored = origin.url("/json?disabled=stored")
    fresh = origin.url("/json?disabled=new")
    session.get(stored)
    before = origin.hits["/json"]
    with session.cache_disabled():
        assert session.get(stored).from_cache is False  # no read
        with session.cache_disabled():
            assert session.get(fresh).from_cache is False
        assert session.get(fresh).from_cache is False  # still disabled after the inner block
    assert origin.hits["/json"] == before + 3
    assert not session.cache.contains(url=fresh)  # no write
    assert session.get(stored).from_cache is True  # normal again
    assert session.get(fresh).from_cache is False
    assert session.get(fresh).from_cache is True


def test_cache_disabled_is_undone_after_an_exception(
    session: CachedSession, origin: LocalOrigin
) -> None:
    url = origin.url("/json?disabled=error")
    session.get(url)
    with pytest.raises(RuntimeError), session.cache_disabled():
        raise RuntimeError("boom")
    assert session.settings.disabled is False
    assert session.get(url).from_cache is True


# -- settings assignment ------------------------------------------------------------------
def test_assigning_settings_changes_behaviour(
    session: CachedSession, origin: LocalOrigin, clock: time_machine.Traveller
) -> None:
    session.settings.expire_after = 30
    assert session.get(origin.url("/json?setting=expire")).expires == START + timedelta(seconds=30)

    not_found = origin.url("/status/404")
    session.get(not_found)
    assert session.get(not_found).from_cache is False  # 404 is not an allowable code yet
    session.settings.allowable_codes = (200, 404)
    session.get(not_found)
    assert session.get(not_found).from_cache is True

    replacement = CacheSettings(expire_after=DO_NOT_CACHE)
    session.settings = replacement
    assert session.cache.settings is replacement
    url = origin.url("/json?setting=replaced")
    session.get(url)
    assert session.get(url).from_cache is False

    session.settings = CacheSettings(read_only=True)
    assert session.get(not_found).from_cache is True  # still read
    session.get(url)
    assert not session.cache.contains(url=url)  # never written


def test_changing_key_settings_drops_memoised_keys(
    session: CachedSession, origin: LocalOrigin
) -> None:
    first = origin.url("/json?a=1&b=1")
    assert session.get(first).json()["args"] == {"a": "1", "b": "1"}
    assert session.get(first).from_cache is True  # its key is memoised now
    session.settings.ignored_parameters = ("a",)
    third = session.get(origin.url("/json?a=3&b=1"))
    assert third.from_cache is False
    # With "a" ignored, the first URL has the key of the third: a stale memo would serve
    # the first response instead.
    again = session.get(first)
    assert again.from_cache is True
    assert again.json()["args"] == {"a": "3", "b": "1"}


# -- expire_after, end to end ---------------------------------------------------------------
@pytest.mark.parametrize("value", [-1, None, NEVER_EXPIRE], ids=["-1", "None", "NEVER_EXPIRE"])
def test_never_expire(
    make_session: SessionFactory,
    origin: LocalOrigin,
    clock: time_machine.Traveller,
    value: Any,
) -> None:
    session = make_session(expire_after=value)
    url = origin.url(f"/json?never={value}")
    first = session.get(url)
    assert first.expires is None
    assert first.is_expired is False
    clock.shift(timedelta(days=3650))
    before = origin.hits["/json"]
    second = session.get(url)
    assert second.from_cache is True
    assert second.is_expired is False
    assert origin.hits["/json"] == before


@pytest.mark.parametrize(
    "value", [0, EXPIRE_IMMEDIATELY, timedelta(0)], ids=["0", "EXPIRE_IMMEDIATELY", "timedelta0"]
)
def test_expire_immediately_stores_with_validator_and_revalidates_every_use(
    make_session: SessionFactory,
    origin: LocalOrigin,
    clock: time_machine.Traveller,
    value: Any,
) -> None:
    session = make_session(expire_after=value)
    url = origin.url("/etag/immediate")
    before = origin.hits["/etag/immediate"]
    first = session.get(url)
    assert first.from_cache is False
    assert session.cache.contains(url=url)
    for use in range(1, 3):
        again = session.get(url)
        assert again.from_cache is True
        assert again.revalidated is True  # the origin answered 304
        assert again.json() == first.json()
        assert origin.hits["/etag/immediate"] == before + 1 + use

    no_validator = origin.url("/json?immediate=1")
    session.get(no_validator)
    assert not session.cache.contains(url=no_validator)
    assert session.get(no_validator).from_cache is False


def test_do_not_cache_neither_reads_nor_writes(
    make_session: SessionFactory, origin: LocalOrigin, clock: time_machine.Traveller
) -> None:
    session = make_session()
    url = origin.url("/json?do_not_cache=1")
    stored = session.get(url)
    clock.shift(timedelta(seconds=5))
    before = origin.hits["/json"]
    bypassed = session.get(url, expire_after=DO_NOT_CACHE)
    assert bypassed.from_cache is False  # no read
    assert origin.hits["/json"] == before + 1
    cached = session.get(url)
    assert cached.from_cache is True
    assert cached.created_at == stored.created_at  # no write

    never = make_session(expire_after=DO_NOT_CACHE)
    other = origin.url("/json?do_not_cache=2")
    never.get(other)
    assert never.get(other).from_cache is False
    assert not never.cache.contains(url=other)


@pytest.mark.parametrize(
    "value", [60, 60.0, timedelta(seconds=60)], ids=["int", "float", "timedelta"]
)
def test_expire_after_duration(
    make_session: SessionFactory,
    origin: LocalOrigin,
    clock: time_machine.Traveller,
    value: Any,
) -> None:
    session = make_session(expire_after=value)
    url = origin.url(f"/json?duration={value}")
    first = session.get(url)
    assert first.created_at == START
    assert first.expires == START + timedelta(seconds=60)
    clock.shift(timedelta(seconds=59))
    hit = session.get(url)
    assert (hit.from_cache, hit.is_expired) == (True, False)
    assert hit.expires == START + timedelta(seconds=60)
    clock.shift(timedelta(seconds=2))
    before = origin.hits["/json"]
    refetched = session.get(url)
    assert refetched.from_cache is False
    assert origin.hits["/json"] == before + 1
    assert refetched.expires == START + timedelta(seconds=121)
    assert session.get(url).from_cache is True


def test_expire_after_datetime(
    make_session: SessionFactory, origin: LocalOrigin, clock: time_machine.Traveller
) -> None:
    deadline = START + timedelta(hours=1)
    session = make_session(expire_after=deadline)
    url = origin.url("/json?deadline=1")
    assert session.get(url).expires == deadline
    clock.shift(timedelta(minutes=59))
    assert session.get(url).from_cache is True
    clock.shift(timedelta(minutes=2))
    stale = session.get(url)
    assert stale.from_cache is False


def test_urls_expire_after_globs_and_regex_first_match_wins(
    make_session: SessionFactory, origin: LocalOrigin, clock: time_machine.Traveller
) -> None:
    host = origin.base_url.split("://", 1)[1]
    session = make_session(
        expire_after=10,
        urls_expire_after={
            f"{host}/json?first*": 100,  # glob, without scheme
            re.compile(r"/json\?(first|second)"): 200,  # regex
            "*/json*": DO_NOT_CACHE,
            "*/etag/*": timedelta(minutes=5),
        },
    )
    after = START.__add__
    assert session.get(origin.url("/json?first=1")).expires == after(timedelta(seconds=100))
    assert session.get(origin.url("/json?second=1")).expires == after(timedelta(seconds=200))
    assert session.get(origin.url("/etag/pattern")).expires == after(timedelta(minutes=5))
    assert session.get(origin.url("/cache/5")).expires == after(timedelta(seconds=10))
    other = origin.url("/json?other=1")
    session.get(other)
    assert not session.cache.contains(url=other)
    # A per-request value beats every pattern.
    assert session.get(other, expire_after=30).expires == after(timedelta(seconds=30))
    assert session.cache.contains(url=other)
    assert session.get(other, expire_after=30).from_cache is True
    assert session.get(other).from_cache is False  # the pattern forbids reading it too


# -- per-request options ------------------------------------------------------------------
def _call(session: CachedSession, how: str, url: str, **options: Any) -> Any:
    if how == "send":
        return session.send(session.prepare_request(Request("GET", url)), **options)
    if how == "request":
        return session.request("GET", url, **options)
    if how == "post":
        return session.post(url, data="payload", **options)
    return getattr(session, how)(url, **options)


CALLS = ["get", "head", "post", "request", "send"]


@pytest.mark.parametrize("how", CALLS)
def test_per_request_expire_after(
    make_session: SessionFactory,
    origin: LocalOrigin,
    clock: time_machine.Traveller,
    how: str,
) -> None:
    session = make_session(allowable_methods=("GET", "HEAD", "POST"), expire_after=600)
    url = origin.url(f"/echo?per_request={how}")
    first = _call(session, how, url, expire_after=30)
    assert first.from_cache is False
    assert first.expires == START + timedelta(seconds=30)
    hit = _call(session, how, url)
    assert hit.from_cache is True
    assert hit.expires == START + timedelta(seconds=30)
    clock.shift(timedelta(seconds=31))
    assert _call(session, how, url).from_cache is False


@pytest.mark.parametrize("how", CALLS)
def test_only_if_cached(
    make_session: SessionFactory,
    origin: LocalOrigin,
    clock: time_machine.Traveller,
    how: str,
) -> None:
    session = make_session(allowable_methods=("GET", "HEAD", "POST"), expire_after=60)
    url = origin.url(f"/echo?only_if_cached={how}")
    before = origin.hits["/echo"]
    miss = _call(session, how, url, only_if_cached=True)
    assert miss.status_code == 504
    assert miss.ok is False
    assert origin.hits["/echo"] == before  # the origin was not asked
    _call(session, how, url)
    hit = _call(session, how, url, only_if_cached=True)
    assert (hit.status_code, hit.from_cache) == (200, True)
    clock.shift(timedelta(seconds=61))
    assert _call(session, how, url, only_if_cached=True).status_code == 504  # stale
    assert origin.hits["/echo"] == before + 1


@pytest.mark.parametrize("how", ["get", "head", "request", "send"])
def test_refresh_sends_a_conditional_request(
    make_session: SessionFactory, origin: LocalOrigin, how: str
) -> None:
    session = make_session()
    url = origin.url(f"/etag/refresh-{how}")
    path = f"/etag/refresh-{how}"
    _call(session, how, url)
    assert _call(session, how, url).from_cache is True
    before = origin.hits[path]
    refreshed = _call(session, how, url, refresh=True)
    assert origin.hits[path] == before + 1
    assert refreshed.from_cache is True
    assert refreshed.revalidated is True

    no_validator = origin.url(f"/json?refresh={how}")
    _call(session, how, no_validator)
    before = origin.hits["/json"]
    fetched = _call(session, how, no_validator, refresh=True)
    assert fetched.from_cache is False
    assert origin.hits["/json"] == before + 1


@pytest.mark.parametrize("how", CALLS)
def test_force_refresh_fetches_and_stores(
    make_session: SessionFactory,
    origin: LocalOrigin,
    clock: time_machine.Traveller,
    how: str,
) -> None:
    session = make_session(allowable_methods=("GET", "HEAD", "POST"))
    url = origin.url(f"/echo?force_refresh={how}")
    _call(session, how, url)
    clock.shift(timedelta(seconds=10))
    before = origin.hits["/echo"]
    forced = _call(session, how, url, force_refresh=True)
    assert forced.from_cache is False
    assert origin.hits["/echo"] == before + 1
    stored = _call(session, how, url)
    assert stored.from_cache is True
    assert stored.created_at == START + timedelta(seconds=10)  # the forced fetch was stored


# -- Cache-Control ------------------------------------------------------------------------
def test_cache_control_max_age_and_no_store(
    make_session: SessionFactory, origin: LocalOrigin, clock: time_machine.Traveller
) -> None:
    session = make_session(cache_control=True, expire_after=5)
    url = origin.url("/cache/30")
    assert session.get(url).expires == START + timedelta(seconds=30)
    clock.shift(timedelta(seconds=29))
    assert session.get(url).from_cache is True
    clock.shift(timedelta(seconds=2))
    assert session.get(url).from_cache is False

    no_store = origin.url("/no-store")
    session.get(no_store)
    assert not session.cache.contains(url=no_store)
    assert session.get(no_store).from_cache is False


def test_cache_control_off_ignores_response_headers(
    make_session: SessionFactory, origin: LocalOrigin, clock: time_machine.Traveller
) -> None:
    session = make_session(expire_after=5)
    assert session.get(origin.url("/cache/30")).expires == START + timedelta(seconds=5)
    session.get(origin.url("/no-store"))
    assert session.get(origin.url("/no-store")).from_cache is True


def test_response_no_cache_is_stored_and_revalidated_every_time(
    make_session: SessionFactory, requests_mock: Mocker, clock: time_machine.Traveller
) -> None:
    resource = Validated({"Cache-Control": "no-cache"})
    requests_mock.get(f"{API}/no-cache", text=resource)
    session = make_session(cache_control=True)
    session.get(f"{API}/no-cache")
    assert session.cache.contains(url=f"{API}/no-cache")
    for use in range(1, 3):
        again = session.get(f"{API}/no-cache")
        assert (again.from_cache, again.revalidated, again.text) == (True, True, "body-v1")
        assert resource.conditions[-1] == '"v1"'
        assert resource.calls == 1 + use


@pytest.mark.parametrize(
    ("cache_control", "origin_asked"),
    [("max-age=10", False), ("max-age=10, must-revalidate", True)],
    ids=["stale-allowed", "must-revalidate"],
)
def test_must_revalidate_overrides_request_max_stale(
    make_session: SessionFactory,
    requests_mock: Mocker,
    clock: time_machine.Traveller,
    cache_control: str,
    origin_asked: bool,
) -> None:
    resource = Validated({"Cache-Control": cache_control})
    requests_mock.get(f"{API}/must", text=resource)
    session = make_session(cache_control=True)
    session.get(f"{API}/must")
    clock.shift(timedelta(seconds=20))
    response = session.get(f"{API}/must", headers={"Cache-Control": "max-stale=60"})
    assert response.from_cache is True
    assert resource.calls == (2 if origin_asked else 1)
    assert response.revalidated is origin_asked


def test_immutable_never_expires(
    make_session: SessionFactory, requests_mock: Mocker, clock: time_machine.Traveller
) -> None:
    requests_mock.get(
        f"{API}/immutable", text="forever", headers={"Cache-Control": "max-age=10, immutable"}
    )
    session = make_session(cache_control=True, expire_after=5)
    assert session.get(f"{API}/immutable").expires is None
    clock.shift(timedelta(days=365))
    assert session.get(f"{API}/immutable").from_cache is True
    assert requests_mock.call_count == 1


def test_expires_header(
    make_session: SessionFactory, requests_mock: Mocker, clock: time_machine.Traveller
) -> None:
    expires = START + timedelta(minutes=2)
    requests_mock.get(
        f"{API}/expires", text="dated", headers={"Expires": format_datetime(expires, usegmt=True)}
    )
    session = make_session(cache_control=True)
    assert session.get(f"{API}/expires").expires == expires
    clock.shift(timedelta(seconds=119))
    assert session.get(f"{API}/expires").from_cache is True
    clock.shift(timedelta(seconds=2))
    assert session.get(f"{API}/expires").from_cache is False
    assert requests_mock.call_count == 2


def test_cache_control_without_headers_falls_back_to_expire_after(
    make_session: SessionFactory, requests_mock: Mocker, clock: time_machine.Traveller
) -> None:
    requests_mock.get(f"{API}/plain", text="plain")
    session = make_session(cache_control=True, expire_after=42)
    assert session.get(f"{API}/plain").expires == START + timedelta(seconds=42)


def test_request_cache_control_is_honoured(
    make_session: SessionFactory, requests_mock: Mocker, clock: time_machine.Traveller
) -> None:
    resource = Validated()
    requests_mock.get(f"{API}/request-cc", text=resource)
    session = make_session(expire_after=600)
    url = f"{API}/request-cc"

    missing = session.get(url, headers={"Cache-Control": "only-if-cached"})
    assert missing.status_code == 504
    assert resource.calls == 0

    session.get(url)
    clock.shift(timedelta(seconds=10))
    no_cache = session.get(url, headers={"Cache-Control": "no-cache"})
    assert (no_cache.from_cache, no_cache.revalidated) == (True, True)
    assert resource.conditions == [None, '"v1"']

    clock.shift(timedelta(seconds=10))  # the entry was refreshed 10 s ago
    assert session.get(url, headers={"Cache-Control": "max-age=30"}).revalidated is False
    assert resource.calls == 2
    too_old = session.get(url, headers={"Cache-Control": "max-age=5"})
    assert too_old.revalidated is True
    assert resource.calls == 3
    assert session.get(url, headers={"Cache-Control": "only-if-cached"}).status_code == 200


def test_304_refreshes_the_stored_entry(
    make_session: SessionFactory, requests_mock: Mocker, clock: time_machine.Traveller
) -> None:
    resource = Validated(
        headers={"Cache-Control": "max-age=10", "X-Version": "1", "Content-Type": "text/plain"},
        not_modified_headers={
            "Cache-Control": "max-age=100",
            "X-Version": "2",
            "Content-Type": "text/html",
        },
    )
    requests_mock.get(f"{API}/merge", text=resource)
    session = make_session(cache_control=True, expire_after=NEVER_EXPIRE)
    first = session.get(f"{API}/merge")
    assert first.expires == START + timedelta(seconds=10)
    clock.shift(timedelta(seconds=11))
    revalidated = session.get(f"{API}/merge")
    assert (revalidated.from_cache, revalidated.revalidated) == (True, True)
    assert revalidated.headers["X-Version"] == "2"
    assert revalidated.headers["Content-Type"] == "text/plain"  # not taken from a 304
    assert revalidated.text == "body-v1"
    assert revalidated.expires == START + timedelta(seconds=111)
    assert revalidated.created_at == START + timedelta(seconds=11)

    clock.shift(timedelta(seconds=50))
    later = session.get(f"{API}/merge")
    assert (later.from_cache, later.revalidated) == (True, False)
    assert later.headers["x-version"] == "2"  # the merge was stored
    assert later.expires == START + timedelta(seconds=111)
    assert resource.calls == 2


# -- stale-if-error -------------------------------------------------------------------------
FAILURES = [
    {"status_code": 500},
    {"status_code": 503},
    {"exc": requests.exceptions.ConnectionError},
]
FAILURE_IDS = ["500", "503", "connection-error"]


@pytest.mark.parametrize("failure", FAILURES, ids=FAILURE_IDS)
def test_stale_if_error_serves_the_stale_response(
    make_session: SessionFactory,
    requests_mock: Mocker,
    clock: time_machine.Traveller,
    failure: dict[str, Any],
) -> None:
    url = f"{API}/flaky"
    requests_mock.get(url, text="good")
    session = make_session(expire_after=60, stale_if_error=True)
    session.get(url)
    clock.shift(timedelta(seconds=120))
    requests_mock.get(url, **failure)
    response = session.get(url)
    assert (response.status_code, response.text) == (200, "good")
    assert (response.from_cache, response.is_expired) == (True, True)
    assert requests_mock.call_count == 2


@pytest.mark.parametrize("failure", FAILURES, ids=FAILURE_IDS)
@pytest.mark.parametrize("stale_if_error", [False, 30], ids=["off", "window-too-short"])
def test_without_stale_if_error_the_error_propagates(
    make_session: SessionFactory,
    requests_mock: Mocker,
    clock: time_machine.Traveller,
    failure: dict[str, Any],
    stale_if_error: Any,
) -> None:
    url = f"{API}/flaky"
    requests_mock.get(url, text="good")
    session = make_session(expire_after=60, stale_if_error=stale_if_error)
    key = session.get(url).cache_key
    clock.shift(timedelta(seconds=120))  # 60 s stale: beyond a 30 s window
    requests_mock.get(url, **failure)
    if "exc" in failure:
        with pytest.raises(requests.exceptions.ConnectionError):
            session.get(url)
    else:
        response = session.get(url)
        assert response.status_code == failure["status_code"]
        assert response.from_cache is False
    # The stored response is kept, not replaced by the error.
    assert session.cache.get_response(key).text == "good"


def test_stale_if_error_within_its_window(
    make_session: SessionFactory, requests_mock: Mocker, clock: time_machine.Traveller
) -> None:
    url = f"{API}/flaky-window"
    requests_mock.get(url, text="good")
    session = make_session(expire_after=60, stale_if_error=timedelta(seconds=30))
    session.get(url)
    clock.shift(timedelta(seconds=80))  # 20 s stale
    requests_mock.get(url, status_code=502)
    assert session.get(url).text == "good"


# -- stale-while-revalidate ---------------------------------------------------------------
def test_stale_while_revalidate_serves_stale_then_refreshes_in_background(
    make_session: SessionFactory, requests_mock: Mocker, clock: time_machine.Traveller
) -> None:
    url = f"{API}/swr"
    requests_mock.get(url, [{"text": "v1"}, {"text": "v2"}])
    session = make_session(expire_after=60, stale_while_revalidate=True)
    session.get(url)
    clock.shift(timedelta(seconds=120))
    stale = session.get(url)
    assert (stale.text, stale.from_cache, stale.is_expired) == ("v1", True, True)
    wait_for_refreshes()
    assert requests_mock.call_count == 2
    fresh = session.get(url)
    assert (fresh.text, fresh.from_cache, fresh.is_expired) == ("v2", True, False)
    assert fresh.expires == START + timedelta(seconds=180)
    assert requests_mock.call_count == 2


def test_stale_while_revalidate_background_304_keeps_the_served_response_unchanged(
    make_session: SessionFactory, requests_mock: Mocker, clock: time_machine.Traveller
) -> None:
    resource = Validated()
    requests_mock.get(f"{API}/swr-etag", text=resource)
    session = make_session(expire_after=60, stale_while_revalidate=True)
    session.get(f"{API}/swr-etag")
    clock.shift(timedelta(seconds=120))
    stale = session.get(f"{API}/swr-etag")
    wait_for_refreshes()
    assert resource.conditions == [None, '"v1"']
    # The caller's response is a snapshot: the background refresh does not edit it.
    assert (stale.is_expired, stale.revalidated) == (True, False)
    assert stale.expires == START + timedelta(seconds=60)
    refreshed = session.get(f"{API}/swr-etag")
    assert refreshed.expires == START + timedelta(seconds=180)
    assert refreshed.is_expired is False
    assert resource.calls == 2


def test_stale_while_revalidate_window(
    make_session: SessionFactory, requests_mock: Mocker, clock: time_machine.Traveller
) -> None:
    url = f"{API}/swr-window"
    requests_mock.get(url, [{"text": "v1"}, {"text": "v2"}])
    session = make_session(expire_after=60, stale_while_revalidate=30)
    session.get(url)
    clock.shift(timedelta(seconds=120))  # 60 s stale: beyond the window, fetched in line
    response = session.get(url)
    assert (response.text, response.from_cache) == ("v2", False)
