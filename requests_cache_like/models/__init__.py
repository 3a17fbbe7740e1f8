"""Stored request and response models that behave like their ``requests`` counterparts."""

from requests import PreparedRequest, Request

from .raw import CachedHTTPResponse
from .request import CachedRequest
from .response import CachedResponse, OriginalResponse, set_response_attributes

#: Any response a cached session returns.
AnyResponse = OriginalResponse | CachedResponse
#: Any request the cache can key or store.
AnyRequest = Request | PreparedRequest | CachedRequest
#: A request that is ready to send or was stored.
AnyPreparedRequest = PreparedRequest | CachedRequest

__all__ = [
    "AnyPreparedRequest",
    "AnyRequest",
    "AnyResponse",
    "CachedHTTPResponse",
    "CachedRequest",
    "CachedResponse",
    "OriginalResponse",
    "set_response_attributes",
]
