"""Every backend, through the same session code: miss, hit, redirect alias, large body."""

from __future__ import annotations

from collections.abc import Callable

from requests_cache_like import CachedSession
from requests_cache_like.demo import LocalOrigin


def test_same_session_code_on_every_backend(
    make_any_session: Callable[..., CachedSession], origin: LocalOrigin
) -> None:
    session = make_any_session(expire_after=60)
    url = origin.url("/json?backend=smoke")
    assert session.get(url).from_cache is False
    again = session.get(url)
    assert again.from_cache is True
    assert again.json()["args"] == {"backend": "smoke"}
    chain = origin.url("/redirect/2")
    session.get(chain)
    assert session.get(chain).from_cache is True
    assert len(session.cache.redirects) >= 2
    big = session.get(origin.url("/bytes/600000"))
    big_again = session.get(origin.url("/bytes/600000"))
    assert big_again.from_cache is True
    assert big_again.content == big.content
