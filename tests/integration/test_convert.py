"""``convert``: caches written by requests-cache 1.3.3 itself become caches of this package
that answer the same requests without the origin, and the source is left as it was."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import redis
import requests_cache
import time_machine
from requests_mock import Mocker

from requests_cache_like import CachedSession
from requests_cache_like._rc_entries import detect_format
from requests_cache_like.cli import main
from requests_cache_like.convert import DUPLICATE_REASON, ConvertSummary, convert
from requests_cache_like.exceptions import ConvertError

API = "http://api.test"
#: Fetched with requests-cache; /r1 redirects to /r2, which redirects to /final.
URLS = [f"{API}/a", f"{API}/b?page=2", f"{API}/text", f"{API}/r1"]
#: Answered from the converted cache: /r2 through the alias its redirect left, /final
#: because requests-cache stored the last hop under its own key too.
HITS = [*URLS, f"{API}/r2", f"{API}/final"]
STORED = 5  # /a, /b, /text, /r1 (the final answer), /final


def register(mock: Mocker) -> None:
    mock.get(f"{API}/a", json={"a": 1})
    mock.get(f"{API}/b?page=2", json={"b": 2})
    mock.get(f"{API}/text", text="hello", headers={"Content-Type": "text/plain"})
    mock.get(f"{API}/r1", status_code=302, headers={"Location": f"{API}/r2"})
    mock.get(f"{API}/r2", status_code=302, headers={"Location": f"{API}/final"})
    mock.get(f"{API}/final", json={"final": True})


def written_by_requests_cache(urls: list[str] = URLS, **options: Any) -> None:
    session = requests_cache.CachedSession(autoclose=False, **options)
    for url in urls:
        assert session.get(url).from_cache is False
    session.close()


def answered_from_cache(mock: Mocker, **options: Any) -> None:
    """A default session of ours on the destination answers every URL without the origin."""
    calls = mock.call_count
    with CachedSession(**options) as session:
        for url in HITS:
            response = session.get(url)
            assert response.from_cache is True, url
        assert session.get(f"{API}/text").text == "hello"
        assert session.get(f"{API}/a").json() == {"a": 1}
        assert [r.status_code for r in session.get(f"{API}/r1").history] == [302, 302]
    assert mock.call_count == calls


def digest(path: Path) -> dict[str, str]:
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    return {
        str(file.relative_to(path.parent)): hashlib.sha256(file.read_bytes()).hexdigest()
        for file in files
        if file.is_file()
    }


def summary_lines(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """The summary's headline counts: {"converted": "5 response(s) ...", "skipped": "0"}."""
    lines = capsys.readouterr().out.splitlines()
    return {
        name.rstrip(":"): rest.strip()
        for name, _, rest in (line.partition(" ") for line in lines)
        if name.endswith(":")
    }


# -- SQLite, pickle (requests-cache's default) -------------------------------------------------
@pytest.fixture
def pickled_sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "theirs.sqlite"
    with Mocker() as mock:
        register(mock)
        written_by_requests_cache(cache_name=str(path), backend="sqlite")
    return path


def test_pickle_is_skipped_without_the_flag(
    pickled_sqlite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = digest(pickled_sqlite)
    dest = tmp_path / "ours.sqlite"
    assert main(["convert", str(pickled_sqlite), str(dest)]) == 0
    out = capsys.readouterr().out
    assert "converted:  0 response(s)" in out
    assert f"skipped:    {STORED}\n" in out
    assert f"  {STORED} pickled (requests-cache's default format)" in out
    assert "--trust-pickle" in out
    assert digest(pickled_sqlite) == before


def test_pickle_is_converted_with_the_flag(
    pickled_sqlite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = digest(pickled_sqlite)
    dest = tmp_path / "ours.sqlite"
    assert main(["convert", str(pickled_sqlite), str(dest), "--trust-pickle"]) == 0
    counts = summary_lines(capsys)
    assert counts["converted"] == f"{STORED} response(s) from {pickled_sqlite} to {dest}"
    assert counts["redirects"] == "1 alias(es) re-created"
    assert counts["skipped"] == "0"
    assert counts["unreadable"] == "0"
    assert digest(pickled_sqlite) == before
    with Mocker() as mock:
        register(mock)
        answered_from_cache(mock, cache_name=str(dest))


def test_pickle_naming_a_global_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self) -> tuple[Any, tuple[str]]:
            return os.system, (f"touch {marker}",)

    path = tmp_path / "theirs.sqlite"
    with Mocker() as mock:
        register(mock)
        written_by_requests_cache([f"{API}/a"], cache_name=str(path))
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO responses (key, value) VALUES (?, ?)",
            ("0123456789abcdef", pickle.dumps(Exploit())),
        )
        connection.execute(
            "INSERT INTO responses (key, value) VALUES (?, ?)", ("fedcba9876543210", b"junk")
        )
    connection.close()
    summary = convert(path, tmp_path / "ours.sqlite", trust_pickle=True)
    assert not marker.exists()
    assert summary.converted == 1
    assert summary.unreadable_count == 2
    reasons = " ".join(summary.unreadable)
    assert "system; only plain data is read" in reasons
    assert "not a format requests-cache writes" in reasons


# -- per-entry formats, duplicates, expiry, converting in place ----------------------------------
def test_formats_are_detected_per_entry(tmp_path: Path) -> None:
    path = tmp_path / "mixed.sqlite"
    with Mocker() as mock:
        register(mock)
        for url, serializer in zip(URLS, ["json", "yaml", "bson", "pickle"], strict=True):
            written_by_requests_cache([url], cache_name=str(path), serializer=serializer)
        summary = convert(path, tmp_path / "ours.sqlite")
        assert summary.converted == 3  # /r1 and /final were pickled: skipped
        assert summary.skipped_count == 2
        calls = mock.call_count
        with CachedSession(str(tmp_path / "ours.sqlite")) as session:
            for url in URLS[:3]:
                assert session.get(url).from_cache is True, url
        assert mock.call_count == calls


def test_one_request_stored_twice_keeps_the_newer(tmp_path: Path) -> None:
    # requests-cache with match_headers keeps one entry per Accept; a default session of
    # ours has one key for both, and gets the newer response.
    path = tmp_path / "variants.sqlite"
    with Mocker() as mock:
        mock.get(f"{API}/a", [{"json": {"v": 1}}, {"json": {"v": 2}}])
        session = requests_cache.CachedSession(str(path), match_headers=True, serializer="json")
        session.get(f"{API}/a", headers={"Accept": "text/plain"})
        session.get(f"{API}/a", headers={"Accept": "application/json"})
        session.close()
        summary = convert(path, tmp_path / "ours.sqlite")
        assert (summary.converted, summary.skipped) == (1, {DUPLICATE_REASON: 1})
        with CachedSession(str(tmp_path / "ours.sqlite")) as ours:
            assert ours.get(f"{API}/a").json() == {"v": 2}


def test_expired_entries_are_kept_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "theirs.sqlite"
    with Mocker() as mock:
        register(mock)
        written_by_requests_cache(cache_name=str(path), serializer="json", expire_after=60)
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        summary = convert(path, tmp_path / "ours.sqlite")
    assert (summary.converted, summary.expired) == (STORED, STORED)
    assert "5 of them expired (kept for revalidation)" in "\n".join(summary.lines())


def test_into_the_same_sqlite_file(tmp_path: Path) -> None:
    # This package keeps its tables beside requests-cache's: both read the same file.
    path = tmp_path / "shared.sqlite"
    with Mocker() as mock:
        register(mock)
        written_by_requests_cache(cache_name=str(path), serializer="json")
        summary = convert(path, path)
        assert summary.converted == STORED
        answered_from_cache(mock, cache_name=str(path))
        calls = mock.call_count
        theirs = requests_cache.CachedSession(str(path), serializer="json")
        assert all(theirs.get(url).from_cache for url in URLS)
        theirs.close()
        assert mock.call_count == calls


# -- filesystem, Redis, MongoDB ----------------------------------------------------------------
def test_filesystem_json_into_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "theirs"
    dest = tmp_path / "ours"
    with Mocker() as mock:
        register(mock)
        written_by_requests_cache(cache_name=str(source), backend="filesystem", serializer="json")
        before = digest(source)
        assert main(["convert", str(source), f"{dest}{os.sep}"]) == 0
        assert summary_lines(capsys)["converted"].startswith(f"{STORED} response(s)")
        assert digest(source) == before
        answered_from_cache(mock, cache_name=str(dest), backend="filesystem")


def test_redis_namespace_in_place(
    redis_url: str, unique_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = redis.Redis.from_url(redis_url)
    with Mocker() as mock:
        register(mock)
        theirs = requests_cache.RedisCache(namespace=unique_name, connection=client)
        written_by_requests_cache(backend=theirs)
        before = {key: client.dump(key) for key in client.scan_iter(f"{unique_name}*")}
        argv = ["convert", redis_url, redis_url, "--trust-pickle"]
        assert main([*argv, "--source-name", unique_name, "--dest-name", unique_name]) == 0
        counts = summary_lines(capsys)
        assert counts["converted"].startswith(f"{STORED} response(s)")
        assert counts["redirects"] == "1 alias(es) re-created"
        assert {key: client.dump(key) for key in before} == before
        answered_from_cache(mock, cache_name=unique_name, backend=redis_url)
    for key in client.scan_iter(f"{unique_name}*"):
        client.delete(key)
    client.close()


def test_mongodb_documents(mongodb_url: str, unique_name: str) -> None:
    import pymongo

    client: pymongo.MongoClient[Any] = pymongo.MongoClient(mongodb_url)
    url = mongodb_url.rstrip("/") + f"/{unique_name}"
    with Mocker() as mock:
        register(mock)
        theirs = requests_cache.MongoCache(db_name=unique_name, connection=client)
        written_by_requests_cache(backend=theirs)
        before = sorted(map(str, client[unique_name]["responses"].find()))
        summary = convert(url, url, dest_name=unique_name)
        assert (summary.converted, summary.redirects) == (STORED, 1)
        assert sorted(map(str, client[unique_name]["responses"].find())) == before
        answered_from_cache(mock, cache_name=unique_name, backend=url)
    client.drop_database(unique_name)
    client.close()


def test_gridfs_files(mongodb_url: str, unique_name: str, tmp_path: Path) -> None:
    import pymongo

    client: pymongo.MongoClient[Any] = pymongo.MongoClient(mongodb_url)
    url = mongodb_url.replace("mongodb://", "mongodb+gridfs://").rstrip("/") + f"/{unique_name}"
    with Mocker() as mock:
        register(mock)
        theirs = requests_cache.GridFSCache(db_name=unique_name, connection=client)
        written_by_requests_cache(backend=theirs)
        skipped = convert(url, tmp_path / "skipped.sqlite")
        assert (skipped.converted, skipped.skipped_count) == (0, STORED)
        summary = convert(url, tmp_path / "ours.sqlite", trust_pickle=True)
        assert (summary.converted, summary.redirects) == (STORED, 1)
        answered_from_cache(mock, cache_name=str(tmp_path / "ours.sqlite"))
    client.drop_database(unique_name)
    client.close()


# -- arguments, progress ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "dest", "message"),
    [
        ("missing.sqlite", "ours.sqlite", "SOURCE 'missing.sqlite': no such file or directory"),
        ("ftp://host/x", "ours.sqlite", "unknown scheme 'ftp'"),
        ("memory://", "ours.sqlite", "an in-memory cache has nothing to convert"),
        ("{pickled}", "memory://", "DEST 'memory://': an in-memory cache ends"),
        ("{pickled}", "bogus://x", "DEST 'bogus://x'"),
    ],
)
def test_bad_arguments_exit_2(
    source: str,
    dest: str,
    message: str,
    pickled_sqlite: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(pickled_sqlite.parent)
    assert main(["convert", source.format(pickled=pickled_sqlite), dest]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "accepted" in err or "in-memory" in err


def test_a_file_that_is_not_a_requests_cache_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ours = tmp_path / "ours.sqlite"
    with Mocker() as mock:
        register(mock)
        with CachedSession(str(ours)) as session:
            session.get(f"{API}/a")
    assert main(["convert", str(ours), str(tmp_path / "again.sqlite")]) == 2
    assert "already a requests_cache_like cache" in capsys.readouterr().err
    (tmp_path / "text.sqlite").write_text("not a database " * 100)
    with pytest.raises(ConvertError, match="not a readable SQLite file"):
        convert(tmp_path / "text.sqlite", tmp_path / "again.sqlite")


def test_a_dest_name_needs_a_dest_url(pickled_sqlite: Path, tmp_path: Path) -> None:
    with pytest.raises(ConvertError, match="applies only to a DEST URL"):
        convert(pickled_sqlite, tmp_path / "ours.sqlite", dest_name="elsewhere")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (pickle.dumps({"status_code": 200}), "pickle"),
        # a BSON document 640 bytes long starts with 0x80 0x02, as a protocol-2 pickle does
        (b"\x80\x02\x00\x00" + b"\x01" * 635 + b"\x00", "bson"),
        ('{\n  "_content": "aGk="\n}', "json"),
        (b"_content: !!binary |\n  aGk=\nstatus_code: 200\n", "yaml"),
        ({"status_code": 200}, "document"),
        (b"RCLF\x01\x00\x00\x00\x02{}", "ours"),
        (b"junk", "unknown"),
        (b"", "unknown"),
    ],
)
def test_format_is_recognised_from_the_bytes(value: Any, expected: str) -> None:
    assert detect_format(value) == expected


def test_missing_arguments_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "only-source.sqlite"]) == 2
    assert "Missing argument 'DEST'" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(
    pickled_sqlite: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert main(["convert", str(pickled_sqlite), str(tmp_path / "a.sqlite")]) == 0
    assert capsys.readouterr().err == ""  # not a terminal: no bar
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setenv("TERM", "xterm")  # rich draws nothing on a "dumb" terminal
    assert main(["convert", str(pickled_sqlite), str(tmp_path / "b.sqlite")]) == 0
    bar = terminal.getvalue()
    assert f"{STORED}/{STORED}" in bar  # drawn with the total (rich), then cleared
    assert "converting" in bar
    assert "responses" in bar


def test_progress_callback_sees_every_response(pickled_sqlite: Path, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    summary = convert(
        pickled_sqlite, tmp_path / "ours.sqlite", trust_pickle=True, progress=_record(seen)
    )
    assert isinstance(summary, ConvertSummary)
    assert seen == [(n, STORED) for n in range(1, STORED + 1)]


def _record(seen: list[tuple[int, int | None]]) -> Any:
    return lambda done, total: seen.append((done, total))
