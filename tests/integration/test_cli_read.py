"""The commands that look (info, urls, show) on SQLite, filesystem and Redis caches, with
every entry read in the format that wrote it."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import time_machine

from requests_cache_like import CachedSession
from requests_cache_like.demo import LocalOrigin
from requests_cache_like.serializers import safe_pickle_serializer

from . import test_cli_support as support
from .test_cli_support import Target, invoke

# The shared fixtures, taken into this module so that pytest finds them.
target = support.target

START = datetime(2030, 1, 1, 12, tzinfo=timezone.utc)


def fields(stdout: str) -> dict[str, str]:
    """``info``'s plain output as {label: value}."""
    pairs = (line.split(":", 1) for line in stdout.splitlines())
    return {label: value.strip() for label, value in pairs}


def test_info_counts_ages_and_formats(target: Target, origin: LocalOrigin) -> None:
    with time_machine.travel(START, tick=False):
        target.fill(origin.url("/json?info=1"), origin.url("/json?info=2"), serializer="json")
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        target.fill(origin.url("/json?info=3"), expire_after=60)
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        result = invoke("info", *target.args)
    assert result.exit_code == 0, result.stderr
    report = fields(result.stdout)
    assert report["responses"] == "3 (2 fresh, 1 expired)"
    assert report["formats"] == "default 1, json 2"
    assert report["oldest"] == "2030-01-01T12:00:00+00:00"
    assert report["newest"] == "2030-01-01T12:05:00+00:00"
    assert report["unreadable"] == "0"
    assert int(report["size"].split()[0]) > 0
    assert report["redirects"] == "0"
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_urls_of_a_json_cache(target: Target, origin: LocalOrigin) -> None:
    urls = [origin.url("/json?urls=1"), origin.url("/json?urls=2"), origin.url("/bytes/64")]
    target.fill(*urls, serializer="json")
    result = invoke("urls", *target.args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == sorted(urls)  # plain: one URL a line, nothing else


def test_show_status_headers_and_body(target: Target, origin: LocalOrigin) -> None:
    url = origin.url("/json?show=1")
    target.fill(url, serializer="json")
    result = invoke("show", *target.args, url)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"GET {url}"
    assert "status:   200 OK" in lines
    assert "format:   json" in lines
    assert "  Content-Type: application/json" in lines
    assert lines[-1] == '{"path": "/json", "args": {"show": "1"}}'


def test_show_by_method_and_after_a_redirect(target: Target, origin: LocalOrigin) -> None:
    with target.session(allowable_methods=("GET", "POST")) as session:
        session.post(origin.url("/echo"), data=b"hello")
        session.get(origin.url("/redirect/1"))
    posted = invoke("show", *target.args, origin.url("/echo"), "--method", "post")
    assert posted.exit_code == 0, posted.stderr
    assert posted.stdout.startswith(f"POST {origin.url('/echo')}\n")
    assert '"body": "hello"' in posted.stdout
    redirected = invoke("show", *target.args, origin.url("/redirect/1"))
    assert redirected.exit_code == 0, redirected.stderr
    assert redirected.stdout.startswith(f"GET {origin.url('/json')}\n")
    assert f"via:      {origin.url('/redirect/1')}" in redirected.stdout


def test_show_an_absent_url_is_an_error(target: Target, origin: LocalOrigin) -> None:
    target.fill(origin.url("/json?present=1"))
    result = invoke("show", *target.args, origin.url("/json?absent=1"))
    assert result.exit_code == 1
    assert "no cached response to GET" in result.stderr
    assert invoke("show", *target.args, origin.url("/json?present=1"), "--method", "PUT").exit_code


SERIALIZERS: list[tuple[Any, str]] = [
    ("default", "default"),
    ("json", "json"),
    ("yaml", "yaml"),
    ("msgpack", "msgpack"),
    ("pickle", "pickle"),
    ("json+zstd", "json+zstd"),
    ("default+zlib", "default+zlib"),
    ("yaml+zlib", "yaml+zlib"),
    ("msgpack+zstd", "msgpack+zstd"),
    (safe_pickle_serializer("secret"), "pickle+signed"),
    (safe_pickle_serializer("secret", compress="zstd"), "pickle+zstd+signed"),
]


@pytest.mark.parametrize(("serializer", "label"), SERIALIZERS, ids=[s[1] for s in SERIALIZERS])
def test_every_serializer_is_recognised(
    serializer: Any, label: str, tmp_path: Path, origin: LocalOrigin
) -> None:
    cache = tmp_path / "formats.sqlite"
    url = origin.url(f"/json?format={label}")
    with CachedSession(str(cache), serializer=serializer) as session:
        session.get(url)
    assert f"formats:   {label} 1" in invoke("info", str(cache)).stdout
    assert invoke("urls", str(cache)).stdout == f"{url}\n"
    assert invoke("delete", str(cache), "--invalid").stdout == "deleted 0 response(s)\n"
    with CachedSession(str(cache), serializer=serializer) as session:
        assert session.get(url).from_cache is True


def test_a_cache_of_mixed_formats(tmp_path: Path, origin: LocalOrigin) -> None:
    cache = str(tmp_path / "mixed")
    for serializer in ("default", "json", "yaml", "msgpack"):
        with CachedSession(cache, serializer=serializer) as session:
            session.get(origin.url(f"/json?mixed={serializer}"))
    result = invoke("info", cache)
    assert fields(result.stdout)["formats"] == "default 1, json 1, msgpack 1, yaml 1"
    assert len(invoke("urls", cache).stdout.splitlines()) == 4


def test_unsealed_entries_are_read_and_said_so(tmp_path: Path, origin: LocalOrigin) -> None:
    cache = tmp_path / "old.sqlite"
    with CachedSession(str(cache), serializer="json") as session:
        session.get(origin.url("/json?old=1"))
    with sqlite3.connect(cache) as db:  # as written before entries were sealed
        db.execute("UPDATE responses SET value = substr(value, 11)")
    db.close()
    assert fields(invoke("info", str(cache)).stdout)["formats"] == "json (unsealed) 1"
    assert invoke("urls", str(cache)).stdout == origin.url("/json?old=1") + "\n"


def test_info_draws_a_table_on_a_terminal(
    target: Target, origin: LocalOrigin, monkeypatch: pytest.MonkeyPatch
) -> None:
    target.fill(origin.url("/json?table=1"))
    monkeypatch.setattr("requests_cache_like.cli._commands.is_terminal", lambda stream: True)
    result = invoke("info", *target.args)
    assert result.exit_code == 0
    assert "responses:" not in result.stdout  # a table, not the plain lines
    assert "1 (1 fresh, 0 expired)" in result.stdout
