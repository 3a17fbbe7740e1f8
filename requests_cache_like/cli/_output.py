"""What the command line shows: rich tables and progress bars on a terminal, plain text when
the output goes to a pipe or a file, and the one-line error."""

from __future__ import annotations

import sys
from datetime import datetime
from types import TracebackType
from typing import IO, Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["PROG", "BadInput", "CliError", "ProgressBar", "is_terminal", "stamp"]

PROG = "requests-cache-like"


class CliError(click.ClickException):
    """A failure on the way (a storage out of reach, nothing found): exit status 1, and one
    line on stderr, ``requests-cache-like: error: MESSAGE``."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever the cause said

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"{PROG}: error: {self.format_message()}", file=file or sys.stderr)


class BadInput(CliError):
    """The command line names something unusable (an option's value, a cache that is not
    there): exit status 2, as for click's usage errors."""

    exit_code = 2


def is_terminal(stream: Any) -> bool:
    """True if ``stream`` is a terminal (not a pipe, a file, or a test's capture)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed
        return False


def stamp(moment: datetime | None) -> str:
    """``moment`` as ISO 8601 to the second, or ``-``."""
    return moment.isoformat(timespec="seconds") if moment is not None else "-"


class ProgressBar:
    """A rich progress bar on stderr when stderr is a terminal; otherwise nothing at all.

    Use as a context manager, and call it with ``(done, total)`` (total None if unknown).
    """

    def __init__(self, description: str, unit: str = "responses") -> None:
        self.description = description
        self.unit = unit
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> ProgressBar:
        if is_terminal(sys.stderr):
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(self.unit),
                TimeElapsedColumn(),
                console=Console(file=sys.stderr),
                transient=True,  # gone when done: the command's own output follows
                redirect_stdout=False,  # stdout may be the export itself
                redirect_stderr=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=None)
        return self

    def __call__(self, done: int, total: int | None) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=done, total=total)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
