"""Background cleanup: every ``cleanup_interval`` seconds, the expired responses of a session's
cache that no stale window can serve any more are removed, with their redirect aliases.

What may go is the policy's decision (:func:`.policy.retention.removable`); this module only
schedules it. One timer thread serves every session in the process (:data:`CLEANUP`): it
sleeps until the next cleanup is due, runs the due ones one after the other, and ends when
no watched session has an interval. It is a daemon thread and stops at interpreter exit, so
it never keeps a process alive. Sessions are watched through weak references: ``close()``
ends a session's cleanup (waiting for one in progress), and so does its garbage collection.
Assigning ``cleanup_interval`` wakes the timer, which reads every interval again. A failing
cleanup (storage down) is logged once per failure streak and never raised.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from .backends.bodies import sweep_bodies
from .clock import utcnow
from .lookup import rules_for
from .models import CachedResponse
from .policy.retention import removable
from .settings import DEFAULT_OPTIONS

if TYPE_CHECKING:
    from .backends import BaseCache
    from .settings import CacheSettings

__all__ = ["CLEANUP", "Cleaned", "CleanupScheduler", "remove_expired"]

logger = logging.getLogger(__name__)


class Cleaned(Protocol):
    """What the scheduler reads of a session: its cache and its settings."""

    @property
    def cache(self) -> BaseCache: ...
    @property
    def settings(self) -> CacheSettings: ...


def remove_expired(cache: BaseCache, settings: CacheSettings, now: datetime) -> int:
    """Remove the responses of ``cache`` that ``settings`` no longer keep at ``now`` (see
    :func:`.policy.retention.removable`), and the redirect aliases pointing at them; return
    how many responses went. A read-only or disabled session removes nothing.

    A response refreshed by a request while the cleanup runs may go too: the next request
    fetches it again.
    """
    if settings.read_only or settings.disabled:
        return 0
    doomed = []
    for key, response in cache.responses.readable_items():
        if not isinstance(response, CachedResponse):
            continue
        request = response.request
        rules = rules_for(settings, request.method, request.url, DEFAULT_OPTIONS)
        if removable(response, rules, now):
            doomed.append(key)
    if doomed:
        cache.delete(*doomed)  # also the aliases: delete() prunes those left dangling
    # Streamed bodies nothing points at (a crash mid-download); one still being written may
    # go too, and its entry then reads as a miss: never a wrong answer.
    sweep_bodies(cache)
    return len(doomed)


class _Job:
    """One watched session: its interval as last read, when its next cleanup is due, whether
    the last one failed, and a lock held while one runs (``forget`` waits for it)."""

    __slots__ = ("due", "failing", "forgotten", "interval", "lock", "session")

    def __init__(
        self, session: weakref.ref[Cleaned], interval: float | None, due: float | None
    ) -> None:
        self.session = session
        self.interval = interval
        self.due = due
        self.failing = False
        self.forgotten = False
        self.lock = threading.Lock()


class CleanupScheduler:
    """Runs each watched session's cleanup every ``cleanup_interval`` seconds.

    :param clock: Monotonic seconds, for the schedule (default ``time.monotonic``).
    :param wall_clock: The time expiry is compared to (default ``utcnow``).
    :param background: Run due cleanups on a daemon timer thread, started when a watched
        session has an interval and ended when none has. False: nothing runs but
        :meth:`run_due` (for tests, which call it with the times they choose).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = utcnow,
        background: bool = True,
    ) -> None:
        self.clock = clock
        self.wall_clock = wall_clock
        self.background = background
        self._jobs: dict[int, _Job] = {}
        self._stopped = False
        self._reset()

    def _reset(self) -> None:
        # An RLock: a session collected while this thread holds the lock wakes the timer.
        self._lock = threading.Condition(threading.RLock())
        self._running = threading.Lock()
        self._thread: threading.Thread | None = None
        self._woken = False
        for job in list(self._jobs.values()):
            job.lock = threading.Lock()

    @property
    def thread(self) -> threading.Thread | None:
        """The timer thread, while one runs."""
        return self._thread

    def is_watching(self, session: Cleaned) -> bool:
        """True if ``session``'s cleanup is scheduled whenever it has an interval."""
        job = self._jobs.get(id(session))
        return job is not None and job.session() is session

    def watch(self, session: Cleaned) -> None:
        """Clean ``session``'s cache every ``cleanup_interval`` seconds from now on, whenever
        it has one (the first run one interval from now)."""
        if self._stopped:
            return
        ident = id(session)
        interval = session.settings.cleanup_interval
        ref = weakref.ref(session, functools.partial(self._collected, ident))
        job = _Job(ref, interval, None if interval is None else self.clock() + interval)
        with self._lock:
            self._jobs[ident] = job
        if interval is not None:
            self.wake()

    def forget(self, session: Cleaned) -> None:
        """Stop ``session``'s cleanup for good, after waiting for one in progress."""
        if self._stopped:  # at exit: the timer may have died holding a lock, take none
            self._jobs.pop(id(session), None)
            return
        with self._lock:
            job = self._jobs.get(id(session))
            if job is None or job.session() is not session:
                return
            del self._jobs[id(session)]
        with job.lock:
            job.forgotten = True
        self.wake()

    def _collected(self, ident: int, ref: weakref.ref[Cleaned]) -> None:
        job = self._jobs.get(ident)
        if job is not None and job.session is ref:
            self._jobs.pop(ident, None)
            if self._thread is not None and not self._stopped:
                self.wake()  # it may have been the last session with an interval

    def wake(self) -> None:
        """Have the timer read every session's interval again (one was assigned), starting
        it if a session has an interval, or letting it end if none has."""
        if self._stopped:  # checked before taking the lock: see _stop_at_exit
            return
        with self._lock:
            self._woken = True
            self._lock.notify_all()
            if self.background and self._thread is None and self._wanted():
                self._thread = threading.Thread(target=self._loop, name="rcl-cleanup", daemon=True)
                self._thread.start()

    def _wanted(self) -> bool:
        for job in list(self._jobs.values()):
            session = job.session()
            if session is not None and session.settings.cleanup_interval is not None:
                return True
        return False

    def stop(self) -> None:
        """Stop for good: no cleanup starts after this, and the timer thread ends."""
        with self._lock:
            self._stopped = True
            self._lock.notify_all()

    def _loop(self) -> None:
        try:
            while True:
                with self._lock:
                    self._woken = False
                next_due = self.run_due()
                with self._lock:
                    if self._stopped:
                        return
                    if self._woken:
                        continue  # an interval changed while it ran: read them again
                    if next_due is None:
                        return  # no session has an interval: a wake starts a new timer
                    self._lock.wait(max(0.0, next_due - self.clock()))
        finally:
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None

    def run_due(self, now: float | None = None) -> float | None:
        """Run every cleanup due at ``now`` (default: the scheduler's clock), one after the
        other; return when the next one is due, or None if no session has an interval.

        A session whose interval changed since the last call is due one new interval after
        ``now``; a session that has none is skipped.
        """
        with self._running:
            now = self.clock() if now is None else now
            with self._lock:
                jobs = list(self._jobs.values())
            dues = [self._run_job(job, now) for job in jobs]
        return min((due for due in dues if due is not None), default=None)

    def _run_job(self, job: _Job, now: float) -> float | None:
        """Run ``job``'s cleanup if it is due at ``now``; return when it is due next."""
        session = job.session()
        if session is None or job.forgotten:
            return None
        interval = session.settings.cleanup_interval
        if interval != job.interval:  # assigned since: counted from now
            job.interval, job.due = interval, None if interval is None else now + interval
        if interval is None or job.due is None or now < job.due:
            return job.due
        with job.lock:
            if job.forgotten or self._stopped:
                return None
            self._clean(job, session)
        job.due = max(now, self.clock()) + interval
        return job.due

    def _clean(self, job: _Job, session: Cleaned) -> None:
        cache = session.cache
        try:
            removed = remove_expired(cache, session.settings, self.wall_clock())
        except Exception:
            # Storage down, or anything else: logged once per failure streak, never raised.
            level = logging.DEBUG if job.failing else logging.WARNING
            logger.log(level, "Background cleanup of %s failed", cache, exc_info=True)
            job.failing = True
            return
        if job.failing:
            logger.info("Background cleanup of %s works again", cache)
        job.failing = False
        logger.debug("Background cleanup removed %d response(s) from %s", removed, cache)


#: The process-wide scheduler every session registers with.
CLEANUP = CleanupScheduler()


@atexit.register
def _stop_at_exit() -> None:
    # No lock and no notify: a daemon thread woken now could take the lock back just as the
    # interpreter freezes it, and the garbage collector's last pass (a watched session
    # collected) would then wait for that lock forever. After this, nothing takes one.
    CLEANUP._stopped = True


if hasattr(os, "register_at_fork"):  # the timer thread does not survive a fork: start afresh
    os.register_at_fork(after_in_child=lambda: CLEANUP._reset())
