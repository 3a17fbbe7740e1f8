"""Developer sessions: ``nox -s lint typecheck tests docs`` is what CI runs; ``nox -s bench``
measures."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "docs"]
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
        "-e",
        ".[json,msgpack,yaml,zstd,security,cli]",
        "mypy>=1.10",
        "types-requests",
        "types-PyYAML",
    )
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/: the pages in docs/ and an API reference from
    the docstrings (mkdocs.yml). Strict: a broken link, anchor or docstring fails the build."""
    # mkdocstrings reads the package's source statically: the package itself is not installed.
    # ruff formats the signatures in the API reference.
    session.install(
        "mkdocs>=1.6",
        "mkdocs-material>=9.5",
        "mkdocstrings[python]>=0.30",
        "mkdocstrings-python>=2.0",
        "ruff>=0.6",
    )
    session.run("mkdocs", "build", "--strict", env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmark misses, hits, threads, hit floors and streaming memory against
    requests-cache, CacheControl and hishel (the versions PINNED in benchmarks/_libraries.py)
    and plain requests; the tables are written into docs/performance.md. The Redis cases use
    REDIS_URL, or start redis-server (Debian package) on a free loopback port. Arguments after
    ``--`` go to the script (``--quick``, ``--only hits,floors``...); ``--write-docs`` is
    left out when ``--only`` is given, since it rewrites every section."""
    session.install(
        "-e",
        ".[json]",
        "requests-cache==1.3.3",
        "CacheControl[filecache,redis]==0.14.4",
        "hishel[requests,redis]==2.0.0",
        "redis",
    )
    write = [] if any(arg.startswith("--only") for arg in session.posargs) else ["--write-docs"]
    session.run("python", "benchmarks/bench.py", *write, *session.posargs)


@nox.session
def compat(session: nox.Session) -> None:
    """Run requests-cache 1.3.3's own test suite against this package through an import alias,
    with real local servers, and classify the results (report in ~/.cache/rcl-compat/report/;
    see scripts/compat/run_suite.py). Not part of the default sessions: it downloads the suite."""
    session.install("-e", ".[test]", "SecantusDB==0.7.0b3", "-r", "scripts/compat/requirements.txt")
    session.run("python", "scripts/compat/run_suite.py", *session.posargs)
