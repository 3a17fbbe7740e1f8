"""``on_backend_error``: with "bypass", a cache whose storage fails answers from the origin,
says so once, and recovers by itself when the storage comes back; with "raise" (the
default) the storage error reaches the caller."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from requests_cache_like import CachedSession
from requests_cache_like.demo import LocalOrigin
from requests_cache_like.exceptions import StorageError
from requests_cache_like.settings import CacheSettings

from ..servers import RedisServer

FAILED = "Cache storage failed"
RECOVERED = "Cache storage is working again"


def warnings_with(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and text in record.getMessage()
    ]


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis server for this test only, which it may stop and start again."""
    server = RedisServer().start()
    yield server
    server.stop()


def test_bypass_answers_from_the_origin_while_redis_is_down_and_recovers(
    own_redis: RedisServer,
    origin: LocalOrigin,
    unique_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="requests_cache_like")
    session = CachedSession(
        unique_name, backend=own_redis.url, on_backend_error="bypass", expire_after=60
    )
    paths = [f"/etag/{unique_name}-{n}" for n in range(3)]
    port = own_redis.port
    failures: list[str] = []

    def fetch(step: int) -> tuple[bool, str]:
        """One request of the loop; a failure is recorded, never raised."""
        path = paths[step % len(paths)]
        try:
            response = session.get(origin.url(path))
        except Exception as exc:
            failures.append(f"step {step}: {type(exc).__name__}: {exc}")
            return False, path
        if response.status_code != 200 or response.json() != {"etag": f'"{path[6:]}"'}:
            failures.append(f"step {step}: {response.status_code} {response.text[:80]}")
        return bool(response.from_cache), path

    # Redis up: the first request of each URL is a miss, the rest are hits.
    up = [fetch(step) for step in range(9)]
    assert [from_cache for from_cache, _ in up] == [False] * 3 + [True] * 6
    hits_before = {path: origin.hits[path] for path in paths}
    assert set(hits_before.values()) == {1}

    # Redis down: every request still succeeds, from the origin.
    own_redis.stop()
    down = [fetch(step) for step in range(9, 21)]
    assert failures == []
    assert [from_cache for from_cache, _ in down] == [False] * 12
    assert sum(origin.hits[path] - hits_before[path] for path in paths) == 12
    failed_warnings = warnings_with(caplog, FAILED)
    assert len(failed_warnings) == 1  # once, not once per request
    assert "redis" in failed_warnings[0]
    assert warnings_with(caplog, RECOVERED) == []

    # Redis back on the same port (empty: it keeps nothing on disk): the session uses it again.
    own_redis.start()
    assert own_redis.port == port
    again = [fetch(step) for step in range(21, 30)]
    assert failures == []
    assert [from_cache for from_cache, _ in again] == [False] * 3 + [True] * 6
    assert len(warnings_with(caplog, RECOVERED)) == 1
    assert len(warnings_with(caplog, FAILED)) == 1
    assert len(session.cache.responses) == 3
    session.close()


def test_raise_is_the_default_and_names_redis(
    own_redis: RedisServer, origin: LocalOrigin, unique_name: str
) -> None:
    session = CachedSession(unique_name, backend=own_redis.url, expire_after=60)
    assert session.settings.on_backend_error == "raise"
    url = origin.url(f"/etag/{unique_name}")
    session.get(url)
    assert session.get(url).from_cache is True
    own_redis.stop()
    with pytest.raises(StorageError, match=r"redis.*Connection refused") as caught:
        session.get(url)
    assert f"127.0.0.1:{own_redis.port}" in str(caught.value)
    with pytest.raises(StorageError, match="redis"):
        session.get(origin.url(f"/etag/{unique_name}-new"))
    session.close()


def test_bypass_with_a_locked_sqlite_database(
    tmp_path: Path, origin: LocalOrigin, unique_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "locked.sqlite"
    # A rollback journal, where an exclusive lock stops readers too (in WAL mode, the
    # default, reads go on while another connection writes).
    session = CachedSession(
        path, busy_timeout=20, on_backend_error="bypass", expire_after=60, wal=False
    )
    url = origin.url(f"/etag/{unique_name}")
    session.get(url)
    assert session.get(url).from_cache is True
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with caplog.at_level(logging.WARNING, logger="requests_cache_like"):
            answers = [session.get(url) for _ in range(4)]
            fresh = session.get(origin.url(f"/etag/{unique_name}-while-locked"))
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert [r.status_code for r in answers] == [200] * 4
    assert [r.from_cache for r in answers] == [False] * 4
    assert fresh.status_code == 200
    assert origin.hits[f"/etag/{unique_name}"] == 5
    [warning] = warnings_with(caplog, FAILED)
    assert "busy_timeout=20" in warning
    # The lock is gone: the next response is stored and served from the cache again.
    new_url = origin.url(f"/etag/{unique_name}-after")
    assert session.get(new_url).from_cache is False
    assert session.get(new_url).from_cache is True
    assert len(warnings_with(caplog, RECOVERED)) == 1
    session.close()


@pytest.mark.parametrize("bad", ["ignore", "BYPASS", "", None, True])
def test_invalid_on_backend_error_names_the_accepted_values(bad: object) -> None:
    with pytest.raises(ValueError, match="on_backend_error") as caught:
        CachedSession("x", backend="memory", on_backend_error=bad)  # type: ignore[arg-type]
    assert "'raise'" in str(caught.value)
    assert "'bypass'" in str(caught.value)


def test_on_backend_error_is_validated_on_assignment() -> None:
    settings = CacheSettings(on_backend_error="bypass")
    with pytest.raises(ValueError, match="'raise', 'bypass'"):
        settings.on_backend_error = "skip"


def test_a_store_that_reads_but_refuses_writes_warns_once(
    origin: LocalOrigin,
    unique_name: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reads succeeding between failed writes must not flap between "failed" and "working"."""
    session = CachedSession(unique_name, backend="memory", on_backend_error="bypass")

    def refuse(*args: object, **kwargs: object) -> None:
        raise StorageError("memory full (simulated)")

    monkeypatch.setattr(session.cache.responses, "set_raw", refuse)
    with caplog.at_level(logging.WARNING, logger="requests_cache_like"):
        answers = [session.get(origin.url(f"/json?n={n}")) for n in range(5)]
    assert [r.status_code for r in answers] == [200] * 5
    assert [r.from_cache for r in answers] == [False] * 5
    assert len(warnings_with(caplog, FAILED)) == 1
    assert warnings_with(caplog, RECOVERED) == []
    monkeypatch.undo()
    with caplog.at_level(logging.WARNING, logger="requests_cache_like"):
        session.get(origin.url("/json?n=after"))
    assert len(warnings_with(caplog, RECOVERED)) == 1
    session.close()
