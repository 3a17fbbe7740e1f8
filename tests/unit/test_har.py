"""HAR entries of a stored redirect chain stay in the order the chain was followed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from requests_cache_like.cli._har import har_document, har_entries
from requests_cache_like.models import CachedRequest, CachedResponse

STORED = datetime(2026, 12, 6, 12, 0, 0, tzinfo=timezone.utc)


def _response(status: int, url: str, created_at: datetime, elapsed_ms: int) -> CachedResponse:
    response = CachedResponse(
        status_code=status,
        url=url,
        request=CachedRequest(method="GET", url=url),
        created_at=created_at,
    )
    response.elapsed = timedelta(milliseconds=elapsed_ms)
    return response


def test_a_hop_stored_after_the_final_response_still_comes_first() -> None:
    # The hop took 1 ms, the final response 2 ms; the hop's created_at is the time the chain
    # was stored, 5 ms after the final response arrived: its start would sort after it.
    final = _response(200, "https://example.org/json", STORED, 2)
    hop = _response(302, "https://example.org/redirect/1", STORED + timedelta(milliseconds=5), 1)
    final.history = [hop]
    entries = har_document(har_entries(final, "key"))["log"]["entries"]
    assert [entry["response"]["status"] for entry in entries] == [302, 200]
    assert entries[0]["startedDateTime"] <= entries[1]["startedDateTime"]


def test_chains_of_different_responses_are_ordered_by_their_start() -> None:
    later = _response(200, "https://example.org/b", STORED + timedelta(seconds=1), 1)
    earlier = _response(200, "https://example.org/a", STORED, 1)
    entries = har_document(har_entries(later, "b") + har_entries(earlier, "a"))["log"]["entries"]
    assert [entry["request"]["url"] for entry in entries] == [
        "https://example.org/a",
        "https://example.org/b",
    ]
