"""The benchmarks still run: every section, with a handful of calls, gives well-formed results
and a well-formed report. Nothing here looks at how fast anything is.

The peers (requests-cache, CacheControl, hishel) and Redis are optional here: without them the
same tests run on what is available (Redis needs the ``redis`` package and REDIS_URL or
``redis-server``); with them, they are covered too.
"""

from __future__ import annotations

import importlib
import json
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import time_machine

from benchmarks import bench
from benchmarks._cases import Case, CaseResult, CaseRunner, build_cases, measure
from benchmarks._common import (
    BACKENDS,
    BODY_SIZE,
    CC,
    EXPIRE_AFTER,
    HISHEL,
    MAX_AGE,
    OURS,
    PLAIN,
    QUICK_SETTINGS,
    RC,
    ROUTE,
    BenchmarkError,
)
from benchmarks._floors import measure_floors
from benchmarks._libraries import (
    BOUNDED,
    CACHE_CONTROL,
    CACHED_LIBRARIES,
    STORAGES,
    library_unavailable,
)
from benchmarks._report import (
    END_MARKER,
    START_MARKER,
    Report,
    environment,
    render_markdown,
    replace_section,
    target_met,
    to_json,
    write_docs,
)
from benchmarks._requirements import miss_requirements
from benchmarks._servers import BenchOrigin, redis_server, redis_unavailable, stream_checksum
from benchmarks._streaming import measure_streaming
from benchmarks._threads import CEILINGS, measure_ceilings, measure_threads
from requests_cache_like import DO_NOT_CACHE

#: A handful of calls: enough to go through every path, too few to mean anything.
TINY = replace(
    QUICK_SETTINGS,
    rounds=2,
    iterations=3,
    miss_iterations=3,
    warmup=1,
    threads=2,
    thread_hits=4,
    stream_mib=1,
)
PEERS = [library for library in CACHED_LIBRARIES if library != OURS]


@pytest.fixture(scope="module")
def libraries() -> list[str]:
    """Plain requests, this project, and the peers installed here."""
    return [PLAIN, OURS, *(peer for peer in PEERS if library_unavailable(peer) is None)]


@pytest.fixture(scope="module")
def backends() -> list[str]:
    """Every backend; Redis only when it can run here."""
    return [b for b in BACKENDS if b != "redis" or redis_unavailable() is None]


@pytest.fixture(scope="module")
def origin() -> Iterator[BenchOrigin]:
    with BenchOrigin() as started:
        yield started


@pytest.fixture(scope="module")
def redis_url(backends: list[str]) -> Iterator[str | None]:
    if "redis" not in backends:
        yield None
        return
    with redis_server() as url:
        yield url


def _origin_calls(case: Case) -> int:
    """The requests ``case`` sends the origin with TINY amounts: plain requests and misses on
    every call (warm-up included; a miss case also fetches its first URL twice to prove it is
    stored, the second time from the cache); a hit case once, to store its URL, and once more
    per round in standards mode, where it stores its URL afresh before each round."""
    timed = TINY.rounds * TINY.miss_iterations
    if case.kind == "request":
        return TINY.warmup + timed
    if case.kind == "miss":
        return 1 + TINY.warmup + timed
    return 1 + (TINY.rounds if case.mode == CACHE_CONTROL else 0)


def test_hits_and_misses_of_every_library(
    libraries: list[str],
    backends: list[str],
    origin: BenchOrigin,
    redis_url: str | None,
    tmp_path: Path,
) -> None:
    cases = build_cases(libraries, backends)
    ours = {(c.kind, c.backend, c.mode) for c in cases if c.library == OURS}
    assert ours == {(kind, b, None) for kind in ("hit", "miss") for b in backends} | {
        ("hit", b, mode) for b in ("memory", "sqlite") for mode in (CACHE_CONTROL, BOUNDED)
    }
    for peer in PEERS:
        measured = {(c.kind, c.backend) for c in cases if c.library == peer and not c.mode}
        expected = {(k, b) for k in ("hit", "miss") for b in backends if b in STORAGES[peer]}
        assert measured == (expected if peer in libraries else set())
    assert cases[0] == Case(PLAIN, "request")

    before = origin.hits[ROUTE]
    results = measure(
        origin.base_url, cases, 3, 3, TINY.rounds, TINY.warmup, tmp_path, None, redis_url
    )
    assert origin.hits[ROUTE] - before == sum(_origin_calls(case) for case in cases)
    assert [result.case for result in results] == cases
    for result in results:
        assert result.calls == TINY.rounds * 3
        assert len(result.round_medians_us) == TINY.rounds
        assert result.median_us > 0
    assert {p.name for p in tmp_path.glob("requests-cache-like-*.sqlite")} == {
        "requests-cache-like-hit-sqlite.sqlite",
        "requests-cache-like-miss-sqlite.sqlite",
        "requests-cache-like-hit-sqlite-cache-control.sqlite",
        "requests-cache-like-hit-sqlite-max-size.sqlite",
    }
    if redis_url is not None:
        # Every Redis case removed its keys when it closed, CacheControl's (the URLs) too.
        client = importlib.import_module("redis").Redis.from_url(redis_url)
        assert list(client.scan_iter(match="rcl-bench-*")) == []
        assert list(client.scan_iter(match=f"{origin.base_url}/*")) == []
        client.close()

    report = Report(environment(["--quick"], TINY, ["misses", "hits"]), cases=results)
    markdown = render_markdown(report)
    assert "python benchmarks/bench.py --quick" in markdown
    assert "### Misses" in markdown
    assert "### Hits" in markdown
    for result in results:
        assert f"| {result.case.name} |" in markdown
    hits = markdown.split("### Hits")[1]
    sqlite_row = next(line for line in hits.splitlines() if line.startswith("| SQLite |"))
    assert sqlite_row.count("µs") == 1 + (RC in libraries) + ("hishel" in libraries)
    assert ("\N{EM DASH}" in sqlite_row) == (CC in libraries)
    assert (target_met(results) is None) == (RC not in libraries)
    data = json.loads(json.dumps(to_json(report)))
    assert [entry["case"] for entry in data["results"]] == [case.slug for case in cases]
    assert len({case.slug for case in cases}) == len(cases)


@pytest.mark.parametrize("library", CACHED_LIBRARIES)
def test_a_library_that_does_not_store_stops_the_run(
    library: str, origin: BenchOrigin, tmp_path: Path
) -> None:
    # A peer that answered every request from the origin would be timed as a cache: the
    # warm-up must stop the run instead.
    if library_unavailable(library):
        pytest.skip(library_unavailable(library))
    runner = CaseRunner(Case(library, "hit", STORAGES[library][0]), origin.base_url, tmp_path)
    try:
        runner.from_cache = lambda response: False
        with pytest.raises(BenchmarkError, match=f"from_cache=False.*{library} did not store"):
            runner.warm_up(1)
    finally:
        runner.close()


def test_a_session_that_stores_nothing_stops_the_run(origin: BenchOrigin, tmp_path: Path) -> None:
    runner = CaseRunner(Case(OURS, "miss", "memory"), origin.base_url, tmp_path)
    try:
        runner.session.settings.expire_after = DO_NOT_CACHE  # type: ignore[attr-defined]
        with pytest.raises(BenchmarkError, match="did not store"):
            runner.warm_up(0)
    finally:
        runner.close()


def test_case_names_and_slugs() -> None:
    case = Case(OURS, "hit", "memory", CACHE_CONTROL)
    assert case.name == "requests_cache_like hit (memory, cache_control)"
    assert case.slug == "requests-cache-like-hit-memory-cache-control"
    # The cases measured before the peers keep their names (and so their history).
    assert Case(RC, "hit", "sqlite").name == "requests-cache hit (SQLite)"
    assert Case(RC, "miss", "sqlite").slug == "requests-cache-miss-sqlite"
    assert Case(CC, "hit", "filesystem").slug == "cachecontrol-hit-filesystem"


def test_standards_mode_hit_without_age_is_rejected(origin: BenchOrigin, tmp_path: Path) -> None:
    # Giving expire_after leaves standards mode: the hits lose their Age header, and the case
    # must stop rather than time the other mode under this one's name.
    runner = CaseRunner(Case(OURS, "hit", "memory", CACHE_CONTROL), origin.base_url, tmp_path)
    try:
        runner.warm_up(1)
        runner.session.settings.expire_after = EXPIRE_AFTER  # type: ignore[attr-defined]
        with pytest.raises(BenchmarkError, match="without an Age header"):
            runner.run(1)
    finally:
        runner.close()


def test_standards_mode_hit_stays_fresh_from_round_to_round(
    origin: BenchOrigin, tmp_path: Path
) -> None:
    # Past the origin's max-age, hits become round trips (and the run stops); storing the URL
    # afresh before each round keeps every timed call a hit.
    runner = CaseRunner(Case(OURS, "hit", "sqlite", CACHE_CONTROL), origin.base_url, tmp_path)
    start = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
    try:
        with time_machine.travel(start, tick=False) as traveller:
            runner.warm_up(1)
            traveller.shift(MAX_AGE + 1)
            with pytest.raises(BenchmarkError, match="from_cache=False"):
                runner.run(1)
            calls = origin.hits[ROUTE]
            runner.before_round()
            assert origin.hits[ROUTE] == calls + 1
            assert len(runner.run(3)) == 3
            assert origin.hits[ROUTE] == calls + 1
    finally:
        runner.close()


def test_threads_floors_and_streaming(
    backends: list[str], origin: BenchOrigin, redis_url: str | None, tmp_path: Path
) -> None:
    chosen = [b for b in backends if b != "filesystem"]
    threads = measure_threads(origin.base_url, chosen, TINY, tmp_path, None, redis_url)
    assert [result.backend for result in threads] == chosen
    ceilings = measure_ceilings(TINY, tmp_path)
    assert [(r.backend, r.reference) for r in ceilings] == [(c, True) for c in CEILINGS]
    threads += ceilings
    for result in threads:
        assert len(result.one_thread) == len(result.many_threads) == TINY.rounds
        assert result.ratio > 0

    floors = measure_floors(origin.base_url, backends, TINY, tmp_path, None, redis_url)
    expected = [("sqlite", 4.0), ("sqlite", None)]
    if redis_url is not None:
        expected += [("redis", 2.0), ("redis", None)]
    assert [(floor.backend, floor.required) for floor in floors] == expected
    assert all(floor.ratio > 0 and floor.hit.calls == TINY.rounds * 3 for floor in floors)

    streaming = measure_streaming(origin.base_url, ["sqlite"], TINY, tmp_path)
    assert [(r.library, r.kind) for r in streaming] == [
        (PLAIN, "request"),
        (OURS, "miss"),
        (OURS, "hit"),
    ]
    assert all(r.size == 1024 * 1024 and r.growth_mib > -1 for r in streaming)

    report = Report(
        environment([], TINY, ["threads", "floors", "streaming"]),
        threads=threads,
        floors=floors,
        streaming=streaming,
    )
    markdown = render_markdown(report)
    for heading in ("### Threads", "### Hit floors", "### Streaming memory"):
        assert heading in markdown
    assert "| no cache: Python only |" in markdown
    assert "(reference) |" in markdown
    assert "### Hits" not in markdown
    assert "Not judged" in markdown  # a 1 MiB body is below the limit
    data = json.loads(json.dumps(to_json(report)))
    assert [entry["kind"] for entry in data["streaming"]] == ["request", "miss", "hit"]


def test_origin_routes(origin: BenchOrigin) -> None:
    response = requests.get(origin.url(f"{ROUTE}?i=7"), timeout=10)
    assert len(response.content) == BODY_SIZE
    assert response.headers["Cache-Control"] == f"max-age={MAX_AGE}"
    size = 3 * 1024 * 1024 + 5
    with requests.get(origin.url(f"/stream/{size}"), stream=True, timeout=10) as streamed:
        crc = 0
        for chunk in streamed.iter_content(chunk_size=65536):
            crc = zlib.crc32(chunk, crc)
    assert crc == stream_checksum(size)
    assert requests.get(origin.url("/nothing"), timeout=10).status_code == 404


def test_main_saves_raw_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "raw.json"
    amounts = ["--rounds", "1", "--iterations", "2", "--miss-iterations", "2", "--warmup", "0"]
    argv = ["--only", "floors,hits", *amounts, "--json", str(output)]
    assert bench.main(argv) == 0
    data: dict[str, Any] = json.loads(output.read_text())
    assert data["environment"]["settings"]["rounds"] == 1
    assert data["environment"]["sections"] == ["hits", "floors"]
    cases = {entry["case"] for entry in data["results"]}
    assert {"requests-request", "requests-cache-like-hit-memory"} <= cases
    assert ("requests-cache-like-hit-redis" in cases) == (redis_unavailable() is None)
    assert {entry["kind"] for entry in data["results"]} == {"request", "hit"}
    assert [floor["backend"] for floor in data["floors"]][:2] == ["sqlite", "sqlite"]
    assert data["threads"] == data["streaming"] == []
    printed = capsys.readouterr().out
    assert "### Hits" in printed
    assert "### Misses" not in printed


def test_bad_options_are_refused() -> None:
    for argv in (["--rounds", "0"], ["--only", "speed"], ["--write-docs", "--only", "hits"]):
        with pytest.raises(SystemExit):
            bench.parse_args(argv)
    assert bench.parse_args(["--only", "floors,misses"]).sections == ["misses", "floors"]
    assert bench.parse_args(["--quick", "--stream-size", "8"]).settings.stream_mib == 8
    with pytest.raises(ValueError, match="accepted"):
        build_cases([OURS], ["memcached"])


def test_replace_section_only_touches_the_marked_part(tmp_path: Path) -> None:
    page = tmp_path / "performance.md"
    page.write_text(
        f"# Title\n\nintro\n\n{START_MARKER}\nold table\n{END_MARKER}\n\nafter\n",
        encoding="utf-8",
    )
    write_docs("new table", page)
    assert page.read_text(encoding="utf-8") == (
        f"# Title\n\nintro\n\n{START_MARKER}\nnew table\n{END_MARKER}\n\nafter\n"
    )
    with pytest.raises(ValueError, match="not found"):
        replace_section("no markers here", "table")


def test_redis_server_that_fails_to_start_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in redis-server that exits at once: the spawner must say so, not wait forever.
    fake = tmp_path / "redis-server"
    fake.write_text("#!/bin/sh\necho 'FATAL CONFIG FILE ERROR'\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    with pytest.raises(BenchmarkError, match="FATAL CONFIG FILE ERROR"), redis_server():
        pass


def test_redis_url_from_the_environment_is_used_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    with redis_server() as url:
        assert url == "redis://127.0.0.1:1/0"


def _timed(case: Case, median: float) -> CaseResult:
    return CaseResult(case.name, 1, [median], median, median, case=case)


def test_miss_requirements_compare_with_every_peer_and_the_plain_request() -> None:
    results = [
        _timed(Case(PLAIN, "request"), 1000.0),
        _timed(Case(OURS, "miss", "memory"), 1200.0),  # +20 %, below CacheControl
        _timed(Case(CC, "miss", "memory"), 1300.0),
        _timed(Case(OURS, "miss", "sqlite"), 1500.0),  # +50 %, above hishel
        _timed(Case(HISHEL, "miss", "sqlite"), 1400.0),
        _timed(Case(OURS, "miss", "redis"), 1900.0),  # no share bound on Redis
        _timed(Case(CC, "miss", "redis"), 2000.0),
    ]
    rows = [line for line in miss_requirements(results) if line.startswith("| ")][1:]
    assert rows == [
        "| memory | met | 20%: met |",
        "| SQLite | **NOT met** | 50%: **NOT met** |",
        "| Redis | met | 90% |",
    ]
