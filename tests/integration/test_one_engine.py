"""One engine for both modes: settings that belong to the session, one write per stored key,
response hooks that run once and see the cache attributes, settings as session attributes,
the key and the mode worked out once per request, and caches written before the change."""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import time_machine
from attrs import fields
from requests import Response, Session
from requests_mock import Mocker

import requests_cache_like.keys as keys_module
import requests_cache_like.policy.rules as rules_module
from requests_cache_like import EXPIRE_IMMEDIATELY, CachedSession, CacheSettings
from requests_cache_like import session as session_module
from requests_cache_like.backends import BaseCache
from requests_cache_like.backends.memory import MemoryCache
from requests_cache_like.demo import LocalOrigin

START = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)
DATA = Path(__file__).parent.parent / "data"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture(params=["fast", "slow"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with the fast hit path allowed, and without it."""
    if request.param == "slow":
        monkeypatch.setattr(session_module, "_supports_fast_path", lambda cls: False)
    return str(request.param)


def count_writes(cache: BaseCache) -> Counter[str]:
    """Count the writes to ``cache.responses`` by key."""
    writes: Counter[str] = Counter()
    original = cache.responses.set

    def counting(key: str, value: Any, expires: datetime | None = None) -> None:
        writes[key] += 1
        original(key, value, expires)

    cache.responses.set = counting  # type: ignore[method-assign]
    return writes


# --- settings belong to the session ----------------------------------------------------------


def test_shared_cache_keeps_each_sessions_match_headers(origin: LocalOrigin, path: str) -> None:
    cache = MemoryCache()
    picky = CachedSession(backend=cache, match_headers=["Accept"])
    CachedSession(backend=cache)  # a second session on the same cache, default settings
    url = origin.url("/headers")
    assert picky.get(url, headers={"Accept": "text/a"}).from_cache is False
    other = picky.get(url, headers={"Accept": "text/b"})
    assert other.from_cache is False
    assert other.json()["headers"]["Accept"] == "text/b"
    assert picky.get(url, headers={"Accept": "text/a"}).from_cache is True


def test_shared_cache_keeps_each_sessions_ignored_parameters(
    origin: LocalOrigin, path: str
) -> None:
    cache = MemoryCache()
    quiet = CachedSession(backend=cache, ignored_parameters=["token"])
    plain = CachedSession(backend=cache)
    url = origin.url("/json")
    quiet.get(url, params={"token": "one"})
    hit = quiet.get(url, params={"token": "two"})  # the token is not part of quiet's keys
    assert hit.from_cache is True
    assert "one" not in hit.url
    assert "REDACTED" in hit.url
    miss = plain.get(url, params={"token": "one"})  # but it is part of plain's
    assert miss.from_cache is False
    assert plain.get(url, params={"token": "one"}).url.endswith("token=one")


def test_shared_cache_keeps_each_sessions_key_fn_and_expiry(
    origin: LocalOrigin, clock: time_machine.Traveller, path: str
) -> None:
    cache = MemoryCache()
    one_key = CachedSession(backend=cache, key_fn=lambda **kwargs: "one-key", expire_after=60)
    short = CachedSession(backend=cache, expire_after=EXPIRE_IMMEDIATELY)
    first = one_key.get(origin.url("/json/a"))
    assert first.expires == START + timedelta(seconds=60)
    assert one_key.get(origin.url("/json/b")).json()["path"] == "/json/a"
    answered = short.get(origin.url("/etag/short"))
    assert answered.from_cache is False
    assert answered.expires == START


# --- one write per stored key ----------------------------------------------------------------


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_redirected_miss_writes_each_key_once(
    origin: LocalOrigin, tmp_path: Path, backend: str, path: str
) -> None:
    session = CachedSession(str(tmp_path / "cache"), backend=backend)
    writes = count_writes(session.cache)
    response = session.get(origin.url("/redirect/2"))
    assert response.json()["path"] == "/json"
    assert len(response.history) == 2
    assert writes
    assert set(writes.values()) == {1}, writes
    again = session.get(origin.url("/redirect/2"))
    assert again.from_cache is True
    assert set(writes.values()) == {1}, writes


def test_plain_miss_writes_once(origin: LocalOrigin, path: str) -> None:
    session = CachedSession(backend="memory", cache_control=True)
    writes = count_writes(session.cache)
    session.get(origin.url("/cache/60"))
    assert list(writes.values()) == [1]


# --- response hooks ---------------------------------------------------------------------------


def recording_hook(seen: list[tuple[Any, ...]]) -> Callable[..., Response]:
    def hook(response: Response, *args: Any, **kwargs: Any) -> Response:
        seen.append(
            (
                response.from_cache,  # type: ignore[attr-defined]
                response.cache_key,  # type: ignore[attr-defined]
                response.created_at,  # type: ignore[attr-defined]
                response.expires,  # type: ignore[attr-defined]
            )
        )
        return response

    return hook


@pytest.mark.parametrize("where", ["request", "session"])
def test_hooks_run_once_and_see_cache_attributes(
    origin: LocalOrigin, clock: time_machine.Traveller, where: str, path: str
) -> None:
    session = CachedSession(backend="memory", expire_after=60)
    seen: list[tuple[Any, ...]] = []
    hooks = {"response": [recording_hook(seen)]}
    kwargs: dict[str, Any] = {}
    if where == "session":
        session.hooks = hooks
    else:
        kwargs["hooks"] = hooks
    miss = session.get(origin.url("/json/hooks"), **kwargs)
    expires = START + timedelta(seconds=60)
    assert seen == [(False, miss.cache_key, START, expires)]
    assert miss.cache_key
    session.get(origin.url("/json/hooks"), **kwargs)
    assert seen[1:] == [(True, miss.cache_key, START, expires)]


def test_hooks_run_once_on_a_revalidation(origin: LocalOrigin, path: str) -> None:
    session = CachedSession(backend="memory", expire_after=EXPIRE_IMMEDIATELY)
    url = origin.url("/etag/hooked")
    session.get(url)
    seen: list[tuple[Any, ...]] = []
    revalidated = session.get(url, hooks={"response": [recording_hook(seen)]})
    assert (revalidated.from_cache, revalidated.revalidated) == (True, True)
    assert [entry[0] for entry in seen] == [True]


def test_hooks_run_once_per_hop_of_a_redirect(origin: LocalOrigin, path: str) -> None:
    session = CachedSession(backend="memory")
    seen: list[tuple[Any, ...]] = []
    session.get(origin.url("/redirect/2"), hooks={"response": [recording_hook(seen)]})
    assert [entry[0] for entry in seen] == [False, False, False]  # 302, 302, 200
    seen.clear()
    session.get(origin.url("/redirect/2"), hooks={"response": [recording_hook(seen)]})
    assert [entry[0] for entry in seen] == [True]  # the final response, through its alias


# --- settings as session attributes ------------------------------------------------------------

SETTING_VALUES: list[Any] = [
    pytest.param("allowable_codes", (200, 404), frozenset({200, 404}), id="allowable_codes"),
    pytest.param("allowable_methods", ["get", "post"], frozenset({"GET", "POST"}), id="methods"),
    pytest.param("always_revalidate", True, True, id="always_revalidate"),
    pytest.param("autoclose", False, False, id="autoclose"),
    pytest.param("cache_control", True, True, id="cache_control"),
    pytest.param("cleanup_interval", timedelta(minutes=5), 300.0, id="cleanup_interval"),
    pytest.param("content_root_key", "data", "data", id="content_root_key"),
    pytest.param("disabled", True, True, id="disabled"),
    pytest.param("expire_after", 60, 60, id="expire_after"),
    pytest.param("filter_fn", bool, bool, id="filter_fn"),
    pytest.param("ignored_parameters", ["token"], ("token",), id="ignored_parameters"),
    pytest.param("key_fn", str, str, id="key_fn"),
    pytest.param("lock_timeout", 5, 5.0, id="lock_timeout"),
    pytest.param("match_headers", ["Accept"], ("accept",), id="match_headers"),
    pytest.param("on_backend_error", "bypass", "bypass", id="on_backend_error"),
    pytest.param("only_if_cached", True, True, id="only_if_cached"),
    pytest.param("read_only", True, True, id="read_only"),
    pytest.param("single_flight", False, False, id="single_flight"),
    pytest.param("stale_if_error", 30, 30, id="stale_if_error"),
    pytest.param("stale_while_revalidate", True, True, id="stale_while_revalidate"),
    pytest.param("urls_expire_after", {"site.com": 60}, None, id="urls_expire_after"),
]


@pytest.mark.parametrize(("name", "value", "stored"), SETTING_VALUES)
def test_every_setting_is_a_session_attribute(name: str, value: Any, stored: Any) -> None:
    session = CachedSession(backend="memory")
    setattr(session, name, value)
    assert getattr(session, name) == getattr(session.settings, name)
    if stored is not None:
        assert getattr(session, name) == stored


def test_setting_attributes_cover_every_setting() -> None:
    attributes = {case.values[0] for case in SETTING_VALUES}
    settings = {f.name for f in fields(CacheSettings) if f.init} - {"expire_after_given"}
    assert attributes == settings


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        pytest.param("expire_after", "not a date", ValueError, id="expire_after"),
        pytest.param("allowable_codes", 200, TypeError, id="allowable_codes"),
        pytest.param("on_backend_error", "ignore", ValueError, id="on_backend_error"),
        pytest.param("read_only", "yes", TypeError, id="read_only"),
    ],
)
def test_setting_attributes_are_validated(name: str, value: Any, error: type[Exception]) -> None:
    session = CachedSession(backend="memory")
    with pytest.raises(error, match=name):
        setattr(session, name, value)


def test_assigned_expire_after_applies_to_the_next_response(
    origin: LocalOrigin, clock: time_machine.Traveller, path: str
) -> None:
    session = CachedSession(backend="memory")
    session.expire_after = 60
    response = session.get(origin.url("/json/assigned"))
    assert response.expires == START + timedelta(seconds=60)
    clock.shift(61)
    assert session.get(origin.url("/json/assigned")).from_cache is False


def test_unknown_attributes_behave_as_on_any_object() -> None:
    session = CachedSession(backend="memory")
    session.anything_else = 1  # type: ignore[attr-defined]
    assert session.anything_else == 1  # type: ignore[attr-defined]
    assert not hasattr(session.settings, "anything_else")
    with pytest.raises(AttributeError):
        session.expire_afer  # type: ignore[attr-defined]  # noqa: B018


# --- computed once per request -----------------------------------------------------------------


def counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> Counter[str]:
    calls: Counter[str] = Counter()
    original = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


@pytest.mark.parametrize("cache_control", [False, True])
def test_key_and_mode_worked_out_once_per_request(
    origin: LocalOrigin, monkeypatch: pytest.MonkeyPatch, path: str, cache_control: bool
) -> None:
    # A URL pattern that does not match keeps the rules from being memoised.
    session = CachedSession(
        backend="memory", cache_control=cache_control, urls_expire_after={"other.test": 5}
    )
    keys = counting(monkeypatch, keys_module, "create_key")
    modes = counting(monkeypatch, rules_module, "standards_mode")
    url = origin.url("/cache/60")
    session.get(url)  # a miss
    assert (keys["create_key"], modes["standards_mode"]) == (1, 1)
    session.get(url)  # a hit
    assert keys["create_key"] <= 2
    assert modes["standards_mode"] == 2


# --- caches written before this change ---------------------------------------------------------


def test_a_cache_written_before_entries_were_sealed_is_refetched(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """tests/data/cache-format-1.sqlite was written by the two-engine code, before entries
    were sealed (docs/integrity.md): an override-mode entry, a redirect alias, and
    standards-mode Vary variants. Each old entry is a miss, logged once, fetched again
    without an error and overwritten, so the next request is a hit."""
    path = tmp_path / "cache.sqlite"
    shutil.copy(DATA / "cache-format-1.sqlite", path)
    caplog.set_level(logging.WARNING, logger="requests_cache_like")
    with Mocker() as mock:
        mock.get("http://api.test/override", json={"mode": "override"})
        mock.get(
            "http://api.test/start", status_code=302, headers={"Location": "http://api.test/final"}
        )
        mock.get("http://api.test/final", json={"final": True})
        mock.get(
            "http://api.test/standards",
            json=lambda request, context: {"lang": request.headers["Accept-Language"]},
            headers={"Cache-Control": "max-age=3600", "Vary": "Accept-Language"},
        )
        override = CachedSession(str(path))
        standards = CachedSession(str(path), cache_control=True)

        def answers() -> list[Any]:
            return [
                override.get("http://api.test/override"),
                override.get("http://api.test/start"),
                *(
                    standards.get(
                        "http://api.test/standards", headers={"Accept-Language": language}
                    )
                    for language in ("en", "fr")
                ),
            ]

        expected = [{"mode": "override"}, {"final": True}, {"lang": "en"}, {"lang": "fr"}]
        first = answers()
        assert [answer.from_cache for answer in first] == [False] * 4
        assert [answer.json() for answer in first] == expected
        sent = mock.call_count
        assert sent == 5  # the redirect is two requests
        again = answers()
        assert [answer.from_cache for answer in again] == [True] * 4
        assert [answer.json() for answer in again] == expected
        assert mock.call_count == sent
    old_keys = ["b3b4e400ea5676ed", "3183ff1b974a9193", "5ea9c7852474cfb0"]
    for key in old_keys:
        warned = [r for r in caplog.records if key in r.getMessage()]
        assert len(warned) == 1, [r.getMessage() for r in caplog.records]
        assert "has no seal" in warned[0].getMessage()
    for session in (override, standards):
        session.close()


def test_fast_path_hint_is_dropped_when_the_request_changes(
    origin: LocalOrigin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key the fast path computed is reused only for the request it was computed for."""
    session = CachedSession(backend="memory")
    stored_url = origin.url("/json/stored")
    session.get(stored_url)
    original = Session.prepare_request

    def redirecting_prepare(self: Session, request: Any) -> Any:
        prepared = original(self, request)
        prepared.url = stored_url  # as a patched requests might, after the fast path ran
        return prepared

    monkeypatch.setattr(Session, "prepare_request", redirecting_prepare)
    answer = session.get(origin.url("/json/never-stored"))
    assert answer.from_cache is True
    assert answer.json()["path"] == "/json/stored"
