"""The command line: ``requests-cache-like COMMAND`` or ``python -m requests_cache_like``.

Commands: ``info``, ``urls``, ``show``, ``delete``, ``clear``, ``export`` and ``import`` on
any cache (a SQLite file, a filesystem directory or a backend URL), ``convert`` from
requests-cache 1.x, and ``demo``. See docs/cli.md.

It is built on click and rich (extra ``cli``); without them, :func:`main` says how to
install them instead of failing with a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

#: The libraries the command line needs (and theirs), installed by the extra ``cli``.
_CLI_LIBRARIES = {"click", "rich", "markdown_it", "mdurl", "pygments"}
MISSING_EXTRA = (
    "requests-cache-like: the command line needs click and rich: "
    "pip install 'requests-cache-like[cli]'"
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    try:
        from ._app import run
    except ImportError as error:
        if (error.name or "").split(".")[0] not in _CLI_LIBRARIES:
            raise
        print(MISSING_EXTRA, file=sys.stderr)
        return 1
    return run(list(argv) if argv is not None else None)
