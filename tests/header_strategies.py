"""Hypothesis strategies for hostile caching headers, shared by the policy's property tests
(tests/unit/test_hostile_headers.py) and the session's (tests/integration/
test_hostile_headers_session.py).

Each strategy mixes well-formed values with the malformed and out-of-range ones origins and
clients really send: dates past year 9999 or before year 1, garbage, huge, negative, quoted
or fractional numbers, repeated and conflicting directives, empty values and non-ASCII text.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

__all__ = [
    "BOUNDED",
    "DIRECTIVE_NAMES",
    "bounded",
    "cache_control",
    "date_values",
    "delta_values",
    "format_http_date",
    "moments",
    "request_headers",
    "response_headers",
    "texts",
]

UTC = timezone.utc


def bounded(max_examples: int) -> settings:
    """Settings for a property: ``max_examples`` and derandomized, so CI sees the same
    examples on every run; no deadline (a slow CI machine is not a failure)."""
    return settings(
        max_examples=max_examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


BOUNDED = bounded(200)

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

DIRECTIVE_NAMES = (
    "max-age",
    "s-maxage",
    "stale-while-revalidate",
    "stale-if-error",
    "max-stale",
    "min-fresh",
    "no-cache",
    "no-store",
    "must-revalidate",
    "proxy-revalidate",
    "immutable",
    "private",
    "public",
    "only-if-cached",
    "no-transform",
    "must-understand",
    "MAX-AGE",
    "Max-Age ",
    "x-unknown",
)


def format_http_date(moment: datetime, form: int = 0) -> str:
    """``moment`` as an IMF-fixdate (0), RFC 850 date (1) or asctime date (2), for any year
    a datetime holds (``strftime`` does not zero-pad years before 1000)."""
    clock = f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    month = _MONTHS[moment.month - 1]
    if form == 1:
        day = _LONG_DAYS[moment.weekday()]
        return f"{day}, {moment.day:02d}-{month}-{moment.year % 100:02d} {clock} GMT"
    if form == 2:
        return f"{_DAYS[moment.weekday()]} {month} {moment.day:2d} {clock} {moment.year:04d}"
    day = _DAYS[moment.weekday()]
    return f"{day}, {moment.day:02d} {month} {moment.year:04d} {clock} GMT"


def texts(max_size: int = 30) -> st.SearchStrategy[str]:
    """Any text at all: control characters, surrogates, emoji."""
    return st.text(max_size=max_size)


#: Any time a datetime holds, biased towards now-ish times and the two ends of the range.
moments = st.one_of(
    st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    st.datetimes(timezones=st.just(UTC)),
    st.sampled_from(
        [
            datetime(1, 1, 1, tzinfo=UTC),
            datetime.max.replace(tzinfo=UTC) - timedelta(seconds=1),
            datetime(2024, 5, 1, 12, tzinfo=UTC),
        ]
    ),
)

_RAW_DATES = [
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Sat, 01 Jan 10000 00:00:00 GMT",
    "Mon, 01 Jan 0001 00:00:00 GMT",
    "Sun, 31 Dec 0000 23:59:59 GMT",
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "Fri, 30 Feb 2024 00:00:00 GMT",
    "Wed, 01 May 2024 25:61:60 GMT",
    "Wed, 01 May 2024 23:59:60 GMT",
    "Tuesday, 29-Feb-00 00:00:00 GMT",
    "Monday, 01-Jan-99 00:00:00 GMT",
    "Sun Nov  6 08:49:37 1994",
    "Wed, 01 May 2024 12:00:00 +0200",
    "Wed, 01 May 2024 12:00:00 GMT, Thu, 02 May 2024 12:00:00 GMT",
    "Wed, \u0660\u0661 May \u0662\u0660\u0662\u0664 12:00:00 GMT",  # Arabic-Indic digits
    "0",
    "-1",
    "",
    " ",
    "now",
    "2024-05-01T12:00:00Z",
    "Ünïcödé",
]
#: HTTP-date field values: well-formed at any year 1-9999 (in all three forms), or not.
date_values = st.one_of(
    st.builds(
        format_http_date,
        st.datetimes(timezones=st.just(UTC)),
        st.integers(0, 2),
    ),
    st.sampled_from(_RAW_DATES),
    texts(),
)

_RAW_NUMBERS = [
    "0",
    "1",
    "-1",
    "-0",
    "+5",
    "1.5",
    "1e9",
    "0x10",
    "2147483648",
    "99999999999999999999",
    str(10**30),
    "9" * 5000,
    "0" * 5000 + "7",
    '"60"',
    '"',
    "",
    " 5",
    "5 ",
    "²",
    "٣",
    "abc",
]
#: delta-seconds values: small, huge (past 2**31 and past Python's 4,300-digit int limit),
#: leading zeros, and invalid ones.
delta_values = st.one_of(
    st.integers(0, 10**40).map(str),
    st.integers(-(10**20), -1).map(str),
    st.builds(lambda zeros, n: "0" * zeros + str(n), st.integers(1, 50), st.integers(0, 10**12)),
    st.sampled_from(_RAW_NUMBERS),
)


def _directive(name: str, value: str | None, quoted: bool) -> str:
    if value is None:
        return name
    return f'{name}="{value}"' if quoted else f"{name}={value}"


_directives = st.builds(
    _directive,
    st.one_of(st.sampled_from(DIRECTIVE_NAMES), texts(max_size=8)),
    st.one_of(st.none(), delta_values, texts(max_size=10)),
    st.booleans(),
)
#: Cache-Control values: lists of (repeated, conflicting, quoted, garbage) directives, or
#: any text at all.
cache_control = st.one_of(
    st.lists(_directives, max_size=6).map(", ".join),
    st.lists(_directives, max_size=4).map(",".join),
    texts(),
)
_etags = st.one_of(st.sampled_from(['"v1"', 'W/"v1"', '"v2"', "*", "", "v1", '"', "é"]), texts())
_varies = st.one_of(st.sampled_from(["*", "Accept", "accept, *", "", "X-Unknown", "é"]), texts())


_pragmas = st.one_of(st.sampled_from(["no-cache", "", "junk", "no-cache, no-cache"]), texts())


def response_headers(http_safe: bool = False) -> st.SearchStrategy[dict[str, str]]:
    """Response caching fields, each present or not. ``http_safe``: only values HTTP can
    carry (what a session test can put on the wire)."""
    return _fields(
        {
            "Cache-Control": cache_control,
            "Expires": date_values,
            "Date": date_values,
            "Last-Modified": date_values,
            "Age": delta_values,
            "ETag": _etags,
            "Vary": _varies,
            "Pragma": _pragmas,
        },
        http_safe,
    )


def request_headers(http_safe: bool = False) -> st.SearchStrategy[dict[str, str]]:
    """Request caching fields and conditionals, each present or not."""
    return _fields(
        {
            "Cache-Control": cache_control,
            "Pragma": _pragmas,
            "If-None-Match": _etags,
            "If-Modified-Since": date_values,
            "Accept": st.one_of(st.sampled_from(["application/json", ""]), texts()),
        },
        http_safe,
    )


def _fields(
    fields: dict[str, st.SearchStrategy[str]], http_safe: bool
) -> st.SearchStrategy[dict[str, str]]:
    if http_safe:
        fields = {name: strategy.map(_latin1) for name, strategy in fields.items()}
    return st.fixed_dictionaries({}, optional=fields)


def _latin1(value: str) -> str:
    """``value`` as a field value HTTP can carry: Latin-1, no CR, LF or NUL, no leading
    whitespace (requests refuses it in request fields)."""
    return "".join(char for char in value if ord(char) < 256 and char not in "\r\n\x00").lstrip()
