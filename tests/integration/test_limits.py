"""Size limits on every backend (``max_size``, ``max_entries``, ``eviction_policy``): options
and their errors, limits kept (within the documented bound), eviction order under LRU and
LFU, redirect aliases evicted with their response, ``size()`` / ``count()``, uses recorded in
batches and totals read only now and then, limits given by session keyword, URL or instance.

Time is frozen with time_machine and moved one second per step, so the order of uses is
exact and nothing sleeps.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine

from requests_cache_like import CachedResponse, CachedSession
from requests_cache_like.backends import (
    BaseCache,
    FileCache,
    SQLiteCache,
    _sqlite_usage,
    init_backend,
    limits,
)
from requests_cache_like.backends.limits import CHECK_FRACTION, CacheLimits, parse_size
from requests_cache_like.demo import LocalOrigin
from requests_cache_like.exceptions import EntryTooLargeError

from ..conftest import ALL_BACKENDS, DYNAMODB_CLIENT_OPTIONS

DATA = Path(__file__).resolve().parent.parent / "data"
MAX_SIZE = 6000
#: The backends several processes (here: several caches) can share.
SHARED_BACKENDS = [name for name in ALL_BACKENDS if name != "memory"]


@pytest.fixture
def clock() -> Iterator[Any]:
    """Frozen time; ``clock.shift(1)`` moves it one second."""
    with time_machine.travel(time.time(), tick=False) as traveller:
        yield traveller


def _get(session: CachedSession, url: str, clock: Any) -> Any:
    clock.shift(1)
    response = session.get(url)
    assert response.content is not None
    return response


def _stored(session: CachedSession, origin: LocalOrigin, path: str) -> bool:
    return session.cache.contains(url=origin.url(path))


# -- options ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        (1500, 1500),
        ("500MB", 500 * 10**6),
        ("2GiB", 2 * 2**30),
        ("1.5 GB", 1_500_000_000),
        (" 10 kb ", 10_000),
        ("3MiB", 3 * 2**20),
        ("1KiB", 1024),
        ("64", 64),
        ("2 B", 2),
        ("1.5k", 1500),
    ],
)
def test_sizes_in_decimal_and_binary_units(value: int | str, expected: int) -> None:
    assert parse_size(value) == expected


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "", "abc", "5 XB", "1e9", "0 MB", None])
def test_a_bad_size_is_named_with_what_is_accepted(value: Any) -> None:
    with pytest.raises(ValueError, match=r"max_size=.*accepted: .*'500MB'.*GiB"):
        parse_size(value)


def test_limit_options_are_validated_where_they_are_given(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"max_size='lots'; accepted"):
        CachedSession(backend="memory", max_size="lots")
    with pytest.raises(ValueError, match=r"max_entries=0; accepted: an int > 0"):
        SQLiteCache(tmp_path / "c", max_entries=0)
    with pytest.raises(ValueError, match=r"max_entries=True"):
        BaseCache(max_entries=True)
    with pytest.raises(ValueError, match=r"eviction_policy='fifo'; accepted: 'lru'"):
        CachedSession(backend="memory", max_entries=5, eviction_policy="fifo")
    with pytest.warns(UserWarning, match="no effect without max_size or max_entries"):
        BaseCache(eviction_policy="lfu")


def test_backlite_policy_names_and_defaults() -> None:
    assert BaseCache(max_entries=3, eviction_policy="least-frequently-used").limits == (
        CacheLimits(max_entries=3, eviction_policy="lfu")
    )
    assert BaseCache(max_size="1 kB").limits == CacheLimits(1000, None, "lru")
    assert BaseCache().limits is None


def test_limits_by_url_and_by_instance(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/by_url.db?max_size=2MiB&max_entries=50&eviction_policy=lfu"
    assert CachedSession(backend=url).cache.limits == CacheLimits(2 * 2**20, 50, "lfu")
    cache = SQLiteCache(tmp_path / "instance", max_entries=2)
    assert CachedSession(backend=cache).cache.limits == CacheLimits(None, 2, "lru")
    assert init_backend(backend="memory://?max_entries=4").limits == CacheLimits(None, 4)
    with pytest.raises(ValueError, match="max_entries that is not a number"):
        init_backend(backend="memory://?max_entries=many")
    with pytest.warns(UserWarning, match="max_size have no effect"):
        CachedSession(backend=cache, max_size="1MB")


def test_max_size_and_max_cache_bytes_are_one_or_the_other(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="give one of them"):
        FileCache(tmp_path / "fs", max_cache_bytes=10_000, max_size=10_000)


# -- every backend ---------------------------------------------------------------------------
def test_max_size_is_kept_and_reported(
    make_any_session: Callable[..., CachedSession], origin: LocalOrigin, clock: Any
) -> None:
    session = make_any_session(max_size=MAX_SIZE, expire_after=300)
    cache = session.cache
    for i in range(14):
        _get(session, origin.url(f"/bytes/500?i={i}"), clock)
        # One process never leaves more than the limit behind a write.
        assert cache.size() <= MAX_SIZE
    size, count = cache.size(), cache.count()
    assert 2 <= count < 14
    # Evicted down to 5 % below the limit, one whole entry at a time.
    assert size >= MAX_SIZE * 0.95 - size / count
    assert count == len(cache.responses) == len(list(cache.filter()))
    assert _stored(session, origin, "/bytes/500?i=13")
    assert not _stored(session, origin, "/bytes/500?i=0")


def test_size_and_count_without_limits(
    make_any_session: Callable[..., CachedSession], origin: LocalOrigin
) -> None:
    session = make_any_session(expire_after=300)
    assert (session.cache.size(), session.cache.count()) == (0, 0)
    for i in range(3):
        session.get(origin.url(f"/bytes/700?i={i}"))
    assert session.cache.count() == 3
    assert 3 * 700 < session.cache.size() < 3 * 4000
    session.cache.delete(urls=[origin.url("/bytes/700?i=0")])
    assert session.cache.count() == 2


def test_least_recently_used_goes_first(
    make_any_session: Callable[..., CachedSession], origin: LocalOrigin, clock: Any
) -> None:
    session = make_any_session(max_entries=3, expire_after=300)
    for name in "abc":
        _get(session, origin.url(f"/json?k={name}"), clock)
    assert _get(session, origin.url("/json?k=a"), clock).from_cache  # a: used last
    _get(session, origin.url("/json?k=d"), clock)
    assert session.cache.count() == 3
    kept = {name for name in "abcd" if _stored(session, origin, f"/json?k={name}")}
    assert kept == {"a", "c", "d"}


def test_least_frequently_used_goes_first(
    make_any_session: Callable[..., CachedSession], origin: LocalOrigin, clock: Any
) -> None:
    session = make_any_session(max_entries=3, eviction_policy="lfu", expire_after=300)
    for name in "abc":
        _get(session, origin.url(f"/json?k={name}"), clock)
    for name in "aac":  # a: 2 uses, c: 1, b: none
        assert _get(session, origin.url(f"/json?k={name}"), clock).from_cache
    _get(session, origin.url("/json?k=d"), clock)  # b goes: fewest uses
    _get(session, origin.url("/json?k=e"), clock)  # d goes: as few as e, and older
    kept = {name for name in "abcde" if _stored(session, origin, f"/json?k={name}")}
    assert kept == {"a", "c", "e"}


def test_aliases_go_with_their_response(
    make_any_session: Callable[..., CachedSession], origin: LocalOrigin, clock: Any
) -> None:
    session = make_any_session(max_entries=2, expire_after=300)
    _get(session, origin.url("/redirect/1"), clock)  # /json, and /redirect/1 as its alias
    assert len(session.cache.redirects) == 1
    for i in range(2):
        _get(session, origin.url(f"/bytes/10?i={i}"), clock)
    assert not _stored(session, origin, "/json")
    assert len(session.cache.redirects) == 0
    assert not _get(session, origin.url("/redirect/1"), clock).from_cache


def test_an_entry_larger_than_max_size_is_not_stored(
    make_any_session: Callable[..., CachedSession], origin: LocalOrigin
) -> None:
    session = make_any_session(max_size=1000, expire_after=300)
    response = session.get(origin.url("/bytes/5000"))
    assert len(response.content) == 5000
    assert not response.from_cache
    assert session.cache.count() == 0
    with pytest.raises(EntryTooLargeError, match="more than max_size=1000"):
        session.cache.save_response(response)


@pytest.mark.parametrize("any_backend", SHARED_BACKENDS, indirect=True)
def test_two_writers_on_one_store_stay_within_the_bound(
    make_any_session: Callable[..., CachedSession], origin: LocalOrigin, clock: Any
) -> None:
    # Two caches on one store each keep their own counts, as two processes would.
    first, second = (make_any_session(max_size=MAX_SIZE, expire_after=300) for _ in range(2))
    for i in range(12):
        _get((first, second)[i % 2], origin.url(f"/bytes/400?i={i}"), clock)
        assert first.cache.size() <= MAX_SIZE * (1 + CHECK_FRACTION)
    assert second.cache.count() == first.cache.count() < 12


# -- batches and checks ----------------------------------------------------------------------
class Spy:
    """Stands for a cache's bookkeeping, counting the checks and batches its limits make."""

    def __init__(self, cache: BaseCache) -> None:
        assert cache._limits is not None
        self.usage = cache._limits.usage
        self.checks = 0
        self.recorded: list[dict[str, list[float]]] = []
        self.threads: list[str] = []
        cache._limits.usage = self

    def totals(self) -> tuple[int, int]:
        self.checks += 1
        return self.usage.totals()

    def record(self, uses: Any) -> None:
        self.recorded.append({key: list(use) for key, use in uses.items()})
        self.threads.append(threading.current_thread().name)
        self.usage.record(uses)

    def victims(self, *args: Any) -> list[tuple[str, int]]:
        return self.usage.victims(*args)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_totals_are_read_now_and_then(
    backend: str, tmp_path: Path, origin: LocalOrigin, clock: Any
) -> None:
    session = CachedSession(tmp_path / "c", backend=backend, max_size="1MB", expire_after=300)
    spy = Spy(session.cache)
    for i in range(60):  # 30 to 90 KB: a check at the first write, then every 25 KB
        _get(session, origin.url(f"/bytes/500?i={i}"), clock)
    assert 2 <= spy.checks <= 5
    session.close()


def test_uses_are_remembered_and_written_in_one_batch(
    tmp_path: Path, origin: LocalOrigin, clock: Any
) -> None:
    session = CachedSession(tmp_path / "c", max_entries=100, expire_after=300)
    spy = Spy(session.cache)
    url = origin.url("/json?k=popular")
    _get(session, url, clock)
    for _ in range(10):
        assert _get(session, url, clock).from_cache
    assert spy.recorded == []  # nothing written on a hit
    session.close()  # closing writes what was remembered
    assert len(spy.recorded) == 1
    ((key, (last_use, uses)),) = spy.recorded[0].items()
    assert uses == 10
    assert last_use == pytest.approx(time.time())
    spy.usage.fold()  # the batch was logged: moved into the usage table before evictions
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        query = "SELECT hits FROM responses_usage WHERE key = ?"
        assert db.execute(query, (key,)).fetchone() == (10,)


def test_a_full_batch_is_written_in_the_background(
    tmp_path: Path, origin: LocalOrigin, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "ACCESS_BATCH", 3)
    session = CachedSession(tmp_path / "c", max_entries=100, expire_after=300)
    spy = Spy(session.cache)
    urls = [origin.url(f"/json?k={i}") for i in range(3)]
    for url in urls:
        _get(session, url, clock)
    for url in urls * 2:
        assert _get(session, url, clock).from_cache
    limits.BACKGROUND.wait(timeout=10)
    assert spy.recorded  # full batches, written before the cache is closed
    assert all(name.startswith("rcl-uses") for name in spy.threads)  # by the background
    session.close()
    assert sum(uses for batch in spy.recorded for _, uses in batch.values()) == 6


def test_sqlite_folds_its_log_of_uses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sqlite_usage, "FOLD_ROWS", 3)
    cache = SQLiteCache(tmp_path / "c", max_entries=10)
    for key in "abc":
        cache.responses.set(key, CachedResponse(content=b"x", url=f"https://example.org/{key}"))
    usage = _sqlite_usage.SQLiteUsage(cache.responses)
    count = "SELECT COUNT(*) FROM responses_uses"
    usage.record({"a": [1.0, 2], "gone": [1.0, 1]})
    with sqlite3.connect(cache.db_path) as db:
        assert db.execute(count).fetchone() == (2,)
    usage.record({"b": [2.0, 1]})  # three uses logged: folded
    with sqlite3.connect(cache.db_path) as db:
        assert db.execute(count).fetchone() == (0,)
        hits = dict(db.execute("SELECT key, hits FROM responses_usage").fetchall())
    assert hits == {"a": 2, "b": 1, "c": 0}  # nothing for an entry no longer stored
    cache.close()


def test_a_file_of_an_earlier_version_gets_the_bookkeeping(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    shutil.copy(DATA / "cache-format-1.sqlite", path)
    cache = SQLiteCache(path, max_entries=2)
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"responses_usage", "responses_usage_forget", "responses_uses"} <= tables
    assert (cache.count(), cache.enforce_limits(), cache.count()) == (5, 3, 2)
    uses = "SELECT COUNT(*) FROM responses_usage"
    cache.responses.set("new", CachedResponse(content=b"new", url="https://example.org/new"))
    assert cache.count() == 2  # the oldest of the three went
    with sqlite3.connect(path) as db:
        assert db.execute(uses).fetchone() == (1,)
    cache.delete("new")
    with sqlite3.connect(path) as db:  # the trigger forgot the uses of what was deleted
        assert db.execute(uses).fetchone() == (0,)
    cache.close()


def test_sqlite_writes_without_limits_skip_the_bookkeeping_and_go_first(tmp_path: Path) -> None:
    path = tmp_path / "plain.sqlite"
    plain = SQLiteCache(path)
    for name in ("a", "b"):
        plain.responses.set(name, CachedResponse(content=b"x", url=f"https://example.org/{name}"))
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM responses_usage").fetchone() == (0,)
    plain.close()
    bounded = SQLiteCache(path, max_entries=2)
    bounded.responses.set("c", CachedResponse(content=b"x", url="https://example.org/c"))
    assert sorted(bounded.responses.keys()) == ["b", "c"]  # the oldest write went first
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT key FROM responses_usage").fetchall() == [("c",)]
    bounded.close()


def test_redis_counts_entries_written_without_limits(
    redis_url: str, unique_name: str, origin: LocalOrigin, clock: Any
) -> None:
    options = {"backend": redis_url, "expire_after": 300}
    plain = CachedSession(unique_name, **options)
    for i in range(5):
        _get(plain, origin.url(f"/json?i={i}"), clock)
    bounded = CachedSession(unique_name, max_entries=3, **options)
    _get(bounded, origin.url("/json?i=new"), clock)
    assert bounded.cache.count() == len(bounded.cache.responses) == 3
    assert _stored(bounded, origin, "/json?i=new")
    bounded.cache.clear()
    assert bounded.cache.size() == 0


def test_dynamodb_url_takes_limits(
    dynamodb_endpoint: str, unique_name: str, origin: LocalOrigin
) -> None:
    url = f"dynamodb://{unique_name}?endpoint_url={dynamodb_endpoint}&max_entries=2"
    session = CachedSession(backend=url, expire_after=300, **DYNAMODB_CLIENT_OPTIONS)
    assert session.cache.limits == CacheLimits(None, 2)
    for i in range(3):
        session.get(origin.url(f"/json?i={i}"))
    assert session.cache.count() == 2
