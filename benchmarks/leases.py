"""What single-flight costs on a miss, per backend: the miss latency with ``single_flight``
on (a lease taken and given back in the storage) and off, measured side by side.

    python benchmarks/leases.py [--rounds 7] [--misses 60] [--write-docs]

Each round makes ``--misses`` misses (new URLs) against a local origin with each setting,
alternating, and keeps the median per miss; the table reports the fastest round of each
(least disturbed by the machine). Servers are started as the tests start them
(``tests/servers.py``): redis-server, SecantusDB for MongoDB, moto for DynamoDB.
``--write-docs`` replaces the table between the markers in ``docs/single-flight.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from requests_cache_like import CachedSession  # noqa: E402
from requests_cache_like.demo import LocalOrigin  # noqa: E402
from tests.servers import MotoServer, RedisServer, SecantusServer  # noqa: E402

DOCS = ROOT / "docs" / "single-flight.md"
START, END = "<!-- leases:start -->", "<!-- leases:end -->"
DYNAMO = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}


@contextmanager
def backends(workdir: Path) -> Iterator[dict[str, Callable[[], dict[str, Any]]]]:
    """Backend name -> a function giving fresh CachedSession options for it."""
    with ExitStack() as stack:
        redis = RedisServer().start()
        stack.callback(redis.stop)
        mongo = SecantusServer().start()
        stack.callback(mongo.stop)
        moto = MotoServer().start()
        stack.callback(moto.stop)

        def name() -> str:
            return "b" + uuid.uuid4().hex[:10]

        yield {
            "SQLite": lambda: {"cache_name": str(workdir / f"{name()}.sqlite")},
            "filesystem": lambda: {"cache_name": str(workdir / name()), "backend": "filesystem"},
            "Redis": lambda: {"cache_name": name(), "backend": redis.url},
            "MongoDB": lambda: {
                "cache_name": name(),
                "backend": f"{mongo.url.rstrip('/')}/{name()}",
            },
            "DynamoDB": lambda: {
                "cache_name": name(),
                "backend": "dynamodb",
                "endpoint_url": moto.url,
                **DYNAMO,
            },
        }


def miss_latency(options: dict[str, Any], base: str, misses: int, single_flight: bool) -> float:
    """Median seconds per miss for ``misses`` new URLs."""
    session = CachedSession(**options, single_flight=single_flight)
    session.get(f"{base}/json?warm={uuid.uuid4().hex}")  # connections and tables made
    times = []
    for _ in range(misses):
        url = f"{base}/json?u={uuid.uuid4().hex}"
        started = time.perf_counter()
        session.get(url)
        times.append(time.perf_counter() - started)
    session.close()
    return statistics.median(times)


def run(rounds: int, misses: int) -> list[tuple[str, float, float]]:
    """``(backend, off, on)`` seconds per miss, fastest round of each."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp, LocalOrigin() as origin:
        base = origin.url("").rstrip("/")
        with backends(Path(tmp)) as options:
            for backend, make in options.items():
                off, on = [], []
                for _ in range(rounds):
                    off.append(miss_latency(make(), base, misses, single_flight=False))
                    on.append(miss_latency(make(), base, misses, single_flight=True))
                rows.append((backend, min(off), min(on)))
                print(f"{backend:10} off {min(off) * 1e6:8.0f} µs  on {min(on) * 1e6:8.0f} µs")
    return rows


def table(rows: list[tuple[str, float, float]]) -> str:
    lines = [
        "| backend | miss, single_flight=False | miss, single_flight=True | lease cost |",
        "|---|---:|---:|---:|",
    ]
    for backend, off, on in rows:
        lines.append(
            f"| {backend} | {off * 1e6:.0f} µs | {on * 1e6:.0f} µs | {(on - off) * 1e6:+.0f} µs |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--misses", type=int, default=60)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    result = table(run(args.rounds, args.misses))
    print(result)
    if args.write_docs:
        text = DOCS.read_text(encoding="utf-8")
        head, _, rest = text.partition(START)
        _, _, tail = rest.partition(END)
        DOCS.write_text(f"{head}{START}\n{result}\n{END}{tail}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
