"""export (HAR 1.2, JSON Lines) and import: a HAR that browsers' developer tools open, and a
JSON Lines export that, imported into another backend, answers the same requests."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
import responses

from requests_cache_like import CachedSession
from requests_cache_like.demo import LocalOrigin

from . import test_cli_support as support
from .test_cli_support import Target, assert_one_line_error, invoke

# The shared fixtures, taken into this module so that pytest finds them.
target = support.target
other_target = support.other_target


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


def check_har_entry(entry: dict[str, Any]) -> None:
    """Every field HAR 1.2 requires of an entry, with its type."""
    assert isinstance(entry["startedDateTime"], str)
    assert entry["startedDateTime"].endswith("Z")
    assert entry["time"] == pytest.approx(
        sum(entry["timings"][k] for k in ("send", "wait", "receive"))
    )
    request, response = entry["request"], entry["response"]
    for name in ("method", "url", "httpVersion"):
        assert isinstance(request[name], str)
    for name in ("headers", "queryString", "cookies"):
        assert isinstance(request[name], list)
    assert request["headersSize"] == -1
    assert isinstance(request["bodySize"], int)
    assert isinstance(response["status"], int)
    assert isinstance(response["statusText"], str)
    assert response["httpVersion"] == "HTTP/1.1"
    assert isinstance(response["headers"], list)
    assert isinstance(response["cookies"], list)
    assert {"size", "mimeType", "text"} <= set(response["content"])
    assert isinstance(response["redirectURL"], str)
    assert response["headersSize"] == -1
    assert isinstance(response["bodySize"], int)
    assert entry["cache"] == {}
    assert all(entry["timings"][k] >= 0 for k in ("send", "wait", "receive"))


@responses.activate
def test_har_export(tmp_path: Path) -> None:
    responses.get("https://api.test/text?q=1&lang=en", body="héllo", content_type="text/plain")
    responses.get("https://api.test/logo.png", body=PNG, content_type="image/png")
    responses.get(
        "https://api.test/login", json={"ok": True}, headers={"Set-Cookie": "session=abc; Path=/"}
    )
    cache = str(tmp_path / "har")
    with CachedSession(cache, serializer="json") as session:
        session.get("https://api.test/text?q=1&lang=en", headers={"Cookie": "theme=dark"})
        session.get("https://api.test/logo.png")
        session.get("https://api.test/login")
    result = invoke("export", cache, "--format", "har")
    assert result.exit_code == 0, result.stderr
    log = json.loads(result.stdout)["log"]
    assert log["version"] == "1.2"
    assert log["creator"]["name"] == "requests-cache-like"
    assert len(log["entries"]) == 3
    by_url = {entry["request"]["url"]: entry for entry in log["entries"]}
    for entry in log["entries"]:
        check_har_entry(entry)
    text = by_url["https://api.test/text?q=1&lang=en"]
    assert text["request"]["queryString"] == [
        {"name": "q", "value": "1"},
        {"name": "lang", "value": "en"},
    ]
    assert text["request"]["cookies"] == [{"name": "theme", "value": "dark"}]
    assert text["response"]["content"]["text"] == "héllo"
    assert "encoding" not in text["response"]["content"]
    image = by_url["https://api.test/logo.png"]["response"]["content"]
    assert image["mimeType"] == "image/png"
    assert (image["encoding"], image["size"]) == ("base64", len(PNG))
    assert base64.b64decode(image["text"]) == PNG
    login = by_url["https://api.test/login"]["response"]
    assert login["cookies"] == [{"name": "session", "value": "abc"}]


def test_har_export_of_a_redirect_to_a_file(
    target: Target, origin: LocalOrigin, tmp_path: Path
) -> None:
    target.fill(origin.url("/redirect/1"))
    har = tmp_path / "out.har"
    result = invoke("export", *target.args, "--output", str(har))
    assert result.stdout == f"exported 1 response(s) to {har}\n"
    entries = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
    assert [e["response"]["status"] for e in entries] == [302, 200]
    assert entries[0]["response"]["redirectURL"] == "/json"
    for entry in entries:
        check_har_entry(entry)


def test_jsonl_round_trip_to_another_backend(
    target: Target, other_target: Target, origin: LocalOrigin, tmp_path: Path
) -> None:
    urls = [origin.url("/json?trip=1"), origin.url("/bytes/100"), origin.url("/redirect/1")]
    target.fill(*urls[:2], serializer="json")
    target.fill(urls[2])
    export = tmp_path / "export.jsonl"
    assert invoke("export", *target.args, "--format", "jsonl", "-o", str(export)).exit_code == 0
    lines = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    assert sorted(line["type"] for line in lines) == [
        "redirect",
        "response",
        "response",
        "response",
    ]
    result = invoke("import", *other_target.new_args, str(export))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("imported 3 response(s) into ")
    assert invoke("urls", *other_target.args).stdout == invoke("urls", *target.args).stdout
    before = sum(origin.hits.values())
    assert other_target.hits(*urls, origin.url("/json")) == [True] * 4
    assert sum(origin.hits.values()) == before  # no request reached the origin


def test_import_from_stdin_in_a_chosen_format(
    target: Target, origin: LocalOrigin, tmp_path: Path
) -> None:
    target.fill(origin.url("/json?stdin=1"))
    exported = invoke("export", *target.args, "--format", "jsonl").stdout
    dest = tmp_path / "imported"
    result = invoke("import", f"{dest}/", "-", "--serializer", "json", input=exported)
    assert result.exit_code == 0, result.stderr
    assert "formats:   json 1" in invoke("info", str(dest)).stdout
    assert sorted(p.suffix for p in dest.rglob("*") if p.is_file()) == [".json"]


def test_import_stops_at_a_bad_line(tmp_path: Path, origin: LocalOrigin) -> None:
    source = tmp_path / "source"
    with CachedSession(str(source)) as session:
        session.get(origin.url("/json?bad=1"))
    good = invoke("export", str(source), "--format", "jsonl").stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text(good + '{"type": "nonsense"}\n', encoding="utf-8")
    result = invoke("import", str(tmp_path / "dest"), str(bad))
    assert_one_line_error(result, 2, "line 2", "unknown type 'nonsense'", "1 response(s) were")
    bad.write_text("this is not json\n", encoding="utf-8")
    assert_one_line_error(invoke("import", str(tmp_path / "dest"), str(bad)), 2, "line 1")


def test_import_into_something_that_is_not_a_cache(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("my notes", encoding="utf-8")
    export = tmp_path / "empty.jsonl"
    export.write_text("", encoding="utf-8")
    result = invoke("import", str(text), str(export))
    assert_one_line_error(result, 2, "is not a SQLite database")
    assert text.read_text(encoding="utf-8") == "my notes"
    assert_one_line_error(invoke("import", str(tmp_path / "x"), str(tmp_path / "nope")), 2)
    assert not (tmp_path / "x.sqlite").exists()


def test_export_to_a_pipe_writes_into_it(tmp_path: Path, origin: LocalOrigin) -> None:
    # A file is written beside and renamed over at the end; a pipe or a device (/dev/null)
    # must be written in place, never replaced by a file.
    cache = str(tmp_path / "piped")
    with CachedSession(cache) as session:
        session.get(origin.url("/json?piped=1"))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    result = invoke("export", cache, "--format", "jsonl", "--output", str(fifo))
    reader.join(timeout=10)  # returns at once unless the pipe was never written
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received
    assert json.loads(received[0])["type"] == "response"
