"""The requirements the benchmark checks, each measured result against its bound: hits
against requests-cache's, misses against the peers' and against a plain request."""

from __future__ import annotations

from collections.abc import Sequence

from ._cases import Case, CaseResult
from ._common import BACKEND_LABELS, BACKENDS, OURS, PLAIN, RC
from ._libraries import CACHED_LIBRARIES

__all__ = [
    "MISS_SHARE",
    "TARGET_HIT_RATIO",
    "case_medians",
    "hit_speedups",
    "miss_requirements",
    "target_met",
    "verdict",
]

EMPTY = "\N{EM DASH}"

#: The goal set for the hot path: hits at least this many times faster than requests-cache's.
TARGET_HIT_RATIO = 3.0
#: The backends the hit target is set for.
TARGET_BACKENDS = ("memory", "sqlite")
#: Misses: our overhead at most every peer's on each backend, and at most this share of a
#: plain request on MISS_SHARE_BACKENDS.
MISS_SHARE = 0.25
MISS_SHARE_BACKENDS = ("memory", "sqlite", "filesystem")


def case_medians(results: Sequence[CaseResult]) -> dict[Case, float]:
    """The median of each measured case, in µs."""
    return {result.case: result.median_us for result in results}


def hit_speedups(results: Sequence[CaseResult]) -> dict[str, float] | None:
    """``{backend: requests-cache hit median / our hit median}`` on the target backends, or
    None if not measured."""
    medians = case_medians(results)
    speedups = {}
    for backend in TARGET_BACKENDS:
        ours, theirs = Case(OURS, "hit", backend), Case(RC, "hit", backend)
        if ours not in medians or theirs not in medians:
            return None
        speedups[backend] = medians[theirs] / medians[ours]
    return speedups


def target_met(results: Sequence[CaseResult]) -> bool | None:
    """True if our hits are at least TARGET_HIT_RATIO times faster than requests-cache's on
    memory and SQLite; None if either was not measured there."""
    speedups = hit_speedups(results)
    return None if speedups is None else all(v >= TARGET_HIT_RATIO for v in speedups.values())


def verdict(state: bool | None) -> str:
    return "" if state is None else ("met" if state else "**NOT met**")


def miss_requirements(results: Sequence[CaseResult]) -> list[str]:
    """A table of the misses' requirements, backend by backend: our overhead at most every
    peer's, and at most MISS_SHARE of a plain request where that applies."""
    measured_medians = case_medians(results)
    plain = measured_medians.get(Case(PLAIN, "request"))
    rows = []
    for backend in BACKENDS:
        ours = measured_medians.get(Case(OURS, "miss", backend))
        if plain is None or ours is None:
            continue
        peers = [measured_medians.get(Case(lib, "miss", backend)) for lib in CACHED_LIBRARIES]
        measured = [m for lib, m in zip(CACHED_LIBRARIES, peers, strict=True) if lib != OURS and m]
        cheapest = verdict(all(ours <= m for m in measured)) if measured else EMPTY
        share = (ours - plain) / plain
        bounded = (
            f"{share:.0%}: {verdict(share <= MISS_SHARE)}"
            if backend in MISS_SHARE_BACKENDS
            else f"{share:.0%}"
        )
        rows.append(f"| {BACKEND_LABELS[backend]} | {cheapest} | {bounded} |")
    if not rows:
        return []
    return [
        "",
        f"| Backend | Overhead at most every peer's | Overhead at most {MISS_SHARE:.0%} of a "
        "plain request (memory, SQLite, filesystem) |",
        "|---|---|---|",
        *rows,
    ]
