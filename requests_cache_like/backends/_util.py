"""Helpers shared by the backends that talk to a server or a file system."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import ModuleType
from typing import Any

from ..exceptions import StorageError
from ..models.response import utcnow

__all__ = ["import_client", "reuse_or_connect", "storage_error", "storage_errors", "ttl_seconds"]


def import_client(module: str, extra: str, backend: str) -> ModuleType:
    """Import a backend's client library, or explain which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"the {backend} backend needs the '{module.split('.')[0]}' package: "
            f"pip install 'requests-cache-like[{extra}]'"
        ) from exc


@contextmanager
def storage_errors(backend: str, errors: tuple[type[BaseException], ...]) -> Iterator[None]:
    """Re-raise the client's connection and server errors as :class:`StorageError`, so the
    session can tell "storage is down" from a bug, and callers need not import the client."""
    try:
        yield
    except StorageError:
        raise
    except errors as exc:
        raise storage_error(backend, exc) from exc


def storage_error(backend: str, exc: BaseException) -> StorageError:
    """The :class:`StorageError` a client's error ``exc`` becomes (see :func:`storage_errors`),
    for a hot path that catches it without a context manager."""
    return StorageError(f"{backend} storage error: {type(exc).__name__}: {exc}")


def ttl_seconds(expires: datetime | None, offset: int, now: datetime | None = None) -> int | None:
    """Seconds the store should keep an entry: until ``expires`` plus ``offset`` (so a stale
    entry can still be revalidated or served on error), or None to keep it."""
    if expires is None:
        return None
    remaining = (expires - (now or utcnow())).total_seconds() + offset
    return max(round(remaining), 1)  # 3659.98 s from now is 3660, as the user set it


def reuse_or_connect(
    owner: str, connection: Any, options: dict[str, Any], connect: Callable[[], Any]
) -> Any:
    """Return ``connection`` if one was given, else ``connect()``; a connection together with
    client options is a TypeError (the options would be silently unused)."""
    if connection is None:
        return connect()
    given = sorted(name for name, value in options.items() if value is not None)
    if given:
        raise TypeError(
            f"{owner} got both connection= and client options ({', '.join(given)}); pass one"
        )
    return connection
