"""Fixtures and helpers shared by the command-line tests (test_cli_*.py); no tests here.

``target`` is a cache on each backend the command line is proven on: a SQLite file (named
without its ``.sqlite``, as ``CachedSession("name")`` names it), a filesystem directory,
and a Redis namespace on a real redis-server (``redis_url``: spawned on a free loopback
port), given to the commands as ``redis://...`` with ``--cache-name``.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from attrs import define, field
from click.testing import CliRunner, Result

from requests_cache_like import CachedSession
from requests_cache_like.cli._app import cli
from requests_cache_like.cli._output import PROG

CACHE_KINDS = ["sqlite", "filesystem", "redis"]


def invoke(*args: str, input: str | None = None) -> Result:
    """Run the command line in this process, stdout and stderr kept apart."""
    options: dict[str, Any] = {}
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
        options["mix_stderr"] = False  # click 8.1; 8.2 keeps them apart always
    runner = CliRunner(**options)
    return runner.invoke(cli, list(args), input=input, prog_name=PROG, catch_exceptions=False)


def assert_one_line_error(result: Result, code: int, *fragments: str) -> None:
    """The command failed with ``code`` and one line on stderr naming ``fragments``."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{PROG}: error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@define
class Target:
    """A cache as the command line names it (``args``) and as a session opens it."""

    kind: str
    args: list[str]
    options: dict[str, Any]
    sessions: list[CachedSession] = field(factory=list)

    @property
    def new_args(self) -> list[str]:
        """The cache as ``import`` names one to make: a filesystem cache's path ends in /."""
        if self.kind == "filesystem":
            return [self.args[0] + "/", *self.args[1:]]
        return self.args

    def session(self, **kwargs: Any) -> CachedSession:
        """A session on this cache (closed at the end of the test)."""
        session = CachedSession(**{**self.options, **kwargs})
        self.sessions.append(session)
        return session

    def fill(self, *urls: str, **kwargs: Any) -> None:
        """Fetch ``urls`` into the cache through a session made with ``kwargs``."""
        with CachedSession(**{**self.options, **kwargs}) as session:
            for url in urls:
                assert session.get(url).from_cache is False

    def hits(self, *urls: str, **kwargs: Any) -> list[bool]:
        """Whether a session made with ``kwargs`` answers each URL from the cache."""
        with CachedSession(**{**self.options, **kwargs}) as session:
            return [session.get(url).from_cache for url in urls]


def make_target(kind: str, request: pytest.FixtureRequest, tmp_path: Path, name: str) -> Target:
    """A :class:`Target` of ``kind`` (``sqlite``, ``filesystem`` or ``redis``) named ``name``."""
    if kind == "sqlite":
        path = str(tmp_path / name)  # the library writes NAME.sqlite; the CLI finds it
        return Target(kind, [path], {"cache_name": path, "backend": "sqlite"})
    if kind == "filesystem":
        path = str(tmp_path / name)
        return Target(kind, [path], {"cache_name": path, "backend": "filesystem"})
    url = request.getfixturevalue("redis_url")
    return Target(kind, [url, "--cache-name", name], {"cache_name": name, "backend": url})


def _forget(target: Target) -> None:
    for session in target.sessions:
        session.close()
    if target.kind == "redis":
        import redis

        client = redis.Redis.from_url(target.args[0])
        for key in client.scan_iter(match=f"{target.options['cache_name']}:*"):
            client.delete(key)
        client.close()


@pytest.fixture(params=CACHE_KINDS)
def target(request: pytest.FixtureRequest, tmp_path: Path, unique_name: str) -> Iterator[Target]:
    """An empty cache on each of SQLite, filesystem and Redis in turn."""
    made = make_target(str(request.param), request, tmp_path, unique_name)
    yield made
    _forget(made)


@pytest.fixture
def other_target(
    request: pytest.FixtureRequest, tmp_path: Path, unique_name: str, target: Target
) -> Iterator[Target]:
    """An empty cache on another backend than ``target``'s (SQLite → Redis → filesystem)."""
    kind = CACHE_KINDS[(CACHE_KINDS.index(target.kind) + 1) % len(CACHE_KINDS)]
    made = make_target(kind, request, tmp_path, unique_name + "_other")
    yield made
    _forget(made)
