"""Structuring stage: :class:`CachedResponse` to plain Python data and back (cattrs)."""

from __future__ import annotations

from base64 import b64decode, b64encode
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, get_origin

from cattrs import Converter
from requests.structures import CaseInsensitiveDict

from ..exceptions import DeserializationError
from ..models import CachedResponse
from ..models.response import headers_dict

__all__ = ["FORMAT_VERSION", "CattrStage", "make_converter"]

#: Version of the stored entry layout. An entry with another version is a cache miss.
FORMAT_VERSION = 1
_VERSION_KEY = "_v"
#: Where a value other than a response is kept (storages hold any value, as requests-cache's).
_VALUE_KEY = "_value"


def _is_headers(cls: Any) -> bool:
    return cls is CaseInsensitiveDict or get_origin(cls) is CaseInsensitiveDict


def make_converter(binary: bool) -> Converter:
    """Return a converter for stored responses.

    With ``binary=False`` bytes become base64 text, for formats that cannot hold bytes (JSON,
    YAML). Datetimes are ISO-8601 strings and durations float seconds in both modes, so stored
    entries read the same whichever codec wrote them.
    """
    converter = Converter()
    converter.register_unstructure_hook(datetime, lambda dt: dt.isoformat())
    converter.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
    converter.register_unstructure_hook(timedelta, lambda td: td.total_seconds())
    converter.register_structure_hook(timedelta, lambda value, _: timedelta(seconds=value))
    converter.register_unstructure_hook_func(_is_headers, headers_dict)
    converter.register_structure_hook_func(_is_headers, lambda value, _: CaseInsensitiveDict(value))
    if binary:
        converter.register_structure_hook(bytes, lambda value, _: bytes(value))
    else:
        converter.register_unstructure_hook(bytes, lambda value: b64encode(value).decode("ascii"))
        converter.register_structure_hook(
            bytes, lambda value, _: b64decode(value) if isinstance(value, str) else bytes(value)
        )
    return converter


class CattrStage:
    """First stage of a pipeline: a response to a dict that carries the format version."""

    def __init__(
        self,
        binary: bool = True,
        factory: Callable[..., Converter] | None = None,
        decode_content: bool = False,
    ) -> None:
        self.binary = binary
        #: requests-cache's option; bodies are kept as bytes here, so it changes nothing.
        self.decode_content = decode_content
        self.converter = make_converter(binary) if factory is None else factory()
        # cattrs generates its (un)structuring code on first use; do it now, so the first
        # cache hit is not the one that pays for it.
        self._structure = self.converter.get_structure_hook(CachedResponse)
        self._unstructure = self.converter.get_unstructure_hook(CachedResponse)

    def dumps(self, value: Any) -> dict[str, Any]:
        """Return ``value`` as plain data, tagged with :data:`FORMAT_VERSION`; a value that is
        not a response is kept as it is, for the codec to encode."""
        if not isinstance(value, CachedResponse):
            return {_VERSION_KEY: FORMAT_VERSION, _VALUE_KEY: value}
        data: dict[str, Any] = self._unstructure(value)
        data[_VERSION_KEY] = FORMAT_VERSION
        return data

    def loads(self, value: Any) -> Any:
        """Return the response (or other value) in ``value``; raise DeserializationError if it
        is not an entry of this format version."""
        if not isinstance(value, dict):
            raise DeserializationError(f"stored entry is a {type(value).__name__}, not a dict")
        version = value.get(_VERSION_KEY)
        if version != FORMAT_VERSION:
            raise DeserializationError(
                f"stored entry has format version {version!r}; this release reads {FORMAT_VERSION}"
            )
        if _VALUE_KEY in value:
            return value[_VALUE_KEY]
        try:
            return self._structure(value, CachedResponse)
        except Exception as exc:  # cattrs raises several types, all meaning "not an entry"
            raise DeserializationError(f"stored entry is malformed: {exc}") from exc
