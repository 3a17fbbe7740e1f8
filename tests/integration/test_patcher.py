"""install_cache and friends: plain ``requests`` calls go through one shared cache while
installed, and plain ``requests`` is back afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import requests.sessions

import requests_cache_like as rcl
from requests_cache_like import CachedSession, MemoryCache, SQLiteCache
from requests_cache_like.demo import LocalOrigin

PLAIN_SESSION = requests.Session


@pytest.fixture(autouse=True)
def restore_requests() -> Iterator[None]:
    """Whatever a test installs is uninstalled after it, even when it fails."""
    assert requests.Session is PLAIN_SESSION
    yield
    rcl.uninstall_cache()
    assert requests.Session is PLAIN_SESSION
    assert requests.sessions.Session is PLAIN_SESSION


def test_install_then_uninstall(origin: LocalOrigin) -> None:
    url = origin.url("/json?patched=1")
    assert rcl.is_installed() is False
    assert rcl.get_cache() is None
    rcl.install_cache("patched", backend="memory")
    assert rcl.is_installed() is True
    assert isinstance(rcl.get_cache(), MemoryCache)
    assert isinstance(requests.Session(), CachedSession)
    before = origin.hits["/json"]
    first = requests.get(url)
    second = requests.get(url)
    assert (first.from_cache, second.from_cache) == (False, True)
    assert second.json() == first.json()
    assert origin.hits["/json"] == before + 1
    with requests.Session() as explicit:  # a new session shares the installed cache
        assert explicit.get(url).from_cache is True

    rcl.uninstall_cache()
    assert rcl.is_installed() is False
    assert rcl.get_cache() is None
    plain = requests.get(url)
    assert not hasattr(plain, "from_cache")
    assert origin.hits["/json"] == before + 2


def test_disabled_and_enabled(origin: LocalOrigin) -> None:
    url = origin.url("/json?scoped=1")
    rcl.install_cache("scoped", backend="memory")
    requests.get(url)
    with rcl.disabled():
        assert rcl.is_installed() is False
        assert not hasattr(requests.get(url), "from_cache")
    assert rcl.is_installed() is True
    assert requests.get(url).from_cache is True

    rcl.uninstall_cache()
    other = origin.url("/json?scoped=2")
    with rcl.enabled("enabled", backend="memory", expire_after=60):
        assert rcl.is_installed() is True
        requests.get(other)
        hit = requests.get(other)
        assert hit.from_cache is True
        assert hit.expires is not None
    assert rcl.is_installed() is False
    assert not hasattr(requests.get(other), "from_cache")


def test_clear_and_delete(origin: LocalOrigin) -> None:
    keep = origin.url("/json?kept=1")
    drop = origin.url("/json?dropped=1")
    rcl.install_cache("inspect", backend="memory")
    requests.get(keep)
    requests.get(drop)
    cache = rcl.get_cache()
    assert cache is not None
    rcl.delete(urls=[drop])
    assert cache.contains(url=keep)
    assert not cache.contains(url=drop)
    assert requests.get(keep).from_cache is True
    assert requests.get(drop).from_cache is False
    rcl.clear()
    assert len(cache.responses) == 0
    assert requests.get(keep).from_cache is False


def test_clear_and_delete_without_an_installed_cache_do_nothing() -> None:
    rcl.clear()
    rcl.delete(urls=["http://nothing.test/"])
    assert rcl.is_installed() is False


def test_install_with_settings_and_backend_options(tmp_path: Path, origin: LocalOrigin) -> None:
    db_path = tmp_path / "installed.sqlite"
    rcl.install_cache(
        str(db_path),
        backend="sqlite",
        expire_after=60,
        allowable_codes=(200, 404),
        fast_save=True,
        wal=True,
        serializer="json",
    )
    cache = rcl.get_cache()
    assert isinstance(cache, SQLiteCache)
    assert cache._connection.fast_save is True
    assert cache._connection.wal is True
    assert db_path.exists()

    url = origin.url("/json?installed=sqlite")
    first = requests.get(url)
    assert first.expires is not None
    assert requests.get(url).from_cache is True
    missing = origin.url("/status/404")
    requests.get(missing)
    assert requests.get(missing).from_cache is True  # allowable_codes was applied
    assert cache.contains(url=url)
    rcl.uninstall_cache()
    cache.close()


def test_install_with_a_session_factory(origin: LocalOrigin) -> None:
    class Tagged(CachedSession):
        tag = "custom"

    rcl.install_cache("factory", backend="memory", session_factory=Tagged)
    with requests.Session() as session:
        assert isinstance(session, Tagged)
        assert session.tag == "custom"


def test_install_rejects_unknown_names_and_bad_values() -> None:
    with pytest.raises(TypeError, match="expire_afer"):
        rcl.install_cache("typo", backend="memory", expire_afer=60)
    with pytest.raises(ValueError, match="expire_after"):
        rcl.install_cache("bad", backend="memory", expire_after=-7)
    assert rcl.is_installed() is False


def test_closing_an_installed_session_keeps_the_shared_cache_open(
    tmp_path: Path, origin: LocalOrigin
) -> None:
    rcl.install_cache(str(tmp_path / "shared.sqlite"), backend="sqlite")
    url = origin.url("/json?shared=1")
    with requests.Session() as session:
        session.get(url)
    # requests.get opens and closes its own session each time.
    assert requests.get(url).from_cache is True
    assert requests.get(url).from_cache is True
    cache = rcl.get_cache()
    rcl.uninstall_cache()
    assert cache is not None
    cache.close()


def test_a_failed_install_closes_the_cache_it_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []
    original_close = SQLiteCache.close

    def recording_close(self: SQLiteCache) -> None:
        closed.append(self.cache_name)
        original_close(self)

    monkeypatch.setattr(SQLiteCache, "close", recording_close)
    with pytest.raises(ValueError, match="allowable_codes"):
        rcl.install_cache(str(tmp_path / "failed.sqlite"), allowable_codes=[42])
    assert closed == [str(tmp_path / "failed.sqlite")]
    assert rcl.is_installed() is False
