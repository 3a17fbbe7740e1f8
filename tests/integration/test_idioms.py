"""requests-cache 1.x idioms that pass an argument somewhere odd: accepted with the same
effect (and a warning where it has none), while a name valid nowhere stays an error."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from requests_mock import Mocker

from requests_cache_like import CachedSession, FileCache, MemoryCache, SQLiteCache
from requests_cache_like.backends import init_backend

URL = "http://api.test/items"


def test_cache_settings_given_to_a_backend_class(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "c", allowable_methods=["GET", "POST"], expire_after=60)
    assert cache.settings.allowable_methods == frozenset({"GET", "POST"})
    assert cache.settings.expire_after == 60
    assert cache.given_settings == ("allowable_methods", "expire_after")
    with pytest.warns(UserWarning, match="replaced by the session's settings"):
        session = CachedSession(backend=cache)
    assert session.settings.allowable_methods == frozenset({"GET", "HEAD"})
    assert cache.settings is session.settings


@pytest.mark.parametrize("backend_class", [MemoryCache, SQLiteCache, FileCache])
def test_every_backend_class_takes_settings(backend_class: type, tmp_path: Path) -> None:
    cache = backend_class(str(tmp_path / "c"), match_headers=["Accept"])
    assert cache.settings.match_headers == ("accept",)


def test_a_typo_given_to_a_backend_class_is_still_an_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="expire_afer"):
        SQLiteCache(tmp_path / "c", expire_afer=60)


def test_backend_options_next_to_a_backend_instance(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "c")
    with pytest.warns(UserWarning, match="use_temp have no effect"):
        session = CachedSession(backend=cache, use_temp=True)
    assert session.cache is cache
    with pytest.raises(TypeError, match=r"'use_tmp' \(did you mean 'use_temp'\?\)"):
        CachedSession(backend=cache, use_tmp=True)


@pytest.mark.parametrize(
    ("alias", "setting", "value", "stored"),
    [
        pytest.param("old_data_on_error", "stale_if_error", True, True, id="old_data_on_error"),
        pytest.param("include_get_headers", "match_headers", True, True, id="include_get_headers"),
    ],
)
def test_deprecated_aliases(alias: str, setting: str, value: object, stored: object) -> None:
    with pytest.warns(DeprecationWarning, match=f"{alias}.*use {setting}"):
        session = CachedSession(backend="memory", **{alias: value})
    assert getattr(session.settings, setting) == stored
    with pytest.warns(DeprecationWarning, match=alias):
        cache = MemoryCache(**{alias: value})
    assert getattr(cache.settings, setting) == stored


def test_deprecated_stale_if_error_alias_serves_stale() -> None:
    with pytest.warns(DeprecationWarning, match="old_data_on_error"):
        session = CachedSession(backend="memory", expire_after=0, old_data_on_error=True)
    with Mocker() as mock:
        mock.get(URL, json={"v": 1}, headers={"ETag": '"v1"'})
        session.get(URL)
        mock.get(URL, status_code=503)
        stale = session.get(URL)
    assert stale.from_cache is True
    assert stale.json() == {"v": 1}


def test_session_wide_settings_through_kwargs() -> None:
    session = CachedSession(backend="memory", only_if_cached=True)
    assert session.settings.only_if_cached is True
    with Mocker():
        assert session.get(URL).status_code == 504


def test_sqlite_timeout_is_the_busy_timeout(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "c", timeout=2.5)
    assert cache.responses._db.busy_timeout == 2500
    session = CachedSession(str(tmp_path / "d"), timeout=1)
    assert session.cache.responses._db.busy_timeout == 1000  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="timeout"):
        SQLiteCache(tmp_path / "e", timeout="soon")


def test_sqlite_check_same_thread_is_accepted(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SQLiteCache(tmp_path / "c", check_same_thread=False)


def test_filesystem_lock_is_accepted_with_a_warning(tmp_path: Path) -> None:
    import threading

    with pytest.warns(UserWarning, match="lock=.*no effect"):
        cache = FileCache(tmp_path / "c", lock=threading.RLock())
    with Mocker() as mock:
        mock.get(URL, json={"v": 1})
        session = CachedSession(backend=cache)
        session.get(URL)
        assert session.get(URL).from_cache is True


@pytest.mark.parametrize("backend", ["memory", "sqlite", "filesystem"])
def test_decode_content(backend: str, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init_backend(str(tmp_path / "c"), backend, decode_content=False)
    with pytest.warns(UserWarning, match="decode_content=True\\) has no effect"):
        init_backend(str(tmp_path / "d"), backend, decode_content=True)
