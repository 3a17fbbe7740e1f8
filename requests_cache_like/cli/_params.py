"""Arguments and options shared by the commands: the cache, ``--cache-name``,
``--serializer`` and durations such as ``7d``."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import click

from ..serializers import init_serializer
from ..settings import DEFAULT_CACHE_NAME

__all__ = ["CACHE_HELP", "cache_target", "parse_duration", "serializer_option"]

F = TypeVar("F", bound=Callable[..., Any])
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", re.IGNORECASE)
CACHE_HELP = (
    "CACHE is a SQLite file (NAME or NAME.sqlite), a filesystem cache directory, or a "
    "backend URL: sqlite:///path.sqlite, file:///dir, redis://host:6379/0, "
    "mongodb://host/db, mongodb+gridfs://host/db, dynamodb://table?region=..."
)


def parse_duration(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """The age ``value`` names (``7d``, ``12h``, ``30m``, ``90s``, ``2w``; a bare number is
    seconds) as a timedelta; None stays None."""
    if value is None:
        return None
    match = _DURATION.fullmatch(value)
    if match is None:
        raise click.BadParameter(
            f"{value!r} is not a duration; accepted: a number with an optional unit "
            "s, m, h, d or w (e.g. 7d, 12h, 30m, 90s); a bare number is seconds",
            ctx,
            param,
        )
    number, unit = match.groups()
    return timedelta(seconds=float(number) * _UNITS[(unit or "s").lower()])


def cache_target(func: F) -> F:
    """Add the CACHE argument and ``--cache-name`` to a command."""
    func = click.option(
        "--cache-name",
        metavar="NAME",
        default=None,
        help="Redis namespace, MongoDB database or DynamoDB table when the URL names none "
        f"(default: {DEFAULT_CACHE_NAME})",
    )(func)
    return click.argument("cache", metavar="CACHE")(func)


def _check_serializer(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    try:
        init_serializer(value)
    except ImportError as exc:
        raise click.BadParameter(str(exc), ctx, param) from exc
    except ValueError as exc:
        raise click.BadParameter(str(exc).removeprefix("serializer="), ctx, param) from exc
    return value


def serializer_option(help_text: str) -> Callable[[F], F]:
    """Add ``--serializer SPEC``, checked when given (``json``, ``default+zstd`` ...)."""
    return click.option(
        "--serializer",
        metavar="SPEC",
        default=None,
        callback=_check_serializer,
        help=help_text,
    )
