"""The filesystem backend: where files go (fan-out, extensions, cache and temp dirs), atomic
writes that leave the old file whole when a write fails, keys that cannot escape the cache
directory, and several processes writing the same key."""

from __future__ import annotations

import inspect
import json
import multiprocessing
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from requests_cache_like import CachedResponse, CachedSession
from requests_cache_like.backends import FileCache, filesystem, init_backend, integrity
from requests_cache_like.demo import LocalOrigin
from requests_cache_like.exceptions import StorageError
from requests_cache_like.models import CachedRequest

from ._fs_workers import BODY_SIZE, SHARED_KEY, body_of, set_start_barrier, write_and_read


def make_response(name: str, content: bytes = b"body") -> CachedResponse:
    url = f"https://example.org/{name}"
    return CachedResponse(content=content, url=url, request=CachedRequest(method="GET", url=url))


def files_under(directory: Path) -> list[Path]:
    """Every file below ``directory``, hidden ones included."""
    return sorted(p for p in directory.rglob("*") if p.is_file())


def test_constructor_defaults_match_requests_cache() -> None:
    parameters = inspect.signature(FileCache).parameters
    assert list(parameters)[:4] == ["cache_name", "use_cache_dir", "use_temp", "extension"]
    assert parameters["use_cache_dir"].default is False
    assert parameters["use_temp"].default is False
    assert parameters["extension"].default is None


def test_files_fan_out_by_key_prefix(tmp_path: Path, origin: LocalOrigin) -> None:
    cache = FileCache(tmp_path / "fs")
    session = CachedSession(backend=cache, expire_after=60)
    key = session.get(origin.url("/json?fs=layout")).cache_key
    expected = tmp_path / "fs" / "responses" / key[:2] / key
    assert expected.is_file()
    assert list(cache.paths()) == [expected]
    assert list(cache.responses) == [key]
    assert session.get(origin.url("/json?fs=layout")).from_cache is True


@pytest.mark.parametrize(
    "size", [0, 1, 65535, 65536, 65537, 2 * 65536, 300 * 1024 + 7, 1024 * 1024]
)
def test_entries_of_any_size_read_back_whole(tmp_path: Path, size: int) -> None:
    """Around the first read's buffer (64 KiB): a full first read goes on to the end."""
    storage = FileCache(tmp_path / "fs").responses
    data = os.urandom(size)
    storage.set_raw("k", data)
    assert storage.get_raw("k") == data


def test_clear_removes_files_of_the_earlier_two_level_layout(tmp_path: Path) -> None:
    cache = FileCache(tmp_path / "fs")
    old = tmp_path / "fs" / "responses" / "ab" / "cd" / "abcdef"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"an entry of an earlier development version")
    cache.responses["abcdef"] = make_response("new")
    assert list(cache.responses) == ["abcdef"]  # the old file is no entry: never read
    assert cache.responses["abcdef"].url == "https://example.org/new"
    cache.clear()
    assert files_under(tmp_path / "fs" / "responses") == []


def test_redirects_are_files_too(tmp_path: Path, origin: LocalOrigin) -> None:
    cache = FileCache(tmp_path / "fs")
    session = CachedSession(backend=cache, expire_after=60)
    final = session.get(origin.url("/redirect/1"))
    [alias] = list(cache.redirects)
    path = tmp_path / "fs" / "redirects" / alias[:2] / alias
    assert path.read_text() == final.cache_key
    assert list(cache.paths()) == list(cache.responses.paths())  # responses only


def test_paths_lists_every_response_file(tmp_path: Path) -> None:
    cache = FileCache(tmp_path / "fs")
    keys = [f"{n:02x}cafe{n}" for n in range(5)]
    for key in keys:
        cache.responses[key] = make_response(key)
    assert sorted(p.name for p in cache.paths()) == sorted(keys)
    assert all(p.is_file() for p in cache.paths())
    cache.clear()
    assert list(cache.paths()) == []


@pytest.mark.parametrize(
    ("serializer", "extension"),
    [(None, ""), ("json", ".json"), ("yaml", ".yaml"), ("json+zlib", ""), ("pickle", "")],
)
def test_default_extension_follows_the_serializer(
    tmp_path: Path, serializer: str | None, extension: str
) -> None:
    cache = FileCache(tmp_path / "fs", serializer=serializer)
    cache.responses["abcdef"] = make_response("ext")
    [path] = list(cache.paths())
    assert path.name == "abcdef" + extension
    assert list(cache.responses) == ["abcdef"]
    assert cache.responses["abcdef"].content == b"body"


def test_json_files_are_readable_json(tmp_path: Path) -> None:
    cache = FileCache(tmp_path / "fs", serializer="json")
    cache.responses["abcdef"] = make_response("readable")
    [path] = list(cache.paths())
    # The seal's header (docs/integrity.md), then the JSON document.
    data = path.read_bytes()
    assert data.startswith(integrity.MAGIC)
    text = data[integrity.HEADER_SIZE :].decode()
    document = json.loads(text)
    assert isinstance(document, dict)
    assert "example.org/readable" in text


@pytest.mark.parametrize(("given", "used"), [("dat", ".dat"), (".bin", ".bin"), ("", "")])
def test_explicit_extension(tmp_path: Path, given: str, used: str) -> None:
    cache = FileCache(tmp_path / "fs", serializer="json", extension=given)
    cache.responses["abcdef"] = make_response("explicit")
    [path] = list(cache.paths())
    assert path.name == "abcdef" + used
    assert list(cache.responses) == ["abcdef"]
    assert len(cache.responses) == 1


def test_use_cache_dir_puts_the_cache_in_the_user_cache_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def fake_user_cache_dir(app: str) -> str:
        asked.append(app)
        return str(tmp_path / "user-cache" / app)

    monkeypatch.setattr(filesystem, "user_cache_dir", fake_user_cache_dir)
    cache = FileCache("my_cache", use_cache_dir=True)
    assert asked == ["requests_cache_like"]
    assert cache.cache_dir == tmp_path / "user-cache" / "requests_cache_like" / "my_cache"
    cache.responses["abcdef"] = make_response("user")
    assert (cache.cache_dir / "responses" / "ab" / "abcdef").is_file()


def test_use_temp_puts_the_cache_in_the_temporary_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temp"))
    (tmp_path / "temp").mkdir()
    cache = FileCache("my_cache", use_temp=True)
    assert cache.cache_dir == tmp_path / "temp" / "my_cache"
    cache.responses["abcdef"] = make_response("temp")
    assert (tmp_path / "temp" / "my_cache" / "responses" / "ab" / "abcdef").is_file()


def test_relative_cache_name_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cache = FileCache("relative_cache")
    assert cache.cache_dir == tmp_path / "relative_cache"
    assert cache.cache_dir.is_absolute()


def test_file_url_and_name_select_the_backend(tmp_path: Path) -> None:
    by_url = init_backend("ignored", f"file://{tmp_path}/by_url")
    assert isinstance(by_url, FileCache)
    assert by_url.cache_dir == tmp_path / "by_url"
    by_name = init_backend(tmp_path / "by_name", "filesystem")
    assert isinstance(by_name, FileCache)
    assert by_name.cache_dir == tmp_path / "by_name"


@pytest.mark.parametrize("interruption", [OSError("disk full"), KeyboardInterrupt()])
def test_failed_write_leaves_the_old_file_whole_and_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interruption: BaseException
) -> None:
    cache = FileCache(tmp_path / "fs")
    cache.responses["abcdef"] = make_response("atomic", b"old body")
    [path] = list(cache.paths())
    before = path.read_bytes()
    replaced: list[tuple[str, str]] = []

    def failing_replace(source: Any, target: Any) -> None:
        replaced.append((str(source), str(target)))
        # The new content was fully written to the temporary file before the rename.
        assert Path(source).read_bytes() != before
        raise interruption

    monkeypatch.setattr(filesystem.os, "replace", failing_replace)
    expected = StorageError if isinstance(interruption, OSError) else KeyboardInterrupt
    with pytest.raises(expected):
        cache.responses["abcdef"] = make_response("atomic", b"new body that never lands")
    monkeypatch.undo()

    assert len(replaced) == 1
    assert replaced[0][1] == str(path)
    assert path.read_bytes() == before
    assert cache.responses["abcdef"].content == b"old body"
    assert files_under(tmp_path / "fs" / "responses") == [path]  # no temporary file left


def test_failed_write_through_a_session_raises_a_storage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, origin: LocalOrigin
) -> None:
    session = CachedSession(tmp_path / "fs", backend="filesystem", expire_after=60)
    url = origin.url("/json?fs=failing")

    def failing_replace(source: Any, target: Any) -> None:
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(filesystem.os, "replace", failing_replace)
    with pytest.raises(StorageError, match=r"filesystem.*Permission denied"):
        session.get(url)
    monkeypatch.undo()
    assert files_under(tmp_path / "fs" / "responses") == []


@pytest.mark.parametrize(
    "key",
    ["../../escaped", "/etc/passwd", "..", ".", ".hidden", "a/b/c", "a\\b", "sp ace", "", "%"],
)
def test_unusual_keys_stay_inside_the_cache_directory(tmp_path: Path, key: str) -> None:
    cache = FileCache(tmp_path / "box" / "fs")
    responses_dir = tmp_path / "box" / "fs" / "responses"
    with pytest.raises(KeyError):
        cache.responses[key]  # nothing stored yet: a miss, whatever the key
    assert key not in cache.responses
    cache.responses[key] = make_response("unusual", b"kept inside")
    assert cache.responses[key].content == b"kept inside"
    assert list(cache.responses) == [key]
    [path] = files_under(tmp_path / "box")
    assert responses_dir in path.parents
    assert not path.name.startswith(".")
    del cache.responses[key]
    assert files_under(tmp_path / "box") == []


@pytest.fixture(scope="module")
def names_only(tmp_path_factory: pytest.TempPathFactory) -> FileCache:
    return FileCache(tmp_path_factory.mktemp("names"))


KEYS = st.text(st.characters(codec="utf-8"), max_size=40) | st.text("abc.-_~%/", max_size=8)


@settings(max_examples=500, deadline=None)
@given(key=KEYS)
def test_a_file_name_is_the_key_escaped_by_quote(names_only: FileCache, key: str) -> None:
    """Keys quote() leaves alone skip it; every key still gets quote()'s name."""
    storage = names_only.responses
    name = quote(key, safe="") or "%"  # the empty key's name: no other key's
    name = "%2E" + name[1:] if name.startswith(".") else name
    path = storage._file(key)
    assert path == os.path.join(storage.cache_dir, name[:2].replace(".", "_"), name)
    assert storage._key_of(Path(path)) == key


def test_a_key_that_looks_like_a_path_is_a_miss(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("not a cache entry")
    cache = FileCache(tmp_path / "fs")
    for key in ("../../secret", str(secret), "../secret"):
        with pytest.raises(KeyError):
            cache.responses.get_raw(key)
        assert cache.get_response(key) is None
    assert secret.read_text() == "not a cache entry"


def test_processes_writing_the_same_key_never_leave_a_partial_file(tmp_path: Path) -> None:
    workers, rounds = 3, 100
    cache_dir = str(tmp_path / "shared")
    context = multiprocessing.get_context("spawn")
    jobs = [(cache_dir, worker, workers, rounds) for worker in range(workers)]
    barrier = context.Barrier(workers)
    with context.Pool(workers, set_start_barrier, (barrier,)) as pool:
        results = pool.map_async(write_and_read, jobs, chunksize=1).get(timeout=120)
    assert [problem for problems in results for problem in problems] == []
    cache = FileCache(cache_dir)
    assert list(cache.responses) == [SHARED_KEY]
    final = cache.responses[SHARED_KEY].content
    assert len(final) == BODY_SIZE
    assert final in {body_of(n) for n in range(workers)}
    assert files_under(Path(cache_dir)) == list(cache.paths())  # no temporary files left


def test_a_write_makes_its_directory_only_when_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = FileCache(tmp_path / "fs")
    made: list[str] = []
    makedirs = os.makedirs

    def counting_makedirs(name: str, *args: Any, **kwargs: Any) -> None:
        made.append(os.fspath(name))
        makedirs(name, *args, **kwargs)

    monkeypatch.setattr(os, "makedirs", counting_makedirs)
    cache.responses["abcd01"] = make_response("first", b"one")
    assert str(tmp_path / "fs" / "responses" / "ab") in made
    made.clear()
    cache.responses["abcd02"] = make_response("second", b"two")  # the same directory
    assert made == []
    for path in cache.paths():
        assert path.stat().st_mode & 0o777 == 0o600  # as mkstemp made them: the owner's only
    assert cache.responses["abcd02"].content == b"two"
