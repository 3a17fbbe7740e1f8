"""A local origin server and a demo: miss, then hit, through a new SQLite-backed session.

:class:`LocalOrigin` is a small threaded HTTP server on 127.0.0.1 used by the demo, the
examples, the benchmarks and the test suite, so that nothing needs the internet.

Routes (all GET/HEAD unless noted):

- ``/bytes/N``: N bytes of body, ``Cache-Control: max-age=60`` and an ``ETag``
- ``/json``: a small JSON document echoing the query string
- ``/etag/NAME``: a body with ``ETag: "NAME"``; answers 304 to a matching ``If-None-Match``
- ``/cache/N``: ``Cache-Control: max-age=N``; ``/no-store``: ``Cache-Control: no-store``
- ``/redirect/N``: a chain of N 302 redirects ending at ``/json``
- ``/status/N``: responds with status N
- ``/slow/MS``: waits MS milliseconds, then answers
- ``/headers``: echoes the request headers as JSON
- ``/set-cookie``: sets a cookie; ``/cookies``: echoes the cookies sent
- any method on ``/echo``: echoes method, path, headers and body as JSON
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["LocalOrigin", "main", "run_demo"]


class _Handler(BaseHTTPRequestHandler):
    server: _OriginServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, Nagle's algorithm holds the
    # body back until the client's delayed ACK, adding ~40 ms to every response.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the origin is a test fixture."""

    def _send(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        content_type: str = "application/octet-stream",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def _json(self, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers, "application/json")

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _route(self) -> None:
        # Read the body whatever the route, so it cannot be mistaken for the next request
        # on a kept-alive connection.
        body = self._body()
        parts = urlsplit(self.path)
        path = parts.path
        self.server.hits[path] += 1
        segments = [s for s in path.split("/") if s]
        head, arg = [*segments, "", ""][:2]
        if head == "bytes":
            size = int(arg or 1024)
            body = (b"0123456789abcdef" * (size // 16 + 1))[:size]
            self._send(200, body, {"Cache-Control": "max-age=60", "ETag": f'"bytes-{size}"'})
        elif head == "json":
            self._json({"path": path, "args": dict(parse_qsl(parts.query))})
        elif head == "etag":
            etag = f'"{arg or "v1"}"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, headers={"ETag": etag})
            else:
                self._json({"etag": etag}, headers={"ETag": etag})
        elif head == "cache":
            self._json({"max_age": arg}, headers={"Cache-Control": f"max-age={arg or 60}"})
        elif head == "no-store":
            self._json({"no_store": True}, headers={"Cache-Control": "no-store"})
        elif head == "redirect":
            remaining = int(arg or 1)
            target = f"/redirect/{remaining - 1}" if remaining > 1 else "/json"
            self._send(302, headers={"Location": target})
        elif head == "status":
            self._json({"status": int(arg)}, status=int(arg))
        elif head == "slow":
            time.sleep(int(arg or 100) / 1000)
            self._json({"slept_ms": int(arg or 100)})
        elif head == "headers":
            self._json({"headers": dict(self.headers.items())})
        elif head == "set-cookie":
            self._json({"set": True}, headers={"Set-Cookie": "flavour=oatmeal; Path=/"})
        elif head == "cookies":
            self._json({"cookie": self.headers.get("Cookie", "")})
        elif head == "echo":
            self._json(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "body": body.decode("utf-8", "replace"),
                }
            )
        else:
            self._json({"error": "not found", "path": path}, status=404)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _route


class _OriginServer(ThreadingHTTPServer):
    daemon_threads = True
    hits: Counter[str]


class LocalOrigin:
    """A threaded HTTP origin on ``127.0.0.1`` and a free port, for demos and tests.

    >>> with LocalOrigin() as origin:  # doctest: +SKIP
    ...     requests.get(origin.url("/json"))
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _OriginServer((host, port), _Handler)
        self._server.hits = Counter()
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str = "/") -> str:
        """Return the absolute URL of ``path`` on this origin."""
        return self.base_url + path

    @property
    def hits(self) -> Counter[str]:
        """Requests received, by path."""
        return self._server.hits

    def start(self) -> LocalOrigin:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalOrigin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def _timed() -> Iterator[list[float]]:
    elapsed: list[float] = []
    start = time.perf_counter()
    yield elapsed
    elapsed.append(time.perf_counter() - start)


def _new_cache_path(cache_name: str) -> Path:
    """The SQLite file ``CachedSession(cache_name)`` would use; it must not exist yet, so
    that the demo can never change a cache someone made."""
    path = Path(cache_name).expanduser()
    path = path if path.suffix else path.with_suffix(".sqlite")
    if path.exists():
        raise FileExistsError(
            f"{str(path)!r} already exists: the demo only writes a new cache; give a name "
            "that does not exist yet, or none for a temporary cache"
        )
    return path


def _fetch(path: Path, requests_count: int) -> list[tuple[bool, float]]:
    from .session import CachedSession

    results: list[tuple[bool, float]] = []
    with LocalOrigin() as origin, CachedSession(str(path), expire_after=300) as session:
        url = origin.url("/slow/200")
        print(f"Origin: {url} (answers after 200 ms)")
        for number in range(1, requests_count + 1):
            with _timed() as elapsed:
                response = session.get(url)
            state = "hit " if response.from_cache else "miss"
            print(
                f"  request {number}: {state} {elapsed[0] * 1000:8.2f} ms  "
                f"status={response.status_code} expires={response.expires:%H:%M:%S}"
            )
            results.append((response.from_cache, elapsed[0]))
        print(
            f"Origin was called {origin.hits['/slow/200']} time(s) for {requests_count} requests."
        )
    return results


def run_demo(cache_name: str | None = None, requests_count: int = 3) -> list[tuple[bool, float]]:
    """Fetch one URL ``requests_count`` times through a new SQLite cache; print and return
    ``(from_cache, seconds)`` for each fetch.

    The cache is ``cache_name`` (``NAME`` is ``NAME.sqlite``), which must not exist yet
    (:class:`FileExistsError`, and nothing is touched), and is kept; without a name, it is
    a temporary file, removed at the end.
    """
    if cache_name is not None:
        path = _new_cache_path(cache_name)
        print(f"Cache: SQLite file {path} (new; kept)")
        return _fetch(path, requests_count)
    with tempfile.TemporaryDirectory(prefix="requests-cache-like-demo-") as directory:
        path = Path(directory) / "demo_cache.sqlite"
        print(f"Cache: SQLite file {path} (temporary; removed at the end)")
        return _fetch(path, requests_count)


def main() -> None:
    """Entry point for ``python -m requests_cache_like demo``: a temporary cache."""
    run_demo()
