"""Parsing of ``Cache-Control`` (RFC 9111 §5.2) and ``Pragma`` (§5.4) into plain values."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from attrs import frozen

__all__ = [
    "MAX_DELTA_SECONDS",
    "CacheDirectives",
    "bounded_int",
    "has_cache_headers",
    "parse_cache_control",
    "request_directives",
]

#: RFC 9111 §1.2.2: delta-seconds too large to represent are taken as 2**31.
MAX_DELTA_SECONDS = 2**31


@frozen
class CacheDirectives:
    """The cache directives of one message. ``None`` means "directive absent".

    Integer-valued directives hold seconds. A directive present with an invalid value is
    recorded as ``0`` where that is the conservative reading (RFC 9111 §4.2.1: an invalid
    freshness value means stale).
    """

    max_age: int | None = None
    s_maxage: int | None = None
    max_stale: int | None = None  # request: seconds; MAX_DELTA_SECONDS when given with no value
    min_fresh: int | None = None
    stale_while_revalidate: int | None = None
    stale_if_error: int | None = None
    no_cache: bool = False
    no_cache_fields: tuple[str, ...] = ()
    no_store: bool = False
    must_revalidate: bool = False
    proxy_revalidate: bool = False
    immutable: bool = False
    private: bool = False
    public: bool = False
    only_if_cached: bool = False
    no_transform: bool = False
    must_understand: bool = False

    @property
    def is_empty(self) -> bool:
        """True when no directive was present."""
        return self == _EMPTY


_EMPTY = CacheDirectives()


def _split_directives(value: str) -> list[tuple[str, str | None]]:
    """Split a header value on commas outside quoted strings into (name, value) pairs."""
    parts: list[str] = []
    current: list[str] = []
    in_quotes = False
    escaped = False
    for char in value:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\" and in_quotes:
            escaped = True
        elif char == '"':
            in_quotes = not in_quotes
            current.append(char)
        elif char == "," and not in_quotes:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))

    pairs: list[tuple[str, str | None]] = []
    for part in parts:
        name, sep, arg = part.partition("=")
        # "max-age =5" is not max-age (RFC 9111 §5.2: no whitespace around "=").
        name = name.lstrip().lower() if sep else name.strip().lower()
        if not name:
            continue
        if not sep:
            pairs.append((name, None))
            continue
        arg = arg.rstrip()
        if len(arg) >= 2 and arg[0] == '"' and arg[-1] == '"':
            arg = arg[1:-1]
        pairs.append((name, arg))
    return pairs


def bounded_int(digits: str, limit: int) -> int:
    """Return the value of a string of ASCII digits, or ``limit`` if it is larger.

    Never ``int()`` of the whole string: Python refuses more than 4,300 digits (ValueError),
    and a header value can be longer than that.
    """
    significant = digits.lstrip("0")
    if len(significant) > len(str(limit)):
        return limit
    return min(int(significant or "0"), limit)


def _delta_seconds(arg: str | None) -> int:
    """Parse delta-seconds; invalid values (negative, fractional, empty, not ASCII digits)
    become 0, treated as already stale; values past 2**31 are 2**31 (RFC 9111 §1.2.2)."""
    # isascii: str.isdigit() also accepts digits such as "²" that int() rejects.
    if arg is None or not (arg.isascii() and arg.isdigit()):
        return 0
    return bounded_int(arg, MAX_DELTA_SECONDS)


_INT_DIRECTIVES = {
    "max-age": "max_age",
    "s-maxage": "s_maxage",
    "min-fresh": "min_fresh",
    "stale-while-revalidate": "stale_while_revalidate",
    "stale-if-error": "stale_if_error",
}
_BOOL_DIRECTIVES = {
    "no-store": "no_store",
    "must-revalidate": "must_revalidate",
    "proxy-revalidate": "proxy_revalidate",
    "immutable": "immutable",
    "private": "private",
    "public": "public",
    "only-if-cached": "only_if_cached",
    "no-transform": "no_transform",
    "must-understand": "must_understand",
}


@lru_cache(maxsize=512)
def parse_cache_control(value: str | None) -> CacheDirectives:
    """Return the directives in a ``Cache-Control`` value (RFC 9111 §5.2).

    Names are case-insensitive, whitespace and quoting are tolerated; for a duplicated
    integer directive the first occurrence wins. Results are memoised, since the same few
    header values recur on every request.
    """
    if not value:
        return _EMPTY
    fields: dict[str, Any] = {}
    for name, arg in _split_directives(value):
        if name in _INT_DIRECTIVES:
            fields.setdefault(_INT_DIRECTIVES[name], _delta_seconds(arg))
        elif name in _BOOL_DIRECTIVES:
            fields[_BOOL_DIRECTIVES[name]] = True
        elif name == "max-stale":
            fields.setdefault(
                "max_stale", MAX_DELTA_SECONDS if arg is None else _delta_seconds(arg)
            )
        elif name == "no-cache":
            if arg:
                # no-cache="field-list" (§5.2.2.4): only those fields need revalidation.
                names = tuple(f.strip().lower() for f in arg.split(",") if f.strip())
                fields["no_cache_fields"] = (*fields.get("no_cache_fields", ()), *names)
            else:
                fields["no_cache"] = True
    if not fields:
        return _EMPTY
    return CacheDirectives(**fields)


def has_cache_headers(headers: Mapping[str, str]) -> bool:
    """True if a request carries ``Cache-Control`` or ``Pragma`` (else its directives are
    empty, without parsing anything)."""
    return "Cache-Control" in headers or "Pragma" in headers


def request_directives(headers: Mapping[str, str]) -> CacheDirectives:
    """Return a request's directives, honouring ``Pragma: no-cache`` when there is no
    ``Cache-Control`` (RFC 9111 §5.4)."""
    directives = parse_cache_control(headers.get("Cache-Control"))
    if directives.is_empty:
        pragma = headers.get("Pragma")
        if pragma and "no-cache" in pragma.lower():
            return CacheDirectives(no_cache=True)
    return directives
