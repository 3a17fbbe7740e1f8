"""The benchmark script still runs: its functions, with a handful of calls, give well-formed
results. Nothing here looks at how fast anything is."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

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


def test_measure_gives_one_result_per_case(
    bench: ModuleType, libraries: list[str], tmp_path: Path
) -> None:
    cases = bench.build_cases(libraries)
    ours = {(c.kind, c.backend) for c in cases if c.library == bench.OURS}
    assert ours == {(kind, backend) for kind in ("hit", "miss") for backend in ("memory", "sqlite")}
    assert bench.Case(bench.PLAIN, "request") in cases
    assert (bench.Case(bench.RC, "hit", "sqlite") in cases) == (bench.RC in libraries)

    settings = bench.Settings(rounds=2, iterations=3, miss_iterations=3, warmup=1)
    progress: list[str] = []
    with bench.local_origin() as origin:
        results = bench.measure(origin.base_url, cases, settings, tmp_path, progress.append)
        origin_calls = origin.hits[bench.ROUTE]
    # Plain requests and misses reach the origin on every call (warm-up included); a hit case
    # only once, for the miss that stores its URL.
    cached_libraries = len(libraries) - 1
    assert origin_calls == (1 + 6) + cached_libraries * (2 * 1 + 2 * (1 + 6))

    assert progress == ["round 1/2", "round 2/2"]
    assert [result.case for result in results] == cases
    for result in results:
        assert result.calls_per_round == 3
        assert len(result.round_medians_us) == 2
        assert result.calls == 6
        assert result.median_us > 0
        assert result.mean_us > 0
    # Both SQLite cases of this project wrote their file in the given directory.
    assert {path.name for path in tmp_path.glob("requests-cache-like-*.sqlite")} == {
        "requests-cache-like-hit-sqlite.sqlite",
        "requests-cache-like-miss-sqlite.sqlite",
    }

    ratios = bench.compute_ratios(results)
    measured = {ratio.label: ratio.value for ratio in ratios if ratio.value is not None}
    assert f"plain request / {bench.OURS} hit (memory)" in measured
    assert f"{bench.OURS} miss+store / plain request (SQLite)" in measured
    assert all(value > 0 for value in measured.values())
    has_rc = bench.RC in libraries
    assert (f"{bench.RC} hit / {bench.OURS} hit (SQLite)" in measured) == has_rc
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
    assert {"requests-request", "requests-cache-like-hit-memory"} <= cases
    for entry in data["results"]:
        assert len(entry["round_medians_us"]) == 1


def test_bad_amounts_are_refused(bench: ModuleType) -> None:
    with pytest.raises(SystemExit):
        bench.parse_args(["--rounds", "0"])
