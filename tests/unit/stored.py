"""``Stored``: a stand-in for a stored response, as the policy's protocols see one (the
``StoredResponse`` and ``StandardStored`` protocols), shared by the policy's unit tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from attrs import field, frozen
from requests.structures import CaseInsensitiveDict

__all__ = ["Stored"]


def _headers(value: Mapping[str, str]) -> CaseInsensitiveDict[str]:
    return CaseInsensitiveDict(value)


@frozen
class Stored:
    """What the policy reads of a stored response: when it was stored, when it expires, its
    headers and its age on arrival."""

    created_at: datetime
    expires: datetime | None
    headers: CaseInsensitiveDict[str] = field(factory=CaseInsensitiveDict, converter=_headers)
    initial_age: float = 0.0
