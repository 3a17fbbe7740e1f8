"""Single-flight: concurrent misses (and revalidations) of one key make one origin request.

In one process, the first thread to miss a key leads a *flight*; the others wait for it (at
most ``lock_timeout`` seconds) and are then answered from what it stored. Across processes
and machines the leader also takes the key's *lease* in the storage
(:mod:`.backends.leases`); a leader that finds the lease taken waits for the other
process's answer to appear in the cache, polling with a growing pause, and sends its own
request once the lease is free or ``lock_timeout`` has passed. A response that turns out not
to be storable leaves the waiters to send their own requests: nobody is ever answered with
an error for having waited.
"""

from __future__ import annotations

import _thread
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .backends.leases import Leases, leases_for, owner_token
from .policy import Plan, PlanAction

if TYPE_CHECKING:
    from requests import Response

    from .backends.base import BaseCache
    from .exchange import Exchange
    from .models import CachedResponse
    from .policy import Rules
    from .settings import CacheSettings

__all__ = [
    "FLIGHTS",
    "Flight",
    "Flights",
    "expect_fetch",
    "fetch_once",
    "refresh_under_lease",
    "release_unclaimed",
    "shares_fetch",
]

#: Pauses between looks at the cache while another process holds the lease, in seconds.
_FIRST_PAUSE, _LONGEST_PAUSE = 0.01, 0.25
_SHARED_ACTIONS = (PlanAction.FETCH, PlanAction.REVALIDATE)


class Flight:
    """One fetch in progress: waiters block on its gate until the leader lands it."""

    __slots__ = ("_gate",)

    def __init__(self) -> None:
        self._gate = _thread.allocate_lock()
        self._gate.acquire()  # held until the flight lands

    def wait(self, timeout: float) -> bool:
        """Block until the flight lands (at most ``timeout`` seconds); True if it did."""
        landed = self._gate.acquire(timeout=timeout)
        if landed:
            self._gate.release()  # let the next waiter through as well
        return landed

    def land(self) -> None:
        self._gate.release()


class Flights:
    """The keys being fetched in this process, each with the :class:`Flight` that ends when
    its fetch does. (A plain lock and gate: the leader's path is on every miss.)"""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._joined = threading.Condition(self._lock)
        self._flights: dict[tuple[int, str], Flight] = {}
        self._waiting: dict[tuple[int, str], int] = {}

    def join(self, cache_id: int, key: str) -> tuple[Flight, bool]:
        """Return the key's flight, and True if the caller leads it (nobody else does)."""
        with self._lock:
            flight = self._flights.get((cache_id, key))
            if flight is None:
                flight = self._flights[(cache_id, key)] = Flight()
                return flight, True
            self._waiting[(cache_id, key)] = self._waiting.get((cache_id, key), 0) + 1
            self._joined.notify_all()
            return flight, False

    def land(self, cache_id: int, key: str, flight: Flight) -> None:
        """End the flight: waiters wake up and read the cache."""
        with self._lock:
            if self._flights.get((cache_id, key)) is flight:
                del self._flights[(cache_id, key)]
                self._waiting.pop((cache_id, key), None)
        flight.land()

    def wait_for_waiters(self, cache_id: int, key: str, count: int, timeout: float) -> bool:
        """Block until ``count`` callers wait on the flight of ``key`` (for observing it)."""
        with self._joined:
            return self._joined.wait_for(
                lambda: self._waiting.get((cache_id, key), 0) >= count, timeout
            )

    def __len__(self) -> int:
        return len(self._flights)


FLIGHTS = Flights()


def _may_share(settings: CacheSettings, method: str, rules: Rules, defer_store: bool) -> bool:
    return (
        settings.single_flight
        and method in ("GET", "HEAD")
        and not (rules.force_refresh or rules.read_only or defer_store)
    )


def shares_fetch(exchange: Exchange, plan: Plan) -> bool:
    """True if this origin request may be shared with concurrent ones for the same key:
    single-flight is on, it is a miss or a revalidation of a safe method the cache stores,
    and the caller did not ask for a request of its own."""
    return plan.action in _SHARED_ACTIONS and _may_share(
        exchange.settings, exchange.method, exchange.rules, exchange.defer_store
    )


def expect_fetch(
    cache: BaseCache, settings: CacheSettings, method: str, rules: Rules
) -> Callable[[float | None], None] | None:
    """Before the lookup of a request whose miss would be a shared fetch: let a storage that
    can (Redis) take the key's lease in the lookup's round trip. Returns the function that
    withdraws the offer (call it with None after the lookup), or None."""
    if rules.only_if_cached or not _may_share(settings, method, rules, False):
        return None
    leases = leases_for(cache)
    # A class-dict look-up, not getattr with a default: this runs on every fast-path hit,
    # and a missing attribute costs an exception inside getattr.
    if "expect_fetch" not in type(leases).__dict__:
        return None
    expect: Callable[[float | None], None] = getattr(leases, "expect_fetch")  # noqa: B009
    expect(settings.lock_timeout)
    return expect


def release_unclaimed(cache: BaseCache, key: str) -> None:
    """Give back a lease a lookup took for ``key`` when no fetch adopted it (the request
    was answered otherwise, or failed before its fetch)."""
    release = getattr(cache.__dict__.get("_leases"), "release_unclaimed", None)
    if release is not None:
        try:
            release(key)
        except Exception:  # it expires by itself after lock_timeout
            pass


def fetch_once(
    exchange: Exchange,
    plan: Plan,
    primary: CachedResponse | None,
    selected: CachedResponse | None,
    sleep: Callable[[float], None] = time.sleep,
) -> Response:
    """Answer a miss or revalidation with one origin request per key across threads (and,
    through the storage's lease, across processes)."""
    cache_id = id(exchange.cache)
    flight, leader = FLIGHTS.join(cache_id, exchange.key)
    if not leader:
        flight.wait(exchange.settings.lock_timeout)
        return _answer_after_wait(exchange)
    try:
        return _lead(exchange, plan, primary, selected, sleep)
    finally:
        FLIGHTS.land(cache_id, exchange.key, flight)


def _answer_after_wait(exchange: Exchange) -> Response:
    """The answer once another fetch of the key ended: from the cache if it stored a usable
    response, else from a request of this caller's own."""
    primary, selected, plan, now = exchange.plan()
    answer = exchange.answer_from_cache(plan, primary, selected, now)
    return answer if answer is not None else exchange.fetch(plan, primary, selected)


def _lead(
    exchange: Exchange,
    plan: Plan,
    primary: CachedResponse | None,
    selected: CachedResponse | None,
    sleep: Callable[[float], None],
) -> Response:
    """Fetch under the key's lease; while another process holds it, wait for its answer."""
    timeout = exchange.settings.lock_timeout
    deadline = time.monotonic() + timeout
    owner, pause = owner_token(), _FIRST_PAUSE
    leases = leases_for(exchange.cache)
    while True:
        try:
            taken = leases.acquire(exchange.key, owner, timeout)
        except Exception as exc:  # any client's error: a lease is never worth a failed request
            exchange.guard.lease_failed(exc)
            taken = None  # cannot tell: fetch without the lease
        if taken is not False:
            released = _release_with_store(exchange, leases, owner) if taken else None
            try:
                # waited, or another fetch of the key (this process's or another's) may have
                # landed between the lookup and the lease: look again
                if pause > _FIRST_PAUSE or _may_have_landed(exchange, leases, owner, primary):
                    primary, selected, plan, now = exchange.plan()
                    answer = exchange.answer_from_cache(plan, primary, selected, now)
                    if answer is not None:
                        return answer
                return exchange.fetch(plan, primary, selected)
            finally:
                if released is not None:
                    getattr(exchange.cache.responses, "drop_rider", _nothing)()
                if taken and not (released is not None and released()):
                    _release(exchange, leases, owner)
        if time.monotonic() >= deadline:
            return exchange.fetch(plan, primary, selected)  # the holder is too slow
        sleep(pause)
        pause = min(pause * 2, _LONGEST_PAUSE)
        primary, selected, plan, now = exchange.plan()
        answer = exchange.answer_from_cache(plan, primary, selected, now)
        if answer is not None:
            return answer


def _may_have_landed(
    exchange: Exchange, leases: Leases, owner: str, primary: CachedResponse | None
) -> bool:
    """True if another fetch of the key may have landed between the lookup and the lease
    (which was free), so the cache is worth planning from again. Never when the lease was
    taken in the lookup's own round trip (Redis); always for a revalidation (the new plan is
    the one read); for a miss, if a response is stored under the key now (one read of the
    key alone: a fetch that landed as a redirect chain is made again)."""
    if "covers_lookup" in type(leases).__dict__:
        covers: Callable[[str, str], bool] = getattr(leases, "covers_lookup")  # noqa: B009
        if covers(exchange.key, owner):
            return False
    return primary is not None or exchange.guard.read(exchange.key, False) is not None


def _nothing() -> None:
    return None


def _release_with_store(
    exchange: Exchange, leases: Leases, owner: str
) -> Callable[[], bool] | None:
    """Where the storage can, give the lease back in the round trip that stores the answer
    (Redis: one pipeline); None where it cannot."""
    ride = getattr(leases, "release_with_write", None)
    storage = exchange.cache.responses
    if ride is None or not hasattr(storage, "ride_next_write"):
        return None
    released: Callable[[], bool] = ride(storage, exchange.key, owner)
    return released


def _release(exchange: Exchange, leases: Leases, owner: str) -> None:
    try:
        leases.release(exchange.key, owner)
    except Exception as exc:  # it expires by itself
        exchange.guard.lease_failed(exc)


def refresh_under_lease(exchange: Exchange, refresh: Callable[[], object]) -> None:
    """Run a background refresh only if no other process is refreshing the key (it holds
    the lease): one refresh per key across processes."""
    leases, owner = leases_for(exchange.cache), owner_token()
    try:
        taken = leases.acquire(exchange.key, owner, exchange.settings.lock_timeout)
    except Exception as exc:
        exchange.guard.lease_failed(exc)
        taken = True  # cannot tell: refresh anyway (this process already runs one per key)
    if not taken:
        return
    try:
        refresh()
    finally:
        _release(exchange, leases, owner)
