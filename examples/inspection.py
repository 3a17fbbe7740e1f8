"""Inspecting and pruning a cache: urls(), filter(), count(), sorted(), contains(), delete(),
and the command line.

Runs offline against a LocalOrigin on 127.0.0.1; the cache file lives in a temporary directory
that is removed at the end.

    python examples/inspection.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from requests_cache_like import EXPIRE_IMMEDIATELY, CachedSession
from requests_cache_like.cli import main as cli
from requests_cache_like.demo import LocalOrigin


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, LocalOrigin() as origin:
        cache_file = Path(tmp) / "inspection.sqlite"
        with CachedSession(cache_file, expire_after=3600) as session:
            for path in ("/json?id=1", "/json?id=2", "/bytes/2048", "/redirect/1"):
                session.get(origin.url(path))
            # Expires at once; kept because its ETag allows revalidation.
            session.get(origin.url("/etag/old"), expire_after=EXPIRE_IMMEDIATELY)
            cache = session.cache

            print(f"responses: {cache.count()}, redirect aliases: {len(cache.redirects)}")
            print(f"stored URLs: {len(cache.urls())}")
            print(f"cached /redirect/1: {cache.contains(url=origin.url('/redirect/1'))}")
            biggest = next(cache.sorted(key="size", reversed=True, limit=1))
            print(f"largest body: {biggest.size} bytes from {urlsplit(biggest.url).path}")

            expired = [urlsplit(r.url).path for r in cache.filter(valid=False)]
            print(f"expired: {expired}, fresh: {cache.count(expired=False)}")
            cache.delete(expired=True)
            print(f"after delete(expired=True): {cache.count()}")

            cache.delete(urls=[origin.url("/json?id=1")])
            print(f"after delete(urls=[...id=1]): {cache.count()}")

        # The same file from the command line (python -m requests_cache_like info PATH).
        cli(["info", str(cache_file)])


if __name__ == "__main__":
    main()
