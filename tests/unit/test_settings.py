"""Validation of CacheSettings and RequestOptions (settings.py)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from requests_cache_like.policy import DO_NOT_CACHE, NEVER_EXPIRE, ExpirationPattern
from requests_cache_like.settings import (
    DEFAULT_IGNORED_PARAMS,
    CacheSettings,
    RequestOptions,
)

UTC = timezone.utc


def test_defaults() -> None:
    settings = CacheSettings()
    assert settings.allowable_codes == frozenset({200})
    assert settings.allowable_methods == frozenset({"GET", "HEAD"})
    assert settings.expire_after == NEVER_EXPIRE
    assert settings.ignored_parameters == DEFAULT_IGNORED_PARAMS
    assert settings.match_headers is False
    assert settings.stale_if_error is False
    assert settings.stale_while_revalidate is False
    assert settings.urls_expire_after == ()
    assert settings.key_memo == {}


# (argument, value, converted value)
CONVERTED: list[Any] = [
    pytest.param("allowable_codes", [200, 404], frozenset({200, 404}), id="codes-list"),
    pytest.param("allowable_codes", (), frozenset(), id="codes-empty"),
    pytest.param("allowable_methods", ["get", "Post"], frozenset({"GET", "POST"}), id="methods"),
    pytest.param("ignored_parameters", ["a", "b"], ("a", "b"), id="ignored-list"),
    pytest.param("ignored_parameters", None, (), id="ignored-none"),
    pytest.param("match_headers", ["Accept", "X-Y"], ("accept", "x-y"), id="match-list"),
    pytest.param("match_headers", None, False, id="match-none"),
    pytest.param("match_headers", True, True, id="match-true"),
    pytest.param("stale_if_error", None, False, id="sie-none"),
    pytest.param("stale_if_error", 30, 30, id="sie-seconds"),
    pytest.param("stale_if_error", 1.5, 1.5, id="sie-float"),
    pytest.param("stale_while_revalidate", True, True, id="swr-true"),
    pytest.param(
        "stale_while_revalidate", timedelta(seconds=5), timedelta(seconds=5), id="swr-timedelta"
    ),
    pytest.param("expire_after", DO_NOT_CACHE, DO_NOT_CACHE, id="expire-do-not-cache"),
    pytest.param(
        "expire_after", datetime(2030, 1, 1), datetime(2030, 1, 1, tzinfo=UTC), id="expire-naive"
    ),
    pytest.param(
        "expire_after",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        datetime(2015, 10, 21, 7, 28, tzinfo=UTC),
        id="expire-http-date",
    ),
    pytest.param("urls_expire_after", None, (), id="urls-none"),
    pytest.param("content_root_key", "data", "data", id="content-root-key"),
]


@pytest.mark.parametrize(("argument", "value", "expected"), CONVERTED)
def test_accepted_values_are_converted(argument: str, value: Any, expected: Any) -> None:
    assert getattr(CacheSettings(**{argument: value}), argument) == expected
    settings = CacheSettings()
    setattr(settings, argument, value)  # assignment converts the same way
    assert getattr(settings, argument) == expected


def test_urls_expire_after_are_compiled() -> None:
    regex = re.compile(r"/v\d+/")
    settings = CacheSettings(urls_expire_after={"site.com": 60, regex: "2030-01-01"})
    assert all(isinstance(p, ExpirationPattern) for p in settings.urls_expire_after)
    assert {p.pattern: p.expire_after for p in settings.urls_expire_after} == {
        "site.com": 60,
        regex: datetime(2030, 1, 1, tzinfo=UTC),
    }


# (argument, bad value, exception type, text the message must contain)
REJECTED: list[Any] = [
    pytest.param("allowable_methods", "GET", TypeError, "single string", id="methods-string"),
    pytest.param("allowable_methods", 5, TypeError, "iterable", id="methods-int"),
    pytest.param("allowable_methods", [1], ValueError, "contains 1", id="methods-int-member"),
    pytest.param("allowable_methods", ["G T"], ValueError, "'G T'", id="methods-space"),
    pytest.param("allowable_codes", 200, TypeError, "iterable", id="codes-int"),
    pytest.param("allowable_codes", "200", TypeError, "iterable", id="codes-string"),
    pytest.param("allowable_codes", (-1,), ValueError, "contains -1", id="codes-negative"),
    pytest.param("allowable_codes", (600,), ValueError, "100-599", id="codes-too-big"),
    pytest.param("allowable_codes", (True,), ValueError, "contains True", id="codes-bool"),
    pytest.param("allowable_codes", ("200",), ValueError, "'200'", id="codes-str-member"),
    pytest.param("expire_after", "soon", ValueError, "'soon'", id="expire-soon"),
    pytest.param("expire_after", -5, ValueError, "negative", id="expire-negative"),
    pytest.param("expire_after", True, TypeError, "bool", id="expire-bool"),
    pytest.param("expire_after", [1], TypeError, "list", id="expire-list"),
    pytest.param("stale_if_error", -5, ValueError, "-5", id="sie-negative"),
    pytest.param("stale_if_error", "1h", ValueError, "'1h'", id="sie-string"),
    pytest.param(
        "stale_if_error", timedelta(seconds=-1), ValueError, "timedelta", id="sie-neg-timedelta"
    ),
    pytest.param("stale_while_revalidate", -1, ValueError, "-1", id="swr-negative"),
    pytest.param("filter_fn", 3, TypeError, "callable", id="filter-int"),
    pytest.param("key_fn", "create_key", TypeError, "callable", id="key-fn-string"),
    pytest.param("match_headers", "Accept", TypeError, "single string", id="match-string"),
    pytest.param("match_headers", [1], TypeError, "contains 1", id="match-int-member"),
    pytest.param("ignored_parameters", "api_key", TypeError, "single string", id="ignored-str"),
    pytest.param("ignored_parameters", 5, TypeError, "iterable", id="ignored-int"),
    pytest.param("ignored_parameters", [None], TypeError, "None", id="ignored-none-member"),
    pytest.param("cache_control", 1, TypeError, "True or False", id="cache-control-int"),
    pytest.param("disabled", "yes", TypeError, "True or False", id="disabled-string"),
    pytest.param("read_only", None, TypeError, "True or False", id="read-only-none"),
    pytest.param("always_revalidate", 0, TypeError, "True or False", id="always-int"),
    pytest.param("only_if_cached", "no", TypeError, "True or False", id="only-if-cached-str"),
    pytest.param("autoclose", 1, TypeError, "True or False", id="autoclose-int"),
    pytest.param("content_root_key", 1, TypeError, "string or None", id="root-key-int"),
    pytest.param("urls_expire_after", [("a", 1)], TypeError, "mapping", id="urls-list"),
    pytest.param("urls_expire_after", {1: 60}, TypeError, "key 1", id="urls-int-key"),
    pytest.param("urls_expire_after", {"a": "x"}, ValueError, "'x'", id="urls-bad-value"),
]


def _check_message(message: str, argument: str, fragment: str) -> None:
    assert fragment in message
    if argument == "urls_expire_after":
        assert "urls_expire_after" in message
    else:
        assert argument in message


@pytest.mark.parametrize(("argument", "value", "error", "fragment"), REJECTED)
def test_bad_value_is_rejected_on_build(
    argument: str, value: Any, error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error) as info:
        CacheSettings(**{argument: value})
    _check_message(str(info.value), argument, fragment)


@pytest.mark.parametrize(("argument", "value", "error", "fragment"), REJECTED)
def test_bad_value_is_rejected_on_assignment(
    argument: str, value: Any, error: type[Exception], fragment: str
) -> None:
    settings = CacheSettings()
    before = getattr(settings, argument)
    settings.key_memo["k"] = ("key", "url")
    with pytest.raises(error) as info:
        setattr(settings, argument, value)
    _check_message(str(info.value), argument, fragment)
    assert getattr(settings, argument) == before  # unchanged
    assert settings.key_memo == {"k": ("key", "url")}  # nothing changed, nothing dropped


def test_good_assignment_clears_key_memo() -> None:
    settings = CacheSettings()
    settings.key_memo["k"] = ("key", "url")
    settings.expire_after = 60
    assert settings.expire_after == 60
    assert settings.key_memo == {}
    settings.key_memo["k"] = ("key", "url")
    settings.match_headers = ["Accept"]  # type: ignore[assignment]  # converted
    assert settings.key_memo == {}


def test_key_memo_is_not_an_argument_nor_compared() -> None:
    with pytest.raises(TypeError):
        CacheSettings(key_memo={})  # type: ignore[call-arg]
    first, second = CacheSettings(), CacheSettings()
    first.key_memo["k"] = ("key", "url")
    assert first == second


def test_callables_are_accepted() -> None:
    settings = CacheSettings(filter_fn=lambda response: True, key_fn=None)
    assert callable(settings.filter_fn)


def test_from_kwargs_accepts_known_names() -> None:
    settings = CacheSettings.from_kwargs(expire_after=60, allowable_codes=[200, 203])
    assert settings.expire_after == 60
    assert settings.allowable_codes == frozenset({200, 203})


def test_from_kwargs_rejects_unknown_names() -> None:
    with pytest.raises(TypeError) as info:
        CacheSettings.from_kwargs(expire_afterr=60, colour="red", expire_after=5)
    message = str(info.value)
    assert "colour, expire_afterr" in message
    for accepted in ("expire_after", "allowable_codes", "stale_if_error", "urls_expire_after"):
        assert accepted in message
    assert "key_memo" not in message  # internal, not a setting


def test_from_kwargs_still_validates_values() -> None:
    with pytest.raises(ValueError, match="expire_after='soon'"):
        CacheSettings.from_kwargs(expire_after="soon")


# --- RequestOptions -------------------------------------------------------------------------


def test_request_options_defaults() -> None:
    options = RequestOptions()
    assert (options.expire_after, options.only_if_cached, options.refresh) == (None, False, False)
    assert options.force_refresh is False


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"expire_after": 60}, 60, id="seconds"),
        pytest.param({"expire_after": "2030-01-01"}, datetime(2030, 1, 1, tzinfo=UTC), id="iso"),
        pytest.param({"expire_after": DO_NOT_CACHE}, DO_NOT_CACHE, id="do-not-cache"),
        pytest.param({"expire_after": None}, None, id="not-given"),
    ],
)
def test_request_options_expire_after(kwargs: dict[str, Any], expected: Any) -> None:
    assert RequestOptions(**kwargs).expire_after == expected


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        pytest.param({"expire_after": "soon"}, ValueError, "expire_after='soon'", id="expire"),
        pytest.param({"expire_after": -3}, ValueError, "negative", id="negative"),
        pytest.param({"only_if_cached": 1}, TypeError, "only_if_cached=1", id="only-if-cached"),
        pytest.param({"refresh": "yes"}, TypeError, "refresh='yes'", id="refresh"),
        pytest.param({"force_refresh": None}, TypeError, "force_refresh=None", id="force"),
    ],
)
def test_request_options_rejects(
    kwargs: dict[str, Any], error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error, match=re.escape(fragment)):
        RequestOptions(**kwargs)


def test_request_options_are_frozen() -> None:
    options = RequestOptions(refresh=True)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        options.refresh = False  # type: ignore[misc]
