"""Command line: ``python -m requests_cache_like COMMAND`` (or ``requests-cache-like``).

Commands: ``demo`` (miss then hit against a local origin); for an SQLite cache file
``info``, ``urls``, ``delete`` and ``clear``; and ``convert SOURCE DEST``, which copies a
requests-cache 1.x cache into one of this package (with a progress bar on a terminal when
tqdm is installed: extra ``cli``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .backends.sqlite import SQLiteCache
from .exceptions import ConvertError, StorageError

__all__ = ["main"]


def _open(args: argparse.Namespace) -> SQLiteCache:
    path = Path(args.cache)
    if not path.suffix:
        path = path.with_suffix(".sqlite")
    if not path.is_file():
        raise SystemExit(f"requests-cache-like: no cache file at {str(path)!r}")
    return SQLiteCache(path, serializer=args.serializer)


def _info(args: argparse.Namespace) -> int:
    cache = _open(args)
    total = cache.count()
    fresh = cache.count(expired=False)
    print(f"cache:     {cache.db_path}")
    print(f"responses: {total} ({fresh} fresh, {total - fresh} expired)")
    print(f"redirects: {len(cache.redirects)}")
    print(f"file size: {cache.responses.size()} bytes")
    cache.close()
    return 0


def _urls(args: argparse.Namespace) -> int:
    cache = _open(args)
    for url in cache.urls():
        print(url)
    cache.close()
    return 0


def _delete(args: argparse.Namespace) -> int:
    if not (args.expired or args.invalid or args.older_than is not None or args.url):
        print(
            "delete: give --expired, --invalid, --older-than SECONDS or --url URL", file=sys.stderr
        )
        return 2
    cache = _open(args)
    before = cache.count()
    cache.delete(
        expired=args.expired,
        invalid=args.invalid,
        older_than=args.older_than,
        urls=args.url or None,
        vacuum=True,
    )
    print(f"deleted {before - cache.count()} response(s)")
    cache.close()
    return 0


def _clear(args: argparse.Namespace) -> int:
    cache = _open(args)
    cache.clear()
    cache.close()
    print("cleared")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(args.cache_name, args.requests)
    return 0


class _ProgressBar:
    """A tqdm bar on stderr, made at the first update, when the total is known."""

    def __init__(self, tqdm: Any) -> None:
        self._tqdm = tqdm
        self._bar: Any = None

    def __call__(self, done: int, total: int | None) -> None:
        if self._bar is None:
            self._bar = self._tqdm(total=total, unit=" responses", file=sys.stderr, leave=False)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _progress_bar() -> _ProgressBar | None:
    """A progress bar when stderr is a terminal and tqdm is installed, else None."""
    if not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return _ProgressBar(tqdm)


def _convert(args: argparse.Namespace) -> int:
    from .convert import convert

    bar = _progress_bar()
    try:
        summary = convert(
            args.source,
            args.dest,
            trust_pickle=args.trust_pickle,
            progress=bar,
            source_name=args.source_name,
            dest_name=args.dest_name,
            serializer=args.serializer,
        )
    except ConvertError as exc:
        print(f"requests-cache-like convert: error: {exc}", file=sys.stderr)
        return 2
    except (StorageError, ImportError, OSError) as exc:
        print(f"requests-cache-like convert: failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if bar is not None:
            bar.close()
    print("\n".join(summary.lines()))
    return 0


def _add_convert(commands: Any) -> None:
    convert = commands.add_parser(
        "convert",
        help="copy a requests-cache 1.x cache into a cache of this package",
        description="Copy the responses of a requests-cache 1.x cache into a cache of this "
        "package, keyed so that a default CachedSession on DEST answers the same requests. "
        "SOURCE is only read.",
    )
    convert.add_argument(
        "source",
        help="requests-cache SQLite file, filesystem cache directory, or URL (redis://host/0, "
        "mongodb://host/db, mongodb+gridfs://host/db, sqlite:///file, file:///dir)",
    )
    convert.add_argument(
        "dest",
        help="SQLite file (default), existing directory or path ending in / (filesystem), "
        "or a backend URL (redis://, mongodb://, dynamodb://, ...)",
    )
    convert.add_argument(
        "--trust-pickle",
        action="store_true",
        help="read pickled entries (requests-cache's default format); loading pickle can "
        "run code, so only for a cache nobody else could write to",
    )
    convert.add_argument(
        "--source-name",
        metavar="NAME",
        help="SOURCE's Redis namespace or MongoDB database (default: http_cache)",
    )
    convert.add_argument(
        "--dest-name",
        metavar="NAME",
        help="DEST's cache name when DEST is a URL: Redis namespace, MongoDB database, "
        "DynamoDB table (default: http_cache)",
    )
    convert.add_argument(
        "--serializer", default=None, help="serializer for DEST, e.g. json (default: default)"
    )
    convert.set_defaults(func=_convert)


def _add_serializer(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--serializer",
        default=None,
        help="serializer the cache was written with, e.g. json or default+zstd (default: default)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for the command line."""
    parser = argparse.ArgumentParser(
        prog="requests-cache-like",
        description="Inspect and prune requests_cache_like caches; convert requests-cache ones.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="fetch through a SQLite cache: miss, then hits")
    demo.add_argument(
        "--cache-name", default="demo_cache", help="SQLite file (default: %(default)s)"
    )
    demo.add_argument("--requests", type=int, default=3, help="how many fetches (default: 3)")
    demo.set_defaults(func=_demo)

    for name, func, help_text in (
        ("info", _info, "counts and size of a SQLite cache"),
        ("urls", _urls, "list the cached URLs"),
        ("clear", _clear, "delete everything"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("cache", help="SQLite cache file (a name without suffix gets .sqlite)")
        _add_serializer(sub)
        sub.set_defaults(func=func)

    delete = commands.add_parser("delete", help="delete some responses")
    delete.add_argument("cache", help="SQLite cache file")
    _add_serializer(delete)
    delete.add_argument("--expired", action="store_true", help="delete expired responses")
    delete.add_argument("--invalid", action="store_true", help="delete unreadable entries")
    delete.add_argument(
        "--older-than",
        type=float,
        metavar="SECONDS",
        help="delete responses created more than SECONDS ago",
    )
    delete.add_argument("--url", action="append", help="delete the GET response for URL")
    delete.set_defaults(func=_delete)
    _add_convert(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))
