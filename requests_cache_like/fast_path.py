"""A fresh hit answered before ``requests`` prepares the request.

Preparing a request (merging session state, the environment, cookies, auth) costs more than
the whole hit. When nothing that preparation does can change the key or the decision, the
key is computed from the method and URL alone (memoised), and the same lookup and the same
decision as on the full path (:func:`.lookup.lookup`, :func:`.policy.plan_request`) answer
a fresh hit. Anything else goes the full path, carrying the key and rules computed here so
they are not computed twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from attrs import frozen
from requests import PreparedRequest, Request, Session
from requests.auth import HTTPBasicAuth
from requests.hooks import dispatch_hook
from requests.sessions import merge_hooks

from .keys import is_canonical, settings_key
from .lookup import answer_from, lookup, rules_for
from .models import CachedResponse
from .models.response import utcnow
from .policy import PlanAction, Rules, plan_request
from .single_flight import expect_fetch

if TYPE_CHECKING:
    from .session import CacheMixin
    from .settings import CacheSettings, RequestOptions

__all__ = ["DISPATCH_HOOK", "FAST_PATH_CLASSES", "KeyHint", "fast_hit", "supports_fast_path"]

#: Request headers that need the full policy (conditional or cache-directive requests).
_SLOW_PATH_HEADERS = frozenset(
    {
        "cache-control",
        "pragma",
        "if-none-match",
        "if-modified-since",
        "if-match",
        "if-unmodified-since",
        "if-range",
        "range",
    }
)
_MEMO_LIMIT = 4096
#: Types of query parameter values the key memo can tell apart (with their type alongside).
_MEMO_PARAM_TYPES = frozenset({str, bytes, int, float, bool, type(None)})
#: Memo of supports_fast_path() per session class.
FAST_PATH_CLASSES: dict[type, bool] = {}
#: requests' hook helpers, which it ships without annotations.
DISPATCH_HOOK: Callable[..., Any] = dispatch_hook
_merge_hooks: Callable[..., Any] = merge_hooks


#: Fields requests adds while preparing (cookies, auth, body): unknown before preparation.
_PREPARED_FIELDS = frozenset(
    {"cookie", "authorization", "proxy-authorization", "content-type", "content-length"}
)


class UnknownBeforePreparation(Exception):
    """A field that only preparing the request determines was asked for."""


class MergedHeaders(Mapping[str, str]):
    """The headers a request will be sent with, read one field at a time, before requests
    merges the call's headers into the session's (a ``None`` value removes a field). Fields
    requests adds while preparing are unknown: asking for one raises
    :class:`UnknownBeforePreparation`."""

    __slots__ = ("_call", "_session")

    def __init__(self, call: Any, session: Mapping[str, str]) -> None:
        # Built on every fast hit, read only for responses that vary: kept as given.
        self._call = call
        self._session = session

    def get(self, name: str, default: Any = None) -> Any:
        """The field's value, or ``default`` (without raising, on the hit path)."""
        lowered = name.lower()
        if lowered in _PREPARED_FIELDS:
            raise UnknownBeforePreparation(name)
        for field, value in (self._call or {}).items():
            if str(field).lower() == lowered:
                return default if value is None else str(value)
        # CaseInsensitiveDict keeps (name, value) by lower-cased name in _store.
        stored = getattr(self._session, "_store", None)
        if stored is not None:
            found = stored.get(lowered)
            value = None if found is None else found[1]
        else:
            value = self._session.get(name)
        return default if value is None else str(value)

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return str(value)

    def __iter__(self) -> Iterator[str]:
        raise UnknownBeforePreparation("the set of fields is known only after preparation")

    def __len__(self) -> int:
        raise UnknownBeforePreparation("the set of fields is known only after preparation")


@frozen
class KeyHint:
    """What the fast path learnt about a request it could not answer, for the full path:
    its key and rules, and whether nothing at all is stored under the key."""

    method: str
    url: str
    key: str
    rules: Rules
    missing: bool


def supports_fast_path(cls: type, mixin: type) -> bool:
    """True if nothing between ``mixin`` and requests.Session changes how a request is
    prepared or sent, so a fresh hit may be answered before preparation."""
    cached = FAST_PATH_CLASSES.get(cls)
    if cached is not None:
        return cached
    mro = cls.__mro__
    after_mixin = mro[mro.index(mixin) + 1 :]

    def definer(classes: tuple[type, ...], name: str) -> type | None:
        return next((k for k in classes if name in k.__dict__), None)

    # The fast path skips send(), prepare_request() and merge_environment_settings()
    # entirely, and request() of anything after the mixin: an override of one of these,
    # wherever it sits in the MRO, may change the key or the answer. An override of
    # request() before the mixin is fine: it still ends in the mixin's request().
    ok = (
        definer(mro, "send") is mixin
        and definer(mro, "prepare_request") is Session
        and definer(mro, "merge_environment_settings") is Session
        and all(definer(after_mixin, name) is Session for name in ("request", "send"))
    )
    FAST_PATH_CLASSES[cls] = ok
    return ok


def _params_memo_key(params: Any) -> Any:
    """Return a hashable stand-in for ``params`` that two values share only if requests
    encodes them alike; raise TypeError for params the memo should not handle.

    ``1``, ``1.0`` and ``True`` are equal in Python but encode as ``1``, ``1.0`` and
    ``True``, so each value's type is part of the stand-in.
    """
    if params is None:
        return None
    if type(params) in (str, bytes):
        return (type(params), params)
    if isinstance(params, dict):
        items = tuple(params.items())
        for name, value in items:
            if type(name) is not str or type(value) not in _MEMO_PARAM_TYPES:
                raise TypeError("params not memoised")
        return tuple((name, type(value), value) for name, value in items)
    raise TypeError("params not memoised")


def _memo_key(
    settings: CacheSettings, method: str, url: Any, params: Any
) -> tuple[str, str] | None:
    """Return ``(key, prepared URL)`` of a body-less request, or None to take the full path."""
    memo = settings.key_memo
    try:
        memo_key = (method, url, _params_memo_key(params))
        entry = memo.get(memo_key)
    except (TypeError, AttributeError):  # params the memo cannot tell apart: usual path
        return None
    if entry is None:
        prepared = PreparedRequest()
        prepared.prepare_method(method)
        if params is None and type(url) is str and is_canonical(url):
            prepared.url = url  # what prepare_url would make of it (a property test checks)
        else:
            try:
                prepared.prepare_url(url, params)
            except Exception:  # invalid URL: let requests raise its own error, on the full path
                return None
        prepared.prepare_headers(None)
        prepared.prepare_body(None, None, None)
        entry = (settings_key(prepared, settings), prepared.url or "")
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[memo_key] = entry
    return entry


def _look_up(
    session: CacheMixin,
    key: str,
    method: str,
    url: Any,
    params: Any,
    headers: Any,
    rules: Rules,
    allow_redirects: bool,
) -> tuple[CachedResponse | None, CachedResponse | None]:
    """Read what is stored for the request (see :func:`.lookup.lookup`); a storage that can
    takes the key's lease in the same round trip when a miss would be a shared fetch."""
    settings = session._settings

    def get_key() -> str:
        found = _memo_key(settings, "GET", url, params)
        return found[0] if found else ""

    expect = expect_fetch(session.cache, settings, method, rules)
    try:
        return lookup(
            session._storage.read,
            key,
            get_key,
            method,
            lambda: MergedHeaders(headers, session.headers),
            rules,
            allow_redirects,
        )
    finally:
        if expect is not None:
            expect(None)


def fast_hit(
    session: CacheMixin,
    method: str,
    url: Any,
    params: Any,
    headers: Any,
    options: RequestOptions,
    allow_redirects: bool,
    verify: Any = None,
) -> tuple[CachedResponse | None, KeyHint | None]:
    """Return ``(response, None)`` for a fresh hit, else ``(None, hint)`` with what the full
    path can reuse, or ``(None, None)`` when this path does not apply (see the module)."""
    settings = session._settings
    method = method.upper()
    # Only when neither the session nor the call can change the key or the decision.
    if settings.disabled or method not in settings.allowable_methods:
        return None, None
    if settings.key_fn is not None or settings.match_headers or session.params:
        return None, None
    if session.auth is not None and type(session.auth) not in (tuple, HTTPBasicAuth):
        return None, None  # an auth callable may change the URL, hence the key
    if headers and any(str(name).lower() in _SLOW_PATH_HEADERS for name in headers):
        return None, None
    if "Cache-Control" in session.headers or "Pragma" in session.headers:
        return None, None
    if verify is False or (verify is None and session.verify is False):
        return None, None  # verify=False is part of the key: the full path computes it
    # The usual call (a str URL, no params) looks its key up directly.
    usual = params is None and type(url) is str
    entry = settings.key_memo.get((method, url, None)) if usual else None
    if entry is None:
        entry = _memo_key(settings, method, url, params)
        if entry is None:
            return None, None
    key, prepared_url = entry
    rules = rules_for(settings, method, prepared_url, options)
    if not rules.cacheable or rules.force_refresh:
        return None, KeyHint(method, prepared_url, key, rules, missing=False)
    try:
        primary, selected = _look_up(
            session, key, method, url, params, headers, rules, allow_redirects
        )
    except UnknownBeforePreparation:  # the response varies on a field preparation sets
        return None, KeyHint(method, prepared_url, key, rules, missing=False)
    # A stored redirect that is to be followed takes the full path, which follows it.
    if selected is not None and not (
        allow_redirects and 300 <= selected.status_code < 400 and selected.is_redirect
    ):
        now = utcnow()
        if plan_request({}, selected, rules, now).action is PlanAction.SERVE:
            return (
                selected
                if rules.mode.plain_answers
                else answer_from(selected, method, {}, rules, now)
            ), None
    return None, KeyHint(method, prepared_url, key, rules, missing=primary is None)


def dispatch_hit_hooks(
    session: CacheMixin,
    response: CachedResponse,
    hooks: Any,
    send_kwargs: Mapping[str, Any],
) -> CachedResponse:
    """Run the response hooks ``Session.send`` would have run, on a fast hit."""
    request_hooks = (
        session.hooks if hooks is None else _merge_hooks(Request(hooks=hooks).hooks, session.hooks)
    )
    if not request_hooks.get("response"):
        return response
    kwargs = {
        "stream": session.stream if send_kwargs.get("stream") is None else send_kwargs["stream"],
        "timeout": send_kwargs.get("timeout"),
        "verify": session.verify if send_kwargs.get("verify") is None else send_kwargs["verify"],
        "cert": session.cert if send_kwargs.get("cert") is None else send_kwargs["cert"],
        "proxies": send_kwargs.get("proxies") or {},
    }
    hooked: CachedResponse = DISPATCH_HOOK("response", request_hooks, response, **kwargs)
    return hooked
