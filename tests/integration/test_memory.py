"""The memory backend: choosing it, and what it keeps (copies, in this process only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from requests_cache_like import CachedResponse, CachedSession
from requests_cache_like.backends import BACKEND_CLASSES, BaseCache, MemoryCache, init_backend
from requests_cache_like.demo import LocalOrigin
from requests_cache_like.exceptions import UnknownBackendError
from requests_cache_like.models import CachedRequest


def make_response(name: str) -> CachedResponse:
    url = f"https://example.org/{name}"
    return CachedResponse(
        content=name.encode(),
        url=url,
        headers={"X-Name": name},
        request=CachedRequest(url=url),
    )


@pytest.mark.parametrize("backend", ["memory", "Memory", "MEMORY", "memory://", "MEMORY://"])
def test_memory_by_name_or_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    monkeypatch.chdir(tmp_path)
    chosen = init_backend("my_cache", backend)
    assert type(chosen) is MemoryCache
    assert chosen.cache_name == "my_cache"
    assert list(tmp_path.iterdir()) == []


def test_memory_is_registered() -> None:
    assert BACKEND_CLASSES["memory"] is MemoryCache


def test_memory_makes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, origin: LocalOrigin
) -> None:
    monkeypatch.chdir(tmp_path)
    session = CachedSession("no_file_please", backend="memory")
    session.get(origin.url("/json?memory=nofile"))
    assert session.get(origin.url("/json?memory=nofile")).from_cache is True
    assert list(tmp_path.iterdir()) == []
    session.close()


def test_each_memory_cache_is_separate() -> None:
    first = init_backend("same_name", "memory")
    second = init_backend("same_name", "memory")
    first.save_response(make_response("a"), cache_key="a")
    assert first.contains(key="a")
    assert not second.contains(key="a")


def test_unknown_memory_option_is_named() -> None:
    # (max_entries is an option of every backend: see test_limits.py)
    with pytest.raises(TypeError, match="max_items"):
        init_backend("x", "memory", max_items=10)
    with pytest.raises(TypeError, match="max_items"):
        CachedSession("x", backend="memory", max_items=10)


def test_instance_is_used_as_is() -> None:
    mine = MemoryCache("mine")
    assert init_backend("other", mine) is mine
    session = CachedSession("other", backend=mine)
    assert session.cache is mine
    assert mine.settings is session.settings
    # As in requests-cache, options next to an instance are ignored: with a warning here.
    with pytest.warns(UserWarning, match="serializer have no effect.*MemoryCache"):
        assert init_backend("other", mine, serializer="json") is mine
    with pytest.raises(TypeError, match="serialiser"):
        init_backend("other", mine, serialiser="json")  # valid nowhere: still an error


def test_subclass_is_instantiated_with_the_cache_name() -> None:
    class CountingCache(MemoryCache):
        saves = 0

        def save_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            type(self).saves += 1
            return super().save_response(*args, **kwargs)

    chosen = init_backend("counted", CountingCache)
    assert type(chosen) is CountingCache
    assert isinstance(chosen, BaseCache)
    assert chosen.cache_name == "counted"
    chosen.save_response(make_response("x"), cache_key="x")
    assert CountingCache.saves == 1


def test_unknown_name_lists_memory() -> None:
    with pytest.raises(UnknownBackendError) as excinfo:
        init_backend("x", "memroy")
    assert isinstance(excinfo.value, ValueError)
    assert "'memroy'" in str(excinfo.value)
    assert "memory" in str(excinfo.value)


def test_stored_responses_are_copies() -> None:
    cache = MemoryCache()
    original = make_response("kept")
    cache.save_response(original, cache_key="k")
    original.headers["X-Name"] = "edited after saving"
    first = cache.get_response("k")
    first.headers["X-Name"] = "edited after reading"
    first.headers["X-Extra"] = "added"
    second = cache.get_response("k")
    assert second is not first
    assert second.headers["X-Name"] == "kept"
    assert second.headers["x-name"] == "kept"  # a copy is still case-insensitive
    assert "X-Extra" not in second.headers
    assert second.content == b"kept"


def test_hits_are_copies_through_a_session(origin: LocalOrigin) -> None:
    session = CachedSession(backend="memory")
    url = origin.url("/json?memory=copies")
    session.get(url)
    hit = session.get(url)
    hit.headers["Content-Type"] = "text/plain"
    again = session.get(url)
    assert again.from_cache is True
    assert again.headers["Content-Type"] == "application/json"
    assert again.json() == {"path": "/json", "args": {"memory": "copies"}}


@pytest.mark.parametrize("serializer", ["default", "json", "pickle", "default+zlib"])
def test_memory_with_a_serializer(origin: LocalOrigin, serializer: str) -> None:
    session = CachedSession(backend="memory", serializer=serializer)
    url = origin.url(f"/json?memory=serialized&format={serializer}")
    first = session.get(url)
    second = session.get(url)
    assert first.from_cache is False
    assert second.from_cache is True
    assert isinstance(second, CachedResponse)
    assert second.json() == first.json()
    assert isinstance(session.cache.responses.get_raw(second.cache_key), bytes)


def test_close_keeps_nothing_open_and_the_cache_usable() -> None:
    cache = MemoryCache()
    cache.save_response(make_response("a"), cache_key="a")
    cache.close()
    assert cache.get_response("a") is not None
    cache.save_response(make_response("b"), cache_key="b")
    assert sorted(cache.responses) == ["a", "b"]
