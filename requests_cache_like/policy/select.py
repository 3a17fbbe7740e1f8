"""Which stored response a request selects: its ``Vary`` variant (RFC 9111 §4.1) and the
part of it a ``Range`` request can be answered with (§3.4, RFC 9110 §14)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from .messages import byte_range, content_range, variants_match, vary_names

__all__ = [
    "ByteSlice",
    "Selectable",
    "byte_slice",
    "range_usable",
    "same_range",
    "variant_needed",
]

#: ``(first, last, complete_length, offset)``: the requested bytes, the representation's
#: length, and the position of the stored body's first byte.
ByteSlice = tuple[int, int, int, int]


class _Request(Protocol):
    @property
    def headers(self) -> Mapping[str, str]: ...


class Selectable(Protocol):
    """What selection reads of a stored response."""

    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def status_code(self) -> int: ...
    @property
    def request(self) -> _Request: ...
    @property
    def vary_group(self) -> str: ...


def variant_needed(
    primary: Selectable, request_headers: Mapping[str, str]
) -> tuple[str, ...] | bool:
    """Decide whether the newest stored response answers the request (RFC 9111 §4.1).

    True: it does. False: no stored response can (``Vary: *``, or no variants kept). A
    tuple of field names: another variant may, the one stored for these values.
    """
    names = vary_names(primary.headers)
    if names is None or variants_match(names, primary.request.headers, request_headers):
        return True
    if names == ("*",) or not primary.vary_group:
        return False
    return names


def byte_slice(stored: Selectable, body_length: int, range_header: str) -> ByteSlice | None:
    """Return the slice of the stored body a single-range request asks for, or None if the
    stored response cannot answer it."""
    if stored.status_code == 206:
        stored_range = content_range(stored.headers)
        if stored_range is None:
            return None
        first, last, total = stored_range
        if total is None:
            return None
        wanted = byte_range(range_header, total)
        if wanted is None or wanted[0] < first or wanted[1] > min(last, first + body_length - 1):
            return None
        return wanted[0], wanted[1], total, first
    wanted = byte_range(range_header, body_length)
    return None if wanted is None else (wanted[0], wanted[1], body_length, 0)


def same_range(stored: Selectable, range_header: str | None) -> bool:
    """True if ``stored`` is the partial answer to this very range."""
    return stored.status_code == 206 and stored.request.headers.get("Range") == range_header


def range_usable(stored: Selectable, body_length: int, request_headers: Mapping[str, str]) -> bool:
    """True if ``stored`` can answer the request as far as ranges go: a partial response only
    a range it covers, a complete one any satisfiable range (§3.4)."""
    range_header = request_headers.get("Range")
    if not range_header:
        return stored.status_code != 206
    if stored.status_code == 206:
        return same_range(stored, range_header) or (
            byte_slice(stored, body_length, range_header) is not None
        )
    return stored.status_code == 200 and byte_slice(stored, body_length, range_header) is not None
