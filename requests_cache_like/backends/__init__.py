"""Storage backends, chosen by name, URL or instance through :func:`init_backend`."""

from __future__ import annotations

import functools
import importlib
import inspect
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from ..exceptions import UnknownBackendError
from ..settings import DEFAULT_CACHE_NAME
from ._sqlite_connection import CONNECT_KWARGS
from .base import BaseCache, BaseStorage, DictStorage
from .dynamodb import DynamoDbCache, DynamoDbDict, EntryTooLargeError
from .filesystem import FileCache, FileDict
from .filesystem_lru import LRUFileDict
from .gridfs import GridFSCache, GridFSDict
from .limits import LIMIT_OPTIONS
from .memory import MemoryCache
from .mongodb import MongoCache, MongoDict
from .redis import RedisCache, RedisDict, RedisHashDict
from .sqlite import SQLiteCache, SQLiteDict

__all__ = [
    "BACKEND_CLASSES",
    "URL_SCHEMES",
    "BaseCache",
    "BaseStorage",
    "DictStorage",
    "DynamoDbCache",
    "DynamoDbDict",
    "EntryTooLargeError",
    "FileCache",
    "FileDict",
    "GridFSCache",
    "GridFSDict",
    "LRUFileDict",
    "MemoryCache",
    "MongoCache",
    "MongoDict",
    "RedisCache",
    "RedisDict",
    "RedisHashDict",
    "SQLiteCache",
    "SQLiteDict",
    "init_backend",
    "parse_backend_url",
]

#: Backend names accepted by ``backend=``. Client libraries are imported only when a backend
#: is created, so a missing one is reported with the extra that installs it.
BACKEND_CLASSES: dict[str, type[BaseCache]] = {
    "sqlite": SQLiteCache,
    "memory": MemoryCache,
    "filesystem": FileCache,
    "redis": RedisCache,
    "mongodb": MongoCache,
    "gridfs": GridFSCache,
    "dynamodb": DynamoDbCache,
}
_ALIASES = {"mongo": "mongodb", "file": "filesystem", "dynamo": "dynamodb"}
#: URL schemes accepted by ``backend=`` and the backend each one selects.
URL_SCHEMES: dict[str, str] = {
    "sqlite": "sqlite",
    "memory": "memory",
    "file": "filesystem",
    "redis": "redis",
    "rediss": "redis",
    "unix": "redis",
    "mongodb": "mongodb",
    "mongodb+srv": "mongodb",
    "mongodb+gridfs": "gridfs",
    "dynamodb": "dynamodb",
}
DEFAULT_BACKEND = "sqlite"
_TRUE = ("1", "true", "yes", "on")


def _bad_url(url: str, problem: str, example: str) -> UnknownBackendError:
    return UnknownBackendError(f"backend URL {url!r} {problem}; e.g. {example}")


def parse_backend_url(url: str) -> tuple[str, str | None, dict[str, Any]]:
    """Return ``(backend name, cache name or None, backend options)`` for a backend URL.

    ===================================  ==============================================
    ``sqlite:///relative.db``            SQLite file relative to the working directory
    ``sqlite:////var/cache/app.db``      SQLite file, absolute path
    ``sqlite://:memory:``, ``memory://``  in memory
    ``file:///var/cache/http``           filesystem directory
    ``redis://host:6379/0``              Redis (also ``rediss://``, ``unix://``)
    ``mongodb://host:27017/db``          MongoDB; ``?gridfs=true`` or
                                         ``mongodb+gridfs://host/db`` for GridFS
    ``dynamodb://table?region=eu-west-1&endpoint_url=http://localhost:8000``
    ===================================  ==============================================
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in URL_SCHEMES:
        raise UnknownBackendError(
            f"backend URL {url!r} has an unknown scheme {scheme!r}; accepted schemes: "
            f"{', '.join(s + '://' for s in URL_SCHEMES)}"
        )
    url, parts, limits = _limit_options(url, parts)
    name, cache_name, options = _parse_url(url, parts, scheme)
    return name, cache_name, {**options, **limits}


def _limit_options(url: str, parts: SplitResult) -> tuple[str, SplitResult, dict[str, Any]]:
    """Take ``max_size``, ``max_entries`` and ``eviction_policy`` out of a URL's query, for
    every scheme (``sqlite:///cache.db?max_size=500MB``)."""
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    limits: dict[str, Any] = {k: v for k, v in pairs if k in LIMIT_OPTIONS}
    if not limits:
        return url, parts, {}
    if "max_entries" in limits:
        if not limits["max_entries"].isdigit():
            raise _bad_url(url, "has a max_entries that is not a number", "?max_entries=1000")
        limits["max_entries"] = int(limits["max_entries"])
    parts = parts._replace(query=urlencode([(k, v) for k, v in pairs if k not in limits]))
    return urlunsplit(parts), parts, limits


def _parse_url(url: str, parts: SplitResult, scheme: str) -> tuple[str, str | None, dict[str, Any]]:
    name = URL_SCHEMES[scheme]
    query = dict(parse_qsl(parts.query))
    if name == "sqlite":
        return name, _sqlite_path(url, parts), {}
    if name == "memory":
        return name, None, {}
    if name == "filesystem":
        return name, _directory(url, parts), {}
    if name == "redis":
        return name, None, {"url": url}
    if name in ("mongodb", "gridfs"):
        return _parse_mongodb_url(url, parts, scheme, name, query)
    return _parse_dynamodb_url(url, parts, query)


def _sqlite_path(url: str, parts: SplitResult) -> str:
    path = unquote(parts.netloc + parts.path)
    if path in ("", "/"):
        raise _bad_url(
            url,
            "names no database file",
            "sqlite:///cache.db, sqlite:////var/cache/app.db or sqlite://:memory:",
        )
    if path.startswith("/") and not parts.netloc:
        path = path[1:]  # sqlite:///rel.db -> rel.db ; sqlite:////abs.db -> /abs.db
    return path


def _directory(url: str, parts: SplitResult) -> str:
    path = unquote(parts.netloc + parts.path)
    if not path:
        raise _bad_url(url, "names no directory", "file:///var/cache/http_cache")
    return path


def _parse_mongodb_url(
    url: str, parts: SplitResult, scheme: str, name: str, query: dict[str, str]
) -> tuple[str, str | None, dict[str, Any]]:
    use_gridfs = name == "gridfs" or query.pop("gridfs", "").lower() in _TRUE
    db_name = unquote(parts.path.lstrip("/")) or None
    real_scheme = "mongodb" if scheme == "mongodb+gridfs" else scheme
    host = urlunsplit((real_scheme, parts.netloc, parts.path, urlencode(query), ""))
    if not parts.netloc:
        raise _bad_url(url, "names no host", "mongodb://localhost:27017/http_cache")
    return ("gridfs" if use_gridfs else "mongodb"), db_name, {"host": host}


def _parse_dynamodb_url(
    url: str, parts: SplitResult, query: dict[str, str]
) -> tuple[str, str | None, dict[str, Any]]:
    # dynamodb://table?region=...&endpoint_url=...
    table = unquote(parts.netloc + parts.path).strip("/")
    if not table:
        raise _bad_url(url, "names no table", "dynamodb://http_cache?region=eu-west-1")
    options: dict[str, Any] = {}
    for key, value in query.items():
        if key in ("region", "region_name"):
            options["region_name"] = value
        elif key == "endpoint_url":
            options["endpoint_url"] = value
        else:
            raise _bad_url(
                url,
                f"has an unknown option {key!r} (accepted: region, endpoint_url)",
                "dynamodb://http_cache?region=eu-west-1",
            )
    return "dynamodb", table, options


#: Client options commonly passed through the server backends (MongoDB's are keyword-only and
#: not introspectable; boto3's and redis-py's are added from their signatures).
_CLIENT_OPTIONS = frozenset(
    {
        "host",
        "port",
        "username",
        "password",
        "authSource",
        "tls",
        "serverSelectionTimeoutMS",
        "connectTimeoutMS",
        "socketTimeoutMS",
        "replicaSet",
        "region_name",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "profile_name",
    }
)


@functools.cache
def known_backend_options() -> frozenset[str]:
    """Every option some backend takes (its constructor's, its connection's)."""
    names: set[str] = {"decode_content", "timeout", "check_same_thread", "lock", *LIMIT_OPTIONS}
    names.update(CONNECT_KWARGS)
    names.update(_CLIENT_OPTIONS)
    for module, attribute in (("redis", "Redis"), ("boto3.session", "Session")):
        try:  # the client libraries' own options, when they are installed
            client = getattr(importlib.import_module(module), attribute)
            names.update(inspect.signature(client.__init__).parameters)
        except (ImportError, AttributeError, TypeError, ValueError):
            continue
    for cls in BACKEND_CLASSES.values():
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is not None:
                names.update(inspect.signature(init).parameters)
    return frozenset(names - {"self", "args", "kwargs"})


def _options_beside_instance(backend: BaseCache, kwargs: dict[str, Any]) -> None:
    """Backend options given with a backend instance: requests-cache ignores them. So do we,
    with a warning, when each is an option of some backend; anything else is a TypeError."""
    known = known_backend_options()
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise TypeError(
            f"{type(backend).__name__} instance given with unknown option(s) "
            f"{', '.join(unknown)}: neither a cache setting nor an option of any backend"
        )
    warnings.warn(
        f"backend option(s) {', '.join(sorted(kwargs))} have no effect: the "
        f"{type(backend).__name__} instance is already built; pass them to its constructor",
        UserWarning,
        stacklevel=3,
    )


def init_backend(
    cache_name: str | Path = DEFAULT_CACHE_NAME,
    backend: str | BaseCache | type[BaseCache] | None = None,
    **kwargs: Any,
) -> BaseCache:
    """Return a cache for ``backend``: a name (``"sqlite"``, ``"redis"`` ...), a URL
    (``"sqlite:///path/cache.db"``, ``"redis://host:6379/0"`` ...), a :class:`BaseCache`
    instance (used as is) or subclass. ``None`` means SQLite. Extra keyword arguments go to
    the backend; an option it does not know is a TypeError."""
    if isinstance(backend, BaseCache):
        if kwargs:
            _options_beside_instance(backend, kwargs)
        return backend
    if isinstance(backend, type) and issubclass(backend, BaseCache):
        return backend(str(cache_name), **kwargs)
    if backend is None:
        backend = DEFAULT_BACKEND
    if not isinstance(backend, str):
        raise TypeError(
            f"backend={backend!r}; accepted: a name ({', '.join(BACKEND_CLASSES)}), a URL, "
            "a BaseCache instance or subclass, or None"
        )
    if "://" in backend or backend.lower().startswith(("file:", "sqlite:")):
        name, url_cache_name, url_options = parse_backend_url(backend)
        if url_cache_name is not None:
            cache_name = url_cache_name
        kwargs = {**url_options, **kwargs}
    else:
        name = _ALIASES.get(backend.lower(), backend.lower())
    if name not in BACKEND_CLASSES:
        raise UnknownBackendError(
            f"backend={backend!r} is not a known backend; accepted: "
            f"{', '.join(BACKEND_CLASSES)}, a URL ({', '.join(s + '://' for s in URL_SCHEMES)}), "
            "or a BaseCache instance"
        )
    return BACKEND_CLASSES[name](str(cache_name), **kwargs)
