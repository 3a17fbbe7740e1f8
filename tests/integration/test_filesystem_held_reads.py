"""Filesystem reads that keep the GIL (``backends/_held_reads.py``): whole, never torn, never
waiting on a disk, a FIFO or a file system that cannot promise not to wait; the usual read
answers whatever they leave."""

from __future__ import annotations

import ctypes
import errno
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from requests_cache_like import CachedResponse, CachedSession
from requests_cache_like.backends import FileCache, _held_reads
from requests_cache_like.backends._held_reads import HeldReads
from tests.conftest import require

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="held reads are Linux-only (preadv2, statfs)"
)


@pytest.fixture
def reads(tmp_path: Path) -> HeldReads:
    held = HeldReads(str(tmp_path))
    require(held.enabled, f"held reads need a local disk file system for {tmp_path}")
    return held


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("size", [0, 1, 1500, 4095, 4096, 4097, 8192, 12_000, 65_535])
def test_a_held_read_returns_the_whole_file(reads: HeldReads, tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    assert reads.read(str(_write(tmp_path / "entry", data))) == data


@pytest.mark.parametrize("size", [65_536, 200_000])
def test_a_file_larger_than_the_buffer_is_left_to_the_usual_read(
    reads: HeldReads, tmp_path: Path, size: int
) -> None:
    assert reads.read(str(_write(tmp_path / "entry", b"x" * size))) is None


def test_a_missing_file_is_not_found(reads: HeldReads, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        reads.read(str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError):  # a path through a file, not a directory
        reads.read(str(_write(tmp_path / "file", b"x") / "below"))


def test_other_errors_are_left_to_the_usual_read(reads: HeldReads, tmp_path: Path) -> None:
    assert reads.read(str(tmp_path)) is None  # a directory: the usual read raises for it


class _Kernel:
    """libc whose ``preadv2`` reads the real file with only its first ``in_memory`` bytes in
    the page cache (a read that would need the rest fails with EAGAIN, as ``RWF_NOWAIT``
    makes it), at most ``chunk`` bytes a call; it records the flags it was given."""

    def __init__(self, in_memory: int | None = None, chunk: int | None = None) -> None:
        libc = _held_reads._LIBC
        assert libc is not None
        self.open, self.close = libc.open, libc.close
        self.in_memory, self.chunk = in_memory, chunk
        self.flags: list[int] = []

    def preadv2(self, handle: int, pointer: Any, count: int, offset: int, flags: int) -> int:
        self.flags.append(flags)
        vector = pointer.contents
        size = os.fstat(handle).st_size
        end = size if self.in_memory is None else min(size, self.in_memory)
        if offset >= size:
            return 0
        if offset >= end:
            ctypes.set_errno(errno.EAGAIN)
            return -1
        data = os.pread(handle, min(vector.length, end - offset, self.chunk or size), offset)
        ctypes.memmove(vector.base, data, len(data))
        return len(data)


def test_a_read_never_waits_for_the_disk(
    reads: HeldReads, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(10_000)
    path = str(_write(tmp_path / "entry", data))
    kernel = _Kernel()
    monkeypatch.setattr(_held_reads, "_LIBC", kernel)
    assert reads.read(path) == data
    assert kernel.flags
    assert all(flags & os.RWF_NOWAIT for flags in kernel.flags)
    monkeypatch.setattr(_held_reads, "_LIBC", _Kernel(in_memory=0))
    assert reads.read(path) is None  # not in memory: left to the usual read
    assert reads.enabled


@pytest.mark.parametrize("in_memory", [4096, 8192])
def test_a_file_partly_in_memory_is_never_read_short(
    reads: HeldReads, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_memory: int
) -> None:
    path = str(_write(tmp_path / "entry", os.urandom(3 * 4096 + 100)))
    monkeypatch.setattr(_held_reads, "_LIBC", _Kernel(in_memory=in_memory))
    assert reads.read(path) is None  # never the pages in memory taken for the whole file


def test_a_read_cut_at_a_page_goes_on_to_the_end(
    reads: HeldReads, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(3 * 4096 + 100)
    path = str(_write(tmp_path / "entry", data))
    monkeypatch.setattr(_held_reads, "_LIBC", _Kernel(chunk=4096))
    assert reads.read(path) == data


def test_a_fifo_named_like_an_entry_does_not_block(tmp_path: Path) -> None:
    # In a child: a blocked open would hold the GIL, and no timeout here could end it.
    os.mkfifo(tmp_path / "entry")
    code = (
        "import sys; from requests_cache_like.backends._held_reads import HeldReads; "
        "held = HeldReads(sys.argv[1]); assert held.enabled, 'not a local file system'; "
        "print(held.read(sys.argv[1] + '/entry'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
    )
    assert (done.returncode, done.stdout.strip()) == (0, "None"), done.stderr


def test_held_reads_only_on_local_disk_file_systems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(HeldReads(str(tmp_path)).enabled, f"a local disk file system for {tmp_path}")
    if Path("/dev/shm").is_dir():
        assert not HeldReads("/dev/shm").enabled  # tmpfs: reads cannot be asked not to wait
    assert not HeldReads(str(tmp_path / "absent")).enabled  # statfs fails
    monkeypatch.setattr(_held_reads, "_LOCAL_FILE_SYSTEMS", frozenset())
    assert not HeldReads(str(tmp_path)).enabled  # a network file system's type
    monkeypatch.undo()
    monkeypatch.setattr(_held_reads, "_LIBC", None)  # not Linux, or no preadv2 in libc
    assert not HeldReads(str(tmp_path)).enabled


class _NoWaitUnsupported:
    """libc whose ``preadv2`` fails as on a file system without ``RWF_NOWAIT``."""

    def __init__(self, libc: Any) -> None:
        self.open, self.close = libc.open, libc.close

    def preadv2(self, *args: Any) -> int:
        ctypes.set_errno(errno.EOPNOTSUPP)
        return -1


def test_a_file_system_without_nowait_turns_held_reads_off(
    reads: HeldReads, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "entry", b"z")
    monkeypatch.setattr(_held_reads, "_LIBC", _NoWaitUnsupported(_held_reads._LIBC))
    assert reads.read(str(path)) is None
    assert not reads.enabled


def _response(content: bytes) -> CachedResponse:
    return CachedResponse(content=content, url="https://origin.test/", status_code=200)


def _counting(cache: FileCache, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record, for every held read of the responses' table, whether it answered."""
    held = cache.responses._held_reads
    answered: list[bool] = []
    read = held.read

    def counted(path: str) -> bytes | None:
        data = read(path)
        answered.append(data is not None)
        return data

    monkeypatch.setattr(held, "read", counted)
    return answered


def test_the_cache_reads_held_once_threads_share_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = FileCache(tmp_path / "cache")
    require(cache.responses._held_reads.enabled, f"a local disk file system for {tmp_path}")
    answered = _counting(cache, monkeypatch)
    cache.responses["k"] = _response(b"alone")
    for _ in range(3):
        assert cache.responses["k"].content == b"alone"
    assert answered == []  # one thread: the usual read, whose GIL release costs nothing
    with ThreadPoolExecutor(1) as pool:  # a second thread reads: the storage is shared
        assert pool.submit(lambda: cache.responses["k"].content).result() == b"alone"
    cache.responses["k"] = _response(b"shared")
    assert cache.responses["k"].content == b"shared"  # this thread too, from now on
    cache.responses["big"] = _response(b"b" * 100_000)  # past the buffer: the usual read
    assert cache.responses["big"].content == b"b" * 100_000
    with pytest.raises(KeyError):
        cache.responses["absent"]
    # Both threads' reads of the entry held, the large one left to the usual read; the
    # absent key's held read raised FileNotFoundError (not counted): a KeyError.
    assert answered == [True, True, False]


def test_held_reads_never_see_a_torn_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Readers in threads while another thread rewrites the entry: every read is one of the
    versions written, whole."""
    cache = FileCache(tmp_path / "cache")
    require(cache.responses._held_reads.enabled, f"a local disk file system for {tmp_path}")
    answered = _counting(cache, monkeypatch)
    versions = [bytes([65 + n]) * (3000 + 1000 * n) for n in range(4)]
    cache.responses["k"] = _response(versions[0])
    seen: set[bytes] = set()
    errors: list[BaseException] = []
    together = threading.Barrier(4, timeout=30)  # alive at once: distinct thread idents

    def read() -> None:
        try:
            together.wait()
            for _ in range(300):
                seen.add(cache.responses["k"].content)
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    for n in range(200):
        cache.responses["k"] = _response(versions[n % 4])
    for reader in readers:
        reader.join(timeout=60)
    assert not errors
    assert any(answered)  # the readers did read held
    assert seen
    assert seen <= set(versions)


def test_hits_from_threads_through_held_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = CachedSession(tmp_path / "http", backend="filesystem", expire_after=-1)
    require(session.cache.responses._held_reads.enabled, f"a local disk file system for {tmp_path}")
    answered = _counting(session.cache, monkeypatch)
    stored = _response(b"payload")
    key = session.cache.create_key(
        session.prepare_request(requests.Request("GET", "https://origin.test/"))
    )
    session.cache.responses[key] = stored
    results: list[bytes] = []
    # Alive at once: a thread started after another ended may get its ident, and one thread
    # after another is no sharing.
    together = threading.Barrier(4, timeout=30)

    def hit() -> None:
        together.wait()
        for _ in range(20):
            response = session.get("https://origin.test/")
            assert response.from_cache
            results.append(response.content)

    workers = [threading.Thread(target=hit) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert results == [b"payload"] * 80
    assert answered
    assert all(answered)


def test_a_python_without_ctypes_reads_the_usual_way(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['ctypes'] = None\n"  # as in a Python built without it
        "from requests_cache_like import CachedResponse\n"
        "from requests_cache_like.backends import FileCache\n"
        "cache = FileCache(sys.argv[1])\n"
        "cache.responses['k'] = CachedResponse(content=b'x', url='https://origin.test/')\n"
        "print(cache.responses['k'].content, cache.responses._held_reads)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
    )
    assert (done.returncode, done.stdout.strip()) == (0, "b'x' None"), done.stderr


def test_held_reads_leave_no_descriptor_open(reads: HeldReads, tmp_path: Path) -> None:
    small = str(_write(tmp_path / "small", b"s" * 100))
    large = str(_write(tmp_path / "large", b"l" * 100_000))
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(200):
        assert reads.read(small) == b"s" * 100
        assert reads.read(large) is None
        assert reads.read(str(tmp_path)) is None
        with pytest.raises(FileNotFoundError):
            reads.read(str(tmp_path / "absent"))
    assert len(os.listdir("/proc/self/fd")) == before
