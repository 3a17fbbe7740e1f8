"""A CachedSession on SQLite: a miss, then a hit, then the per-request options.

Runs offline against a LocalOrigin on 127.0.0.1; the cache file lives in a temporary directory
that is removed at the end.

    python examples/basic_sessions.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from requests_cache_like import CachedSession
from requests_cache_like.demo import LocalOrigin


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, LocalOrigin() as origin:
        cache_file = Path(tmp) / "basic_sessions.sqlite"
        with CachedSession(cache_file, expire_after=300) as session:
            url = origin.url("/json?page=1")

            first = session.get(url)
            second = session.get(url)
            print(f"first request:  from_cache={first.from_cache}")
            print(f"second request: from_cache={second.from_cache}")
            print(f"same body: {first.json() == second.json()}")
            print(f"origin saw {origin.hits['/json']} request(s) for /json")
            lifetime = second.expires - second.created_at
            print(f"stored for {int(lifetime.total_seconds())} s under key {second.cache_key}")

            # Per-request options take precedence over the session's settings.
            forced = session.get(url, force_refresh=True)
            print(f"force_refresh:  from_cache={forced.from_cache}")
            offline = session.get(origin.url("/json?page=2"), only_if_cached=True)
            print(f"only_if_cached on an unseen URL: status {offline.status_code}")

            # Within cache_disabled() the session behaves as a plain requests.Session.
            with session.cache_disabled():
                plain = session.get(url)
            print(f"cache_disabled: from_cache={plain.from_cache}")
            print(f"origin saw {origin.hits['/json']} request(s) for /json")


if __name__ == "__main__":
    main()
