"""Background cleanup (cleanup.py): every ``cleanup_interval`` seconds, expired responses past
their stale windows go, with their redirect aliases; fresh ones and those a window still
covers stay; ``close()`` stops it; a failing storage is logged once per failure streak.

No test sleeps: the schedule runs on a monotonic clock the test sets (``ticks``), through
``run_due(now)`` on a scheduler without a thread, and expiry on a time_machine clock. The
timer thread itself is driven by waking it with the fake clock moved on.
"""

from __future__ import annotations

import gc
import logging
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import time_machine

from requests_cache_like import (
    CachedSession,
    StorageError,
    cleanup,
    get_cache,
    install_cache,
    uninstall_cache,
)
from requests_cache_like.backends import BaseCache
from requests_cache_like.cleanup import CleanupScheduler
from requests_cache_like.demo import LocalOrigin
from requests_cache_like.settings import CacheSettings

NOW = datetime(2031, 3, 4, 9, 30, tzinfo=timezone.utc)
#: The fake monotonic clock's reading while the test makes its sessions.
T0 = 1000.0
YEAR = timedelta(days=365)

SessionFactory = Callable[..., CachedSession]


class Ticks:
    """A monotonic clock that only the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def origin() -> Iterator[LocalOrigin]:
    """A private origin for this module."""
    with LocalOrigin() as server:
        yield server


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """A frozen wall clock at NOW; ``clock.shift(seconds)`` moves it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def scheduler(monkeypatch: pytest.MonkeyPatch, ticks: Ticks) -> CleanupScheduler:
    """A scheduler with no thread in place of the process-wide one: the sessions a test makes
    register with it, and nothing runs but its ``run_due()``."""
    manual = CleanupScheduler(clock=ticks, background=False)
    monkeypatch.setattr(cleanup, "CLEANUP", manual)
    return manual


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[BaseCache]:
    """The cache of every cleanup that runs, in order (each still does its work)."""
    caches: list[BaseCache] = []
    real = cleanup.remove_expired

    def spy(cache: BaseCache, settings: CacheSettings, now: datetime) -> int:
        caches.append(cache)
        return real(cache, settings, now)

    monkeypatch.setattr(cleanup, "remove_expired", spy)
    return caches


# -- what goes and what stays ----------------------------------------------------------------


def test_expired_responses_go_with_their_aliases(
    make_session: SessionFactory,
    scheduler: CleanupScheduler,
    origin: LocalOrigin,
    clock: time_machine.Coordinates,
) -> None:
    session = make_session(expire_after=60, cleanup_interval=300)
    cache = session.cache
    short = session.get(origin.url("/json?cleanup=short"))
    longer = session.get(origin.url("/json?cleanup=long"), expire_after=3600)
    forever = session.get(origin.url("/json?cleanup=forever"), expire_after=-1)
    redirected = session.get(origin.url("/redirect/2?cleanup=alias"))
    assert len(cache.redirects) == 2
    clock.shift(120)

    assert scheduler.run_due(T0 + 299) == T0 + 300  # not due yet
    assert cache.contains(key=short.cache_key)
    assert scheduler.run_due(T0 + 300) == T0 + 600

    assert not cache.contains(key=short.cache_key)
    assert not cache.contains(key=redirected.cache_key)
    assert not cache.contains(url=origin.url("/redirect/2?cleanup=alias"))
    assert len(cache.redirects) == 0
    assert cache.contains(key=longer.cache_key)
    assert cache.contains(key=forever.cache_key)
    assert len(cache.responses) == 2


@pytest.mark.parametrize(
    "window",
    [
        {"stale_if_error": 300},
        {"stale_while_revalidate": timedelta(minutes=5)},
        {"stale_if_error": 30, "stale_while_revalidate": 300},
    ],
    ids=["stale_if_error", "stale_while_revalidate", "the longer window"],
)
def test_responses_inside_a_stale_window_stay(
    make_session: SessionFactory,
    scheduler: CleanupScheduler,
    origin: LocalOrigin,
    clock: time_machine.Coordinates,
    window: dict[str, Any],
) -> None:
    session = make_session(expire_after=60, cleanup_interval=60, **window)
    key = session.get(origin.url("/json?cleanup=window")).cache_key
    clock.shift(60 + 300)  # stale for the whole window
    scheduler.run_due(T0 + 60)
    assert session.cache.contains(key=key)
    clock.shift(1)  # past it
    scheduler.run_due(T0 + 120)
    assert not session.cache.contains(key=key)


@pytest.mark.parametrize("window", ["stale_if_error", "stale_while_revalidate"])
def test_a_window_of_true_keeps_expired_responses(
    make_session: SessionFactory,
    scheduler: CleanupScheduler,
    origin: LocalOrigin,
    clock: time_machine.Coordinates,
    window: str,
) -> None:
    session = make_session(expire_after=60, cleanup_interval=60, **{window: True})
    key = session.get(origin.url("/json?cleanup=true")).cache_key
    clock.shift(10 * YEAR)
    scheduler.run_due(T0 + 60)
    assert session.cache.contains(key=key)


def test_standards_mode_a_validator_keeps_nothing(
    make_session: SessionFactory,
    scheduler: CleanupScheduler,
    origin: LocalOrigin,
    clock: time_machine.Coordinates,
) -> None:
    """Stored for revalidation, but past every stale window: removed (policy/retention.py)."""
    session = make_session(cache_control=True, cleanup_interval=60)
    fresh = session.get(origin.url("/cache/600"))
    validated = session.get(origin.url("/etag/cleanup"))  # ETag, no freshness
    assert session.cache.contains(key=validated.cache_key)
    clock.shift(120)
    scheduler.run_due(T0 + 60)
    assert session.cache.contains(key=fresh.cache_key)
    assert not session.cache.contains(key=validated.cache_key)


def test_a_read_only_session_removes_nothing(
    make_session: SessionFactory,
    scheduler: CleanupScheduler,
    origin: LocalOrigin,
    clock: time_machine.Coordinates,
) -> None:
    session = make_session(expire_after=60, cleanup_interval=60)
    key = session.get(origin.url("/json?cleanup=read-only")).cache_key
    session.read_only = True
    clock.shift(120)
    scheduler.run_due(T0 + 60)
    assert session.cache.contains(key=key)


# -- starting, changing and stopping ---------------------------------------------------------


def test_close_stops_it(
    make_session: SessionFactory,
    scheduler: CleanupScheduler,
    runs: list[BaseCache],
) -> None:
    closed = make_session(cleanup_interval=60)
    other = make_session(cleanup_interval=90)
    assert scheduler.is_watching(closed)
    closed.close()
    assert not scheduler.is_watching(closed)
    assert scheduler.run_due(T0 + 60) == T0 + 90  # only the other session is scheduled
    assert scheduler.run_due(T0 + 90) == T0 + 180
    assert runs == [other.cache]
    other.close()
    assert scheduler.run_due(T0 + 1_000) is None
    assert runs == [other.cache]


def test_assigning_the_interval_starts_changes_and_stops_it(
    make_session: SessionFactory, scheduler: CleanupScheduler, runs: list[BaseCache]
) -> None:
    session = make_session()
    assert scheduler.run_due(T0 + 10_000) is None  # watched, with no interval
    session.cleanup_interval = 60
    assert scheduler.run_due(T0 + 10_000) == T0 + 10_060  # one interval after it is noticed
    session.cleanup_interval = timedelta(seconds=10)
    assert scheduler.run_due(T0 + 10_005) == T0 + 10_015
    assert runs == []
    assert scheduler.run_due(T0 + 10_015) == T0 + 10_025
    assert len(runs) == 1

    session.settings.cleanup_interval = None
    assert scheduler.run_due(T0 + 20_000) is None
    assert len(runs) == 1
    session.settings = CacheSettings(cleanup_interval=30)
    assert scheduler.run_due(T0 + 20_000) == T0 + 20_030
    assert scheduler.run_due(T0 + 20_030) == T0 + 20_060
    assert len(runs) == 2


def test_a_garbage_collected_session_is_forgotten(
    scheduler: CleanupScheduler, runs: list[BaseCache]
) -> None:
    session = CachedSession("gc", backend="memory", cleanup_interval=60)
    collected = weakref.ref(session)
    del session
    gc.collect()
    assert collected() is None
    assert scheduler.run_due(T0 + 60) is None
    assert runs == []


def test_install_cache_runs_it_until_uninstalled(
    scheduler: CleanupScheduler,
    origin: LocalOrigin,
    clock: time_machine.Coordinates,
    runs: list[BaseCache],
) -> None:
    """requests.get() closes its session at once: the installed cache keeps one open."""
    install_cache("installed", backend="memory", expire_after=60, cleanup_interval=60)
    try:
        cache = get_cache()
        assert cache is not None
        key = requests.get(origin.url("/json?cleanup=installed")).cache_key
        clock.shift(120)
        assert scheduler.run_due(T0 + 60) == T0 + 120
        assert not cache.contains(key=key)
    finally:
        uninstall_cache()
    assert scheduler.run_due(T0 + 120) is None
    assert runs == [cache]


# -- failures --------------------------------------------------------------------------------


def test_storage_errors_are_logged_once_per_streak(
    make_session: SessionFactory,
    scheduler: CleanupScheduler,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    session = make_session(cleanup_interval=60)
    storage = session.cache.responses
    real = storage.readable_items
    down = [True]

    def readable_items() -> Iterator[tuple[str, Any]]:
        if down[0]:
            raise StorageError("storage is down")
        return real()

    monkeypatch.setattr(storage, "readable_items", readable_items)
    caplog.set_level(logging.DEBUG, logger="requests_cache_like.cleanup")

    def warnings() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.levelno >= logging.WARNING]

    for tick in (60, 120, 180):
        assert scheduler.run_due(T0 + tick) == T0 + tick + 60  # raises nothing
    assert len(warnings()) == 1
    assert "failed" in warnings()[0].getMessage()
    assert warnings()[0].exc_info is not None

    down[0] = False
    scheduler.run_due(T0 + 240)
    assert any("works again" in r.getMessage() for r in caplog.records)
    down[0] = True
    scheduler.run_due(T0 + 300)
    scheduler.run_due(T0 + 360)
    assert len(warnings()) == 2  # a new streak, logged once


# -- the timer thread ------------------------------------------------------------------------


@pytest.fixture
def threaded(monkeypatch: pytest.MonkeyPatch, ticks: Ticks) -> Iterator[CleanupScheduler]:
    """A scheduler with its timer thread, on the test's monotonic clock."""
    timed = CleanupScheduler(clock=ticks)
    monkeypatch.setattr(cleanup, "CLEANUP", timed)
    yield timed
    timed.stop()


def _join(thread: threading.Thread | None) -> None:
    assert thread is not None
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_one_daemon_thread_runs_every_session_and_ends_when_none_needs_it(
    threaded: CleanupScheduler, ticks: Ticks, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = threading.Event()
    monkeypatch.setattr(cleanup, "remove_expired", lambda *args: ran.set())
    unscheduled = CachedSession("idle", backend="memory")
    assert threaded.thread is None  # no session has an interval: no thread
    first = CachedSession("first", backend="memory", cleanup_interval=60)
    second = CachedSession("second", backend="memory", cleanup_interval=3600)
    timer = threaded.thread
    assert timer is not None
    assert timer.is_alive()
    assert timer.daemon

    ticks.now = T0 + 60
    threaded.wake()  # as if its wait had timed out
    assert ran.wait(timeout=30)
    assert threaded.thread is timer  # one thread for every session

    first.cleanup_interval = None
    second.close()
    _join(timer)
    assert threaded.thread is None

    first.cleanup_interval = 5  # starts a new one
    restarted = threaded.thread
    assert restarted is not None
    assert restarted is not timer
    first.close()
    _join(restarted)
    unscheduled.close()


def test_the_timer_never_keeps_the_interpreter_alive() -> None:
    """Nor hangs its exit: the sessions are still watched (and one may be cleaning) when the
    interpreter's last garbage collection runs. Several processes, as a hang was a race."""
    code = (
        "from requests_cache_like import CachedSession, cleanup\n"
        "from requests_cache_like.models import CachedResponse\n"
        "idle = CachedSession('exit', backend='memory', cleanup_interval=3600)\n"
        "busy = CachedSession('busy', backend='memory', cleanup_interval=0.001, expire_after=0)\n"
        "for n in range(200):\n"
        "    busy.cache.responses[f'k{n}'] = CachedResponse(status_code=200)\n"
        "assert cleanup.CLEANUP.thread.is_alive() and cleanup.CLEANUP.thread.daemon\n"
        "print('exiting')\n"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    try:
        for process in processes:
            stdout, stderr = process.communicate(timeout=120)
            assert process.returncode == 0, stderr
            assert stdout.strip() == "exiting"
    finally:
        for process in processes:  # none is left behind, whatever failed
            process.kill()
            process.wait()


# -- a server backend ------------------------------------------------------------------------


def test_every_backend(
    make_any_session: Callable[..., CachedSession],
    scheduler: CleanupScheduler,
    origin: LocalOrigin,
    clock: time_machine.Coordinates,
) -> None:
    session = make_any_session(expire_after=60, cleanup_interval=60)
    cache = session.cache
    short = session.get(origin.url("/json?cleanup=every-short"))
    kept = session.get(origin.url("/json?cleanup=every-kept"), expire_after=3600)
    redirected = session.get(origin.url("/redirect/2?cleanup=every-alias"))
    assert len(cache.redirects) == 2
    clock.shift(120)
    scheduler.run_due(T0 + 60)
    assert not cache.contains(key=short.cache_key)
    assert not cache.contains(key=redirected.cache_key)
    assert len(cache.redirects) == 0
    assert cache.contains(key=kept.cache_key)
