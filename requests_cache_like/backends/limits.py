"""Size limits on every backend: ``max_size`` (total bytes of the stored responses),
``max_entries`` and the eviction order (``eviction_policy``: ``"lru"`` or ``"lfu"``).

A :class:`LimitEnforcer` rides on a cache. Hits only remember their key in a dict of this
process; those uses are written to the backend in batches, by a background thread when
``ACCESS_BATCH`` keys are waiting or ``FLUSH_INTERVAL`` seconds have passed, and before each
check. Writes add their size to a count of
bytes and entries written since the last check; the backend's totals are read again only
when that count may have crossed a limit, or once ``CHECK_FRACTION`` of a limit has been
written (so that writes of other processes are noticed). A check that finds a limit
exceeded evicts the least recently (or frequently) used responses, and their redirect
aliases, down to ``HYSTERESIS`` below the limit.

So one process never leaves more than the limit after a write; ``N`` processes writing at
once may together exceed it by ``(N - 1) * CHECK_FRACTION`` of it (10 % for 5 processes).
See ``docs/limits.md``.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
import time
import warnings
from collections.abc import Callable, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from attrs import define, field

from ..exceptions import EntryTooLargeError, StorageError

if TYPE_CHECKING:
    from .base import BaseCache
    from .usage import UsageStore

__all__ = [
    "LIMIT_OPTIONS",
    "CacheLimits",
    "LimitEnforcer",
    "attach_limits",
    "cache_totals",
    "flush_uses",
    "flushing_close",
    "parse_size",
    "take_limits",
]

logger = logging.getLogger(__name__)

#: The backend options this module takes, on every backend.
LIMIT_OPTIONS = ("max_size", "max_entries", "eviction_policy")
#: A process reads the totals again once it has written this fraction of a limit since its
#: last check (and whenever its own writes may have crossed the limit).
CHECK_FRACTION = 0.025
#: Eviction goes this fraction below the limit, so the writes after it need none.
HYSTERESIS = 0.05
#: Distinct keys read before their uses are written to the backend in one batch.
ACCESS_BATCH = 4096
#: Seconds after which remembered uses are written, even if the batch is not full.
FLUSH_INTERVAL = 30.0

_UNITS = {
    "": 1,
    "b": 1,
    **{p + "b": 1000**i for i, p in enumerate("kmgtp", 1)},
    **{p: 1000**i for i, p in enumerate("kmgtp", 1)},
    **{p + "ib": 1024**i for i, p in enumerate("kmgtp", 1)},
    **{p + "i": 1024**i for i, p in enumerate("kmgtp", 1)},
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$", re.IGNORECASE)
_ACCEPTED_SIZES = (
    "a number of bytes > 0 (int), or a string such as '500MB', '2GiB' or '1.5 GB' "
    "(decimal units B, kB, MB, GB, TB; binary units KiB, MiB, GiB, TiB)"
)


def parse_size(value: int | str, name: str = "max_size") -> int:
    """Return ``value`` in bytes: an int, or a number with a decimal (``MB`` = 10**6) or
    binary (``MiB`` = 2**20) unit; ValueError names the value and what is accepted."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value > 0:
            return value
    elif isinstance(value, str):
        match = _SIZE.match(value)
        unit = _UNITS.get(match[2].lower()) if match else None
        if match and unit is not None:
            try:
                size = int(Decimal(match[1]) * unit)
            except InvalidOperation:  # pragma: no cover - the pattern admits numbers only
                size = 0
            if size > 0:
                return size
    raise ValueError(f"{name}={value!r}; accepted: {_ACCEPTED_SIZES}")


def _size_or_none(value: int | str | None) -> int | None:
    return None if value is None else parse_size(value)


def _entries_or_none(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"max_entries={value!r}; accepted: an int > 0, or None")
    return value


def _policy(value: str) -> str:
    from .lru import normalize_eviction_policy  # lru imports the SQLite backend

    return normalize_eviction_policy(value)


@define(frozen=True)
class CacheLimits:
    """The limits of one cache, validated: ``max_size`` in bytes, ``max_entries``, and the
    eviction policy (``"lru"`` or ``"lfu"``; BackLite's long names are accepted too)."""

    max_size: int | None = field(default=None, converter=_size_or_none)
    max_entries: int | None = field(default=None, converter=_entries_or_none)
    eviction_policy: str = field(default="lru", converter=_policy)


def take_limits(
    kwargs: MutableMapping[str, Any], owner: str, keep_policy: bool = False
) -> CacheLimits | None:
    """Remove the limit options from ``kwargs`` and return them validated, or None if no
    limit was given. ``eviction_policy`` alone is left in ``kwargs`` when ``keep_policy``
    (``FileCache`` takes it for ``max_cache_bytes``), else warned about: it has no effect."""
    if kwargs.get("max_size") is None and kwargs.get("max_entries") is None:
        kwargs.pop("max_size", None)
        kwargs.pop("max_entries", None)
        if "eviction_policy" in kwargs and not keep_policy:
            _policy(kwargs.pop("eviction_policy"))
            warnings.warn(
                f"{owner}(eviction_policy=...) has no effect without max_size or max_entries",
                UserWarning,
                stacklevel=4,
            )
        return None
    return CacheLimits(**{name: kwargs.pop(name) for name in LIMIT_OPTIONS if name in kwargs})


class _Background:
    """The one thread of a process that writes batches of uses (made when first needed,
    and again in a forked child, which has not the parent's thread)."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> Future[None]:
        """Run ``job`` after the jobs submitted before it."""
        with self._lock:
            if self._executor is None or self._pid != os.getpid():
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="rcl-uses")
                self._pid = os.getpid()
            return self._executor.submit(job)

    def wait(self, timeout: float | None = None) -> None:
        """Return once the jobs submitted so far are done."""
        self.submit(lambda: None).result(timeout)

    def after_fork(self) -> None:
        """In a forked child: the parent's thread and lock are not this process's."""
        self._executor, self._pid, self._lock = None, 0, threading.Lock()


#: Writes the batches of uses that hits fill, so that no hit waits for them.
BACKGROUND = _Background()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=BACKGROUND.after_fork)


@define(frozen=True)
class _Bound:
    """One limit with its check interval (``slack``) and eviction target (``low``)."""

    limit: int
    slack: int
    low: int

    @classmethod
    def of(cls, limit: int | None) -> _Bound | None:
        if limit is None:
            return None
        slack = max(1, int(limit * CHECK_FRACTION))
        return cls(limit, slack, max(1, limit - int(limit * HYSTERESIS)))

    def excess(self, total: int) -> int:
        """How much to evict when ``total`` is over the limit (down to ``low``), else 0."""
        return total - self.low if total > self.limit else 0

    def due(self, known: int, unchecked: int) -> bool:
        """True if writes since the last check may have crossed the limit, or are many."""
        return unchecked >= self.slack or known + unchecked > self.limit


class LimitEnforcer:
    """Keeps one cache within its :class:`CacheLimits` (see the module docstring).

    :param cache: The cache; its ``responses`` and ``redirects`` are read at each eviction.
    :param usage: The backend's bookkeeping of sizes and uses (:mod:`.usage`).
    :param clock: Returns the time of a use, in seconds since the epoch.
    """

    def __init__(
        self,
        cache: BaseCache,
        limits: CacheLimits,
        usage: UsageStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cache = cache
        self.limits = limits
        self.usage = usage
        self.clock = clock
        #: Records a use of a key (a hit): remembered for a batch, or at once in this process
        #: for a store that keeps its uses in memory (the memory backend).
        self.accessed: Callable[[str], None] = getattr(usage, "touch", None) or self._remember
        self._batch: int = getattr(usage, "batch", ACCESS_BATCH)
        self._bytes = _Bound.of(limits.max_size)
        self._entries = _Bound.of(limits.max_entries)
        self._pending: dict[str, list[float]] = {}  # key -> [last use, uses]
        self._flush_due = clock() + FLUSH_INTERVAL
        self._flush_queued = False
        # Pessimistic until the first check: the first write reads the totals.
        self._known = (limits.max_size or 0, limits.max_entries or 0)
        self._unchecked = (0, 0)
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._enforcing = threading.Lock()
        self._pid = os.getpid()

    # -- the hot path --------------------------------------------------------------------
    def _remember(self, key: str) -> None:
        """Remember a use of ``key`` (a hit); written to the backend later, in a batch."""
        now = self.clock()
        use = self._pending.get(key)
        if use is not None:
            use[0] = now
            use[1] += 1
        else:
            self._pending[key] = [now, 1]
            if len(self._pending) >= self._batch:
                self._flush_later(now)
        if now > self._flush_due:
            self._flush_later(now)

    def _flush_later(self, now: float) -> None:
        """Have the background thread write the batch: a hit never waits for it."""
        self._flush_due = now + FLUSH_INTERVAL
        if not self._flush_queued:
            self._flush_queued = True
            try:
                BACKGROUND.submit(self._flush_queued_batch)
            except RuntimeError:  # the interpreter is exiting: written at close, or lost
                self._flush_queued = False

    def _flush_queued_batch(self) -> None:
        self._flush_queued = False  # uses remembered from now on need another batch
        self.flush(quiet=True)

    # -- writes --------------------------------------------------------------------------
    def admit(self, key: str, data: Any) -> int:
        """Return the size of ``data`` as stored; EntryTooLargeError if it exceeds max_size."""
        from .usage import entry_size

        size = entry_size(data)
        if self._bytes is not None and size > self._bytes.limit:
            raise EntryTooLargeError(
                f"entry {key!r} is {size} bytes, more than max_size={self._bytes.limit}: not stored"
            )
        return size

    def written(self, key: str, size: int) -> None:
        """Count a write of ``size`` bytes; enforce the limits when a check is due."""
        with self._lock:
            unchecked = (self._unchecked[0] + size, self._unchecked[1] + 1)
            self._unchecked = unchecked
            due = (self._bytes is not None and self._bytes.due(self._known[0], unchecked[0])) or (
                self._entries is not None and self._entries.due(self._known[1], unchecked[1])
            )
        if due:
            try:
                self.enforce()
            except StorageError as exc:  # the write itself succeeded
                logger.warning("Could not enforce the limits of %s: %s", self.cache, exc)

    # -- batches and checks --------------------------------------------------------------
    def flush(self, quiet: bool = False) -> None:
        """Write the uses remembered so far to the backend. With ``quiet`` (on a hit), a
        storage error is logged and the uses dropped: bookkeeping never fails a hit."""
        with self._flushing:
            # A copy: a hit in another thread may still add to the dict it found.
            pending, self._pending = dict(self._pending), {}
            self._flush_due = self.clock() + FLUSH_INTERVAL
            if os.getpid() != self._pid:  # a forked child: these uses were the parent's
                self._pid = os.getpid()
                return
            if not pending:
                return
            try:
                self.usage.record(pending)
            except StorageError as exc:
                if not quiet:
                    raise
                logger.debug("Uses of %d cached responses not recorded: %s", len(pending), exc)

    def enforce(self) -> int:
        """Read the totals and evict down below the limits if one is exceeded; return the
        number of responses evicted (0 if another thread is already at it)."""
        if not self._enforcing.acquire(blocking=False):
            return 0
        try:
            with self._lock:
                seen = self._unchecked
            self.flush()
            size, count = self.usage.totals()
            excess_bytes = self._bytes.excess(size) if self._bytes is not None else 0
            excess_entries = self._entries.excess(count) if self._entries is not None else 0
            victims: list[tuple[str, int]] = []
            if excess_bytes > 0 or excess_entries > 0:
                policy = self.limits.eviction_policy
                victims = self.usage.victims(excess_bytes, excess_entries, policy)
                self._evict([key for key, _ in victims])
            with self._lock:
                self._known = (size - sum(s for _, s in victims), count - len(victims))
                self._unchecked = (self._unchecked[0] - seen[0], self._unchecked[1] - seen[1])
            return len(victims)
        finally:
            self._enforcing.release()

    def _evict(self, keys: list[str]) -> None:
        from .usage import delete_aliases

        if not keys:
            return
        for key in keys:
            self._pending.pop(key, None)
        self.cache.responses.bulk_delete(keys)
        delete_aliases(self.cache.redirects, set(keys))
        logger.debug("Evicted %d responses from %s", len(keys), self.cache)


def attach_limits(cache: BaseCache, limits: CacheLimits) -> LimitEnforcer:
    """Give ``cache`` a :class:`LimitEnforcer` for ``limits`` (its responses storage first
    made one that keeps the bookkeeping, where the backend needs that)."""
    from .usage import limited_storage, usage_store

    cache.responses = limited_storage(cache.responses, limits)
    enforcer = LimitEnforcer(cache, limits, usage_store(cache.responses, tracking=True))
    cache._limits = enforcer
    cache.responses.limits = enforcer
    return enforcer


def cache_totals(cache: BaseCache) -> tuple[int, int]:
    """``(total bytes, number)`` of the responses stored in ``cache``."""
    from .usage import usage_store

    enforcer = cache._limits
    usage = enforcer.usage if enforcer is not None else usage_store(cache.responses)
    return usage.totals()


def flush_uses(cache: BaseCache) -> None:
    """Write the uses ``cache``'s limits remember (before it is closed)."""
    enforcer = cache._limits
    if enforcer is not None:
        try:
            enforcer.flush()
        except StorageError as exc:
            logger.debug("Uses not recorded while closing %s: %s", cache, exc)


def flushing_close(close: Callable[..., None]) -> Callable[..., None]:
    """Wrap a cache's ``close`` so that uses remembered by its limits are written first."""

    @functools.wraps(close)
    def wrapper(self: BaseCache, *args: Any, **kwargs: Any) -> None:
        flush_uses(self)
        close(self, *args, **kwargs)

    return wrapper
