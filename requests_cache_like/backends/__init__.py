"""Storage backends, chosen by name, URL or instance through :func:`init_backend`."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..exceptions import UnknownBackendError
from ..settings import DEFAULT_CACHE_NAME
from .base import BaseCache, BaseStorage, DictStorage
from .memory import MemoryCache
from .sqlite import SQLiteCache, SQLiteDict

__all__ = [
    "BACKEND_CLASSES",
    "BaseCache",
    "BaseStorage",
    "DictStorage",
    "MemoryCache",
    "SQLiteCache",
    "SQLiteDict",
    "init_backend",
    "parse_backend_url",
]

#: Backend names accepted by ``backend=``.
BACKEND_CLASSES: dict[str, type[BaseCache]] = {
    "memory": MemoryCache,
    "sqlite": SQLiteCache,
}
#: URL schemes accepted by ``backend=`` and the backend each one selects.
URL_SCHEMES: dict[str, str] = {
    "memory": "memory",
    "sqlite": "sqlite",
}
DEFAULT_BACKEND = "sqlite"


def parse_backend_url(url: str) -> tuple[str, dict[str, Any]]:
    """Return ``(backend name, options)`` for a backend URL.

    ``sqlite:///relative.db``, ``sqlite:////absolute/path.db``, ``sqlite://:memory:``,
    ``memory://``.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in URL_SCHEMES:
        raise UnknownBackendError(
            f"backend URL {url!r} has an unknown scheme {scheme!r}; accepted schemes: "
            f"{', '.join(s + '://' for s in URL_SCHEMES)}"
        )
    name = URL_SCHEMES[scheme]
    options: dict[str, Any] = {}
    if name == "sqlite":
        path = unquote(parts.netloc + parts.path)
        if path in ("", "/"):
            raise UnknownBackendError(
                f"backend URL {url!r} names no database file; e.g. sqlite:///cache.db "
                "(relative), sqlite:////var/cache/app.db (absolute) or sqlite://:memory:"
            )
        if path.startswith("/") and not parts.netloc:
            path = path[1:]  # sqlite:///rel.db -> rel.db ; sqlite:////abs.db -> /abs.db
        options["db_path"] = path
    return name, options


def init_backend(
    cache_name: str | Path = DEFAULT_CACHE_NAME,
    backend: str | BaseCache | type[BaseCache] | None = None,
    **kwargs: Any,
) -> BaseCache:
    """Return a cache for ``backend``: a name (``"sqlite"``, ``"memory"``), a URL
    (``"sqlite:///path/cache.db"``, ``"memory://"``), a :class:`BaseCache` instance (used as
    is) or subclass. ``None`` means SQLite. Extra keyword arguments go to the backend."""
    if isinstance(backend, BaseCache):
        if kwargs:
            raise TypeError(
                f"backend options {', '.join(sorted(kwargs))} cannot be applied to an existing "
                f"{type(backend).__name__} instance; pass them to its constructor instead"
            )
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
    if "://" in backend:
        name, url_options = parse_backend_url(backend)
        if name == "sqlite":
            cache_name = url_options.pop("db_path")
        kwargs = {**url_options, **kwargs}
    else:
        name = backend.lower()
    if name not in BACKEND_CLASSES:
        raise UnknownBackendError(
            f"backend={backend!r} is not a known backend; accepted: "
            f"{', '.join(BACKEND_CLASSES)}, a URL ({', '.join(s + '://' for s in URL_SCHEMES)}), "
            "or a BaseCache instance"
        )
    return BACKEND_CLASSES[name](str(cache_name), **kwargs)
