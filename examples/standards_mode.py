"""Standards mode: the server's caching headers, read as RFC 9111 asks a private cache to.

``cache_control=True`` with no ``expire_after`` makes the session an RFC 9111 private cache:
freshness comes only from the responses (``max-age``, ``Expires``, ``Date``, ``Age``,
``Last-Modified``), responses served from the cache carry an ``Age`` header, responses without
freshness are revalidated before every use, and a POST invalidates what was stored for its URL.

Runs offline against a LocalOrigin on 127.0.0.1, with an in-memory cache.

    python examples/standards_mode.py
"""

from __future__ import annotations

from requests_cache_like import CachedSession
from requests_cache_like.demo import LocalOrigin


def main() -> None:
    with LocalOrigin() as origin, CachedSession(backend="memory", cache_control=True) as session:
        fresh = origin.url("/cache/60")  # Cache-Control: max-age=60
        session.get(fresh)
        hit = session.get(fresh)
        print(f"max-age=60, second GET: from_cache={hit.from_cache} Age={hit.headers['Age']}")

        # No freshness information, but an ETag: stored, and validated before every use.
        session.get(origin.url("/etag/v1"))
        validated = session.get(origin.url("/etag/v1"))
        print(
            f"ETag only, second GET: from_cache={validated.from_cache} "
            f"revalidated={validated.revalidated}"
        )

        # Neither freshness nor a validator: nothing to reuse, every GET reaches the origin.
        session.get(origin.url("/json"))
        print(f"no headers, second GET: from_cache={session.get(origin.url('/json')).from_cache}")

        # A successful POST to a URL invalidates the responses stored for it (RFC 9111 §4.4).
        session.post(fresh, data=b"changed")
        after_post = session.get(fresh)
        print(f"after POST, GET: from_cache={after_post.from_cache}")
        print(f"origin saw {origin.hits['/cache/60']} request(s) for /cache/60")

    # Any expire_after (here per request) leaves standards mode for that request: the
    # requests-cache 1.x rules apply, and a response without headers is kept for 300 s.
    with LocalOrigin() as origin, CachedSession(backend="memory", cache_control=True) as session:
        session.get(origin.url("/json"), expire_after=300)
        again = session.get(origin.url("/json"), expire_after=300)
        print(f"expire_after=300, second GET: from_cache={again.from_cache}")


if __name__ == "__main__":
    main()
