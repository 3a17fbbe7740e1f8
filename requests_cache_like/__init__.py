"""requests_cache_like: a persistent, standards-minded HTTP cache for ``requests``.

>>> from requests_cache_like import CachedSession
>>> session = CachedSession("demo_cache", expire_after=300)  # doctest: +SKIP
>>> session.get("https://example.org").from_cache  # doctest: +SKIP
False
"""

from __future__ import annotations

from .backends import (
    BACKEND_CLASSES,
    BaseCache,
    BaseStorage,
    DictStorage,
    DynamoDbCache,
    DynamoDbDict,
    FileCache,
    FileDict,
    GridFSCache,
    GridFSDict,
    MemoryCache,
    MongoCache,
    MongoDict,
    RedisCache,
    RedisDict,
    SQLiteCache,
    SQLiteDict,
    init_backend,
)
from .exceptions import (
    CacheError,
    DeserializationError,
    EntryTooLargeError,
    StorageBusyError,
    StorageError,
    UnknownBackendError,
)
from .keys import create_key
from .models import CachedHTTPResponse, CachedRequest, CachedResponse, OriginalResponse
from .patcher import (
    clear,
    delete,
    disabled,
    enabled,
    get_cache,
    install_cache,
    is_installed,
    uninstall_cache,
)
from .policy import DO_NOT_CACHE, EXPIRE_IMMEDIATELY, NEVER_EXPIRE
from .serializers import (
    SerializerPipeline,
    Stage,
    init_serializer,
    json_serializer,
    pickle_serializer,
    safe_pickle_serializer,
)
from .session import CachedSession, CacheMixin
from .settings import DEFAULT_CACHE_NAME, DEFAULT_IGNORED_PARAMS, CacheSettings

__version__ = "0.1.0"

__all__ = [
    "BACKEND_CLASSES",
    "DEFAULT_CACHE_NAME",
    "DEFAULT_IGNORED_PARAMS",
    "DO_NOT_CACHE",
    "EXPIRE_IMMEDIATELY",
    "NEVER_EXPIRE",
    "BaseCache",
    "BaseStorage",
    "CacheError",
    "CacheMixin",
    "CacheSettings",
    "CachedHTTPResponse",
    "CachedRequest",
    "CachedResponse",
    "CachedSession",
    "DeserializationError",
    "DictStorage",
    "DynamoDbCache",
    "DynamoDbDict",
    "EntryTooLargeError",
    "FileCache",
    "FileDict",
    "GridFSCache",
    "GridFSDict",
    "MemoryCache",
    "MongoCache",
    "MongoDict",
    "OriginalResponse",
    "RedisCache",
    "RedisDict",
    "SQLiteCache",
    "SQLiteDict",
    "SerializerPipeline",
    "Stage",
    "StorageBusyError",
    "StorageError",
    "UnknownBackendError",
    "__version__",
    "clear",
    "create_key",
    "delete",
    "disabled",
    "enabled",
    "get_cache",
    "init_backend",
    "init_serializer",
    "install_cache",
    "is_installed",
    "json_serializer",
    "pickle_serializer",
    "safe_pickle_serializer",
    "uninstall_cache",
]
