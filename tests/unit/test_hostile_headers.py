"""Hostile headers against the pure policy: no header value, however malformed or out of
range, makes a policy function raise, and what comes back stays sane.

- Property tests (hypothesis, derandomized, bounded ``max_examples``): randomized
  ``Cache-Control``, ``Expires``, ``Date``, ``Age``, ``Last-Modified``, ``ETag``, ``Vary``,
  ``Pragma`` and conditional fields, at any time a datetime holds, through parsing, the store
  decision, the plan for a later request, a 304's meaning and its header merge, in both modes.
- Regression rows: the values that raised before (``Expires`` in year 9999 with an old
  ``Date``, a 20-digit ``Age`` or ``max-age``, ``Date`` in year 1, 5,000-digit numbers).

RFC 9111 §1.2.2: delta-seconds past 2**31 are 2**31; §4.2.1 / §5.3: an invalid ``Expires``
means already expired; RFC 9110 §5.6.7: a date no datetime holds is not an HTTP-date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from requests_cache_like.policy import PlanAction, Rules, build_rules, plan_request, store_decision
from requests_cache_like.policy.directives import (
    MAX_DELTA_SECONDS,
    CacheDirectives,
    bounded_int,
    parse_cache_control,
    request_directives,
)
from requests_cache_like.policy.freshness import (
    EARLIEST,
    LATEST,
    MAX_DELTA,
    age_header,
    age_value,
    corrected_initial_age,
    freshness_lifetime,
    parse_http_date,
    shift,
)
from requests_cache_like.policy.messages import (
    byte_range,
    content_range,
    invalidation_targets,
    is_not_modified,
    unstorable_headers,
    variants_match,
    vary_names,
)
from requests_cache_like.policy.plan import StoreDecision
from requests_cache_like.policy.respond import (
    Reply,
    is_own_representation,
    on_error,
    refresh_headers,
    respond,
)
from requests_cache_like.settings import CacheSettings, RequestOptions

from ..header_strategies import (
    BOUNDED,
    bounded,
    cache_control,
    date_values,
    delta_values,
    format_http_date,
    moments,
    request_headers,
    response_headers,
    texts,
)
from .stored import Stored

UTC = timezone.utc
URL = "http://api.test/items"
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
_SETTINGS = {
    "override": {},
    "override-cache-control": {"cache_control": True, "expire_after": 60},
    "override-windows": {
        "cache_control": True,
        "expire_after": 60,
        "stale_if_error": True,
        "stale_while_revalidate": 30,
    },
    "standards": {"cache_control": True},
    "standards-windows": {
        "cache_control": True,
        "stale_if_error": 60,
        "stale_while_revalidate": True,
        "always_revalidate": True,
    },
}
RULES = {
    name: build_rules("GET", URL, CacheSettings(**values), RequestOptions())
    for name, values in _SETTINGS.items()
}
RULES["standards-refresh"] = build_rules(
    "GET", URL, CacheSettings(cache_control=True), RequestOptions(refresh=True)
)
rules_strategy = st.sampled_from(sorted(RULES)).map(RULES.__getitem__)
#: Statuses a cache meets, and a few it should not.
statuses = st.sampled_from([200, 203, 204, 206, 301, 302, 304, 404, 410, 500, 503, 599])
#: How long a request took (or, negative, a clock that went backwards).
delays = st.one_of(
    st.integers(-10, 10),
    st.integers(-(10**10), 10**10),
).map(lambda seconds: timedelta(seconds=seconds))


def assert_sane_time(value: datetime | None) -> None:
    """None, or an aware UTC datetime."""
    if value is not None:
        assert isinstance(value, datetime)
        assert value.utcoffset() == timedelta(0)


def assert_sane_decision(decision: StoreDecision, rules: Rules) -> None:
    assert isinstance(decision, StoreDecision)
    assert_sane_time(decision.expires)
    assert 0 <= decision.initial_age <= MAX_DELTA_SECONDS
    if decision.store and rules.mode.rfc_freshness:
        assert decision.expires is not None  # standards mode always knows when it goes stale


def assert_sane_directives(directives: CacheDirectives) -> None:
    for name in (
        "max_age",
        "s_maxage",
        "max_stale",
        "min_fresh",
        "stale_while_revalidate",
        "stale_if_error",
    ):
        value = getattr(directives, name)
        assert value is None or (isinstance(value, int) and 0 <= value <= MAX_DELTA_SECONDS)


# --- parsing ------------------------------------------------------------------------------


@BOUNDED
@given(value=st.one_of(cache_control, texts(200)))
def test_cache_control_parses_to_bounded_values(value: str) -> None:
    assert_sane_directives(parse_cache_control(value))


@BOUNDED
@given(headers=request_headers())
def test_request_directives_are_bounded(headers: dict[str, str]) -> None:
    assert_sane_directives(request_directives(CaseInsensitiveDict(headers)))


@BOUNDED
@given(digits=st.from_regex(r"\A[0-9]{1,60}\Z"), limit=st.integers(0, 2**64))
def test_bounded_int_is_min_of_value_and_limit(digits: str, limit: int) -> None:
    assert bounded_int(digits, limit) == min(int(digits), limit)


@BOUNDED
@given(value=st.one_of(date_values, texts(60)), now=st.none() | moments, lenient=st.booleans())
def test_dates_parse_to_aware_utc_or_none(value: str, now: datetime | None, lenient: bool) -> None:
    assert_sane_time(parse_http_date(value, now, lenient=lenient))


@BOUNDED
@given(moment=st.datetimes(timezones=st.just(UTC)), form=st.sampled_from([0, 2]))
def test_dates_of_any_year_round_trip(moment: datetime, form: int) -> None:
    """IMF-fixdate and asctime carry four-digit years: every year 1-9999 reads back."""
    parsed = parse_http_date(format_http_date(moment, form))
    assert parsed == moment.replace(microsecond=0)


@BOUNDED
@given(moment=moments, delta=st.timedeltas())
def test_shift_stays_in_range(moment: datetime, delta: timedelta) -> None:
    shifted = shift(moment, delta)
    assert EARLIEST <= shifted <= LATEST
    if EARLIEST - moment <= delta <= LATEST - moment:
        assert shifted == moment + delta


# --- freshness arithmetic -----------------------------------------------------------------


@BOUNDED
@given(
    status=statuses,
    headers=response_headers(),
    request_time=moments,
    delay=delays,
)
def test_ages_and_lifetimes_are_bounded(
    status: int, headers: dict[str, str], request_time: datetime, delay: timedelta
) -> None:
    fields = CaseInsensitiveDict(headers)
    response_time = shift(request_time, delay)
    assert 0 <= age_value(fields) <= MAX_DELTA_SECONDS
    initial_age = corrected_initial_age(fields, request_time, response_time)
    assert timedelta(0) <= initial_age <= MAX_DELTA
    directives = parse_cache_control(fields.get("Cache-Control"))
    lifetime = freshness_lifetime(status, fields, directives, response_time)
    assert lifetime is None or timedelta(0) <= lifetime <= MAX_DELTA


@BOUNDED
@given(
    rules=rules_strategy,
    status=statuses,
    request=request_headers(),
    response=response_headers(),
    request_time=moments,
    delay=delays,
)
def test_store_decision_is_sane(
    rules: Rules,
    status: int,
    request: dict[str, str],
    response: dict[str, str],
    request_time: datetime,
    delay: timedelta,
) -> None:
    response_time = shift(request_time, delay)
    decision = store_decision(
        "GET",
        status,
        CaseInsensitiveDict(request),
        CaseInsensitiveDict(response),
        rules,
        request_time,
        response_time,
    )
    assert_sane_decision(decision, rules)


def _store(
    rules: Rules, response: Mapping[str, str], response_time: datetime
) -> tuple[Stored | None, StoreDecision]:
    fields = CaseInsensitiveDict(response)
    decision = store_decision("GET", 200, {}, fields, rules, response_time, response_time)
    assert_sane_decision(decision, rules)
    if not decision.store:
        return None, decision
    dropped = unstorable_headers(fields)
    kept = {name: value for name, value in fields.items() if name.lower() not in dropped}
    return Stored(response_time, decision.expires, kept, decision.initial_age), decision


@bounded(150)
@given(
    rules=rules_strategy,
    response=response_headers(),
    later_request=request_headers(),
    not_modified=response_headers(),
    response_time=moments,
    elapsed=delays,
)
def test_stored_hostile_response_is_planned_answered_and_freshened(
    rules: Rules,
    response: dict[str, str],
    later_request: dict[str, str],
    not_modified: dict[str, str],
    response_time: datetime,
    elapsed: timedelta,
) -> None:
    """A miss stores the response; a later request is planned against it; the origin's 304
    (with hostile fields of its own) is read, merged and stored again."""
    stored, _ = _store(rules, response, response_time)
    now = shift(response_time, elapsed)
    request = CaseInsensitiveDict(later_request)
    plan = plan_request(request, stored, rules, now)
    assert isinstance(plan.action, PlanAction)
    assert all(isinstance(value, str) for value in plan.conditional_headers.values())
    assert on_error(plan, stored is not None) in {"stale", "gateway_timeout", "raise"}
    if stored is None:
        return
    assert age_header(stored, now).isdigit()
    assert is_not_modified(request, stored.headers, now) in (True, False, None)
    fresh = CaseInsensitiveDict(not_modified)
    outcome = respond("GET", URL, request, 304, fresh, plan, stored, 200, rules)
    assert isinstance(outcome.reply, Reply)
    merged = CaseInsensitiveDict(stored.headers)
    refresh_headers(merged, fresh, rules)
    assert_sane_decision(store_decision("GET", 200, request, merged, rules, now, now), rules)


# --- header rules: Vary, ranges, invalidation ---------------------------------------------

_ranges = st.one_of(
    st.builds(
        lambda first, last: f"bytes={first}-{last}",
        st.just("") | delta_values,
        st.just("") | delta_values,
    ),
    texts(),
)
_content_ranges = st.one_of(
    st.builds(
        lambda first, last, total: f"bytes {first}-{last}/{total}",
        delta_values,
        delta_values,
        st.just("*") | delta_values,
    ),
    texts(),
)
_locations = st.one_of(
    st.sampled_from(["/other", "http://api.test/x", "http://[::1", "//[x", "http://a:99999999/"]),
    texts(),
)


@BOUNDED
@given(
    response=response_headers(),
    stored_request=request_headers(),
    request=request_headers(),
    range_value=_ranges,
    content_range_value=_content_ranges,
    length=st.integers(0, 2**40),
)
def test_header_rules_never_raise(
    response: dict[str, str],
    stored_request: dict[str, str],
    request: dict[str, str],
    range_value: str,
    content_range_value: str,
    length: int,
) -> None:
    fields = CaseInsensitiveDict(response)
    assert isinstance(unstorable_headers(fields), set)
    names = vary_names(fields)
    if names is not None:
        variants_match(names, CaseInsensitiveDict(stored_request), CaseInsensitiveDict(request))
    found = byte_range(range_value, length)
    assert found is None or 0 <= found[0] <= found[1] < length
    parsed = content_range({"Content-Range": content_range_value})
    assert parsed is None or parsed[0] <= parsed[1]


@BOUNDED
@given(location=_locations, content_location=_locations, status=statuses)
def test_invalidation_targets_never_raise(
    location: str, content_location: str, status: int
) -> None:
    headers = {"Location": location, "Content-Location": content_location}
    targets = invalidation_targets("POST", URL, status, headers)
    assert all(isinstance(target, str) for target in targets)
    assert is_own_representation(URL, headers) in (True, False)


# --- regressions: values that raised ------------------------------------------------------

REGRESSIONS = [
    pytest.param(
        {"Expires": "Fri, 31 Dec 9999 23:59:59 GMT", "Date": "Sun, 06 Nov 1994 08:49:37 GMT"},
        id="expires-9999-old-date",
    ),
    pytest.param(
        {"Expires": "Fri, 31 Dec 9999 23:59:59 GMT", "Date": "Mon, 01 Jan 0001 00:00:00 GMT"},
        id="expires-9999-date-0001",
    ),
    pytest.param({"Age": "99999999999999999999", "Cache-Control": "max-age=60"}, id="huge-age"),
    pytest.param({"Cache-Control": "max-age=99999999999999999999"}, id="huge-max-age"),
    pytest.param({"Cache-Control": f"max-age={'9' * 5000}"}, id="max-age-5000-digits"),
    pytest.param({"Age": "9" * 5000, "ETag": '"v1"'}, id="age-5000-digits"),
    pytest.param(
        {"Date": "Mon, 01 Jan 0001 00:00:00 GMT", "Cache-Control": "max-age=60"}, id="date-0001"
    ),
    pytest.param(
        {"Date": "Fri, 31 Dec 9999 23:59:59 GMT", "Last-Modified": "Mon, 01 Jan 0001 00:00:00 GMT"},
        id="heuristic-across-all-time",
    ),
    pytest.param({"Expires": "Sat, 01 Jan 10000 00:00:00 GMT"}, id="expires-year-10000"),
]


@pytest.mark.parametrize("headers", REGRESSIONS)
@pytest.mark.parametrize("rules_name", sorted(RULES))
@pytest.mark.parametrize(
    "now",
    [NOW, datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)],
    ids=["now", "year-1", "year-9999"],
)
def test_regression_headers_are_stored_and_planned(
    headers: dict[str, str], rules_name: str, now: datetime
) -> None:
    rules = RULES[rules_name]
    stored, _ = _store(rules, headers, now)
    plan = plan_request({}, stored, rules, shift(now, timedelta(seconds=1)))
    assert isinstance(plan.action, PlanAction)


@pytest.mark.parametrize(
    ("headers", "lifetime"),
    [
        # §1.2.2: a lifetime past 2**31 seconds is 2**31 seconds, from max-age or Expires.
        ({"Cache-Control": "max-age=99999999999999999999"}, MAX_DELTA),
        ({"Cache-Control": f"max-age={'9' * 5000}"}, MAX_DELTA),
        (
            {"Expires": "Fri, 31 Dec 9999 23:59:59 GMT", "Date": "Mon, 01 Jan 0001 00:00:00 GMT"},
            MAX_DELTA,
        ),
        # §5.3: an Expires no datetime holds is invalid, so already expired.
        ({"Expires": "Sat, 01 Jan 10000 00:00:00 GMT"}, timedelta(0)),
        ({"Expires": "Sun, 31 Dec 0000 23:59:59 GMT"}, timedelta(0)),
    ],
)
def test_out_of_range_lifetimes_are_capped_or_invalid(
    headers: dict[str, str], lifetime: timedelta
) -> None:
    directives = parse_cache_control(headers.get("Cache-Control"))
    assert freshness_lifetime(200, headers, directives, NOW) == lifetime


@pytest.mark.parametrize(
    "headers",
    [
        {"Age": "99999999999999999999"},
        {"Age": "9" * 5000},
        {"Date": "Mon, 01 Jan 0001 00:00:00 GMT"},
    ],
)
def test_huge_ages_are_capped_and_the_response_is_stale(headers: dict[str, str]) -> None:
    """§1.2.2: an age past 2**31 seconds is 2**31 seconds, and a response that old is stale."""
    assert corrected_initial_age(headers, NOW, NOW) == MAX_DELTA
    fields = {**headers, "Cache-Control": "max-age=60"}
    decision = store_decision("GET", 200, {}, fields, RULES["standards"], NOW, NOW)
    assert decision.store
    assert decision.expires == NOW + timedelta(seconds=60) - MAX_DELTA


def test_expires_in_year_9999_with_an_old_date_is_fresh_for_2_to_the_31_seconds() -> None:
    """The case that raised OverflowError: capped, it is fresh for 2**31 seconds less the
    age its ``Date`` gives it."""
    date = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    headers = {"Expires": "Fri, 31 Dec 9999 23:59:59 GMT", "Date": format_http_date(date)}
    decision = store_decision("GET", 200, {}, headers, RULES["standards"], NOW, NOW)
    assert decision.expires == date + MAX_DELTA
    override = store_decision("GET", 200, {}, headers, RULES["override-cache-control"], NOW, NOW)
    assert override.expires == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
