"""Redirect chains: followed as requests follows them, each hop a ``send()`` of its own; the
last hop is stored once, with the chain as its history, and the earlier requests become
aliases of it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from requests import PreparedRequest, Response

from .models import CachedResponse
from .models.response import set_response_attributes

if TYPE_CHECKING:
    from .exchange import Exchange

__all__ = ["IN_REDIRECT_CHAIN", "PENDING_STORE", "PendingStore", "follow_redirects"]

#: True while requests follows a redirect chain for a send(): the last hop's store waits
#: for the chain, so that the stored response carries its history and is written once.
IN_REDIRECT_CHAIN: ContextVar[bool] = ContextVar("requests_cache_like_chain", default=False)
#: The attribute of a response whose store waits for its redirect chain to be known.
PENDING_STORE = "_cache_pending_store"


class PendingStore:
    """The store of the last hop of a redirect chain, written once the chain is known so the
    stored response carries its history."""

    def __init__(
        self, exchange: Exchange, cached: CachedResponse, primary: CachedResponse | None
    ) -> None:
        self.exchange = exchange
        self.cached = cached
        self.primary = primary

    def commit(self, history: list[Response]) -> bool:
        """Write the response with ``history`` (secrets redacted); False if not written."""
        ignored = self.exchange.settings.ignored_parameters
        self.cached.history = [
            hop
            if isinstance(hop, CachedResponse)
            else CachedResponse.from_response(hop, None, ignored)
            for hop in history
        ]
        return self.exchange.write(lambda: self.exchange.save(self.cached, self.primary))


def follow_redirects(
    resolve: Callable[..., Iterable[Response]],
    exchange: Exchange,
    response: Response,
    request: PreparedRequest,
    kwargs: dict[str, Any],
) -> Response:
    """Follow the redirects of ``response`` with ``resolve`` (the session's
    ``resolve_redirects``); store the last hop with its history, and alias the earlier
    requests to it when it is in the cache."""
    token = IN_REDIRECT_CHAIN.set(True)
    try:
        history = list(resolve(response, request, **kwargs))
    finally:
        IN_REDIRECT_CHAIN.reset(token)
    if not history:
        return response
    history.insert(0, response)
    final = history.pop()
    final.history = history
    final_key = getattr(final, "cache_key", "")
    pending: PendingStore | None = getattr(final, PENDING_STORE, None)
    if pending is not None and not pending.commit(history):
        set_response_attributes(final, final_key)
    kept = getattr(final, "from_cache", False) or getattr(final, "created_at", None)
    if final_key and kept and not exchange.rules.read_only:
        aliases = {getattr(hop, "cache_key", "") for hop in history} - {"", final_key}
        exchange.write(lambda: exchange.cache.save_aliases(aliases, final_key))
    return final
