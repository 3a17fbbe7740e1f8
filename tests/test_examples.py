"""Every example runs offline and shows what its docstring promises; docs code blocks compile."""

from __future__ import annotations

import importlib.util
import re
import runpy
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import time_machine

from requests_cache_like import is_installed

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DOCS = ROOT / "docs"


def run_example(name: str, capsys: pytest.CaptureFixture[str], *args: Any) -> list[str]:
    """Run ``examples/<name>.py``'s main(*args) and return the lines it printed."""
    namespace: dict[str, Any] = runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name=name)
    namespace["main"](*args)
    return capsys.readouterr().out.splitlines()


def test_every_example_is_tested() -> None:
    tested = {
        "basic_sessions",
        "basic_patching",
        "bounded_crawler",
        "convert_requests_cache",
        "expiration",
        "inspection",
        "migrate_sqlite_to_redis",
        "shared_cache",
        "standards_mode",
        "streaming_download",
    }
    assert {p.stem for p in EXAMPLES.glob("*.py")} == tested


def test_basic_sessions(capsys: pytest.CaptureFixture[str]) -> None:
    lines = run_example("basic_sessions", capsys)
    assert lines[:4] == [
        "first request:  from_cache=False",
        "second request: from_cache=True",
        "same body: True",
        "origin saw 1 request(s) for /json",
    ]
    assert re.fullmatch(r"stored for 300 s under key [0-9a-f]{16}", lines[4])
    assert lines[5:] == [
        "force_refresh:  from_cache=False",
        "only_if_cached on an unseen URL: status 504",
        "cache_disabled: from_cache=False",
        "origin saw 3 request(s) for /json",
    ]


def test_shared_cache(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_example("shared_cache", capsys) == [
        "match_headers session, other Accept: from_cache=False",
        "plain session, other Accept: from_cache=True",
        "plain.expire_after = 60",
        "hooks saw: miss, hit",
        "origin saw 3 request(s) for /headers",
    ]


def test_standards_mode(capsys: pytest.CaptureFixture[str]) -> None:
    # The clock stands still, so that the origin's Date and the hit's Age never straddle a
    # second (Age=1 once came out of a slow run).
    with time_machine.travel(datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc), tick=False):
        lines = run_example("standards_mode", capsys)
    assert lines == [
        "max-age=60, second GET: from_cache=True Age=0",
        "ETag only, second GET: from_cache=True revalidated=True",
        "no headers, second GET: from_cache=False",
        "after POST, GET: from_cache=False",
        "origin saw 3 request(s) for /cache/60",
        "expire_after=300, second GET: from_cache=True",
    ]


def test_basic_patching_restores_requests(capsys: pytest.CaptureFixture[str]) -> None:
    original = requests.Session
    lines = run_example("basic_patching", capsys)
    assert lines == [
        "installed: True",
        "requests.get #1: from_cache=False",
        "requests.get #2: from_cache=True",
        "requests.Session(): from_cache=True",
        "inside disabled(): cached=False",
        "urls in the cache: 1",
        "installed: False",
        "origin saw 2 request(s) for /json",
    ]
    assert requests.Session is original
    assert not is_installed()


def test_expiration(capsys: pytest.CaptureFixture[str]) -> None:
    lines = run_example("expiration", capsys)
    table = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in lines[:-1])
    assert table == {
        "session default (/headers)": "600 s",
        "URL pattern (/bytes/64)": "never expires",
        "URL pattern (DO_NOT_CACHE)": "not stored",
        "per request (expire_after=30)": "30 s",
        "/cache/45, cache_control off": "600 s",
        "/cache/90, cache_control on": "90 s",
        "/no-store, cache_control on": "not stored",
    }
    assert lines[-1] == "revalidated with ETag: from_cache=True revalidated=True origin hits=2"


def test_inspection(capsys: pytest.CaptureFixture[str]) -> None:
    lines = run_example("inspection", capsys)
    assert lines[:7] == [
        "responses: 5, redirect aliases: 1",
        "stored URLs: 5",
        "cached /redirect/1: True",
        "largest body: 2048 bytes from /bytes/2048",
        "expired: ['/etag/old'], fresh: 4",
        "after delete(expired=True): 4",
        "after delete(urls=[...id=1]): 3",
    ]
    # The CLI's view of the same file, after the session closed it.
    assert lines[7].startswith("cache:")
    assert lines[7].endswith("inspection.sqlite")
    assert lines[8:10] == ["responses: 3 (3 fresh, 0 expired)", "redirects: 1"]


def test_migrate_sqlite_to_redis(
    capsys: pytest.CaptureFixture[str],
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(redis_url)
    before = set(client.scan_iter(match="migrate-example-*"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REDIS_URL", raising=False)

    lines = run_example("migrate_sqlite_to_redis", capsys, redis_url)

    # Four responses (/redirect/1 ends at /json and is stored as an alias of it).
    assert lines == [
        "SQLite: 4 responses, 1 redirects",
        "Redis:  4 responses, 1 redirects",
        "/json?id=1 from Redis: from_cache=True",
        "/redirect/1 from Redis: from_cache=True",
        "origin requests while reading Redis: 0",
        "Redis keeps it for about 2 h (expiry + ttl_offset)",
    ]
    # Nothing left behind: no file, and no key of the example's namespace in Redis.
    assert list(tmp_path.iterdir()) == []
    assert set(client.scan_iter(match="migrate-example-*")) == before
    client.close()


def test_migrate_example_needs_a_redis_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(SystemExit, match="REDIS_URL"):
        run_example("migrate_sqlite_to_redis", capsys)


def test_bounded_crawler(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    lines = run_example("bounded_crawler", capsys)
    assert lines[0] == "max_size='60 kB': 60000 bytes; 3 processes share the file"
    for worker, line in enumerate(lines[1:4]):
        match = re.fullmatch(
            rf"worker {worker}: 40 pages, (\d+) from the cache, largest cache size seen "
            r"(\d+) bytes \(within the bound: True\)",
            line,
        )
        assert match, line
        assert int(match[1]) > 0  # the popular pages stayed cached
    assert re.fullmatch(
        r"after the crawl: \d+ responses, \d+ bytes \(within the bound: True\)", lines[4]
    )
    assert list(tmp_path.iterdir()) == []  # the cache file went with its directory


def test_convert_requests_cache(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("requests_cache")
    assert run_example("convert_requests_cache", capsys) == [
        "without trust_pickle: converted 0, skipped 4",
        "with trust_pickle: converted 4, redirects 1",
        "/json?id=1: from_cache=True",
        "/bytes/64: from_cache=True",
        "/redirect/2: from_cache=True",
        "/redirect/1: from_cache=True",
        "/json: from_cache=True",
        "origin requests after converting: 0",
    ]


def test_examples_clean_up(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Temporary directories and the working directory both point into tmp_path: whatever an
    # example leaves behind shows up there.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    names = ["basic_sessions", "basic_patching", "expiration", "inspection"]
    if importlib.util.find_spec("requests_cache") is not None:
        names.append("convert_requests_cache")
    for name in names:
        run_example(name, capsys)
        assert list(tmp_path.iterdir()) == [], name


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), re.M | re.S)


@pytest.mark.parametrize(
    "page", sorted(DOCS.rglob("*.md")), ids=lambda p: p.relative_to(DOCS).as_posix()
)
def test_docs_code_blocks_compile(page: Path) -> None:
    blocks = _python_blocks(page)
    for number, block in enumerate(blocks, 1):
        compile(block, f"{page.relative_to(DOCS)} block {number}", "exec")


def test_docs_links_point_at_existing_files() -> None:
    # Relative links between pages (and to examples/) must survive pages moving around.
    broken = []
    for page in [*DOCS.rglob("*.md"), ROOT / "README.md"]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_streaming_download(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_example("streaming_download", capsys) == [
        "first download:  from_cache=False",
        "second download: from_cache=True",
        "same 24 MiB in both files: True",
        "peak memory growth below 8 MiB each time: True",
    ]
