"""Corrupt stored entries: each is a cache miss, is replaced by a good entry, never raises to
the caller, and is logged as a warning once per key however often it is read."""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from requests_cache_like import CachedResponse, CachedSession
from requests_cache_like.backends import SQLiteCache
from requests_cache_like.backends.integrity import seal, unseal
from requests_cache_like.demo import LocalOrigin
from requests_cache_like.serializers import FORMAT_VERSION, FrameStage, init_serializer

LOGGER = "requests_cache_like"


@pytest.fixture(scope="module")
def origin() -> Iterator[LocalOrigin]:
    """A private origin for this module: background work started by other modules cannot
    move its hit counts."""
    with LocalOrigin() as server:
        yield server


def _frame_with(change: Callable[[dict[str, Any]], None]) -> Callable[[bytes, str], bytes]:
    """Re-encode a good default-format entry after ``change`` edits its metadata, sealed again
    for its key: the seal is intact, the frame's own checks must refuse it."""

    def corrupt(good: bytes, key: str) -> bytes:
        stage = FrameStage()
        meta = stage.loads(unseal(key, good))
        change(meta)
        return seal(key, stage.dumps(meta))

    return corrupt


def _old_version(meta: dict[str, Any]) -> None:
    meta["_v"] = FORMAT_VERSION - 1


def _future_version(meta: dict[str, Any]) -> None:
    meta["_v"] = FORMAT_VERSION + 1


def _no_version(meta: dict[str, Any]) -> None:
    del meta["_v"]


def _wrong_types(meta: dict[str, Any]) -> None:
    meta["status_code"] = "two hundred"
    meta["created_at"] = "yesterday-ish"


def _damaged_metadata(good: bytes, key: str) -> bytes:
    frame = unseal(key, good)
    assert isinstance(frame, bytes)
    start = len(FrameStage.MAGIC) + 4
    return seal(key, frame[:start] + b"#" + frame[start + 1 :])


#: How to spoil a good stored entry (the sealed bytes the default serializer wrote for key).
CORRUPTIONS: dict[str, Callable[[bytes, str], Any]] = {
    "garbage": lambda good, key: b"\x00\xffnot a cache entry at all\x13\x37",
    "empty": lambda good, key: b"",
    "null": lambda good, key: None,
    "text": lambda good, key: "a text value where bytes belong",
    "integer": lambda good, key: 42,
    "truncated": lambda good, key: good[: len(good) - 7],
    "header_only": lambda good, key: good[: len(FrameStage.MAGIC) + 2],
    "trailing_bytes": lambda good, key: good + b"extra",
    "unsealed": lambda good, key: unseal(key, good),  # the bare frame, as before sealing
    "sealed_for_another_key": lambda good, key: seal(key + "x", unseal(key, good)),
    "damaged_metadata": _damaged_metadata,
    "old_format_version": _frame_with(_old_version),
    "future_format_version": _frame_with(_future_version),
    "no_format_version": _frame_with(_no_version),
    "wrong_field_types": _frame_with(_wrong_types),
}


def write_raw(db_path: str, key: str, value: Any) -> None:
    """Put ``value`` in the responses table over a connection of its own, as another
    program (or a disk fault) would."""
    connection = sqlite3.connect(db_path, isolation_level=None)
    try:
        connection.execute(
            "INSERT OR REPLACE INTO responses (key, value, expires, created_at, size) "
            "VALUES (?, ?, NULL, NULL, 0)",
            (key, value),
        )
    finally:
        connection.close()


def read_raw(db_path: str, key: str) -> Any:
    connection = sqlite3.connect(db_path)
    try:
        row = connection.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
    finally:
        connection.close()
    return None if row is None else row[0]


def unique_url(origin: LocalOrigin, label: str) -> str:
    """A URL no other test uses: warnings are issued once per key for the whole process."""
    return origin.url(f"/json?corrupt={label}&id={uuid.uuid4().hex}")


def warnings_for(caplog: pytest.LogCaptureFixture, key: str) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.levelno == logging.WARNING and key in record.getMessage()
    ]


def debug_for(caplog: pytest.LogCaptureFixture, key: str) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.levelno == logging.DEBUG and key in record.getMessage()
    ]


@pytest.fixture
def sqlite_session(tmp_path: Path) -> Iterator[CachedSession]:
    session = CachedSession(tmp_path / "corrupt")
    yield session
    session.close()


def db_path_of(session: CachedSession) -> str:
    assert isinstance(session.cache, SQLiteCache)
    return session.cache.db_path


def assert_recovers(
    session: CachedSession,
    origin: LocalOrigin,
    url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Read the spoiled entry many ways, then request it: a miss, a good entry, one warning."""
    key = session.cache.create_key(requests.Request("GET", url))
    assert key in session.cache.responses

    # Inspection and direct reads skip it, repeatedly, without raising.
    for _ in range(3):
        assert key not in [r.cache_key for r in session.cache.filter()]
        assert session.cache.get_response(key) is None
        assert url not in session.cache.urls()
    if isinstance(session.cache, SQLiteCache):
        assert key not in [r.cache_key for r in session.cache.sorted()]

    before = origin.hits["/json"]
    first = session.get(url)
    assert first.from_cache is False
    assert origin.hits["/json"] == before + 1
    assert first.status_code == 200
    assert first.json()["args"]["id"] == url.rsplit("=", 1)[1]

    # The entry was overwritten with a good one: the next request is a hit.
    second = session.get(url)
    assert second.from_cache is True
    assert second.json() == first.json()
    assert origin.hits["/json"] == before + 1
    assert session.cache.get_response(key) is not None

    assert len(warnings_for(caplog, key)) == 1, [r.getMessage() for r in caplog.records]
    assert debug_for(caplog, key)  # later reads are still visible at DEBUG
    assert "treated as a miss" in warnings_for(caplog, key)[0].getMessage()


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_corrupt_entry_is_a_miss_and_is_replaced(
    sqlite_session: CachedSession,
    origin: LocalOrigin,
    caplog: pytest.LogCaptureFixture,
    corruption: str,
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    url = unique_url(origin, corruption)
    key = sqlite_session.get(url).cache_key
    path = db_path_of(sqlite_session)
    good = read_raw(path, key)
    assert isinstance(good, bytes)
    write_raw(path, key, CORRUPTIONS[corruption](good, key))

    assert_recovers(sqlite_session, origin, url, caplog)
    assert init_serializer("default").loads(unseal(key, read_raw(path, key))).url == url


def test_corrupt_entry_without_a_previous_good_one(
    sqlite_session: CachedSession, origin: LocalOrigin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    url = unique_url(origin, "never-good")
    key = sqlite_session.cache.create_key(requests.Request("GET", url))
    write_raw(db_path_of(sqlite_session), key, b"RCLF\x01 planted before any request")
    assert_recovers(sqlite_session, origin, url, caplog)


def test_corrupt_redirect_target(
    sqlite_session: CachedSession, origin: LocalOrigin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    start = origin.url(f"/redirect/2?id={uuid.uuid4().hex}")
    final = sqlite_session.get(start)
    write_raw(db_path_of(sqlite_session), final.cache_key, b"spoiled target")
    before = origin.hits["/json"]
    again = sqlite_session.get(start)
    assert again.from_cache is False
    assert origin.hits["/json"] == before + 1
    assert again.json() == final.json()
    assert sqlite_session.get(start).from_cache is True
    assert len(warnings_for(caplog, final.cache_key)) == 1


def test_delete_invalid_removes_only_corrupt_entries(
    sqlite_session: CachedSession, origin: LocalOrigin
) -> None:
    good = sqlite_session.get(unique_url(origin, "keep"))
    spoiled = sqlite_session.get(unique_url(origin, "drop"))
    write_raw(db_path_of(sqlite_session), spoiled.cache_key, b"junk")
    sqlite_session.cache.delete(invalid=True)
    assert list(sqlite_session.cache.responses) == [good.cache_key]


class PlantedFault(Exception):
    """An exception type the package has never heard of."""


def make_failing_serializer(error: type[Exception]) -> Any:
    """The default serializer, except that loading an entry starting with b"FAIL" raises
    ``error`` (as a third-party serializer might)."""
    default = init_serializer("default")

    class FailingSerializer:
        def dumps(self, value: CachedResponse) -> bytes:
            return bytes(default.dumps(value))

        def loads(self, value: bytes) -> CachedResponse:
            if bytes(value).startswith(b"FAIL"):
                raise error("this serializer cannot read that")
            return default.loads(value)  # type: ignore[no-any-return]

    return FailingSerializer()


@pytest.mark.parametrize(
    "error", [PlantedFault, KeyError, ZeroDivisionError, UnicodeError, RecursionError]
)
def test_custom_serializer_raising_any_exception(
    tmp_path: Path,
    origin: LocalOrigin,
    caplog: pytest.LogCaptureFixture,
    error: type[Exception],
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    session = CachedSession(tmp_path / "custom", serializer=make_failing_serializer(error))
    url = unique_url(origin, f"custom-{error.__name__}")
    key = session.get(url).cache_key
    write_raw(db_path_of(session), key, seal(key, b"FAIL: this entry cannot be read"))
    assert_recovers(session, origin, url, caplog)
    assert error.__name__ in warnings_for(caplog, key)[0].getMessage()
    session.close()


def test_custom_serializer_on_the_memory_backend(
    origin: LocalOrigin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    session = CachedSession(backend="memory", serializer=make_failing_serializer(PlantedFault))
    url = unique_url(origin, "memory")
    key = session.get(url).cache_key
    session.cache.responses.set_raw(key, seal(key, b"FAIL in memory"))
    assert_recovers(session, origin, url, caplog)
