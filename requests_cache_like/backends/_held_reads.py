"""Reads of small cache files that keep the GIL, for threads hitting a filesystem cache at once.

``os.open``, ``os.read`` and ``os.close`` each release the GIL. With several threads hitting
the cache, every release hands the interpreter to another thread and back (a context switch,
longer than the system call itself): 8 threads served a third of one thread's hits. A small
file already in the page cache is read in a few microseconds, so holding the GIL through the
read costs the other threads less than the hand-overs do.

:class:`HeldReads` calls libc through :class:`ctypes.PyDLL`, whose calls keep the GIL, and
only where the read can never wait long:

- on Linux, in a directory on a local disk file system (``statfs``, once per directory): an
  ``open`` on a network file system asks the server;
- with ``preadv2(..., RWF_NOWAIT)``: data not already in memory fails with ``EAGAIN`` instead
  of waiting for the disk (a file system without that flag turns these reads off);
- for files smaller than the buffer (64 KiB, most entries).

Whenever it cannot answer, :meth:`HeldReads.read` returns None and the caller reads the usual
way, releasing the GIL.
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import sys
import threading
from typing import Any

__all__ = ["HeldReads"]

#: ``statfs`` magic numbers of local disk file systems (linux/magic.h; ZFS's own): ext2-4,
#: XFS, Btrfs, F2FS, bcachefs, ZFS, and overlayfs (containers' root, over a local disk).
_LOCAL_FILE_SYSTEMS = frozenset(
    {0xEF53, 0x58465342, 0x9123683E, 0xF2F52010, 0xCA451A4E, 0x2FC12FC1, 0x794C7630}
)
_BUFFER_SIZE = 64 * 1024
_PAGE_SIZE = mmap.PAGESIZE
# O_NONBLOCK: a FIFO named like an entry must not block the open (with the GIL held, every
# thread would wait); a regular file ignores it.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
_ABSENT = (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG)


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]


class _LibC:
    """The three libc functions a held read calls, and ``statfs`` (which may release)."""

    def __init__(self) -> None:
        held = ctypes.PyDLL(None, use_errno=True)
        self.open = held.open
        self.open.argtypes, self.open.restype = [ctypes.c_char_p, ctypes.c_int], ctypes.c_int
        self.preadv2 = held.preadv2
        self.preadv2.argtypes = [
            ctypes.c_int,
            ctypes.POINTER(_IoVec),
            ctypes.c_int,
            ctypes.c_int64,
            ctypes.c_int,
        ]
        self.preadv2.restype = ctypes.c_ssize_t
        self.close = held.close
        self.close.argtypes, self.close.restype = [ctypes.c_int], ctypes.c_int
        self.statfs = ctypes.CDLL(None, use_errno=True).statfs
        self.statfs.argtypes, self.statfs.restype = [ctypes.c_char_p, ctypes.c_void_p], ctypes.c_int

    def file_system(self, directory: str) -> int | None:
        """The ``statfs`` type of ``directory`` (``f_type``, the structure's first field)."""
        result = ctypes.create_string_buffer(256)  # struct statfs is 120 bytes on 64-bit Linux
        if self.statfs(os.fsencode(directory), result) != 0:
            return None
        return ctypes.c_long.from_buffer(result).value & 0xFFFFFFFF


def _load() -> _LibC | None:
    if not sys.platform.startswith("linux") or not hasattr(os, "RWF_NOWAIT"):
        return None
    try:
        return _LibC()
    except (OSError, AttributeError):  # no libc to load, or one without preadv2
        return None


_LIBC = _load()


class _Buffer:
    """A thread's read buffer and the ``iovec`` that points into it."""

    def __init__(self) -> None:
        self.data = ctypes.create_string_buffer(_BUFFER_SIZE)
        self.address: int = ctypes.addressof(self.data)
        self.vector = _IoVec(self.address, _BUFFER_SIZE)
        self.pointer = ctypes.pointer(self.vector)


class HeldReads:
    """Whole-file reads of small entries in ``directory`` without releasing the GIL."""

    def __init__(self, directory: str) -> None:
        libc = _LIBC
        self.enabled = libc is not None and libc.file_system(directory) in _LOCAL_FILE_SYSTEMS
        self._spare = threading.local()
        self._first_thread: int | None = None
        self._shared = False

    def shared(self) -> bool:
        """True once a second thread has asked: alone, a thread reads the usual way (a
        release of the GIL that no thread waits for costs nothing)."""
        if self._shared:
            return True
        thread = threading.get_ident()
        if self._first_thread is None:
            self._first_thread = thread
        elif thread != self._first_thread:
            self._shared = True
        return self._shared

    def read(self, path: str) -> bytes | None:
        """The content of the file at ``path``, or None: read it the usual way (not in
        memory yet, larger than the buffer, an unusual error). A missing file raises
        :class:`FileNotFoundError`."""
        libc: Any = _LIBC
        # Taken from the thread's slot, not borrowed: a signal handler that reads the cache
        # between two of these calls gets a buffer of its own.
        buffer = self._spare.__dict__.pop("buffer", None) or _Buffer()
        try:
            handle = libc.open(os.fsencode(path), _OPEN_FLAGS)
            if handle < 0:
                code = ctypes.get_errno()
                if code in _ABSENT:
                    raise FileNotFoundError(code, os.strerror(code), path)
                return None
            try:
                return self._fill(libc, handle, buffer)
            finally:
                libc.close(handle)
        finally:
            self._spare.buffer = buffer

    def _fill(self, libc: Any, handle: int, buffer: _Buffer) -> bytes | None:
        vector, total = buffer.vector, 0
        while total < _BUFFER_SIZE:
            vector.base, vector.length = buffer.address + total, _BUFFER_SIZE - total
            count = libc.preadv2(handle, buffer.pointer, 1, total, os.RWF_NOWAIT)
            if count <= 0:
                if count == 0:  # the file's end
                    return ctypes.string_at(buffer.address, total)
                if ctypes.get_errno() == errno.EOPNOTSUPP:
                    self.enabled = False  # this file system cannot promise not to wait
                return None
            total += count
            # A read without waiting stops early only where a page is not in memory; one
            # that ends inside a page ended at the file's end (most entries: one call).
            if total % _PAGE_SIZE:
                return ctypes.string_at(buffer.address, total)
        return None
