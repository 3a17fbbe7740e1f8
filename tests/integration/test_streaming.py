"""``stream=True`` through the cache: a miss hands the body over as it arrives while storing
it, the entry appears only once the body is complete and intact, and a hit streams from
storage a chunk at a time (SQLite and filesystem); other backends read the body whole."""

from __future__ import annotations

import gzip
import hashlib
import threading
import tracemalloc
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from requests_cache_like import CachedSession
from requests_cache_like.backends.bodies import FileBodies, bodies_for, sweep_bodies
from requests_cache_like.backends.gridfs_bodies import GridFSBodies
from requests_cache_like.models.streamed import CHUNK_SIZE

from ..conftest import backend_options

MIB = 1024 * 1024
PIECE = 256 * 1024


def piece(size: int, index: int) -> bytes:
    """Piece ``index`` of the deterministic body the origin sends for ``size`` bytes."""
    seed = hashlib.sha256(f"{size}:{index}".encode()).digest()
    return (seed * (PIECE // 32))[: max(0, min(PIECE, size - index * PIECE))]


def pieces(size: int) -> Iterator[bytes]:
    for index in range(-(-size // PIECE)):
        yield piece(size, index)


def body_of(size: int) -> bytes:
    return b"".join(pieces(size))


class _Handler(BaseHTTPRequestHandler):
    server: _Origin

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        _, route, size_text = self.path.split("?")[0].split("/")
        size = int(size_text)
        self.server.hits[self.path] = self.server.hits.get(self.path, 0) + 1
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Cache-Control", "max-age=300")
        if route == "gzip":
            encoded = gzip.compress(body_of(size))
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)
            return
        self.send_header("Content-Length", str(size))
        self.end_headers()
        for index, data in enumerate(pieces(size)):
            if route == "short" and index * PIECE >= size // 2:
                self.close_connection = True  # the rest never comes
                return
            if route == "gate" and index * PIECE == 2 * MIB:
                self.server.gate.wait(30)  # the caller reads the first pieces meanwhile
            self.wfile.write(data)


class _Origin(ThreadingHTTPServer):
    daemon_threads = True
    hits: dict[str, int]
    gate: threading.Event


@pytest.fixture(scope="module")
def big_origin() -> Iterator[_Origin]:
    server = _Origin(("127.0.0.1", 0), _Handler)
    server.hits, server.gate = {}, threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url(origin: _Origin, route: str, size: int, name: str = "") -> str:
    """A URL of ``origin`` no other test asks for (the origin is shared by the module)."""
    return f"http://127.0.0.1:{origin.server_address[1]}/{route}/{size}?n={name}-{uuid.uuid4().hex}"


STREAMING_BACKENDS = ["sqlite", "filesystem", "gridfs"]


def _session(request: pytest.FixtureRequest, tmp_path: Path, name: str) -> Iterator[CachedSession]:
    cached = CachedSession(**backend_options(request.param, request, tmp_path, name))
    cached.expire_after = 300
    yield cached
    cached.cache.clear()
    cached.close()


@pytest.fixture(params=STREAMING_BACKENDS)
def session(
    request: pytest.FixtureRequest, tmp_path: Path, unique_name: str
) -> Iterator[CachedSession]:
    yield from _session(request, tmp_path, unique_name)


@pytest.fixture(params=["sqlite", "filesystem"])
def local_session(
    request: pytest.FixtureRequest, tmp_path: Path, unique_name: str
) -> Iterator[CachedSession]:
    """A session on a backend whose server is not in this process (memory can be measured)."""
    yield from _session(request, tmp_path, unique_name)


def read_all(response: requests.Response, chunk_size: int = 64 * 1024) -> bytes:
    return b"".join(response.iter_content(chunk_size))


def stored_bodies(session: CachedSession) -> list[tuple[str, str]]:
    store = bodies_for(session.cache)
    assert store is not None
    return store.stored()


def test_a_miss_streams_and_stores_then_a_hit_streams_from_storage(
    session: CachedSession, big_origin: _Origin
) -> None:
    target = url(big_origin, "big", 5 * MIB + 123, "a")
    miss = session.get(target, stream=True)
    assert not miss.from_cache
    assert read_all(miss) == body_of(5 * MIB + 123)
    assert len(stored_bodies(session)) == 1
    hit = session.get(target, stream=True)
    assert hit.from_cache
    assert hit.headers["Content-Length"] == str(5 * MIB + 123)
    assert read_all(hit, MIB) == body_of(5 * MIB + 123)
    again = session.get(target)  # without stream=True: the whole body, as requests gives it
    assert again.from_cache
    assert again.content == body_of(5 * MIB + 123)
    assert big_origin.hits[target.split(f":{big_origin.server_address[1]}")[1]] == 1


def test_the_caller_reads_before_the_body_is_complete_and_the_entry_waits(
    session: CachedSession, big_origin: _Origin
) -> None:
    target = url(big_origin, "gate", 4 * MIB, session.cache.__class__.__name__)
    big_origin.gate.clear()
    response = session.get(target, stream=True)
    chunks = response.iter_content(PIECE)
    first = next(chunks)  # arrives while the origin still holds the rest back
    assert first == body_of(4 * MIB)[:PIECE]
    assert not session.cache.contains(url=target)
    big_origin.gate.set()
    assert first + b"".join(chunks) == body_of(4 * MIB)
    assert session.cache.contains(url=target)


def test_a_stream_closed_early_stores_nothing(session: CachedSession, big_origin: _Origin) -> None:
    target = url(big_origin, "big", 3 * MIB, "closed")
    response = session.get(target, stream=True)
    chunks = response.iter_content(PIECE)
    for _ in range(6):  # past the first stored chunk
        next(chunks)
    chunks.close()
    response.close()
    assert not session.cache.contains(url=target)
    assert stored_bodies(session) == []


def test_a_truncated_download_stores_nothing(session: CachedSession, big_origin: _Origin) -> None:
    target = url(big_origin, "short", 3 * MIB, "cut")
    response = session.get(target, stream=True)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        read_all(response)
    assert not session.cache.contains(url=target)
    assert stored_bodies(session) == []


def test_a_small_streamed_body_is_stored_inline(
    session: CachedSession, big_origin: _Origin
) -> None:
    target = url(big_origin, "big", CHUNK_SIZE - 1, "small")
    assert read_all(session.get(target, stream=True)) == body_of(CHUNK_SIZE - 1)
    stored = session.get(target)
    assert stored.from_cache
    assert stored.streamed is None
    assert stored_bodies(session) == []


def test_an_encoded_body_is_stored_decoded(session: CachedSession, big_origin: _Origin) -> None:
    target = url(big_origin, "gzip", 3 * MIB, "gz")
    assert read_all(session.get(target, stream=True)) == body_of(3 * MIB)
    assert read_all(session.get(target, stream=True)) == body_of(3 * MIB)
    raw_target = url(big_origin, "gzip", 2 * MIB, "raw")
    raw_reader = session.get(raw_target, stream=True)
    raw_reader.raw.read()  # the encoded bytes, as requests' raw gives them: not stored
    assert not session.cache.contains(url=raw_target)


def test_a_damaged_chunk_fails_the_stream_and_a_lost_one_is_a_miss(
    session: CachedSession, big_origin: _Origin
) -> None:
    target = url(big_origin, "big", 3 * MIB, "damage")
    read_all(session.get(target, stream=True))
    store = bodies_for(session.cache)
    assert store is not None
    stored = session.get(target)
    body = stored.streamed
    assert body is not None
    if isinstance(store, GridFSBodies):
        chunk = bytearray(store.read_chunk(body, 1))
        chunk[10] ^= 0x40
        store.chunks.update_one(
            {"files_id": store._file_id(body), "n": 1}, {"$set": {"data": bytes(chunk)}}
        )
    elif isinstance(store, FileBodies):
        with open(store._path(body.key, body.version), "r+b") as file:
            file.seek(CHUNK_SIZE + 10)
            flipped = file.read(1)[0] ^ 0x40
            file.seek(CHUNK_SIZE + 10)
            file.write(bytes([flipped]))
    else:
        chunk = bytearray(store.read_chunk(body, 1))
        chunk[10] ^= 0x40
        store.put_chunk(body.key, body.version, 1, bytes(chunk))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        read_all(session.get(target, stream=True))
    store.remove(body.key, body.version)
    response = session.get(target, stream=True)  # the body is gone: a miss, fetched again
    assert not response.from_cache
    assert read_all(response) == body_of(3 * MIB)


def test_deleting_the_entry_deletes_its_body_and_sweeps_remove_orphans(
    session: CachedSession, big_origin: _Origin
) -> None:
    target = url(big_origin, "big", 2 * MIB + 1, "delete")
    read_all(session.get(target, stream=True))
    assert len(stored_bodies(session)) == 1
    session.cache.delete(urls=[target])
    assert stored_bodies(session) == []
    read_all(session.get(target, stream=True))
    assert len(stored_bodies(session)) == 1
    stored = session.get(target)
    stored.streamed = None  # an inline entry replaces it: the body is an orphan now
    stored._content = b"inline"
    session.cache.responses[stored.cache_key] = stored
    assert sweep_bodies(session.cache) == 1
    assert stored_bodies(session) == []


def test_a_streamed_hit_holds_one_chunk_at_a_time(
    local_session: CachedSession, big_origin: _Origin
) -> None:
    session = local_session
    target = url(big_origin, "big", 12 * MIB, "memory")
    tracemalloc.start()
    try:
        miss = session.get(target, stream=True)
        digest = hashlib.sha256()
        for chunk in miss.iter_content(MIB):
            digest.update(chunk)
        _, miss_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        hit = session.get(target, stream=True)
        assert hit.from_cache
        for chunk in hit.iter_content(MIB):
            digest.update(chunk)
        _, hit_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expected = hashlib.sha256()
    for _ in range(2):
        for data in pieces(12 * MIB):
            expected.update(data)
    assert digest.digest() == expected.digest()
    assert miss_peak < 6 * MIB  # a 12 MiB body never held whole
    assert hit_peak < 6 * MIB


@pytest.mark.parametrize("backend", ["memory"])
def test_other_backends_read_a_streamed_body_whole(
    backend: str, big_origin: _Origin, tmp_path: Path
) -> None:
    cached = CachedSession(str(tmp_path / "c"), backend=backend, expire_after=300)
    target = url(big_origin, "big", 2 * MIB, backend)
    assert read_all(cached.get(target, stream=True)) == body_of(2 * MIB)
    hit = cached.get(target, stream=True)
    assert hit.from_cache
    assert read_all(hit) == body_of(2 * MIB)
    assert bodies_for(cached.cache) is None


def test_a_bounded_cache_stores_streamed_bodies_whole(big_origin: _Origin, tmp_path: Path) -> None:
    cached = CachedSession(str(tmp_path / "c"), expire_after=300, max_size="100MB")
    target = url(big_origin, "big", 2 * MIB, "bounded")
    assert read_all(cached.get(target, stream=True)) == body_of(2 * MIB)
    hit = cached.get(target, stream=True)
    assert hit.streamed is None
    assert read_all(hit) == body_of(2 * MIB)


def test_the_command_line_reads_streamed_bodies(
    local_session: CachedSession, big_origin: _Origin, tmp_path: Path
) -> None:
    from .test_cli_support import invoke

    session = local_session
    target = url(big_origin, "big", 2 * MIB + 5, "cli")
    read_all(session.get(target, stream=True))
    name = str(session.cache.cache_name)
    shown = invoke("show", name, target)
    assert shown.exit_code == 0, shown.output
    assert f"({2 * MIB + 5} bytes" in shown.output
    exported = tmp_path / "export.jsonl"
    assert invoke("export", name, "--format", "jsonl", "--output", str(exported)).exit_code == 0
    copy = tmp_path / "copy.sqlite"
    assert invoke("import", str(copy), str(exported)).exit_code == 0
    other = CachedSession(str(copy), expire_after=300)
    hit = other.get(target)
    assert hit.from_cache
    assert hit.content == body_of(2 * MIB + 5)
    session.cache.responses.bodies.remove_many(stored_bodies(session))
    info = invoke("info", name)
    assert "unreadable: 1 (1 invalid)" in info.output


def test_gridfs_uploads_and_reads_one_chunk_at_a_time(
    big_origin: _Origin, request: pytest.FixtureRequest, tmp_path: Path, unique_name: str
) -> None:
    # The MongoDB-protocol server of the tests runs in this process and holds everything in
    # memory, so memory is not measured here: the chunks are watched instead.
    cached = CachedSession(**backend_options("gridfs", request, tmp_path, unique_name))
    cached.expire_after = 300
    store = bodies_for(cached.cache)
    assert isinstance(store, GridFSBodies)
    target = url(big_origin, "big", 5 * MIB, "gridfs")
    chunks = cached.get(target, stream=True).iter_content(PIECE)
    for _ in range(3 * MIB // PIECE):
        next(chunks)
    uploaded = store.chunks.count_documents({})
    assert uploaded >= 2  # written while the body is still arriving
    assert store.stored() == []  # and not visible as a file before it is complete
    assert b"".join(chunks)
    assert len(store.stored()) == 1
    reads: list[int] = []
    read_chunk = store.read_chunk
    store.read_chunk = lambda body, index: reads.append(index) or read_chunk(body, index)  # type: ignore[method-assign]
    hit = cached.get(target, stream=True).iter_content(MIB)
    assert next(hit) == body_of(5 * MIB)[:MIB]
    assert reads == [0]
    assert b"".join(hit) == body_of(5 * MIB)[MIB:]
    assert reads == [0, 1, 2, 3, 4]
    cached.cache.clear()
    assert store.stored() == []
    cached.close()


def test_a_sweep_removes_downloads_a_killed_process_left(
    session: CachedSession, big_origin: _Origin
) -> None:
    import os
    import time

    store = bodies_for(session.cache)
    assert store is not None
    stale_at = time.time() - 2 * 3600
    if isinstance(store, FileBodies):
        store.directory.mkdir(parents=True, exist_ok=True)
        old, new = store.directory / ".tmp-old.part", store.directory / ".tmp-new.part"
        for path in (old, new):
            path.write_bytes(b"part of a body")
        os.utime(old, (stale_at, stale_at))
        assert sweep_bodies(session.cache) == 1
        assert not old.exists()
        assert new.exists()  # may still be written: left alone
    elif isinstance(store, GridFSBodies):
        from datetime import datetime, timezone

        from bson import ObjectId

        old_id = ObjectId.from_datetime(datetime.fromtimestamp(stale_at, timezone.utc))
        for file_id in (old_id, ObjectId()):
            store.chunks.insert_one({"files_id": file_id, "n": 0, "data": b"part"})
        assert sweep_bodies(session.cache) == 1
        left = store.chunks.distinct("files_id")
        assert len(left) == 1  # the recent upload may still be written: left alone
        assert old_id not in left
    else:  # SQLite: unfinished chunks are rows no entry points at, swept as such
        store.put_chunk("k", "v", 0, b"part")
        assert sweep_bodies(session.cache) == 1
        assert store.stored() == []
