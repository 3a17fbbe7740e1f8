"""``python -m requests_cache_like``: see :mod:`requests_cache_like.cli`."""

import sys

from .cli import main

sys.exit(main())
