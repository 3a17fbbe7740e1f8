"""The rules one request is decided by: its mode, and the settings and options that apply.

There is one engine for both modes. What differs between requests-cache's override rules and
standards mode (an RFC 9111 private cache) is written down once, as the named fields of
:class:`Mode`; :func:`build_rules` picks the mode and resolves settings and options into one
:class:`Rules` value per request, which every other policy function reads.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from attrs import field, frozen

from .expiration import DO_NOT_CACHE, ExpirationPattern, ExpirationTime, match_url_expiration

__all__ = [
    "NO_OPTIONS",
    "OVERRIDE",
    "STANDARDS",
    "Mode",
    "Options",
    "Rules",
    "Settings",
    "build_rules",
    "resolve_expire_after",
    "standards_mode",
]

StaleWindow = bool | int | float | timedelta

#: RFC 9110's final status codes other than 304: what standards mode may store, unless the
#: user gave ``allowable_codes`` of their own (then theirs is the list).
_DEFAULT_STATUS_CODES = frozenset({200})


class Settings(Protocol):
    """What the policy reads of the session's settings (``CacheSettings`` satisfies it)."""

    @property
    def allowable_codes(self) -> frozenset[int]: ...
    @property
    def allowable_methods(self) -> frozenset[str]: ...
    @property
    def always_revalidate(self) -> bool: ...
    @property
    def cache_control(self) -> bool: ...
    @property
    def disabled(self) -> bool: ...
    @property
    def expire_after(self) -> ExpirationTime: ...
    @property
    def expire_after_given(self) -> bool: ...
    @property
    def only_if_cached(self) -> bool: ...
    @property
    def read_only(self) -> bool: ...
    @property
    def stale_if_error(self) -> StaleWindow: ...
    @property
    def stale_while_revalidate(self) -> StaleWindow: ...
    @property
    def urls_expire_after(self) -> tuple[ExpirationPattern, ...]: ...


class Options(Protocol):
    """What the policy reads of the per-request options (``RequestOptions`` satisfies it)."""

    @property
    def expire_after(self) -> ExpirationTime: ...
    @property
    def only_if_cached(self) -> bool: ...
    @property
    def refresh(self) -> bool: ...
    @property
    def force_refresh(self) -> bool: ...


@frozen
class _NoOptions:
    """No per-request options (``RequestOptions()`` without importing the settings)."""

    expire_after: ExpirationTime = None
    only_if_cached: bool = False
    refresh: bool = False
    force_refresh: bool = False


NO_OPTIONS: Options = _NoOptions()


@frozen
class Mode:
    """The deliberate differences between the two modes, one named field each.

    Each field is True in standards mode and False in override mode; ``tests/unit/test_rules.py``
    has a table row per field showing the behaviour it switches.
    """

    name: str
    #: Freshness from RFC 9111 §4.2 (``max-age``, ``Expires`` minus ``Date``, heuristics,
    #: corrected initial age). Override mode: response headers with ``cache_control=True``,
    #: then request ``max-age``, then ``expire_after``.
    rfc_freshness: bool
    #: Store any final status RFC 9110 allows while ``allowable_codes`` is the default
    #: (§3). Override mode: exactly ``allowable_codes``.
    rfc_status_codes: bool
    #: Keep a response that expires on arrival and has no validator (it still answers
    #: ``max-stale`` and stale-if-error). Override mode drops one that expires at once
    #: (``EXPIRE_IMMEDIATELY``, ``max-age=0``), as requests-cache does.
    keep_unvalidatable: bool
    #: Responses served from the cache carry an ``Age`` header (§5.1).
    age_header: bool
    #: A ``Range`` request is answered from a stored complete or partial response (§3.4).
    serve_ranges: bool
    #: An application's own conditional request is answered 304 from a fresh stored response
    #: or passed to the origin unchanged (RFC 9110 §13.2). Override mode treats it as any other
    #: request.
    answer_conditionals: bool
    #: HEAD is answered from a stored GET, and a HEAD 200 freshens it (§4, §4.3.5).
    head_from_get: bool
    #: A 2xx/3xx answer to an unsafe method invalidates the stored responses of its target,
    #: ``Location`` and ``Content-Location`` (§4.4); a POST answer whose ``Content-Location`` is
    #: its own URL answers later GETs.
    invalidate_unsafe: bool
    #: The response's ``must-revalidate`` (and, in standards mode, ``no-cache``) also stops
    #: stale-if-error and stale-while-revalidate (§5.2.2.2). Override mode: the session's
    #: ``stale_if_error`` / ``stale_while_revalidate`` apply whatever the response says, as in
    #: requests-cache; only ``max-stale`` yields to ``must-revalidate``.
    stale_windows_obey_response: bool
    #: A 304 updates every stored field it carries but ``Content-Length`` (§3.2). Override
    #: mode also keeps the fields that describe the stored body as it was decoded
    #: (``Content-Type``, ``Content-Encoding``, ``Content-Range``, ``Transfer-Encoding``), as
    #: requests-cache users rely on; §3.2 allows this "to assure integrity of the stored
    #: response".
    update_body_fields: bool
    #: An error answer that stale-if-error covers is one of RFC 5861's (500, 502, 503, 504).
    #: Override mode: any status the cache would not store, as in requests-cache.
    rfc_error_statuses: bool
    #: ``only-if-cached`` (or ``only_if_cached=True``) gets a 504 unless a usable response is
    #: stored (§5.2.1.7). Override mode also serves a stale one within stale-if-error.
    strict_only_if_cached: bool
    #: When the origin cannot be reached, serve the stale response, or a 504 if it may not be
    #: used stale (§4.2.4, §5.2.2.2). Override mode raises the error unless stale-if-error.
    stale_on_disconnect: bool
    #: A 304 means "not modified" only as the answer to a conditional request (RFC 9110
    #: §15.4.5); to a request sent without validators it is passed on. Override mode takes it
    #: as confirming the stored response, which answers unchanged, as in requests-cache.
    only_conditional_304: bool
    #: Derived: stored responses are served as they are (no ``Age``, range or HEAD shaping).
    plain_answers: bool = field(init=False)

    def __attrs_post_init__(self) -> None:
        plain = not (self.age_header or self.serve_ranges or self.head_from_get)
        object.__setattr__(self, "plain_answers", plain)


#: requests-cache 1.x's rules: ``expire_after`` (session, URL pattern or request) decides.
OVERRIDE = Mode(
    name="override",
    rfc_freshness=False,
    rfc_status_codes=False,
    keep_unvalidatable=False,
    age_header=False,
    serve_ranges=False,
    answer_conditionals=False,
    head_from_get=False,
    invalidate_unsafe=False,
    stale_windows_obey_response=False,
    update_body_fields=False,
    rfc_error_statuses=False,
    strict_only_if_cached=False,
    stale_on_disconnect=False,
    only_conditional_304=False,
)
#: RFC 9111 private cache: ``cache_control=True`` and no ``expire_after`` for the request.
STANDARDS = Mode(
    name="standards",
    rfc_freshness=True,
    rfc_status_codes=True,
    keep_unvalidatable=True,
    age_header=True,
    serve_ranges=True,
    answer_conditionals=True,
    head_from_get=True,
    invalidate_unsafe=True,
    stale_windows_obey_response=True,
    update_body_fields=True,
    rfc_error_statuses=True,
    strict_only_if_cached=True,
    stale_on_disconnect=True,
    only_conditional_304=True,
)


@frozen
class Rules:
    """Everything the policy needs to decide one request: built once per request."""

    mode: Mode
    #: The method is one whose responses are read and written, and the cache is on for it
    #: (not disabled, not ``DO_NOT_CACHE``).
    cacheable: bool
    #: Override mode's expiry for this request (``None`` in standards mode).
    expire_after: ExpirationTime
    #: Response ``Cache-Control`` / ``Expires`` are read (``cache_control=True``).
    response_directives: bool
    allowable_codes: frozenset[int]
    allowable_methods: frozenset[str]
    always_revalidate: bool
    read_only: bool
    only_if_cached: bool
    refresh: bool
    force_refresh: bool
    stale_if_error: StaleWindow
    stale_while_revalidate: StaleWindow

    def storable_status(self, status_code: int) -> bool:
        """True if a response with ``status_code`` may be stored (RFC 9111 §3)."""
        if self.mode.rfc_status_codes and self.allowable_codes == _DEFAULT_STATUS_CODES:
            return 200 <= status_code < 600 and status_code != 304
        return status_code in self.allowable_codes


def resolve_expire_after(url: str, settings: Settings, options: Options) -> ExpirationTime:
    """Return the expire_after that applies: per request, else first matching URL pattern,
    else the session's."""
    if options.expire_after is not None:
        return options.expire_after
    if settings.urls_expire_after:
        matched, value = match_url_expiration(url, settings.urls_expire_after)
        if matched:
            return value
    return settings.expire_after


def standards_mode(url: str, settings: Settings, options: Options) -> bool:
    """True if RFC 9111 alone governs this request: ``cache_control=True`` and no
    ``expire_after`` given for it (per request, by URL pattern, or for the session)."""
    if not settings.cache_control or settings.expire_after_given:
        return False
    if options.expire_after is not None:
        return False
    if settings.urls_expire_after:
        matched, _ = match_url_expiration(url, settings.urls_expire_after)
        return not matched
    return True


def build_rules(method: str, url: str, settings: Settings, options: Options) -> Rules:
    """Return the :class:`Rules` of one request: the mode, and the settings and options that
    apply to it."""
    standards = standards_mode(url, settings, options)
    expire_after = None if standards else resolve_expire_after(url, settings, options)
    allowable_methods = settings.allowable_methods
    return Rules(
        mode=STANDARDS if standards else OVERRIDE,
        cacheable=(
            method in allowable_methods and not settings.disabled and expire_after != DO_NOT_CACHE
        ),
        expire_after=expire_after,
        response_directives=settings.cache_control,
        allowable_codes=settings.allowable_codes,
        allowable_methods=allowable_methods,
        always_revalidate=settings.always_revalidate,
        read_only=settings.read_only or settings.disabled,
        only_if_cached=options.only_if_cached or settings.only_if_cached,
        refresh=options.refresh,
        force_refresh=options.force_refresh,
        stale_if_error=settings.stale_if_error,
        stale_while_revalidate=settings.stale_while_revalidate,
    )
