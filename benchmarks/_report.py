"""The report: where the numbers were taken, the Markdown tables of each section (printed, and
written between the markers of docs/performance.md), and the raw numbers for ``--json``."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shlex
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ._cases import Case, CaseResult
from ._common import BACKEND_LABELS, BACKENDS, DASH, OURS, PLAIN, RC, TIMES, Settings
from ._floors import Floor
from ._libraries import CACHED_LIBRARIES, MODES, STORAGES, library_version
from ._requirements import (
    TARGET_HIT_RATIO,
    case_medians,
    hit_speedups,
    miss_requirements,
    target_met,
    verdict,
)
from ._streaming import REQUIRED_MIB, StreamResult, as_json
from ._threads import REQUIRED_RATIO, ThreadResult

__all__ = [
    "DOCS_PATH",
    "END_MARKER",
    "START_MARKER",
    "Report",
    "environment",
    "render_markdown",
    "replace_section",
    "target_met",
    "to_json",
    "write_docs",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS_PATH = REPO_ROOT / "docs" / "performance.md"
START_MARKER = "<!-- bench:start -->"
END_MARKER = "<!-- bench:end -->"

EMPTY = "\N{EM DASH}"


@dataclass
class Report:
    """Everything one run measured; a section not run is left empty."""

    env: dict[str, Any]
    cases: list[CaseResult] = field(default_factory=list)
    threads: list[ThreadResult] = field(default_factory=list)
    floors: list[Floor] = field(default_factory=list)
    streaming: list[StreamResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def environment(argv: Sequence[str], settings: Settings, sections: Sequence[str]) -> dict[str, Any]:
    """Where and how the numbers were taken."""
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
        load: float | None = round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        load = None
    versions = {library: library_version(library) for library in (PLAIN, *CACHED_LIBRARIES)}
    try:
        versions["redis-py"] = importlib.metadata.version("redis")
    except importlib.metadata.PackageNotFoundError:
        versions["redis-py"] = None
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join(["python", "benchmarks/bench.py", *argv]),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "versions": versions,
        "redis_server": None,
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "cpu": cpu_model,
        "load_average_1min": load,
        "sections": list(sections),
        "settings": asdict(settings),
    }


def _versions_line(env: dict[str, Any]) -> str:
    versions = env["versions"]
    parts = [f"{name} {versions[name]}" for name in (PLAIN, *CACHED_LIBRARIES) if versions[name]]
    if env.get("redis_server"):
        parts.append(f"Redis server {env['redis_server']} (redis-py {versions['redis-py']})")
    return f"- Python {env['python']}; " + ", ".join(parts)


def _header(report: Report) -> list[str]:
    env, settings = report.env, report.env["settings"]
    cpu = f", {env['cpu']}" if env.get("cpu") else ""
    load = env.get("load_average_1min")
    load_text = f"; 1-minute load average {load} at start" if load is not None else ""
    duration = f" in {env['duration_s']} s" if env.get("duration_s") is not None else ""
    lines = [
        f"Generated on {env['date']} by `{env['command']}`{duration}.",
        "",
        f"- Machine: {env['platform']}, {env['cores']} cores{cpu}{load_text}",
        _versions_line(env),
        f"- {settings['rounds']} rounds; per round and case, {settings['iterations']} timed "
        f"calls for hits and storage reads and {settings['miss_iterations']} for plain "
        f"requests and misses, after {settings['warmup']} warm-up calls; threads: "
        f"{settings['threads']} against 1, about {settings['thread_seconds']:g} s and at least "
        f"{settings['thread_hits']:,} hits per measurement; "
        f"streaming: a {settings['stream_mib']} MiB body",
    ]
    return lines + [f"- {note}" for note in report.notes]


def _library_title(library: str, env: dict[str, Any]) -> str:
    version = env["versions"].get(library)
    return library if library == OURS or not version else f"{library} {version}"


def _rows(results: Sequence[CaseResult], kind: str) -> list[tuple[str, str | None]]:
    """The (backend, mode) rows measured for ``kind``, in table order."""
    present = {(r.case.backend, r.case.mode) for r in results if r.case.kind == kind}
    rows: list[tuple[str, str | None]] = [(b, None) for b in BACKENDS if (b, None) in present]
    for mode in MODES:
        rows += [(b, mode) for b in BACKENDS if (b, mode) in present]
    return rows


def _case_table(report: Report, kind: str) -> list[str]:
    medians = case_medians(report.cases)
    plain = medians.get(Case(PLAIN, "request"))
    libraries = [lib for lib in CACHED_LIBRARIES if any(c.library == lib for c in medians)]
    both = OURS in libraries and RC in libraries
    titles = [_library_title(library, report.env) for library in libraries]
    extra = [f"{RC} / ours"] if both else []
    lines = [
        "| Backend | " + " | ".join(titles + extra) + " |",
        "|---|" + "---:|" * (len(titles) + len(extra)),
    ]
    for backend, mode in _rows(report.cases, kind):
        cells = []
        for library in libraries:
            median = medians.get(Case(library, kind, backend, mode))
            cells.append(EMPTY if median is None else _cell(kind, median, plain))
        if both:
            ours, theirs = (medians.get(Case(lib, kind, backend, mode)) for lib in (OURS, RC))
            cells.append(EMPTY if ours is None or theirs is None else f"{theirs / ours:.1f}{TIMES}")
        label = BACKEND_LABELS[backend] + (f", {mode}" if mode else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _cell(kind: str, median: float, plain: float | None) -> str:
    if plain is None:
        return f"{median:,.1f} µs"
    if kind == "miss":
        overhead = median - plain
        return f"{median:,.0f} µs ({overhead:+,.0f} µs, {overhead / plain:+.0%})"
    return f"{median:,.1f} µs ({median / plain:.1%})"


def _plain_line(report: Report) -> list[str]:
    plain = case_medians(report.cases).get(Case(PLAIN, "request"))
    if plain is None:
        return []
    return [f"A plain request (`requests`, no cache) takes **{plain:,.0f} µs** (median).", ""]


def _misses(report: Report) -> list[str]:
    return [
        "### Misses",
        "",
        *_plain_line(report),
        "Median time of a miss (a new URL: fetched, then stored), then its overhead over the "
        f"plain request, in µs and in per cent of it. {EMPTY}: no storage of that kind.",
        "",
        *_case_table(report, "miss"),
        *miss_requirements(report.cases),
    ]


def _hits(report: Report) -> list[str]:
    lines = [
        "### Hits",
        "",
        *_plain_line(report),
        "Median time of a hit (1 KB body), then its share of the plain request's time. "
        f"{EMPTY}: no storage of that kind, or a mode the library does not have.",
        "",
        *_case_table(report, "hit"),
    ]
    speedups = hit_speedups(report.cases)
    if speedups is not None:
        parts = ", ".join(f"{BACKEND_LABELS[b]} {v:.1f}{TIMES}" for b, v in speedups.items())
        lines += [
            "",
            f"Target (hits at least {TARGET_HIT_RATIO:g}{TIMES} faster than {RC}'s on memory "
            f"and SQLite): {verdict(target_met(report.cases)) or 'met'} ({parts}).",
        ]
    return lines


def _threads(report: Report) -> list[str]:
    count = report.threads[0].threads
    lines = [
        "### Threads",
        "",
        f"Hits per second of {OURS}, {count} threads sharing one session against one "
        "thread (medians over the rounds; hits per measurement: what one thread makes in "
        "the measurement's time, shared out among the threads).",
        "",
        f"| Backend | Hits per measurement | 1 thread (hits/s) | {count} threads (hits/s) "
        f"| {count} / 1 | Required: ≥ {REQUIRED_RATIO:.1f} |",
        "|---|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {BACKEND_LABELS.get(r.backend, r.backend)} | {r.hits:,} | {r.one_thread_rate:,.0f} "
        f"| {r.many_threads_rate:,.0f} | {r.ratio:.2f} "
        f"| {'(reference)' if r.reference else verdict(r.met)} |"
        for r in report.threads
    ]
    if any(r.reference for r in report.threads):
        lines += [
            "",
            "The rows marked (reference) use no cache: a pure-Python function about as long "
            "as a memory hit, and the same with one `os.stat`, measured the same way. They "
            "show what threads can gain in this interpreter on this machine: one call that "
            "releases the GIL costs threads most of their throughput, whatever makes it.",
        ]
    return lines


def _floors(report: Report) -> list[str]:
    lines = [
        "### Hit floors",
        "",
        f"A hit of {OURS} beside a read of the same entry from its storage alone (medians).",
        "",
        "| Backend | Storage read | Hit (µs) | Read (µs) | Hit / read | Required |",
        "|---|---|---:|---:|---:|---|",
    ]
    for f in report.floors:
        required = EMPTY if f.required is None else f"≤ {f.required:g}{TIMES}: {verdict(f.met)}"
        lines.append(
            f"| {BACKEND_LABELS[f.backend]} | {f.read_label} | {f.hit.median_us:,.1f} "
            f"| {f.read.median_us:,.1f} | {f.ratio:.1f}{TIMES} | {required} |"
        )
    return lines


def _streaming(report: Report) -> list[str]:
    size = report.streaming[0].size // (1024 * 1024)
    judged = size > REQUIRED_MIB
    lines = [
        "### Streaming memory",
        "",
        f"A {size} MiB body read with `stream=True` and `iter_content(chunk_size=1 MiB)`, one "
        "child process per case: growth of the peak RSS during the download.",
    ]
    if any(r.method != "VmHWM" for r in report.streaming):
        lines += ["", "Peak RSS from `ru_maxrss` (no `/proc` here): it may hide growth."]
    if not judged:
        lines += ["", f"Not judged: the body is not larger than the {REQUIRED_MIB} MiB limit."]
    lines += [
        "",
        f"| Case | Peak RSS growth (MiB) | Time (s) | Required: < {REQUIRED_MIB} MiB |",
        "|---|---:|---:|---|",
    ]
    lines += [
        f"| {r.name} | {r.growth_mib:,.1f} | {r.seconds:.2f} "
        f"| {(verdict(r.met) if judged else '') or EMPTY} |"
        for r in report.streaming
    ]
    return lines


def _all_cases(report: Report) -> list[str]:
    lines = [
        "### All timed cases",
        "",
        f"| Case | Median per call (µs) | Round medians, min {DASH} max (µs) | Calls timed |",
        "|---|---:|---:|---:|",
    ]
    for r in report.cases:
        low, high = r.spread
        lines.append(
            f"| {r.case.name} | {r.median_us:,.1f} | {low:,.1f} {DASH} {high:,.1f} | {r.calls:,} |"
        )
    return lines


def render_markdown(report: Report) -> str:
    """The generated results section of docs/performance.md (without the markers)."""
    parts = [_header(report)]
    kinds = {result.case.kind for result in report.cases}
    if "miss" in kinds:
        parts.append(_misses(report))
    if "hit" in kinds:
        parts.append(_hits(report))
    if report.threads:
        parts.append(_threads(report))
    if report.floors:
        parts.append(_floors(report))
    if report.streaming:
        parts.append(_streaming(report))
    if report.cases:
        parts.append(_all_cases(report))
    return "\n\n".join("\n".join(part) for part in parts)


def replace_section(text: str, section: str) -> str:
    """``text`` with what lies between the bench markers replaced by ``section``."""
    start = text.find(START_MARKER)
    end = text.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"{START_MARKER} ... {END_MARKER} not found (in this order)")
    return f"{text[: start + len(START_MARKER)]}\n{section}\n{text[end:]}"


def write_docs(section: str, path: Path = DOCS_PATH) -> None:
    """Rewrite the generated results section of ``path``."""
    path.write_text(replace_section(path.read_text(encoding="utf-8"), section), encoding="utf-8")


def to_json(report: Report) -> dict[str, Any]:
    """The raw numbers, for ``--json``."""
    return {
        "environment": report.env,
        "notes": report.notes,
        "results": [
            {
                "case": r.case.slug,
                "name": r.case.name,
                "library": r.case.library,
                "kind": r.case.kind,
                "backend": r.case.backend,
                "mode": r.case.mode,
                "calls_per_round": r.calls_per_round,
                "median_us": r.median_us,
                "mean_us": r.mean_us,
                "round_medians_us": r.round_medians_us,
            }
            for r in report.cases
        ],
        "target_met": target_met(report.cases),
        "threads": [{**asdict(r), "ratio": r.ratio, "met": r.met} for r in report.threads],
        "floors": [
            {
                "backend": f.backend,
                "read": f.read_label,
                "hit_us": f.hit.median_us,
                "read_us": f.read.median_us,
                "ratio": f.ratio,
                "required": f.required,
                "met": f.met,
            }
            for f in report.floors
        ],
        "streaming": [as_json(r) for r in report.streaming],
        "storages": {library: list(STORAGES[library]) for library in CACHED_LIBRARIES},
    }
