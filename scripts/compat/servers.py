"""Real servers on 127.0.0.1 for requests-cache's integration tests.

Started the way our own tests start them (tests/servers.py): Debian's ``redis-server``, SecantusDB
(MongoDB wire protocol, in this process), moto's threaded DynamoDB server, and httpbin served by
werkzeug in a thread. requests-cache's tests connect to the client libraries' default addresses
(``localhost:6379``, ``localhost:27017``, ``http://localhost:8000``) with no way to configure them,
so those three must be on their default ports; httpbin is found through ``HTTPBIN_URL`` and gets
a free port.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from typing import Any

_START_TIMEOUT = 20.0


class ServerError(RuntimeError):
    """A server could not be started: the harness cannot measure the integration tests."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_free(port: int, what: str) -> None:
    """Fail unless ``port`` can be bound on 127.0.0.1 (and nothing answers on localhost)."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise ServerError(f"port {port} ({what}) is already in use on 127.0.0.1")
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ServerError(f"port {port} ({what}) cannot be bound: {exc}") from exc


def wait_for_port(port: int, what: str, timeout: float = _START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise ServerError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


class Server:
    """Base: a named server with ``start``/``stop`` and the environment it contributes."""

    name = "server"

    def __init__(self, port: int) -> None:
        self.port = port

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return {}

    def describe(self) -> str:
        return f"{self.name} on 127.0.0.1:{self.port}"


class RedisServer(Server):
    name = "redis-server"

    def __init__(self, port: int = 6379) -> None:
        super().__init__(port)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if shutil.which("redis-server") is None:
            raise ServerError("redis-server is not installed (Debian package redis-server)")
        require_free(self.port, self.name)
        args = [
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
            "warning",
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(self.port, self.name)
        except ServerError:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None


class SecantusServer(Server):
    """SecantusDB (MongoDB wire protocol) in this process, data in memory, 1 s TTL sweep."""

    name = "SecantusDB (MongoDB)"

    def __init__(self, port: int = 27017) -> None:
        super().__init__(port)
        self.server: Any = None

    def start(self) -> None:
        try:
            import secantus
        except ImportError as exc:
            raise ServerError("SecantusDB is not installed (SecantusDB==0.7.0b3)") from exc
        require_free(self.port, self.name)
        self.server = secantus.SecantusDBServer(
            host="127.0.0.1", port=self.port, storage_path=":memory:", ttl_sweep_seconds=1
        )
        self.server.start()
        wait_for_port(self.port, self.name)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


class MotoServer(Server):
    name = "moto (DynamoDB)"

    def __init__(self, port: int = 8000) -> None:
        super().__init__(port)
        self.server: Any = None

    def start(self) -> None:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as exc:
            raise ServerError("moto's server is not installed (moto[dynamodb,server])") from exc
        require_free(self.port, self.name)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        wait_for_port(self.port, self.name)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def env(self) -> dict[str, str]:
        # boto3 must never look for real credentials or a real region
        return {
            "AWS_ACCESS_KEY_ID": "placeholder",
            "AWS_SECRET_ACCESS_KEY": "placeholder",
            "AWS_DEFAULT_REGION": "us-east-1",
        }


class HttpbinServer(Server):
    """httpbin's WSGI app under werkzeug's threaded server, in this process."""

    name = "httpbin"

    def __init__(self, port: int | None = None) -> None:
        super().__init__(port or free_port())
        self.server: Any = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        try:
            from httpbin import app
            from werkzeug.serving import WSGIRequestHandler, make_server
        except ImportError as exc:
            raise ServerError("httpbin is not installed (see requirements.txt)") from exc

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                pass

        self.server = make_server(
            "127.0.0.1", self.port, app, threaded=True, request_handler=QuietHandler
        )
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        wait_for_port(self.port, self.name)

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if self.thread is not None:
            self.thread.join(timeout=10)
            self.thread = None

    def env(self) -> dict[str, str]:
        return {"HTTPBIN_URL": f"http://127.0.0.1:{self.port}"}


def start_all() -> list[Server]:
    """Start every server, or stop the ones started and raise ServerError."""
    started: list[Server] = []
    try:
        for server in (RedisServer(), SecantusServer(), MotoServer(), HttpbinServer()):
            server.start()
            started.append(server)
    except BaseException:
        stop_all(started)
        raise
    return started


def stop_all(servers: list[Server]) -> None:
    for server in reversed(servers):
        try:
            server.stop()
        except Exception as exc:  # a failed stop must not hide the results
            print(f"warning: stopping {server.name} failed: {exc}")


def server_env(servers: list[Server]) -> dict[str, str]:
    env: dict[str, str] = {}
    for server in servers:
        env.update(server.env())
    return env


def assert_reachable(servers: list[Server]) -> None:
    """Each server still accepts TCP connections (checked again after the run)."""
    for server in servers:
        wait_for_port(server.port, server.name, timeout=2)


__all__ = ["ServerError", "server_env", "start_all", "stop_all"]
