"""The command group: its options (``--debug``, ``--version``), its commands, and how any
error becomes one line on stderr and an exit status."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from .. import __version__
from ..exceptions import ConvertError, StorageError, UnknownBackendError
from ._commands import info, show, urls
from ._convert import convert, demo
from ._delete import clear, delete
from ._export import export, import_
from ._open import CacheNotFound
from ._output import PROG, BadInput, CliError

__all__ = ["cli", "run"]

#: Errors that mean "the command line names something unusable": exit status 2.
_BAD_INPUT: tuple[type[BaseException], ...] = (
    CacheNotFound,
    ConvertError,
    UnknownBackendError,
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
)


#: Raised by click 8.2+ when a group is run without a command, to show its help.
_SHOW_HELP: tuple[type[BaseException], ...] = tuple(
    getattr(click.exceptions, name)
    for name in ("NoArgsIsHelpError",)
    if hasattr(click.exceptions, name)
)


def _one_line(error: Exception) -> CliError:
    """The CliError to show for ``error``."""
    if isinstance(error, click.UsageError):
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx is not None else ""
        return BadInput(error.format_message() + hint)
    if isinstance(error, _BAD_INPUT):
        message = str(error)
        if isinstance(error, OSError) and error.filename is not None:
            message = f"{error.strerror}: {error.filename!r}"
        return BadInput(message)
    if isinstance(error, (StorageError, ImportError, OSError)):
        return CliError(str(error))
    return CliError(
        f"unexpected {type(error).__name__}: {error} (run with --debug for the traceback)"
    )


class _Group(click.Group):
    """A group whose errors are one line on stderr, with the traceback under ``--debug``."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except _SHOW_HELP:
            raise  # no command given: click shows the help
        except click.UsageError as error:
            raise _one_line(error) from error

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (CliError, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise  # click ends quietly on a closed pipe (| head)
        except click.UsageError as error:
            raise _one_line(error) from error
        except Exception as error:
            if ctx.params.get("debug"):
                raise
            raise _one_line(error) from error


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name=PROG, message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging")
def cli(debug: bool) -> None:
    """Inspect, prune, export and convert requests_cache_like caches.

    Every command that takes a CACHE accepts a SQLite file (NAME or NAME.sqlite), a
    filesystem cache directory, or a backend URL (sqlite://, file://, redis://, mongodb://,
    mongodb+gridfs://, dynamodb://), with --cache-name for the namespace where the URL
    names none. Nothing is ever created by a command that reads."""
    if debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)


for _command in (info, urls, show, delete, clear, export, import_, convert, demo):
    cli.add_command(_command)


def run(argv: list[str] | None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    # click types main() as never returning in standalone mode; it ends with SystemExit.
    standalone: Any = cli.main
    try:
        standalone(args=argv, prog_name=PROG, standalone_mode=True)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
