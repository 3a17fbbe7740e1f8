"""install_cache(): every ``requests.get(...)`` in the process goes through one cache.

Runs offline against a LocalOrigin on 127.0.0.1; the cache file lives in a temporary directory
that is removed at the end, and ``requests`` is restored before returning.

    python examples/basic_patching.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import requests

from requests_cache_like import (
    disabled,
    get_cache,
    install_cache,
    is_installed,
    uninstall_cache,
)
from requests_cache_like.demo import LocalOrigin


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, LocalOrigin() as origin:
        url = origin.url("/json?patched=1")
        install_cache(Path(tmp) / "basic_patching", expire_after=300)
        try:
            print(f"installed: {is_installed()}")
            print(f"requests.get #1: from_cache={requests.get(url).from_cache}")
            print(f"requests.get #2: from_cache={requests.get(url).from_cache}")
            with requests.Session() as session:
                print(f"requests.Session(): from_cache={session.get(url).from_cache}")

            with disabled():
                response = requests.get(url)
            print(f"inside disabled(): cached={hasattr(response, 'from_cache')}")
            print(f"urls in the cache: {len(get_cache().urls())}")  # type: ignore[union-attr]
        finally:
            cache = get_cache()
            uninstall_cache()
            if cache is not None:
                cache.close()  # uninstall_cache() leaves the cache open
        print(f"installed: {is_installed()}")
        print(f"origin saw {origin.hits['/json']} request(s) for /json")


if __name__ == "__main__":
    main()
