"""The stored form of a request."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from attrs import define, field
from requests import PreparedRequest
from requests.structures import CaseInsensitiveDict

from ..keys import redact_body, redact_headers, redact_url

__all__ = ["CachedRequest"]


def _headers(value: Any) -> CaseInsensitiveDict[str]:
    if isinstance(value, CaseInsensitiveDict):
        return value
    return CaseInsensitiveDict(value or {})


@define(slots=False, eq=True)
class CachedRequest:
    """A request as stored with its response: like a :class:`requests.PreparedRequest`, with
    secrets (the cache's ``ignored_parameters``) redacted."""

    method: str = "GET"
    url: str = ""
    headers: CaseInsensitiveDict[str] = field(factory=CaseInsensitiveDict, converter=_headers)
    body: bytes | None = b""

    @classmethod
    def from_request(cls, request: Any, ignored_parameters: Iterable[str] = ()) -> CachedRequest:
        """Return the stored form of a prepared (or cached) request, secrets redacted."""
        ignored = tuple(ignored_parameters)
        headers = request.headers or {}
        return cls(
            method=(request.method or "GET").upper(),
            url=redact_url(request.url or "", ignored),
            headers=CaseInsensitiveDict(redact_headers(headers, ignored)),
            body=redact_body(request.body, headers, ignored) or b"",
        )

    @property
    def path_url(self) -> str:
        """The path and query of the URL, as on a PreparedRequest."""
        prepared = PreparedRequest()
        prepared.url = self.url
        return prepared.path_url

    def prepare(self) -> PreparedRequest:
        """Return an equivalent :class:`requests.PreparedRequest` (with redacted values)."""
        prepared = PreparedRequest()
        prepared.prepare(method=self.method, url=self.url, headers=dict(self.headers))
        prepared.body = self.body
        return prepared

    def __str__(self) -> str:
        return f"{self.method} {self.url}"
