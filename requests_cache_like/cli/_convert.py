"""``convert`` (a requests-cache 1.x cache into one of this package) and ``demo``."""

from __future__ import annotations

import click

from ._output import ProgressBar
from ._params import serializer_option

__all__ = ["convert", "demo"]


@click.command()
@click.argument("source")
@click.argument("dest")
@click.option(
    "--trust-pickle",
    is_flag=True,
    help="Read pickled entries (requests-cache's default format), as plain data only; "
    "for a cache nobody else could write to",
)
@click.option(
    "--source-name",
    metavar="NAME",
    help="SOURCE's Redis namespace or MongoDB database (default: http_cache)",
)
@click.option(
    "--dest-name",
    metavar="NAME",
    help="DEST's cache name when DEST is a URL: Redis namespace, MongoDB database, "
    "DynamoDB table (default: http_cache)",
)
@serializer_option("The format of DEST's entries, e.g. json (default: default)")
def convert(
    source: str,
    dest: str,
    trust_pickle: bool,
    source_name: str | None,
    dest_name: str | None,
    serializer: str | None,
) -> None:
    """Copy the responses of the requests-cache 1.x cache SOURCE into DEST.

    SOURCE is a requests-cache SQLite file, filesystem cache directory, or URL (redis://,
    mongodb://, mongodb+gridfs://, sqlite:///file, file:///dir); it is only read. DEST is
    a SQLite file, a directory (existing, or a path ending in /) or a backend URL."""
    from ..convert import convert as run

    with ProgressBar("converting") as bar:
        summary = run(
            source,
            dest,
            trust_pickle=trust_pickle,
            progress=bar,
            source_name=source_name,
            dest_name=dest_name,
            serializer=serializer,
        )
    click.echo("\n".join(summary.lines()))


@click.command()
@click.option(
    "--cache-name",
    metavar="NAME",
    default=None,
    help="A new SQLite cache to keep (NAME.sqlite; must not exist yet); default: a "
    "temporary cache, removed at the end",
)
@click.option(
    "--requests",
    "requests_count",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="How many fetches",
)
def demo(cache_name: str | None, requests_count: int) -> None:
    """Fetch a slow local URL through a new cache: a miss, then hits."""
    from ..demo import run_demo

    run_demo(cache_name, requests_count)
