"""Expiration: per session, per URL pattern, per request, from Cache-Control, and revalidation.

Runs offline against a LocalOrigin on 127.0.0.1; the cache file lives in a temporary directory
that is removed at the end.

    python examples/expiration.py
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from requests_cache_like import (
    DO_NOT_CACHE,
    EXPIRE_IMMEDIATELY,
    NEVER_EXPIRE,
    CachedSession,
)
from requests_cache_like.demo import LocalOrigin


def describe(label: str, response: object) -> None:
    """Print how long ``response`` stays fresh (or why it has no lifetime)."""
    created_at = getattr(response, "created_at", None)
    expires = getattr(response, "expires", None)
    if created_at is None:
        lifetime = "not stored"
    elif expires is None:
        lifetime = "never expires"
    else:
        lifetime = f"{int((expires - created_at).total_seconds())} s"
    print(f"{label:<34} {lifetime}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, LocalOrigin() as origin:
        host = origin.base_url.split("://", 1)[1]  # "127.0.0.1:PORT": globs omit the scheme
        session = CachedSession(
            Path(tmp) / "expiration",
            expire_after=timedelta(minutes=10),  # the session's default
            urls_expire_after={
                f"{host}/bytes": NEVER_EXPIRE,  # glob: this prefix never expires
                f"{host}/json?nocache=*": DO_NOT_CACHE,  # glob: never read nor stored
            },
        )
        with session:
            describe("session default (/headers)", session.get(origin.url("/headers")))
            describe("URL pattern (/bytes/64)", session.get(origin.url("/bytes/64")))
            describe("URL pattern (DO_NOT_CACHE)", session.get(origin.url("/json?nocache=1")))
            describe(
                "per request (expire_after=30)",
                session.get(origin.url("/json?request=1"), expire_after=30),
            )

            # Response headers decide only when cache_control=True.
            describe("/cache/45, cache_control off", session.get(origin.url("/cache/45")))
            session.settings.cache_control = True
            describe(
                "/cache/90, cache_control on",
                session.get(origin.url("/cache/90")),
            )
            describe("/no-store, cache_control on", session.get(origin.url("/no-store")))

            # EXPIRE_IMMEDIATELY keeps a response that has an ETag, and revalidates it on
            # every use: the origin answers 304 and the stored body is served.
            url = origin.url("/etag/v1")
            session.get(url, expire_after=EXPIRE_IMMEDIATELY)
            again = session.get(url, expire_after=EXPIRE_IMMEDIATELY)
            print(
                f"revalidated with ETag: from_cache={again.from_cache} "
                f"revalidated={again.revalidated} origin hits={origin.hits['/etag/v1']}"
            )


if __name__ == "__main__":
    main()
