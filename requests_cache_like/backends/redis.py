"""Redis backend: a shared cache for many processes and machines.

Each entry is one Redis string key, ``{namespace}:{table}:{cache key}``; responses get a
native expiry ``ttl_offset`` seconds after their HTTP expiry, so a stale entry can still be
revalidated or served on error before Redis drops it. Iteration uses SCAN, never KEYS.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..serializers import init_serializer
from ..settings import DEFAULT_CACHE_NAME
from ._redis_clients import ThreadClients
from ._util import import_client, reuse_or_connect, storage_errors, ttl_seconds
from .base import BaseCache, BaseStorage
from .server_leases import RedisLeases
from .storage import is_default_format

if TYPE_CHECKING:
    from ..models import CachedResponse
    from ..serializers.pipeline import SerializerType, StageLike
    from ._server_usage import RedisUsage

__all__ = [
    "RedisCache",
    "RedisDict",
    "RedisHashDict",
]

#: Seconds a response is kept past its HTTP expiry, by default.
DEFAULT_TTL_OFFSET = 3600
_SCAN_BATCH = 500


def _client_errors(redis: Any) -> tuple[type[BaseException], ...]:
    return (
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        redis.exceptions.ResponseError,
        redis.exceptions.BusyLoadingError,
        OSError,
    )


def _glob_escape(text: str) -> str:
    """Return ``text`` as a literal in a Redis MATCH pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _text(key: bytes | str) -> str:
    return key.decode() if isinstance(key, bytes) else key


def make_connection(url: str | None = None, **redis_kwargs: Any) -> Any:
    """Return a ``redis.Redis`` client from a URL or keyword arguments, with finite timeouts
    (a storage that hangs must not hang every request)."""
    redis = import_client("redis", "redis", "redis")
    retry = import_client("redis.retry", "redis", "redis")
    backoff = import_client("redis.backoff", "redis", "redis")
    redis_kwargs.setdefault("socket_connect_timeout", 5)
    redis_kwargs.setdefault("socket_timeout", 5)
    # One immediate retry reconnects after a dropped connection; the client's default
    # (10 retries with backoff) would hold every request for seconds while Redis is down.
    redis_kwargs.setdefault("retry", retry.Retry(backoff.NoBackoff(), 1))
    # from_url() would keep unknown options until the first command; check them now.
    accepted = set(inspect.signature(redis.Redis.__init__).parameters) - {"self"}
    unknown = sorted(set(redis_kwargs) - accepted)
    if unknown:
        raise TypeError(
            f"unknown Redis client option(s): {', '.join(unknown)}; see redis.Redis() for the "
            "accepted ones (host, port, db, password, ssl, ...)"
        )
    if url:
        return redis.Redis.from_url(url, **redis_kwargs)
    return redis.Redis(**redis_kwargs)


class RedisDict(BaseStorage):
    """A storage in Redis: one string key per entry under ``{namespace}:{collection_name}:``.

    :param ttl: Give entries with an expiry a native Redis TTL (expiry + ``ttl_offset``).
    """

    #: The bookkeeping kept with every write under limits (max_size, max_entries).
    usage: RedisUsage | None = None

    def __init__(
        self,
        namespace: str = DEFAULT_CACHE_NAME,
        collection_name: str = "responses",
        connection: Any = None,
        serializer: SerializerType | StageLike = None,
        ttl: bool = True,
        ttl_offset: int = DEFAULT_TTL_OFFSET,
        **redis_kwargs: Any,
    ) -> None:
        super().__init__(serializer=serializer)
        redis = import_client("redis", "redis", "redis")
        self._errors = _client_errors(redis)
        if connection is not None and redis_kwargs:
            raise TypeError(
                f"RedisDict got both connection= and client options "
                f"({', '.join(sorted(redis_kwargs))}); pass one"
            )
        self.connection = connection if connection is not None else make_connection(**redis_kwargs)
        self.namespace = namespace
        self.collection_name = collection_name
        self.prefix = f"{namespace}:{collection_name}:"
        self._pattern = _glob_escape(self.prefix) + "*"
        self.ttl = ttl
        self.ttl_offset = ttl_offset
        # A value this thread already read in a round trip of several keys (see
        # RedisCache.get_response): the next get_raw of that key takes it.
        self._prefetched = threading.local()
        self._riders = threading.local()  # commands sent with this thread's next write

    def _errors_as_storage(self) -> Any:
        return storage_errors("redis", self._errors)

    def _full(self, key: str) -> str:
        return self.prefix + key

    def get_raw(self, key: str) -> Any:
        prefetched = getattr(self._prefetched, "value", None)
        if prefetched is not None and prefetched[0] == key:
            self._prefetched.value = None
            value = prefetched[1]
        else:
            with self._errors_as_storage():
                value = self.connection.get(self._full(key))
        return self._stored(key, value)

    def _stored(self, key: str, value: bytes | None) -> Any:
        """The value read for ``key`` as :meth:`get_raw` gives it."""
        if value is None:
            raise KeyError(key)
        # Without a serializer the values are strings (redirect targets).
        return (
            value.decode("utf-8", "replace")
            if self.serializer is None and not is_default_format(value)
            else value
        )

    def set_raw(
        self,
        key: str,
        value: Any,
        expires: datetime | None = None,
        created_at: datetime | None = None,
        size: int = 0,
    ) -> None:
        seconds = ttl_seconds(expires, self.ttl_offset) if self.ttl else None
        data = b"" if value is None else value
        with self._errors_as_storage():
            if self.usage is not None:  # the value and its bookkeeping in one MULTI
                self.usage.write(key, data, seconds)
                return
            rider = getattr(self._riders, "job", None)
            client = self.connection
            if rider is not None and rider[0] == key:  # one round trip for both
                self._riders.job = None
                client = self.connection.pipeline(transaction=False)
            # Both replace the value and set (or clear) the expiry in one atomic command.
            if seconds is None:
                client.set(self._full(key), data)
            else:
                client.setex(self._full(key), seconds, data)
            if rider is not None and client is not self.connection:
                rider[1](client)
                client.execute()
                rider[2]()

    def ride_next_write(
        self, key: str, add: Callable[[Any], object], done: Callable[[], object]
    ) -> None:
        """Send the commands ``add(pipeline)`` queues with this thread's next write of ``key``
        (in the same round trip), then call ``done``; :meth:`drop_rider` cancels."""
        self._riders.job = (key, add, done)

    def drop_rider(self) -> None:
        """Forget this thread's rider, if its write did not happen."""
        self._riders.job = None

    def __delitem__(self, key: str) -> None:
        with self._errors_as_storage():
            deleted = self.connection.delete(self._full(key))
            if self.usage is not None:
                self.usage.forget([key])
        if not deleted:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        with self._errors_as_storage():
            return bool(self.connection.exists(self._full(str(key))))

    def _scan(self) -> Iterator[bytes]:
        with self._errors_as_storage():
            yield from self.connection.scan_iter(match=self._pattern, count=_SCAN_BATCH)

    def __iter__(self) -> Iterator[str]:
        cut = len(self.prefix)
        return iter([_text(key)[cut:] for key in self._scan()])

    def __len__(self) -> int:
        return sum(1 for _ in self._scan())

    def bulk_delete(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        full = [self._full(k) for k in keys]
        with self._errors_as_storage():
            for start in range(0, len(full), _SCAN_BATCH):
                chunk = full[start : start + _SCAN_BATCH]
                if chunk:
                    self.connection.delete(*chunk)
            if self.usage is not None:
                self.usage.forget(keys)

    def clear(self) -> None:
        batch: list[Any] = []
        with self._errors_as_storage():
            if self.usage is not None:
                self.usage.clear()
            for key in self._scan():
                batch.append(key)
                if len(batch) >= _SCAN_BATCH:
                    self.connection.delete(*batch)
                    batch = []
            if batch:
                self.connection.delete(*batch)

    def close(self) -> None:
        with self._errors_as_storage():
            self.connection.close()


class RedisHashDict(RedisDict):
    """A storage in one Redis hash, ``{namespace}:{collection_name}``: one field per entry
    (requests-cache's layout for small collections). Fields have no expiry of their own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hash_key = self.prefix.rstrip(":")

    def get_raw(self, key: str) -> Any:
        with self._errors_as_storage():
            value = self.connection.hget(self.hash_key, key)
        return self._stored(key, value)

    def set_raw(
        self,
        key: str,
        value: Any,
        expires: datetime | None = None,
        created_at: datetime | None = None,
        size: int = 0,
    ) -> None:
        with self._errors_as_storage():
            self.connection.hset(self.hash_key, key, b"" if value is None else value)

    def __delitem__(self, key: str) -> None:
        with self._errors_as_storage():
            if not self.connection.hdel(self.hash_key, key):
                raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        with self._errors_as_storage():
            return bool(self.connection.hexists(self.hash_key, str(key)))

    def __iter__(self) -> Iterator[str]:
        with self._errors_as_storage():
            fields = list(self.connection.hscan_iter(self.hash_key, count=_SCAN_BATCH))
        return iter([_text(name) for name, _value in fields])

    def __len__(self) -> int:
        with self._errors_as_storage():
            return int(self.connection.hlen(self.hash_key))

    def bulk_delete(self, keys: Iterable[str]) -> None:
        names = list(keys)
        with self._errors_as_storage():
            for start in range(0, len(names), _SCAN_BATCH):
                chunk = names[start : start + _SCAN_BATCH]
                if chunk:
                    self.connection.hdel(self.hash_key, *chunk)

    def clear(self) -> None:
        with self._errors_as_storage():
            self.connection.delete(self.hash_key)


class RedisCache(BaseCache):
    """Redis cache backend.

    :param namespace: Prefix for every key (default ``http_cache``), so several caches can
        share one Redis database.
    :param connection: An existing ``redis.Redis`` client; otherwise one is made from
        ``redis_kwargs`` (``host``, ``port``, ``db``, ``password``, ``url`` ...).
    :param ttl: Let Redis expire responses natively (``ttl_offset`` seconds after they
        become stale).
    :param ttl_offset: Seconds to keep a stale response for revalidation (default 3600).
    """

    def __init__(
        self,
        namespace: str = DEFAULT_CACHE_NAME,
        connection: Any = None,
        serializer: SerializerType | StageLike = None,
        ttl: bool = True,
        ttl_offset: int = DEFAULT_TTL_OFFSET,
        url: str | None = None,
        **redis_kwargs: Any,
    ) -> None:
        super().__init__(cache_name=namespace)
        given = connection
        connection = reuse_or_connect(
            "RedisCache",
            connection,
            {**redis_kwargs, "url": url},
            lambda: make_connection(url, **redis_kwargs),
        )
        self.connection = connection
        # Only for a client made here: a caller's may be of another kind, or instrumented.
        self._clients = ThreadClients(connection) if given is None else None
        self.responses: RedisDict = RedisDict(
            namespace,
            "responses",
            connection=connection,
            serializer=init_serializer(serializer),
            ttl=ttl,
            ttl_offset=ttl_offset,
        )
        self.redirects: RedisDict = RedisDict(
            namespace,
            "redirects",
            connection=connection,
            ttl=False,
        )

    def get_response(
        self, key: str, default: Any = None, follow_redirects: bool = True
    ) -> CachedResponse | Any:
        """As :meth:`BaseCache.get_response`, with the response and its redirect alias read in
        one round trip (a miss then costs one)."""
        responses, redirects = self.responses, self.redirects
        if not (
            follow_redirects
            and type(responses).get_raw is RedisDict.get_raw
            and type(redirects).get_raw is RedisDict.get_raw
            # A subclass's (or a test's) own __getitem__ is called as for any storage.
            and type(responses).__getitem__ is BaseStorage.__getitem__
            and responses.connection is redirects.connection
        ):
            return super().get_response(key, default, follow_redirects)
        leases = self.__dict__.get("_leases")  # made by leases_for, when single-flight is on
        # A key this process decoded before is most likely still there: a plain MGET (a
        # script costs more); an unknown one is most likely a miss, whose lease the lookup
        # may take in the same round trip.
        known = responses._decoded is not None and key in responses._decoded
        with responses._errors_as_storage():
            if isinstance(leases, RedisLeases) and not known:
                value, alias = leases.read_or_take(key, responses._full(key), redirects._full(key))
            else:
                client = responses.connection
                if self._clients is not None:
                    client = self._clients.for_reading(client)
                value, alias = client.mget(responses._full(key), redirects._full(key))
        if value is None and alias is None:
            return default
        responses._prefetched.value = (key, value)
        redirects._prefetched.value = (key, alias)
        try:
            return super().get_response(key, default, follow_redirects)
        finally:
            responses._prefetched.value = redirects._prefetched.value = None

    def close(self) -> None:
        self.responses.close()
