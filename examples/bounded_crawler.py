"""A bounded cache shared by processes: three crawler processes on one SQLite file, with
``max_size`` keeping the file's responses under 60 kB while they crawl far more than that.

Each worker crawls 40 pages of a small origin (a threaded ``http.server`` this script starts on
127.0.0.1: no internet) in its own order, going back now and then to a few popular pages,
which come from the cache. Each process enforces the limit on its own writes; together
they may exceed it by 2.5 % per extra process (see docs/limits.md), and never did here.
The cache file lives in a temporary directory that is removed at the end.

    python examples/bounded_crawler.py
"""

from __future__ import annotations

import multiprocessing
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from requests_cache_like import CachedSession
from requests_cache_like.backends.limits import CHECK_FRACTION

MAX_SIZE = "60 kB"
LIMIT = 60_000
WORKERS = 3
PAGES_PER_WORKER = 40
SITE_PAGES = 80
#: What several processes may store together before one of them evicts (docs/limits.md).
BOUND = LIMIT * (1 + CHECK_FRACTION * (WORKERS - 1))


class _Page(BaseHTTPRequestHandler):
    """``/page/N``: about 1.5 kB of HTML."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = f"<h1>{self.path}</h1>".encode() + b"<p>lorem ipsum</p>" * 80
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextmanager
def local_site() -> Iterator[str]:
    """Serve :class:`_Page` on a free port of 127.0.0.1; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def crawl(cache_file: str, site: str, worker: int, results: Any) -> None:
    """Crawl ``PAGES_PER_WORKER`` pages; report hits and the largest cache size seen."""
    hits, largest = 0, 0
    with CachedSession(cache_file, max_size=MAX_SIZE, expire_after=600) as session:
        for step in range(PAGES_PER_WORKER):
            # Every fourth request goes back to one of three popular pages; those stay cached
            # (least recently used pages are evicted first), the long tail does not.
            page = step % 3 if step % 4 == 0 else 3 + (step * 7 + worker * 13) % SITE_PAGES
            response = session.get(f"{site}/page/{page}")
            hits += response.from_cache
            largest = max(largest, session.cache.size())
    results.put((worker, hits, largest))


def main() -> None:
    # fork where it is cheap and safe (Linux); spawn elsewhere re-imports this script.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    with tempfile.TemporaryDirectory() as tmp, local_site() as site:
        cache_file = str(Path(tmp) / "crawl.sqlite")
        results = context.Queue()
        workers = [
            context.Process(target=crawl, args=(cache_file, site, worker, results))
            for worker in range(WORKERS)
        ]
        for process in workers:
            process.start()
        reports = sorted(results.get(timeout=120) for _ in workers)
        for process in workers:
            process.join(timeout=60)
        print(f"max_size={MAX_SIZE!r}: {LIMIT} bytes; {WORKERS} processes share the file")
        for worker, hits, largest in reports:
            print(
                f"worker {worker}: {PAGES_PER_WORKER} pages, {hits} from the cache, "
                f"largest cache size seen {largest} bytes (within the bound: {largest <= BOUND})"
            )
        with CachedSession(cache_file, max_size=MAX_SIZE) as session:
            size, count = session.cache.size(), session.cache.count()
        print(
            f"after the crawl: {count} responses, {size} bytes (within the bound: {size <= BOUND})"
        )


if __name__ == "__main__":
    main()
