"""Shared fixtures: a local origin server, cache paths, and sessions on every embedded backend.

Under ``CI=true`` a skipped test fails the run: CI must prove everything it claims.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from requests_cache_like import CachedSession
from requests_cache_like.demo import LocalOrigin

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
EMBEDDED_BACKENDS = ["memory", "sqlite"]


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
