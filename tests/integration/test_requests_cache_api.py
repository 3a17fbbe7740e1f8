"""requests-cache API details added for the drop-in: each works as it does there."""

from __future__ import annotations

from pathlib import Path

from requests import PreparedRequest
from requests_mock import Mocker

from requests_cache_like import CachedSession, OriginalResponse, SQLiteCache, SQLiteDict
from requests_cache_like.backends.sqlite import MEMORY_URI
from requests_cache_like.models.response import format_file_size
from requests_cache_like.serializers import json_serializer

API = "http://api.test"


def test_a_stored_redirect_has_next_and_is_followed_when_redirects_are() -> None:
    session = CachedSession(backend="memory", allowable_codes=(200, 302))
    with Mocker() as mock:
        mock.get(f"{API}/old", status_code=302, headers={"Location": "/new"})
        mock.get(f"{API}/new", json={"new": True})
        session.get(f"{API}/old", allow_redirects=False)
        stored = session.get(f"{API}/old", allow_redirects=False)
        assert stored.from_cache is True
        assert stored.status_code == 302
        assert isinstance(stored.next, PreparedRequest)
        assert stored.next.url == f"{API}/new"
        followed = session.get(f"{API}/old")
        assert followed.json() == {"new": True}
        assert [r.status_code for r in followed.history] == [302]


def test_wrap_response_gives_the_cache_attributes() -> None:
    with Mocker() as mock:
        mock.get(f"{API}/x", json={})
        import requests

        response = requests.get(f"{API}/x")
    wrapped = OriginalResponse.wrap_response(response)
    assert wrapped is response
    assert isinstance(wrapped, OriginalResponse)
    assert wrapped.from_cache is False
    assert wrapped.created_at is not None


def test_storages_set_cache_key_and_show_their_keys(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "c")
    session = CachedSession(backend=cache)
    with Mocker() as mock:
        mock.get(f"{API}/x", json={})
        key = session.get(f"{API}/x").cache_key
    assert cache.responses[key].cache_key == key
    assert key in str(cache.responses)


def test_bulk_commit_and_values_of_any_kind(tmp_path: Path) -> None:
    storage = SQLiteDict(tmp_path / "d", "numbers", serializer="json")
    with storage.bulk_commit():
        for number in range(3):
            storage[f"k{number}"] = {"n": number}
    assert storage["k2"] == {"n": 2}
    assert len(storage) == 3


def test_memory_uri_and_pipeline_helpers(tmp_path: Path) -> None:
    assert SQLiteCache(MEMORY_URI).db_path == ":memory:"
    copy = json_serializer.copy()
    assert copy is not json_serializer
    assert [type(stage) for stage in copy.stages] == [type(s) for s in json_serializer.stages]
    copy.set_decode_content(True)  # accepted; bodies are bytes either way
    assert copy.stages[0].decode_content is True
    assert json_serializer.stages[0].decode_content is False  # the copy has its own stages
    assert str(copy) == "json"


def test_format_file_size() -> None:
    assert format_file_size(None) == "0 bytes"
    assert format_file_size(5) == "5 bytes"
    assert format_file_size(3 * 1024) == "3.00 KiB"
    assert format_file_size(1024 * 1024 * 5000) == "4.88 GiB"


def test_serializer_stages_as_requests_cache_builds_them(tmp_path: Path) -> None:
    import gzip
    import pickle

    from cattrs import BaseConverter
    from itsdangerous import Signer

    from requests_cache_like import CachedResponse
    from requests_cache_like.serializers import (
        CattrStage,
        SerializerPipeline,
        Stage,
        safe_pickle_serializer,
        utf8_encoder,
    )

    response = CachedResponse(status_code=201, content=b"body")
    assert pickle.loads(pickle.dumps(response)) == response  # equal by value, as in 1.x
    assert CachedResponse(status_code=201) != CachedResponse(status_code=200)
    assert isinstance(CattrStage(factory=BaseConverter).converter, BaseConverter)
    signed = safe_pickle_serializer(secret_key="k")
    assert isinstance(signed.stages[-1].obj, Signer)
    gzipped = SerializerPipeline(
        [json_serializer, utf8_encoder, Stage(dumps=gzip.compress, loads=gzip.decompress)]
    )
    storage = SQLiteDict(tmp_path / "c", serializer=gzipped)
    storage["key"] = response
    assert storage["key"] == response
