"""The commands that look: ``info``, ``urls`` and ``show``."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import datetime

import click
from attrs import define, field
from requests import Request
from rich.console import Console
from rich.table import Table

from ..models import CachedResponse
from ._entries import INVALID, RESPONSE, UNSUPPORTED, Entry, now, read_entries, read_entry
from ._har import body_text
from ._open import OpenedCache, open_cache
from ._output import CliError, ProgressBar, is_terminal, stamp
from ._params import CACHE_HELP, cache_target

__all__ = ["info", "show", "urls"]


@define
class _Stats:
    """What ``info`` reports, gathered in one pass over the entries."""

    fresh: int = 0
    expired: int = 0
    size: int = 0
    oldest: datetime | None = None
    newest: datetime | None = None
    formats: Counter[str] = field(factory=Counter)
    unreadable: Counter[str] = field(factory=Counter)

    def add(self, entry: Entry, moment: datetime) -> None:
        """Count one entry."""
        self.size += entry.size
        if entry.format is not None:
            self.formats[entry.format] += 1
        if entry.status in (INVALID, UNSUPPORTED):
            self.unreadable[entry.status] += 1
        response = entry.response
        if response is None:
            return
        if entry.is_expired(moment):
            self.expired += 1
        else:
            self.fresh += 1
        created = response.created_at
        self.oldest = created if self.oldest is None else min(self.oldest, created)
        self.newest = created if self.newest is None else max(self.newest, created)

    def rows(self, opened: OpenedCache, redirects: int) -> list[tuple[str, str]]:
        """The report as (label, value) rows."""
        formats = ", ".join(f"{name} {count}" for name, count in sorted(self.formats.items()))
        unreadable = sum(self.unreadable.values())
        detail = ", ".join(f"{count} {kind}" for kind, count in sorted(self.unreadable.items()))
        rows = [
            ("cache", opened.description),
            (
                "responses",
                f"{self.fresh + self.expired} ({self.fresh} fresh, {self.expired} expired)",
            ),
            ("redirects", str(redirects)),
            ("size", f"{self.size} bytes stored"),
        ]
        if opened.sqlite_path is not None:
            rows.append(("file size", f"{opened.sqlite_path.stat().st_size} bytes"))
        rows += [
            ("oldest", stamp(self.oldest)),
            ("newest", stamp(self.newest)),
            ("formats", formats or "-"),
            ("unreadable", f"{unreadable} ({detail})" if unreadable else "0"),
        ]
        return rows


def _print_rows(rows: list[tuple[str, str]]) -> None:
    if not is_terminal(sys.stdout):
        for label, value in rows:
            click.echo(f"{label + ':':<10} {value}")
        return
    table = Table(show_header=False, box=None, padding=(0, 1))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(label, value)
    Console(file=sys.stdout, highlight=False).print(table)


@click.command(epilog=CACHE_HELP)
@cache_target
def info(cache: str, cache_name: str | None) -> None:
    """Counts, size, age and formats of the responses in CACHE.

    Every entry is read with the format that wrote it; "unreadable" counts the invalid
    entries (damaged, or of no known format) and the unsupported ones (a known format that
    this installation cannot read)."""
    stats = _Stats()
    moment = now()
    with open_cache(cache, cache_name) as opened:
        with ProgressBar("reading") as bar:
            for entry in read_entries(opened, bar):
                stats.add(entry, moment)
        rows = stats.rows(opened, len(opened.cache.redirects))
    _print_rows(rows)


@click.command(epilog=CACHE_HELP)
@cache_target
def urls(cache: str, cache_name: str | None) -> None:
    """The URLs of the responses in CACHE, sorted, one per line."""
    with open_cache(cache, cache_name) as opened, ProgressBar("reading") as bar:
        found = sorted(
            {e.response.url for e in read_entries(opened, bar) if e.response and e.response.url}
        )
    if not is_terminal(sys.stdout):
        for url in found:
            click.echo(url)
        return
    console = Console(file=sys.stdout)
    for url in found:
        console.print(url, soft_wrap=True, markup=False)
    Console(file=sys.stderr).print(f"{len(found)} URL(s)", style="dim")


def _keyed(opened: OpenedCache, key: str) -> Entry | None:
    """The response stored under ``key``, or under the response ``key`` is an alias of."""
    target = opened.cache.redirects.get_raw_default(key)
    for candidate in (key, target):
        if not isinstance(candidate, str):
            continue
        for storage in opened.storages:
            entry = read_entry(storage, candidate) if candidate in storage else None
            if entry is not None and entry.status == RESPONSE:
                return entry
    return None


def find_response(opened: OpenedCache, url: str, method: str) -> Entry | None:
    """Return the newest entry answering ``method url``: by the key a default session gives
    the request, else by looking at every entry's URLs (other key settings, redirects)."""
    entry = _keyed(opened, opened.cache.create_key(Request(method, url)))
    if entry is not None:
        return entry
    with ProgressBar("searching") as bar:
        matches = [
            e
            for e in read_entries(opened, bar)
            if e.response is not None and e.response.request.method == method and url in e.urls()
        ]
    if not matches:
        return None
    return max(matches, key=lambda e: e.response.created_at if e.response else datetime.min)


def _body_preview(response: CachedResponse, limit: int) -> list[str]:
    # A streamed body is only read as far as the preview needs.
    body = response.raw.read(limit * 4 + 4) if response.streamed else response.content or b""
    if not body:
        return ["body:     (empty)"]
    text = body_text(body, response.headers.get("Content-Type"))
    if text is None:
        return [f"body:     ({response.size} bytes, binary)"]
    shown = f", first {limit} characters shown" if len(text) > limit else ""
    return [f"body:     ({response.size} bytes{shown})", text[:limit]]


def _describe(entry: Entry, response: CachedResponse, limit: int) -> list[str]:
    if response.expires is None:
        expires = "never"
    else:
        state = "expired" if entry.is_expired(now()) else "fresh"
        expires = f"{stamp(response.expires)} ({state})"
    lines = [
        f"{response.request.method} {response.url}",
        f"status:   {response.status_code} {response.reason or ''}".rstrip(),
        f"key:      {entry.key}",
        f"format:   {entry.format}",
        f"created:  {stamp(response.created_at)}",
        f"expires:  {expires}",
        "headers:",
        *(f"  {name}: {value}" for name, value in response.headers.items()),
    ]
    if response.history:
        lines.insert(2, f"via:      {' -> '.join(hop.url for hop in response.history)}")
    return lines + _body_preview(response, limit)


@click.command(epilog=CACHE_HELP)
@cache_target
@click.argument("url")
@click.option("--method", default="GET", show_default=True, help="The request's method")
@click.option(
    "--preview",
    metavar="CHARS",
    type=click.IntRange(min=0),
    default=2000,
    show_default=True,
    help="How much of a text body to show",
)
def show(cache: str, cache_name: str | None, url: str, method: str, preview: int) -> None:
    """The cached response to METHOD URL: status, headers and the start of the body."""
    with open_cache(cache, cache_name) as opened:
        entry = find_response(opened, url, method.upper())
    if entry is None or entry.response is None:
        raise CliError(f"no cached response to {method.upper()} {url} in {opened.description}")
    for line in _describe(entry, entry.response, preview):
        click.echo(line)
