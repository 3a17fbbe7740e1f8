"""Serializer pipelines: structure, then encode, then optionally compress and sign."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from copy import copy
from typing import Any, Protocol

from .cattrs_stage import CattrStage
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

__all__ = [
    "CODECS",
    "COMPRESSORS",
    "SerializerPipeline",
    "SerializerType",
    "Stage",
    "init_serializer",
    "safe_pickle_serializer",
]


class StageLike(Protocol):
    def dumps(self, value: Any) -> Any: ...
    def loads(self, value: Any) -> Any: ...


class Stage:
    """Wrap any object with serialize/deserialize functions (e.g. a module) as a stage."""

    def __init__(
        self,
        obj: Any = None,
        dumps: str | Callable[..., Any] = "dumps",
        loads: str | Callable[..., Any] = "loads",
    ) -> None:
        self.obj = obj
        self._dumps = getattr(obj, dumps) if isinstance(dumps, str) else dumps
        self._loads = getattr(obj, loads) if isinstance(loads, str) else loads

    def dumps(self, value: Any) -> Any:
        return self._dumps(value)

    def loads(self, value: Any) -> Any:
        return self._loads(value)


class SerializerPipeline:
    """A chain of stages: ``dumps`` runs them in order, ``loads`` in reverse."""

    def __init__(
        self, stages: Sequence[StageLike], name: str | None = None, is_binary: bool = True
    ) -> None:
        self.stages = tuple(stages)
        self.name = name or "+".join(getattr(s, "name", type(s).__name__) for s in stages)
        self.is_binary = is_binary
        # Bound methods, looked up once: loads() is on every cache hit.
        self._dumps = [s.dumps for s in self.stages]
        self._loads = [s.loads for s in reversed(self.stages)]

    def dumps(self, value: Any) -> Any:
        """Return the stored form of ``value``."""
        for dumps in self._dumps:
            value = dumps(value)
        return value

    def loads(self, value: Any) -> Any:
        """Return the value in its stored form ``value``; raises DeserializationError."""
        for loads in self._loads:
            value = loads(value)
        return value

    def copy(self) -> SerializerPipeline:
        """Return a pipeline of copies of the stages (requests-cache API)."""
        return SerializerPipeline([copy(stage) for stage in self.stages], self.name, self.is_binary)

    def set_decode_content(self, decode_content: bool) -> None:
        """Accepted for requests-cache code, and set on the stages that have the option;
        bodies are always stored as bytes, so it changes nothing here."""
        self.decode_content = decode_content
        for stage in self.stages:
            if hasattr(stage, "decode_content"):
                stage.decode_content = decode_content

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"SerializerPipeline({self.name!r})"


SerializerType = str | SerializerPipeline | StageLike | None


def _codec(binary: bool, encoder: Callable[[], StageLike]) -> Callable[[], list[StageLike]]:
    return lambda: [CattrStage(binary=binary), encoder()]


#: Codec names accepted as the first part of a serializer spec like ``"json+zstd"``.
CODECS: dict[str, Callable[[], list[StageLike]]] = {
    "default": _codec(True, FrameStage),
    "frame": _codec(True, FrameStage),
    "json": _codec(False, JSONStage),
    "yaml": _codec(False, YAMLStage),
    "msgpack": _codec(True, MsgpackStage),
    "pickle": _codec(True, PickleStage),
}
#: Compression names accepted after the codec: ``"json+zlib"``, ``"default+zstd"``.
COMPRESSORS: dict[str, Callable[[], StageLike]] = {"zlib": ZlibStage, "zstd": ZstdStage}


def _from_spec(spec: str) -> SerializerPipeline:
    codec, *compressors = [part.strip().lower() for part in spec.split("+")]
    if codec not in CODECS:
        raise ValueError(
            f"serializer={spec!r}: unknown format {codec!r}; accepted: {', '.join(CODECS)}, "
            f"optionally followed by +{' or +'.join(COMPRESSORS)} (e.g. 'json+zstd')"
        )
    stages = CODECS[codec]()
    for name in compressors:
        if name not in COMPRESSORS:
            raise ValueError(
                f"serializer={spec!r}: unknown compression {name!r}; accepted: "
                f"{', '.join(COMPRESSORS)}"
            )
        stages.append(COMPRESSORS[name]())
    binary = bool(compressors) or codec not in ("json", "yaml")
    return SerializerPipeline(stages, name=spec.lower(), is_binary=binary)


def init_serializer(serializer: SerializerType = None) -> SerializerPipeline | StageLike:
    """Return a serializer from a name/spec (``"json"``, ``"default+zstd"``), a pipeline, or
    any object with ``dumps``/``loads``. ``None`` gives the safe default."""
    if serializer is None:
        return _from_spec("default")
    if isinstance(serializer, str):
        return _from_spec(serializer)
    if callable(getattr(serializer, "dumps", None)) and callable(
        getattr(serializer, "loads", None)
    ):
        return serializer
    raise TypeError(
        f"serializer={serializer!r}; accepted: a name such as 'default', 'json', 'pickle', "
        "'json+zstd', a SerializerPipeline, or an object with dumps() and loads()"
    )


def safe_pickle_serializer(
    secret_key: str | bytes | list[str | bytes],
    salt: str = "requests-cache-like",
    compress: str | None = None,
) -> SerializerPipeline:
    """Return a pickle serializer whose entries are signed with ``secret_key``: an entry
    written without the key (or changed since) is refused before pickle sees it."""
    stages: list[StageLike] = [CattrStage(binary=True), PickleStage()]
    if compress:
        if compress not in COMPRESSORS:
            raise ValueError(
                f"compress={compress!r}: unknown compression; accepted: {', '.join(COMPRESSORS)}"
            )
        stages.append(COMPRESSORS[compress]())
    stages.append(SignerStage(secret_key, salt=salt))
    return SerializerPipeline(stages, name="safe_pickle")
