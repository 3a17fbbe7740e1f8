"""The storage choices that make misses cheap and hits scale: per-thread SQLite readers,
decoded responses reused while their bytes are unchanged, byte-range leases, and files
written without fsync unless ``durable=True``."""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from requests_cache_like import CachedResponse
from requests_cache_like.backends import FileCache, SQLiteCache, _sqlite_connection
from requests_cache_like.backends.decoded import DecodedMemo
from requests_cache_like.backends.leases import RangeLockLeases, leases_for
from requests_cache_like.exceptions import DeserializationError


def _response(body: bytes = b"hello") -> CachedResponse:
    return CachedResponse(content=body, url="http://origin.test/a", status_code=200)


# -- SQLite readers -------------------------------------------------------------------------
def test_each_thread_reads_through_its_own_connection(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "c")
    cache.responses["k"] = _response()
    seen: list[object] = []
    together = threading.Barrier(4, timeout=30)  # all alive at once: no reader is reclaimed

    def read() -> None:
        assert cache.responses["k"].content == b"hello"
        with cache._connection.cursor() as cursor:
            seen.append(cursor.connection)
        together.wait()

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(connection) for connection in seen}) == 4
    assert cache._connection.connection not in set(cache._connection._readers.values())
    cache.close()
    assert cache._connection._readers == {}


def test_a_read_sees_the_write_before_it_and_inside_it(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "c")
    connection = cache._connection
    cache.responses["k"] = _response(b"one")
    assert cache.responses["k"].content == b"one"
    cache.responses["k"] = _response(b"two")
    assert cache.responses["k"].content == b"two"  # the reader's next statement sees it
    with connection.cursor(write=True) as cursor:
        cursor.execute("DELETE FROM responses WHERE key = 'k'")
        with connection.cursor() as inner:  # inside the write: its own uncommitted change
            assert inner.connection is connection.connection
            assert inner.execute("SELECT 1 FROM responses WHERE key = 'k'").fetchone() is None
    assert "k" not in cache.responses


def test_readers_of_dead_threads_are_closed(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "c")
    cache.responses["k"] = _response()
    for _ in range(5):
        thread = threading.Thread(target=lambda: cache.responses["k"])
        thread.start()
        thread.join()
    assert len(cache._connection._readers) <= 2  # the last one and perhaps this thread's


@pytest.mark.parametrize("options", [{"wal": False}, {"use_memory": True}])
def test_without_wal_reads_share_the_connection(tmp_path: Path, options: dict[str, bool]) -> None:
    cache = SQLiteCache(tmp_path / "c", **options)
    cache.responses["k"] = _response()
    with cache._connection.cursor() as cursor:
        assert cursor.connection is cache._connection.connection
    assert cache._connection._readers == {}


# -- decoded responses ----------------------------------------------------------------------
def test_unchanged_bytes_are_not_decoded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = SQLiteCache(tmp_path / "c").responses
    storage["k"] = _response()
    first = storage["k"]
    calls: list[object] = []
    loads = storage.serializer.loads
    monkeypatch.setattr(storage.serializer, "loads", lambda v: calls.append(v) or loads(v))
    second = storage["k"]
    assert calls == []
    assert second == first
    assert second is not first
    second.headers["X-Changed"] = "1"  # a caller's change never reaches the next reader
    assert "X-Changed" not in storage["k"].headers
    storage["k"] = _response(b"new")
    assert storage["k"].content == b"new"
    assert len(calls) == 1


def test_a_damaged_entry_is_still_a_miss_after_a_good_read(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "c")
    cache.responses["k"] = _response()
    assert cache.responses["k"].content == b"hello"
    raw = bytearray(cache.responses.get_raw("k"))
    raw[-3] ^= 0x01
    cache.responses.set_raw("k", bytes(raw))
    with pytest.raises(DeserializationError):
        cache.responses["k"]


def test_the_memo_is_bounded() -> None:
    memo = DecodedMemo(max_entries=3, max_bytes=800)
    for index in range(5):
        memo.put(f"k{index}", bytes(50) + bytes([index]), _response())
    assert len(memo) == 3
    assert memo.get("k0", bytes(50) + b"\x00") is None
    assert memo.get("k4", bytes(50) + b"\x04") is not None
    memo.put("big", bytes(101), _response())  # over an eighth of max_bytes: not kept
    assert memo.get("big", bytes(101)) is None
    memo.put("a", bytes(99), _response())
    memo.put("b", bytes(99), _response())
    memo.put("c", bytes(99), _response())
    assert memo._bytes <= 800
    memo.clear()
    assert len(memo) == 0


# -- leases and durability --------------------------------------------------------------------
@pytest.mark.parametrize("make", [SQLiteCache, FileCache])
def test_local_caches_lease_with_byte_range_locks(tmp_path: Path, make: type) -> None:
    assert RangeLockLeases.supported() is sys.platform.startswith("linux")
    if not RangeLockLeases.supported():
        return  # elsewhere the row and lock-file leases serve (test_single_flight.py)
    leases = leases_for(make(tmp_path / "c"))
    assert isinstance(leases, RangeLockLeases)
    assert leases.acquire("k", "one", 30)
    assert not leases.acquire("k", "two", 30)
    leases.release("k", "one")
    assert leases.acquire("k", "two", 30)


@pytest.mark.parametrize("durable", [False, True])
def test_files_are_fsynced_only_when_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, durable: bool
) -> None:
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    cache = FileCache(tmp_path / "c", durable=durable)
    cache.responses["k"] = _response()
    assert cache.responses["k"].content == b"hello"
    assert bool(synced) is durable


# -- reads that skip the row while the database is unchanged ---------------------------------
def _statements(cache: SQLiteCache) -> list[str]:
    seen: list[str] = []
    for connection in [cache._connection.connection, *cache._connection._readers.values()]:
        connection.set_trace_callback(seen.append)
    return seen


def test_an_unchanged_database_is_read_without_any_statement(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "c")
    cache.responses["k"] = _response(b"one")
    assert cache.responses.get_raw_default("absent") is None  # opens this thread's reader
    seen = _statements(cache)
    assert cache.responses["k"].content == b"one"  # read once, under the shared memory's version
    assert [statement.split()[0] for statement in seen] == ["SELECT"]
    seen.clear()
    assert cache.responses["k"].content == b"one"
    assert seen == []


def test_what_one_thread_read_answers_every_thread(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "c")
    cache.responses["k"] = _response(b"one")
    assert cache.responses["k"].content == b"one"
    readers = len(cache._connection._readers)
    seen = _statements(cache)
    with ThreadPoolExecutor(2) as pool:
        contents = list(pool.map(lambda _: cache.responses["k"].content, range(4)))
    assert contents == [b"one"] * 4
    assert seen == []  # no statement, and no connection of their own opened to make one
    assert len(cache._connection._readers) == readers
    _write_elsewhere(cache.db_path, b"two")
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(lambda: cache.responses["k"].content).result() == b"two"


def test_without_shared_memory_the_version_is_a_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sqlite_connection, "shared_memory", lambda db_path: None)
    cache = SQLiteCache(tmp_path / "c")
    cache.responses["k"] = _response(b"one")
    assert cache.responses["k"].content == b"one"  # read once: noted
    seen = _statements(cache)
    assert cache.responses["k"].content == b"one"  # again: remembered with its version
    assert [statement.split()[0] for statement in seen] == ["PRAGMA", "SELECT"]
    seen.clear()
    assert cache.responses["k"].content == b"one"
    assert seen == ["PRAGMA data_version"]


def test_a_key_read_once_or_missing_costs_its_select_alone(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "c")
    cache.responses["k"] = _response()
    assert cache.responses.get_raw_default("absent") is None  # opens this thread's reader
    seen = _statements(cache)
    with pytest.raises(KeyError):
        cache.responses.get_raw("also absent")
    assert cache.responses["k"].content == b"hello"
    assert [statement.split()[0] for statement in seen] == ["SELECT", "SELECT"]


def test_a_key_found_missing_is_not_selected_again_while_unchanged(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "c")
    cache.responses["k"] = _response()
    assert cache.responses.get_raw_default("k") is not None  # this thread's reader has read
    seen = _statements(cache)
    for _ in range(2):  # a new URL's lookup, then its second look once the lease is taken
        assert cache.responses.get_raw_default("new") is None
    assert [statement.split()[0] for statement in seen] == ["SELECT"]
    _write_elsewhere(cache.db_path, b"two")  # any commit: the next read selects again
    assert cache.responses.get_raw_default("new") is None
    cache.responses["new"] = _response(b"new")
    assert cache.responses["new"].content == b"new"
    assert [statement for statement in seen if statement.startswith("SELECT")] == [
        f"SELECT value, typeof(value) FROM responses WHERE key = '{key}'"
        for key in ("new", "new", "new")
    ]


def _write_elsewhere(path: str, body: bytes) -> None:
    SQLiteCache(path).responses["k"] = _response(body)


@pytest.mark.parametrize("where", ["this cache", "connection", "process", "raw"])
def test_any_change_anywhere_is_seen_at_the_next_read(tmp_path: Path, where: str) -> None:
    path = str(tmp_path / "c")
    cache = SQLiteCache(path)
    cache.responses["k"] = _response(b"one")
    for _ in range(3):  # the third read is taken from memory
        assert cache.responses["k"].content == b"one"
    if where == "this cache":
        cache.responses["k"] = _response(b"two")
    elif where == "connection":  # another cache object: another connection
        _write_elsewhere(path, b"two")
    elif where == "process":
        import multiprocessing

        child = multiprocessing.get_context("fork").Process(
            target=_write_elsewhere, args=(path, b"two")
        )
        child.start()
        child.join(30)
        assert child.exitcode == 0
    else:  # plain sqlite3, which knows nothing of this package
        import sqlite3

        with sqlite3.connect(cache.db_path) as raw:
            raw.execute("DELETE FROM responses")
    if where == "raw":
        assert "k" not in cache.responses
        with pytest.raises(KeyError):
            cache.responses["k"]
    else:
        assert cache.responses["k"].content == b"two"


def test_a_new_reader_forgets_what_the_old_one_read(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "c")
    cache.responses["k"] = _response(b"one")
    assert cache.responses["k"].content == b"one"
    cache.close()  # readers closed: their versions mean nothing to the next connection
    other = SQLiteCache(tmp_path / "c")
    other.responses["k"] = _response(b"two")
    assert cache.responses["k"].content == b"two"


def test_without_wal_every_read_selects_the_row(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "c", wal=False)
    cache.responses["k"] = _response()
    cache.responses["k"]
    assert cache._connection.snapshot() is None
    seen = _statements(cache)
    cache.responses["k"]
    assert any(statement.startswith("SELECT") for statement in seen)


def test_the_remembered_entries_are_bounded(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "c")
    known = cache._connection.known
    known.max_entries = 3
    for index in range(5):
        cache.responses[f"k{index}"] = _response()
        cache.responses[f"k{index}"]
    assert len(known) <= 3
    known.max_bytes = 10
    cache.responses["k5"] = _response()  # a commit: every key is read again
    for _ in range(3):
        cache.responses["k4"]
    assert known._shared.size <= 10  # every value is larger than 10 bytes
