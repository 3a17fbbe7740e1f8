"""SQLite's own change marker for a WAL database, read from its shared memory.

Every commit to a database in WAL mode, by any connection of any process, rewrites the
wal-index header at the start of the database's ``-shm`` file: a change counter, the number
of frames in the log, the log's salts and a checksum (https://www.sqlite.org/walformat.html,
section 2.2). Its 48 bytes are therefore a version of the whole database. Read from a
mapping of the file they cost no SQLite call and no system call, so a hit on an unchanged
database does not release the GIL (which, with threads waiting for it, halves their
throughput on every release).

Two rules keep the mapping honest:

- Its descriptor is closed only once the file is unlinked. Closing any descriptor of a file
  drops every POSIX lock the process holds on that file, SQLite's own among them; SQLite
  unlinks ``-shm`` when the last connection to the database closes, after which nobody holds
  a lock on it. Views of unlinked files are closed when the next view is opened.
- A view is trusted only once the cache's main connection has read (see
  :class:`._sqlite_connection.SQLiteConnection`): from then until it closes, that connection
  holds SQLite's shared lock on the file (for the whole process: POSIX locks are a
  process's), so no other connection can unlink it or start it afresh, and the file found
  at the path after that read is the one every connection of the process uses.

One program escapes the header: a connection in ``locking_mode=EXCLUSIVE`` keeps its index
in its own memory. While it holds the database nobody else can read it, and hits here keep
answering what was last read, as they would have answered just before it took the lock.
"""

from __future__ import annotations

import mmap
import os
import threading

__all__ = ["HEADER_SIZE", "SharedMemory", "shared_memory"]

#: One copy of the wal-index header; SQLite keeps two, one after the other.
HEADER_SIZE = 48
#: The header's ``isInit`` byte: zero until a connection has built the index.
_IS_INIT = 12

_lock = threading.Lock()
_views: dict[tuple[int, int], SharedMemory] = {}


class SharedMemory:
    """A read-only mapping of one ``-shm`` file (one inode), with the descriptors opened on it:
    kept for the process's life, or until the file is unlinked."""

    __slots__ = ("_fds", "_map", "inode")

    def __init__(self, fd: int, inode: tuple[int, int]) -> None:
        self._fds = [fd]
        self.inode = inode
        self._map: mmap.mmap | None = None

    def mapped(self) -> bool:
        """True once the file is mapped (it is, as soon as it holds a whole header)."""
        if self._map is None:
            if os.fstat(self._fds[0]).st_size < 2 * HEADER_SIZE:
                return False
            self._map = mmap.mmap(self._fds[0], 2 * HEADER_SIZE, mmap.MAP_SHARED, mmap.PROT_READ)
        return True

    def marker(self) -> bytes | None:
        """The database's current version, or None while a writer is rewriting the header
        (its two copies differ) or before the index is built."""
        try:
            both = self._map[: 2 * HEADER_SIZE]  # type: ignore[index]
        except (TypeError, ValueError):  # not mapped yet, or closed under a closing cache
            return None
        first = both[:HEADER_SIZE]
        if first != both[HEADER_SIZE:] or not first[_IS_INIT]:
            return None
        return first

    def unlinked(self) -> bool:
        """True once no path leads to the file (SQLite removed it: no connection uses it)."""
        return os.fstat(self._fds[0]).st_nlink == 0

    def close(self) -> None:
        """Unmap and close (only for an unlinked file: see the module)."""
        if self._map is not None:
            self._map.close()
        for fd in self._fds:
            os.close(fd)


def shared_memory(db_path: str) -> SharedMemory | None:
    """The view of the ``-shm`` file at ``db_path`` as it is now, or None where there is none
    to read (no such file yet, shorter than its header, or not a POSIX system)."""
    if os.name != "posix":
        return None
    path = db_path + "-shm"
    try:
        status = os.stat(path)
    except OSError:
        return None
    inode = (status.st_dev, status.st_ino)
    with _lock:
        view = _views.get(inode)
        if view is None:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return None
            opened = os.fstat(fd)
            found = (opened.st_dev, opened.st_ino)  # another file if it was replaced meanwhile
            view = _views.get(found)
            if view is None:
                view = _views[found] = SharedMemory(fd, found)
            else:  # never closed while linked: closing would drop the process's locks on it
                view._fds.append(fd)
            for gone in [v for v in _views.values() if v is not view and v.unlinked()]:
                del _views[gone.inode]
                gone.close()
            if found != inode:
                return None
        try:
            return view if view.mapped() else None
        except (OSError, ValueError):  # a file system that cannot map it: ask SQLite instead
            return None
