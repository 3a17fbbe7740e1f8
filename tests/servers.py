"""Real servers for backend tests, each on a free loopback port, started by the tests.

- Redis: Debian's ``redis-server`` (no persistence), or ``REDIS_URL``.
- MongoDB wire protocol and GridFS: SecantusDB (test-only, GPL), or ``MONGODB_URL``.
- DynamoDB: moto's threaded server, or ``DYNAMODB_ENDPOINT_URL``.

Each starter returns None with a reason when the server cannot be had; the fixtures in
conftest.py turn that into a skip locally and a failure under ``CI=true``.
"""

from __future__ import annotations

import os
import selectors
import shutil
import socket
import subprocess
import time
from typing import Any

__all__ = ["MotoServer", "RedisServer", "SecantusServer", "free_port"]

_START_TIMEOUT = 20.0


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A ``redis-server`` child process on 127.0.0.1 that a test can stop and start again."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @staticmethod
    def available() -> str | None:
        """None if redis-server can be started, else why not."""
        if shutil.which("redis-server") is None:
            return "redis-server is not installed (Debian package redis-server)"
        return None

    def start(self) -> RedisServer:
        """Start the server and return once it says it accepts connections."""
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
                "--loglevel",
                "notice",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert self.process.stdout is not None
        # Wait for the server's own "ready" line, reading the descriptor directly: a line
        # already pulled into a Python buffer would never wake a select() on it.
        descriptor = self.process.stdout.fileno()
        output = b""
        deadline = time.monotonic() + _START_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(descriptor, selectors.EVENT_READ)
            while b"Ready to accept connections" not in output:
                remaining = deadline - time.monotonic()
                ready = remaining > 0 and selector.select(remaining)
                chunk = os.read(descriptor, 4096) if ready else b""
                if not chunk:
                    self.stop()
                    raise RuntimeError(f"redis-server did not start: {output[-2000:]!r}")
                output += chunk
        # Redis ignores SIGPIPE, so closing our end now cannot stall or kill it.
        self.process.stdout.close()
        return self

    def stop(self) -> None:
        """Stop the server (its data is gone: there is no persistence)."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            if self.process.stdout is not None and not self.process.stdout.closed:
                self.process.stdout.close()
            self.process = None


class SecantusServer:
    """SecantusDB (MongoDB wire protocol) in this process, data in memory, 1 s TTL sweep."""

    def __init__(self) -> None:
        self.server: Any = None

    @staticmethod
    def available() -> str | None:
        try:
            import secantus  # noqa: F401
        except ImportError:
            return "SecantusDB is not installed (pip install SecantusDB==0.7.0b3)"
        return None

    def start(self) -> SecantusServer:
        import secantus

        self.server = secantus.SecantusDBServer(
            host="127.0.0.1", port=0, storage_path=":memory:", ttl_sweep_seconds=1
        )
        self.server.start()
        return self

    @property
    def url(self) -> str:
        host, port = self.server.address[:2]
        return f"mongodb://{host}:{port}/"

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


class MotoServer:
    """moto's threaded DynamoDB-compatible server on 127.0.0.1."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server: Any = None

    @staticmethod
    def available() -> str | None:
        try:
            from moto.server import ThreadedMotoServer  # noqa: F401
        except ImportError:
            return "moto's server is not installed (pip install 'moto[dynamodb,server]')"
        return None

    def start(self) -> MotoServer:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


def env_url(name: str) -> str | None:
    """An externally provided server URL (e.g. a CI service), if set."""
    return os.environ.get(name) or None
