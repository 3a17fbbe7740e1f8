"""The hit fast path answers before request preparation; these tests prove it answers exactly
as the slow path does: same key for every kind of URL, same response, and no fast answer
when anything it skips could matter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from requests import PreparedRequest, Request
from requests.auth import AuthBase
from requests_mock import ANY, Mocker

from requests_cache_like import CachedSession
from requests_cache_like import session as session_module

SessionFactory = Callable[..., CachedSession]
Spy = Callable[[CachedSession], list[PreparedRequest]]

# (url, params, memoised): memoised says whether the fast path handles the request itself;
# the others (params it cannot tell apart cheaply) go the slow way, which is also correct.
URLS: list[tuple[str, Any, bool]] = [
    ("http://fast.test/plain", None, True),
    ("http://fast.test/caf\u00e9/\u00fcber?q=\u00e4&r=\u2603", None, True),
    ("http://b\u00fccher.example/path", None, True),
    ("http://fast.test/a%2Fb%7e/%e2%98%83?x=%41%2f&y=%20", None, True),
    ("http://fast.test/space here?q=a b", None, True),
    ("http://FAST.test:80/Case", None, True),
    ("https://fast.test:443/secure", None, True),
    ("http://fast.test:8080/port", None, True),
    ("http://fast.test/trailing?", None, True),
    ("http://fast.test/fragment#section-2", None, True),
    ("http://fast.test/query-fragment?b=2&a=1#frag", None, True),
    ("http://fast.test/dupes?a=1&a=2&a=1", None, True),
    ("http://fast.test/blank?a=&b", None, True),
    ("http://user:pw@fast.test/userinfo", None, True),
    ("http://fast.test/secret?api_key=abc&x=1", None, True),
    ("http://fast.test/dict", {"b": "2", "a": "1"}, True),
    ("http://fast.test/dict-merged?z=0", {"a": "1"}, True),
    ("http://fast.test/scalars", {"i": 1, "f": 1.5, "t": True, "n": None}, True),
    ("http://fast.test/unicode-params", {"q": "\u00e4 \u2603", "s": "a&b=c"}, True),
    ("http://fast.test/bytes-params", {"b": b"raw"}, True),
    ("http://fast.test/ignored-param", {"api_key": "s", "page": "2"}, True),
    ("http://fast.test/string-params", "a=1&b=2", True),
    ("http://fast.test/list-values", {"a": ["1", "2"]}, False),
    ("http://fast.test/tuple-pairs", [("a", "1"), ("a", "2")], False),
]
URL_IDS = [url.split("/", 3)[-1] or url for url, _, _ in URLS]


@pytest.fixture
def origin_mock(requests_mock: Mocker) -> Mocker:
    """Any GET or HEAD answers 200 with a body naming the URL it was asked for."""
    requests_mock.get(ANY, text=lambda request, context: f"body of {request.url}")
    requests_mock.head(ANY, text="")
    return requests_mock


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> Spy:
    """Record every request that reaches ``session.send``: the fast path never does."""

    def attach(session: CachedSession) -> list[PreparedRequest]:
        calls: list[PreparedRequest] = []
        original = session.send

        def spy(request: PreparedRequest, **kwargs: Any) -> Any:
            calls.append(request)
            return original(request, **kwargs)

        monkeypatch.setattr(session, "send", spy)
        return calls

    return attach


def slow_key(session: CachedSession, url: str, params: Any, method: str = "GET") -> str:
    return session.cache.create_key(session.prepare_request(Request(method, url, params=params)))


@pytest.mark.parametrize(("url", "params", "memoised"), URLS, ids=URL_IDS)
def test_fast_key_equals_slow_key(
    make_session: SessionFactory,
    origin_mock: Mocker,
    sends: Spy,
    url: str,
    params: Any,
    memoised: bool,
) -> None:
    session = make_session()
    calls = sends(session)
    expected = slow_key(session, url, params)
    session.settings.key_memo.clear()

    miss = session.get(url, params=params)
    assert miss.from_cache is False
    assert miss.cache_key == expected
    memo = session.settings.key_memo
    if memoised:
        assert len(memo) == 1
        key, prepared_url = next(iter(memo.values()))
        assert key == expected
        assert prepared_url == session.prepare_request(Request("GET", url, params=params)).url
    else:
        assert len(memo) == 0

    hit = session.get(url, params=params)
    assert hit.from_cache is True
    assert hit.cache_key == expected
    assert len(calls) == (1 if memoised else 2)  # a memoised hit never reaches send()
    assert origin_mock.call_count == 1


@pytest.mark.parametrize(
    ("url", "params", "memoised"),
    [u for u in URLS if u[2]],
    ids=[i for i, u in zip(URL_IDS, URLS, strict=True) if u[2]],
)
def test_fast_hit_equals_slow_hit(
    make_session: SessionFactory,
    origin_mock: Mocker,
    sends: Spy,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    params: Any,
    memoised: bool,
) -> None:
    session = make_session(expire_after=300)
    calls = sends(session)
    session.get(url, params=params)
    fast = session.get(url, params=params)
    assert len(calls) == 1  # answered by the fast path

    monkeypatch.setattr(session_module, "_supports_fast_path", lambda cls: False)
    slow = session.get(url, params=params)
    assert len(calls) == 2  # answered through send()

    for response in (fast, slow):
        assert response.from_cache is True
    assert fast.status_code == slow.status_code
    assert dict(fast.headers) == dict(slow.headers)
    assert fast.content == slow.content
    assert fast.url == slow.url
    assert fast.cache_key == slow.cache_key
    assert fast.expires == slow.expires
    assert fast.created_at == slow.created_at
    assert fast.request.url == slow.request.url
    assert origin_mock.call_count == 1


def test_fast_and_slow_head_hits_agree(
    make_session: SessionFactory, origin_mock: Mocker, sends: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = make_session()
    calls = sends(session)
    url = "http://fast.test/head"
    session.head(url)
    fast = session.head(url)
    assert len(calls) == 1
    monkeypatch.setattr(session_module, "_supports_fast_path", lambda cls: False)
    slow = session.head(url)
    assert len(calls) == 2
    assert fast.cache_key == slow.cache_key == slow_key(session, url, None, "HEAD")
    assert fast.cache_key != slow_key(session, url, None, "GET")
    assert (fast.from_cache, slow.from_cache) == (True, True)


def test_equal_python_values_that_encode_differently_have_different_keys(
    make_session: SessionFactory, origin_mock: Mocker
) -> None:
    """1, 1.0 and True are equal (and hash alike) in Python but are sent as different
    query strings: the memo must not mistake one for another."""
    session = make_session()
    url = "http://fast.test/values"
    bodies = {}
    for value in (1, 1.0, True):
        session.get(url, params={"v": value})
        hit = session.get(url, params={"v": value})
        assert hit.from_cache is True
        bodies[repr(value)] = hit.text
    assert bodies == {
        "1": "body of http://fast.test/values?v=1",
        "1.0": "body of http://fast.test/values?v=1.0",
        "True": "body of http://fast.test/values?v=True",
    }
    assert origin_mock.call_count == 3


class QueryAuth(AuthBase):
    """An auth that signs the URL (a query parameter), as some APIs ask."""

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.prepare_url(request.url, {"signature": "s1"})
        return request


def _session_headers(name: str, value: str) -> Callable[[CachedSession], None]:
    def apply(session: CachedSession) -> None:
        session.headers[name] = value

    return apply


def _session_params(session: CachedSession) -> None:
    session.params = {"p": "1"}


def _session_auth(session: CachedSession) -> None:
    session.auth = QueryAuth()


SLOW_CASES: list[
    tuple[str, dict[str, Any], Callable[[CachedSession], None] | None, dict[str, Any]]
] = [
    ("request-cache-control", {}, None, {"headers": {"Cache-Control": "max-age=3600"}}),
    ("request-if-none-match", {}, None, {"headers": {"If-None-Match": '"abc"'}}),
    ("request-if-modified-since", {}, None, {"headers": {"if-modified-since": "x"}}),
    ("request-pragma", {}, None, {"headers": {"Pragma": "no-cache"}}),
    ("request-range", {}, None, {"headers": {"Range": "bytes=0-1"}}),
    ("session-cache-control", {}, _session_headers("Cache-Control", "max-age=60"), {}),
    ("session-params", {}, _session_params, {}),
    ("session-url-auth", {}, _session_auth, {}),
    ("key-fn", {"key_fn": lambda request, **kwargs: "one-key"}, None, {}),
    ("match-headers-true", {"match_headers": True}, None, {}),
    ("match-headers-list", {"match_headers": ["Accept-Language"]}, None, {}),
    ("refresh", {}, None, {"refresh": True}),
    ("force-refresh", {}, None, {"force_refresh": True}),
    ("auth-param", {}, None, {"auth": ("u", "p")}),
    ("list-params", {}, None, {"params": {"a": ["1", "2"]}}),
]


@pytest.mark.parametrize(
    ("settings", "setup", "request_kwargs"),
    [case[1:] for case in SLOW_CASES],
    ids=[case[0] for case in SLOW_CASES],
)
def test_fast_path_is_not_taken_when_it_could_differ(
    make_session: SessionFactory,
    origin_mock: Mocker,
    sends: Spy,
    settings: dict[str, Any],
    setup: Callable[[CachedSession], None] | None,
    request_kwargs: dict[str, Any],
) -> None:
    session = make_session(**settings)
    if setup is not None:
        setup(session)
    calls = sends(session)
    url = "http://fast.test/slow"
    session.get(url, **{k: v for k, v in request_kwargs.items() if k != "refresh"})
    before = len(calls)
    session.get(url, **request_kwargs)
    assert len(calls) == before + 1  # went through send()


def test_slow_path_keys_for_skipped_features_are_right(
    make_session: SessionFactory, origin_mock: Mocker
) -> None:
    """Where the fast path steps aside, the slow path keys what is actually sent."""
    session = make_session()
    session.auth = QueryAuth()
    response = session.get("http://fast.test/signed")
    assert response.url == "http://fast.test/signed?signature=s1"
    assert session.get("http://fast.test/signed").from_cache is True
    session.auth = None
    assert session.get("http://fast.test/signed").from_cache is False

    session.params = {"lang": "en"}
    assert session.get("http://fast.test/localised").url.endswith("?lang=en")
    session.params = {"lang": "fr"}
    assert session.get("http://fast.test/localised").from_cache is False


def test_fast_path_positive_control(
    make_session: SessionFactory, origin_mock: Mocker, sends: Spy
) -> None:
    session = make_session()
    session.headers["Accept-Language"] = "en"  # an ordinary session header changes nothing
    session.auth = ("user", "pass")
    calls = sends(session)
    url = "http://fast.test/control"
    session.get(url, headers={"X-Custom": "1"}, timeout=5, verify=True, stream=False)
    session.get(url, headers={"X-Custom": "1"}, timeout=5, verify=True, stream=False)
    session.get(url, cookies={"c": "1"}, allow_redirects=True)
    assert len(calls) == 1


def test_fast_path_runs_response_hooks_once(
    make_session: SessionFactory, origin_mock: Mocker, sends: Spy
) -> None:
    session = make_session()
    seen: list[str] = []
    session.hooks["response"].append(lambda response, **kwargs: seen.append("session"))
    calls = sends(session)
    url = "http://fast.test/hooked"
    session.get(url)
    session.get(url)
    session.get(url, hooks={"response": lambda response, **kwargs: seen.append("request")})
    assert len(calls) == 1  # both hits were answered by the fast path
    assert seen == ["session", "session", "request"]


def test_standards_mode_fast_hit_equals_slow_hit(
    make_session: SessionFactory,
    requests_mock: Mocker,
    sends: Spy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "http://fast.test/standards"
    requests_mock.get(url, text="body", headers={"Cache-Control": "max-age=600", "Age": "5"})
    session = make_session(cache_control=True)  # standards mode
    calls = sends(session)
    session.get(url)
    fast = session.get(url)
    assert len(calls) == 1  # answered by the fast path, with its Age

    monkeypatch.setattr(session_module, "_supports_fast_path", lambda cls: False)
    slow = session.get(url)
    assert len(calls) == 2
    assert fast.headers == slow.headers
    assert fast.headers["Age"] == "5"
    assert (fast.text, fast.expires, fast.from_cache) == (slow.text, slow.expires, True)
    # The stored entry is not the object handed out: its headers keep the origin's Age.
    assert session.cache.get_response(fast.cache_key).headers["Age"] == "5"


def test_vary_variants_on_the_fast_path(
    make_session: SessionFactory, requests_mock: Mocker, sends: Spy
) -> None:
    """A response that varies is answered before preparation only for its own variant: the
    call's headers merged into the session's, as requests will merge them."""
    url = "http://fast.test/vary"
    requests_mock.get(url, text="body", headers={"Cache-Control": "max-age=600", "Vary": "X-A"})
    session = make_session(cache_control=True)
    calls = sends(session)
    session.get(url, headers={"X-A": "1"})
    assert session.get(url).from_cache is False  # another variant: not the stored one
    assert session.get(url, headers={"X-A": "1"}).from_cache is True
    assert len(calls) == 2  # the matching variant was answered before send()
    session.headers["X-A"] = "1"
    assert session.get(url).from_cache is True  # the session's header counts too
    assert session.get(url, headers={"X-A": None}).from_cache is True  # the no-X-A variant
    assert len(calls) == 2


def test_vary_on_fields_set_by_preparation_takes_the_slow_path(
    make_session: SessionFactory, requests_mock: Mocker, sends: Spy
) -> None:
    url = "http://fast.test/vary-cookie"
    requests_mock.get(url, text="body", headers={"Cache-Control": "max-age=600", "Vary": "Cookie"})
    session = make_session(cache_control=True)
    calls = sends(session)
    session.get(url)
    assert session.get(url).from_cache is True
    assert len(calls) == 2  # the hit went through send(): only preparation knows the cookies
