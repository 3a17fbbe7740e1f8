"""A stand-in for ``response.raw`` on cached responses."""

from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any

from urllib3 import HTTPResponse

__all__ = ["CachedHTTPResponse", "rewind_stream"]

# The stored body is already decoded, so a Content-Encoding header must not make urllib3
# try to decode it a second time.
_ENCODING_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


class CachedHTTPResponse(HTTPResponse):
    """A urllib3 response over a stored body: ``read()``, ``stream()`` and ``iter`` work as on a
    live ``response.raw`` with ``stream=True``."""

    def __init__(
        self,
        body: Any,
        headers: Mapping[str, str],
        status: int,
        reason: str,
        length: int | None = None,
    ) -> None:
        safe_headers = {k: v for k, v in headers.items() if k.lower() not in _ENCODING_HEADERS}
        if isinstance(body, bytes):
            length, body = len(body), BytesIO(body)
        safe_headers["Content-Length"] = str(length)
        super().__init__(
            body=body,
            headers=safe_headers,
            status=status,
            reason=reason,
            preload_content=False,
            decode_content=False,
        )

    def release_conn(self) -> None:
        """There is no connection to release."""


def rewind_stream(response: Any) -> None:
    """After the cache read a ``stream=True`` response's body to store it, give the caller a
    fresh ``raw`` stream over that body."""
    if getattr(response, "_content_consumed", False):
        response.raw = CachedHTTPResponse(
            response.content, response.headers, response.status_code, response.reason or ""
        )
