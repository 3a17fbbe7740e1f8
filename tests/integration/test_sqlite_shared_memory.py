"""SQLite hits versioned by the database's shared memory (``-shm``): the mapping never costs
SQLite its locks, and its descriptors do not pile up."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import pytest

from requests_cache_like import CachedResponse
from requests_cache_like.backends import SQLiteCache, _sqlite_shm

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads the kernel's lock table, /proc/locks"
)


def _cache_read_twice(path: Path) -> SQLiteCache:
    cache = SQLiteCache(path)
    cache.responses["k"] = CachedResponse(content=b"x", url="http://origin.test/", status_code=200)
    for _ in range(2):  # the second read is versioned by the shared memory
        cache.responses["k"]
    return cache


def _locks_on(inode: int) -> list[str]:
    """This process's POSIX locks on the file ``inode`` (SQLite's on its -shm file)."""
    mine = str(os.getpid())
    with open("/proc/locks") as table:
        rows = [line.split() for line in table]
    return [
        " ".join(row[1:])
        for row in rows
        if row[1] == "POSIX" and row[4] == mine and row[5].endswith(f":{inode}")
    ]


def test_a_view_of_a_file_in_use_is_never_closed(tmp_path: Path) -> None:
    first = _cache_read_twice(tmp_path / "first")
    view = _sqlite_shm.shared_memory(first.db_path)
    assert view is not None
    assert view.marker() is not None
    inode = view.inode[1]
    raw = sqlite3.connect(first.db_path)  # another user of the file, unknown to this package
    raw.execute("SELECT count(*) FROM responses").fetchone()
    first.close()
    held = _locks_on(inode)
    assert held  # the raw connection's shared lock on the -shm file

    _cache_read_twice(tmp_path / "second")  # opens another view, and closes unlinked ones
    assert _locks_on(inode) == held  # closing a descriptor of the file would have dropped them
    assert view.inode in _sqlite_shm._views

    raw.close()  # the last connection: SQLite removes the -shm file
    assert not Path(first.db_path + "-shm").exists()
    _cache_read_twice(tmp_path / "third")
    assert view.inode not in _sqlite_shm._views


def test_views_of_removed_files_are_closed(tmp_path: Path) -> None:
    for index in range(20):
        _cache_read_twice(tmp_path / f"c{index}").close()
    assert len(os.listdir("/proc/self/fd")) < 1000
    alive = [view for view in _sqlite_shm._views.values() if not view.unlinked()]
    assert len(_sqlite_shm._views) - len(alive) <= 1  # the last one, until the next view


def test_a_header_being_rewritten_is_no_version(tmp_path: Path) -> None:
    cache = _cache_read_twice(tmp_path / "c")
    view = _sqlite_shm.shared_memory(cache.db_path)
    assert view is not None
    before = view.marker()
    cache.responses["k"] = CachedResponse(content=b"y", url="http://origin.test/", status_code=200)
    after = view.marker()
    assert before is not None
    assert after is not None
    assert before != after
    header = bytearray(Path(cache.db_path + "-shm").read_bytes()[: 2 * _sqlite_shm.HEADER_SIZE])
    torn = _sqlite_shm.SharedMemory.__new__(_sqlite_shm.SharedMemory)
    header[_sqlite_shm.HEADER_SIZE] ^= 1  # the second copy differs from the first
    torn._map = header  # type: ignore[assignment]
    assert torn.marker() is None
    torn._map = None  # not mapped yet
    assert torn.marker() is None


def test_a_file_that_cannot_be_mapped_leaves_the_version_to_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise OSError(19, "No such device")  # as mmap() on a file system without it

    monkeypatch.setattr(_sqlite_shm.mmap, "mmap", refuse)
    monkeypatch.setattr(_sqlite_shm, "_views", {})
    cache = _cache_read_twice(tmp_path / "c")
    assert _sqlite_shm.shared_memory(cache.db_path) is None
    cache.responses["k"] = CachedResponse(content=b"y", url="http://origin.test/", status_code=200)
    assert cache.responses["k"].content == b"y"
