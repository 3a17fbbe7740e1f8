"""Patch ``requests`` globally: every ``requests.get(...)`` and ``requests.Session()`` in the
process goes through one shared cache.

Patching is process-wide and not thread-safe to toggle; prefer a :class:`CachedSession` in
libraries, and use this in scripts and tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import requests.sessions
from requests import Session

from .arguments import SETTING_ARGS, unknown_argument_error
from .backends import BaseCache, init_backend
from .session import CachedSession
from .settings import DEFAULT_CACHE_NAME

__all__ = [
    "clear",
    "delete",
    "disabled",
    "enabled",
    "get_cache",
    "install_cache",
    "is_installed",
    "uninstall_cache",
]

_ORIGINAL_SESSION = requests.Session


def install_cache(
    cache_name: str | Path = DEFAULT_CACHE_NAME,
    backend: str | BaseCache | None = None,
    session_factory: type[CachedSession] = CachedSession,
    **kwargs: Any,
) -> None:
    """Make every ``requests`` session in this process a cached one, sharing one cache.

    Takes the arguments of :class:`CachedSession`; ``session_factory`` may be another
    :class:`CacheMixin` subclass.
    """
    settings = {k: v for k, v in kwargs.items() if k in SETTING_ARGS}
    backend_options = {k: v for k, v in kwargs.items() if k not in SETTING_ARGS}
    try:
        cache = init_backend(cache_name, backend, **backend_options)
    except TypeError as exc:
        raise unknown_argument_error("install_cache", backend_options, backend, exc) from None
    kwargs = settings
    # Build one session now so that bad settings fail here, not on the first request. With a
    # cleanup_interval it stays open while installed, to run the background cleanup: the
    # sessions requests.get() makes are closed at once.
    try:
        first = session_factory(backend=cache, **{**kwargs, "autoclose": False})
    except Exception:
        if cache is not backend:  # made here: do not leave its connection open
            cache.close()
        raise
    if first.cleanup_interval is None:
        first.close()

    class _InstalledSession(session_factory):  # type: ignore[valid-type, misc]
        """A cached session bound to the installed cache (closing it keeps the cache open)."""

        def __init__(self) -> None:
            super().__init__(backend=cache, **{**kwargs, "autoclose": False})

    _InstalledSession.installed_cache = cache
    _InstalledSession.cleanup_session = first
    _patch_session(_InstalledSession)


def uninstall_cache() -> None:
    """Restore plain ``requests`` (the cache is left open; ``get_cache()`` returns None)."""
    _stop_cleanup()
    _patch_session(_ORIGINAL_SESSION)


def _stop_cleanup() -> None:
    """Stop the background cleanup of the installed cache, if it has one."""
    first = getattr(requests.Session, "cleanup_session", None)
    if first is not None:
        first.close()


def _patch_session(session_class: type[Session]) -> None:
    requests.Session = session_class  # type: ignore[misc]
    requests.sessions.Session = session_class  # type: ignore[misc]


def is_installed() -> bool:
    """True if :func:`install_cache` is in effect."""
    return requests.Session is not _ORIGINAL_SESSION


def get_cache() -> BaseCache | None:
    """Return the installed cache, or None when none is installed."""
    return getattr(requests.Session, "installed_cache", None)


@contextmanager
def disabled() -> Iterator[None]:
    """Within this block, ``requests`` runs uncached; the installed cache comes back after."""
    previous = requests.Session
    _patch_session(_ORIGINAL_SESSION)
    try:
        yield
    finally:
        _patch_session(previous)


@contextmanager
def enabled(*args: Any, **kwargs: Any) -> Iterator[None]:
    """Within this block, ``requests`` is cached (arguments as :func:`install_cache`)."""
    previous = requests.Session
    install_cache(*args, **kwargs)
    try:
        yield
    finally:
        _stop_cleanup()
        _patch_session(previous)


def clear() -> None:
    """Clear the installed cache, if any."""
    cache = get_cache()
    if cache is not None:
        cache.clear()


def delete(*args: Any, **kwargs: Any) -> None:
    """Delete from the installed cache (arguments as :meth:`BaseCache.delete`)."""
    cache = get_cache()
    if cache is not None:
        cache.delete(*args, **kwargs)
