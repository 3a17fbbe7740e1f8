"""The benchmark script still runs: its functions, with a handful of calls, give well-formed
results. Nothing here looks at how fast anything is.

requests-cache and Redis are optional here: without them the same tests run on what is
available (the Redis cases need the ``redis`` package and REDIS_URL or ``redis-server``).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType

import pytest
import time_machine

from requests_cache_like import DO_NOT_CACHE

BENCH_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """benchmarks/bench.py, imported as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_under_test", BENCH_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def libraries(bench: ModuleType) -> list[str]:
    """Plain requests and this project; requests-cache too when it is installed here."""
    measured = [bench.PLAIN, bench.OURS]
    if bench.requests_cache_available():
        measured.append(bench.RC)
    return measured


@pytest.fixture(scope="module")
def backends(bench: ModuleType) -> list[str]:
    """Every backend the benchmark knows; Redis only when it can run here."""
    available = ["memory", "sqlite", "filesystem"]
    if bench.redis_unavailable() is None:
        available.append("redis")
    return available


def test_measure_gives_one_result_per_case(
    bench: ModuleType, libraries: list[str], backends: list[str], tmp_path: Path
) -> None:
    cases = bench.build_cases(libraries, backends)
    cc = bench.CACHE_CONTROL
    ours = {(c.kind, c.backend, c.mode) for c in cases if c.library == bench.OURS}
    assert ours == {(kind, backend, None) for kind in ("hit", "miss") for backend in backends} | {
        ("hit", "memory", cc),
        ("hit", "sqlite", cc),
        ("hit", "memory", bench.BOUNDED),
        ("hit", "sqlite", bench.BOUNDED),
    }
    assert bench.Case(bench.PLAIN, "request") in cases
    assert (bench.Case(bench.RC, "hit", "sqlite") in cases) == (bench.RC in libraries)
    assert (bench.Case(bench.RC, "hit", "memory", cc) in cases) == (bench.RC in libraries)
    assert (bench.Case(bench.OURS, "hit", "redis") in cases) == ("redis" in backends)

    settings = bench.Settings(rounds=2, iterations=3, miss_iterations=3, warmup=1)
    progress: list[str] = []
    with ExitStack() as stack:
        origin = stack.enter_context(bench.local_origin())
        redis_url = stack.enter_context(bench.redis_server()) if "redis" in backends else None
        results = bench.measure(
            origin.base_url, cases, settings, tmp_path, progress.append, redis_url
        )
        origin_calls = origin.hits[bench.ROUTE]
        if redis_url is not None:
            # Every Redis case removed its keys when it closed.
            client = importlib.import_module("redis").Redis.from_url(redis_url)
            assert list(client.scan_iter(match="rcl-bench-*")) == []
            client.close()
    # Plain requests and misses reach the origin on every call (warm-up included); a hit case
    # only once, for the miss that stores its URL; a standards-mode hit case (memory, SQLite)
    # once more per round, as it stores its URL afresh before each; our two bounded-cache hit
    # cases (memory, SQLite) once each.
    cached_libraries = len(libraries) - 1
    per_library = len(backends) * 1 + len(backends) * (1 + 6) + 2 * (1 + 2)
    assert origin_calls == (1 + 6) + cached_libraries * per_library + 2

    assert progress == ["round 1/2", "round 2/2"]
    assert [result.case for result in results] == cases
    for result in results:
        assert result.calls_per_round == 3
        assert len(result.round_medians_us) == 2
        assert result.calls == 6
        assert result.median_us > 0
        assert result.mean_us > 0
    # Both SQLite cases of this project wrote their file in the given directory, and both
    # filesystem cases their directory of response files.
    assert {path.name for path in tmp_path.glob("requests-cache-like-*.sqlite")} == {
        "requests-cache-like-hit-sqlite.sqlite",
        "requests-cache-like-miss-sqlite.sqlite",
        "requests-cache-like-hit-sqlite-cache-control.sqlite",
        "requests-cache-like-hit-sqlite-max-size.sqlite",
    }
    hit_files = list((tmp_path / "requests-cache-like-hit-filesystem").rglob("responses/*/*/*"))
    miss_files = list((tmp_path / "requests-cache-like-miss-filesystem").rglob("responses/*/*/*"))
    assert len(hit_files) == 1
    assert len(miss_files) == 1 + 6

    ratios = bench.compute_ratios(results)
    measured = {ratio.label: ratio.value for ratio in ratios if ratio.value is not None}
    assert f"plain request / {bench.OURS} hit (memory)" in measured
    assert f"{bench.OURS} miss+store / plain request (SQLite)" in measured
    assert f"plain request / {bench.OURS} hit (filesystem)" in measured
    assert f"plain request / {bench.OURS} hit (SQLite, cache_control)" in measured
    assert f"{bench.OURS} hit (memory, max_size) / {bench.OURS} hit (memory)" in measured
    assert (f"plain request / {bench.OURS} hit (Redis)" in measured) == ("redis" in backends)
    assert all(value > 0 for value in measured.values())
    has_rc = bench.RC in libraries
    assert (f"{bench.RC} hit / {bench.OURS} hit (SQLite)" in measured) == has_rc
    for label in ("memory", "SQLite"):
        rc_ratio = f"{bench.RC} hit / {bench.OURS} hit ({label}, cache_control)"
        assert (rc_ratio in measured) == has_rc
    assert (bench.target_met(results) is None) == (not has_rc)

    env = bench.environment(["--quick"], settings)
    assert env["command"] == "python benchmarks/bench.py --quick"
    table = bench.format_table(results, ratios)
    markdown = bench.render_markdown(results, ratios, env)
    for result in results:
        assert result.case.name in table
        assert f"| {result.case.name} |" in markdown
    assert "python benchmarks/bench.py --quick" in markdown
    data = json.loads(json.dumps(bench.to_json(results, ratios, env)))
    assert [entry["case"] for entry in data["results"]] == [c.slug for c in cases]
    assert len({c.slug for c in cases}) == len(cases)
    assert {entry["mode"] for entry in data["results"]} == {None, cc, bench.BOUNDED}


def test_hit_case_rejects_an_answer_that_is_not_from_the_cache(
    bench: ModuleType, tmp_path: Path
) -> None:
    # A "hit" case whose session stores nothing must stop the run, not time misses.
    case = bench.Case(bench.OURS, "hit", "memory")
    with bench.local_origin() as origin:
        runner = bench._Runner(case, origin.base_url, tmp_path)
        try:
            runner.session.settings.expire_after = DO_NOT_CACHE
            with pytest.raises(bench.BenchmarkError, match="from_cache=False"):
                runner.warm_up(1)
        finally:
            runner.close()


def test_case_names_and_slugs_say_the_mode(bench: ModuleType) -> None:
    case = bench.Case(bench.OURS, "hit", "memory", bench.CACHE_CONTROL)
    assert case.name == "requests_cache_like hit (memory, cache_control)"
    assert case.slug == "requests-cache-like-hit-memory-cache-control"
    # The cases measured before standards mode keep their names (and so their history).
    assert bench.Case(bench.RC, "hit", "sqlite").name == "requests-cache hit (SQLite)"
    assert bench.Case(bench.RC, "hit", "sqlite").slug == "requests-cache-hit-sqlite"


def test_standards_mode_hit_without_age_is_rejected(bench: ModuleType, tmp_path: Path) -> None:
    # Giving expire_after leaves standards mode: the hits lose their Age header, and the case
    # must stop rather than time the other mode under this one's name.
    case = bench.Case(bench.OURS, "hit", "memory", bench.CACHE_CONTROL)
    with bench.local_origin() as origin:
        runner = bench._Runner(case, origin.base_url, tmp_path)
        try:
            runner.warm_up(1)
            runner.session.settings.expire_after = bench.EXPIRE_AFTER
            with pytest.raises(bench.BenchmarkError, match="without an Age header"):
                runner.run(1)
        finally:
            runner.close()


def test_standards_mode_hit_stays_fresh_from_round_to_round(
    bench: ModuleType, tmp_path: Path
) -> None:
    # max-age=60 is shorter than a full run: past it, hits become round trips (and the run
    # stops); storing the URL afresh before each round keeps every timed call a hit.
    case = bench.Case(bench.OURS, "hit", "sqlite", bench.CACHE_CONTROL)
    start = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
    with time_machine.travel(start, tick=False) as traveller, bench.local_origin() as origin:
        runner = bench._Runner(case, origin.base_url, tmp_path)
        try:
            runner.warm_up(1)
            traveller.shift(61)
            with pytest.raises(bench.BenchmarkError, match="from_cache=False"):
                runner.run(1)
            calls = origin.hits[bench.ROUTE]
            runner.before_round()
            assert origin.hits[bench.ROUTE] == calls + 1
            assert len(runner.run(3)) == 3
            assert origin.hits[bench.ROUTE] == calls + 1
        finally:
            runner.close()


def test_replace_section_only_touches_the_marked_part(bench: ModuleType, tmp_path: Path) -> None:
    page = tmp_path / "performance.md"
    page.write_text(
        f"# Title\n\nintro\n\n{bench.START_MARKER}\nold table\n{bench.END_MARKER}\n\nafter\n",
        encoding="utf-8",
    )
    bench.write_docs("new table", page)
    assert page.read_text(encoding="utf-8") == (
        f"# Title\n\nintro\n\n{bench.START_MARKER}\nnew table\n{bench.END_MARKER}\n\nafter\n"
    )
    with pytest.raises(bench.BenchmarkError, match="not found"):
        bench.replace_section("no markers here", "table")


def test_main_saves_raw_numbers(bench: ModuleType, tmp_path: Path) -> None:
    output = tmp_path / "raw.json"
    argv = ["--rounds", "1", "--iterations", "3", "--miss-iterations", "3", "--warmup", "0"]
    assert bench.main([*argv, "--json", str(output)]) == 0
    data = json.loads(output.read_text())
    assert data["environment"]["settings"] == {
        "rounds": 1,
        "iterations": 3,
        "miss_iterations": 3,
        "warmup": 0,
    }
    cases = {entry["case"] for entry in data["results"]}
    assert {
        "requests-request",
        "requests-cache-like-hit-memory",
        "requests-cache-like-hit-filesystem",
        "requests-cache-like-hit-sqlite-cache-control",
    } <= cases
    assert ("requests-cache-like-hit-redis" in cases) == (bench.redis_unavailable() is None)
    for entry in data["results"]:
        assert len(entry["round_medians_us"]) == 1


def test_bad_amounts_are_refused(bench: ModuleType) -> None:
    with pytest.raises(SystemExit):
        bench.parse_args(["--rounds", "0"])
    with pytest.raises(ValueError, match="accepted"):
        bench.build_cases([bench.OURS], ["memcached"])


def test_redis_server_that_fails_to_start_is_reported(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in redis-server that exits at once: the spawner must say so, not wait forever.
    fake = tmp_path / "redis-server"
    fake.write_text("#!/bin/sh\necho 'FATAL CONFIG FILE ERROR'\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("PATH", f"{tmp_path}:{bench.os.environ['PATH']}")
    with pytest.raises(bench.BenchmarkError, match="FATAL CONFIG FILE ERROR"), bench.redis_server():
        pass


def test_redis_url_from_the_environment_is_used_as_is(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    with bench.redis_server() as url:
        assert url == "redis://127.0.0.1:1/0"
