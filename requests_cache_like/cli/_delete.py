"""The commands that remove: ``delete`` (by condition) and ``clear`` (everything)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

import click
from attrs import define

from ..backends import BaseStorage, SQLiteCache
from ._entries import INVALID, Entry, now, read_entries
from ._open import OpenedCache, open_cache
from ._output import BadInput, ProgressBar, is_terminal
from ._params import CACHE_HELP, cache_target, parse_duration

__all__ = ["clear", "delete"]


@define(frozen=True)
class Criteria:
    """What ``delete`` deletes: entries that meet any one of these."""

    expired: bool = False
    invalid: bool = False
    older_than: timedelta | None = None
    urls: frozenset[str] = frozenset()
    patterns: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(
            self.expired
            or self.invalid
            or self.older_than is not None
            or self.urls
            or self.patterns
        )

    def matches(self, entry: Entry, moment: datetime) -> bool:
        """True if ``entry`` is to be deleted. Only an entry that no known format reads is
        invalid: one of a known format this installation cannot read is always kept."""
        if entry.status == INVALID:
            return self.invalid
        response = entry.response
        if response is None:
            return False
        if self.expired and entry.is_expired(moment):
            return True
        if self.older_than is not None and response.created_at < moment - self.older_than:
            return True
        answered = entry.urls()
        if self.urls & answered:
            return True
        return any(fnmatchcase(url, pattern) for url in answered for pattern in self.patterns)


def _remove(opened: OpenedCache, doomed: list[Entry]) -> None:
    """Delete the entries, the redirect aliases that led to them, and reclaim SQLite space."""
    by_storage: dict[int, tuple[BaseStorage, list[str]]] = {}  # storages are not hashable
    for entry in doomed:
        by_storage.setdefault(id(entry.storage), (entry.storage, []))[1].append(entry.key)
    for storage, keys in by_storage.values():
        storage.bulk_delete(keys)
    gone = {entry.key for entry in doomed}
    redirects = opened.cache.redirects
    redirects.bulk_delete([a for a in list(redirects) if redirects.get_raw_default(a) in gone])
    if isinstance(opened.cache, SQLiteCache) and doomed:
        opened.cache.responses.vacuum()


@click.command(epilog=CACHE_HELP)
@cache_target
@click.option("--expired", is_flag=True, help="Responses past their expiry time")
@click.option(
    "--invalid",
    is_flag=True,
    help="Entries that no known format reads (damaged); entries of a known format are kept",
)
@click.option(
    "--older-than",
    metavar="AGE",
    callback=parse_duration,
    help="Responses created longer ago than AGE: 7d, 12h, 30m, 90s, 2w (a bare number is s)",
)
@click.option("--url", "urls", metavar="URL", multiple=True, help="Responses to URL (repeatable)")
@click.option(
    "--match",
    "patterns",
    metavar="GLOB",
    multiple=True,
    help="Responses whose URL matches GLOB, e.g. 'https://api.example.org/*' (repeatable)",
)
@click.option("--dry-run", is_flag=True, help="List what would be deleted, delete nothing")
def delete(
    cache: str,
    cache_name: str | None,
    expired: bool,
    invalid: bool,
    older_than: timedelta | None,
    urls: tuple[str, ...],
    patterns: tuple[str, ...],
    dry_run: bool,
) -> None:
    """Delete the responses in CACHE that meet any of the conditions given (at least one)."""
    criteria = Criteria(expired, invalid, older_than, frozenset(urls), patterns)
    if not criteria:
        raise click.UsageError(
            "give at least one of --expired, --invalid, --older-than, --url, --match"
        )
    moment = now()
    with open_cache(cache, cache_name) as opened:
        with ProgressBar("reading") as bar:
            doomed = [e for e in read_entries(opened, bar) if criteria.matches(e, moment)]
        if dry_run:
            for entry in doomed:
                label = entry.response.url if entry.response is not None else entry.key
                click.echo(f"would delete {label} ({entry.status})")
            click.echo(f"would delete {len(doomed)} response(s) (dry run: nothing deleted)")
            return
        _remove(opened, doomed)
    click.echo(f"deleted {len(doomed)} response(s)")


@click.command(epilog=CACHE_HELP)
@cache_target
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation")
def clear(cache: str, cache_name: str | None, yes: bool) -> None:
    """Delete every response and redirect in CACHE (asks first, unless --yes)."""
    with open_cache(cache, cache_name) as opened:
        count = sum(1 for _ in opened.stored_keys())
        if not yes:
            if not is_terminal(sys.stdin):
                raise BadInput(
                    "clear asks for confirmation, and input is not a terminal: pass --yes"
                )
            click.confirm(f"Delete all {count} response(s) in {opened.description}?", abort=True)
        for storage in opened.storages:
            storage.clear()
        opened.cache.redirects.clear()
    click.echo(f"cleared {count} response(s)")
