"""Header-level rules of standards mode (policy/messages.py).

- What is not stored: RFC 9111 §3.1 (hop-by-hop, Connection-listed), §5.2.2.4 (qualified
  no-cache), §5.2.2.7 (qualified private: a shared-cache rule, not ours).
- Freshening from a 304 or HEAD: RFC 9111 §3.2, §4.3.4, §4.3.5; the 304 a cache generates:
  RFC 9110 §15.4.5.
- The application's own conditional requests: RFC 9111 §4.3.2, RFC 9110 §13.1.2 (weak
  comparison, ``*``), §13.1.3, §13.2.2 (If-None-Match before If-Modified-Since).
- Variants: RFC 9111 §4.1, RFC 9110 §12.5.5 (``Vary``), §12.5.4 (Accept-Language).
- Ranges: RFC 9110 §14.1.2 (Range), §14.4 (Content-Range).
- Invalidation: RFC 9111 §4.4.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from requests.structures import CaseInsensitiveDict

from requests_cache_like.policy.messages import (
    HOP_BY_HOP,
    SAFE_METHODS,
    byte_range,
    content_range,
    invalidation_targets,
    is_not_modified,
    merge_headers,
    not_modified_headers,
    unstorable_headers,
    variants_match,
    vary_names,
    vary_values,
)

UTC = timezone.utc
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
URL = "https://site.com/items?page=1"

EARLIER = "Tue, 30 Apr 2024 12:00:00 GMT"
MIDDLE = "Wed, 01 May 2024 00:00:00 GMT"
LATER = "Wed, 01 May 2024 11:00:00 GMT"


def cid(headers: dict[str, str]) -> CaseInsensitiveDict[str]:
    return CaseInsensitiveDict(headers)


# --- unstorable_headers: RFC 9111 §3.1, §5.2.2.4 --------------------------------------------

UNSTORABLE_CASES: list[Any] = [
    pytest.param({}, set(), id="empty"),
    pytest.param(
        {"Content-Type": "text/plain", "ETag": '"v1"', "Cache-Control": "max-age=60"},
        set(),
        id="end-to-end-only",
    ),
    # Hop-by-hop fields (RFC 9110 §7.6.1) and proxy-specific ones.
    pytest.param(
        {"Connection": "keep-alive", "Keep-Alive": "timeout=5", "Transfer-Encoding": "chunked"},
        {"connection", "keep-alive", "transfer-encoding"},
        id="hop-by-hop",
    ),
    pytest.param(
        {
            "TE": "trailers",
            "Trailer": "X-Checksum",
            "Upgrade": "h2c",
            "Proxy-Connection": "keep-alive",
            "Proxy-Authenticate": "Basic",
            "Proxy-Authentication-Info": "nextnonce=1",
            "Proxy-Authorization": "Basic eA==",
        },
        {
            "te",
            "trailer",
            "upgrade",
            "proxy-connection",
            "proxy-authenticate",
            "proxy-authentication-info",
            "proxy-authorization",
        },
        id="proxy-and-upgrade",
    ),
    pytest.param({"TRANSFER-ENCODING": "chunked"}, {"transfer-encoding"}, id="name-case"),
    # Fields named in Connection are hop-by-hop for this message too.
    pytest.param(
        {"Connection": "X-Hop, x-other ,", "X-Hop": "1", "X-Kept": "2"},
        {"connection", "x-hop", "x-other"},
        id="connection-listed",
    ),
    # no-cache="..." forbids reusing those fields unvalidated: dropping them lets the rest
    # be reused.
    pytest.param(
        {"Cache-Control": 'max-age=60, no-cache="Set-Cookie, X-Token"'},
        {"set-cookie", "x-token"},
        id="qualified-no-cache",
    ),
    pytest.param({"Cache-Control": "no-cache"}, set(), id="unqualified-no-cache"),
    # private="..." restricts shared caches only; a private cache keeps those fields.
    pytest.param({"Cache-Control": 'private="X-User"', "X-User": "me"}, set(), id="private-fields"),
]


@pytest.mark.parametrize(("headers", "expected"), UNSTORABLE_CASES)
def test_unstorable_headers(headers: dict[str, str], expected: set[str]) -> None:
    assert unstorable_headers(cid(headers)) == expected


def test_hop_by_hop_are_lower_case() -> None:
    assert all(name == name.lower() for name in HOP_BY_HOP)


# --- merge_headers: RFC 9111 §3.2 ----------------------------------------------------------

STORED = {
    "Content-Type": "text/plain",
    "Content-Length": "10",
    "ETag": '"v1"',
    "Cache-Control": "max-age=60",
    "Date": EARLIER,
    "X-Old": "kept",
}

MERGE_CASES: list[Any] = [
    pytest.param({}, (), STORED, id="nothing-new"),
    # Every field of the 304 replaces or adds to the stored ones...
    pytest.param(
        {"Cache-Control": "max-age=120", "Date": LATER, "X-New": "1"},
        (),
        {**STORED, "Cache-Control": "max-age=120", "Date": LATER, "X-New": "1"},
        id="replace-and-add",
    ),
    pytest.param(
        {"cache-control": "no-cache", "etag": '"v2"'},
        (),
        {**STORED, "Cache-Control": "no-cache", "ETag": '"v2"'},
        id="name-case",
    ),
    # ...except Content-Length (a 304 or HEAD says nothing about the stored body)...
    pytest.param({"Content-Length": "0"}, (), STORED, id="content-length-kept"),
    pytest.param({"content-length": "999"}, (), STORED, id="content-length-kept-any-case"),
    # ...hop-by-hop and Connection-listed fields...
    pytest.param(
        {"Transfer-Encoding": "chunked", "Connection": "X-Hop", "X-Hop": "1", "Keep-Alive": "5"},
        (),
        STORED,
        id="hop-by-hop-skipped",
    ),
    # ...fields the new response says not to reuse unvalidated...
    pytest.param(
        {"Cache-Control": 'max-age=5, no-cache="X-Token"', "X-Token": "secret"},
        (),
        {**STORED, "Cache-Control": 'max-age=5, no-cache="X-Token"'},
        id="qualified-no-cache-skipped",
    ),
    # ...and fields the stored response depends upon (e.g. a decoded body's metadata).
    pytest.param(
        {"Content-Type": "text/html", "Content-Encoding": "gzip", "Date": LATER},
        ("Content-Type", "content-encoding"),
        {**STORED, "Date": LATER},
        id="keep-list",
    ),
]


@pytest.mark.parametrize(("fresh", "keep", "expected"), MERGE_CASES)
def test_merge_headers(
    fresh: dict[str, str], keep: tuple[str, ...], expected: dict[str, str]
) -> None:
    stored = cid(STORED)
    merge_headers(stored, cid(fresh), keep)
    assert stored == cid(expected)
    assert len(stored) == len(expected)  # no duplicate spellings of one name


# --- not_modified_headers: RFC 9110 §15.4.5 ------------------------------------------------

#: A 304 must carry these when a 200 would have.
REQUIRED_304 = {
    "Cache-Control": "max-age=60",
    "Content-Location": "/items/1",
    "Date": MIDDLE,
    "ETag": '"v1"',
    "Expires": LATER,
    "Vary": "Accept-Encoding",
}
BODY_FIELDS = {
    "Content-Length": "10",
    "content-encoding": "gzip",
    "Content-Range": "bytes 0-9/10",
    "Transfer-Encoding": "chunked",
}


def test_not_modified_headers_keeps_required_fields() -> None:
    generated = not_modified_headers(cid({**REQUIRED_304, **BODY_FIELDS}))
    assert cid(generated) == cid(REQUIRED_304)


def test_not_modified_headers_leaves_stored_unchanged() -> None:
    stored = cid({**REQUIRED_304, **BODY_FIELDS})
    not_modified_headers(stored)
    assert stored == cid({**REQUIRED_304, **BODY_FIELDS})


# --- is_not_modified: RFC 9111 §4.3.2, RFC 9110 §13.1.2, §13.1.3, §13.2.2 -------------------

ETAG_V1 = {"ETag": '"v1"', "Last-Modified": MIDDLE}
NOT_MODIFIED_CASES: list[Any] = [
    pytest.param({}, ETAG_V1, None, id="unconditional"),
    pytest.param({"If-Match": '"v1"'}, ETAG_V1, None, id="if-match-not-for-a-cache"),
    pytest.param({"If-Unmodified-Since": LATER}, ETAG_V1, None, id="ius-not-for-a-cache"),
    # If-None-Match: weak comparison, lists, "*".
    pytest.param({"If-None-Match": '"v1"'}, ETAG_V1, True, id="inm-match"),
    pytest.param({"If-None-Match": '"v2"'}, ETAG_V1, False, id="inm-differs"),
    pytest.param({"If-None-Match": '"V1"'}, ETAG_V1, False, id="inm-case-sensitive"),
    pytest.param({"If-None-Match": 'W/"v1"'}, ETAG_V1, True, id="inm-weak-request"),
    pytest.param({"If-None-Match": '"v1"'}, {"ETag": 'W/"v1"'}, True, id="inm-weak-stored"),
    pytest.param({"If-None-Match": 'W/"v1"'}, {"ETag": 'W/"v1"'}, True, id="inm-both-weak"),
    pytest.param({"If-None-Match": '"a", W/"v1", "b"'}, ETAG_V1, True, id="inm-list-match"),
    pytest.param({"If-None-Match": '"a","b"'}, ETAG_V1, False, id="inm-list-no-match"),
    pytest.param({"If-None-Match": '"a,v1"'}, ETAG_V1, False, id="inm-comma-inside-tag"),
    pytest.param({"If-None-Match": '"v1"'}, {"Last-Modified": MIDDLE}, False, id="inm-no-etag"),
    pytest.param({"If-None-Match": "*"}, ETAG_V1, True, id="inm-star"),
    pytest.param({"If-None-Match": " * "}, {}, True, id="inm-star-no-validators"),
    pytest.param({"if-none-match": '"v1"'}, {"etag": '"v1"'}, True, id="inm-name-case"),
    # If-None-Match takes precedence: If-Modified-Since is then ignored either way.
    pytest.param(
        {"If-None-Match": '"v2"', "If-Modified-Since": LATER},
        ETAG_V1,
        False,
        id="inm-precedence-differs",
    ),
    pytest.param(
        {"If-None-Match": '"v1"', "If-Modified-Since": EARLIER},
        ETAG_V1,
        True,
        id="inm-precedence-matches",
    ),
    # If-Modified-Since against Last-Modified: not modified if it is earlier or equal.
    pytest.param({"If-Modified-Since": LATER}, ETAG_V1, True, id="ims-after-last-modified"),
    pytest.param({"If-Modified-Since": MIDDLE}, ETAG_V1, True, id="ims-equal"),
    pytest.param({"If-Modified-Since": EARLIER}, ETAG_V1, False, id="ims-before"),
    pytest.param(
        {"If-Modified-Since": "Wednesday, 01-May-24 11:00:00 GMT"},
        ETAG_V1,
        True,
        id="ims-rfc850",
    ),
    # An invalid date is ignored: the full stored response is the answer.
    pytest.param({"If-Modified-Since": "yesterday"}, ETAG_V1, False, id="ims-invalid"),
    pytest.param({"If-Modified-Since": f"{LATER}, {LATER}"}, ETAG_V1, False, id="ims-two-members"),
    # §4.3.2: without Last-Modified, the stored Date is the modification time.
    pytest.param({"If-Modified-Since": LATER}, {"Date": MIDDLE}, True, id="ims-date-fallback"),
    pytest.param(
        {"If-Modified-Since": EARLIER}, {"Date": MIDDLE}, False, id="ims-date-fallback-newer"
    ),
    pytest.param(
        {"If-Modified-Since": LATER},
        {"Last-Modified": LATER, "Date": EARLIER},
        True,
        id="ims-last-modified-preferred-over-date",
    ),
    pytest.param(
        {"If-Modified-Since": MIDDLE},
        {"Last-Modified": LATER, "Date": EARLIER},
        False,
        id="ims-last-modified-newer-than-date",
    ),
]


@pytest.mark.parametrize(("request_headers", "stored", "expected"), NOT_MODIFIED_CASES)
def test_is_not_modified(
    request_headers: dict[str, str], stored: dict[str, str], expected: bool | None
) -> None:
    assert is_not_modified(cid(request_headers), cid(stored), NOW) is expected


# --- vary_names / vary_values / variants_match: RFC 9111 §4.1, RFC 9110 §12.5.5 -------------

VARY_NAME_CASES: list[Any] = [
    pytest.param({}, None, id="absent"),
    pytest.param({"Vary": ""}, (), id="empty"),
    pytest.param({"Vary": "Accept-Encoding"}, ("accept-encoding",), id="one"),
    pytest.param(
        {"vary": "Accept-Language, accept-encoding"},
        ("accept-encoding", "accept-language"),
        id="lower-cased-and-sorted",
    ),
    pytest.param(
        {"Vary": " Accept ,, accept ,Cookie"}, ("accept", "cookie"), id="spaces-empties-dupes"
    ),
    pytest.param({"Vary": "*"}, ("*",), id="star"),
    pytest.param({"Vary": "Accept-Encoding, *"}, ("*",), id="star-in-list"),
]


@pytest.mark.parametrize(("headers", "expected"), VARY_NAME_CASES)
def test_vary_names(headers: dict[str, str], expected: tuple[str, ...] | None) -> None:
    assert vary_names(cid(headers)) == expected


VARY_VALUE_CASES: list[Any] = [
    pytest.param(("accept",), {}, (None,), id="absent"),
    pytest.param(("accept",), {"Accept": ""}, ("",), id="empty-is-not-absent"),
    pytest.param(("accept",), {"ACCEPT": " text/html ,  */* "}, ("text/html,*/*",), id="trim"),
    pytest.param(
        ("accept-encoding", "accept-language"),
        {"Accept-Language": "FR, en-US;q=0.5", "Accept-Encoding": "br"},
        ("br", "en-us;q=0.5,fr"),
        id="language-folded-and-ordered",
    ),
]


@pytest.mark.parametrize(("names", "headers", "expected"), VARY_VALUE_CASES)
def test_vary_values(
    names: tuple[str, ...], headers: dict[str, str], expected: tuple[str | None, ...]
) -> None:
    assert vary_values(names, cid(headers)) == expected


VARIANT_CASES: list[Any] = [
    # Vary: * never matches (§4.1), whatever the requests.
    pytest.param("*", {}, {}, False, id="star-empty-requests"),
    pytest.param("*", {"Accept": "a"}, {"Accept": "a"}, False, id="star-same-requests"),
    pytest.param("", {"Accept": "a"}, {"Accept": "b"}, True, id="empty-vary"),
    # A field absent from both requests matches; absent from one does not.
    pytest.param("Accept-Encoding", {}, {}, True, id="absent-in-both"),
    pytest.param("Accept-Encoding", {"Accept-Encoding": "gzip"}, {}, False, id="absent-in-new"),
    pytest.param("Accept-Encoding", {}, {"Accept-Encoding": "gzip"}, False, id="absent-stored"),
    pytest.param("Accept-Encoding", {"Accept-Encoding": ""}, {}, False, id="empty-vs-absent"),
    # Same values, modulo whitespace and the field name's case.
    pytest.param(
        "Accept-Encoding",
        {"Accept-Encoding": "gzip, br"},
        {"accept-encoding": "gzip,br"},
        True,
        id="list-whitespace",
    ),
    pytest.param(
        "accept-encoding",
        {"Accept-Encoding": "gzip"},
        {"Accept-Encoding": "br"},
        False,
        id="different-value",
    ),
    pytest.param(
        "Accept-Encoding",
        {"Accept-Encoding": "gzip, br"},
        {"Accept-Encoding": "br, gzip"},
        False,
        id="order-kept-for-other-fields",
    ),
    pytest.param(
        "Accept-Encoding, Accept-Language",
        {"Accept-Encoding": "gzip", "Accept-Language": "en"},
        {"Accept-Encoding": "gzip", "Accept-Language": "de"},
        False,
        id="one-of-two-differs",
    ),
    pytest.param(
        "Accept-Encoding",
        {"Accept-Encoding": "gzip", "Accept-Language": "en"},
        {"Accept-Encoding": "gzip", "Accept-Language": "de"},
        True,
        id="unlisted-field-differs",
    ),
    # Accept-Language: language tags are case-insensitive, weights allow spaces.
    pytest.param(
        "Accept-Language",
        {"Accept-Language": "en-US"},
        {"Accept-Language": "en-us"},
        True,
        id="language-case",
    ),
    pytest.param(
        "Accept-Language",
        {"Accept-Language": "en-US;q=0.5, fr"},
        {"Accept-Language": "fr,en-us; q=0.5"},
        True,
        id="language-weighted-order-and-space",
    ),
    pytest.param(
        "Accept-Language",
        {"Accept-Language": "en, fr"},
        {"Accept-Language": "fr, en"},
        True,  # normalised, as cache-tests' vary-normalise-lang-order expects (a choice)
        id="language-equal-weights-order",
    ),
    pytest.param(
        "Accept-Language",
        {"Accept-Language": "en"},
        {"Accept-Language": "en, fr"},
        False,
        id="language-extra-tag",
    ),
]


@pytest.mark.parametrize(("vary", "stored_request", "request_headers", "expected"), VARIANT_CASES)
def test_variants_match(
    vary: str, stored_request: dict[str, str], request_headers: dict[str, str], expected: bool
) -> None:
    names = vary_names(cid({"Vary": vary}))
    assert names is not None
    assert variants_match(names, cid(stored_request), cid(request_headers)) is expected


# --- byte_range: RFC 9110 §14.1.2 ----------------------------------------------------------

BYTE_RANGE_CASES: list[Any] = [
    pytest.param("bytes=0-4", 10, (0, 4), id="first-bytes"),
    pytest.param("bytes=0-0", 10, (0, 0), id="one-byte"),
    pytest.param("bytes=9-9", 10, (9, 9), id="last-byte"),
    pytest.param("bytes=0-9", 10, (0, 9), id="whole"),
    pytest.param("bytes=8-20", 10, (8, 9), id="last-pos-clamped"),
    pytest.param("BYTES=2-3", 10, (2, 3), id="unit-case-insensitive"),
    # Open-ended: from first-pos to the end.
    pytest.param("bytes=5-", 10, (5, 9), id="open-ended"),
    pytest.param("bytes=0-", 10, (0, 9), id="open-ended-from-0"),
    # Suffix: the last N bytes, all of them if N exceeds the length.
    pytest.param("bytes=-3", 10, (7, 9), id="suffix"),
    pytest.param("bytes=-10", 10, (0, 9), id="suffix-whole"),
    pytest.param("bytes=-20", 10, (0, 9), id="suffix-longer-than-length"),
    # Unsatisfiable.
    pytest.param("bytes=10-", 10, None, id="first-pos-at-length"),
    pytest.param("bytes=10-20", 10, None, id="first-pos-past-end"),
    pytest.param("bytes=-0", 10, None, id="suffix-zero"),
    pytest.param("bytes=0-4", 0, None, id="empty-representation"),
    pytest.param("bytes=-5", 0, None, id="suffix-empty-representation"),
    # Invalid, or not one range: answered by the origin, not cut from the stored body.
    pytest.param("bytes=5-3", 10, None, id="last-before-first"),
    pytest.param("bytes=-", 10, None, id="no-positions"),
    pytest.param("bytes=", 10, None, id="empty-set"),
    pytest.param("items=0-4", 10, None, id="other-unit"),
    pytest.param("0-4", 10, None, id="no-unit"),
    pytest.param("bytes=a-b", 10, None, id="not-numbers"),
    pytest.param("bytes=0-1,4-5", 10, None, id="multi-range"),
    pytest.param("bytes=0-1, -2", 10, None, id="multi-range-suffix"),
]


@pytest.mark.parametrize(("header", "length", "expected"), BYTE_RANGE_CASES)
def test_byte_range(header: str, length: int, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, length) == expected


# --- content_range: RFC 9110 §14.4 ---------------------------------------------------------

CONTENT_RANGE_CASES: list[Any] = [
    pytest.param({"Content-Range": "bytes 0-4/10"}, (0, 4, 10), id="complete-length"),
    pytest.param({"content-range": "Bytes 5-9/10"}, (5, 9, 10), id="case-insensitive"),
    pytest.param({"Content-Range": "bytes 0-4/*"}, (0, 4, None), id="unknown-length"),
    pytest.param({"Content-Range": " bytes 0-0/1 "}, (0, 0, 1), id="whitespace"),
    pytest.param({}, None, id="absent"),
    pytest.param({"Content-Range": "bytes */10"}, None, id="unsatisfied-range"),
    pytest.param({"Content-Range": "bytes 0-4"}, None, id="no-length"),
    pytest.param({"Content-Range": "items 0-4/10"}, None, id="other-unit"),
    pytest.param({"Content-Range": "bytes=0-4/10"}, None, id="range-syntax"),
    pytest.param({"Content-Range": "bytes 5-4/10"}, None, id="last-before-first"),
    pytest.param({"Content-Range": "bytes 0-10/10"}, None, id="last-at-length"),
]


@pytest.mark.parametrize(("headers", "expected"), CONTENT_RANGE_CASES)
def test_content_range(
    headers: dict[str, str], expected: tuple[int, int, int | None] | None
) -> None:
    assert content_range(cid(headers)) == expected


# --- invalidation_targets: RFC 9111 §4.4 ---------------------------------------------------

INVALIDATION_CASES: list[Any] = [
    # Unsafe (or unknown) method and a non-error status: the target URI is invalidated.
    pytest.param("POST", 200, {}, [URL], id="post-200"),
    pytest.param("PUT", 204, {}, [URL], id="put-204"),
    pytest.param("PATCH", 200, {}, [URL], id="patch"),
    pytest.param("DELETE", 202, {}, [URL], id="delete"),
    pytest.param("PURGE", 200, {}, [URL], id="unknown-method"),
    pytest.param("post", 200, {}, [URL], id="lower-case-method"),
    pytest.param("POST", 303, {"Location": "/done"}, [URL, "https://site.com/done"], id="303"),
    pytest.param("POST", 399, {}, [URL], id="3xx-upper-bound"),
    # Location and Content-Location too, resolved against the target, when same-origin.
    pytest.param(
        "POST", 201, {"Location": "/items/5"}, [URL, "https://site.com/items/5"], id="location"
    ),
    pytest.param(
        "PUT",
        200,
        {"Content-Location": "items/5?v=2"},
        [URL, "https://site.com/items/5?v=2"],
        id="content-location-relative",
    ),
    pytest.param(
        "POST",
        201,
        {"Location": "https://site.com/a", "Content-Location": " /b "},
        [URL, "https://site.com/a", "https://site.com/b"],
        id="both",
    ),
    pytest.param("POST", 201, {"Location": URL}, [URL], id="location-is-target"),
    pytest.param(
        "POST",
        201,
        {"Location": "/a", "Content-Location": "https://site.com/a"},
        [URL, "https://site.com/a"],
        id="no-duplicates",
    ),
    pytest.param("POST", 201, {"Location": ""}, [URL], id="empty-location"),
    # A different origin (host, scheme or port) is never invalidated.
    pytest.param("POST", 201, {"Location": "https://other.org/x"}, [URL], id="cross-origin-host"),
    pytest.param("POST", 201, {"Location": "//other.org/x"}, [URL], id="cross-origin-network-path"),
    pytest.param("POST", 201, {"Location": "http://site.com/x"}, [URL], id="cross-origin-scheme"),
    pytest.param(
        "POST", 201, {"Content-Location": "https://site.com:8443/x"}, [URL], id="cross-origin-port"
    ),
    # Errors invalidate nothing.
    pytest.param("POST", 400, {"Location": "/x"}, [], id="4xx"),
    pytest.param("DELETE", 404, {}, [], id="404"),
    pytest.param("POST", 500, {"Location": "/x"}, [], id="500"),
    pytest.param("PUT", 503, {}, [], id="503"),
    pytest.param("POST", 101, {}, [], id="1xx"),
    # Safe methods invalidate nothing.
    *[
        pytest.param(method, 200, {"Location": "/x"}, [], id=f"safe-{method}")
        for method in sorted(SAFE_METHODS)
    ],
]


@pytest.mark.parametrize(("method", "status", "headers", "expected"), INVALIDATION_CASES)
def test_invalidation_targets(
    method: str, status: int, headers: dict[str, str], expected: list[str]
) -> None:
    assert invalidation_targets(method, URL, status, cid(headers)) == expected
