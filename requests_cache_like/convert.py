"""Convert a requests-cache 1.x cache into a cache of this package.

```python
from requests_cache_like.convert import convert

summary = convert("http_cache.sqlite", "converted.sqlite", trust_pickle=True)
print("\\n".join(summary.lines()))
```

Every stored response is read in requests-cache's own layout (see :mod:`._rc_sources`), its
format recognised from its bytes (see :mod:`._rc_entries`), and stored again under the key
this package gives the request it answers, so a default :class:`CachedSession` on the
destination answers the same requests from the cache. The source is only read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from attrs import define, field

from ._rc_entries import EntrySkipped, EntryUnreadable, read_entry
from ._rc_sources import Source, is_url, open_source
from .backends import BaseCache, init_backend, parse_backend_url
from .exceptions import ConvertError, EntryTooLargeError, UnknownBackendError
from .models import CachedRequest, CachedResponse
from .models.response import utcnow
from .settings import DEFAULT_CACHE_NAME

__all__ = ["ConvertError", "ConvertSummary", "ProgressCallback", "convert", "open_destination"]

logger = logging.getLogger(__name__)

#: Called after each stored response with ``(responses done, total or None if unknown)``.
ProgressCallback = Callable[[int, int | None], None]
DUPLICATE_REASON = "same request as a newer entry (the newer one was kept)"
TOO_LARGE_REASON = "too large for the destination"


@define
class ConvertSummary:
    """What :func:`convert` did: counts of responses and redirect aliases, and why entries
    were skipped or could not be read (reason → count)."""

    source: str
    dest: str
    #: Responses stored in the destination (one per distinct request).
    converted: int = 0
    #: Of those, the ones already expired (kept: they can still be revalidated).
    expired: int = 0
    #: Redirect aliases stored: each redirect a converted response followed.
    redirects: int = 0
    #: The source's redirect aliases whose response was not converted.
    redirects_dropped: int = 0
    skipped: dict[str, int] = field(factory=dict)
    unreadable: dict[str, int] = field(factory=dict)

    @property
    def skipped_count(self) -> int:
        """How many stored responses were deliberately not converted."""
        return sum(self.skipped.values())

    @property
    def unreadable_count(self) -> int:
        """How many stored entries could not be read as responses."""
        return sum(self.unreadable.values())

    def lines(self) -> list[str]:
        """Return the summary as lines of text, for a terminal or a log."""
        lines = [f"converted:  {self.converted} response(s) from {self.source} to {self.dest}"]
        if self.expired:
            lines.append(f"            {self.expired} of them expired (kept for revalidation)")
        lines.append(f"redirects:  {self.redirects} alias(es) re-created")
        if self.redirects_dropped:
            lines.append(
                f"            {self.redirects_dropped} dropped: their response was not converted"
            )
        for title, reasons in (("skipped:", self.skipped), ("unreadable:", self.unreadable)):
            lines.append(f"{title:<11} {sum(reasons.values())}")
            lines.extend(f"  {count} {reason}" for reason, count in sorted(reasons.items()))
        return lines


def _count(counts: dict[str, int], reason: str) -> None:
    counts[reason] = counts.get(reason, 0) + 1


def open_destination(
    dest: str | os.PathLike[str] | BaseCache,
    dest_name: str | None = None,
    serializer: str | None = None,
) -> BaseCache:
    """Return the cache to convert into: a :class:`BaseCache` as it is; a backend URL
    (``redis://host/0``, ``sqlite:///path.db`` ...) with ``dest_name`` as its cache name
    (Redis namespace, MongoDB database ...); an existing directory (or a path ending with a
    separator) as a filesystem cache; any other path as a SQLite file."""
    if isinstance(dest, BaseCache):
        return dest
    text = os.fspath(dest)
    options: dict[str, Any] = {"serializer": serializer} if serializer else {}
    try:
        if is_url(text):
            if parse_backend_url(text)[0] == "memory":
                raise ConvertError(f"DEST {text!r}: an in-memory cache ends with the command")
            return init_backend(dest_name or DEFAULT_CACHE_NAME, text, **options)
        if dest_name is not None:
            raise ConvertError(
                f"a DEST name ({dest_name!r}) applies only to a DEST URL, not to the path {text!r}"
            )
        path = Path(text).expanduser()
        if path.is_dir() or text.endswith(("/", os.sep)):
            return init_backend(str(path), "filesystem", **options)
        return init_backend(str(path), "sqlite", **options)
    except (UnknownBackendError, TypeError, ValueError) as exc:
        if isinstance(exc, ConvertError):
            raise
        raise ConvertError(f"DEST {text!r}: {exc}") from exc


def _sent_request(response: CachedResponse) -> CachedRequest:
    """The request the response answers: after redirects, the first hop's (requests gives a
    response the request of its last hop), as requests-cache made its key from it."""
    return response.history[0].request if response.history else response.request


@define
class _Converter:
    """One conversion's state: the destination, the keys written, the counts."""

    cache: BaseCache
    summary: ConvertSummary
    trust_pickle: bool
    now: datetime = field(factory=utcnow)
    #: Destination key -> when its response was created, and whether it has expired.
    written: dict[str, tuple[datetime, bool]] = field(factory=dict)
    aliases: set[str] = field(factory=set)
    #: Source keys whose response is in the destination (for the source's redirect aliases).
    done: set[str] = field(factory=set)

    def entry(self, source_key: str, value: Any) -> None:
        """Convert one stored response, or count why not."""
        try:
            response = read_entry(value, self.trust_pickle)
        except EntrySkipped as skip:
            _count(self.summary.skipped, skip.reason)
            return
        except EntryUnreadable as error:
            logger.info("requests-cache entry %s not converted: %s", source_key, error.reason)
            _count(self.summary.unreadable, error.reason)
            return
        key = self.cache.create_key(_sent_request(response))
        newer = self.written.get(key)
        if newer is not None:
            _count(self.summary.skipped, DUPLICATE_REASON)
            if newer[0] >= response.created_at:
                self.done.add(source_key)
                return
        try:
            self.cache.responses.set(key, response, response.expires)
        except EntryTooLargeError:
            _count(self.summary.skipped, TOO_LARGE_REASON)
            return
        expired = response.expires is not None and response.expires <= self.now
        self.written[key] = (response.created_at, expired)
        self.done.add(source_key)
        aliases = {self.cache.create_key(hop.request) for hop in response.history} - {key}
        self.cache.save_aliases(aliases, key)
        self.aliases |= aliases

    def finish(self, source: Source) -> ConvertSummary:
        """Count the source's redirect aliases and what was written; return the summary."""
        for alias, target in source.redirects():
            if alias != target and target not in self.done:
                self.summary.redirects_dropped += 1
        self.summary.converted = len(self.written)
        self.summary.redirects = len(self.aliases)
        self.summary.expired = sum(expired for _, expired in self.written.values())
        return self.summary


def convert(
    source: str | os.PathLike[str],
    dest: str | os.PathLike[str] | BaseCache,
    trust_pickle: bool = False,
    progress: ProgressCallback | None = None,
    *,
    source_name: str | None = None,
    dest_name: str | None = None,
    serializer: str | None = None,
) -> ConvertSummary:
    """Return a summary of converting the requests-cache 1.x cache ``source`` into ``dest``.

    :param source: A requests-cache SQLite file, filesystem cache directory, or backend URL
        (``redis://``, ``mongodb://``, ``mongodb+gridfs://``, ``sqlite://``, ``file://``).
    :param dest: Where to write: see :func:`open_destination`.
    :param trust_pickle: Read pickled entries (requests-cache's default format). Without it
        they are skipped, since loading pickle can run code; with it they are still loaded
        as plain data only (requests-cache 1.x pickles dicts), never as objects.
    :param progress: Called after each stored response, see :data:`ProgressCallback`.
    :param source_name: The source's Redis namespace or MongoDB database (default
        ``http_cache``, requests-cache's; a MongoDB URL's path also names it).
    :param dest_name: The destination's cache name when ``dest`` is a URL.
    :param serializer: The destination's serializer (default: this package's default).
    :raises ConvertError: ``source`` or ``dest`` names nothing that can be converted.

    The source is only read. Redirect aliases are made again from the redirects each
    converted response followed; an alias of the source whose response was not converted is
    dropped and counted.
    """
    reader = open_source(os.fspath(source), source_name)
    try:
        total = reader.count()  # reaches a server source before the destination is made
        cache = open_destination(dest, dest_name, serializer)
        if isinstance(dest, BaseCache):
            description = f"{type(dest).__name__}({dest.cache_name!r})"
        else:
            description = os.fspath(dest)
        summary = ConvertSummary(source=reader.description, dest=description)
        converter = _Converter(cache, summary, trust_pickle)
        try:
            for done, (key, value) in enumerate(reader.responses(), 1):
                converter.entry(key, value)
                if progress is not None:
                    progress(done, total)
            return converter.finish(reader)
        finally:
            if not isinstance(dest, BaseCache):
                cache.close()
    finally:
        reader.close()
