"""Serializer pipelines: round trips, versioning, and refusal of damaged or hostile entries."""

from __future__ import annotations

import json
import pickle
import struct
import zlib
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from requests_cache_like.exceptions import DeserializationError
from requests_cache_like.models import CachedRequest, CachedResponse
from requests_cache_like.serializers import (
    CODECS,
    COMPRESSORS,
    FORMAT_VERSION,
    CattrStage,
    FrameStage,
    JSONStage,
    SerializerPipeline,
    Stage,
    default_serializer,
    init_serializer,
    safe_pickle_serializer,
)

UTC = timezone.utc
CREATED = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
EXPIRES = CREATED + timedelta(hours=1)
ALL_BYTES = bytes(range(256))
SECRET = "s3cret"

NAMED_SPECS = [
    "default",
    "frame",
    "json",
    "pickle",
    "yaml",
    "msgpack",
    "json+zstd",
    "default+zlib",
    "yaml+zlib+zstd",
]


def _make(spec: str) -> Any:
    if spec == "safe_pickle":
        return safe_pickle_serializer(SECRET)
    if spec == "safe_pickle+zlib":
        return safe_pickle_serializer(SECRET, compress="zlib")
    return init_serializer(spec)


ALL_SPECS = [*NAMED_SPECS, "safe_pickle", "safe_pickle+zlib"]


@pytest.fixture(params=ALL_SPECS)
def spec(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def sample_response(expires: datetime | None = EXPIRES, encoding: str | None = "utf-8") -> Any:
    redirect = CachedResponse(
        content=b"moved",
        url="https://example.com/old",
        status_code=301,
        reason="Moved Permanently",
        headers={"Location": "/new"},
        request=CachedRequest("POST", "https://example.com/old", {"X-A": "1"}, b"first-body"),
        created_at=CREATED,
    )
    return CachedResponse(
        content=ALL_BYTES + "caf\u00e9 \u2603".encode(),
        url="https://example.com/new?q=1",
        status_code=200,
        reason="OK",
        headers={"Content-Type": "application/octet-stream", "ETag": '"v1"', "X-Name": "caf\u00e9"},
        encoding=encoding,
        elapsed=timedelta(seconds=1, microseconds=234567),
        history=[redirect],
        request=CachedRequest(
            "POST", "https://example.com/new?q=1", {"Accept": "*/*"}, b'{"payload": [1, 2]}'
        ),
        created_at=CREATED,
        expires=expires,
    )


def _assert_same(loaded: Any, original: Any) -> None:
    assert isinstance(loaded, CachedResponse)
    assert loaded.content == original.content
    assert loaded.url == original.url
    assert loaded.status_code == original.status_code
    assert loaded.reason == original.reason
    assert dict(loaded.headers) == dict(original.headers)
    assert loaded.headers["content-type"] == "application/octet-stream"  # case-insensitive
    assert loaded.headers["ETAG"] == '"v1"'
    assert loaded.encoding == original.encoding
    assert loaded.elapsed == original.elapsed
    assert loaded.created_at == original.created_at
    assert loaded.created_at.utcoffset() == timedelta(0)
    assert loaded.expires == original.expires
    if loaded.expires is not None:
        assert loaded.expires.utcoffset() == timedelta(0)
    assert loaded.request == original.request
    assert loaded.request.headers["accept"] == "*/*"
    assert len(loaded.history) == len(original.history)
    for got, want in zip(loaded.history, original.history, strict=True):
        assert isinstance(got, CachedResponse)
        assert got.content == want.content
        assert got.status_code == want.status_code
        assert got.headers["location"] == "/new"
        assert got.request.body == want.request.body
        assert got.created_at == want.created_at


def test_round_trip(spec: str) -> None:
    serializer = _make(spec)
    original = sample_response()
    stored = serializer.dumps(original)
    assert isinstance(stored, bytes)
    loaded = serializer.loads(stored)
    _assert_same(loaded, original)
    assert loaded.text == original.text
    assert loaded.raw.read() == original.content


@pytest.mark.parametrize(
    ("expires", "encoding"),
    [
        pytest.param(None, None, id="never-expires-no-encoding"),
        pytest.param(EXPIRES, "ISO-8859-1", id="latin-1"),
    ],
)
def test_round_trip_optional_fields(
    spec: str, expires: datetime | None, encoding: str | None
) -> None:
    serializer = _make(spec)
    original = sample_response(expires=expires, encoding=encoding)
    _assert_same(serializer.loads(serializer.dumps(original)), original)


def test_round_trip_minimal_response(spec: str) -> None:
    serializer = _make(spec)
    original = CachedResponse(created_at=CREATED)
    loaded = serializer.loads(serializer.dumps(original))
    assert loaded.content == b""
    assert loaded.history == []
    assert loaded.request.body == b""  # an empty body, as requests-cache stores it
    assert loaded.created_at == CREATED


def test_round_trip_is_repeatable(spec: str) -> None:
    """Loading and storing again gives the same entry (nothing drifts on each pass)."""
    serializer = _make(spec)
    once = serializer.loads(serializer.dumps(sample_response()))
    twice = serializer.loads(serializer.dumps(once))
    _assert_same(twice, sample_response())


def test_codecs_share_the_same_structure() -> None:
    """Every codec stores the same plain data, so an entry reads the same whichever wrote it."""
    original = sample_response()
    structured = [
        _make(spec).stages[0].converter.unstructure(original)
        for spec in ("default", "msgpack", "pickle")
    ]
    assert structured[0] == structured[1] == structured[2]


# --- format version ---------------------------------------------------------------------------


def _encode_with_version(serializer: Any, version: Any) -> bytes:
    """Store ``sample_response()`` as ``serializer`` would, but tagged with ``version``."""
    stages = serializer.stages
    value: Any = stages[0].dumps(sample_response())
    value["_v"] = version
    for stage in stages[1:]:
        value = stage.dumps(value)
    return bytes(value)


@pytest.mark.parametrize(
    "version", [FORMAT_VERSION + 1, 0, None, "1"], ids=["newer", "older", "missing", "string"]
)
def test_other_format_version_is_refused(spec: str, version: Any) -> None:
    serializer = _make(spec)
    with pytest.raises(DeserializationError, match="format version"):
        serializer.loads(_encode_with_version(serializer, version))


def test_format_version_is_stored(spec: str) -> None:
    serializer = _make(spec)
    assert serializer.stages[0].dumps(sample_response())["_v"] == FORMAT_VERSION


# --- damaged entries --------------------------------------------------------------------------


def _damage(stored: bytes, how: str) -> bytes:
    if how == "empty":
        return b""
    if how == "half":
        return stored[: len(stored) // 2]
    if how == "first-byte-only":
        return stored[:1]
    if how == "wrong-marker":
        return b"XXXXXXXX" + stored[8:]
    if how == "garbage":
        return b"\x00\xffgarbage\x80\x04not an entry at all"
    if how == "zeros":
        return bytes(64)
    if how == "json-list":
        return b"[1, 2, 3]"
    raise AssertionError(how)


DAMAGE = ["empty", "half", "first-byte-only", "wrong-marker", "garbage", "zeros", "json-list"]
#: Plain YAML has no marker: overwriting its first bytes only renames the first key, which the
#: structuring stage ignores. Such an entry may load (without that field) or be refused.
UNDETECTABLE = {("yaml", "wrong-marker")}


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_entry_raises_deserialization_error(spec: str, how: str) -> None:
    serializer = _make(spec)
    damaged = _damage(serializer.dumps(sample_response()), how)
    if (spec, how) in UNDETECTABLE:
        try:
            loaded = serializer.loads(damaged)
        except DeserializationError:
            return
        assert isinstance(loaded, CachedResponse)
        return
    with pytest.raises(DeserializationError):
        serializer.loads(damaged)


FLIPS = [
    pytest.param(spec_name, offset, id=f"{spec_name}-at-{offset}")
    for spec_name in ("default", "default+zlib", "json+zstd", "safe_pickle")
    for offset in (0, 3, 5, 9, 40, -1)
    # The frame has no checksum: past its marker and length, bytes are JSON text or body.
    if not (spec_name == "default" and offset in (40, -1))
]


@pytest.mark.parametrize(("spec_name", "offset"), FLIPS)
def test_flipped_byte_is_refused(spec_name: str, offset: int) -> None:
    """Where a format can notice (marker, lengths, checksums, signature), a changed byte is
    refused rather than loaded as something else."""
    serializer = _make(spec_name)
    stored = bytearray(serializer.dumps(sample_response()))
    stored[offset] ^= 0xFF
    with pytest.raises(DeserializationError):
        serializer.loads(bytes(stored))


def test_frame_with_trailing_bytes_is_refused() -> None:
    stored = default_serializer.dumps(sample_response())
    with pytest.raises(DeserializationError, match="trailing"):
        default_serializer.loads(stored + b"x")


def _frame(meta: Any, bodies: bytes = b"") -> bytes:
    encoded = json.dumps(meta).encode()
    return FrameStage.MAGIC + struct.pack(">I", len(encoded)) + encoded + bodies


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(FrameStage.MAGIC, id="marker-only"),
        pytest.param(FrameStage.MAGIC + b"\x00\x00", id="short-length"),
        pytest.param(FrameStage.MAGIC + struct.pack(">I", 99) + b"{}", id="length-past-end"),
        pytest.param(_frame([1, 2]), id="meta-not-object"),
        pytest.param(_frame("text"), id="meta-string"),
        pytest.param(_frame({"_v": 1}), id="no-body-lengths"),
        pytest.param(_frame({"_bodies": 5}), id="lengths-not-list"),
        pytest.param(_frame({"_bodies": ["a"]}), id="length-not-int"),
        pytest.param(_frame({"_bodies": [True]}, b"x"), id="length-bool"),
        pytest.param(_frame({"_bodies": [-3, 3]}, b"abc"), id="length-negative"),
        pytest.param(_frame({"_bodies": [], "_content": 0}), id="missing-body"),
        pytest.param(_frame({"_bodies": [], "history": 5}), id="history-not-list"),
        pytest.param(_frame({"_bodies": [], "history": ["x"]}), id="history-item-not-object"),
        pytest.param(_frame({"_bodies": [], "_v": 1, "status_code": "abc"}), id="bad-field"),
        pytest.param(_frame({"_bodies": [], "_v": 1, "created_at": 5}), id="bad-datetime"),
        pytest.param(_frame({"_bodies": [], "_v": 1, "history": [7]}), id="bad-history"),
    ],
)
def test_malformed_frame_is_refused(data: bytes) -> None:
    with pytest.raises(DeserializationError):
        default_serializer.loads(data)


@pytest.mark.parametrize("value", [None, 42, "text", {"a": 1}], ids=["none", "int", "str", "dict"])
def test_frame_refuses_non_bytes(value: Any) -> None:
    with pytest.raises(DeserializationError, match="marker"):
        FrameStage().loads(value)


def test_cattrs_stage_refuses_non_dict() -> None:
    with pytest.raises(DeserializationError, match="not a dict"):
        CattrStage().loads([1, 2])


# --- signing ---------------------------------------------------------------------------------


def test_signed_entry_tampered_is_refused() -> None:
    serializer = safe_pickle_serializer(SECRET)
    stored = serializer.dumps(sample_response())
    payload, _, signature = stored.rpartition(b".")
    tampered = payload.replace(b"example.com", b"evil.test!!", 1) + b"." + signature
    assert tampered != stored
    with pytest.raises(DeserializationError, match="signature"):
        serializer.loads(tampered)


def test_signed_entry_wrong_key_is_refused() -> None:
    stored = safe_pickle_serializer(SECRET).dumps(sample_response())
    with pytest.raises(DeserializationError, match="signature"):
        safe_pickle_serializer("another key").loads(stored)
    with pytest.raises(DeserializationError, match="signature"):
        safe_pickle_serializer(SECRET, salt="other salt").loads(stored)


def test_signed_entry_key_rotation() -> None:
    """A list of keys signs with the last and accepts any of them."""
    old_entry = safe_pickle_serializer("old").dumps(sample_response())
    rotated = safe_pickle_serializer(["old", "new"])
    _assert_same(rotated.loads(old_entry), sample_response())
    assert safe_pickle_serializer("new").loads(rotated.dumps(sample_response())).status_code == 200


def test_unsigned_pickle_is_refused_by_signed_serializer() -> None:
    unsigned = init_serializer("pickle").dumps(sample_response())
    with pytest.raises(DeserializationError):
        safe_pickle_serializer(SECRET).loads(unsigned)


def test_safe_pickle_unknown_compression_is_named() -> None:
    with pytest.raises(ValueError, match=r"'lz4'.*accepted: zlib, zstd"):
        safe_pickle_serializer(SECRET, compress="lz4")


# --- no code runs on load ------------------------------------------------------------------

CALLS: list[str] = []


def _record_call(value: str) -> str:
    CALLS.append(value)
    return value


class _Hostile:
    def __reduce__(self) -> Any:
        return (_record_call, ("code ran",))


def test_default_bytes_are_not_pickle() -> None:
    stored = default_serializer.dumps(sample_response())
    assert not stored.startswith(b"\x80")
    assert stored.startswith(FrameStage.MAGIC)
    (meta_len,) = struct.unpack_from(">I", stored, len(FrameStage.MAGIC))
    start = len(FrameStage.MAGIC) + 4
    meta = json.loads(stored[start : start + meta_len])  # the metadata is plain JSON
    assert meta["_v"] == FORMAT_VERSION
    assert meta["url"] == "https://example.com/new?q=1"


@pytest.mark.parametrize(
    "spec_name", ["default", "frame", "json", "yaml", "msgpack", "default+zlib", "json+zstd"]
)
def test_pickle_payload_is_refused(spec_name: str) -> None:
    serializer = _make(spec_name)
    payload = pickle.dumps({"entry": _Hostile()}, protocol=pickle.HIGHEST_PROTOCOL)
    assert pickle.loads(payload) == {"entry": "code ran"}  # the payload does run under pickle
    assert CALLS == ["code ran"]
    CALLS.clear()
    candidates = [payload]
    if "+" in spec_name:  # also wrap it in the right compression, so it reaches the codec
        compressor = serializer.stages[-1]
        candidates.append(compressor.dumps(payload))
    for candidate in candidates:
        with pytest.raises(DeserializationError):
            serializer.loads(candidate)
    assert CALLS == []


def test_yaml_python_tags_are_refused() -> None:
    document = b"!!python/object/apply:os.system ['echo hacked']\n"
    with pytest.raises(DeserializationError, match="YAML"):
        init_serializer("yaml").loads(document)


# --- specs and initialisation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec_name", "stage_types", "is_binary"),
    [
        pytest.param("default", ["CattrStage", "FrameStage"], True, id="default"),
        pytest.param("json", ["CattrStage", "JSONStage"], False, id="json"),
        pytest.param("yaml", ["CattrStage", "YAMLStage"], False, id="yaml"),
        pytest.param("json+zstd", ["CattrStage", "JSONStage", "ZstdStage"], True, id="json-zstd"),
        pytest.param(" JSON + Zlib ", ["CattrStage", "JSONStage", "ZlibStage"], True, id="spaces"),
        pytest.param("msgpack", ["CattrStage", "MsgpackStage"], True, id="msgpack"),
    ],
)
def test_spec_builds_pipeline(spec_name: str, stage_types: list[str], is_binary: bool) -> None:
    serializer = init_serializer(spec_name)
    assert isinstance(serializer, SerializerPipeline)
    assert [type(s).__name__ for s in serializer.stages] == stage_types
    assert serializer.is_binary is is_binary
    assert serializer.name == spec_name.lower()
    assert repr(serializer) == f"SerializerPipeline({spec_name.lower()!r})"


def test_none_gives_the_default() -> None:
    serializer = init_serializer(None)
    assert isinstance(serializer, SerializerPipeline)
    assert serializer.name == "default"
    assert serializer.dumps(sample_response()) == default_serializer.dumps(sample_response())


@pytest.mark.parametrize(
    ("spec_name", "named"),
    [
        pytest.param("xml", "'xml'", id="xml"),
        pytest.param("json+lz4", "'lz4'", id="json-lz4"),
        pytest.param("json+", "''", id="empty-compressor"),
        pytest.param("zstd", "'zstd'", id="compressor-alone"),
    ],
)
def test_unknown_spec_is_named(spec_name: str, named: str) -> None:
    with pytest.raises(ValueError) as info:
        init_serializer(spec_name)
    message = str(info.value)
    assert f"serializer={spec_name!r}" in message
    assert named in message
    assert "accepted" in message
    if "+" in spec_name:
        assert all(name in message for name in COMPRESSORS)
    else:
        assert all(name in message for name in CODECS)


@pytest.mark.parametrize("value", [3, b"json", object()], ids=["int", "bytes", "object"])
def test_bad_serializer_type(value: Any) -> None:
    with pytest.raises(TypeError, match=r"serializer=.*accepted"):
        init_serializer(value)


def test_objects_with_dumps_and_loads_are_used_as_is() -> None:
    pipeline = init_serializer("json")
    assert init_serializer(pipeline) is pipeline
    module: Any = json
    assert init_serializer(module) is module  # a module works too


# --- Stage wrapper and custom pipelines -----------------------------------------------------


def test_stage_wraps_module() -> None:
    stage = Stage(json)
    assert stage.loads(stage.dumps({"a": [1]})) == {"a": [1]}


def test_stage_with_method_names_and_callables() -> None:
    by_name = Stage(zlib, dumps="compress", loads="decompress")
    assert by_name.loads(by_name.dumps(b"abc" * 10)) == b"abc" * 10
    by_callable = Stage(dumps=str.upper, loads=str.lower)
    assert by_callable.obj is None
    assert by_callable.dumps("abc") == "ABC"
    assert by_callable.loads("ABC") == "abc"


def test_custom_pipeline_with_stage() -> None:
    pipeline = SerializerPipeline(
        [CattrStage(binary=False), Stage(json), Stage(dumps=str.encode, loads=bytes.decode)],
        is_binary=True,
    )
    assert pipeline.name == "CattrStage+Stage+Stage"
    original = sample_response()
    stored = pipeline.dumps(original)
    assert isinstance(stored, bytes)
    _assert_same(pipeline.loads(stored), original)


def test_pipeline_order() -> None:
    """dumps runs the stages in order, loads in reverse."""
    pipeline = SerializerPipeline(
        [
            Stage(dumps=lambda v: v + "a", loads=lambda v: v.removesuffix("a")),
            Stage(dumps=lambda v: v + "b", loads=lambda v: v.removesuffix("b")),
        ],
        name="letters",
    )
    assert pipeline.dumps("x") == "xab"
    assert pipeline.loads("xab") == "x"
    assert pipeline.name == "letters"


def test_json_stage_errors_are_wrapped() -> None:
    with pytest.raises(DeserializationError, match="JSON"):
        JSONStage().loads(b"{")


def test_stored_headers_keep_their_names_and_order() -> None:
    names = [("X-B", "2"), ("content-TYPE", "text/plain"), ("A", "1")]
    data = CattrStage().dumps(CachedResponse(headers=dict(names), url="https://example.com/"))
    assert list(data["headers"].items()) == names
    assert list(data["request"]["headers"].items()) == []
