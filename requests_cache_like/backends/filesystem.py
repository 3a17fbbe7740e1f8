"""Filesystem backend: one file per entry, readable with ordinary tools.

Files live under ``{cache_dir}/{table}/{k[0:2]}/{key}{extension}``: 256 directories per
table (a key other than a hex digest is %-escaped first), so a new entry rarely has to make
one (a ``mkdir`` costs more than the write on some disks) and a million entries make about
4,000 per directory, which file systems index. Every
write goes to a temporary file in the same directory and is renamed over the target, so a
reader sees the old file or the new one, never a partial one, even with several processes
and after a crash. Files are not fsynced unless ``durable=True``: a killed process never
leaves a partial entry, and a power loss may lose the last writes (a damaged file then reads
as a miss: every entry carries a checksum).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from platformdirs import user_cache_dir

from ..serializers import init_serializer
from ..settings import DEFAULT_CACHE_NAME
from ._util import storage_error, storage_errors
from .base import BaseCache, BaseStorage
from .leases import owner_token
from .lru import LRUDict
from .storage import is_default_format

try:
    from ._held_reads import HeldReads
except ImportError:  # a Python built without ctypes: every read the usual way
    HeldReads = None  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from ..serializers.pipeline import SerializerType, StageLike

__all__ = ["FileCache", "FileDict", "LRUDict", "get_cache_dir"]  # and LRUFileDict, lazily

_EXTENSIONS = {"json": ".json", "yaml": ".yaml"}


def _is_absent(error: OSError) -> bool:
    """True if ``error`` means "no such entry" (a name too long to exist is absent too)."""
    return isinstance(error, FileNotFoundError) or error.errno == errno.ENAMETOOLONG


def get_cache_dir(
    cache_name: str | Path, use_cache_dir: bool = False, use_temp: bool = False
) -> Path:
    """Return the directory for ``cache_name`` and the location options."""
    path = Path(cache_name).expanduser()
    if use_cache_dir:
        path = Path(user_cache_dir("requests_cache_like")) / path
    elif use_temp:
        path = Path(tempfile.gettempdir()) / path
    return path.absolute()


class FileDict(BaseStorage):
    """A storage of one file per key in a fanned-out directory tree.

    A cache key (a hex digest) is its own file name. Any other character is %-escaped, as is
    a leading dot, so a key can never name a hidden file or escape the directory; a key whose
    escaped name is too long for the file system is refused with a StorageError.
    """

    def __init__(
        self,
        cache_dir: str | Path,
        serializer: SerializerType | StageLike = None,
        extension: str = "",
        use_temp: bool = False,
        use_cache_dir: bool = False,
        durable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(serializer=serializer, **kwargs)
        self.cache_dir = get_cache_dir(cache_dir, use_cache_dir, use_temp)
        self.extension = extension
        self.durable = durable
        with self._errors():
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._held_reads = None if HeldReads is None else HeldReads(str(self.cache_dir))

    @staticmethod
    def _errors() -> Any:
        return storage_errors("filesystem", (OSError,))

    def _path(self, key: str) -> Path:
        return Path(self._file(key))

    def _file(self, key: str) -> str:
        """:meth:`_path` as a string, made without pathlib (every lookup and write needs it)."""
        name = (key if _UNESCAPED(key) else quote(key, safe="")) or _EMPTY_KEY_NAME
        if name.startswith("."):
            name = "%2E" + name[1:]
        # A fan-out directory is a bucket only: never "", "." or "..".
        bucket = name[:2].replace(".", "_")
        return os.path.join(self.cache_dir, bucket, name + self.extension)

    #: requests-cache's name for :meth:`_path`.
    _key2path = _path

    def _key_of(self, path: Path) -> str:
        cut = len(self.extension)
        name = path.name[:-cut] if cut else path.name
        return "" if name == _EMPTY_KEY_NAME else unquote(name)

    def get_raw(self, key: str) -> Any:
        try:  # not self._errors(): a context manager costs more than this read of a miss
            data = _read_file(self._file(key), self._held_reads)
        except OSError as exc:
            if _is_absent(exc):
                raise KeyError(key) from None
            raise storage_error("filesystem", exc) from exc
        # Without a serializer the values are strings (redirect targets).
        return (
            data.decode("utf-8", "replace")
            if self.serializer is None and not is_default_format(data)
            else data
        )

    def set_raw(
        self,
        key: str,
        value: Any,
        expires: datetime | None = None,
        created_at: datetime | None = None,
        size: int = 0,
    ) -> None:
        path = self._file(key)
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value or b"")
        with self._errors():
            _write_file(path, data, self.durable)

    def __delitem__(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except OSError as exc:
            if not _is_absent(exc):
                raise
            raise KeyError(key) from None
        if self.bodies is not None or (self.cache_dir.parent / "bodies").is_dir():
            from .bodies import body_store

            store = body_store(self)
            if store is not None:
                store.remove(key)  # its streamed body, if it had one

    def paths(self) -> Iterator[Path]:
        """Yield the path of every stored entry."""
        for path in self.cache_dir.glob(ENTRY_PATTERN + self.extension):
            if path.is_file() and not path.name.startswith(".tmp-"):
                yield path

    def __iter__(self) -> Iterator[str]:
        return iter([self._key_of(path) for path in self.paths()])

    def __len__(self) -> int:
        return sum(1 for _ in self.paths())

    def __contains__(self, key: object) -> bool:
        try:
            return self._path(str(key)).is_file()
        except OSError as exc:
            if not _is_absent(exc):
                raise
            return False

    def clear(self) -> None:
        for path in list(self.paths()):
            path.unlink(missing_ok=True)
        # Files of the two-level layout of earlier development versions: never read, removed.
        for path in list(self.cache_dir.glob(f"*/*/*{self.extension}")):
            if path.is_file():
                path.unlink(missing_ok=True)

    def size(self) -> int:
        """Total size of the stored files, in bytes."""
        total = 0
        for path in self.paths():
            try:
                total += path.stat().st_size
            except FileNotFoundError:  # removed meanwhile
                continue
        return total


class FileCache(BaseCache):
    """Filesystem cache backend: responses and redirects as files under ``cache_name``.

    :param cache_name: Directory for the cache (created if missing).
    :param use_cache_dir: Put it in the user's cache directory (platformdirs).
    :param use_temp: Put it in the temporary directory.
    :param extension: File name extension; by default ``.json``/``.yaml`` for those
        serializers and none otherwise.
    :param max_cache_bytes: Bound the responses' total size: the least recently used files
        are removed to make room (:class:`~.filesystem_lru.LRUFileDict`). Default: unbounded.
    :param max_file_bytes: With ``max_cache_bytes``, responses larger than this are not stored.
    :param block_bytes: With ``max_cache_bytes``, count each file as whole blocks of this size.
    :param sync_index: With ``max_cache_bytes``, reconcile the size index with the files.
    :param eviction_policy: With ``max_cache_bytes``, ``"lru"`` (default) or ``"lfu"``.
    :param durable: fsync every file before it replaces the old one, so that a write also
        survives a power loss (slower: about a millisecond per write).
    :param lock: With ``max_cache_bytes``, the lock that serializes eviction in this process.
        Otherwise not needed (a warning says so): every write is an atomic rename, safe
        across threads and processes without a lock.
    """

    def __init__(
        self,
        cache_name: str | Path = DEFAULT_CACHE_NAME,
        use_cache_dir: bool = False,
        use_temp: bool = False,
        extension: str | None = None,
        serializer: SerializerType | StageLike = None,
        lock: Any = None,
        max_cache_bytes: int | None = None,
        max_file_bytes: int | None = None,
        block_bytes: int = 1,
        sync_index: bool = False,
        eviction_policy: str = "lru",
        durable: bool = False,
        **kwargs: Any,
    ) -> None:
        if lock is not None and max_cache_bytes is None:
            warnings.warn(
                "FileCache(lock=...) has no effect: writes are atomic renames, safe across "
                "threads and processes without a lock",
                UserWarning,
                stacklevel=3,
            )
        super().__init__(cache_name=str(cache_name), **kwargs)
        self.cache_dir = get_cache_dir(cache_name, use_cache_dir, use_temp)
        pipeline = init_serializer(serializer)
        if extension is None:
            codec, _, compression = str(getattr(pipeline, "name", "")).partition("+")
            extension = "" if compression else _EXTENSIONS.get(codec, "")
        if extension and not extension.startswith("."):
            extension = "." + extension
        responses = self.cache_dir / "responses"
        if max_cache_bytes is None:
            self.responses: FileDict = FileDict(
                responses, serializer=pipeline, extension=extension, durable=durable
            )
        else:
            from .filesystem_lru import LRUFileDict

            self.responses = LRUFileDict(
                responses,
                max_cache_bytes=max_cache_bytes,
                max_file_bytes=max_file_bytes,
                block_bytes=block_bytes,
                sync_index=sync_index,
                lock=lock,
                eviction_policy=eviction_policy,
                serializer=pipeline,
                extension=extension,
                durable=durable,
            )
        self.redirects: FileDict = FileDict(self.cache_dir / "redirects", durable=durable)

    def paths(self) -> Iterator[Path]:
        """Yield the path of every stored response file."""
        return self.responses.paths()

    def clear(self) -> None:
        self.responses.clear()
        self.redirects.clear()
        shutil.rmtree(self.cache_dir / "bodies", ignore_errors=True)


def _read_file(path: str, held: HeldReads | None = None) -> bytes:
    # Threads sharing the storage read without releasing the GIL where that is safe (see
    # _held_reads); a thread alone reads the usual way.
    if held is not None and held.enabled and held.shared():
        data = held.read(path)
        if data is not None:
            return data
    # Fewer system calls than Path.read_bytes() (no fstat, no extra read at the end): each
    # releases the GIL, which costs a hand-over between threads hitting the cache at once.
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        data = os.read(handle, _FIRST_READ)
        if len(data) < _FIRST_READ:  # most entries: a short read of a regular file is its end
            return data
        # A large entry: the rest in one read, sized by fstat (and on to the end if it grew).
        chunks = [data]
        size = max(os.fstat(handle).st_size - len(data), _FIRST_READ)
        while chunk := os.read(handle, size):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(handle)


#: The first read's buffer: most entries fit. A larger one (256 KiB before) made every hit
#: allocate and free a block past malloc's mmap threshold, which cost some processes a pair
#: of system calls and page faults per read (14 µs more per hit here).
_FIRST_READ = 64 * 1024
#: The glob of a table's entry files (one fan-out directory, then the file), extension apart.
ENTRY_PATTERN = "*/*"
#: The file name of the empty key: quote() never makes a bare "%", so no other key has it.
_EMPTY_KEY_NAME = "%"
#: Keys quote() would leave as they are (cache keys are hex digests): no need to call it.
_UNESCAPED = re.compile(r"[A-Za-z0-9_.~-]+").fullmatch


def _write_file(path: str, data: bytes, durable: bool) -> None:
    """Write ``path`` whole or not at all: into a temporary file beside it, renamed over it.

    Cheaper than ``tempfile.mkstemp`` and a ``mkdir`` on every write (a miss pays this): the
    temporary name is a unique token (a per-process random part and a counter, as lease
    owners are), and the directory is made only when the first open finds it missing.
    Without ``durable`` there is no fsync: a power loss may lose the file (it then reads as a
    miss); a killed process never tears it.
    """
    directory = os.path.dirname(path)
    temp = os.path.join(directory, f".tmp-{owner_token()}.part")  # unique across processes
    try:
        handle = os.open(temp, _CREATE, 0o600)
    except FileNotFoundError:
        os.makedirs(directory, exist_ok=True)
        handle = os.open(temp, _CREATE, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view) :]
            if durable:
                os.fsync(handle)
        finally:
            os.close(handle)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL
_CREATE |= getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def __getattr__(name: str) -> Any:
    # requests-cache defines LRUFileDict here; it lives in filesystem_lru, which imports this.
    if name == "LRUFileDict":
        from .filesystem_lru import LRUFileDict

        return LRUFileDict
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
