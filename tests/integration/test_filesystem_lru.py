"""The size-bounded filesystem storage (requests-cache's ``LRUFileDict`` and ``LRUDict``,
``FileCache(max_cache_bytes=...)``): limits, eviction order, block accounting, index sync."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from requests_mock import Mocker

from requests_cache_like import CachedSession
from requests_cache_like.backends import FileCache, LRUFileDict
from requests_cache_like.backends.filesystem import LRUDict


def ticking() -> Callable[[], int]:
    """A clock that moves one nanosecond per reading (no sleeps, strict order)."""
    counter = itertools.count(1)
    return lambda: next(counter)


def lru_files(tmp_path: Path, max_cache_bytes: int = 1000, **kwargs: object) -> LRUFileDict:
    return LRUFileDict(tmp_path / "lru", max_cache_bytes=max_cache_bytes, clock=ticking(), **kwargs)  # type: ignore[arg-type]


# -- the index -------------------------------------------------------------------------------
@pytest.fixture
def index(tmp_path: Path) -> LRUDict:
    return LRUDict(tmp_path / "index", clock=ticking())


def test_index_tracks_sizes_and_counts(index: LRUDict) -> None:
    index["a"], index["b"] = 100, 200
    index["a"] = 150
    assert (index["a"], index.count(), index.total_size()) == (150, 2, 350)
    del index["a"]
    assert (len(index), index.total_size()) == (1, 200)
    with pytest.raises(KeyError):
        index["a"]
    with pytest.raises(KeyError):
        del index["a"]


def test_get_lru_returns_oldest_keys_covering_the_size(index: LRUDict) -> None:
    for key, size in [("k0", 0), ("k1", 100), ("k2", 200), ("k3", 300)]:
        index[key] = size
    index.update_access_time("k1")  # order now: k0, k2, k3, k1
    assert index.get_lru(1) == ["k0", "k2"]
    assert index.get_lru(201) == ["k0", "k2", "k3"]
    assert index.get_lru(10_000) == ["k0", "k2", "k3", "k1"]
    assert index.get_lru(0) == []


def test_lfu_evicts_least_used_first(tmp_path: Path) -> None:
    index = LRUDict(tmp_path / "lfu", eviction_policy="least-frequently-used", clock=ticking())
    index["popular"], index["rare"] = 10, 10
    index.touch_many([("popular", 100), ("popular", 101)])
    assert index.get_lru(1) == ["rare"]


@pytest.mark.parametrize(
    ("sort_key", "reverse", "limit", "expected"),
    [
        ("access_time", False, None, ["k1", "k2", "k3"]),
        ("access_time", True, 2, ["k3", "k2"]),
        ("size", True, None, ["k3", "k2", "k1"]),
        ("key", False, 1, ["k1"]),
    ],
)
def test_sorted(
    index: LRUDict, sort_key: str, reverse: bool, limit: int | None, expected: list[str]
) -> None:
    for key, size in [("k1", 1), ("k2", 2), ("k3", 3)]:
        index[key] = size
    assert list(index.sorted(sort_key, reverse, limit)) == expected


def test_bad_sort_key_and_policy_are_named(index: LRUDict, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Invalid sort key: nope"):
        index.sorted("nope")
    with pytest.raises(ValueError, match="eviction_policy='fifo'; accepted: 'lru'"):
        LRUDict(tmp_path / "x", eviction_policy="fifo")


def test_update_access_time_of_unknown_key(index: LRUDict) -> None:
    with pytest.raises(KeyError):
        index.update_access_time("missing")


def test_table_name_may_be_a_sql_keyword(tmp_path: Path) -> None:
    index = LRUDict(tmp_path / "kw", table_name="order")
    index["k"] = 1
    assert index.total_size() == 1


# -- the bounded storage -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"block_bytes": 0}, "block_bytes=0"),
        ({"block_bytes": 2000}, "larger than max_cache_bytes"),
        ({"max_file_bytes": 2000}, "max_file_bytes=2000 is larger"),
        ({"max_cache_bytes": -1}, "max_cache_bytes=-1"),
    ],
)
def test_invalid_limits_are_named(tmp_path: Path, kwargs: dict[str, int], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        lru_files(tmp_path, **{"max_cache_bytes": 1000, **kwargs})  # type: ignore[arg-type]


def test_least_recently_used_file_goes_first(tmp_path: Path) -> None:
    files = lru_files(tmp_path)
    for i in range(3):
        files[f"k{i}"] = "x" * 300
    assert files["k0"] == "x" * 300  # a read makes k0 the most recently used
    files["new"] = "x" * 300
    assert sorted(files.keys()) == ["k0", "k2", "new"]
    assert files.size() == 900
    assert len(list(files.paths())) == 3


def test_too_large_file_is_not_stored_and_drops_the_old_value(tmp_path: Path) -> None:
    files = lru_files(tmp_path, max_file_bytes=500)
    files["k"] = "small"
    files["k"] = "x" * 501
    assert "k" not in files
    assert files.size() == 0


def test_a_file_as_large_as_the_cache_evicts_everything(tmp_path: Path) -> None:
    files = lru_files(tmp_path)
    for i in range(10):
        files[f"k{i}"] = "1" * 10
    files["big"] = "0" * 1000
    assert files.keys() == ["big"]


@pytest.mark.parametrize(
    ("block", "size", "expected"), [(1, 10, 10), (10, 11, 20), (1024, 3, 1024), (10, 0, 10)]
)
def test_sizes_are_whole_blocks(tmp_path: Path, block: int, size: int, expected: int) -> None:
    files = lru_files(tmp_path, max_cache_bytes=4096, block_bytes=block)
    assert files._get_size_on_disk(size) == expected
    if size:
        assert files._get_size_on_disk(-size) == -expected


def test_replacing_and_deleting_keep_the_total(tmp_path: Path) -> None:
    files = lru_files(tmp_path, block_bytes=10)
    files["a"], files["b"] = "x" * 15, "y" * 5
    files["a"] = "x" * 25
    assert files.size() == 30 + 10
    del files["a"]
    files.bulk_delete(["b", "missing"])
    assert files.size() == 0
    assert len(files.lru_index) == 0


def test_sync_index_follows_files_changed_by_hand(tmp_path: Path) -> None:
    files = lru_files(tmp_path)
    files["gone"], files["kept"] = "a" * 100, "b" * 100
    files._key2path("gone").unlink()
    reopened = lru_files(tmp_path, sync_index=True)
    assert set(reopened.lru_index) == {"kept"}
    assert reopened.size() == 100


def test_eviction_tolerates_files_removed_by_hand(tmp_path: Path) -> None:
    files = lru_files(tmp_path)
    files["a"], files["b"] = "a" * 500, "b" * 500
    files._key2path("a").unlink()
    files["c"] = "c" * 500
    assert sorted(files) == ["b", "c"]
    assert set(files.lru_index) == {"b", "c"}


def test_reads_are_recorded_in_batches(tmp_path: Path) -> None:
    files = lru_files(tmp_path)
    files["a"] = "a"
    before = list(files.lru_index.sorted())
    for _ in range(3):
        files["a"]
    assert files._accesses
    assert list(files.lru_index.sorted()) == before
    files.flush_accesses()
    assert not files._accesses


def test_threads_share_one_bound(tmp_path: Path) -> None:
    files = LRUFileDict(tmp_path / "threads", max_cache_bytes=2000)

    def write(start: int) -> None:
        for i in range(start, start + 25):
            files[f"k{i}"] = "x" * 100

    threads = [threading.Thread(target=write, args=(n * 25,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert files.size() <= 2000
    assert len(files) == 20


def test_shared_lock_is_used(tmp_path: Path) -> None:
    lock = threading.RLock()
    assert lru_files(tmp_path, lock=lock).lock is lock


# -- through a session -------------------------------------------------------------------------
def test_file_cache_with_max_cache_bytes_stays_bounded(tmp_path: Path) -> None:
    cache = FileCache(tmp_path / "http", max_cache_bytes=20_000)
    assert isinstance(cache.responses, LRUFileDict)
    session = CachedSession(backend=cache)
    with Mocker() as mock:
        mock.get("http://api.test/item", text="x" * 3000)
        for i in range(20):
            session.get(f"http://api.test/item?i={i}")
        assert cache.responses.size() <= 20_000
        assert 3 <= len(cache.responses) < 20
        assert session.get("http://api.test/item?i=19").from_cache is True
        assert session.get("http://api.test/item?i=0").from_cache is False


def test_file_cache_lock_without_bound_warns(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="has no effect"):
        FileCache(tmp_path / "http", lock=threading.RLock())
