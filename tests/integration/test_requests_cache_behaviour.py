"""Override-mode behaviours requests-cache 1.3.3 documents or its users rely on: multipart
keys, an overridden ``save_response``, ``filter_fn`` on read, negative ``timedelta`` expiry,
responses in storages made without a serializer, and sharing a SQLite connection."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests_mock import Mocker

from requests_cache_like import CachedResponse, CachedSession
from requests_cache_like.backends import DictStorage, FileDict, SQLiteDict
from requests_cache_like.backends.base import BaseCache

URL = "http://api.test/items"
START = datetime(2030, 1, 1, tzinfo=timezone.utc)


def test_same_files_uploaded_twice_share_one_key() -> None:
    session = CachedSession(backend="memory", allowable_methods=["GET", "POST"])
    with Mocker() as mock:
        mock.post(URL, json={"ok": True})
        first = session.post(URL, files={"f": BytesIO(b"10" * 512)})
        again = session.post(URL, files={"f": BytesIO(b"10" * 512)})
        other = session.post(URL, files={"f": BytesIO(b"other")})
    assert (first.from_cache, again.from_cache, other.from_cache) == (False, True, False)


class RecordingCache(BaseCache):
    """A requests-cache style subclass that overrides save_response."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.saved: list[str] = []

    def save_response(self, response: Any, cache_key: Any = None, expires: Any = None) -> Any:
        self.saved.append(cache_key)
        return super().save_response(response, cache_key, expires)


def test_an_overridden_save_response_is_called_for_stores_and_revalidations() -> None:
    cache = RecordingCache()
    session = CachedSession(backend=cache, expire_after=1)
    with Mocker() as mock, time_machine.travel(START, tick=False) as clock:
        mock.get(URL, text="v1", headers={"ETag": '"a"'})
        session.get(URL)
        assert len(cache.saved) == 1
        clock.shift(5)
        mock.get(URL, status_code=304, headers={"ETag": '"a"'})
        response = session.get(URL)
    assert response.from_cache is True
    assert response.text == "v1"
    assert len(cache.saved) == 2  # the 304 refreshed the stored entry through the override


@pytest.mark.parametrize(
    ("stale_if_error", "error", "served_stale"),
    [(True, RequestsConnectionError, True), (False, RequestsConnectionError, False)],
)
def test_a_request_error_from_save_response_serves_stale_when_allowed(
    stale_if_error: bool, error: type[Exception], served_stale: bool
) -> None:
    session = CachedSession(backend="memory", expire_after=1, stale_if_error=stale_if_error)
    with Mocker() as mock, time_machine.travel(START, tick=False) as clock:
        mock.get(URL, text="v1")
        session.get(URL)
        clock.shift(5)
        session.cache.save_response = _raiser(error)  # type: ignore[method-assign]
        if served_stale:
            response = session.get(URL)
            assert response.from_cache is True
            assert response.is_expired is True
        else:
            with pytest.raises(error):
                session.get(URL)


def test_other_errors_from_save_response_reach_the_caller() -> None:
    session = CachedSession(backend="memory")
    session.cache.save_response = _raiser(ValueError)  # type: ignore[method-assign]
    with Mocker() as mock:
        mock.get(URL, text="v1")
        with pytest.raises(ValueError, match="from save_response"):
            session.get(URL)


def _raiser(error: type[Exception]) -> Any:
    def save_response(*args: Any, **kwargs: Any) -> None:
        raise error("from save_response")

    return save_response


def test_filter_fn_applies_to_entries_stored_before_it() -> None:
    session = CachedSession(backend="memory")
    with Mocker() as mock:
        mock.get(URL, text="v1")
        session.get(URL)
        session.settings.filter_fn = lambda response: "secret" not in response.url
        assert session.get(URL).from_cache is True  # still allowed
        session.settings.filter_fn = lambda response: False
        assert session.get(URL).from_cache is False
        assert mock.call_count == 2
    assert not session.cache.contains(url=URL)


def test_negative_timedelta_stores_an_already_expired_response() -> None:
    session = CachedSession(backend="memory", stale_while_revalidate=timedelta(seconds=3))
    with Mocker() as mock, time_machine.travel(START, tick=False):
        mock.get(URL, text="v1", headers={"ETag": '"a"'})
        first = session.get(URL, expire_after=timedelta(seconds=-2))
        assert first.expires == START - timedelta(seconds=2)
        stale = session.get(URL)  # within the 3 s window: answered, refreshed behind
        assert stale.from_cache is True
        assert stale.is_expired is True


@pytest.mark.parametrize(
    "make", [lambda p: DictStorage(), lambda p: SQLiteDict(p / "c"), lambda p: FileDict(p / "f")]
)
def test_storage_without_serializer_holds_a_response(make: Any, tmp_path: Path) -> None:
    storage = make(tmp_path)
    storage["key"] = CachedResponse(status_code=201)
    stored = storage["key"]
    assert stored.status_code == 201
    assert stored.cache_key == "key"
    storage["text"] = "plain"
    assert storage["text"] == "plain"  # strings stay strings


def test_storage_connection_argument_of_another_storage(tmp_path: Path) -> None:
    first = SQLiteDict(tmp_path / "shared", "one")
    raw: sqlite3.Connection = first.connection
    second = SQLiteDict(tmp_path / "ignored", "two", connection=raw)
    second["k"] = "v"
    assert second.db_path == first.db_path
    assert SQLiteDict(tmp_path / "shared", "two")["k"] == "v"
    with pytest.warns(UserWarning, match=r"FileDict\(connection=...\) has no effect"):
        FileDict(tmp_path / "f", connection=raw)
    FileDict(tmp_path / "f", connection=None)  # requests-cache's tests pass None: silent


def test_a_304_to_a_request_without_validators_confirms_the_stored_response() -> None:
    session = CachedSession(backend="memory")
    with Mocker() as mock:
        mock.get(URL, text="v1")  # no validator
        stored = session.get(URL, expire_after=60)
        mock.get(URL, status_code=304)
        refreshed = session.get(URL, refresh=True, expire_after=60)
        later = session.get(URL)
    assert refreshed.status_code == 200
    assert refreshed.text == "v1"
    assert refreshed.from_cache is True
    assert refreshed.revalidated is False
    assert later.expires == stored.expires  # answered as it is, not freshened


def test_the_application_s_own_conditional_request_still_gets_its_304() -> None:
    session = CachedSession(backend="memory", expire_after=0)
    with Mocker() as mock:
        mock.get(URL, text="v1")
        session.get(URL)
        mock.get(URL, status_code=304)
        assert session.get(URL, headers={"If-None-Match": '"x"'}).status_code == 304


def test_response_model_details() -> None:
    response = CachedResponse(reason=None, expires=datetime(2000, 1, 1))  # naive: UTC
    assert response.reason is None
    assert response.is_expired is True
    assert response.reset_expiration(60) is False
    assert response.reset_expiration(timedelta(seconds=-1)) is True


def test_update_copies_values_that_are_not_responses() -> None:
    source, target = BaseCache(), BaseCache()
    source.responses["k"] = "v"
    source.redirects["a"] = "k"
    target.update(source)
    assert target.responses["k"] == "v"
    assert target.redirects["a"] == "k"
    assert target.urls() == []


def test_a_request_without_the_credential_is_not_answered_with_one_that_had_it() -> None:
    session = CachedSession(backend="memory")
    with Mocker() as mock:
        mock.get(URL, text="private")
        session.get(URL, params={"access_token": "alice"})
        bob = session.get(URL, params={"access_token": "bob"})
        anonymous = session.get(URL)
    assert bob.from_cache is True  # the token's value is not part of the key
    assert "access_token=REDACTED" in bob.url
    assert anonymous.from_cache is False  # its presence is


def test_a_session_cannot_be_pickled() -> None:
    import pickle

    with pytest.raises(NotImplementedError, match="cannot be pickled"):
        pickle.dumps(CachedSession(backend="memory"))
