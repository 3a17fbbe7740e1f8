"""The command line: info, urls, delete and clear on a SQLite cache file."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import time_machine

from requests_cache_like import CachedSession
from requests_cache_like.cli import main
from requests_cache_like.demo import LocalOrigin


def _in_an_hour() -> datetime:
    return datetime.now(timezone.utc) + timedelta(hours=1)


@pytest.fixture
def filled_cache(tmp_path: Path, origin: LocalOrigin) -> Path:
    path = tmp_path / "cli_cache.sqlite"
    with CachedSession(str(path), serializer="json") as session:
        session.get(origin.url("/json?cli=keep"))
        session.get(origin.url("/json?cli=short"), expire_after=60)
    return path


def test_info_counts_fresh_and_expired(
    filled_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with time_machine.travel(_in_an_hour(), tick=False):
        assert main(["info", str(filled_cache), "--serializer", "json"]) == 0
    out = capsys.readouterr().out
    assert "responses: 2 (1 fresh, 1 expired)" in out


def test_urls_lists_each_url(
    filled_cache: Path, origin: LocalOrigin, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["urls", str(filled_cache), "--serializer", "json"]) == 0
    lines = capsys.readouterr().out.split()
    assert lines == sorted([origin.url("/json?cli=keep"), origin.url("/json?cli=short")])


def test_delete_expired_keeps_the_rest(
    filled_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with time_machine.travel(_in_an_hour(), tick=False):
        assert main(["delete", str(filled_cache), "--expired", "--serializer", "json"]) == 0
    assert "deleted 1 response(s)" in capsys.readouterr().out
    assert main(["info", str(filled_cache)]) == 0
    assert "responses: 1" in capsys.readouterr().out


def test_delete_needs_a_condition(filled_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["delete", str(filled_cache)]) == 2
    assert "give --expired" in capsys.readouterr().err


def test_clear_empties_the_cache(filled_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clear", str(filled_cache)]) == 0
    assert main(["info", str(filled_cache)]) == 0
    assert "responses: 0" in capsys.readouterr().out


def test_a_missing_file_is_an_error_not_a_new_cache(tmp_path: Path) -> None:
    missing = tmp_path / "nothing_here"
    with pytest.raises(SystemExit, match="no cache file"):
        main(["info", str(missing)])
    assert not missing.with_suffix(".sqlite").exists()
