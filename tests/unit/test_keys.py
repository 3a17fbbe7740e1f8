"""Cache keys and redaction (keys.py)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from requests import PreparedRequest, Request

from requests_cache_like.keys import (
    KEY_VERSION,
    REDACTED,
    create_key,
    normalize_body,
    normalize_url,
    redact_body,
    redact_headers,
    redact_url,
)
from requests_cache_like.models import CachedRequest
from requests_cache_like.serializers import init_serializer

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def key(method: str = "GET", url: str = "https://example.com/", **kwargs: Any) -> str:
    """Key of a fresh ``Request``; create_key options go in ``key_options``."""
    key_options = kwargs.pop("key_options", {})
    return create_key(Request(method, url, **kwargs), **key_options)


# --- golden values: any change to the key rules must bump KEY_VERSION and these ----------

GOLDEN: list[Any] = [
    pytest.param(Request("GET", "https://example.com/a?b=1&a=2"), {}, "1b4e55dcaa7c10d7", id="get"),
    pytest.param(
        Request("POST", "https://example.com/api", json={"q": 1, "b": [1, 2]}),
        {},
        "0de034c901a2d611",
        id="post-json",
    ),
    pytest.param(
        Request("GET", "https://example.com/", headers={"Accept": "application/json"}),
        {"match_headers": True},
        "1493d8b4a0c3f8f3",
        id="match-headers",
    ),
]


@pytest.mark.parametrize(("request_", "options", "expected"), GOLDEN)
def test_golden_keys(request_: Request, options: dict[str, Any], expected: str) -> None:
    assert KEY_VERSION == "rcl-key-1"
    assert create_key(request_, **options) == expected


def test_key_is_16_hex_digits() -> None:
    assert re.fullmatch(r"[0-9a-f]{16}", key())


def test_key_is_stable_across_calls() -> None:
    request = Request("POST", "https://example.com/x?b=2&a=1", data={"z": "1", "y": "2"})
    assert len({create_key(request) for _ in range(3)}) == 1


# --- pairs that must give the same key, and pairs that must not ---------------------------

SAME: list[Any] = [
    pytest.param({"method": "get"}, {"method": "GET"}, id="method-case"),
    pytest.param(
        {"url": "HTTPS://EXAMPLE.COM/path"},
        {"url": "https://example.com/path"},
        id="scheme-host-case",
    ),
    pytest.param(
        {"url": "https://example.com:443/p"},
        {"url": "https://example.com/p"},
        id="default-https-port",
    ),
    pytest.param(
        {"url": "http://example.com:80/p"}, {"url": "http://example.com/p"}, id="default-http-port"
    ),
    pytest.param(
        {"url": "https://example.com/p#section"}, {"url": "https://example.com/p"}, id="fragment"
    ),
    pytest.param({"url": "https://example.com"}, {"url": "https://example.com/"}, id="empty-path"),
    pytest.param(
        {"url": "https://example.com/a%7eb"}, {"url": "https://example.com/a~b"}, id="percent-case"
    ),
    pytest.param(
        {"url": "https://example.com/\u00fc"},
        {"url": "https://example.com/%C3%BC"},
        id="non-ascii-path",
    ),
    pytest.param(
        {"url": "https://example.com/?b=2&a=1"},
        {"url": "https://example.com/?a=1&b=2"},
        id="query-order",
    ),
    pytest.param(
        {"url": "https://example.com/", "params": {"b": "2", "a": "1"}},
        {"url": "https://example.com/?a=1&b=2"},
        id="params-vs-query",
    ),
    pytest.param(
        {"url": "https://example.com/?a=1&api_key=ONE"},
        {"url": "https://example.com/?api_key=TWO&a=1"},
        id="ignored-query-param-value",
    ),
    pytest.param(
        {"method": "POST", "json": {"a": 1, "b": {"y": 2, "x": 1}}},
        {"method": "POST", "json": {"b": {"x": 1, "y": 2}, "a": 1}},
        id="json-key-order",
    ),
    pytest.param(
        {"method": "POST", "json": {"a": 1, "api_key": "SECRET"}},
        {"method": "POST", "json": {"a": 1, "api_key": "OTHER"}},
        id="ignored-json-field",
    ),
    pytest.param(
        {"method": "POST", "data": '{"a": 1}', "headers": {"Content-Type": "application/vnd+json"}},
        {"method": "POST", "data": '{"a":1}', "headers": {"Content-Type": "application/vnd+json"}},
        id="json-suffix-type-whitespace",
    ),
    pytest.param(
        {"method": "POST", "data": {"b": "2", "a": "1"}},
        {"method": "POST", "data": {"a": "1", "b": "2"}},
        id="form-order",
    ),
    pytest.param(
        {"method": "POST", "data": {"a": "1", "access_token": "SECRET"}},
        {"method": "POST", "data": {"a": "1", "access_token": "OTHER"}},
        id="ignored-form-field",
    ),
    pytest.param(
        {"headers": {"Accept": "text/html"}},
        {"headers": {"Accept": "application/json"}},
        id="headers-ignored-by-default",
    ),
]


@pytest.mark.parametrize(("left", "right"), SAME)
def test_same_key(left: dict[str, Any], right: dict[str, Any]) -> None:
    options = {"ignored_parameters": ["api_key", "access_token"]}
    assert key(**left, key_options=options) == key(**right, key_options=options)


DIFFERENT: list[Any] = [
    # An ignored parameter's value never counts, but whether it is there does (as in
    # requests-cache): an unauthenticated request is not answered with an authenticated one.
    pytest.param(
        {"url": "https://example.com/?a=1&api_key=SECRET"},
        {"url": "https://example.com/?a=1"},
        id="ignored-query-param-present",
    ),
    pytest.param(
        {"method": "POST", "json": {"a": 1, "api_key": "SECRET"}},
        {"method": "POST", "json": {"a": 1}},
        id="ignored-json-field-present",
    ),
    pytest.param({"method": "GET"}, {"method": "HEAD"}, id="method"),
    pytest.param({"url": "http://example.com/"}, {"url": "https://example.com/"}, id="scheme"),
    pytest.param(
        {"url": "https://example.com/A"}, {"url": "https://example.com/a"}, id="path-case"
    ),
    pytest.param(
        {"url": "https://example.com:8443/"}, {"url": "https://example.com/"}, id="other-port"
    ),
    pytest.param(
        {"url": "https://example.com/?a=1"}, {"url": "https://example.com/?a=2"}, id="query-value"
    ),
    pytest.param(
        {"url": "https://example.com/?a=1&a=2"},
        {"url": "https://example.com/?a=1"},
        id="repeated-param",
    ),
    pytest.param(
        {"url": "https://example.com/?token=1"},
        {"url": "https://example.com/?token=2"},
        id="param-not-ignored",
    ),
    pytest.param(
        {"method": "POST", "json": {"a": 1}}, {"method": "POST", "json": {"a": 2}}, id="json-value"
    ),
    pytest.param(
        {"method": "POST", "data": b"\x00\x01"},
        {"method": "POST", "data": b"\x00\x02"},
        id="binary-body",
    ),
    pytest.param(
        {"method": "POST", "data": "a"}, {"method": "POST", "data": ""}, id="body-vs-no-body"
    ),
]


@pytest.mark.parametrize(("left", "right"), DIFFERENT)
def test_different_key(left: dict[str, Any], right: dict[str, Any]) -> None:
    options = {"ignored_parameters": ["api_key"]}
    assert key(**left, key_options=options) != key(**right, key_options=options)


def test_default_has_no_ignored_parameters() -> None:
    """create_key itself ignores nothing unless told (the session passes its settings)."""
    assert key(url="https://example.com/?api_key=1") != key(url="https://example.com/?api_key=2")


def test_content_root_key() -> None:
    def post(body: dict[str, Any], root: str | None) -> str:
        return key("POST", json=body, key_options={"content_root_key": root})

    first = {"data": {"q": "x"}, "meta": {"request_id": 1}}
    second = {"data": {"q": "x"}, "meta": {"request_id": 2}}
    assert post(first, "data") == post(second, "data")
    assert post(first, None) != post(second, None)
    assert post(first, "data") != post({"data": {"q": "y"}, "meta": {}}, "data")
    # A missing root key: the whole body counts.
    assert post(first, "absent") != post(second, "absent")


@pytest.mark.parametrize(
    ("match_headers", "same"),
    [
        pytest.param(False, True, id="false"),
        pytest.param(True, False, id="true"),
        pytest.param(["Accept"], False, id="named"),
        pytest.param(["ACCEPT"], False, id="named-any-case"),
        pytest.param(["X-Other"], True, id="other-named"),
    ],
)
def test_match_headers(match_headers: Any, same: bool) -> None:
    options = {"match_headers": match_headers}
    html = key(headers={"Accept": "text/html"}, key_options=options)
    json_ = key(headers={"accept": "application/json"}, key_options=options)
    assert (html == json_) is same


def test_match_headers_header_name_case() -> None:
    options = {"match_headers": ["accept-language"]}
    assert key(headers={"Accept-Language": "fr"}, key_options=options) == key(
        headers={"ACCEPT-LANGUAGE": "fr"}, key_options=options
    )


def test_match_headers_true_skips_ignored_headers() -> None:
    options = {"match_headers": True, "ignored_parameters": ["Authorization"]}
    assert key(headers={"Authorization": "Bearer a"}, key_options=options) == key(
        headers={"authorization": "Bearer b"}, key_options=options
    )
    assert key(headers={"X-Other": "a"}, key_options=options) != key(
        headers={"X-Other": "b"}, key_options=options
    )


def test_named_header_absent_vs_present() -> None:
    options = {"match_headers": ["Accept"]}
    assert key(key_options=options) != key(headers={"Accept": "x"}, key_options=options)


@pytest.mark.parametrize(
    "serializer",
    [None, "json", "pickle", init_serializer("yaml")],
    ids=["none", "json", "pickle", "yaml"],
)
def test_serializer_does_not_change_key(serializer: Any) -> None:
    assert key(key_options={"serializer": serializer}) == key()


def test_send_kwargs_are_accepted() -> None:
    options: dict[str, Any] = {
        "timeout": 5,
        "verify": True,
        "stream": True,
        "cert": None,
        "proxies": {},
        "allow_redirects": False,
    }
    assert key(key_options=options) == key()


def test_verify_false_makes_another_key() -> None:
    """As in requests-cache: an answer fetched without certificate checks never answers a
    request that asks for them. Only False changes the key, so other keys stay as they were."""
    assert key(key_options={"verify": False}) != key()
    assert key(key_options={"verify": "/etc/ssl/ca.pem"}) == key()


def test_unknown_kwargs_are_named() -> None:
    with pytest.raises(TypeError, match=r"unexpected keyword argument.*: bogus, colour") as info:
        create_key(Request("GET", "https://example.com/"), colour="red", bogus=1)
    assert "timeout" in str(info.value)  # lists what is accepted


def test_request_and_prepared_request_agree() -> None:
    request = Request(
        "POST",
        "https://example.com/x?b=1&a=2",
        json={"k": "v"},
        headers={"Accept": "text/plain"},
    )
    for options in ({}, {"match_headers": True}, {"ignored_parameters": ["k"]}):
        assert create_key(request, **options) == create_key(request.prepare(), **options)


def test_cached_request_agrees_with_prepared_request() -> None:
    prepared = Request("get", "https://example.com/p?x=1", headers={"Accept": "a"}).prepare()
    stored = CachedRequest.from_request(prepared)
    assert create_key(stored, match_headers=True) == create_key(prepared, match_headers=True)


def test_lower_case_method_on_look_alike() -> None:
    prepared = PreparedRequest()
    prepared.prepare(method="GET", url="https://example.com/")
    stored = CachedRequest(method="get", url="https://example.com/")
    assert create_key(stored) == create_key(prepared)


def test_streamed_body_is_not_read() -> None:
    def chunks() -> Any:
        yield b"first"
        yield b"second"

    body = chunks()
    prepared = Request("POST", "https://example.com/upload", data=body).prepare()
    create_key(prepared)
    assert next(body) == b"first"  # nothing consumed


# --- normalisation helpers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "ignored", "expected"),
    [
        pytest.param(
            "https://Example.com:443/a?b=2&a=1#f", (), "https://example.com/a?a=1&b=2", id="all"
        ),
        pytest.param(
            "https://example.com/?k=1&x=2",
            ("k",),
            "https://example.com/?k=REDACTED&x=2",
            id="ignored",
        ),
        pytest.param(
            "https://example.com/?k=1", ("k",), "https://example.com/?k=REDACTED", id="only-ignored"
        ),
        pytest.param("https://example.com/?a", (), "https://example.com/?a=", id="blank-value"),
    ],
)
def test_normalize_url(url: str, ignored: tuple[str, ...], expected: str) -> None:
    assert normalize_url(url, ignored) == expected


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        pytest.param(None, {}, b"", id="none"),
        pytest.param("", JSON, b"", id="empty"),
        pytest.param(b"raw", {}, b"raw", id="raw"),
        pytest.param('{"b":1,"a":2}', JSON, b'{"a":2,"b":1}', id="json-sorted"),
        pytest.param(
            b'{"b":1}',
            {"Content-Type": "Application/JSON; charset=utf-8"},
            b'{"b":1}',
            id="json-ct",
        ),
        pytest.param(b"{not json", JSON, b"{not json", id="invalid-json-as-is"),
        pytest.param(b"[2, 1]", JSON, b"[2,1]", id="json-list"),
        pytest.param(b"b=2&a=1", FORM, b"a=1&b=2", id="form-sorted"),
        pytest.param(b"\xff\xfe", FORM, b"\xff\xfe", id="form-not-utf8"),
    ],
)
def test_normalize_body(body: Any, headers: dict[str, str], expected: bytes) -> None:
    assert normalize_body(body, headers) == expected


# --- redaction -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "https://example.com/p?a=1&api_key=SECRET#frag",
            f"https://example.com/p?a=1&api_key={REDACTED}#frag",
            id="redacted-keeps-order-and-fragment",
        ),
        pytest.param(
            "https://example.com/p?a=1", "https://example.com/p?a=1", id="nothing-to-redact"
        ),
        pytest.param("https://example.com/p", "https://example.com/p", id="no-query"),
        pytest.param("", "", id="empty"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url, ["api_key"]) == expected


def test_redact_url_without_ignored_parameters() -> None:
    url = "https://example.com/?api_key=1"
    assert redact_url(url, []) == url


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        pytest.param(None, JSON, None, id="none"),
        pytest.param(b"", JSON, b"", id="empty"),
        pytest.param(
            b'{"a": 1, "api_key": "SECRET"}', JSON, {"a": 1, "api_key": REDACTED}, id="json"
        ),
        pytest.param(b'{"a": 1}', JSON, b'{"a": 1}', id="json-untouched"),
        pytest.param(b"[1, 2]", JSON, b"[1, 2]", id="json-list-untouched"),
        pytest.param(b"{bad", JSON, b"{bad", id="invalid-json-untouched"),
        pytest.param("a=1&api_key=SECRET", FORM, f"a=1&api_key={REDACTED}".encode(), id="form-str"),
        pytest.param(b"a=1", FORM, b"a=1", id="form-untouched"),
        pytest.param(b"\xff", FORM, b"\xff", id="form-not-utf8"),
        pytest.param(b"api_key=SECRET", {}, b"api_key=SECRET", id="other-type-untouched"),
    ],
)
def test_redact_body(body: Any, headers: dict[str, str], expected: Any) -> None:
    result = redact_body(body, headers, ["api_key"])
    if isinstance(expected, dict):
        assert result is not None
        assert json.loads(result) == expected
    else:
        assert result == expected


def test_redact_headers() -> None:
    headers = {"Authorization": "Bearer x", "x-api-key": "k", "Accept": "text/plain"}
    assert redact_headers(headers, ["authorization", "X-API-Key"]) == {
        "Authorization": "REDACTED",
        "x-api-key": "REDACTED",
        "Accept": "text/plain",
    }
    assert headers["Authorization"] == "Bearer x"  # a copy, the input is untouched
