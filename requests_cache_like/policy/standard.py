"""Standards mode's decisions, for callers that want them whatever the settings say.

Standards mode applies when ``cache_control=True`` and no ``expire_after`` was given for the
request. Its rules are :data:`.rules.STANDARDS`; the decisions are the same functions as in
override mode (:func:`.decide.plan_request`, :func:`.store.store_decision`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from attrs import evolve

from .decide import plan_request
from .freshness import current_age
from .plan import Plan, StoreDecision, StoredResponse
from .rules import NO_OPTIONS, STANDARDS, Rules, build_rules
from .store import store_decision

if TYPE_CHECKING:
    from .rules import Options, Settings

__all__ = ["current_age", "decide_standard", "standard_rules", "store_standard"]


def standard_rules(method: str, settings: Settings, options: Options) -> Rules:
    """The rules of a ``method`` request in standards mode under ``settings`` and
    ``options``."""
    return evolve(build_rules(method, "", settings, options), mode=STANDARDS, expire_after=None)


def decide_standard(
    headers: Mapping[str, str],
    stored: StoredResponse | None,
    settings: Settings,
    options: Options,
    now: datetime,
) -> Plan:
    """Return the plan for a GET request in standards mode (RFC 9111 §4, RFC 5861)."""
    return plan_request(headers, stored, standard_rules("GET", settings, options), now)


def store_standard(
    method: str,
    status_code: int,
    request_headers: Mapping[str, str],
    response_headers: Mapping[str, str],
    settings: Settings,
    request_time: datetime,
    response_time: datetime,
) -> StoreDecision:
    """Return whether a private cache may store a response, and until when it is fresh
    (RFC 9111 §3, §4.2)."""
    rules = standard_rules(method, settings, NO_OPTIONS)
    return store_decision(
        method, status_code, request_headers, response_headers, rules, request_time, response_time
    )
