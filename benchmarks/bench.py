"""Benchmark cache hits and misses: requests_cache_like against requests-cache 1.3.3.

Everything runs in one process against one local origin
(:class:`requests_cache_like.demo.LocalOrigin`, route ``/bytes/1024``: a 1 KB body):

- ``requests``: plain ``requests.Session().get``, a real HTTP round trip on the loopback;
- a *hit*: the same URL again and again, after one miss has stored it;
- a *miss+store*: a new URL on every call (``/bytes/1024?i=N``), fetched and stored.

Hits and misses are measured for both libraries on the memory, SQLite, Redis and filesystem
backends, each session built with ``expire_after=300`` so that both store the response.
Hits are also measured in *standards mode* on memory and SQLite: ``cache_control=True`` and no
``expire_after``, so that freshness comes from the response's ``Cache-Control: max-age=60``
(our session then acts as an RFC 9111 private cache; requests-cache is given the same
arguments). As ``max-age=60`` is shorter than a run, those cases store their URL afresh,
untimed, before each round. Our hits are also measured on a bounded cache
(``max_size="100MB"``, docs/limits.md) on memory and SQLite, which must be as fast. Redis
is the server named by ``REDIS_URL``, or a ``redis-server`` this script starts on a free
loopback port (no persistence) and stops at the end; without either, the Redis cases are left
out. A call is
``session.get(url)`` followed by reading ``.content``, timed alone with
``time.perf_counter_ns``. After a warm-up, the cases take turns round after round (the order
rotates) so that a noisy moment on a shared machine falls on every library, not on one. The
figure reported is the median time per call over all rounds.

Usage (from the repository root)::

    python benchmarks/bench.py                  # a minute and a half; prints the tables
    python benchmarks/bench.py --quick          # about twenty seconds
    python benchmarks/bench.py --write-docs     # also rewrites the results in docs/performance.md
    python benchmarks/bench.py --json out.json  # also saves the raw numbers

``nox -s bench`` installs requests-cache 1.3.3 (and ``redis``) and runs ``--write-docs``.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

from requests_cache_like import CachedSession
from requests_cache_like.demo import LocalOrigin

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS_PATH = REPO_ROOT / "docs" / "performance.md"
START_MARKER = "<!-- bench:start -->"
END_MARKER = "<!-- bench:end -->"

ROUTE = "/bytes/1024"
BODY_SIZE = 1024
#: Explicit expiration: both libraries store the response, whatever its headers say.
EXPIRE_AFTER = 300
#: The goal set for the hot path: hits at least this many times faster than requests-cache's.
TARGET_HIT_RATIO = 3.0
RC_VERSION = "1.3.3"

PLAIN = "requests"
OURS = "requests_cache_like"
RC = "requests-cache"
LIBRARIES = (PLAIN, OURS, RC)
BACKENDS = ("memory", "sqlite", "redis", "filesystem")
BACKEND_LABELS = {
    "memory": "memory",
    "sqlite": "SQLite",
    "redis": "Redis",
    "filesystem": "filesystem",
}
#: The backends the hit target is set for.
TARGET_BACKENDS = ("memory", "sqlite")
#: Standards mode: ``cache_control=True`` and no ``expire_after``; freshness from the headers.
CACHE_CONTROL = "cache_control"
#: The backends whose hits are also measured in standards mode.
CACHE_CONTROL_BACKENDS = ("memory", "sqlite")
#: A bounded cache (``max_size``, docs/limits.md): our hits, which must not get slower.
BOUNDED = "max_size"
BOUNDED_SIZE = "100MB"
BOUNDED_BACKENDS = ("memory", "sqlite")
#: Seconds to wait for a redis-server started here to answer PING.
REDIS_START_TIMEOUT = 15.0
TIMES = "\N{MULTIPLICATION SIGN}"
DASH = "\N{EN DASH}"
KIND_LABELS = {"request": "plain request", "hit": "hit", "miss": "miss+store"}


class BenchmarkError(RuntimeError):
    """A case did not behave as measured (a hit that missed, a wrong body...)."""


@dataclass(frozen=True)
class Case:
    """One thing to time: a library, what kind of call, on which backend, in which mode.

    ``mode`` is None for sessions built with ``expire_after=300``, or ``CACHE_CONTROL`` for
    standards mode (``cache_control=True``, no ``expire_after``).
    """

    library: str
    kind: str  # "request", "hit" or "miss"
    backend: str | None = None
    mode: str | None = None

    @property
    def name(self) -> str:
        """A label for tables, e.g. ``requests-cache hit (SQLite)`` or
        ``requests-cache hit (SQLite, cache_control)``."""
        if self.backend is None:
            return f"{self.library} {KIND_LABELS[self.kind]}"
        where = BACKEND_LABELS[self.backend] + (f", {self.mode}" if self.mode else "")
        return f"{self.library} {KIND_LABELS[self.kind]} ({where})"

    @property
    def slug(self) -> str:
        """A short identifier for file names and JSON keys, e.g. ``requests-cache-hit-sqlite``
        or ``requests-cache-hit-sqlite-cache-control``."""
        parts = [self.library.replace("_", "-"), self.kind]
        if self.backend:
            parts.append(self.backend)
        if self.mode:
            parts.append(self.mode.replace("_", "-"))
        return "-".join(parts)


@dataclass(frozen=True)
class Settings:
    """How much to measure.

    ``iterations`` calls per round for hit cases; ``miss_iterations`` for the cases where every
    call is a real round trip (plain requests and misses), which are much slower per call.
    """

    rounds: int
    iterations: int
    miss_iterations: int
    warmup: int

    def calls_for(self, case: Case) -> int:
        """Timed calls per round for ``case``."""
        return self.iterations if case.kind == "hit" else self.miss_iterations


DEFAULT_SETTINGS = Settings(rounds=10, iterations=1000, miss_iterations=150, warmup=50)
QUICK_SETTINGS = Settings(rounds=6, iterations=300, miss_iterations=60, warmup=20)


@dataclass
class CaseResult:
    """The timings of one case."""

    case: Case
    calls_per_round: int
    round_medians_us: list[float]
    median_us: float
    mean_us: float

    @property
    def calls(self) -> int:
        """Timed calls over all rounds."""
        return self.calls_per_round * len(self.round_medians_us)


@dataclass(frozen=True)
class Ratio:
    """``numerator median / denominator median``: how many times slower the numerator is."""

    label: str
    numerator: Case
    denominator: Case
    value: float | None


def requests_cache_available() -> bool:
    """True if requests-cache can be imported here."""
    return importlib.util.find_spec("requests_cache") is not None


def build_cases(
    libraries: Sequence[str] = LIBRARIES, backends: Sequence[str] = BACKENDS
) -> list[Case]:
    """All cases for the given libraries and backends, in a fixed order."""
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise ValueError(f"backends {sorted(unknown)}; accepted: {', '.join(BACKENDS)}")
    chosen = [backend for backend in BACKENDS if backend in backends]
    cases: list[Case] = []
    if PLAIN in libraries:
        cases.append(Case(PLAIN, "request"))
    for library in (OURS, RC):
        if library in libraries:
            cases.extend(
                Case(library, kind, backend) for kind in ("hit", "miss") for backend in chosen
            )
            cases.extend(
                Case(library, "hit", backend, CACHE_CONTROL)
                for backend in chosen
                if backend in CACHE_CONTROL_BACKENDS
            )
    if OURS in libraries:
        cases.extend(
            Case(OURS, "hit", backend, BOUNDED) for backend in chosen if backend in BOUNDED_BACKENDS
        )
    return cases


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


@contextmanager
def local_origin() -> Iterator[LocalOrigin]:
    """A started :class:`LocalOrigin` whose connections send without Nagle's delay.

    The origin writes the headers and the body of a response separately; with Nagle's
    algorithm on, the body waits for the client's delayed ACK (about 40 ms on Linux), which
    would hide every real cost. Setting ``TCP_NODELAY`` on the server side removes that wait.
    """
    origin = LocalOrigin()
    server = getattr(origin, "_server", None)
    handler = getattr(server, "RequestHandlerClass", None)
    if handler is not None and not getattr(handler, "disable_nagle_algorithm", True):
        # A subclass, so that the LocalOrigin used elsewhere in the process is left as it is.
        server.RequestHandlerClass = type(  # type: ignore[union-attr]
            handler.__name__, (handler,), {"disable_nagle_algorithm": True}
        )
    with origin:
        yield origin


def _open_session(case: Case, workdir: Path, redis_url: str | None = None) -> requests.Session:
    if case.library == PLAIN:
        return requests.Session()
    if case.library == OURS:
        session_class: Callable[..., requests.Session] = CachedSession
    else:
        session_class = importlib.import_module("requests_cache").CachedSession
    options: dict[str, Any] = {"backend": case.backend}
    if case.mode == BOUNDED:
        options["max_size"] = BOUNDED_SIZE
    if case.mode == CACHE_CONTROL:
        # No expire_after at all: giving one, even -1, would leave standards mode for ours.
        options["cache_control"] = True
    else:
        options["expire_after"] = EXPIRE_AFTER
    if case.backend == "sqlite":
        cache_name = str(workdir / f"{case.slug}.sqlite")
    elif case.backend == "filesystem":
        cache_name = str(workdir / case.slug)
    elif case.backend == "redis":
        if redis_url is None:
            raise BenchmarkError(f"{case.name}: no Redis server given")
        # A namespace of its own, so a shared REDIS_URL server holds nothing it could hit.
        cache_name = f"rcl-bench-{uuid.uuid4().hex[:8]}-{case.slug}"
        if case.library == OURS:
            options["backend"] = redis_url
        else:
            options["connection"] = importlib.import_module("redis").Redis.from_url(redis_url)
    else:
        cache_name = f"bench-{case.slug}"
    return session_class(cache_name, **options)


class _Runner:
    """Times the calls of one case, on its own session, and checks every answer."""

    def __init__(
        self, case: Case, base_url: str, workdir: Path, redis_url: str | None = None
    ) -> None:
        self.case = case
        self.url = base_url + ROUTE
        self.session = _open_session(case, workdir, redis_url)
        self.expect_from_cache = {"hit": True, "miss": False}.get(case.kind)
        # Our standards-mode hits carry an Age header; its absence would mean that the
        # session is not in standards mode and the case measures something else.
        self.expect_age = case.library == OURS and case.mode == CACHE_CONTROL
        self._counter = 0

    def _next_url(self) -> str:
        if self.case.kind != "miss":
            return self.url
        self._counter += 1
        return f"{self.url}?i={self._counter}"

    def _store(self) -> None:
        first = self.session.get(self.url)
        if getattr(first, "from_cache", True) or len(first.content) != BODY_SIZE:
            raise BenchmarkError(f"{self.case.name}: the warm-up call was not a fresh fetch")

    def warm_up(self, calls: int) -> None:
        """Store the hit URL (one miss), then run ``calls`` untimed calls."""
        if self.case.kind == "hit":
            self._store()
        self.run(calls)

    def before_round(self) -> None:
        """In standards mode, delete the stored hit URL and fetch it again (untimed).

        Freshness then comes from ``max-age=60``, less than a whole run: without this, the
        entry would go stale part-way and the hits would turn into round trips.
        """
        if self.case.kind == "hit" and self.case.mode == CACHE_CONTROL:
            self.session.cache.delete(urls=[self.url])  # type: ignore[attr-defined]
            self._store()

    def run(self, calls: int) -> list[int]:
        """Time ``calls`` calls; return each one's duration in nanoseconds."""
        get = self.session.get
        clock = time.perf_counter_ns
        expected = self.expect_from_cache
        expect_age = self.expect_age
        samples: list[int] = []
        for _ in range(calls):
            url = self._next_url()
            start = clock()
            response = get(url)
            body = response.content
            elapsed = clock() - start
            if response.status_code != 200 or len(body) != BODY_SIZE:
                raise BenchmarkError(f"{self.case.name}: {url} gave {response.status_code}")
            if expected is not None and getattr(response, "from_cache", None) is not expected:
                raise BenchmarkError(
                    f"{self.case.name}: {url} answered with from_cache="
                    f"{getattr(response, 'from_cache', None)}, expected {expected}"
                )
            if expect_age and "Age" not in response.headers:
                raise BenchmarkError(f"{self.case.name}: {url} answered without an Age header")
            samples.append(elapsed)
        return samples

    def close(self) -> None:
        if self.case.backend == "redis":
            self.session.cache.clear()  # type: ignore[attr-defined]
        self.session.close()


def measure(
    base_url: str,
    cases: Sequence[Case],
    settings: Settings,
    workdir: Path,
    progress: Callable[[str], None] | None = None,
    redis_url: str | None = None,
) -> list[CaseResult]:
    """Warm up every case, then time them in rotating order, round after round.

    SQLite and filesystem caches are made in ``workdir``; Redis cases need ``redis_url``.
    """
    if settings.rounds < 1 or settings.iterations < 1 or settings.miss_iterations < 1:
        raise ValueError(f"{settings!r}: rounds and iterations must be at least 1")
    samples: dict[Case, list[int]] = {case: [] for case in cases}
    round_medians: dict[Case, list[float]] = {case: [] for case in cases}
    with ExitStack() as stack:
        runners: list[_Runner] = []
        for case in cases:
            runner = _Runner(case, base_url, workdir, redis_url)
            stack.callback(runner.close)
            runners.append(runner)
        for runner in runners:
            runner.warm_up(settings.warmup)
        for number in range(settings.rounds):
            if progress is not None:
                progress(f"round {number + 1}/{settings.rounds}")
            shift = number % len(runners)
            for runner in runners[shift:] + runners[:shift]:
                runner.before_round()
                gc.collect()
                got = runner.run(settings.calls_for(runner.case))
                samples[runner.case].extend(got)
                round_medians[runner.case].append(statistics.median(got) / 1000)
    return [
        CaseResult(
            case=case,
            calls_per_round=settings.calls_for(case),
            round_medians_us=round_medians[case],
            median_us=statistics.median(samples[case]) / 1000,
            mean_us=statistics.fmean(samples[case]) / 1000,
        )
        for case in cases
    ]


def compute_ratios(results: Sequence[CaseResult]) -> list[Ratio]:
    """The comparisons that matter, from the medians (None where a case was not measured)."""
    medians = {result.case: result.median_us for result in results}
    plain = Case(PLAIN, "request")
    pairs: list[tuple[str, Case, Case]] = []
    for backend in BACKENDS:
        if Case(OURS, "hit", backend) not in medians:
            continue
        label = BACKEND_LABELS[backend]
        ours_hit, rc_hit = Case(OURS, "hit", backend), Case(RC, "hit", backend)
        ours_miss, rc_miss = Case(OURS, "miss", backend), Case(RC, "miss", backend)
        pairs += [
            (f"{RC} hit / {OURS} hit ({label})", rc_hit, ours_hit),
            (f"plain request / {OURS} hit ({label})", plain, ours_hit),
            (f"{RC} miss+store / {OURS} miss+store ({label})", rc_miss, ours_miss),
            (f"{OURS} miss+store / plain request ({label})", ours_miss, plain),
        ]
        ours_cc = Case(OURS, "hit", backend, CACHE_CONTROL)
        if ours_cc in medians:
            rc_cc = Case(RC, "hit", backend, CACHE_CONTROL)
            pairs += [
                (f"{RC} hit / {OURS} hit ({label}, {CACHE_CONTROL})", rc_cc, ours_cc),
                (f"plain request / {OURS} hit ({label}, {CACHE_CONTROL})", plain, ours_cc),
            ]
        ours_bounded = Case(OURS, "hit", backend, BOUNDED)
        if ours_bounded in medians:
            pairs.append(
                (f"{OURS} hit ({label}, {BOUNDED}) / {OURS} hit ({label})", ours_bounded, ours_hit)
            )
    ratios = []
    for label, numerator, denominator in pairs:
        value = None
        if numerator in medians and denominator in medians:
            value = medians[numerator] / medians[denominator]
        ratios.append(Ratio(label, numerator, denominator, value))
    return ratios


def hit_speedups(results: Sequence[CaseResult]) -> dict[str, float] | None:
    """``{backend: requests-cache hit median / our hit median}`` for the target backends
    (memory, SQLite), or None if not measured."""
    medians = {result.case: result.median_us for result in results}
    speedups = {}
    for backend in TARGET_BACKENDS:
        ours, theirs = Case(OURS, "hit", backend), Case(RC, "hit", backend)
        if ours not in medians or theirs not in medians:
            return None
        speedups[backend] = medians[theirs] / medians[ours]
    return speedups


def target_met(results: Sequence[CaseResult]) -> bool | None:
    """True if hits are at least TARGET_HIT_RATIO times faster than requests-cache's on the
    target backends (memory, SQLite); None if requests-cache was not measured there."""
    speedups = hit_speedups(results)
    if speedups is None:
        return None
    return all(value >= TARGET_HIT_RATIO for value in speedups.values())


def target_verdict(results: Sequence[CaseResult]) -> str:
    """One sentence saying whether the measured hits meet the target."""
    speedups = hit_speedups(results)
    if speedups is None:
        return f"Target not checked: {RC} was not measured."
    state = "met" if target_met(results) else "NOT met"
    parts = ", ".join(f"{BACKEND_LABELS[b]} {value:.1f}{TIMES}" for b, value in speedups.items())
    return (
        f"Target (hits at least {TARGET_HIT_RATIO:g}{TIMES} faster than {RC}'s "
        f"on memory and SQLite): **{state}** ({parts})."
    )


def environment(argv: Sequence[str], settings: Settings) -> dict[str, Any]:
    """Where and how the numbers were taken."""

    def version(distribution: str) -> str | None:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            return None

    cpu_model = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        load = None
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join(["python", "benchmarks/bench.py", *argv]),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "requests": version("requests"),
        "requests_cache": version("requests-cache"),
        "requests_cache_like": version("requests-cache-like"),
        "redis": version("redis"),
        "redis_server": None,
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "cpu": cpu_model,
        "load_average_1min": load,
        "settings": {
            "rounds": settings.rounds,
            "iterations": settings.iterations,
            "miss_iterations": settings.miss_iterations,
            "warmup": settings.warmup,
        },
    }


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


def _spread(result: CaseResult) -> str:
    return f"{min(result.round_medians_us):,.1f} {DASH} {max(result.round_medians_us):,.1f}"


def format_table(results: Sequence[CaseResult], ratios: Sequence[Ratio]) -> str:
    """Plain-text tables for the terminal."""
    width = max(len(result.case.name) for result in results)
    lines = [
        f"{'case':<{width}}  {'median µs':>10}  {'round medians µs':>20}  {'calls':>6}",
    ]
    lines += [
        f"{r.case.name:<{width}}  {r.median_us:>10,.1f}  {_spread(r):>20}  {r.calls:>6}"
        for r in results
    ]
    measured = [ratio for ratio in ratios if ratio.value is not None]
    if measured:
        ratio_width = max(len(ratio.label) for ratio in measured)
        lines += ["", f"{'ratio':<{ratio_width}}  {'value':>8}"]
        lines += [f"{ratio.label:<{ratio_width}}  {ratio.value:>7.1f}{TIMES}" for ratio in measured]
    lines += ["", target_verdict(results).replace("**", "")]
    return "\n".join(lines)


def render_markdown(
    results: Sequence[CaseResult], ratios: Sequence[Ratio], env: dict[str, Any]
) -> str:
    """The generated results section of docs/performance.md (without the markers)."""
    settings = env["settings"]
    cpu = f", {env['cpu']}" if env.get("cpu") else ""
    load = env.get("load_average_1min")
    load_text = f"; 1-minute load average {load} at start" if load is not None else ""
    lines = [
        f"Generated on {env['date']} by `{env['command']}`.",
        "",
        f"- Python {env['python']}, requests {env['requests']}, "
        f"requests-cache {env['requests_cache'] or 'not installed'}, "
        f"requests_cache_like {env['requests_cache_like']}"
        + (
            f", Redis server {env['redis_server']} (redis-py {env['redis']})"
            if env.get("redis_server")
            else ""
        ),
        f"- Machine: {env['platform']}, {env['cores']} cores{cpu}{load_text}",
        f"- {settings['rounds']} rounds; per round and case, {settings['iterations']} timed calls "
        f"for hits and {settings['miss_iterations']} for plain requests and misses, after "
        f"{settings['warmup']} warm-up calls",
        "",
        f"| Case | Median per call (µs) | Round medians, min {DASH} max (µs) | Calls timed |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r.case.name} | {r.median_us:,.1f} | {_spread(r)} | {r.calls:,} |" for r in results
    ]
    lines += [
        "",
        "Each ratio divides the first case's median by the second's: how many times longer "
        "the first takes.",
        "",
        "| Ratio of medians | Value |",
        "|---|---:|",
    ]
    lines += [
        f"| {ratio.label} | {ratio.value:.1f}{TIMES} |"
        for ratio in ratios
        if ratio.value is not None
    ]
    lines += ["", target_verdict(results)]
    return "\n".join(lines)


def replace_section(text: str, section: str) -> str:
    """``text`` with what lies between the bench markers replaced by ``section``."""
    start = text.find(START_MARKER)
    end = text.find(END_MARKER)
    if start < 0 or end < start:
        raise BenchmarkError(f"{START_MARKER} ... {END_MARKER} not found (in this order)")
    return f"{text[: start + len(START_MARKER)]}\n{section}\n{text[end:]}"


def write_docs(section: str, path: Path = DOCS_PATH) -> None:
    """Rewrite the generated results section of ``path``."""
    path.write_text(replace_section(path.read_text(encoding="utf-8"), section), encoding="utf-8")


def to_json(
    results: Sequence[CaseResult], ratios: Sequence[Ratio], env: dict[str, Any]
) -> dict[str, Any]:
    """The raw numbers, for ``--json``."""
    return {
        "environment": env,
        "results": [
            {
                "case": result.case.slug,
                "name": result.case.name,
                "library": result.case.library,
                "kind": result.case.kind,
                "backend": result.case.backend,
                "mode": result.case.mode,
                "calls_per_round": result.calls_per_round,
                "median_us": result.median_us,
                "mean_us": result.mean_us,
                "round_medians_us": result.round_medians_us,
            }
            for result in results
        ],
        "ratios": {ratio.label: ratio.value for ratio in ratios},
        "target_met": target_met(results),
    }


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/bench.py",
        description=(
            f"Time cache hits and misses of {OURS} and {RC} against the same local origin."
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short run (about 20 s) instead of about 90 s"
    )
    parser.add_argument("--rounds", type=int, help="rounds of timed calls per case")
    parser.add_argument("--iterations", type=int, help="timed calls per round for hit cases")
    parser.add_argument(
        "--miss-iterations",
        type=int,
        help="timed calls per round for plain requests and misses (each a real round trip)",
    )
    parser.add_argument("--warmup", type=int, help="untimed calls per case before the rounds")
    parser.add_argument(
        "--write-docs", action="store_true", help=f"rewrite the results section of {DOCS_PATH}"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="save the raw numbers here")
    args = parser.parse_args(argv)
    preset = QUICK_SETTINGS if args.quick else DEFAULT_SETTINGS
    args.settings = Settings(
        rounds=preset.rounds if args.rounds is None else args.rounds,
        iterations=preset.iterations if args.iterations is None else args.iterations,
        miss_iterations=(
            preset.miss_iterations if args.miss_iterations is None else args.miss_iterations
        ),
        warmup=preset.warmup if args.warmup is None else args.warmup,
    )
    if min(args.settings.rounds, args.settings.iterations, args.settings.miss_iterations) < 1:
        parser.error("--rounds, --iterations and --miss-iterations must be at least 1")
    if args.settings.warmup < 0:
        parser.error("--warmup must not be negative")
    if args.write_docs and not requests_cache_available():
        parser.error(f"--write-docs compares with {RC}, which is not installed here")
    if args.write_docs and redis_unavailable():
        parser.error(f"--write-docs measures the Redis backends, but {redis_unavailable()}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the tables, and write what was asked for."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    libraries = list(LIBRARIES)
    if not requests_cache_available():
        print(f"note: {RC} is not installed; measuring {OURS} and plain requests only")
        libraries.remove(RC)
    elif importlib.metadata.version("requests-cache") != RC_VERSION:
        print(f"note: comparing with {RC} {importlib.metadata.version('requests-cache')}")
    backends = list(BACKENDS)
    no_redis = redis_unavailable()
    if no_redis:
        print(f"note: {no_redis}; leaving out the Redis cases")
        backends.remove("redis")
    env = environment(argv, args.settings)

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    with ExitStack() as stack:
        origin = stack.enter_context(local_origin())
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="rcl-bench-"))
        redis_url = None if no_redis else stack.enter_context(redis_server())
        if redis_url is not None:
            env["redis_server"] = redis_server_version(redis_url)
        results = measure(
            origin.base_url,
            build_cases(libraries, backends),
            args.settings,
            Path(tmp),
            progress,
            redis_url,
        )
    env["duration_s"] = round(time.perf_counter() - started, 1)
    ratios = compute_ratios(results)
    print(format_table(results, ratios))
    print(f"\n({env['duration_s']} s; {env['cores']} cores; {env['python']})")
    if args.json is not None:
        args.json.write_text(json.dumps(to_json(results, ratios, env), indent=2) + "\n")
        print(f"raw numbers saved to {args.json}")
    if args.write_docs:
        write_docs(render_markdown(results, ratios, env))
        print(f"results written to {DOCS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
