"""Converting a requests-cache cache: ``convert(source, dest, trust_pickle=...)``.

requests-cache 1.x fills a SQLite cache from a LocalOrigin on 127.0.0.1, with its default
serializer (pickle). Converting it without ``trust_pickle`` skips the pickled entries;
with it, every response and redirect alias moves over, and a plain CachedSession on the new
file answers without a request to the origin. Both files live in a temporary directory.

    python examples/convert_requests_cache.py

Needs requests-cache (``pip install requests-cache``) to write the cache being converted.
The same from a shell: ``python -m requests_cache_like convert old.sqlite new.sqlite
--trust-pickle``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import requests_cache

from requests_cache_like import CachedSession
from requests_cache_like.convert import convert
from requests_cache_like.demo import LocalOrigin

PATHS = ("/json?id=1", "/bytes/64", "/redirect/2")
#: /redirect/2 went through /redirect/1 to /json: both are hits too (an alias, a response).
HITS = (*PATHS, "/redirect/1", "/json")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, LocalOrigin() as origin:
        old_path, new_path = Path(tmp) / "old.sqlite", Path(tmp) / "new.sqlite"

        # 1. A cache written by requests-cache itself.
        old = requests_cache.CachedSession(str(old_path))
        for path in PATHS:
            old.get(origin.url(path))
        old.close()

        # 2. Pickle is read only when you say you trust who could write the cache.
        cautious = convert(old_path, Path(tmp) / "cautious.sqlite")
        print(f"without trust_pickle: converted {cautious.converted}, ", end="")
        print(f"skipped {cautious.skipped_count}")
        summary = convert(old_path, new_path, trust_pickle=True)
        print(f"with trust_pickle: converted {summary.converted}, redirects {summary.redirects}")

        # 3. The same requests are hits in a plain session on the new file.
        before = sum(origin.hits.values())
        with CachedSession(str(new_path)) as session:
            for path in HITS:
                response = session.get(origin.url(path))
                print(f"{path}: from_cache={response.from_cache}")
        print(f"origin requests after converting: {sum(origin.hits.values()) - before}")


if __name__ == "__main__":
    main()
