"""Serializers: how responses are turned into stored bytes and back.

The default (``"default"``) stores JSON metadata with the raw body appended: it is fast, compact
and cannot run code when loading. ``"json"`` and ``"yaml"`` are readable, ``"pickle"`` is
available by explicit choice, and any of them can be compressed (``"json+zstd"``).
"""

from typing import Any

from .cattrs_stage import FORMAT_VERSION, CattrStage, make_converter
from .pipeline import (
    CODECS,
    COMPRESSORS,
    SerializerPipeline,
    SerializerType,
    Stage,
    init_serializer,
    safe_pickle_serializer,
)
from .stages import (
    FrameStage,
    JSONStage,
    MsgpackStage,
    PickleStage,
    SignerStage,
    YAMLStage,
    ZlibStage,
    ZstdStage,
)

default_serializer = init_serializer("default")
json_serializer = init_serializer("json")
pickle_serializer = init_serializer("pickle")
#: requests-cache's building blocks: text to UTF-8 bytes and back, as a stage and a pipeline.


def _utf8_encode(value: str | bytes) -> bytes:
    # A stage before it may already give bytes (this package's json_serializer does).
    return value if isinstance(value, bytes) else value.encode("utf-8")


utf8_encoder = Stage(dumps=_utf8_encode, loads=bytes.decode)
utf8_serializer = SerializerPipeline([utf8_encoder], name="utf8", is_binary=True)
#: A response to plain data (a dict of builtins) and back, without encoding.
dict_serializer = SerializerPipeline([CattrStage(binary=False)], name="dict", is_binary=False)


def _optional(name: str) -> Any:
    """The serializer ``name``, or a stand-in that says which extra to install once used."""
    try:
        return init_serializer(name)
    except ImportError as error:
        return _Missing(name, error)


class _Missing:
    """A serializer whose library is not installed: using it raises the ImportError."""

    def __init__(self, name: str, error: ImportError) -> None:
        self.name, self.error = name, error

    def dumps(self, value: Any) -> Any:
        raise self.error

    loads = dumps


yaml_serializer = _optional("yaml")
#: Serializers by name, as requests-cache has them (any spec string works as well).
SERIALIZERS: dict[str, Any] = {
    "default": default_serializer,
    "json": json_serializer,
    "pickle": pickle_serializer,
    "yaml": yaml_serializer,
    "msgpack": _optional("msgpack"),
}

__all__ = [
    "CODECS",
    "COMPRESSORS",
    "FORMAT_VERSION",
    "SERIALIZERS",
    "CattrStage",
    "FrameStage",
    "JSONStage",
    "MsgpackStage",
    "PickleStage",
    "SerializerPipeline",
    "SerializerType",
    "SignerStage",
    "Stage",
    "YAMLStage",
    "ZlibStage",
    "ZstdStage",
    "default_serializer",
    "dict_serializer",
    "init_serializer",
    "json_serializer",
    "make_converter",
    "pickle_serializer",
    "safe_pickle_serializer",
    "utf8_encoder",
    "utf8_serializer",
    "yaml_serializer",
]
