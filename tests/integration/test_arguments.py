"""Arguments of CachedSession and of its requests: every documented one is accepted, a
misspelt one is a TypeError that names it, and a bad value fails at once, naming it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from requests import Request

from requests_cache_like import (
    DO_NOT_CACHE,
    CachedSession,
    CacheSettings,
    MemoryCache,
    SQLiteCache,
    UnknownBackendError,
)
from requests_cache_like.demo import LocalOrigin

SessionFactory = Callable[..., CachedSession]


def _key_fn(request: Any, ignored_parameters: Any = None, match_headers: Any = None) -> str:
    return f"custom-{request.method}-{request.url}"


# -- everything documented is accepted ----------------------------------------------------
def test_every_constructor_argument_is_accepted(
    make_session: SessionFactory, origin: LocalOrigin
) -> None:
    def keep(response: Any) -> bool:
        return True

    session = make_session(
        serializer="json",
        expire_after=timedelta(minutes=5),
        urls_expire_after={"*/cache/*": 10, re.compile(r"/json"): 60},
        cache_control=True,
        allowable_codes=(200, 404),
        allowable_methods=("GET", "HEAD", "post"),
        always_revalidate=False,
        ignored_parameters=("api_key", "Authorization"),
        match_headers=["Accept"],
        filter_fn=keep,
        key_fn=None,
        read_only=False,
        stale_if_error=30,
        stale_while_revalidate=timedelta(seconds=10),
        content_root_key="query",
        autoclose=True,
    )
    settings = session.settings
    assert settings.expire_after == timedelta(minutes=5)
    assert [p.expire_after for p in settings.urls_expire_after] == [10, 60]
    assert settings.cache_control is True
    assert settings.allowable_codes == frozenset({200, 404})
    assert settings.allowable_methods == frozenset({"GET", "HEAD", "POST"})
    assert settings.ignored_parameters == ("api_key", "Authorization")
    assert settings.match_headers == ("accept",)
    assert settings.filter_fn is keep
    assert settings.stale_if_error == 30
    assert settings.stale_while_revalidate == timedelta(seconds=10)
    assert settings.content_root_key == "query"
    assert session.cache.settings is settings

    response = session.get(origin.url("/json?arguments=all"))
    assert response.status_code == 200
    assert session.get(origin.url("/json?arguments=all")).from_cache is True


def test_key_fn_read_only_and_always_revalidate_are_accepted(
    make_session: SessionFactory, origin: LocalOrigin
) -> None:
    session = make_session(key_fn=_key_fn, read_only=True, always_revalidate=True)
    url = origin.url("/json?read_only=1")
    assert session.get(url).cache_key == f"custom-GET-{url}"
    assert session.get(url).from_cache is False  # read-only: nothing was written
    assert len(session.cache.responses) == 0


def test_positional_cache_name_backend_and_serializer(cache_path: str) -> None:
    session = CachedSession(cache_path, "sqlite", "json")
    try:
        assert isinstance(session.cache, SQLiteCache)
        assert str(session.cache.db_path) == cache_path
    finally:
        session.close()


@pytest.mark.parametrize(
    "backend",
    ["memory", "sqlite", "memory://", MemoryCache],
    ids=["memory", "sqlite", "memory-url", "class"],
)
def test_backend_by_name_url_or_class(cache_path: str, backend: Any) -> None:
    with CachedSession(cache_path, backend=backend) as session:
        assert type(session.cache).__name__ in ("MemoryCache", "SQLiteCache")


def test_backend_instance_is_used_as_is() -> None:
    cache = MemoryCache("shared")
    with CachedSession(backend=cache, expire_after=60) as session:
        assert session.cache is cache
        assert cache.settings is session.settings


def test_sqlite_backend_options_are_accepted(cache_path: str) -> None:
    with CachedSession(
        cache_path, backend="sqlite", fast_save=True, wal=True, busy_timeout=1000
    ) as session:
        assert isinstance(session.cache, SQLiteCache)
        connection = session.cache._connection
        assert (connection.fast_save, connection.wal, connection.busy_timeout) == (
            True,
            True,
            1000,
        )


def test_sqlite_backend_url(tmp_path: Any) -> None:
    path = tmp_path / "from_url.sqlite"
    with CachedSession(backend=f"sqlite:///{path}") as session:
        assert str(session.cache.db_path) == str(path)


# -- unknown names ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("misspelt", "suggestion"),
    [
        ("expire_afer", "expire_after"),
        ("alowable_codes", "allowable_codes"),
        ("cache_contrl", "cache_control"),
        ("stale_if_eror", "stale_if_error"),
    ],
)
def test_unknown_constructor_argument_is_named_with_a_hint(
    cache_path: str, backend_name: str, misspelt: str, suggestion: str
) -> None:
    with pytest.raises(TypeError) as error:
        CachedSession(cache_path, backend=backend_name, **{misspelt: 60})
    message = str(error.value)
    assert repr(misspelt) in message
    assert f"did you mean {suggestion!r}" in message


def test_unknown_argument_without_close_match_is_still_named(cache_path: str) -> None:
    with pytest.raises(TypeError, match="zzz_unrelated"):
        CachedSession(cache_path, backend="memory", zzz_unrelated=True)


def test_unknown_backend_is_named(cache_path: str) -> None:
    with pytest.raises(UnknownBackendError, match="'nosuchdb'"):
        CachedSession(cache_path, backend="nosuchdb")
    assert issubclass(UnknownBackendError, ValueError)


@pytest.mark.parametrize(
    "call",
    [
        lambda s, url: s.get(url, expire_afer=60),
        lambda s, url: s.post(url, refersh=True),
        lambda s, url: s.head(url, only_if_cahced=True),
        lambda s, url: s.request("GET", url, force_refesh=True),
    ],
    ids=["get", "post", "head", "request"],
)
def test_unknown_per_request_argument_is_named(
    session: CachedSession, origin: LocalOrigin, call: Callable[..., Any]
) -> None:
    url = origin.url("/json?unknown=1")
    session.get(url)  # stored: the check must not depend on a miss reaching the adapter
    with pytest.raises(TypeError, match=r"expire_afer|refersh|only_if_cahced|force_refesh"):
        call(session, url)


@pytest.mark.parametrize("stored", [False, True], ids=["miss", "hit"])
def test_unknown_send_argument_is_named_on_miss_and_hit(
    session: CachedSession, origin: LocalOrigin, stored: bool
) -> None:
    url = origin.url(f"/json?unknown_send={stored}")
    if stored:
        session.get(url)
    prepared = session.prepare_request(Request("GET", url))
    with pytest.raises(TypeError, match="expire_afer"):
        session.send(prepared, expire_afer=60)


# -- bad values ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error", "named"),
    [
        ({"expire_after": -5}, ValueError, "expire_after"),
        ({"expire_after": "soon"}, ValueError, "expire_after"),
        ({"expire_after": True}, TypeError, "expire_after"),
        ({"expire_after": [60]}, TypeError, "expire_after"),
        (
            {"expire_after": timedelta(seconds=-1), "stale_if_error": -1},
            ValueError,
            "stale_if_error",
        ),
        ({"urls_expire_after": {"*.test": -3}}, ValueError, "urls_expire_after"),
        ({"urls_expire_after": ["*.test"]}, TypeError, "urls_expire_after"),
        ({"allowable_codes": "200"}, TypeError, "allowable_codes"),
        ({"allowable_codes": [99]}, ValueError, "allowable_codes"),
        ({"allowable_methods": "GET"}, TypeError, "allowable_methods"),
        ({"allowable_methods": ["GE T"]}, ValueError, "allowable_methods"),
        ({"cache_control": "yes"}, TypeError, "cache_control"),
        ({"filter_fn": 5}, TypeError, "filter_fn"),
        ({"key_fn": "key"}, TypeError, "key_fn"),
        ({"ignored_parameters": "api_key"}, TypeError, "ignored_parameters"),
        ({"match_headers": "Accept"}, TypeError, "match_headers"),
        ({"stale_if_error": -1}, ValueError, "stale_if_error"),
        ({"stale_while_revalidate": "1m"}, ValueError, "stale_while_revalidate"),
        ({"read_only": 1}, TypeError, "read_only"),
        ({"serializer": 42}, TypeError, "serializer"),
    ],
    ids=lambda value: "" if not isinstance(value, dict) else "-".join(value),
)
def test_bad_constructor_value_names_the_argument(
    cache_path: str, kwargs: dict[str, Any], error: type[Exception], named: str
) -> None:
    with pytest.raises(error, match=named):
        CachedSession(cache_path, backend="memory", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "named"),
    [
        ({"expire_after": -5}, ValueError, "expire_after"),
        ({"expire_after": "not a date"}, ValueError, "expire_after"),
        ({"expire_after": object()}, TypeError, "expire_after"),
        ({"only_if_cached": "yes"}, TypeError, "only_if_cached"),
        ({"refresh": "yes"}, TypeError, "refresh"),
        ({"force_refresh": 1}, TypeError, "force_refresh"),
    ],
    ids=lambda value: "" if not isinstance(value, dict) else "-".join(value),
)
def test_bad_per_request_value_names_the_argument(
    session: CachedSession,
    origin: LocalOrigin,
    kwargs: dict[str, Any],
    error: type[Exception],
    named: str,
) -> None:
    url = origin.url("/json?bad_value=1")
    before = origin.hits["/json"]
    with pytest.raises(error, match=named):
        session.get(url, **kwargs)
    prepared = session.prepare_request(Request("GET", url))
    with pytest.raises(error, match=named):
        session.send(prepared, **kwargs)
    assert origin.hits["/json"] == before  # rejected before anything was sent


def test_bad_settings_assignment_names_the_setting(session: CachedSession) -> None:
    with pytest.raises(ValueError, match="expire_after"):
        session.settings.expire_after = -10
    with pytest.raises(TypeError, match="settings"):
        session.settings = {"expire_after": 60}  # type: ignore[assignment]
    assert session.settings.expire_after == -1  # the failed assignments changed nothing


def test_settings_from_kwargs_rejects_unknown_names() -> None:
    with pytest.raises(TypeError, match="expire_afer"):
        CacheSettings.from_kwargs(expire_afer=60)


def test_string_and_datetime_expiration_values_are_parsed_once(cache_path: str) -> None:
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    with CachedSession(cache_path, backend="memory", expire_after=moment.isoformat()) as session:
        assert session.settings.expire_after == moment
    with CachedSession(
        cache_path, backend="memory", expire_after="Wed, 02 Jan 2030 03:04:05 GMT"
    ) as session:
        assert session.settings.expire_after == moment
    with CachedSession(cache_path, backend="memory", expire_after=DO_NOT_CACHE) as session:
        assert session.settings.expire_after == DO_NOT_CACHE
