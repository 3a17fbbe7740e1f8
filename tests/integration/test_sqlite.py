"""The SQLite backend: choosing it, where its file lives, its options, and its guarantees
(bound parameters, atomic writes, clear errors when the file is locked or corrupt)."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import time_machine

from requests_cache_like import CachedResponse, CachedSession
from requests_cache_like.backends import (
    BACKEND_CLASSES,
    BaseCache,
    MemoryCache,
    SQLiteCache,
    SQLiteDict,
    init_backend,
)
from requests_cache_like.demo import LocalOrigin
from requests_cache_like.exceptions import StorageBusyError, StorageError, UnknownBackendError
from requests_cache_like.models import CachedRequest
from requests_cache_like.serializers import init_serializer

NOW = datetime(2030, 5, 17, 12, 0, tzinfo=timezone.utc)
EVIL_KEY = "x'); DROP TABLE responses; --"


def make_response(
    name: str,
    size: int = 16,
    created_at: datetime = NOW,
    expires: datetime | None = None,
) -> CachedResponse:
    """A stored response for ``https://example.org/<name>`` with a ``size``-byte body."""
    url = f"https://example.org/{name}"
    return CachedResponse(
        content=(name.encode() * size)[:size],
        url=url,
        request=CachedRequest(method="GET", url=url),
        created_at=created_at,
        expires=expires,
    )


def table_names(path: str | Path) -> set[str]:
    """The tables in the database file at ``path``, read over a separate connection (each
    table's ``{table}_usage`` and ``{table}_uses`` beside it, the bookkeeping of size limits,
    left out)."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        names = {row[0] for row in rows}
        bookkeeping = {f"{name}_{suffix}" for name in names for suffix in ("usage", "uses")}
        return names - bookkeeping


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[SQLiteCache]:
    """A SQLite cache in the test's temporary directory."""
    sqlite_cache = SQLiteCache(tmp_path / "cache")
    yield sqlite_cache
    sqlite_cache.close()


@pytest.fixture
def other_connection(cache: SQLiteCache) -> Iterator[sqlite3.Connection]:
    """A second connection to the cache's file, as another process would hold."""
    connection = sqlite3.connect(cache.db_path, isolation_level=None)
    yield connection
    if connection.in_transaction:
        connection.execute("ROLLBACK")
    connection.close()


# -- choosing the backend ---------------------------------------------------------------------


def test_sqlite_is_registered_and_the_default(tmp_path: Path) -> None:
    assert BACKEND_CLASSES["sqlite"] is SQLiteCache
    assert BACKEND_CLASSES["memory"] is MemoryCache
    default = init_backend(tmp_path / "default")
    assert type(default) is SQLiteCache
    assert default.db_path == str(tmp_path / "default.sqlite")
    default.close()


@pytest.mark.parametrize("name", ["sqlite", "SQLite", "SQLITE"])
def test_backend_name_is_case_insensitive(tmp_path: Path, name: str) -> None:
    chosen = init_backend(tmp_path / "named", name)
    assert type(chosen) is SQLiteCache
    assert Path(chosen.db_path) == tmp_path / "named.sqlite"
    chosen.close()


def test_relative_url_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    chosen = init_backend("ignored_name", "sqlite:///relative.db")
    assert isinstance(chosen, SQLiteCache)
    chosen.redirects["alias"] = "target"
    assert (tmp_path / "relative.db").is_file()
    assert Path(chosen.db_path) == tmp_path / "relative.db"
    assert not (tmp_path / "ignored_name.sqlite").exists()

    # The file stays the same one after the working directory changes and the cache reopens.
    chosen.close()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert chosen.redirects["alias"] == "target"
    assert list(elsewhere.iterdir()) == []
    chosen.close()


def test_absolute_url(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "absolute.db"
    url = f"sqlite:///{target}"
    assert url.startswith("sqlite:////")
    chosen = init_backend("ignored_name", url)
    assert isinstance(chosen, SQLiteCache)
    assert chosen.db_path == str(target)
    assert table_names(target) == {"responses", "redirects"}
    chosen.close()


def test_url_path_is_percent_decoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    chosen = init_backend(backend="sqlite:///with%20space/cache.db")
    assert isinstance(chosen, SQLiteCache)
    assert Path(chosen.db_path) == tmp_path / "with space" / "cache.db"
    chosen.close()


def test_memory_url_makes_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    chosen = init_backend("ignored_name", "sqlite://:memory:")
    assert isinstance(chosen, SQLiteCache)
    assert chosen.db_path == ":memory:"
    chosen.save_response(make_response("in-memory"), cache_key="k")
    assert chosen.get_response("k").content == make_response("in-memory").content
    assert list(tmp_path.iterdir()) == []
    chosen.close()


def test_url_options_combine_with_keyword_options(tmp_path: Path) -> None:
    chosen = init_backend("x", f"sqlite:///{tmp_path}/combined.db", wal=True, busy_timeout=1234)
    assert isinstance(chosen, SQLiteCache)
    assert chosen.db_path == str(tmp_path / "combined.db")
    assert chosen.responses.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert chosen.responses.connection.execute("PRAGMA busy_timeout").fetchone()[0] == 1234
    chosen.close()


@pytest.mark.parametrize("backend", ["postgres", "sqlite3", "cassandra"])
def test_unknown_backend_name(tmp_path: Path, backend: str) -> None:
    with pytest.raises(UnknownBackendError) as excinfo:
        init_backend(tmp_path / "x", backend)
    assert isinstance(excinfo.value, ValueError)
    message = str(excinfo.value)
    assert repr(backend) in message
    assert "sqlite" in message
    assert "memory" in message


@pytest.mark.parametrize("url", ["postgresql://db.example/app", "SQLITE3:///cache.db"])
def test_unknown_url_scheme(tmp_path: Path, url: str) -> None:
    with pytest.raises(UnknownBackendError) as excinfo:
        init_backend(tmp_path / "x", url)
    assert isinstance(excinfo.value, ValueError)
    message = str(excinfo.value)
    assert url in message
    assert url.split(":", 1)[0].lower() in message
    assert "sqlite://" in message
    assert "memory://" in message


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "SQLite://"])
def test_sqlite_url_without_a_path(tmp_path: Path, url: str) -> None:
    with pytest.raises(UnknownBackendError) as excinfo:
        init_backend(tmp_path / "x", url)
    assert isinstance(excinfo.value, ValueError)
    message = str(excinfo.value)
    assert repr(url) in message
    assert "sqlite:///" in message  # an example of what would work


def test_backend_of_the_wrong_type(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="42"):
        init_backend(tmp_path / "x", 42)  # type: ignore[arg-type]


@pytest.mark.parametrize("option", ["colour", "busy_timout", "journal"])
def test_unknown_backend_option_is_named(tmp_path: Path, option: str) -> None:
    with pytest.raises(TypeError, match=option):
        init_backend(tmp_path / "x", "sqlite", **{option: 1})
    with pytest.raises(TypeError, match=option):
        CachedSession(str(tmp_path / "y"), backend="sqlite", **{option: 1})


def test_instance_is_used_as_is(cache: SQLiteCache) -> None:
    assert init_backend("another_name", cache) is cache
    session = CachedSession("another_name", backend=cache)
    assert session.cache is cache
    with pytest.warns(UserWarning, match="wal have no effect.*SQLiteCache"):
        assert init_backend("another_name", cache, wal=True) is cache


def test_subclass_is_instantiated(tmp_path: Path) -> None:
    class TaggedSQLiteCache(SQLiteCache):
        tag = "mine"

    chosen = init_backend(tmp_path / "sub", TaggedSQLiteCache, fast_save=True)
    assert type(chosen) is TaggedSQLiteCache
    assert isinstance(chosen, BaseCache)
    assert chosen.db_path == str(tmp_path / "sub.sqlite")
    assert chosen.responses.connection.execute("PRAGMA synchronous").fetchone()[0] == 0
    chosen.close()


# -- where the file lives ----------------------------------------------------------------------


def test_use_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def fake_user_cache_dir(appname: str) -> str:
        asked.append(appname)
        return str(tmp_path / "user-cache" / appname)

    monkeypatch.setattr("requests_cache_like.backends.sqlite.user_cache_dir", fake_user_cache_dir)
    chosen = SQLiteCache("my_cache", use_cache_dir=True)
    expected = tmp_path / "user-cache" / asked[0] / "my_cache.sqlite"
    assert chosen.db_path == str(expected)
    assert expected.is_file()
    chosen.close()


def test_use_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    temp_dir = tmp_path / "temp"
    temp_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp_dir))
    chosen = SQLiteCache("temp_cache", use_temp=True)
    assert chosen.db_path == str(temp_dir / "temp_cache.sqlite")
    assert (temp_dir / "temp_cache.sqlite").is_file()
    chosen.close()


def test_use_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    chosen = SQLiteCache("would_be_a_file", use_memory=True)
    assert chosen.db_path == ":memory:"
    chosen.save_response(make_response("a"), cache_key="a")
    chosen.save_redirect(CachedRequest(url="https://example.org/old"), "a")
    assert chosen.count() == 1
    assert len(chosen.redirects) == 1
    assert list(tmp_path.iterdir()) == []
    # Closing an in-memory database loses its content, but the cache stays usable.
    chosen.close()
    assert chosen.count() == 0
    assert list(chosen.redirects) == []
    chosen.save_response(make_response("b"), cache_key="b")
    assert chosen.get_response("b").url == "https://example.org/b"
    chosen.close()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("plain", "plain.sqlite"),
        ("explicit.db", "explicit.db"),
        ("other.cache", "other.cache"),
        ("already.sqlite", "already.sqlite"),
        ("dotted.dir/inside", "dotted.dir/inside.sqlite"),
    ],
)
def test_suffix_is_added_only_when_missing(tmp_path: Path, given: str, expected: str) -> None:
    chosen = SQLiteCache(tmp_path / given)
    assert chosen.db_path == str(tmp_path / expected)
    assert chosen.responses.db_path == chosen.db_path
    assert chosen.redirects.db_path == chosen.db_path
    assert (tmp_path / expected).is_file()
    chosen.close()


def test_session_cache_name_is_the_file(tmp_path: Path) -> None:
    session = CachedSession(tmp_path / "session_cache")
    assert isinstance(session.cache, SQLiteCache)
    assert session.cache.db_path == str(tmp_path / "session_cache.sqlite")
    assert table_names(tmp_path / "session_cache.sqlite") == {"responses", "redirects"}
    session.close()


def test_table_name_must_be_an_identifier(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="table_name"):
        SQLiteDict(tmp_path / "t", table_name="responses; DROP TABLE redirects")
    assert "responses" not in table_names(tmp_path / "t.sqlite")


# -- connection options ------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-1, "5000", 2.5, True, [100]])
def test_busy_timeout_must_be_milliseconds(tmp_path: Path, bad: Any) -> None:
    with pytest.raises(ValueError, match="busy_timeout"):
        SQLiteCache(tmp_path / "x", busy_timeout=bad)


def test_busy_timeout_default_and_value(tmp_path: Path) -> None:
    default = SQLiteCache(tmp_path / "default")
    assert default.responses.connection.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
    default.close()
    zero = SQLiteCache(tmp_path / "zero", busy_timeout=0)
    assert zero.responses.connection.execute("PRAGMA busy_timeout").fetchone()[0] == 0
    zero.close()


def test_locked_database_raises_storage_busy_error(tmp_path: Path, origin: LocalOrigin) -> None:
    path = tmp_path / "locked.sqlite"
    session = CachedSession(path, busy_timeout=50)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StorageBusyError) as write_error:
            session.cache.save_response(make_response("w"), cache_key="w")
        with pytest.raises(StorageBusyError) as request_error:
            session.get(origin.url("/json?locked=1"))
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    for excinfo in (write_error, request_error):
        assert not isinstance(excinfo.value, sqlite3.Error)
        message = str(excinfo.value)
        assert str(path) in message
        assert "busy_timeout=50" in message
        assert "locked" in message.lower()
    # Once the other writer is gone, the same cache works again.
    assert session.get(origin.url("/json?locked=1")).status_code == 200
    assert session.get(origin.url("/json?locked=1")).from_cache is True
    session.close()


def test_busy_commit_leaves_no_transaction_open(tmp_path: Path) -> None:
    # In rollback-journal mode a reader in another connection keeps a shared lock: our COMMIT
    # cannot finish in time. (In WAL mode, the default, readers never block the writer.)
    path = tmp_path / "reader.sqlite"
    chosen = SQLiteCache(path, busy_timeout=50, wal=False)
    chosen.redirects["first"] = "a"
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT * FROM redirects").fetchall()
    with pytest.raises(StorageBusyError):
        chosen.redirects["second"] = "b"
    reader.execute("COMMIT")
    reader.close()
    # The failed write was rolled back, and the next one starts a transaction of its own.
    assert "second" not in chosen.redirects
    chosen.redirects["third"] = "c"
    assert sorted(chosen.redirects) == ["first", "third"]
    assert not chosen.responses.connection.in_transaction
    chosen.close()


def test_by_default_a_reader_never_blocks_a_write(tmp_path: Path) -> None:
    path = tmp_path / "wal.sqlite"
    chosen = SQLiteCache(path, busy_timeout=50)
    chosen.redirects["first"] = "a"
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT * FROM redirects").fetchall()
    chosen.redirects["second"] = "b"  # no StorageBusyError
    reader.execute("COMMIT")
    reader.close()
    assert sorted(chosen.redirects) == ["first", "second"]
    chosen.close()


@pytest.mark.parametrize(
    ("options", "synchronous"),
    [({}, 1), ({"durable": True}, 2), ({"fast_save": True}, 0), ({"wal": False}, None)],
    ids=["default-normal", "durable-full", "fast-save-off", "rollback-journal-build-default"],
)
def test_durability_settings(tmp_path: Path, options: dict[str, bool], synchronous: int) -> None:
    # NORMAL in WAL mode: a killed process never leaves a torn cache, and no fsync per write.
    chosen = SQLiteCache(tmp_path / "durability", **options)
    pragma = chosen.responses.connection.execute("PRAGMA synchronous").fetchone()[0]
    if synchronous is not None:
        assert pragma == synchronous
    chosen.close()


@pytest.mark.parametrize("fast_save", [False, True])
def test_fast_save(tmp_path: Path, fast_save: bool) -> None:
    chosen = SQLiteCache(tmp_path / "fast", fast_save=fast_save)
    pragma = chosen.responses.connection.execute("PRAGMA synchronous").fetchone()[0]
    assert (pragma == 0) is fast_save  # 0 is OFF; the default depends on the SQLite build
    chosen.save_response(make_response("saved"), cache_key="saved")
    assert chosen.get_response("saved") is not None
    chosen.close()


@pytest.mark.parametrize(("wal", "journal_mode"), [(False, "delete"), (True, "wal")])
def test_wal(tmp_path: Path, wal: bool, journal_mode: str) -> None:
    chosen = SQLiteCache(tmp_path / "journal", wal=wal)
    pragma = chosen.responses.connection.execute("PRAGMA journal_mode").fetchone()[0]
    assert pragma == journal_mode
    chosen.save_response(make_response("saved"), cache_key="saved")
    with sqlite3.connect(tmp_path / "journal.sqlite") as reader:
        assert reader.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 1
    chosen.close()


def test_sqlite3_connect_options_are_passed_through(tmp_path: Path) -> None:
    class TracingConnection(sqlite3.Connection):
        pass

    chosen = SQLiteCache(
        tmp_path / "options", cached_statements=50, detect_types=0, factory=TracingConnection
    )
    assert isinstance(chosen.responses.connection, TracingConnection)
    chosen.save_response(make_response("ok"), cache_key="ok")
    assert chosen.get_response("ok") is not None
    chosen.close()
    session = CachedSession(tmp_path / "session_options", cached_statements=50)
    assert isinstance(session.cache, SQLiteCache)
    session.close()


def test_unknown_connect_option_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(TypeError) as excinfo:
        SQLiteCache(tmp_path / "x", check_same_thraed=False)
    message = str(excinfo.value)
    assert "check_same_thraed" in message
    assert "cached_statements" in message  # the accepted ones are listed


# -- bound parameters only ---------------------------------------------------------------------


def test_keys_are_bound_parameters(cache: SQLiteCache) -> None:
    cache.save_response(make_response("evil"), cache_key=EVIL_KEY)
    cache.redirects[EVIL_KEY] = EVIL_KEY
    cache.save_response(make_response("bystander"), cache_key="bystander")
    assert table_names(cache.db_path) == {"responses", "redirects"}
    assert sorted(cache.responses) == sorted([EVIL_KEY, "bystander"])
    assert cache.get_response(EVIL_KEY).url == "https://example.org/evil"
    assert cache.contains(key=EVIL_KEY)
    assert cache.redirects[EVIL_KEY] == EVIL_KEY
    cache.delete(EVIL_KEY)
    assert not cache.contains(key=EVIL_KEY)
    assert list(cache.responses) == ["bystander"]
    assert list(cache.redirects) == []
    assert table_names(cache.db_path) == {"responses", "redirects"}


def test_custom_key_with_sql_through_a_session(tmp_path: Path, origin: LocalOrigin) -> None:
    session = CachedSession(tmp_path / "evil", key_fn=lambda **kwargs: EVIL_KEY)
    first = session.get(origin.url("/json?evil=1"))
    second = session.get(origin.url("/json?evil=1"))
    assert first.from_cache is False
    assert second.from_cache is True
    assert second.cache_key == EVIL_KEY
    assert second.json() == {"path": "/json", "args": {"evil": "1"}}
    assert list(session.cache.responses) == [EVIL_KEY]
    assert table_names(tmp_path / "evil.sqlite") == {"responses", "redirects"}
    session.close()


# -- atomic writes -----------------------------------------------------------------------------


class FlakyConnection(sqlite3.Connection):
    """A connection whose COMMIT fails on demand, as a full disk or I/O error would."""

    fail_commit = False

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self.fail_commit and sql == "COMMIT":
            raise sqlite3.OperationalError("disk I/O error (simulated)")
        return super().execute(sql, *args)


def test_a_failed_commit_keeps_the_previous_value(tmp_path: Path) -> None:
    chosen = SQLiteCache(tmp_path / "flaky", factory=FlakyConnection)
    chosen.save_response(make_response("old"), cache_key="k")
    connection = chosen.responses.connection
    assert isinstance(connection, FlakyConnection)
    connection.fail_commit = True
    with pytest.raises(StorageError, match="disk I/O error"):
        chosen.save_response(make_response("new"), cache_key="k")
    connection.fail_commit = False
    assert not connection.in_transaction
    assert chosen.get_response("k").url == "https://example.org/old"
    with sqlite3.connect(chosen.db_path) as reader:
        assert reader.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 1
    chosen.close()


def test_bulk_delete_is_all_or_nothing(cache: SQLiteCache) -> None:
    # 600 keys are deleted in two statements; the second fails, so the first is undone too.
    for i in range(600):
        cache.redirects[f"k{i}"] = "target"
    doomed: list[Any] = [f"k{i}" for i in range(550)]
    doomed.append(object())  # cannot be bound as an SQL parameter
    with pytest.raises(StorageError):
        cache.redirects.bulk_delete(doomed)
    assert len(cache.redirects) == 600
    cache.redirects.bulk_delete([f"k{i}" for i in range(550)])
    assert len(cache.redirects) == 50


def test_a_serializer_failure_keeps_the_previous_value(tmp_path: Path) -> None:
    default = init_serializer("default")

    class PickySerializer:
        def dumps(self, value: CachedResponse) -> bytes:
            if value.url.endswith("poison"):
                raise RuntimeError("cannot store this one")
            return bytes(default.dumps(value))

        def loads(self, value: bytes) -> CachedResponse:
            return default.loads(value)  # type: ignore[no-any-return]

    chosen = SQLiteCache(tmp_path / "picky", serializer=PickySerializer())
    chosen.save_response(make_response("fine"), cache_key="k")
    with pytest.raises(RuntimeError, match="cannot store"):
        chosen.save_response(make_response("poison"), cache_key="k")
    assert chosen.get_response("k").url == "https://example.org/fine"
    assert chosen.count() == 1
    chosen.close()


# -- count, sorted, size, vacuum ---------------------------------------------------------------


@pytest.fixture
def dated_cache(cache: SQLiteCache) -> Iterator[SQLiteCache]:
    """Four responses: two expired, one fresh, one that never expires (clock frozen at NOW)."""
    with time_machine.travel(NOW, tick=False):
        hour = timedelta(hours=1)
        entries = {
            "expired_long_ago": make_response("a", 40, NOW - 5 * hour, NOW - 2 * hour),
            "expired_recently": make_response("b", 10, NOW - 3 * hour, NOW - hour),
            "fresh": make_response("c", 30, NOW - 4 * hour, NOW + hour),
            "never_expires": make_response("d", 20, NOW - 2 * hour, None),
        }
        for key, response in entries.items():
            cache.save_response(response, cache_key=key)
        yield cache


def test_count(dated_cache: SQLiteCache) -> None:
    assert dated_cache.count() == 4
    assert dated_cache.count(expired=True) == 4
    assert dated_cache.count(expired=False) == 2
    assert len(dated_cache.responses) == 4


def test_count_follows_the_clock(dated_cache: SQLiteCache) -> None:
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        assert dated_cache.count(expired=False) == 1
    with time_machine.travel(NOW - timedelta(hours=10), tick=False):
        assert dated_cache.count(expired=False) == 4


def urls_of(responses: Iterator[CachedResponse]) -> list[str]:
    return [response.url.rsplit("/", 1)[1] for response in responses]


def test_sorted_by_each_column(dated_cache: SQLiteCache) -> None:
    # Entries that never expire (NULL) sort last in either direction.
    assert urls_of(dated_cache.sorted()) == ["a", "b", "c", "d"]
    assert urls_of(dated_cache.sorted(key="expires", reversed=True)) == ["c", "b", "a", "d"]
    assert urls_of(dated_cache.sorted(key="created_at")) == ["a", "c", "b", "d"]
    assert urls_of(dated_cache.sorted(key="size")) == ["b", "d", "c", "a"]
    assert urls_of(dated_cache.sorted(key="size", reversed=True)) == ["a", "c", "d", "b"]
    assert urls_of(dated_cache.sorted(key="key")) == ["a", "b", "c", "d"]


def test_sorted_limit_and_expired(dated_cache: SQLiteCache) -> None:
    assert urls_of(dated_cache.sorted(limit=2)) == ["a", "b"]
    assert urls_of(dated_cache.sorted(key="size", limit=1, reversed=True)) == ["a"]
    assert urls_of(dated_cache.sorted(limit=0)) == []
    assert urls_of(dated_cache.sorted(expired=False)) == ["c", "d"]
    assert urls_of(dated_cache.sorted(expired=False, limit=1)) == ["c"]
    first = next(iter(dated_cache.sorted(expired=False)))
    assert isinstance(first, CachedResponse)
    assert first.content == make_response("c", 30).content


def test_sorted_skips_unreadable_entries(dated_cache: SQLiteCache) -> None:
    dated_cache.responses.set_raw("garbage", b"\x00not an entry", expires=NOW - timedelta(days=9))
    assert urls_of(dated_cache.sorted()) == ["a", "b", "c", "d"]


@pytest.mark.parametrize("key", ["url", "EXPIRES", "expires; DROP TABLE responses", ""])
def test_sorted_rejects_unknown_keys(dated_cache: SQLiteCache, key: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        list(dated_cache.sorted(key=key))
    message = str(excinfo.value)
    assert repr(key) in message
    assert "created_at" in message
    assert "size" in message


@pytest.mark.parametrize("limit", [-1, "3", 2.5])
def test_sorted_rejects_bad_limits(dated_cache: SQLiteCache, limit: Any) -> None:
    with pytest.raises(ValueError, match="limit"):
        list(dated_cache.sorted(limit=limit))


def test_size_grows_and_vacuum_shrinks(cache: SQLiteCache) -> None:
    empty = cache.responses.size()
    assert empty > 0
    cache.save_response(make_response("big", 400_000), cache_key="big")
    cache.save_response(make_response("small", 10), cache_key="small")
    grown = cache.responses.size()
    assert grown > empty + 390_000
    cache.responses.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the log into the file
    assert grown == Path(cache.db_path).stat().st_size
    cache.delete("big")
    assert cache.responses.size() == grown  # deleted pages are kept for reuse...
    cache.responses.vacuum()
    assert cache.responses.size() < grown - 300_000  # ...until a vacuum gives them back
    assert cache.get_response("small") is not None


def test_delete_with_vacuum(cache: SQLiteCache) -> None:
    cache.save_response(make_response("big", 400_000), cache_key="big")
    cache.save_response(make_response("small", 10), cache_key="small")
    grown = cache.responses.size()
    cache.delete("big", vacuum=True)
    assert cache.responses.size() < grown - 300_000
    assert list(cache.responses) == ["small"]


def test_clear_recovers_from_a_file_that_is_not_a_database(cache: SQLiteCache) -> None:
    cache.save_response(make_response("before"), cache_key="before")
    cache.close()
    Path(cache.db_path).write_bytes(b"this is not an SQLite database\n" * 200)
    with pytest.raises(StorageError) as excinfo:
        cache.count()
    assert cache.db_path in str(excinfo.value)
    cache.clear()
    assert cache.count() == 0
    assert list(cache.redirects) == []
    cache.save_response(make_response("after"), cache_key="after")
    assert cache.get_response("after").url == "https://example.org/after"
    assert table_names(cache.db_path) == {"responses", "redirects"}


def test_opening_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"\x89PNG not a database" * 100)
    with pytest.raises(StorageError) as excinfo:
        SQLiteCache(path)
    assert not isinstance(excinfo.value, sqlite3.Error)
    assert str(path) in str(excinfo.value)


# -- responses with history --------------------------------------------------------------------


@pytest.mark.parametrize("serializer", ["default", "json", "default+zlib"])
def test_redirect_chain_round_trips(tmp_path: Path, origin: LocalOrigin, serializer: str) -> None:
    session = CachedSession(tmp_path / f"chain-{serializer}", serializer=serializer)
    url = origin.url(f"/redirect/3?chain={serializer}")
    first = session.get(url)
    assert first.from_cache is False
    assert len(first.history) == 3
    session.cache.close()
    again = session.get(url)
    assert again.from_cache is True
    assert again.json() == first.json()
    assert [r.status_code for r in again.history] == [302, 302, 302]
    assert [r.url for r in again.history] == [r.url for r in first.history]
    assert len(session.cache.redirects) == 3
    session.close()


def test_a_table_with_another_layout_is_left_alone(
    tmp_path: Path, origin: LocalOrigin, caplog: pytest.LogCaptureFixture
) -> None:
    """A file already holding a same-named table of another layout (as requests-cache
    writes) keeps it exactly as it is: this cache's entries go to a table of its own."""
    path = tmp_path / "shared.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, value BLOB)")
        connection.execute("INSERT INTO responses VALUES ('old', x'00')")
    caplog.set_level("INFO")
    with CachedSession(str(path)) as session:
        url = origin.url("/json?legacy=1")
        assert session.get(url).from_cache is False
        assert session.get(url).from_cache is True
        assert session.cache.responses.table_name == "rcl_responses"
        assert session.cache.redirects.table_name == "redirects"
    with sqlite3.connect(path) as connection:
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        theirs = connection.execute("SELECT * FROM responses").fetchall()
        ours = connection.execute("SELECT COUNT(*) FROM rcl_responses").fetchone()
    assert {"responses", "rcl_responses", "redirects"} <= tables
    assert theirs == [("old", b"\x00")]
    assert ours == (1,)
    assert "left as it is" in caplog.text


def test_a_table_an_earlier_version_renamed_gets_its_name_back(
    tmp_path: Path, origin: LocalOrigin
) -> None:
    """Earlier versions renamed another program's table to ``<table>_legacy``: it is given its
    name back, and this cache's entries move to ``rcl_<table>`` with nothing lost."""
    path = tmp_path / "renamed.sqlite"
    url = origin.url("/json?renamed=1")
    with CachedSession(str(path)) as session:
        session.get(url)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE responses_legacy (key TEXT PRIMARY KEY, value BLOB)")
        connection.execute("INSERT INTO responses_legacy VALUES ('old', x'00')")
    with CachedSession(str(path)) as session:
        assert session.get(url).from_cache is True
        assert session.cache.responses.table_name == "rcl_responses"
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT key FROM responses").fetchall() == [("old",)]
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    assert "responses_legacy" not in tables


def test_two_foreign_tables_are_an_error(tmp_path: Path) -> None:
    path = tmp_path / "foreign.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, value BLOB)")
        connection.execute("CREATE TABLE rcl_responses (a, b)")
    with pytest.raises(StorageError, match="both have another layout"):
        CachedSession(str(path))
