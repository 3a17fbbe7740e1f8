"""Cache-Control and Pragma parsing (policy/directives.py), as tables of header values."""

from __future__ import annotations

from typing import Any

import pytest
from requests.structures import CaseInsensitiveDict

from requests_cache_like.policy.directives import (
    MAX_DELTA_SECONDS,
    CacheDirectives,
    parse_cache_control,
    request_directives,
)

# (header value, expected fields; every field not named keeps its default)
PARSE_CASES: list[Any] = [
    pytest.param(None, {}, id="none"),
    pytest.param("", {}, id="empty"),
    pytest.param(" , ,, ", {}, id="only-commas"),
    pytest.param("x-custom=1, other", {}, id="unknown-directives-ignored"),
    pytest.param("max-age=60", {"max_age": 60}, id="max-age"),
    pytest.param("MAX-AGE=60", {"max_age": 60}, id="upper-case-name"),
    pytest.param("Max-Age=60, No-Store", {"max_age": 60, "no_store": True}, id="mixed-case"),
    pytest.param("  max-age=60 ,no-store  ", {"max_age": 60, "no_store": True}, id="spacing"),
    # RFC 9111 §5.2: no whitespace around "=", so these are not max-age (cache-tests agree).
    pytest.param("max-age =60, no-store", {"no_store": True}, id="space-before-equals"),
    pytest.param("max-age= 60", {"max_age": 0}, id="space-after-equals-invalid-value"),
    pytest.param("max-age=60,,public", {"max_age": 60, "public": True}, id="empty-member"),
    pytest.param('max-age="60"', {"max_age": 60}, id="quoted-int"),
    pytest.param("max-age=60, max-age=5", {"max_age": 60}, id="duplicate-first-wins"),
    pytest.param("max-age=abc, max-age=5", {"max_age": 0}, id="duplicate-invalid-first-wins"),
    pytest.param("max-age=-1", {"max_age": 0}, id="negative-is-0"),
    pytest.param("max-age=1.5", {"max_age": 0}, id="fraction-is-0"),
    pytest.param("max-age=", {"max_age": 0}, id="empty-value-is-0"),
    pytest.param("max-age", {"max_age": 0}, id="missing-value-is-0"),
    pytest.param("max-age=\u00b2", {"max_age": 0}, id="superscript-digit-is-0"),
    pytest.param("max-age=\u0661\u0662", {"max_age": 0}, id="non-ascii-digits-are-0"),
    pytest.param("max-age=99999999999", {"max_age": MAX_DELTA_SECONDS}, id="huge-clamped"),
    pytest.param("s-maxage=30", {"s_maxage": 30}, id="s-maxage"),
    pytest.param("min-fresh=10", {"min_fresh": 10}, id="min-fresh"),
    pytest.param("max-stale", {"max_stale": MAX_DELTA_SECONDS}, id="max-stale-no-value"),
    pytest.param("max-stale=30", {"max_stale": 30}, id="max-stale-value"),
    pytest.param("max-stale=x", {"max_stale": 0}, id="max-stale-invalid"),
    pytest.param("max-stale=5, max-stale", {"max_stale": 5}, id="max-stale-first-wins"),
    pytest.param(
        "stale-while-revalidate=30, stale-if-error=60",
        {"stale_while_revalidate": 30, "stale_if_error": 60},
        id="rfc5861",
    ),
    pytest.param("no-cache", {"no_cache": True}, id="no-cache"),
    pytest.param('no-cache=""', {"no_cache": True}, id="no-cache-empty-list"),
    pytest.param(
        'no-cache="Set-Cookie, X-Token"',
        {"no_cache_fields": ("set-cookie", "x-token")},
        id="no-cache-field-list",
    ),
    pytest.param(
        'no-cache="Set-Cookie", no-cache="X-Token"',
        {"no_cache_fields": ("set-cookie", "x-token")},
        id="no-cache-field-lists-merged",
    ),
    pytest.param(
        'no-cache="a,b", max-age=5',
        {"no_cache_fields": ("a", "b"), "max_age": 5},
        id="comma-inside-quotes",
    ),
    pytest.param(
        'private="x\\"y", max-age=5',
        {"private": True, "max_age": 5},
        id="escaped-quote-inside-quotes",
    ),
    pytest.param(
        "no-store, must-revalidate, proxy-revalidate, immutable, private, public, "
        "only-if-cached, no-transform",
        {
            "no_store": True,
            "must_revalidate": True,
            "proxy_revalidate": True,
            "immutable": True,
            "private": True,
            "public": True,
            "only_if_cached": True,
            "no_transform": True,
        },
        id="all-flags",
    ),
    pytest.param("no-store, no-store", {"no_store": True}, id="duplicate-flag"),
]


@pytest.mark.parametrize(("value", "expected"), PARSE_CASES)
def test_parse_cache_control(value: str | None, expected: dict[str, Any]) -> None:
    assert parse_cache_control(value) == CacheDirectives(**expected)


@pytest.mark.parametrize(
    ("value", "is_empty"),
    [
        pytest.param(None, True, id="none"),
        pytest.param("unknown", True, id="unknown-only"),
        pytest.param("max-age=0", False, id="max-age-0"),
        pytest.param("public", False, id="flag"),
    ],
)
def test_is_empty(value: str | None, is_empty: bool) -> None:
    assert parse_cache_control(value).is_empty is is_empty


def test_results_are_memoised_and_equal() -> None:
    first = parse_cache_control("max-age=42, no-transform")
    second = parse_cache_control("max-age=42, no-transform")
    assert first == second
    assert first is second
    assert parse_cache_control("max-age=42") != first


def test_directives_are_immutable() -> None:
    directives = parse_cache_control("max-age=7")
    with pytest.raises(AttributeError):
        directives.max_age = 8  # type: ignore[misc]
    assert parse_cache_control("max-age=7").max_age == 7


# (request headers, expected fields)
REQUEST_CASES: list[Any] = [
    pytest.param({}, {}, id="no-headers"),
    pytest.param({"Pragma": "no-cache"}, {"no_cache": True}, id="pragma-no-cache"),
    pytest.param({"pragma": "No-Cache"}, {"no_cache": True}, id="pragma-case-insensitive"),
    pytest.param({"Pragma": "x-foo, no-cache"}, {"no_cache": True}, id="pragma-in-list"),
    pytest.param({"Pragma": "x-foo"}, {}, id="pragma-other"),
    pytest.param(
        {"Pragma": "no-cache", "Cache-Control": "max-age=5"},
        {"max_age": 5},
        id="cache-control-overrides-pragma",
    ),
    pytest.param(
        {"Pragma": "no-cache", "Cache-Control": "x-unknown"},
        {"no_cache": True},
        id="pragma-when-cache-control-has-nothing-known",
    ),
    pytest.param(
        {"cache-control": "max-stale, only-if-cached"},
        {"max_stale": MAX_DELTA_SECONDS, "only_if_cached": True},
        id="lower-case-header-name",
    ),
]


@pytest.mark.parametrize(("headers", "expected"), REQUEST_CASES)
def test_request_directives(headers: dict[str, str], expected: dict[str, Any]) -> None:
    assert request_directives(CaseInsensitiveDict(headers)) == CacheDirectives(**expected)
