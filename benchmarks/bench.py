"""Benchmark cache hits and misses: requests_cache_like against requests-cache 1.3.3.

Everything runs in one process against one local origin
(:class:`requests_cache_like.demo.LocalOrigin`, route ``/bytes/1024``: a 1 KB body):

- ``requests``: plain ``requests.Session().get``, a real HTTP round trip on the loopback;
- a *hit*: the same URL again and again, after one miss has stored it;
- a *miss+store*: a new URL on every call (``/bytes/1024?i=N``), fetched and stored.

Hits and misses are measured for both libraries on the memory and the SQLite backends, each
session built with ``expire_after=300`` so that both store the response. A call is
``session.get(url)`` followed by reading ``.content``, timed alone with
``time.perf_counter_ns``. After a warm-up, the cases take turns round after round (the order
rotates) so that a noisy moment on a shared machine falls on every library, not on one. The
figure reported is the median time per call over all rounds.

Usage (from the repository root)::

    python benchmarks/bench.py                  # about a minute; prints the tables
    python benchmarks/bench.py --quick          # about ten seconds
    python benchmarks/bench.py --write-docs     # also rewrites the results in docs/performance.md
    python benchmarks/bench.py --json out.json  # also saves the raw numbers

``nox -s bench`` installs requests-cache 1.3.3 and runs ``--write-docs``.
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
import statistics
import sys
import tempfile
import time
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
BACKENDS = ("memory", "sqlite")
BACKEND_LABELS = {"memory": "memory", "sqlite": "SQLite"}
TIMES = "\N{MULTIPLICATION SIGN}"
DASH = "\N{EN DASH}"
KIND_LABELS = {"request": "plain request", "hit": "hit", "miss": "miss+store"}


class BenchmarkError(RuntimeError):
    """A case did not behave as measured (a hit that missed, a wrong body...)."""


@dataclass(frozen=True)
class Case:
    """One thing to time: a library, what kind of call, and on which backend."""

    library: str
    kind: str  # "request", "hit" or "miss"
    backend: str | None = None

    @property
    def name(self) -> str:
        """A label for tables, e.g. ``requests-cache hit (SQLite)``."""
        if self.backend is None:
            return f"{self.library} {KIND_LABELS[self.kind]}"
        return f"{self.library} {KIND_LABELS[self.kind]} ({BACKEND_LABELS[self.backend]})"

    @property
    def slug(self) -> str:
        """A short identifier for file names and JSON keys, e.g. ``requests-cache-hit-sqlite``."""
        parts = [self.library.replace("_", "-"), self.kind]
        if self.backend:
            parts.append(self.backend)
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


def build_cases(libraries: Sequence[str] = LIBRARIES) -> list[Case]:
    """All cases for the given libraries, in a fixed order."""
    cases: list[Case] = []
    if PLAIN in libraries:
        cases.append(Case(PLAIN, "request"))
    for library in (OURS, RC):
        if library in libraries:
            cases.extend(
                Case(library, kind, backend) for kind in ("hit", "miss") for backend in BACKENDS
            )
    return cases


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


def _open_session(case: Case, workdir: Path) -> requests.Session:
    if case.library == PLAIN:
        return requests.Session()
    if case.library == OURS:
        session_class: Callable[..., requests.Session] = CachedSession
    else:
        session_class = importlib.import_module("requests_cache").CachedSession
    if case.backend == "sqlite":
        cache_name = str(workdir / f"{case.slug}.sqlite")
    else:
        cache_name = f"bench-{case.slug}"
    return session_class(cache_name, backend=case.backend, expire_after=EXPIRE_AFTER)


class _Runner:
    """Times the calls of one case, on its own session, and checks every answer."""

    def __init__(self, case: Case, base_url: str, workdir: Path) -> None:
        self.case = case
        self.url = base_url + ROUTE
        self.session = _open_session(case, workdir)
        self.expect_from_cache = {"hit": True, "miss": False}.get(case.kind)
        self._counter = 0

    def _next_url(self) -> str:
        if self.case.kind != "miss":
            return self.url
        self._counter += 1
        return f"{self.url}?i={self._counter}"

    def warm_up(self, calls: int) -> None:
        """Store the hit URL (one miss), then run ``calls`` untimed calls."""
        if self.case.kind == "hit":
            first = self.session.get(self.url)
            if getattr(first, "from_cache", True) or len(first.content) != BODY_SIZE:
                raise BenchmarkError(f"{self.case.name}: the warm-up call was not a fresh fetch")
        self.run(calls)

    def run(self, calls: int) -> list[int]:
        """Time ``calls`` calls; return each one's duration in nanoseconds."""
        get = self.session.get
        clock = time.perf_counter_ns
        expected = self.expect_from_cache
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
            samples.append(elapsed)
        return samples

    def close(self) -> None:
        self.session.close()


def measure(
    base_url: str,
    cases: Sequence[Case],
    settings: Settings,
    workdir: Path,
    progress: Callable[[str], None] | None = None,
) -> list[CaseResult]:
    """Warm up every case, then time them in rotating order, round after round."""
    if settings.rounds < 1 or settings.iterations < 1 or settings.miss_iterations < 1:
        raise ValueError(f"{settings!r}: rounds and iterations must be at least 1")
    samples: dict[Case, list[int]] = {case: [] for case in cases}
    round_medians: dict[Case, list[float]] = {case: [] for case in cases}
    with ExitStack() as stack:
        runners: list[_Runner] = []
        for case in cases:
            runner = _Runner(case, base_url, workdir)
            stack.callback(runner.close)
            runners.append(runner)
        for runner in runners:
            runner.warm_up(settings.warmup)
        for number in range(settings.rounds):
            if progress is not None:
                progress(f"round {number + 1}/{settings.rounds}")
            shift = number % len(runners)
            for runner in runners[shift:] + runners[:shift]:
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
        label = BACKEND_LABELS[backend]
        ours_hit, rc_hit = Case(OURS, "hit", backend), Case(RC, "hit", backend)
        ours_miss, rc_miss = Case(OURS, "miss", backend), Case(RC, "miss", backend)
        pairs += [
            (f"{RC} hit / {OURS} hit ({label})", rc_hit, ours_hit),
            (f"plain request / {OURS} hit ({label})", plain, ours_hit),
            (f"{RC} miss+store / {OURS} miss+store ({label})", rc_miss, ours_miss),
            (f"{OURS} miss+store / plain request ({label})", ours_miss, plain),
        ]
    ratios = []
    for label, numerator, denominator in pairs:
        value = None
        if numerator in medians and denominator in medians:
            value = medians[numerator] / medians[denominator]
        ratios.append(Ratio(label, numerator, denominator, value))
    return ratios


def hit_speedups(results: Sequence[CaseResult]) -> dict[str, float] | None:
    """``{backend: requests-cache hit median / our hit median}``, or None if not measured."""
    medians = {result.case: result.median_us for result in results}
    speedups = {}
    for backend in BACKENDS:
        ours, theirs = Case(OURS, "hit", backend), Case(RC, "hit", backend)
        if ours not in medians or theirs not in medians:
            return None
        speedups[backend] = medians[theirs] / medians[ours]
    return speedups


def target_met(results: Sequence[CaseResult]) -> bool | None:
    """True if hits are at least TARGET_HIT_RATIO times faster than requests-cache's on every
    backend; None if requests-cache was not measured."""
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
        f"requests_cache_like {env['requests_cache_like']}",
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
        "--quick", action="store_true", help="a short run (about 10 s) instead of about 60 s"
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
    env = environment(argv, args.settings)

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    with local_origin() as origin, tempfile.TemporaryDirectory(prefix="rcl-bench-") as tmp:
        results = measure(
            origin.base_url, build_cases(libraries), args.settings, Path(tmp), progress
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
