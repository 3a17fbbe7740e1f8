"""Background work: a small, bounded pool that refreshes stale entries, one job per key."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

__all__ = ["REFRESH_POOL", "RefreshPool"]

logger = logging.getLogger(__name__)


class RefreshPool:
    """Runs refresh jobs on at most ``max_workers`` threads, never two for the same key.

    A job submitted while one for the same key is queued or running is dropped: the entry is
    already being refreshed (RFC 5861 asks for one background revalidation, not many).
    """

    def __init__(self, max_workers: int = 2, max_pending: int = 64) -> None:
        self.max_workers = max_workers
        self.max_pending = max_pending
        self._executor: ThreadPoolExecutor | None = None
        self._in_flight: set[str] = set()
        self._futures: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def submit(self, key: str, job: Callable[[], Any]) -> Future[Any] | None:
        """Queue ``job`` for ``key``; return its future, or None if it was dropped."""
        with self._lock:
            if key in self._in_flight or len(self._in_flight) >= self.max_pending:
                return None
            self._in_flight.add(key)
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.max_workers, thread_name_prefix="rcl-refresh"
                )
            executor = self._executor

        def run() -> Any:
            try:
                return job()
            except Exception:  # a failed background refresh leaves the stale entry in place
                logger.warning("Background refresh of %s failed", key, exc_info=True)
                return None
            finally:
                with self._lock:
                    self._in_flight.discard(key)

        with self._lock:
            future = executor.submit(run)
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._futures.discard(future)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait for every job submitted so far to finish; return False if ``timeout``
        seconds passed first. Meant for tests and orderly shutdowns."""
        with self._lock:
            pending = list(self._futures)
        _done, not_done = wait(pending, timeout=timeout)
        return not not_done

    def shutdown(self, wait: bool = True) -> None:
        """Stop the worker threads (a new submit starts them again)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=wait)


#: The process-wide pool that runs stale-while-revalidate refreshes.
REFRESH_POOL = RefreshPool()
