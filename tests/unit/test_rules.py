"""The mode as a value (policy/rules.py): one table row per named difference between the modes,
and the policy's purity (its imports and the clocks it reads)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve, fields
from requests.structures import CaseInsensitiveDict

import requests_cache_like.policy as policy_package
from requests_cache_like.lookup import answer_from, lookup
from requests_cache_like.models import CachedRequest, CachedResponse
from requests_cache_like.policy import (
    OVERRIDE,
    STANDARDS,
    Mode,
    PlanAction,
    Rules,
    build_rules,
    plan_request,
    store_decision,
)
from requests_cache_like.policy.expiration import parse_http_date as expiration_parse_http_date
from requests_cache_like.policy.freshness import parse_http_date
from requests_cache_like.policy.plan import PLAN_FETCH, Plan
from requests_cache_like.policy.respond import Reply, refresh_headers, respond
from requests_cache_like.settings import CacheSettings, RequestOptions

UTC = timezone.utc
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
URL = "https://site.com/items"


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def stored(
    headers: dict[str, str] | None = None,
    *,
    created: float = -10,
    expires: float | None = 60,
    status: int = 200,
    content: bytes = b"0123456789",
    request_headers: dict[str, str] | None = None,
    method: str = "GET",
) -> CachedResponse:
    response = CachedResponse(
        content=content,
        url=URL,
        status_code=status,
        headers=CaseInsensitiveDict(headers or {}),
        request=CachedRequest(method=method, url=URL, headers=request_headers or {}),
        created_at=at(created),
        expires=None if expires is None else at(expires),
    )
    response.cache_key = "key"
    return response


def rules_with(field: str | None = None, *, method: str = "GET", **settings: Any) -> Rules:
    """Override-mode rules with one mode field switched on (or none)."""
    rules = build_rules(method, URL, CacheSettings(**settings), RequestOptions())
    assert rules.mode == OVERRIDE
    if field is None:
        return rules
    return evolve(rules, mode=evolve(OVERRIDE, **{field: True}))


def reader(entries: dict[str, CachedResponse]) -> Callable[[str, bool], CachedResponse | None]:
    return lambda key, _follow: entries.get(key)


# Each case: the mode field, and a function of the rules giving the behaviour it switches,
# with the value in override mode (field off) and in standards mode (field on).
def _rfc_freshness(rules: Rules) -> Any:
    headers = CaseInsensitiveDict({"Cache-Control": "max-age=60", "Age": "10"})
    decision = store_decision("GET", 200, {}, headers, rules, NOW, NOW)
    return decision.expires


def _rfc_status_codes(rules: Rules) -> bool:
    return rules.storable_status(404)


def _keep_unvalidatable(rules: Rules) -> bool:
    return store_decision("GET", 200, {}, {}, rules, NOW, NOW).store


def _age_header(rules: Rules) -> str | None:
    return answer_from(stored(), "GET", {}, rules, NOW).headers.get("Age")


def _serve_ranges(rules: Rules) -> tuple[int, bytes]:
    answer = answer_from(stored(), "GET", {"Range": "bytes=2-4"}, rules, NOW)
    return answer.status_code, answer.content


def _answer_conditionals(rules: Rules) -> PlanAction:
    entry = stored({"ETag": '"v1"'})
    return plan_request({"If-None-Match": '"v1"'}, entry, rules, NOW).action


def _head_from_get(rules: Rules) -> bool:
    entries = {"get-key": stored()}
    primary, _ = lookup(reader(entries), "head-key", lambda: "get-key", "HEAD", {}, rules)
    return primary is not None


def _invalidate_unsafe(rules: Rules) -> tuple[str, ...]:
    outcome = respond("POST", URL, {}, 201, {}, PLAN_FETCH, None, None, rules)
    return outcome.invalidate


def _stale_windows_obey_response(rules: Rules) -> bool:
    entry = stored({"Cache-Control": "must-revalidate"}, created=-90, expires=-30)
    return plan_request({}, entry, evolve(rules, stale_if_error=True), NOW).stale_fallback


def _rfc_error_statuses(rules: Rules) -> Reply:
    # A 404 while revalidating, with stale-if-error: requests-cache serves the stale copy.
    plan = Plan(PlanAction.REVALIDATE, {"If-None-Match": '"v1"'}, stale_fallback=True)
    entry = stored({"ETag": '"v1"'}, created=-90, expires=-30)
    return respond("GET", URL, {}, 404, {}, plan, entry, 200, rules).reply


def _strict_only_if_cached(rules: Rules) -> PlanAction:
    entry = stored({"ETag": '"v1"'}, created=-90, expires=-30)
    offline = evolve(rules, only_if_cached=True, stale_if_error=True)
    return plan_request({}, entry, offline, NOW).action


def _update_body_fields(rules: Rules) -> tuple[str, str]:
    headers = CaseInsensitiveDict({"Content-Type": "text/plain", "X-Version": "1"})
    refresh_headers(headers, {"Content-Type": "text/html", "X-Version": "2"}, rules)
    return headers["Content-Type"], headers["X-Version"]


def _stale_on_disconnect(rules: Rules) -> str:
    entry = stored({"ETag": '"v1"'}, created=-90, expires=-30)
    return plan_request({}, entry, rules, NOW).on_disconnect


def _only_conditional_304(rules: Rules) -> Reply:
    # A 304 to a request sent without validators (the stored response has none).
    entry = stored({}, created=-90, expires=-30)
    return respond("GET", URL, {}, 304, {}, Plan(PlanAction.FETCH), entry, 200, rules).reply


MODE_FIELDS: list[Any] = [
    pytest.param("only_conditional_304", _only_conditional_304, Reply.STORED, Reply.STORE, {}),
    pytest.param(
        "rfc_freshness",
        _rfc_freshness,
        at(60),
        at(50),
        {"cache_control": True, "expire_after_given": True},
    ),
    pytest.param("rfc_status_codes", _rfc_status_codes, False, True, {}),
    pytest.param("keep_unvalidatable", _keep_unvalidatable, False, True, {"expire_after": 0}),
    pytest.param("age_header", _age_header, None, "10", {}),
    pytest.param("serve_ranges", _serve_ranges, (200, b"0123456789"), (206, b"234"), {}),
    pytest.param(
        "answer_conditionals", _answer_conditionals, PlanAction.SERVE, PlanAction.NOT_MODIFIED, {}
    ),
    pytest.param("head_from_get", _head_from_get, False, True, {}),
    pytest.param("invalidate_unsafe", _invalidate_unsafe, (), (URL,), {}),
    pytest.param("stale_windows_obey_response", _stale_windows_obey_response, True, False, {}),
    pytest.param(
        "update_body_fields",
        _update_body_fields,
        ("text/plain", "2"),
        ("text/html", "2"),
        {},
    ),
    pytest.param("stale_on_disconnect", _stale_on_disconnect, "raise", "stale", {}),
    pytest.param("rfc_error_statuses", _rfc_error_statuses, Reply.STALE, Reply.STORE, {}),
    pytest.param(
        "strict_only_if_cached",
        _strict_only_if_cached,
        PlanAction.SERVE,
        PlanAction.GATEWAY_TIMEOUT,
        {},
    ),
]


@pytest.mark.parametrize(("field", "behaviour", "override", "standards", "settings"), MODE_FIELDS)
def test_mode_field_switches_one_behaviour(
    field: str,
    behaviour: Callable[[Rules], Any],
    override: Any,
    standards: Any,
    settings: dict[str, Any],
) -> None:
    assert getattr(OVERRIDE, field) is False
    assert getattr(STANDARDS, field) is True
    assert behaviour(rules_with(**settings)) == override
    assert behaviour(rules_with(field, **settings)) == standards


def test_every_mode_field_has_a_row() -> None:
    named = {f.name for f in fields(Mode) if f.init} - {"name"}
    assert named == {case.values[0] for case in MODE_FIELDS}


@pytest.mark.parametrize(
    ("settings", "options", "mode", "expire_after"),
    [
        pytest.param({}, {}, OVERRIDE, -1, id="default"),
        pytest.param({"cache_control": True}, {}, STANDARDS, None, id="cache-control"),
        pytest.param({"cache_control": True}, {"expire_after": 60}, OVERRIDE, 60, id="request"),
        pytest.param(
            {"cache_control": True, "expire_after": 30}, {}, OVERRIDE, 30, id="session-expiry"
        ),
    ],
)
def test_build_rules_picks_the_mode(
    settings: dict[str, Any], options: dict[str, Any], mode: Mode, expire_after: Any
) -> None:
    rules = build_rules("GET", URL, CacheSettings(**settings), RequestOptions(**options))
    assert (rules.mode, rules.expire_after) == (mode, expire_after)


@pytest.mark.parametrize(
    ("method", "settings", "cacheable"),
    [
        pytest.param("GET", {}, True, id="get"),
        pytest.param("POST", {}, False, id="method"),
        pytest.param("GET", {"disabled": True}, False, id="disabled"),
        pytest.param("GET", {"expire_after": 0x0D0E0200020704}, False, id="do-not-cache"),
    ],
)
def test_build_rules_cacheable(method: str, settings: dict[str, Any], cacheable: bool) -> None:
    rules = build_rules(method, URL, CacheSettings(**settings), RequestOptions())
    assert rules.cacheable is cacheable
    if not cacheable:
        assert plan_request({}, stored(), rules, NOW) == Plan(PlanAction.BYPASS)


# --- policy/ is pure ------------------------------------------------------------------------

POLICY_DIR = Path(policy_package.__file__).parent
#: What policy/ may not import: I/O, HTTP objects, storage, and the layers that carry plans out.
FORBIDDEN_MODULES = ("requests", "urllib3", "socket", "sqlite3", "time", "threading")
FORBIDDEN_PACKAGE_PARTS = (
    "backends",
    "models",
    "serializers",
    "session",
    "exchange",
    "fast_path",
    "patcher",
    "concurrency",
)
#: Calls that read a clock.
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "time_ns"}


def _imports(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


@pytest.mark.parametrize("path", sorted(POLICY_DIR.glob("*.py")), ids=lambda p: p.name)
def test_policy_module_imports_no_io(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for name in _imports(tree):
        top = name.lstrip(".").split(".")[0]
        assert top not in FORBIDDEN_MODULES, f"{path.name} imports {name}"
        if name.startswith(".."):
            assert top not in FORBIDDEN_PACKAGE_PARTS, f"{path.name} imports {name}"
            assert top != "keys", f"{path.name} imports {name}"
        if name.startswith("requests_cache_like"):
            pytest.fail(f"{path.name} imports {name}: use relative imports within policy/")


@pytest.mark.parametrize("path", sorted(POLICY_DIR.glob("*.py")), ids=lambda p: p.name)
def test_policy_module_reads_no_clock(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in CLOCK_CALLS, f"{path.name}:{node.lineno} reads a clock"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in CLOCK_CALLS, f"{path.name}:{node.lineno} reads a clock"


def test_the_purity_checks_can_fail(tmp_path: Path) -> None:
    impure = tmp_path / "impure.py"
    impure.write_text(
        "from datetime import datetime\nimport requests\nfrom ..backends import x\n"
        "def f():\n    return datetime.now()\n"
    )
    with pytest.raises(AssertionError):
        test_policy_module_imports_no_io(impure)
    with pytest.raises(AssertionError):
        test_policy_module_reads_no_clock(impure)


# --- one HTTP-date parser -------------------------------------------------------------------

NUMERIC_ZONE = "Sun, 06 Nov 1994 08:49:37 +0000"
NOV_6 = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "strict", "lenient"),
    [
        pytest.param("Sun, 06 Nov 1994 08:49:37 GMT", NOV_6, NOV_6, id="imf-fixdate"),
        pytest.param("Sunday, 06-Nov-94 08:49:37 GMT", NOV_6, NOV_6, id="rfc850"),
        pytest.param("Sun Nov  6 08:49:37 1994", NOV_6, NOV_6, id="asctime"),
        pytest.param(NUMERIC_ZONE, None, NOV_6, id="numeric-zone"),
        pytest.param("06 Nov 1994 10:49:37 +0200", None, NOV_6, id="no-weekday-other-zone"),
        pytest.param("tomorrow", None, None, id="garbage"),
    ],
)
def test_one_date_parser_strict_for_headers_lenient_for_users(
    value: str, strict: datetime | None, lenient: datetime | None
) -> None:
    assert parse_http_date(value, NOW) == strict
    assert parse_http_date(value, NOW, lenient=True) == lenient
    assert expiration_parse_http_date(value) == lenient  # a date a user wrote


@pytest.mark.parametrize("mode", [OVERRIDE, STANDARDS], ids=lambda mode: mode.name)
def test_a_malformed_expires_header_is_already_stale_in_both_modes(mode: Mode) -> None:
    rules = evolve(rules_with(cache_control=True, expire_after_given=True), mode=mode)
    headers = {"Expires": NUMERIC_ZONE.replace("1994", "2099"), "ETag": '"v1"'}
    decision = store_decision("GET", 200, {}, headers, rules, NOW, NOW)
    assert decision.store
    assert decision.expires is not None
    assert decision.expires <= NOW


@pytest.mark.parametrize("mode", [OVERRIDE, STANDARDS], ids=lambda mode: mode.name)
def test_vary_variants_in_both_modes(mode: Mode) -> None:
    """A response stored for one value of a Vary field never answers another value."""
    rules = evolve(rules_with(), mode=mode)
    primary = stored({"Vary": "Accept"}, request_headers={"Accept": "text/a"})
    text_a = CaseInsensitiveDict({"Accept": "text/a"})
    text_b = CaseInsensitiveDict({"Accept": "text/b"})
    same = lookup(reader({"key": primary}), "key", str, "GET", text_a, rules)
    other = lookup(reader({"key": primary}), "key", str, "GET", text_b, rules)
    assert same == (primary, primary)
    assert other == (primary, None)
