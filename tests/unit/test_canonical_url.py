"""``is_canonical`` lets key building skip url_normalize and requests' URL preparation: it
must accept only URLs that both leave unchanged."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests import PreparedRequest
from url_normalize import url_normalize

from requests_cache_like.keys import (
    _CANONICAL,
    REDACTED,
    _encode_query,
    _normal_query,
    _query_pairs,
    is_canonical,
    normalize_url,
)


def _prepared(url: str) -> str:
    prepared = PreparedRequest()
    prepared.prepare_url(url, None)
    return prepared.url or ""


@settings(max_examples=1500, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.from_regex(_CANONICAL, fullmatch=True))
def test_accepted_urls_are_left_unchanged(url: str) -> None:
    if is_canonical(url):
        assert url_normalize(url) == url
        assert _prepared(url) == url


@settings(max_examples=1000, derandomize=True)
@given(st.text(alphabet="hHtTpPsS:/.?&=%#aA0-_~ é[]@", max_size=30))
def test_anything_accepted_is_left_unchanged(text: str) -> None:
    url = "http://a" + text
    if is_canonical(url):
        assert url_normalize(url) == url
        assert _prepared(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://origin.test/json?u=abc",
        "https://api.example.org:8443/v1/items?page=2&size=10",
        "http://127.0.0.1:8000/a/b;c@d",
        "http://a/b?flag",
    ],
)
def test_common_urls_are_recognised(url: str) -> None:
    assert is_canonical(url)


@pytest.mark.parametrize(
    "url",
    [
        "HTTP://a/",  # scheme case
        "http://A/",  # host case
        "http://a",  # no path
        "http://a:80/",  # default port
        "https://a:443/",
        "http://a:99999/",
        "http://a/./b",  # dot segments
        "http://a/b/../c",
        "http://a//b",
        "http://a/%7e",  # percent-encoding to normalise
        "http://a/b c",
        "http://a/?",  # empty query
        "http://a/?x&&y",
        "http://a/?x==1",
        "http://a/#frag",
        "http://xn--nxasmq6b/",  # IDNA
        "http://a..b/",
        "http://" + "a" * 64 + ".org/",
        "ftp://a/",
        "http://user@a/",
    ],
)
def test_urls_needing_work_are_not(url: str) -> None:
    assert not is_canonical(url)


def test_the_key_is_the_same_either_way() -> None:
    url = "http://origin.test/json?b=2&a=1"
    assert is_canonical(url)
    normalized = url_normalize(url)
    assert normalized is not None
    assert normalize_url(url) == normalize_url(normalized) == "http://origin.test/json?a=1&b=2"


def _slow_query(query: str, ignored: tuple[str, ...]) -> str:
    pairs = sorted((n, REDACTED if n in ignored else v) for n, v in _query_pairs(query))
    return _encode_query(pairs)


@settings(max_examples=1500, derandomize=True)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="ab_.~!$'()*,/:;@+%=Z9", min_size=1, max_size=3),
            st.text(alphabet="ab_.~!$'()*,/:;@+%=?Z9", max_size=3),
        ),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from([(), ("a",), ("b", "Z")]),
)
def test_a_query_taken_as_it_is_is_the_one_parsing_and_sorting_give(
    pairs: list[tuple[str, str]], ignored: tuple[str, ...]
) -> None:
    query = "&".join(f"{name}={value}" for name, value in pairs)
    url = f"http://origin.test/p?{query}"
    slow = f"http://origin.test/p?{_slow_query(query, ignored)}"
    if is_canonical(url):
        assert normalize_url(url, ignored) == slow
    if _normal_query(query, ignored):
        assert _slow_query(query, ignored) == query


def test_the_usual_query_is_taken_as_it_is() -> None:
    assert _normal_query("a=1&b=2&b=3&c=", ())
    assert not _normal_query("b=2&a=1", ())  # unsorted
    assert not _normal_query("a=1&b=2", ("b",))  # an ignored parameter is redacted
    assert not _normal_query("a=x+y", ())  # "+" is a space once parsed
    assert not _normal_query("a", ())  # a bare name gains "="
