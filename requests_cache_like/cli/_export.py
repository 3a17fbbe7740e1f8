"""``export`` (HAR or JSON Lines) and ``import`` (JSON Lines, as ``export`` writes them).

A JSON Lines export holds one object per line: ``{"type": "response", "key", "format",
"response"}`` for each readable response (the response as the ``json`` serializer's plain
data: bodies in base64, times in ISO 8601) and ``{"type": "redirect", "key", "target"}``
for each redirect alias. ``import`` stores them under the same keys, so the sessions that
found them in the first cache find them in the second.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import IO, Any

import click

from ..exceptions import DeserializationError
from ..models import CachedResponse
from ..serializers import CattrStage
from ._entries import Entry, read_entries
from ._har import har_document, har_entries
from ._open import OpenedCache, open_cache, open_destination
from ._output import BadInput, ProgressBar
from ._params import CACHE_HELP, cache_target, serializer_option

__all__ = ["export", "import_"]


@cache
def _plain() -> CattrStage:
    """Responses to JSON-safe data and back (bytes as base64), as the json serializer does."""
    return CattrStage(binary=False)


def _responses(opened: OpenedCache) -> Iterator[Entry]:
    with ProgressBar("exporting") as bar:
        for entry in read_entries(opened, bar):
            response = entry.response
            if response is not None:
                if response.streamed is not None:  # exported whole: the body, not a reference
                    response._content = response.content
                    response.streamed = None
                yield entry


def _write_jsonl(opened: OpenedCache, out: IO[str]) -> int:
    count = 0
    for entry in _responses(opened):
        line = {
            "type": "response",
            "key": entry.key,
            "format": entry.format,
            "response": _plain().dumps(entry.response),
        }
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        count += 1
    redirects = opened.cache.redirects
    for alias in list(redirects):
        target = redirects.get_raw_default(alias)
        if isinstance(target, str):
            out.write(json.dumps({"type": "redirect", "key": alias, "target": target}) + "\n")
    return count


def _write_har(opened: OpenedCache, out: IO[str]) -> int:
    entries: list[dict[str, Any]] = []
    count = 0
    for entry in _responses(opened):
        assert entry.response is not None  # _responses yields responses only
        entries.extend(har_entries(entry.response, entry.key))
        count += 1
    json.dump(har_document(entries), out, ensure_ascii=False, indent=2)
    out.write("\n")
    return count


def _is_replaceable(output: str) -> bool:
    """True if ``output`` is a regular file or nothing yet: written beside and renamed over
    at the end. Standard output, a device (/dev/null) or a pipe is written in place."""
    path = Path(output)
    return output != "-" and (path.is_file() or not path.exists())


@click.command(epilog=CACHE_HELP)
@cache_target
@click.option(
    "--format",
    "format_",
    type=click.Choice(["har", "jsonl"], case_sensitive=False),
    default="har",
    show_default=True,
    help="HAR 1.2 (for browsers' developer tools) or JSON Lines (for import)",
)
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    default="-",
    help="Where to write (default: standard output)",
)
def export(cache: str, cache_name: str | None, format_: str, output: str) -> None:
    """Write the responses in CACHE as HAR or JSON Lines."""
    write = _write_har if format_.lower() == "har" else _write_jsonl
    # A file is opened only once the cache is, and replaced only once the export is complete.
    with (
        open_cache(cache, cache_name) as opened,
        click.open_file(output, "w", encoding="utf-8", atomic=_is_replaceable(output)) as out,
    ):
        count = write(opened, out)
    if output != "-":
        click.echo(f"exported {count} response(s) to {output}")


def _import_line(opened: OpenedCache, text: str) -> bool:
    """Store one line of an export; return True if it was a response."""
    line = json.loads(text)
    if not isinstance(line, dict):
        raise ValueError("not a JSON object")
    kind = line.get("type")
    if kind == "redirect":
        opened.cache.save_aliases([str(line["key"])], str(line["target"]))
        return False
    if kind != "response":
        raise ValueError(f"unknown type {kind!r}; accepted: response, redirect")
    response = _plain().loads(line["response"])
    if not isinstance(response, CachedResponse):
        raise ValueError("its response is not a stored response")
    key = line.get("key") or opened.cache.create_key(response.request)
    opened.cache.responses.set(str(key), response, response.expires)
    return True


def _line_count(source: IO[str]) -> int | None:
    """The number of lines of a file (then read again from its start); None for a pipe."""
    if not source.seekable():
        return None
    count = sum(1 for _ in source)
    source.seek(0)
    return count


@click.command("import", epilog=CACHE_HELP)
@cache_target
@click.argument("file", metavar="FILE", default="-")
@serializer_option("The format to store the responses in (default: default)")
def import_(cache: str, cache_name: str | None, file: str, serializer: str | None) -> None:
    """Store the responses of FILE (JSON Lines from export; - for standard input) in CACHE.

    CACHE is made if nothing is there yet (a SQLite file; a directory if it ends with /)."""
    imported = 0
    with click.open_file(file, "r", encoding="utf-8") as source:
        total = _line_count(source)
        with (
            open_destination(cache, cache_name, serializer) as opened,
            ProgressBar("importing") as bar,
        ):
            for number, text in enumerate(source, 1):
                if not text.strip():
                    continue
                try:
                    imported += _import_line(opened, text)
                except (ValueError, KeyError, TypeError, DeserializationError) as exc:
                    raise BadInput(
                        f"{file} line {number}: not an export line ({exc}); "
                        f"{imported} response(s) were imported before it",
                    ) from exc
                bar(number, total)
    click.echo(f"imported {imported} response(s) into {opened.description}")
