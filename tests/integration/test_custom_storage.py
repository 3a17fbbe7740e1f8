"""A storage written to requests-cache's contract (a mapping that serializes itself) works as
``responses`` and ``redirects`` of a BaseCache subclass."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from requests_mock import Mocker

from requests_cache_like import BaseCache, BaseStorage, CachedSession
from requests_cache_like.serializers import init_serializer

API = "http://api.test"


class DictOfBytes(BaseStorage):
    """As requests-cache's docs show a custom storage: the mapping methods, serializing in
    __setitem__ and deserializing in __getitem__."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data: dict[str, Any] = {}
        self.writes = 0

    def __getitem__(self, key: str) -> Any:
        return self.deserialize(key, self.data[key])

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes += 1
        self.data[key] = self.serialize(value)

    def __delitem__(self, key: str) -> None:
        del self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.data))

    def __len__(self) -> int:
        return len(self.data)


class CustomCache(BaseCache):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.responses = DictOfBytes(serializer=init_serializer("json"), decode_content=True)
        self.redirects = DictOfBytes()


def test_custom_storage_serves_hits_and_redirects() -> None:
    cache = CustomCache()
    session = CachedSession(backend=cache)
    with Mocker() as mock:
        mock.get(f"{API}/start", status_code=302, headers={"Location": f"{API}/final"})
        mock.get(f"{API}/final", json={"final": True})
        first = session.get(f"{API}/start")
        assert first.from_cache is False
        again = session.get(f"{API}/start")
        assert again.from_cache is True
        assert again.json() == {"final": True}
        assert mock.call_count == 2
    stored = next(iter(cache.responses.data.values()))
    assert isinstance(stored, bytes)  # serialized by the storage itself, as JSON
    assert stored.startswith(b"{")
    assert len(cache.redirects) == 1
    assert cache.responses.writes == 1
    assert cache.contains(url=f"{API}/final")
    assert session.cache.urls() == [f"{API}/final"]
    cache.delete(urls=[f"{API}/final"])
    assert len(cache.responses) == 0


def test_unreadable_entry_in_a_custom_storage_is_a_miss() -> None:
    cache = CustomCache()
    session = CachedSession(backend=cache)
    with Mocker() as mock:
        mock.get(f"{API}/x", json={"x": 1})
        session.get(f"{API}/x")
        key = next(iter(cache.responses.data))
        cache.responses.data[key] = b"not json"
        assert session.get(f"{API}/x").from_cache is False


def test_a_storage_with_neither_contract_says_so() -> None:
    class Empty(BaseStorage):
        def __delitem__(self, key: str) -> None: ...
        def __iter__(self) -> Iterator[str]:
            return iter(())

        def __len__(self) -> int:
            return 0

    storage = Empty()
    with pytest.raises(NotImplementedError, match="neither get_raw"):
        storage["a"]
    with pytest.raises(NotImplementedError, match="neither set_raw"):
        storage.set("a", 1)
