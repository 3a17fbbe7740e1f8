"""Shared fixtures: a local origin server, cache paths, and sessions on every embedded backend.

Under ``CI=true`` a skipped test fails the run: CI must prove everything it claims.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from requests_cache_like import CachedSession
from requests_cache_like.demo import LocalOrigin

from .servers import MotoServer, RedisServer, SecantusServer, env_url

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
EMBEDDED_BACKENDS = ["memory", "sqlite"]
SERVER_BACKENDS = ["redis", "mongodb", "gridfs", "dynamodb"]
ALL_BACKENDS = ["memory", "sqlite", "filesystem", *SERVER_BACKENDS]
# Never let boto3 look for credentials on a cloud metadata address: tests stay on loopback.
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
DYNAMODB_CLIENT_OPTIONS = {
    "region_name": "us-east-1",
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
}


def require(condition: bool, reason: str) -> None:
    """Skip (locally) or fail (under CI) when ``condition`` does not hold."""
    if not condition:
        if IN_CI:
            pytest.fail(f"required under CI: {reason}")
        pytest.skip(reason)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if IN_CI and skipped:
        terminalreporter.write_line(
            f"CI=true: {len(skipped)} test(s) skipped; a skip under CI is a failure", red=True
        )


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if IN_CI and reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = 1


@pytest.fixture(scope="session")
def origin() -> Iterator[LocalOrigin]:
    """A threaded HTTP origin on 127.0.0.1 (see requests_cache_like.demo for its routes)."""
    with LocalOrigin() as server:
        yield server


@pytest.fixture
def cache_path(tmp_path: Path) -> str:
    """A fresh SQLite cache path in the test's temporary directory."""
    return str(tmp_path / "http_cache.sqlite")


@pytest.fixture(params=EMBEDDED_BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    """Each embedded backend in turn."""
    return str(request.param)


@pytest.fixture
def make_session(cache_path: str, backend_name: str) -> Iterator[Callable[..., CachedSession]]:
    """Factory for CachedSessions on the parametrised backend; all are closed afterwards."""
    sessions: list[CachedSession] = []

    def factory(**kwargs: Any) -> CachedSession:
        kwargs.setdefault("backend", backend_name)
        session = CachedSession(cache_path, **kwargs)
        sessions.append(session)
        return session

    yield factory
    for session in sessions:
        session.close()


@pytest.fixture
def session(make_session: Callable[..., CachedSession]) -> CachedSession:
    """A CachedSession with default settings on the parametrised backend."""
    return make_session()


# -- real servers ---------------------------------------------------------------------------
def _server(env: str, server_class: Any) -> Iterator[str]:
    external = env_url(env)
    if external:
        yield external
        return
    reason = server_class.available()
    require(reason is None, str(reason))
    server = server_class().start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a Redis server for the test session (REDIS_URL, or redis-server spawned)."""
    yield from _server("REDIS_URL", RedisServer)


@pytest.fixture(scope="session")
def mongodb_url() -> Iterator[str]:
    """URL of a MongoDB-protocol server (MONGODB_URL, or SecantusDB in memory)."""
    yield from _server("MONGODB_URL", SecantusServer)


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    """Endpoint of a DynamoDB-compatible server (DYNAMODB_ENDPOINT_URL, or moto)."""
    yield from _server("DYNAMODB_ENDPOINT_URL", MotoServer)


@pytest.fixture
def redis_session(
    request: pytest.FixtureRequest, tmp_path: Path, unique_name: str
) -> Iterator[CachedSession]:
    """A CachedSession on the test Redis server, in a namespace of its own."""
    cached = CachedSession(**backend_options("redis", request, tmp_path, unique_name))
    yield cached
    cached.close()


@pytest.fixture
def unique_name() -> str:
    """A name no other test uses: a Redis namespace, database, table or directory."""
    return "t" + uuid.uuid4().hex[:12]


def backend_options(
    name: str, request: pytest.FixtureRequest, tmp_path: Path, unique: str
) -> dict[str, Any]:
    """CachedSession keyword arguments selecting backend ``name``, isolated per test.

    Server fixtures are requested only for the backend that needs them, so a test on the
    embedded backends never waits for a server.
    """
    if name == "memory":
        return {"cache_name": unique, "backend": "memory"}
    if name == "sqlite":
        return {"cache_name": str(tmp_path / f"{unique}.sqlite"), "backend": "sqlite"}
    if name == "filesystem":
        return {"cache_name": str(tmp_path / unique), "backend": "filesystem"}
    if name == "redis":
        return {"cache_name": unique, "backend": request.getfixturevalue("redis_url")}
    if name in ("mongodb", "gridfs"):
        url = request.getfixturevalue("mongodb_url").rstrip("/") + f"/{unique}"
        return {"cache_name": unique, "backend": url + ("?gridfs=true" if name == "gridfs" else "")}
    if name == "dynamodb":
        endpoint = request.getfixturevalue("dynamodb_endpoint")
        return {
            "cache_name": unique,
            "backend": "dynamodb",
            "endpoint_url": endpoint,
            **DYNAMODB_CLIENT_OPTIONS,
        }
    raise ValueError(f"unknown backend {name!r}")


@pytest.fixture(params=ALL_BACKENDS)
def any_backend(request: pytest.FixtureRequest) -> str:
    """Each of the seven backends in turn."""
    return str(request.param)


@pytest.fixture
def make_any_session(
    any_backend: str, request: pytest.FixtureRequest, tmp_path: Path, unique_name: str
) -> Iterator[Callable[..., CachedSession]]:
    """Factory for CachedSessions on the parametrised backend (all seven); sessions made by
    one test share its storage, and are closed afterwards."""
    sessions: list[CachedSession] = []
    options = backend_options(any_backend, request, tmp_path, unique_name)

    def factory(**kwargs: Any) -> CachedSession:
        session = CachedSession(**{**options, **kwargs})
        sessions.append(session)
        return session

    yield factory
    for session in sessions:
        session.cache.clear()
        session.close()
