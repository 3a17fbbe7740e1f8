"""The command line as a whole: bad input gives one line on stderr and a non-zero exit (a
traceback only under --debug), nothing is ever created where no cache was, ``demo`` never
touches an existing cache, --version, ``main()``'s exit status, ``python -m`` without the
``cli`` extra, and the MongoDB and DynamoDB URL forms."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import requests_cache_like
from requests_cache_like import CachedSession
from requests_cache_like.cli import main
from requests_cache_like.demo import LocalOrigin

from ..conftest import DYNAMODB_CLIENT_OPTIONS
from ..servers import free_port
from .test_cli_support import assert_one_line_error, invoke

ROOT = Path(requests_cache_like.__file__).parent.parent


def run_module(*args: str, python: str = "") -> subprocess.CompletedProcess[str]:
    """``python -m requests_cache_like ARGS`` in a child process (``python``: code run first)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    code = f"{python}\nimport runpy, sys\nsys.argv[0] = 'requests-cache-like'\n"
    code += "runpy.run_module('requests_cache_like', run_name='__main__')"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=60
    )


def digest(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory: the bad inputs below name files in it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("not a database at all", encoding="utf-8")
    (tmp_path / "empty_dir").mkdir()
    with CachedSession(str(tmp_path / "theirs.db")) as session:
        session.cache.clear()
    import sqlite3

    other = sqlite3.connect(tmp_path / "other.sqlite")  # a database, but no cache
    other.execute("CREATE TABLE things (name TEXT)")
    other.commit()
    other.close()
    return tmp_path


BAD_INPUTS = [
    (["info", "missing"], 2, "no cache at 'missing' (nor 'missing.sqlite')"),
    (["urls", "notes.txt"], 2, "'notes.txt' is not a SQLite database"),
    (["info", "other.sqlite"], 2, "is a SQLite database but not a requests_cache_like cache"),
    (["info", "empty_dir"], 2, "is a directory but not a filesystem cache"),
    (["info", "sqlite:///missing.sqlite"], 2, "no cache at 'missing.sqlite'"),
    (["info", "file:///nowhere/at/all"], 2, "no cache at '/nowhere/at/all'"),
    (["info", "ftp://host/cache"], 2, "unknown scheme 'ftp'; accepted schemes: sqlite://"),
    (["info", "memory://"], 2, "an in-memory cache ends with the command"),
    (["info", "theirs.db", "--cache-name", "x"], 2, "--cache-name applies to a server URL"),
    (["delete", "theirs.db", "--older-than", "3 days"], 2, "'3 days' is not a duration"),
    (["delete", "theirs.db", "--older-than", "-1h"], 2, "accepted: a number with an optional"),
    (["delete", "theirs.db"], 2, "give at least one of --expired"),
    (["export", "theirs.db", "--format", "xml"], 2, "'xml' is not one of 'har', 'jsonl'"),
    (["import", "new", "x.jsonl", "--serializer", "bogus"], 2, "unknown format 'bogus'"),
    (["import", "new", "x.jsonl", "--serializer", "json+lzma"], 2, "unknown compression"),
    (["import", "new", "x.jsonl"], 2, "No such file or directory: 'x.jsonl'"),
    (["show", "theirs.db"], 2, "Missing argument 'URL'"),
    (["show", "theirs.db", "https://example.org/"], 1, "no cached response to GET"),
    (["convert", "missing.sqlite", "ours.sqlite"], 2, "SOURCE 'missing.sqlite'"),
    (["frobnicate"], 2, "No such command 'frobnicate'"),
    (["info", "theirs.db", "--verbose"], 2, "--verbose"),
]


@pytest.mark.parametrize(
    ("args", "code", "message"), BAD_INPUTS, ids=[" ".join(a) for a, _, _ in BAD_INPUTS]
)
def test_bad_input_is_one_line_and_creates_nothing(
    workdir: Path, args: list[str], code: int, message: str
) -> None:
    before = digest(workdir)
    assert_one_line_error(invoke(*args), code, message)
    assert digest(workdir) == before


def test_an_unreachable_redis_server(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    for command in (["info", url], ["urls", url], ["delete", url, "--expired"]):
        assert_one_line_error(invoke(*command), 1, "redis storage error", "Connection refused")


def test_debug_shows_the_traceback(workdir: Path) -> None:
    plain = run_module("info", str(workdir / "notes.txt"))
    assert plain.returncode == 2
    assert plain.stderr.count("\n") == 1
    assert "Traceback" not in plain.stderr
    debug = run_module("--debug", "info", str(workdir / "notes.txt"))
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert "CacheNotFound: " in debug.stderr


def test_without_click_or_rich(tmp_path: Path) -> None:
    for library in ("click", "rich"):
        result = run_module("info", "x", python=f"import sys; sys.modules[{library!r}] = None")
        assert result.returncode == 1
        assert result.stdout == ""
        assert result.stderr.splitlines() == [
            "requests-cache-like: the command line needs click and rich: "
            "pip install 'requests-cache-like[cli]'"
        ]


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"requests-cache-like {requests_cache_like.__version__}\n"
    assert main(["--version"]) == 0


def test_main_returns_the_exit_status(
    workdir: Path, capsys: pytest.CaptureFixture[str], origin: LocalOrigin
) -> None:
    assert main(["info", "missing"]) == 2
    assert capsys.readouterr().err == (
        "requests-cache-like: error: no cache at 'missing' (nor 'missing.sqlite')\n"
    )
    assert main(["delete", "theirs.db", "--expired"]) == 0
    assert capsys.readouterr().out == "deleted 0 response(s)\n"
    assert main(["--help"]) == 0
    assert "Commands:" in capsys.readouterr().out


def test_demo_in_a_temporary_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    result = invoke("demo", "--requests", "2")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "(temporary; removed at the end)" in lines[0]
    assert lines[2].startswith("  request 1: miss")
    assert lines[3].startswith("  request 2: hit")
    assert lines[4] == "Origin was called 1 time(s) for 2 requests."
    assert list(tmp_path.iterdir()) == []


def test_demo_makes_a_new_named_cache_and_keeps_it(tmp_path: Path) -> None:
    result = invoke("demo", "--cache-name", str(tmp_path / "tour"), "--requests", "2")
    assert result.exit_code == 0, result.stderr
    assert f"{tmp_path / 'tour.sqlite'} (new; kept)" in result.stdout
    assert "responses: 1 (1 fresh, 0 expired)" in invoke("info", str(tmp_path / "tour")).stdout


def test_demo_never_touches_an_existing_cache(tmp_path: Path, origin: LocalOrigin) -> None:
    # The demo used to clear the cache it was given: an existing one lost every entry.
    mine = tmp_path / "mine.sqlite"
    with CachedSession(str(mine)) as session:
        session.get(origin.url("/json?mine=1"))
    before = digest(tmp_path)
    for name in (str(tmp_path / "mine"), str(mine)):
        result = invoke("demo", "--cache-name", name)
        assert_one_line_error(result, 2, f"'{mine}' already exists", "the demo only writes")
        assert result.stdout == ""
    assert digest(tmp_path) == before
    assert invoke("urls", str(mine)).stdout == origin.url("/json?mine=1") + "\n"


def test_mongodb_and_gridfs_urls(mongodb_url: str, unique_name: str, origin: LocalOrigin) -> None:
    import pymongo

    base = mongodb_url.rstrip("/")
    for url in (f"{base}/{unique_name}", base.replace("mongodb://", "mongodb+gridfs://")):
        name_args = [] if url.endswith(unique_name) else ["--cache-name", unique_name]
        with CachedSession(unique_name, backend=url) as session:
            session.get(origin.url("/json?mongo=1"))
        result = invoke("urls", url, *name_args)
        assert result.stdout == origin.url("/json?mongo=1") + "\n", result.stderr
        assert invoke("delete", url, *name_args, "--url", origin.url("/json?mongo=1")).stdout == (
            "deleted 1 response(s)\n"
        )
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(mongodb_url)
    client.drop_database(unique_name)
    client.close()


def test_a_missing_dynamodb_table_is_not_created(
    dynamodb_endpoint: str, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DYNAMODB_CLIENT_OPTIONS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DYNAMODB_CLIENT_OPTIONS["aws_secret_access_key"])
    region = DYNAMODB_CLIENT_OPTIONS["region_name"]
    url = f"dynamodb://{unique_name}?region={region}&endpoint_url={dynamodb_endpoint}"
    assert_one_line_error(invoke("info", url), 1, f"DynamoDB table '{unique_name}' does not exist")
    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, **DYNAMODB_CLIENT_OPTIONS)
    assert unique_name not in client.list_tables()["TableNames"]
