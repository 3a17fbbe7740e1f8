"""Moving a cache from SQLite to Redis: ``redis_cache.update(sqlite_cache)``.

Fills a SQLite cache from a LocalOrigin on 127.0.0.1, copies every response and redirect
alias into Redis, then answers from Redis without a request to the origin. The SQLite file
lives in a temporary directory; the Redis keys go under a namespace of their own, deleted
at the end.

    python examples/migrate_sqlite_to_redis.py redis://127.0.0.1:6379/0
    REDIS_URL=redis://127.0.0.1:6379/0 python examples/migrate_sqlite_to_redis.py

Needs the ``redis`` package (``pip install 'requests-cache-like[redis]'``) and a Redis server.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path

from requests_cache_like import CachedSession
from requests_cache_like.backends import RedisCache
from requests_cache_like.demo import LocalOrigin

PATHS = ("/json?id=1", "/json?id=2", "/bytes/2048", "/redirect/1")


def main(redis_url: str | None = None) -> None:
    redis_url = redis_url or os.environ.get("REDIS_URL")
    if not redis_url:
        raise SystemExit("give a Redis URL as the argument, or set REDIS_URL")
    with tempfile.TemporaryDirectory() as tmp, LocalOrigin() as origin:
        old = CachedSession(Path(tmp) / "old_cache.sqlite", expire_after=3600)
        namespace = f"migrate-example-{uuid.uuid4().hex[:8]}"
        new = CachedSession(namespace, backend=redis_url, expire_after=3600)
        try:
            # 1. The existing cache: SQLite, filled by ordinary requests.
            for path in PATHS:
                old.get(origin.url(path))
            responses, redirects = len(old.cache.responses), len(old.cache.redirects)
            print(f"SQLite: {responses} responses, {redirects} redirects")

            # 2. One call copies every response and redirect alias into Redis.
            new.cache.update(old.cache)
            responses, redirects = len(new.cache.responses), len(new.cache.redirects)
            print(f"Redis:  {responses} responses, {redirects} redirects")

            # 3. Answered from Redis: the origin sees no new request.
            before = sum(origin.hits.values())
            hit = new.get(origin.url("/json?id=1"))
            alias = new.get(origin.url("/redirect/1"))
            print(f"/json?id=1 from Redis: from_cache={hit.from_cache}")
            print(f"/redirect/1 from Redis: from_cache={alias.from_cache}")
            print(f"origin requests while reading Redis: {sum(origin.hits.values()) - before}")

            # Redis drops an entry by itself at its expiry plus ttl_offset (1 h by default).
            assert isinstance(new.cache, RedisCache)
            key = new.cache.responses.prefix + hit.cache_key
            seconds = new.cache.connection.ttl(key)
            print(f"Redis keeps it for about {round(seconds / 3600)} h (expiry + ttl_offset)")
        finally:
            new.cache.clear()  # only this example's namespace
            new.close()
            old.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
