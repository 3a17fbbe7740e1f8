"""Download a large file through the cache in constant memory, twice: the first time from the
origin (stored as it arrives), the second time from the cache, a chunk at a time.

A threaded ``http.server`` this script starts on 127.0.0.1 (no internet) serves a 24 MiB
body in 256 KiB pieces, generated as it goes. Both downloads write to a file with
``iter_content``; the script prints where each came from, whether the two files match, and
how much the peak memory of Python objects grew during each download (tracemalloc), which
stays far below the size of the body. The cache and the files live in a temporary
directory that is removed at the end.

    python examples/streaming_download.py
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from requests_cache_like import CachedSession

MIB = 1024 * 1024
SIZE = 24 * MIB
PIECE = 256 * 1024


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(SIZE))
        self.send_header("Cache-Control", "max-age=3600")
        self.end_headers()
        for index in range(SIZE // PIECE):
            self.wfile.write(hashlib.sha256(str(index).encode()).digest() * (PIECE // 32))


@contextmanager
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/dataset.bin"
    finally:
        server.shutdown()
        server.server_close()


def download(session: CachedSession, url: str, target: Path) -> tuple[bool, float]:
    """Save ``url`` to ``target``; return whether it came from the cache and the peak growth
    of traced memory in MiB."""
    tracemalloc.start()
    try:
        with session.get(url, stream=True) as response, target.open("wb") as out:
            for chunk in response.iter_content(chunk_size=MIB):
                out.write(chunk)
            from_cache = bool(response.from_cache)
        peak = tracemalloc.get_traced_memory()[1] / MIB
    finally:
        tracemalloc.stop()
    return from_cache, peak


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir, origin() as url:
        folder = Path(workdir)
        session = CachedSession(str(folder / "downloads"), expire_after=3600)
        first, first_peak = download(session, url, folder / "first.bin")
        second, second_peak = download(session, url, folder / "second.bin")
        same = (folder / "first.bin").read_bytes() == (folder / "second.bin").read_bytes()
        print(f"first download:  from_cache={first}")
        print(f"second download: from_cache={second}")
        print(f"same {SIZE // MIB} MiB in both files: {same}")
        # The origin runs in this process and its pieces are traced too: still far below 24.
        print(f"peak memory growth below 8 MiB each time: {max(first_peak, second_peak) < 8}")
        session.close()


if __name__ == "__main__":
    main()
