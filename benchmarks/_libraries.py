"""A session of each library measured, on each backend it has a storage for.

- requests_cache_like and requests-cache 1.3.3: ``CachedSession(name, backend=...,
  expire_after=300)`` (or standards mode, or a bounded cache: see :data:`MODES`);
- CacheControl: ``CacheControl(requests.Session(), cache=...)`` with its own ``DictCache``
  (memory), ``FileCache`` (filesystem, needs ``filelock``) or ``RedisCache``; it has no SQLite
  storage;
- hishel 2.x: a ``requests.Session`` with ``hishel.requests.CacheAdapter(storage=...,
  rfc=True)`` mounted, on its ``SqliteStorage`` or ``RedisStorage``; hishel 2 has no memory
  or filesystem storage. ``rfc=True`` makes it follow the response's ``max-age=300``, as
  CacheControl does (without it, hishel caches every response for the storage's TTL).

Each session comes with the way to tell a hit from its response (``from_cache``, or hishel's
``X-Hishel-From-Cache`` header) and a ``close`` that also removes what it wrote to Redis.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ._common import BACKENDS, CC, EXPIRE_AFTER, HISHEL, OURS, PLAIN, RC, BenchmarkError

__all__ = [
    "BOUNDED",
    "CACHED_LIBRARIES",
    "CACHE_CONTROL",
    "LIBRARIES",
    "MODES",
    "PINNED",
    "STORAGES",
    "OpenedSession",
    "backend_unavailable",
    "library_unavailable",
    "library_version",
    "open_session",
]

LIBRARIES = (PLAIN, OURS, RC, CC, HISHEL)
CACHED_LIBRARIES = (OURS, RC, CC, HISHEL)
#: The module each library is imported as, and the distribution it is installed as.
MODULES = {
    PLAIN: "requests",
    OURS: "requests_cache_like",
    RC: "requests_cache",
    CC: "cachecontrol",
    HISHEL: "hishel",
}
DISTRIBUTIONS = {
    PLAIN: "requests",
    OURS: "requests-cache-like",
    RC: "requests-cache",
    CC: "CacheControl",
    HISHEL: "hishel",
}
#: The versions ``nox -s bench`` installs (a note is printed when another one is measured).
PINNED = {RC: "1.3.3", CC: "0.14.4", HISHEL: "2.0.0"}
#: The backends each library has a storage of its own for; the others get "—".
STORAGES: dict[str, tuple[str, ...]] = {
    OURS: BACKENDS,
    RC: BACKENDS,
    CC: ("memory", "filesystem", "redis"),
    HISHEL: ("sqlite", "redis"),
}

#: Standards mode: ``cache_control=True`` and no ``expire_after``; freshness from the headers.
CACHE_CONTROL = "cache_control"
#: A bounded cache (``max_size``, docs/limits.md): our hits, which must not get slower.
BOUNDED = "max_size"
BOUNDED_SIZE = "100MB"
#: The modes beside the default one, with the libraries and backends they are measured on.
MODES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    CACHE_CONTROL: ((OURS, RC), ("memory", "sqlite")),
    BOUNDED: ((OURS,), ("memory", "sqlite")),
}

_HISHEL_FROM_CACHE = "X-Hishel-From-Cache"


def library_version(library: str) -> str | None:
    """The installed version of ``library``, or None."""
    try:
        return importlib.metadata.version(DISTRIBUTIONS[library])
    except importlib.metadata.PackageNotFoundError:
        return None


def library_unavailable(library: str) -> str | None:
    """None if ``library`` can be measured here, else why not."""
    needed = [MODULES[library]] + (["hishel.requests"] if library == HISHEL else [])
    for module in needed:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            return f"{library} cannot be imported ({exc})"
    return None


def backend_unavailable(library: str, backend: str) -> str | None:
    """None if ``library`` can be measured on ``backend`` (Redis aside), else why not."""
    if backend not in STORAGES[library]:
        return f"{library} has no {backend} storage"
    if library == CC and backend == "filesystem" and importlib.util.find_spec("filelock") is None:
        return "CacheControl's FileCache needs 'filelock' (CacheControl[filecache])"
    return None


@dataclass
class OpenedSession:
    """A session ready to time, how to tell its hits, and how to close it."""

    session: requests.Session
    from_cache: Callable[[requests.Response], bool | None]
    close: Callable[[], None]


def _plain_from_cache(response: requests.Response) -> bool | None:
    return None


def _attribute_from_cache(response: requests.Response) -> bool | None:
    return getattr(response, "from_cache", None)


def _hishel_from_cache(response: requests.Response) -> bool | None:
    value = response.headers.get(_HISHEL_FROM_CACHE)
    return None if value is None else value == "true"


def _redis_client(redis_url: str | None, what: str) -> Any:
    if redis_url is None:
        raise BenchmarkError(f"{what}: no Redis server given")
    return importlib.import_module("redis").Redis.from_url(redis_url)


def _delete_matching(client: Any, pattern: str) -> None:
    keys = list(client.scan_iter(match=pattern, count=1000))
    if keys:
        client.delete(*keys)


def open_session(
    library: str,
    backend: str | None,
    slug: str,
    workdir: Path,
    redis_url: str | None = None,
    mode: str | None = None,
    origin_url: str = "",
) -> OpenedSession:
    """A session of ``library`` on ``backend`` (None for plain requests), its files named
    after ``slug`` in ``workdir``, its Redis keys in a namespace of its own (CacheControl's,
    which have none, are the URLs of ``origin_url``)."""
    if library == PLAIN:
        session = requests.Session()
        return OpenedSession(session, _plain_from_cache, session.close)
    if backend is None:
        raise BenchmarkError(f"{library}: a backend is needed")
    reason = backend_unavailable(library, backend)
    if reason:
        raise BenchmarkError(reason)
    namespace = f"rcl-bench-{uuid.uuid4().hex[:8]}-{slug}"
    if library in (OURS, RC):
        return _cached_session(library, backend, slug, workdir, redis_url, mode, namespace)
    if mode is not None:
        raise BenchmarkError(f"{library} is only measured in its default mode, not {mode}")
    if library == CC:
        return _cachecontrol_session(backend, slug, workdir, redis_url, origin_url)
    return _hishel_session(backend, slug, workdir, redis_url, namespace)


def _cached_session(
    library: str,
    backend: str,
    slug: str,
    workdir: Path,
    redis_url: str | None,
    mode: str | None,
    namespace: str,
) -> OpenedSession:
    module = importlib.import_module(MODULES[library])
    options: dict[str, Any] = {"backend": backend}
    if mode == BOUNDED:
        options["max_size"] = BOUNDED_SIZE
    if mode == CACHE_CONTROL:
        # No expire_after at all: giving one, even -1, would leave standards mode for ours.
        options["cache_control"] = True
    else:
        options["expire_after"] = EXPIRE_AFTER
    cache_name = f"bench-{slug}"
    if backend == "sqlite":
        cache_name = str(workdir / f"{slug}.sqlite")
    elif backend == "filesystem":
        cache_name = str(workdir / slug)
    elif backend == "redis":
        cache_name = namespace
        if library == OURS:
            if redis_url is None:
                raise BenchmarkError(f"{slug}: no Redis server given")
            options["backend"] = redis_url
        else:
            options["connection"] = _redis_client(redis_url, slug)
    session = module.CachedSession(cache_name, **options)

    def close() -> None:
        if backend == "redis":
            session.cache.clear()
        session.close()

    return OpenedSession(session, _attribute_from_cache, close)


def _cachecontrol_session(
    backend: str, slug: str, workdir: Path, redis_url: str | None, origin_url: str
) -> OpenedSession:
    cachecontrol = importlib.import_module("cachecontrol")
    caches = importlib.import_module("cachecontrol.caches")
    client = None
    if backend == "memory":
        cache = importlib.import_module("cachecontrol.cache").DictCache()
    elif backend == "filesystem":
        cache = caches.FileCache(str(workdir / slug))
    else:
        client = _redis_client(redis_url, slug)
        cache = caches.RedisCache(client)
    session = cachecontrol.CacheControl(requests.Session(), cache=cache)

    def close() -> None:
        session.close()
        if client is not None:
            # Its keys are the URLs, and RedisCache.clear() would empty the whole database.
            _delete_matching(client, f"{origin_url}/*")
            client.close()

    return OpenedSession(session, _attribute_from_cache, close)


def _hishel_session(
    backend: str, slug: str, workdir: Path, redis_url: str | None, namespace: str
) -> OpenedSession:
    hishel = importlib.import_module("hishel")
    adapter_class = importlib.import_module("hishel.requests").CacheAdapter
    client = None
    if backend == "sqlite":
        storage = hishel.SqliteStorage(database_path=workdir / f"{slug}.sqlite")
    else:
        client = _redis_client(redis_url, slug)
        storage = hishel.RedisStorage(client=client, key_prefix=namespace)
    session = requests.Session()
    adapter = adapter_class(storage=storage, rfc=True)
    session.mount("http://", adapter)
    session.mount("https://", adapter)

    def close() -> None:
        if client is not None:
            _delete_matching(client, f"{namespace}:*")
        session.close()  # closes the adapter, its storage and the Redis client

    return OpenedSession(session, _hishel_from_cache, close)
