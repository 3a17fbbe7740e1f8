"""The cache-tests conformance suite, run against standards mode (see docs/conformance.md).

CI fails when fewer tests pass than ``ratchet.json`` records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

from .runner import PASS_RESULTS, RATCHET_FILE, in_profile, load_suites, run_suite


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return run_suite()


def _failures(report: Mapping[str, Any]) -> list[str]:
    return [
        f"{test_id}: {report['results'][test_id]}"
        for test_id in report["selected"]
        if report["verdicts"][test_id] not in PASS_RESULTS
    ]


def test_profile_selects_the_private_cache_tests() -> None:
    selected = [
        test for suite in load_suites() for test in suite["tests"] if in_profile(suite["id"], test)
    ]
    required = [test for test in selected if test.get("kind", "required") == "required"]
    assert (len(selected), len(required)) == (327, 143)


def test_passing_count_does_not_fall_below_the_ratchet(report: dict[str, Any]) -> None:
    ratchet = json.loads(RATCHET_FILE.read_text(encoding="utf-8"))
    failures = "\n".join(_failures(report))
    assert report["passed"] >= ratchet["passed"], f"conformance regressed:\n{failures}"
    assert report["required_passed"] >= ratchet["required_passed"], failures


def test_every_required_test_passes(report: dict[str, Any]) -> None:
    assert report["required_passed"] == report["required_total"], _failures(report)


def test_the_runner_detects_a_client_without_a_cache() -> None:
    # A plain session stores nothing: every test expecting a cached answer must fail, which
    # shows the runner's checks can fail at all.
    only = {"freshness-max-age", "freshness-none", "vary-match", "invalidate-POST"}
    plain = run_suite(make_session=requests.Session, only=lambda _suite, test: test["id"] in only)
    verdicts = plain["verdicts"]
    assert verdicts["freshness-none"] == "yes"  # nothing reused: right, trivially
    assert verdicts["freshness-max-age"] == "optional_fail"
    assert verdicts["vary-match"] == "dependency_fail"
    assert verdicts["invalidate-POST"] == "dependency_fail"


def test_docs_explain_exactly_the_failing_tests(report: dict[str, Any]) -> None:
    page = (Path(__file__).parents[2] / "docs" / "conformance.md").read_text(encoding="utf-8")
    explained = page.split("## Tests that do not pass, and why", 1)[1]
    listed = set(re.findall(r"`([A-Za-z0-9=-]+)`", explained)) & set(report["selected"])
    failing = {
        test_id for test_id in report["selected"] if report["verdicts"][test_id] not in PASS_RESULTS
    }
    assert listed == failing, {"undocumented": failing - listed, "now passing": listed - failing}
    assert f"**{report['passed']}**" in page, "update the results table in docs/conformance.md"
