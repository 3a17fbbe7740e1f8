"""End-to-end smoke test: a miss is stored, the repeat is a hit with the same content."""

from __future__ import annotations

from requests_cache_like import CachedResponse, CachedSession
from requests_cache_like.demo import LocalOrigin


def test_miss_then_hit(session: CachedSession, origin: LocalOrigin) -> None:
    url = origin.url("/json?smoke=1")
    before = origin.hits["/json"]
    first = session.get(url)
    second = session.get(url)
    assert first.from_cache is False
    assert second.from_cache is True
    assert isinstance(second, CachedResponse)
    assert second.json() == first.json()
    assert second.cache_key == first.cache_key
    assert origin.hits["/json"] == before + 1
