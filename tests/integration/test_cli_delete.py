"""The commands that remove (delete, clear) on SQLite, filesystem and Redis caches: each
deletes what it is asked to and nothing else, and ``--invalid`` never loses a readable entry."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import time_machine

from requests_cache_like import CachedSession
from requests_cache_like.backends.integrity import seal
from requests_cache_like.demo import LocalOrigin

from . import test_cli_support as support
from .test_cli_support import Target, assert_one_line_error, invoke

# The shared fixtures, taken into this module so that pytest finds them.
target = support.target

START = datetime(2030, 1, 1, 12, tzinfo=timezone.utc)


def stored_urls(target: Target) -> list[str]:
    result = invoke("urls", *target.args)
    assert result.exit_code == 0, result.stderr
    return result.stdout.splitlines()


def test_delete_invalid_keeps_a_json_cache_whole(target: Target, origin: LocalOrigin) -> None:
    # The command line used to read every entry as the default format, so on a cache
    # written with serializer="json" it found every entry "invalid" and deleted them all.
    urls = [origin.url(f"/json?keep={n}") for n in range(3)]
    target.fill(*urls, serializer="json")
    result = invoke("delete", *target.args, "--invalid")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "deleted 0 response(s)\n"
    assert stored_urls(target) == sorted(urls)
    assert target.hits(*urls, serializer="json") == [True, True, True]


def damage(cache: Path, url_part: str) -> None:
    """Flip a byte in the stored entry of the response whose body mentions ``url_part``."""
    with sqlite3.connect(cache) as db:
        for key, value in db.execute("SELECT key, value FROM responses").fetchall():
            if url_part.encode() in value:
                broken = bytearray(value)
                broken[-3] ^= 0xFF
                db.execute("UPDATE responses SET value = ? WHERE key = ?", (bytes(broken), key))
    db.close()


def test_delete_invalid_removes_only_what_no_format_reads(
    tmp_path: Path, origin: LocalOrigin
) -> None:
    cache = tmp_path / "damaged.sqlite"
    with CachedSession(str(cache), serializer="json") as session:
        for n in range(3):
            session.get(origin.url(f"/json?damaged={n}"))
        # An entry of another format version: a known format, unreadable by this release.
        future = b'{"_v": 99, "url": "https://example.org/future"}'
        session.cache.responses.set_raw("future-key", seal("future-key", future))
    damage(cache, "damaged=1")
    info = invoke("info", str(cache)).stdout
    assert "unreadable: 2 (1 invalid, 1 unsupported)" in info
    result = invoke("delete", str(cache), "--invalid")
    assert result.stdout == "deleted 1 response(s)\n"
    assert invoke("urls", str(cache)).stdout.splitlines() == [
        origin.url("/json?damaged=0"),
        origin.url("/json?damaged=2"),
    ]
    assert "unreadable: 1 (1 unsupported)" in invoke("info", str(cache)).stdout


def test_delete_expired(target: Target, origin: LocalOrigin) -> None:
    with time_machine.travel(START, tick=False):
        target.fill(origin.url("/json?expiry=short"), expire_after=60)
        target.fill(origin.url("/json?expiry=long"), expire_after=7200)
        target.fill(origin.url("/json?expiry=never"))
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        result = invoke("delete", *target.args, "--expired")
        assert result.stdout == "deleted 1 response(s)\n"
        assert stored_urls(target) == [
            origin.url("/json?expiry=long"),
            origin.url("/json?expiry=never"),
        ]


@pytest.mark.parametrize(
    ("age", "deleted"),
    [("2h", 1), ("120m", 1), ("7200", 1), ("7200s", 1), ("30m", 2), ("1d", 0), ("1w", 0)],
)
def test_delete_older_than(target: Target, origin: LocalOrigin, age: str, deleted: int) -> None:
    with time_machine.travel(START, tick=False):
        target.fill(origin.url("/json?age=old"))
    with time_machine.travel(START + timedelta(hours=3), tick=False):
        target.fill(origin.url("/json?age=new"))
    with time_machine.travel(START + timedelta(hours=3, minutes=40), tick=False):
        result = invoke("delete", *target.args, "--older-than", age)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"deleted {deleted} response(s)\n"
    assert len(stored_urls(target)) == 2 - deleted


def test_delete_by_url_and_glob(target: Target, origin: LocalOrigin) -> None:
    urls = [origin.url(p) for p in ("/json?a=1", "/json?a=2", "/json?b=1", "/bytes/16")]
    target.fill(*urls, serializer="json")
    result = invoke(
        "delete",
        *target.args,
        "--url",
        urls[3],
        "--url",
        origin.url("/nothing"),
        "--match",
        "*?a=*",
    )
    assert result.stdout == "deleted 3 response(s)\n"
    assert stored_urls(target) == [origin.url("/json?b=1")]


def test_delete_takes_the_redirect_aliases_along(target: Target, origin: LocalOrigin) -> None:
    with target.session() as session:
        session.get(origin.url("/redirect/2"))
        assert len(session.cache.redirects) == 2
        result = invoke("delete", *target.args, "--url", origin.url("/redirect/2"))
        assert result.stdout == "deleted 1 response(s)\n"
        assert len(session.cache.redirects) == 0


def test_dry_run_deletes_nothing(target: Target, origin: LocalOrigin) -> None:
    target.fill(origin.url("/json?dry=1"), origin.url("/json?dry=2"))
    result = invoke("delete", *target.args, "--match", "*dry=1", "--dry-run")
    assert result.stdout.splitlines() == [
        f"would delete {origin.url('/json?dry=1')} (response)",
        "would delete 1 response(s) (dry run: nothing deleted)",
    ]
    assert len(stored_urls(target)) == 2


def test_delete_needs_a_condition(target: Target, origin: LocalOrigin) -> None:
    target.fill(origin.url("/json?condition=1"))
    assert_one_line_error(invoke("delete", *target.args), 2, "give at least one of --expired")
    assert len(stored_urls(target)) == 1


def test_clear_with_yes(target: Target, origin: LocalOrigin) -> None:
    with target.session() as session:
        session.get(origin.url("/json?clear=1"))
        session.get(origin.url("/redirect/1"))
    result = invoke("clear", *target.args, "--yes")
    assert result.stdout == "cleared 2 response(s)\n"
    assert stored_urls(target) == []
    assert "redirects: 0" in invoke("info", *target.args).stdout


def test_clear_refuses_without_a_terminal_or_yes(target: Target, origin: LocalOrigin) -> None:
    target.fill(origin.url("/json?refuse=1"))
    assert_one_line_error(invoke("clear", *target.args, input="y\n"), 2, "pass --yes")
    assert len(stored_urls(target)) == 1


def test_clear_asks_on_a_terminal(
    target: Target, origin: LocalOrigin, monkeypatch: pytest.MonkeyPatch
) -> None:
    target.fill(origin.url("/json?ask=1"))
    monkeypatch.setattr("requests_cache_like.cli._delete.is_terminal", lambda stream: True)
    declined = invoke("clear", *target.args, input="n\n")
    assert declined.exit_code == 1
    assert "Delete all 1 response(s)" in declined.stdout
    assert len(stored_urls(target)) == 1
    accepted = invoke("clear", *target.args, input="y\n")
    assert accepted.exit_code == 0
    assert stored_urls(target) == []
