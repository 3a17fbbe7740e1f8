"""Secrets in requests never reach the SQLite file: query parameters, headers and JSON body
fields named in ``ignored_parameters`` are redacted before storing and left out of keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from requests_cache_like import CachedResponse, CachedSession
from requests_cache_like.backends import SQLiteCache
from requests_cache_like.demo import LocalOrigin

QUERY_SECRET = "SECRET123"
HEADER_SECRET = "SECRET456"
BODY_SECRET = "SECRET789"
OTHER_SECRET = "SECRET000"
SECRETS = [QUERY_SECRET, HEADER_SECRET, BODY_SECRET, OTHER_SECRET]


def database_bytes(db_path: str) -> bytes:
    """Everything SQLite has written for the database: the file, and any -wal or -journal."""
    path = Path(db_path)
    files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    assert path in files
    return b"".join(p.read_bytes() for p in sorted(files))


def assert_no_secret(data: bytes) -> None:
    for secret in SECRETS:
        assert secret.encode() not in data, f"{secret} found in the stored bytes"


@pytest.fixture(params=["default", "json", "pickle"])
def serializer(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=[False, True], ids=["rollback-journal", "wal"])
def redacting_session(
    tmp_path: Path, serializer: str, request: pytest.FixtureRequest
) -> Iterator[CachedSession]:
    session = CachedSession(
        tmp_path / "secrets",
        serializer=serializer,
        wal=request.param,
        allowable_methods=("GET", "POST"),
    )
    yield session
    session.close()


def db_path(session: CachedSession) -> str:
    assert isinstance(session.cache, SQLiteCache)
    return session.cache.db_path


def test_secrets_never_reach_the_file(
    redacting_session: CachedSession, origin: LocalOrigin
) -> None:
    session = redacting_session
    # /bytes/N does not echo the request, so any secret in the file came from the request.
    get_url = origin.url(f"/bytes/32?page=1&api_key={QUERY_SECRET}")
    post_url = origin.url(f"/bytes/48?api_key={QUERY_SECRET}")
    got = session.get(get_url, headers={"Authorization": f"Bearer {HEADER_SECRET}"})
    posted = session.post(
        post_url,
        headers={"Authorization": f"Bearer {HEADER_SECRET}", "X-API-Key": OTHER_SECRET},
        json={"access_token": BODY_SECRET, "query": "kept"},
    )
    assert got.from_cache is False
    assert posted.from_cache is False
    assert len(session.cache.responses) == 2

    path = db_path(session)
    journal_mode = session.cache.responses.connection.execute("PRAGMA journal_mode").fetchone()[0]
    if journal_mode == "wal":  # the entries are still in the write-ahead log: scan it too
        assert Path(path + "-wal").stat().st_size > 0
    assert_no_secret(database_bytes(path))

    cached_get = session.cache.get_response(got.cache_key)
    assert isinstance(cached_get, CachedResponse)
    assert "api_key=REDACTED" in cached_get.request.url
    assert "page=1" in cached_get.request.url
    assert "api_key=REDACTED" in cached_get.url
    assert cached_get.request.headers["Authorization"] == "REDACTED"

    cached_post = session.cache.get_response(posted.cache_key)
    assert isinstance(cached_post, CachedResponse)
    assert cached_post.request.method == "POST"
    assert "api_key=REDACTED" in cached_post.request.url
    assert cached_post.request.headers["Authorization"] == "REDACTED"
    assert cached_post.request.headers["X-API-Key"] == "REDACTED"
    assert json.loads(cached_post.request.body) == {"access_token": "REDACTED", "query": "kept"}


def test_hits_do_not_write_secrets(redacting_session: CachedSession, origin: LocalOrigin) -> None:
    session = redacting_session
    url = origin.url(f"/bytes/16?api_key={QUERY_SECRET}")
    headers = {"Authorization": f"Bearer {HEADER_SECRET}"}
    session.get(url, headers=headers)
    hit = session.get(url, headers=headers)
    assert hit.from_cache is True
    session.cache.reset_expiration(3600)  # rewrites every entry
    assert_no_secret(database_bytes(db_path(session)))


def test_requests_differing_only_in_secrets_share_one_key(
    redacting_session: CachedSession, origin: LocalOrigin
) -> None:
    session = redacting_session
    first = session.get(
        origin.url(f"/bytes/24?api_key={QUERY_SECRET}"),
        headers={"Authorization": f"Bearer {HEADER_SECRET}"},
    )
    second = session.get(
        origin.url(f"/bytes/24?api_key={OTHER_SECRET}"),
        headers={"Authorization": "Bearer another-token"},
    )
    assert second.cache_key == first.cache_key
    assert second.from_cache is True
    assert len(session.cache.responses) == 1

    posted = session.post(origin.url("/bytes/24"), json={"access_token": BODY_SECRET, "n": 1})
    again = session.post(origin.url("/bytes/24"), json={"n": 1, "access_token": "different"})
    assert again.cache_key == posted.cache_key
    assert again.from_cache is True
    assert_no_secret(database_bytes(db_path(session)))


def test_a_different_non_secret_parameter_is_a_different_key(
    redacting_session: CachedSession, origin: LocalOrigin
) -> None:
    session = redacting_session
    first = session.get(origin.url(f"/bytes/8?page=1&api_key={QUERY_SECRET}"))
    second = session.get(origin.url(f"/bytes/8?page=2&api_key={QUERY_SECRET}"))
    assert first.cache_key != second.cache_key
    assert second.from_cache is False


def test_redirect_history_is_redacted(tmp_path: Path, origin: LocalOrigin) -> None:
    session = CachedSession(tmp_path / "redirect_secrets")
    response = session.get(origin.url(f"/redirect/2?api_key={QUERY_SECRET}"))
    assert len(response.history) == 2
    cached = session.get(origin.url(f"/redirect/2?api_key={QUERY_SECRET}"))
    assert cached.from_cache is True
    assert "api_key=REDACTED" in cached.history[0].url
    assert "api_key=REDACTED" in cached.history[0].request.url
    assert_no_secret(database_bytes(db_path(session)))
    session.close()


def test_custom_ignored_parameters(tmp_path: Path, origin: LocalOrigin) -> None:
    session = CachedSession(tmp_path / "custom", ignored_parameters=["session_id", "X-Tenant"])
    first = session.get(
        origin.url(f"/bytes/8?session_id={QUERY_SECRET}"), headers={"X-Tenant": HEADER_SECRET}
    )
    second = session.get(origin.url("/bytes/8?session_id=other"), headers={"X-Tenant": "x"})
    assert second.from_cache is True
    assert second.cache_key == first.cache_key
    assert "session_id=REDACTED" in second.request.url
    assert second.request.headers["X-Tenant"] == "REDACTED"
    assert_no_secret(database_bytes(db_path(session)))
    session.close()
