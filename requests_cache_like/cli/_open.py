"""Opening the cache a command names: a path (SQLite file or filesystem directory) or a
backend URL, through the library's own :func:`~..backends.init_backend`.

A command that reads never makes a cache: a path that names no cache, a file that is not a
SQLite database of this package, a directory without ``responses/``, or a DynamoDB table
that does not exist, is a :class:`CacheNotFound` error, and nothing is written.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from attrs import define

from .._rc_sources import is_url
from ..backends import BaseCache, BaseStorage, FileDict, init_backend, parse_backend_url
from ..backends.filesystem import ENTRY_PATTERN
from ..exceptions import CacheError
from ..settings import DEFAULT_CACHE_NAME

__all__ = ["CacheNotFound", "OpenedCache", "open_cache"]

_SQLITE_HEADER = b"SQLite format 3\x00"
_OUR_COLUMNS = {"key", "value", "expires", "created_at", "size"}
#: The file extensions a filesystem cache gives its response files, by serializer.
_FILE_EXTENSIONS = (".json", ".yaml")


class CacheNotFound(CacheError):
    """The cache argument names no cache this command can use: nothing there, not a cache
    of this package, or a name that does not fit the URL (nothing was created)."""


class _PlainFileDict(FileDict):
    """The response files of a filesystem cache that have no extension (default, msgpack,
    pickle, compressed formats), leaving out the ``.json`` and ``.yaml`` ones."""

    def paths(self) -> Iterator[Path]:
        return (p for p in super().paths() if not p.name.endswith(_FILE_EXTENSIONS))


@define
class OpenedCache:
    """A cache opened by the command line: the cache, a description for messages, and the
    storages its responses are in (a filesystem cache has one per file extension)."""

    cache: BaseCache
    description: str
    storages: tuple[BaseStorage, ...]
    #: The SQLite file, for its size and to reclaim space after deleting.
    sqlite_path: Path | None = None

    def stored_keys(self) -> Iterator[tuple[BaseStorage, str]]:
        """Yield ``(storage, key)`` for every stored response."""
        for storage in self.storages:
            for key in list(storage):
                yield storage, key

    def close(self) -> None:
        """Close the cache's connections."""
        self.cache.close()

    def __enter__(self) -> OpenedCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _sqlite_file(path: Path) -> Path:
    """Check that ``path`` is a SQLite database holding this package's responses table."""
    with path.open("rb") as handle:
        header = handle.read(len(_SQLITE_HEADER))
    if header != _SQLITE_HEADER:
        raise CacheNotFound(f"{str(path)!r} is not a SQLite database")
    try:  # read-only: looking must not change the file
        with closing(sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)) as db:
            tables = {
                name: {row[1] for row in db.execute(f"PRAGMA table_info({name})")}
                for name in ("responses", "rcl_responses")
            }
    except sqlite3.Error as exc:
        raise CacheNotFound(f"{str(path)!r} is not a readable SQLite database: {exc}") from exc
    if not any(columns >= _OUR_COLUMNS for columns in tables.values()):
        raise CacheNotFound(
            f"{str(path)!r} is a SQLite database but not a requests_cache_like cache "
            "(a requests-cache one? see the convert command)"
        )
    if not path.suffix:
        raise CacheNotFound(
            f"{str(path)!r} has no suffix, and the library opens NAME as NAME.sqlite: "
            "rename it to end in .sqlite"
        )
    return path


def _existing_path(text: str) -> Path:
    """The SQLite file or cache directory ``text`` names (``NAME`` may mean NAME.sqlite)."""
    path = Path(text).expanduser()
    if path.is_dir():
        if (path / "responses").is_dir():
            return path
        if not path.suffix and path.with_suffix(".sqlite").is_file():
            return path.with_suffix(".sqlite")
        raise CacheNotFound(
            f"{text!r} is a directory but not a filesystem cache (it has no responses/)"
        )
    if path.is_file():
        return path
    if not path.suffix and path.with_suffix(".sqlite").is_file():
        return path.with_suffix(".sqlite")
    also = f" (nor {str(path.with_suffix('.sqlite'))!r})" if not path.suffix else ""
    raise CacheNotFound(f"no cache at {text!r}{also}")


def _file_storages(directory: Path) -> tuple[BaseStorage, ...]:
    """A storage per file extension found among the response files."""
    responses = directory / "responses"
    found = {ext for ext in _FILE_EXTENSIONS if next(responses.glob(ENTRY_PATTERN + ext), None)}
    storages: list[BaseStorage] = [_PlainFileDict(responses, serializer="default")]
    storages.extend(FileDict(responses, serializer="default", extension=e) for e in sorted(found))
    return tuple(storages)


def _open_path(path: Path, serializer: str | None) -> OpenedCache:
    options: dict[str, Any] = {"serializer": serializer} if serializer else {}
    if path.is_dir():
        cache = init_backend(str(path), "filesystem", **options)
        return OpenedCache(cache, str(path), _file_storages(path))
    cache = init_backend(str(_sqlite_file(path)), "sqlite", **options)
    return OpenedCache(cache, str(path), (cache.responses,), sqlite_path=path)


def _cache_name(url: str, url_name: str | None, cache_name: str | None) -> str:
    if url_name is not None and cache_name is not None and cache_name != url_name:
        raise CacheNotFound(f"{url!r} names the cache {url_name!r}: drop --cache-name")
    return url_name or cache_name or DEFAULT_CACHE_NAME


def _open_url(
    url: str, cache_name: str | None, serializer: str | None, create: bool
) -> OpenedCache:
    backend, url_name, _ = parse_backend_url(url)  # UnknownBackendError names the schemes
    if backend == "memory":
        raise CacheNotFound(f"{url!r}: an in-memory cache ends with the command")
    if backend in ("sqlite", "filesystem") and not create:
        if cache_name is not None:
            raise CacheNotFound(f"--cache-name applies to a server URL, not to {url!r}")
        return _open_path(_existing_path(str(url_name)), serializer)
    name = _cache_name(url, url_name, cache_name)
    options: dict[str, Any] = {"serializer": serializer} if serializer else {}
    if backend == "dynamodb":
        options["create_table"] = create
    cache = init_backend(name, url, **options)
    description = f"{url} ({name})" if url_name is None else url
    return OpenedCache(cache, description, (cache.responses,))


def open_cache(
    target: str, cache_name: str | None = None, serializer: str | None = None
) -> OpenedCache:
    """Return the existing cache ``target`` names: a SQLite file (``NAME`` or
    ``NAME.sqlite``), a filesystem cache directory, or a backend URL whose cache name, where
    the URL gives none, is ``cache_name`` (default ``http_cache``)."""
    if is_url(target):
        return _open_url(target, cache_name, serializer, create=False)
    if cache_name is not None:
        raise CacheNotFound(f"--cache-name applies to a server URL, not to the path {target!r}")
    return _open_path(_existing_path(target), serializer)


def open_destination(
    target: str, cache_name: str | None = None, serializer: str | None = None
) -> OpenedCache:
    """Return the cache ``target`` names, made if nothing is there yet (what is there must
    be a cache): a path ending with ``/`` makes a filesystem cache, another path a SQLite
    file; a URL as in :func:`open_cache`, a DynamoDB table being created if missing."""
    if is_url(target):
        backend, url_name, _ = parse_backend_url(target)
        if backend not in ("sqlite", "filesystem"):
            return _open_url(target, cache_name, serializer, create=True)
        target = str(url_name) + ("/" if backend == "filesystem" else "")
    if cache_name is not None:
        raise CacheNotFound(f"--cache-name applies to a server URL, not to the path {target!r}")
    path = Path(target).expanduser()
    as_sqlite = path if path.suffix else path.with_suffix(".sqlite")
    if target.endswith(("/", os.sep)):
        if not path.exists() or (path.is_dir() and not any(path.iterdir())):
            (path / "responses").mkdir(parents=True)
    elif not path.exists() and not as_sqlite.exists():
        init_backend(str(path), "sqlite").close()  # named as the library names it
    return _open_path(_existing_path(target), serializer)
