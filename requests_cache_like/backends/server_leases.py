"""Leases held in a server that processes on many machines share: Redis, MongoDB (and
GridFS's database), DynamoDB. See :mod:`.leases` for what a lease is and the table of how
each backend keeps them."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from .leases import owner_token

__all__ = ["DynamoLeases", "MongoLeases", "RedisLeases"]


class RedisLeases:
    """``SET NX PX``; released by a script that deletes the key only for its owner.

    A lookup the session expects to end in a shared fetch (:meth:`expect_fetch`) reads the
    response and its alias and, when both are missing, takes the lease in the same round
    trip (:meth:`read_or_take`); the fetch then adopts that lease in :meth:`acquire`
    instead of asking again, so a miss costs one round trip less.
    """

    _RELEASE = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
        "else return 0 end"
    )
    _READ_OR_TAKE = (
        "local found = redis.call('mget', KEYS[1], KEYS[2]) "
        "if found[1] or found[2] then return {found[1], found[2], 0} end "
        "if redis.call('set', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then "
        "return {false, false, 1} end "
        "return {false, false, 0}"
    )

    def __init__(self, connection: Any, namespace: str) -> None:
        self.connection = connection
        self.prefix = f"{namespace}:lease:"
        self._local = threading.local()  # intent: the lease's ttl in ms
        # Leases lookups took, by key, until a fetch adopts them (any thread of the process:
        # a thread that took one may end up waiting for another's fetch of the same key).
        self._taken: dict[str, str] = {}
        self._adopted: dict[tuple[str, str], str] = {}
        self._script: Any = None
        self._pid = os.getpid()

    def acquire(self, key: str, owner: str, ttl: float) -> bool:
        if self._taken and self._pid != os.getpid():  # a forked child: the parent's leases
            self._taken, self._adopted, self._pid = {}, {}, os.getpid()
        taken = self._taken.pop(key, None)
        if taken is not None:  # a lookup of this process took it a moment ago
            self._adopted[key, owner] = taken
            return True
        milliseconds = max(1, int(ttl * 1000))
        return bool(self.connection.set(self.prefix + key, owner, nx=True, px=milliseconds))

    def covers_lookup(self, key: str, owner: str) -> bool:
        """True if ``owner`` adopted the lease a lookup took when it found ``key`` missing."""
        return (key, owner) in self._adopted

    def release(self, key: str, owner: str) -> None:
        owner = self._adopted.pop((key, owner), owner)
        self.connection.eval(self._RELEASE, 1, self.prefix + key, owner)

    def release_with_write(self, storage: Any, key: str, owner: str) -> Callable[[], bool]:
        """Give the lease back in the round trip of ``storage``'s next write of ``key`` (a
        store after the fetch); return a function that says whether that happened."""
        released: list[bool] = []

        def add(pipeline: Any) -> None:
            holder = self._adopted.pop((key, owner), owner)
            pipeline.eval(self._RELEASE, 1, self.prefix + key, holder)

        storage.ride_next_write(key, add, lambda: released.append(True))
        return lambda: bool(released)

    def expect_fetch(self, ttl: float | None) -> None:
        """Let this thread's next :meth:`read_or_take` take the lease of a missing key for
        ``ttl`` seconds (None: read only)."""
        self._local.intent = None if ttl is None else max(1, int(ttl * 1000))

    def read_or_take(self, key: str, response_key: str, alias_key: str) -> tuple[Any, Any]:
        """Read a response and its alias in one round trip; if both are missing and a fetch
        is expected, take the lease of ``key`` in that round trip too."""
        intent = getattr(self._local, "intent", None)
        if intent is None:
            found: list[Any] = self.connection.mget(response_key, alias_key)
            return found[0], found[1]
        self._local.intent = None
        owner = owner_token()
        if self._script is None:  # EVALSHA: the script's text is sent once
            self._script = self.connection.register_script(self._READ_OR_TAKE)
        value, alias, taken = self._script(
            keys=[response_key, alias_key, self.prefix + key], args=[owner, intent]
        )
        if taken:
            self._taken[key] = owner
        return value, alias

    def release_unclaimed(self, key: str) -> None:
        """Give back the lease a lookup took for ``key`` if no fetch adopted it."""
        owner = self._taken.pop(key, None)
        if owner is not None:
            self.connection.eval(self._RELEASE, 1, self.prefix + key, owner)


class MongoLeases:
    """Documents ``{_id: key, owner, expires}``: inserted, or an expired one taken over
    with a conditional update."""

    def __init__(self, database: Any) -> None:
        self.collection = database["rcl_leases"]

    def acquire(self, key: str, owner: str, ttl: float) -> bool:
        from pymongo.errors import DuplicateKeyError

        now = time.time()
        try:
            self.collection.insert_one({"_id": key, "owner": owner, "expires": now + ttl})
            return True
        except DuplicateKeyError:
            result = self.collection.update_one(
                {"_id": key, "expires": {"$lt": now}},
                {"$set": {"owner": owner, "expires": now + ttl}},
            )
            return bool(result.modified_count)

    def release(self, key: str, owner: str) -> None:
        self.collection.delete_one({"_id": key, "owner": owner})


class DynamoLeases:
    """Items in namespace ``leases`` of the cache's table, put only if absent or expired;
    their ``ttl`` attribute lets DynamoDB remove forgotten ones."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage

    def _key(self, key: str) -> dict[str, Any]:
        return {"namespace": {"S": "leases"}, "key": {"S": key}}

    def acquire(self, key: str, owner: str, ttl: float) -> bool:
        now = time.time()
        client = self.storage.client
        item = {
            **self._key(key),
            "owner": {"S": owner},
            "expires": {"N": repr(now + ttl)},
            "ttl": {"N": str(int(now + ttl) + 60)},
        }
        try:
            client.put_item(
                TableName=self.storage.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(#k) OR #e < :now",
                ExpressionAttributeNames={"#k": "key", "#e": "expires"},
                ExpressionAttributeValues={":now": {"N": repr(now)}},
            )
        except Exception as exc:  # botocore's ClientError, not imported at module level
            if _dynamo_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, key: str, owner: str) -> None:
        try:
            self.storage.client.delete_item(
                TableName=self.storage.table_name,
                Key=self._key(key),
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except Exception as exc:
            if _dynamo_code(exc) != "ConditionalCheckFailedException":
                raise


def _dynamo_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
