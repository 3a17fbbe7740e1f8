"""What requests.Session does keeps working on a CachedSession: auth, mounted adapters, the
``responses`` library, cookies, ``verify``, streaming, redirects and hooks; and a cached
response behaves as a :class:`requests.Response`."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import responses
import time_machine
from requests import Request
from requests.auth import HTTPBasicAuth
from requests.exceptions import HTTPError
from requests_mock import Adapter, Mocker

from requests_cache_like import CachedRequest, CachedResponse, CachedSession
from requests_cache_like import session as session_module
from requests_cache_like.demo import LocalOrigin

SessionFactory = Callable[..., CachedSession]
START = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)


def body_of(size: int) -> bytes:
    """The body LocalOrigin sends for ``/bytes/<size>``."""
    return (b"0123456789abcdef" * (size // 16 + 1))[:size]


@pytest.fixture(params=["fast", "slow"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with the hit fast path allowed, then with every request on the slow path."""
    if request.param == "slow":
        monkeypatch.setattr(session_module, "_supports_fast_path", lambda cls: False)
    return str(request.param)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


# -- auth ---------------------------------------------------------------------------------
def test_basic_auth_per_request(session: CachedSession, origin: LocalOrigin) -> None:
    url = origin.url("/headers?auth=request")
    auth = HTTPBasicAuth("alice", "secret")
    miss = session.get(url, auth=auth)
    assert miss.json()["headers"]["Authorization"].startswith("Basic ")
    hit = session.get(url, auth=auth)
    assert hit.from_cache is True
    # The secret is not stored with the request.
    assert hit.request.headers["Authorization"] == "REDACTED"


@pytest.mark.parametrize(
    "auth", [("alice", "secret"), HTTPBasicAuth("alice", "secret")], ids=["tuple", "basic"]
)
def test_session_auth(session: CachedSession, origin: LocalOrigin, auth: Any) -> None:
    session.auth = auth
    url = origin.url("/headers?auth=session")
    before = origin.hits["/headers"]
    miss = session.get(url)
    assert miss.json()["headers"]["Authorization"].startswith("Basic ")
    assert session.get(url).from_cache is True
    assert origin.hits["/headers"] == before + 1


# -- other transports ---------------------------------------------------------------------
def test_requests_mock_adapter_mounted_on_the_session(session: CachedSession) -> None:
    adapter = Adapter()
    adapter.register_uri("GET", "http://mounted.test/item", json={"id": 7})
    session.mount("http://mounted.test/", adapter)
    first = session.get("http://mounted.test/item")
    second = session.get("http://mounted.test/item")
    assert (first.from_cache, second.from_cache) == (False, True)
    assert second.json() == {"id": 7}
    assert adapter.call_count == 1


@responses.activate
def test_responses_library_underneath(session: CachedSession) -> None:
    responses.add(responses.GET, "http://responses.test/item", json={"id": 9})
    first = session.get("http://responses.test/item")
    second = session.get("http://responses.test/item")
    assert (first.from_cache, second.from_cache) == (False, True)
    assert second.json() == {"id": 9}
    assert len(responses.calls) == 1


# -- cookies, verify ----------------------------------------------------------------------
def test_set_cookie_on_a_miss_lands_in_the_session(
    session: CachedSession, origin: LocalOrigin
) -> None:
    session.get(origin.url("/set-cookie"))
    assert session.cookies.get("flavour") == "oatmeal"
    echoed = session.get(origin.url("/cookies?after=set"))
    assert echoed.json()["cookie"] == "flavour=oatmeal"


def test_cookies_param_is_sent(session: CachedSession, origin: LocalOrigin) -> None:
    url = origin.url("/cookies?param=1")
    miss = session.get(url, cookies={"colour": "green"})
    assert miss.json()["cookie"] == "colour=green"
    assert session.get(url, cookies={"colour": "green"}).from_cache is True


def test_verify_false_is_accepted(
    session: CachedSession, origin: LocalOrigin, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests lets these variables override session.verify; clear them for the last step.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    url = origin.url("/json?verify=0")
    assert session.get(url).from_cache is False
    assert session.get(url, verify=False).from_cache is False  # a key of its own
    assert session.get(url, verify=False).from_cache is True
    assert session.get(url).from_cache is True
    session.verify = False
    assert session.get(url).from_cache is True
    assert session.cache.contains(url=url, verify=False)


# -- streaming ----------------------------------------------------------------------------
@pytest.mark.parametrize("size", [0, 1, 5000, 70_000])
def test_stream_on_miss_and_hit(session: CachedSession, origin: LocalOrigin, size: int) -> None:
    url = origin.url(f"/bytes/{size}")
    expected = body_of(size)
    miss = session.get(url, stream=True)
    assert miss.from_cache is False
    assert b"".join(miss.iter_content(chunk_size=1024)) == expected
    hit = session.get(url, stream=True)
    assert hit.from_cache is True
    assert b"".join(hit.iter_content(chunk_size=1024)) == expected

    raw_url = origin.url(f"/bytes/{size}?raw=1")
    raw_miss = session.get(raw_url, stream=True)
    assert raw_miss.raw.read() == expected
    raw_hit = session.get(raw_url, stream=True)
    assert raw_hit.from_cache is True
    assert raw_hit.raw.read(3) + raw_hit.raw.read() == expected
    assert raw_hit.raw.read() == b""


# -- redirects ----------------------------------------------------------------------------
def test_every_url_of_a_redirect_chain_is_served_from_cache(
    session: CachedSession, origin: LocalOrigin, path: str
) -> None:
    chain = ["/redirect/3", "/redirect/2", "/redirect/1", "/json"]
    first = session.get(origin.url("/redirect/3"))
    assert first.from_cache is False
    assert first.url == origin.url("/json")
    assert [r.status_code for r in first.history] == [302, 302, 302]
    hits = {p: origin.hits[p] for p in chain}

    for start in chain:
        response = session.get(origin.url(start))
        assert response.from_cache is True, start
        assert response.url == origin.url("/json")
        assert response.json() == first.json()
    assert {p: origin.hits[p] for p in chain} == hits  # the origin was not called

    # Without following redirects, the alias does not answer: the origin's 302 does.
    not_followed = session.get(origin.url("/redirect/3"), allow_redirects=False)
    assert not_followed.status_code == 302
    assert not_followed.from_cache is False
    assert origin.hits["/redirect/3"] == hits["/redirect/3"] + 1
    assert session.head(origin.url("/redirect/2")).status_code == 302


# -- hooks --------------------------------------------------------------------------------
def test_response_hooks_run_once_per_request(
    session: CachedSession, origin: LocalOrigin, path: str
) -> None:
    session_calls: list[bool] = []
    request_calls: list[bool] = []

    # On a miss, requests runs hooks before the cache has seen the response (as in
    # requests-cache), so ``from_cache`` is only set on hits.
    def session_hook(response: Any, **kwargs: Any) -> None:
        session_calls.append(getattr(response, "from_cache", False))

    def request_hook(response: Any, **kwargs: Any) -> Any:
        request_calls.append(getattr(response, "from_cache", False))
        response.headers["X-Hooked"] = "yes"
        return response

    session.hooks["response"].append(session_hook)
    url = origin.url("/json?hooks=1")
    for _ in range(3):
        session.get(url)
    assert session_calls == [False, True, True]

    # Per-request hooks replace the session's for the same event (requests' merge rule).
    other = origin.url("/json?hooks=2")
    for _ in range(3):
        response = session.get(other, hooks={"response": request_hook})
        assert response.headers["X-Hooked"] == "yes"
    assert request_calls == [False, True, True]
    assert session_calls == [False, True, True]

    session.hooks["response"].clear()
    third = origin.url("/json?hooks=3")
    for _ in range(2):
        session.get(third, hooks={"response": [request_hook, session_hook]})
    assert request_calls == [False, True, True, False, True]
    assert session_calls == [False, True, True, False, True]


def test_hook_returning_a_new_response_replaces_a_hit(
    session: CachedSession, origin: LocalOrigin, path: str
) -> None:
    replacement = requests.Response()
    replacement.status_code = 418
    url = origin.url("/json?hooks=replace")
    session.get(url)
    answer = session.get(url, hooks={"response": lambda response, **kwargs: replacement})
    assert answer is replacement


def test_the_request_sent_is_the_callers_and_stays_as_it_was(
    session: CachedSession, origin: LocalOrigin
) -> None:
    # As in requests: a miss's response carries the prepared request that was sent.
    prepared = Request("GET", origin.url("/etag/sent")).prepare()
    response = session.send(prepared)
    assert response.from_cache is False
    assert response.request is prepared
    # A revalidation adds its conditional fields to a copy; the caller's request is unchanged.
    revalidated = session.send(prepared, refresh=True)
    assert revalidated.revalidated is True  # the origin saw If-None-Match and answered 304
    assert "If-None-Match" not in prepared.headers
    # Response hooks run once, by the session: the caller's request keeps them.
    hook = lambda response, **kwargs: response  # noqa: E731
    hooked = Request("GET", origin.url("/etag/hooked"), hooks={"response": [hook]}).prepare()
    assert session.send(hooked).from_cache is False
    assert hooked.hooks["response"] == [hook]


# -- response attributes ------------------------------------------------------------------
def test_cache_attributes_on_fresh_and_cached_responses(
    make_session: SessionFactory, origin: LocalOrigin, clock: time_machine.Traveller
) -> None:
    session = make_session(expire_after=60)
    url = origin.url("/json?attributes=1")
    key = session.cache.create_key(session.prepare_request(Request("GET", url)))
    fresh = session.get(url)
    assert fresh.from_cache is False
    assert fresh.created_at == START
    assert fresh.expires == START + timedelta(seconds=60)
    assert fresh.is_expired is False
    assert fresh.revalidated is False
    assert fresh.cache_key == key

    clock.shift(timedelta(seconds=30))
    cached = session.get(url)
    assert cached.from_cache is True
    assert cached.created_at == START
    assert cached.expires == START + timedelta(seconds=60)
    assert cached.is_expired is False
    assert cached.revalidated is False
    assert cached.cache_key == key
    clock.shift(timedelta(seconds=31))
    assert cached.is_expired is True  # computed against the clock

    not_stored = session.get(origin.url("/status/418"))
    assert not_stored.from_cache is False
    assert not_stored.expires is None
    assert not_stored.cache_key


def test_cached_response_behaves_as_a_requests_response(
    make_session: SessionFactory, origin: LocalOrigin
) -> None:
    session = make_session()
    url = origin.url("/redirect/2")
    miss = session.get(url, headers={"X-Trace": "abc"})
    hit = session.get(url, headers={"X-Trace": "abc"})
    assert isinstance(hit, CachedResponse)
    assert isinstance(hit, requests.Response)
    assert hit.from_cache is True
    assert hit.json() == miss.json()
    assert hit.text == miss.text
    assert hit.content == miss.content
    assert hit.status_code == 200
    assert hit.ok is True
    assert bool(hit) is True
    assert hit.url == miss.url
    assert hit.headers["content-type"] == hit.headers["Content-Type"] == "application/json"
    assert hit.encoding == miss.encoding
    assert hit.elapsed == miss.elapsed
    assert isinstance(hit.elapsed, timedelta)
    assert [r.status_code for r in hit.history] == [302, 302]
    assert all(isinstance(r, CachedResponse) for r in hit.history)
    assert hit.history[0].url == url
    assert hit.history[0].headers["Location"] == "/redirect/1"
    assert isinstance(hit.request, CachedRequest)
    assert hit.request.method == "GET"
    assert hit.request.url == origin.url("/json")
    assert hit.request.headers["x-trace"] == "abc"
    assert list(hit.iter_lines()) == list(miss.iter_lines())
    assert hit.is_redirect is False
    assert hit.links == {}
    assert hit.apparent_encoding


def test_cached_error_response_raises_for_status(
    make_session: SessionFactory, origin: LocalOrigin
) -> None:
    session = make_session(allowable_codes=(200, 404))
    url = origin.url("/status/404")
    session.get(url)
    hit = session.get(url)
    assert (hit.from_cache, hit.status_code, hit.ok) == (True, 404, False)
    with pytest.raises(HTTPError) as error:
        hit.raise_for_status()
    assert error.value.response is hit
    assert "404" in str(error.value)


def test_iter_lines_and_iter_content_on_a_hit(
    make_session: SessionFactory, requests_mock: Mocker
) -> None:
    requests_mock.get("http://lines.test/", text="alpha\nbeta\r\ngamma")
    session = make_session()
    session.get("http://lines.test/")
    hit = session.get("http://lines.test/")
    assert hit.from_cache is True
    assert list(hit.iter_lines()) == [b"alpha", b"beta", b"gamma"]
    assert list(hit.iter_lines(decode_unicode=True)) == ["alpha", "beta", "gamma"]
    assert b"".join(hit.iter_content(chunk_size=3)) == b"alpha\nbeta\r\ngamma"


def test_pickling_a_cached_response(make_session: SessionFactory, origin: LocalOrigin) -> None:
    session = make_session(expire_after=300)
    url = origin.url("/redirect/1")
    session.get(url)
    hit = session.get(url)
    restored = pickle.loads(pickle.dumps(hit))
    assert isinstance(restored, CachedResponse)
    for name in (
        "status_code",
        "content",
        "url",
        "reason",
        "encoding",
        "from_cache",
        "cache_key",
        "created_at",
        "expires",
        "elapsed",
    ):
        assert getattr(restored, name) == getattr(hit, name), name
    assert dict(restored.headers) == dict(hit.headers)
    assert restored.request.url == hit.request.url
    assert [r.url for r in restored.history] == [r.url for r in hit.history]
    assert restored.json() == hit.json()
    assert restored.raw.read() == hit.content
