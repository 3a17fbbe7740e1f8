"""Several sessions on one cache, each with its own settings; settings as session attributes;
response hooks that see where each answer came from.

A crawler and an API client can share one cache object while keying it differently: the
session that asks for ``match_headers=["Accept"]`` keeps its JSON and HTML answers apart, the
other does not care. Every setting is also a session attribute (``session.expire_after = 60``),
and response hooks run once per request, on a hit as on a miss.

Runs offline against a LocalOrigin on 127.0.0.1, with an in-memory cache.

    python examples/shared_cache.py
"""

from __future__ import annotations

from typing import Any

from requests import Response

from requests_cache_like import CachedSession
from requests_cache_like.backends import MemoryCache
from requests_cache_like.demo import LocalOrigin


def main() -> None:
    cache = MemoryCache()
    with LocalOrigin() as origin:
        by_type = CachedSession(backend=cache, match_headers=["Accept"])
        plain = CachedSession(backend=cache)  # the same cache, default settings
        url = origin.url("/headers")

        by_type.get(url, headers={"Accept": "application/json"})
        html = by_type.get(url, headers={"Accept": "text/html"})
        print(f"match_headers session, other Accept: from_cache={html.from_cache}")
        plain.get(url, headers={"Accept": "application/json"})
        any_type = plain.get(url, headers={"Accept": "text/html"})
        print(f"plain session, other Accept: from_cache={any_type.from_cache}")

        # Settings are session attributes, validated on assignment.
        plain.expire_after = 60
        print(f"plain.expire_after = {plain.expire_after}")

        answers: list[str] = []

        def note(response: Response, *args: Any, **kwargs: Any) -> Response:
            answers.append("hit" if response.from_cache else "miss")  # type: ignore[attr-defined]
            return response

        plain.hooks["response"].append(note)
        plain.get(origin.url("/json/hooked"))
        plain.get(origin.url("/json/hooked"))
        print(f"hooks saw: {', '.join(answers)}")
        print(f"origin saw {origin.hits['/headers']} request(s) for /headers")


if __name__ == "__main__":
    main()
