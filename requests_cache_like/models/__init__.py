"""Stored request and response models that behave like their ``requests`` counterparts."""

from .raw import CachedHTTPResponse
from .request import CachedRequest
from .response import CachedResponse, OriginalResponse, set_response_attributes

__all__ = [
    "CachedHTTPResponse",
    "CachedRequest",
    "CachedResponse",
    "OriginalResponse",
    "set_response_attributes",
]
