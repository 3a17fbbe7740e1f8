"""Benchmark requests_cache_like against requests-cache, CacheControl, hishel and plain
requests, side by side in one run, against one local origin.

Sections (``--only`` runs some of them; all by default, in this order):

- ``misses``: the time of a miss (fetch and store) on memory, SQLite, filesystem and Redis,
  and its overhead over a plain request, for every library on every storage it has;
- ``hits``: the same for hits (1 KB body), plus our standards mode (``cache_control``) and a
  bounded cache (``max_size``), and requests-cache's standards mode;
- ``threads``: our hits per second with 8 threads sharing one session against 1 thread;
- ``floors``: our SQLite hit against reading the entry from SQLite alone, our Redis hit
  against one Redis ``GET`` of it;
- ``streaming``: the peak RSS growth of a child process downloading a large body with
  ``stream=True`` through our SQLite and filesystem caches, on the miss and on the hit.

The origin (``benchmarks/_servers.py``) answers every response with
``Cache-Control: max-age=300``, so that CacheControl and hishel, which follow the headers,
store it; our sessions and requests-cache's are built with ``expire_after=300``. Before any
timing every cached case proves that its library stores (a URL's second request must be a
hit), or the run stops. Redis is the server named by ``REDIS_URL``, or a ``redis-server``
started here on a free loopback port; without either, the Redis cases are left out. A library
that is not installed is left out with a note. Hit and miss cases take turns round after
round, the order rotating, and the figure kept is the median per call: see
docs/performance.md for what each number means.

Usage (from the repository root)::

    python benchmarks/bench.py                       # a few minutes; prints the tables
    python benchmarks/bench.py --quick               # well under a minute
    python benchmarks/bench.py --only hits,floors    # some sections only
    python benchmarks/bench.py --stream-size 512     # streaming: a 512 MiB body
    python benchmarks/bench.py --write-docs          # also rewrites docs/performance.md
    python benchmarks/bench.py --json out.json       # also saves the raw numbers

``nox -s bench`` installs the peers at the versions compared (``PINNED`` in _libraries.py)
and runs ``--write-docs``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the package is imported from the root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._cases import build_cases, measure
from benchmarks._common import (
    BACKENDS,
    DEFAULT_SETTINGS,
    OURS,
    PLAIN,
    QUICK_SETTINGS,
    SECTIONS,
    Settings,
)
from benchmarks._floors import measure_floors
from benchmarks._libraries import (
    CACHED_LIBRARIES,
    PINNED,
    library_unavailable,
    library_version,
)
from benchmarks._report import (
    DOCS_PATH,
    Report,
    environment,
    render_markdown,
    to_json,
    write_docs,
)
from benchmarks._servers import (
    BenchOrigin,
    redis_server,
    redis_server_version,
    redis_unavailable,
)
from benchmarks._streaming import measure_streaming
from benchmarks._threads import measure_ceilings, measure_threads

#: Options that set an amount, and the Settings field each one sets.
AMOUNTS = {
    "rounds": "rounds of the interleaved sections (hits and misses, threads, floors)",
    "iterations": "timed calls per round for hits and storage reads",
    "miss_iterations": "timed calls per round for plain requests and misses",
    "warmup": "untimed calls per case before the rounds",
    "threads": "threads sharing one session, compared with one thread",
    "thread_hits": "fewest hits per threads measurement, shared out among the threads",
    "stream_mib": "size of the streamed body, in MiB",
}


def _sections(text: str) -> list[str]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in SECTIONS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give sections separated by commas, from {', '.join(SECTIONS)}"
        )
    return [section for section in SECTIONS if section in chosen]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The options, with ``args.settings`` and ``args.sections`` worked out."""
    parser = argparse.ArgumentParser(
        prog="benchmarks/bench.py",
        description=f"Time {OURS} against requests-cache, CacheControl, hishel and {PLAIN}.",
    )
    parser.add_argument("--quick", action="store_true", help="a short run (well under a minute)")
    parser.add_argument(
        "--only",
        type=_sections,
        metavar="SECTIONS",
        help=f"run only these sections, separated by commas: {','.join(SECTIONS)}",
    )
    for name, text in AMOUNTS.items():
        flag = "--stream-size" if name == "stream_mib" else "--" + name.replace("_", "-")
        parser.add_argument(flag, dest=name, type=int, help=text)
    parser.add_argument(
        "--write-docs", action="store_true", help=f"rewrite the results section of {DOCS_PATH}"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="save the raw numbers here")
    args = parser.parse_args(argv)
    preset = QUICK_SETTINGS if args.quick else DEFAULT_SETTINGS
    given = {name: getattr(args, name) for name in AMOUNTS if getattr(args, name) is not None}
    args.settings = replace(preset, **given)
    try:
        args.settings.check()
    except ValueError as exc:
        parser.error(str(exc))
    args.sections = args.only or list(SECTIONS)
    if args.write_docs:
        if args.only:
            parser.error("--write-docs rewrites every section: leave out --only")
        missing = [lib for lib in CACHED_LIBRARIES if library_unavailable(lib)]
        if missing:
            parser.error(
                f"--write-docs compares with every peer; not installed: {', '.join(missing)}"
            )
        if redis_unavailable():
            parser.error(f"--write-docs measures the Redis backends, but {redis_unavailable()}")
    return args


def _notes(libraries: list[str], backends: list[str]) -> list[str]:
    """Leave out what cannot run here (and say so); name versions other than the pinned."""
    notes = []
    for library in CACHED_LIBRARIES:
        reason = library_unavailable(library)
        if reason:
            notes.append(f"not measured: {reason}")
            libraries.remove(library)
        elif library in PINNED and library_version(library) != PINNED[library]:
            notes.append(f"{library} {library_version(library)} (pinned: {PINNED[library]})")
    reason = redis_unavailable()
    if reason:
        notes.append(f"Redis not measured: {reason}")
        backends.remove("redis")
    return notes


def run(
    args: argparse.Namespace, report: Report, libraries: list[str], backends: list[str]
) -> None:
    """Run the chosen sections, filling ``report`` as each one ends."""
    settings: Settings = args.settings

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    with ExitStack() as stack:
        origin = stack.enter_context(BenchOrigin())
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rcl-bench-")))
        redis_url = stack.enter_context(redis_server()) if "redis" in backends else None
        if redis_url is not None:
            report.env["redis_server"] = redis_server_version(redis_url)
        kinds = [
            kind
            for kind, section in (("miss", "misses"), ("hit", "hits"))
            if section in args.sections
        ]
        if kinds:
            report.cases = measure(
                origin.base_url,
                build_cases(libraries, backends, kinds),
                settings.iterations,
                settings.miss_iterations,
                settings.rounds,
                settings.warmup,
                workdir,
                progress,
                redis_url,
            )
        if "threads" in args.sections:
            report.threads = measure_threads(
                origin.base_url, backends, settings, workdir, progress, redis_url
            ) + measure_ceilings(settings, workdir)
        if "floors" in args.sections:
            report.floors = measure_floors(
                origin.base_url, backends, settings, workdir, progress, redis_url
            )
        if "streaming" in args.sections:
            report.streaming = measure_streaming(
                origin.base_url, backends, settings, workdir, progress
            )
    report.env["duration_s"] = round(time.perf_counter() - started, 1)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the tables, and write what was asked for."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    libraries = [PLAIN, *CACHED_LIBRARIES]
    backends = list(BACKENDS)
    notes = _notes(libraries, backends)
    report = Report(environment(argv, args.settings, args.sections), notes=notes)
    for note in notes:
        print(f"note: {note}")
    try:
        run(args, report, libraries, backends)
    except BaseException:
        print("stopped; what was measured until then:\n", file=sys.stderr)
        print(render_markdown(report), file=sys.stderr)
        raise
    markdown = render_markdown(report)
    print(markdown)
    if args.json is not None:
        args.json.write_text(json.dumps(to_json(report), indent=2) + "\n", encoding="utf-8")
        print(f"raw numbers saved to {args.json}")
    if args.write_docs:
        write_docs(markdown)
        print(f"results written to {DOCS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
