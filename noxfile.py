"""Developer sessions: ``nox -s lint typecheck tests`` is what CI runs; ``nox -s bench``
measures."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.default_venv_backend = "venv"

LINT_PATHS = [
    p
    for p in ("requests_cache_like", "tests", "examples", "benchmarks", "scripts", "noxfile.py")
    if Path(p).exists()
]


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite with coverage."""
    # SecantusDB speaks the MongoDB protocol for the tests; it is GPL, so it is installed
    # here for testing only and is never a dependency of the package.
    session.install("-e", ".[test]", "SecantusDB==0.7.0b3")
    session.run(
        "pytest",
        "--cov=requests_cache_like",
        "--cov-report=term",
        "--cov-fail-under=85",
        *session.posargs,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", *LINT_PATHS)
    session.run("ruff", "format", "--check", *LINT_PATHS)


@nox.session
def typecheck(session: nox.Session) -> None:
    """Type-check the package with mypy --strict."""
    session.install(
        "-e", ".[json,msgpack,yaml,zstd,security]", "mypy>=1.10", "types-requests", "types-PyYAML"
    )
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmark hits and misses against requests-cache 1.3.3 and plain requests; the results
    table is written into docs/performance.md. The Redis cases use REDIS_URL, or start
    redis-server (Debian package) on a free loopback port; both libraries need ``redis``."""
    session.install("-e", ".[json]", "requests-cache==1.3.3", "redis")
    session.run("python", "benchmarks/bench.py", "--write-docs", *session.posargs)


@nox.session
def compat(session: nox.Session) -> None:
    """Run requests-cache 1.3.3's own test suite against this package through an import alias,
    with real local servers, and classify the results (report in ~/.cache/rcl-compat/report/;
    see scripts/compat/run_suite.py). Not part of the default sessions: it downloads the suite."""
    session.install("-e", ".[test]", "SecantusDB==0.7.0b3", "-r", "scripts/compat/requirements.txt")
    session.run("python", "scripts/compat/run_suite.py", *session.posargs)
