"""Memory backend: a dict in this process. Fast, shared by threads, gone at exit."""

from __future__ import annotations

from typing import Any

from ..serializers import init_serializer
from ..settings import DEFAULT_CACHE_NAME
from .base import BaseCache, DictStorage

__all__ = ["MemoryCache"]


class MemoryCache(BaseCache):
    """In-process cache. Stored responses are copies, so editing a response you received
    never changes the cache."""

    def __init__(
        self, cache_name: str = DEFAULT_CACHE_NAME, serializer: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(cache_name=cache_name, **kwargs)
        if serializer is not None:
            # Serializing in memory is slower, but exercises a serializer without a file.
            self.responses = DictStorage(serializer=init_serializer(serializer))
