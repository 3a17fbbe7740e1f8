"""The servers the benchmarks talk to: a local HTTP origin and a Redis server.

:class:`BenchOrigin` is a threaded HTTP/1.1 server on 127.0.0.1 with two routes, each
answered with ``Cache-Control: max-age=300`` and an ``ETag``, so that every library stores
the response (CacheControl and hishel follow the headers; ours and requests-cache are also
given ``expire_after=300``):

- ``/bytes/N``: N bytes (the query string is ignored, so ``?i=1``, ``?i=2``... are new URLs
  with the same body);
- ``/stream/N``: N bytes written one MiB at a time from a single 1 MiB block, so that the
  origin never holds the body: what a streamed download costs is the client's alone.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import multiprocessing
import os
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from ._common import MAX_AGE, BenchmarkError

__all__ = [
    "STREAM_CHUNK",
    "BenchOrigin",
    "redis_server",
    "redis_server_version",
    "redis_unavailable",
    "stream_checksum",
    "stream_chunks",
]

#: The streamed body is written in chunks of this size.
STREAM_CHUNK = 1024 * 1024
#: The block every streamed chunk is cut from: random bytes, so no storage can shrink them.
_STREAM_BLOCK = random.Random(11).randbytes(STREAM_CHUNK)
#: The route that answers the origin's counts of requests (never counted itself).
HITS_PATH = "/__hits__"
#: Seconds to wait for a redis-server started here to answer PING.
REDIS_START_TIMEOUT = 15.0


def stream_chunks(size: int) -> Iterator[bytes]:
    """The body of ``/stream/{size}``, chunk by chunk."""
    whole, rest = divmod(size, STREAM_CHUNK)
    for _ in range(whole):
        yield _STREAM_BLOCK
    if rest:
        yield _STREAM_BLOCK[:rest]


def stream_checksum(size: int) -> int:
    """The CRC-32 of the body of ``/stream/{size}``."""
    crc = 0
    for chunk in stream_chunks(size):
        crc = zlib.crc32(chunk, crc)
    return crc


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, Nagle's algorithm holds the
    # body back until the client's delayed ACK (about 40 ms on Linux), hiding every real cost.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""

    def _headers(self, size: int, etag: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Cache-Control", f"max-age={MAX_AGE}")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(size))
        self.end_headers()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == HITS_PATH:  # the counts, for the parent when the origin is a process
            body = json.dumps(self.server.hits).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.server.count(path)
        head, _, arg = path.strip("/").partition("/")
        if head not in ("bytes", "stream") or not arg.isdigit():
            body = b"not found"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        size = int(arg)
        self._headers(size, f'"{head}-{size}"')
        try:
            if head == "bytes":
                self.wfile.write(_bytes_body(size))
            else:
                for chunk in stream_chunks(size):
                    self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped reading: nothing to answer


def _bytes_body(size: int) -> bytes:
    return (b"0123456789abcdef" * (size // 16 + 1))[:size]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count(self, path: str) -> None:
        with self._lock:
            self.hits[path] += 1


class BenchOrigin:
    """The benchmark origin, serving while entered, in a process of its own (forked), so
    that its Python code never competes with the client's for the GIL and a library's
    measured cost is its own.

    >>> with BenchOrigin() as origin:  # doctest: +SKIP
    ...     requests.get(origin.url("/bytes/1024"))
    """

    def __init__(self) -> None:
        self._server = _Server()
        self._process: multiprocessing.process.BaseProcess | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this origin."""
        return self.base_url + path

    @property
    def hits(self) -> Counter[str]:
        """Requests received, by path (query strings left out), as the origin counts them."""
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(self.url(HITS_PATH), timeout=10) as answer:
            return Counter(json.loads(answer.read()))

    def __enter__(self) -> BenchOrigin:
        context = multiprocessing.get_context("fork")
        self._process = context.Process(target=self._server.serve_forever, daemon=True)
        self._process.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(10)
            self._process = None
        self._server.server_close()


def redis_unavailable() -> str | None:
    """None if the Redis cases can run here, else why not."""
    if importlib.util.find_spec("redis") is None:
        return "the 'redis' package is not installed"
    if not os.environ.get("REDIS_URL") and shutil.which("redis-server") is None:
        return "REDIS_URL is not set and redis-server is not installed"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server() -> Iterator[str]:
    """The URL of a Redis server: ``REDIS_URL`` when set, else a ``redis-server`` started
    here on a free loopback port, without persistence, and stopped on exit."""
    external = os.environ.get("REDIS_URL")
    if external:
        yield external
        return
    port = _free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [
                "redis-server",
                *("--port", str(port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--loglevel", "warning"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + REDIS_START_TIMEOUT
            while not _answers_ping(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    _stop(process)
                    log.seek(0)
                    output = log.read().decode(errors="replace").strip()
                    raise BenchmarkError(f"redis-server on port {port} did not start: {output}")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def redis_server_version(url: str) -> str | None:
    """The version the Redis server at ``url`` reports, or None if it cannot be read."""
    redis = importlib.import_module("redis")
    try:
        client = redis.Redis.from_url(url, socket_timeout=5)
        try:
            return str(client.info("server")["redis_version"])
        finally:
            client.close()
    except (redis.RedisError, KeyError):
        return None
