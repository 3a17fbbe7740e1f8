"""Streaming memory: how much a streamed download of a large body grows a process's peak RSS.

Each case runs in a child process of its own (``python -m benchmarks._streaming CONFIG``),
which imports requests and requests_cache_like, builds its session, resets its peak RSS and
takes its RSS as the baseline, then downloads the body with ``session.get(url, stream=True)``
and ``iter_content(chunk_size=1 MiB)``, closes the response and the session, and takes its peak
RSS again: the growth is what the download cost at its worst. The origin is
:class:`._servers.BenchOrigin` in the parent process, writing the body one MiB at a time from a
single block, so the body is never whole in any process unless the client makes it so.

The peak is Linux's ``VmHWM`` (``/proc/self/status``), reset by writing ``5`` to
``/proc/self/clear_refs`` just before the download: ``resource.getrusage().ru_maxrss`` cannot
serve here, since a child's starts at its parent's peak (Linux carries it across fork and exec),
so a child of a large parent would show no growth at all. Where ``/proc`` is missing (macOS),
``ru_maxrss`` before and after is used instead, and the report says so.

Cases: plain requests (for reference), then, on SQLite and on the filesystem, our session
(``expire_after=300``) on the miss (the body goes to the caller and into the cache) and, in a
second process on the same cache, on the hit (the body comes out of the cache). Every child
checks what it got: the status, the size, the CRC-32 of the body, and whether it was a hit.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ._common import BACKEND_LABELS, EXPIRE_AFTER, OURS, PLAIN, BenchmarkError, Settings
from ._servers import STREAM_CHUNK, stream_checksum

__all__ = ["REQUIRED_MIB", "STREAM_BACKENDS", "StreamResult", "measure_streaming"]

MIB = 1024 * 1024
#: The issue's requirement: a streamed download may grow the peak RSS by less than this.
REQUIRED_MIB = 64
STREAM_BACKENDS = ("sqlite", "filesystem")
#: Seconds a child may take (a 256 MiB body through a cache that holds it whole is slow).
CHILD_TIMEOUT = 900
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class StreamResult:
    """One child's download: what it was, and its peak RSS before and after."""

    library: str
    backend: str | None
    kind: str  # "request", "miss" or "hit"
    size: int
    baseline_kib: int
    peak_kib: int
    seconds: float
    method: str = "VmHWM"

    @property
    def name(self) -> str:
        """A label for tables, e.g. ``requests_cache_like miss (SQLite)``."""
        if self.backend is None:
            return f"{self.library} (no cache)"
        return f"{self.library} {self.kind} ({BACKEND_LABELS[self.backend]})"

    @property
    def growth_mib(self) -> float:
        """Peak RSS growth during the download, in MiB."""
        return (self.peak_kib - self.baseline_kib) / 1024

    @property
    def met(self) -> bool | None:
        """True if a cached download grew the peak RSS by less than :data:`REQUIRED_MIB`;
        None for plain requests."""
        return None if self.library == PLAIN else self.growth_mib < REQUIRED_MIB


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")


def _max_rss_kib() -> int:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak // 1024 if sys.platform == "darwin" else peak)  # bytes on macOS


def _start_peak() -> tuple[str, int]:
    """Reset the peak RSS if possible; give how the peak is read and the baseline (KiB)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")  # the peak RSS (VmHWM) becomes the current RSS
        return "VmHWM", _status_kib("VmRSS")
    except OSError:
        return "ru_maxrss", _max_rss_kib()


def _peak(method: str) -> int:
    return _status_kib("VmHWM") if method == "VmHWM" else _max_rss_kib()


def run_child(config: dict[str, Any]) -> dict[str, Any]:
    """The child's side: download ``config["url"]`` streamed; report what it measured."""
    import requests

    from requests_cache_like import CachedSession

    if config["library"] == PLAIN:
        session = requests.Session()
    else:
        session = CachedSession(
            config["cache_name"], backend=config["backend"], expire_after=EXPIRE_AFTER
        )
    gc.collect()
    method, baseline = _start_peak()
    start = time.perf_counter()
    crc = size = 0
    response = session.get(config["url"], stream=True)
    status, from_cache = response.status_code, getattr(response, "from_cache", None)
    for chunk in response.iter_content(chunk_size=STREAM_CHUNK):
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
    response.close()
    session.close()
    seconds = time.perf_counter() - start
    return {
        "status": status,
        "from_cache": from_cache,
        "size": size,
        "crc32": crc,
        "baseline_kib": baseline,
        "peak_kib": _peak(method),
        "method": method,
        "seconds": seconds,
    }


def _spawn(config: dict[str, Any]) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "benchmarks._streaming", json.dumps(config)]
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchmarkError(
            f"streaming child timed out after {CHILD_TIMEOUT} s: {config}"
        ) from exc
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        error = done.stderr.strip()[-2000:]
        raise BenchmarkError(f"streaming child failed ({done.returncode}) for {config}: {error}")
    report: dict[str, Any] = json.loads(lines[-1])
    return report


def measure_streaming(
    origin_url: str,
    backends: Sequence[str],
    settings: Settings,
    workdir: Path,
    progress: Callable[[str], None] | None = None,
) -> list[StreamResult]:
    """Plain requests, then our miss and hit on each of SQLite and the filesystem (those of
    them among ``backends``), each in a child process."""
    size = settings.stream_mib * MIB
    url = f"{origin_url}/stream/{size}"
    expected_crc = stream_checksum(size)
    plan: list[tuple[str, str | None, str]] = [(PLAIN, None, "request")]
    for chosen in (b for b in STREAM_BACKENDS if b in backends):
        plan += [(OURS, chosen, "miss"), (OURS, chosen, "hit")]
    results = []
    for library, backend, kind in plan:
        if progress is not None:
            progress(
                f"streaming {settings.stream_mib} MiB: {library} {kind} ({backend or 'no cache'})"
            )
        suffix = ".sqlite" if backend == "sqlite" else ""
        config = {
            "library": library,
            "backend": backend,
            "cache_name": str(workdir / f"stream-{backend}{suffix}"),
            "url": url,
        }
        report = _spawn(config)
        expected_hit = {"miss": False, "hit": True}.get(kind)
        problems = []
        if report["status"] != 200:
            problems.append(f"status {report['status']}")
        if report["size"] != size or report["crc32"] != expected_crc:
            problems.append(f"{report['size']} bytes (CRC {report['crc32']:#x}), not the body sent")
        if expected_hit is not None and report["from_cache"] is not expected_hit:
            problems.append(f"from_cache={report['from_cache']}, expected {expected_hit}")
        if problems:
            raise BenchmarkError(f"streaming {library} {kind} ({backend}): {'; '.join(problems)}")
        results.append(
            StreamResult(
                library=library,
                backend=backend,
                kind=kind,
                size=size,
                baseline_kib=report["baseline_kib"],
                peak_kib=report["peak_kib"],
                seconds=report["seconds"],
                method=report["method"],
            )
        )
    return results


def as_json(result: StreamResult) -> dict[str, Any]:
    """``result`` with its growth, for ``--json``."""
    return {**asdict(result), "name": result.name, "growth_mib": result.growth_mib}


if __name__ == "__main__":
    print(json.dumps(run_child(json.loads(sys.argv[1]))))
