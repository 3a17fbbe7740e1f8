"""Serializers: how responses are turned into stored bytes and back.

The default (``"default"``) stores JSON metadata with the raw body appended: it is fast, compact
and cannot run code when loading. ``"json"`` and ``"yaml"`` are readable, ``"pickle"`` is
available by explicit choice, and any of them can be compressed (``"json+zstd"``).
"""

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

__all__ = [
    "CODECS",
    "COMPRESSORS",
    "FORMAT_VERSION",
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
    "init_serializer",
    "json_serializer",
    "make_converter",
    "pickle_serializer",
    "safe_pickle_serializer",
]
