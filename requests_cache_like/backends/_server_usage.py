"""The bookkeeping for limits of the server backends (see :mod:`.usage`).

- Redis: beside the entries of a storage, under ``{namespace}:{table}#usage:``, a hash of
  sizes (``size``), sorted sets of last uses (``atime``) and of numbers of uses (``hits``),
  and a sorted set of the times Redis expires entries itself (``expiry``), so that entries
  it dropped leave the totals. A write sets them in the same MULTI as the value.
- MongoDB: ``stored_size``, ``access_time`` and ``hits`` fields on each document; totals
  and victims by aggregation.
- GridFS: ``access_time`` and ``hits`` on each file document (``length`` is the size).
- DynamoDB: ``stored_size``, ``access_time`` and ``hits`` attributes on each item; totals
  and victims by a Query of the storage's partition (it reads every item of the partition,
  and DynamoDB bills the items' full size however few attributes are projected).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ._util import import_client
from .usage import Uses, eviction_key, pick_victims

if TYPE_CHECKING:
    from .dynamodb import DynamoDbDict
    from .gridfs import GridFSDict
    from .mongodb import MongoDict
    from .redis import RedisDict
    from .storage import BaseStorage

__all__ = ["DynamoUsage", "GridFSUsage", "MongoUsage", "RedisUsage", "alias_finder"]

_BATCH = 500
#: UpdateItem requests sent at once when a batch of uses is written to DynamoDB.
_DYNAMO_THREADS = 8
_MONGO_SIZE = {"$ifNull": ["$stored_size", "$size"]}
_MONGO_ORDER = {
    "lru": {"access_time": 1, "_id": 1},
    "lfu": {"hits": 1, "access_time": 1, "_id": 1},
}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _BATCH):
        yield items[start : start + _BATCH]


class RedisUsage:
    """The bookkeeping of one :class:`~.redis.RedisDict`. Without ``tracked`` (no limits),
    only the totals are given, by reading the length of every entry."""

    def __init__(self, storage: RedisDict, tracked: bool = True) -> None:
        self.storage = storage
        self.tracked = tracked
        base = storage.prefix.rstrip(":") + "#usage:"
        self.sizes, self.last_use = base + "size", base + "atime"
        self.uses, self.deadlines = base + "hits", base + "expiry"
        self._reconciled = False

    def write(self, key: str, data: Any, seconds: int | None) -> None:
        """Store ``data`` under ``key`` (expiring after ``seconds``) with its bookkeeping,
        in one MULTI."""
        now = time.time()
        pipe = self.storage.connection.pipeline(transaction=True)
        full = self.storage._full(key)
        if seconds is None:
            pipe.set(full, data)
            pipe.zrem(self.deadlines, key)
        else:
            pipe.setex(full, seconds, data)
            pipe.zadd(self.deadlines, {key: now + seconds})
        pipe.hset(self.sizes, key, len(data))
        pipe.zadd(self.last_use, {key: now})
        pipe.zadd(self.uses, {key: 0}, nx=True)
        pipe.execute()

    def forget(self, keys: list[str], pipe: Any = None) -> None:
        """Drop the bookkeeping of ``keys`` (in ``pipe`` if given, else at once)."""
        target = pipe if pipe is not None else self.storage.connection.pipeline(False)
        for chunk in _chunks(keys):
            target.hdel(self.sizes, *chunk)
            for name in (self.last_use, self.uses, self.deadlines):
                target.zrem(name, *chunk)
        if pipe is None:
            target.execute()

    def clear(self) -> None:
        """Drop all the bookkeeping."""
        self.storage.connection.delete(self.sizes, self.last_use, self.uses, self.deadlines)

    def _scanned(self) -> tuple[int, int]:
        keys = [self.storage._full(key) for key in self.storage]
        total = 0
        for chunk in _chunks(keys):
            pipe = self.storage.connection.pipeline(False)
            for full in chunk:
                pipe.strlen(full)
            total += sum(int(length) for length in pipe.execute())
        return total, len(keys)

    def reconcile(self) -> None:
        """Track entries written without limits, and forget entries gone by other means."""
        connection = self.storage.connection
        tracked = {_text(key) for key in connection.hkeys(self.sizes)}
        stored = set(self.storage)
        self.forget(sorted(tracked - stored))
        missing = sorted(stored - tracked)
        now = time.time()
        for chunk in _chunks(missing):
            pipe = connection.pipeline(False)
            for key in chunk:
                pipe.strlen(self.storage._full(key))
                pipe.ttl(self.storage._full(key))
            answers = pipe.execute()
            pipe = connection.pipeline(False)
            for key, length, ttl in zip(chunk, answers[::2], answers[1::2], strict=True):
                pipe.hsetnx(self.sizes, key, int(length))
                pipe.zadd(self.last_use, {key: 0}, nx=True)
                pipe.zadd(self.uses, {key: 0}, nx=True)
                if int(ttl) > 0:
                    pipe.zadd(self.deadlines, {key: now + int(ttl)}, nx=True)
            pipe.execute()

    def totals(self) -> tuple[int, int]:
        if not self.tracked:
            return self._scanned()
        if not self._reconciled:
            self.reconcile()
            self._reconciled = True
        connection = self.storage.connection
        gone = connection.zrangebyscore(self.deadlines, "-inf", time.time())
        if gone:
            self.forget([_text(key) for key in gone])
        sizes = connection.hvals(self.sizes)
        return sum(int(size) for size in sizes), len(sizes)

    def record(self, uses: Uses) -> None:
        pipe = self.storage.connection.pipeline(False)
        for key, (when, count) in uses.items():
            pipe.zadd(self.last_use, {key: when}, xx=True, gt=True)
            pipe.zadd(self.uses, {key: count}, xx=True, incr=True)
        pipe.execute()

    def _least_recent(self) -> Iterator[tuple[str, int]]:
        connection = self.storage.connection
        start = 0
        while True:
            batch = [_text(key) for key in connection.zrange(self.last_use, start, start + 499)]
            if not batch:
                return
            sizes = connection.hmget(self.sizes, batch)
            yield from ((key, int(size or 0)) for key, size in zip(batch, sizes, strict=True))
            start += len(batch)

    def victims(self, excess_bytes: int, excess_entries: int, policy: str) -> list[tuple[str, int]]:
        if policy == "lru":
            return pick_victims(self._least_recent(), excess_bytes, excess_entries)
        connection = self.storage.connection
        last = dict(connection.zrange(self.last_use, 0, -1, withscores=True))
        counts = connection.zrange(self.uses, 0, -1, withscores=True)
        uses = {_text(key): [float(last.get(key, 0.0)), float(n)] for key, n in counts}
        sizes = {_text(k): int(v) for k, v in connection.hgetall(self.sizes).items()}
        order = sorted(uses.items(), key=eviction_key(policy))
        rows = ((key, sizes.get(key, 0)) for key, _ in order)
        return pick_victims(rows, excess_bytes, excess_entries)


class MongoUsage:
    """The bookkeeping of one :class:`~.mongodb.MongoDict` collection."""

    def __init__(self, storage: MongoDict) -> None:
        self.storage = storage

    def totals(self) -> tuple[int, int]:
        group = {"_id": None, "total": {"$sum": _MONGO_SIZE}, "count": {"$sum": 1}}
        with self.storage._errors_as_storage():
            rows = list(self.storage.collection.aggregate([{"$group": group}]))
        return (int(rows[0]["total"]), int(rows[0]["count"])) if rows else (0, 0)

    def record(self, uses: Uses) -> None:
        pymongo = import_client("pymongo", "mongodb", "mongodb")
        updates = [
            pymongo.UpdateOne(
                {"_id": key}, {"$max": {"access_time": when}, "$inc": {"hits": int(count)}}
            )
            for key, (when, count) in uses.items()
        ]
        with self.storage._errors_as_storage():
            self.storage.collection.bulk_write(updates, ordered=False)

    def victims(self, excess_bytes: int, excess_entries: int, policy: str) -> list[tuple[str, int]]:
        fields = {
            "size": _MONGO_SIZE,
            "access_time": {"$ifNull": ["$access_time", 0]},
            "hits": {"$ifNull": ["$hits", 0]},
        }
        pipeline = [{"$project": fields}, {"$sort": _MONGO_ORDER[policy]}]
        with (
            self.storage._errors_as_storage(),
            self.storage.collection.aggregate(pipeline) as cursor,
        ):
            rows = ((str(doc["_id"]), int(doc["size"] or 0)) for doc in cursor)
            return pick_victims(rows, excess_bytes, excess_entries)


class GridFSUsage:
    """The bookkeeping of one :class:`~.gridfs.GridFSDict` bucket (per file name: the
    newest version's size)."""

    def __init__(self, storage: GridFSDict) -> None:
        self.storage = storage

    def totals(self) -> tuple[int, int]:
        pipeline = [
            {"$group": {"_id": "$filename", "size": {"$max": "$length"}}},
            {"$group": {"_id": None, "total": {"$sum": "$size"}, "count": {"$sum": 1}}},
        ]
        with self.storage._errors_as_storage():
            rows = list(self.storage.files.aggregate(pipeline))
        return (int(rows[0]["total"]), int(rows[0]["count"])) if rows else (0, 0)

    def record(self, uses: Uses) -> None:
        pymongo = import_client("pymongo", "mongodb", "gridfs")
        updates = [
            pymongo.UpdateMany(
                {"filename": key}, {"$max": {"access_time": when}, "$inc": {"hits": int(count)}}
            )
            for key, (when, count) in uses.items()
        ]
        with self.storage._errors_as_storage():
            self.storage.files.bulk_write(updates, ordered=False)

    def victims(self, excess_bytes: int, excess_entries: int, policy: str) -> list[tuple[str, int]]:
        group = {
            "_id": "$filename",
            "size": {"$max": "$length"},
            "access_time": {"$max": {"$ifNull": ["$access_time", 0]}},
            "hits": {"$max": {"$ifNull": ["$hits", 0]}},
        }
        pipeline = [{"$group": group}, {"$sort": _MONGO_ORDER[policy]}]
        with (
            self.storage._errors_as_storage(),
            self.storage.files.aggregate(pipeline) as cursor,
        ):
            rows = ((str(doc["_id"]), int(doc["size"] or 0)) for doc in cursor)
            return pick_victims(rows, excess_bytes, excess_entries)


class DynamoUsage:
    """The bookkeeping of one :class:`~.dynamodb.DynamoDbDict` partition."""

    #: Keys per batch of uses: each costs a request, so batches are kept small.
    batch = 256

    def __init__(self, storage: DynamoDbDict) -> None:
        self.storage = storage

    def _items(self) -> list[tuple[str, int, list[float]]]:
        """``(key, size, [last use, uses])`` of every live entry (parts left out)."""
        from .dynamodb import _PART

        storage, now = self.storage, time.time()
        found: list[tuple[str, int, list[float]]] = []
        names = {"#ns": "namespace", "#k": "key", "#t": "ttl"}
        with storage._errors_as_storage():
            for page in storage.client.get_paginator("query").paginate(
                TableName=storage.table_name,
                KeyConditionExpression="#ns = :ns",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":ns": {"S": storage.namespace}},
                ProjectionExpression="#k, #t, stored_size, access_time, hits",
            ):
                for item in page["Items"]:
                    key = item["key"]["S"]
                    if _PART in key or not storage._is_live(item, now):
                        continue
                    use = [_number(item, "access_time"), _number(item, "hits")]
                    found.append((key, int(_number(item, "stored_size")), use))
        return found

    def totals(self) -> tuple[int, int]:
        items = self._items()
        return sum(size for _, size, _ in items), len(items)

    def record(self, uses: Uses) -> None:
        # One UpdateItem per key (DynamoDB has no batch of updates), a few at a time.
        with ThreadPoolExecutor(_DYNAMO_THREADS, thread_name_prefix="rcl-dynamodb") as pool:
            for _ in pool.map(self._record_one, uses.items()):
                pass

    def _record_one(self, item: tuple[str, list[float]]) -> None:
        storage, (key, (when, count)) = self.storage, item
        failed = import_client("botocore.exceptions", "dynamodb", "dynamodb").ClientError
        with storage._errors_as_storage():
            try:
                storage.client.update_item(
                    TableName=storage.table_name,
                    Key=storage._key(key),
                    UpdateExpression="SET access_time = :t ADD hits :n",
                    ConditionExpression="attribute_exists(#k)",
                    ExpressionAttributeNames={"#k": "key"},
                    ExpressionAttributeValues={
                        ":t": {"N": repr(when)},
                        ":n": {"N": str(int(count))},
                    },
                )
            except failed as exc:  # no longer stored: nothing to record
                if _error_code(exc) != "ConditionalCheckFailedException":
                    raise

    def victims(self, excess_bytes: int, excess_entries: int, policy: str) -> list[tuple[str, int]]:
        items = self._items()
        sizes = {key: size for key, size, _ in items}
        order = sorted(((key, use) for key, _, use in items), key=eviction_key(policy))
        rows = ((key, sizes[key]) for key, _ in order)
        return pick_victims(rows, excess_bytes, excess_entries)


def _number(item: dict[str, Any], name: str) -> float:
    return float(item.get(name, {}).get("N", 0))


def _error_code(exc: Any) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def alias_finder(redirects: BaseStorage) -> Callable[[set[str]], list[str]] | None:
    """A function giving the aliases in ``redirects`` that point at some of the targets, in
    a few round trips, for the server backends; None for the others."""
    from .dynamodb import DynamoDbDict
    from .mongodb import MongoDict
    from .redis import RedisDict, RedisHashDict

    if isinstance(redirects, RedisDict) and not isinstance(redirects, RedisHashDict):
        return lambda targets: _redis_aliases(redirects, targets)
    if isinstance(redirects, MongoDict):
        return lambda targets: _mongo_aliases(redirects, targets)
    if isinstance(redirects, DynamoDbDict):
        return lambda targets: _dynamo_aliases(redirects, targets)
    return None


def _redis_aliases(redirects: RedisDict, targets: set[str]) -> list[str]:
    keys = list(redirects)
    found: list[str] = []
    with redirects._errors_as_storage():
        for chunk in _chunks(keys):
            values = redirects.connection.mget([redirects._full(key) for key in chunk])
            pairs = zip(chunk, values, strict=True)
            found.extend(key for key, value in pairs if value and _text(value) in targets)
    return found


def _mongo_aliases(redirects: MongoDict, targets: set[str]) -> list[str]:
    wanted = sorted(targets)
    found: list[str] = []
    with redirects._errors_as_storage():
        for chunk in _chunks(wanted):
            query = {"data": {"$in": chunk}}
            found.extend(doc["_id"] for doc in redirects.collection.find(query, {"_id": True}))
    return found


def _dynamo_aliases(redirects: DynamoDbDict, targets: set[str]) -> list[str]:
    found: list[str] = []
    with redirects._errors_as_storage():
        for page in redirects.client.get_paginator("query").paginate(
            TableName=redirects.table_name,
            KeyConditionExpression="#ns = :ns",
            ExpressionAttributeNames={"#ns": "namespace"},
            ExpressionAttributeValues={":ns": {"S": redirects.namespace}},
        ):
            for item in page["Items"]:
                if item.get("value", {}).get("S") in targets:
                    found.append(item["key"]["S"])
    return found
