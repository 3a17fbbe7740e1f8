"""The stored form of a response, served back as a :class:`requests.Response`."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urljoin

from attrs import define, field, fields
from requests import PreparedRequest, Response
from requests.cookies import RequestsCookieJar
from requests.exceptions import ChunkedEncodingError, StreamConsumedError
from requests.structures import CaseInsensitiveDict
from requests.utils import stream_decode_response_unicode
from urllib3.exceptions import ProtocolError

from ..clock import utcnow
from ..keys import redact_url
from ..policy.expiration import ExpirationTime, expiration_datetime
from .raw import CachedHTTPResponse
from .request import CachedRequest
from .streamed import CHUNK_SIZE, BodySource, ChunkReader, StreamedBody

__all__ = [
    "CachedResponse",
    "OriginalResponse",
    "format_file_size",
    "set_response_attributes",
    "utcnow",
]

_DATE_FORMAT = "%Y-%m-%d %H:%M:%S %Z"


def copy_headers(headers: Any) -> CaseInsensitiveDict[str]:
    """An independent :class:`CaseInsensitiveDict` of ``headers``: a requests one is copied by
    its store (a few µs less than field by field, on every miss and memory hit)."""
    if type(headers) is not CaseInsensitiveDict:
        return CaseInsensitiveDict(headers)
    copied: CaseInsensitiveDict[str] = CaseInsensitiveDict.__new__(CaseInsensitiveDict)
    copied._store = OrderedDict(headers._store)  # type: ignore[attr-defined]
    return copied


def headers_dict(headers: Any) -> dict[str, Any]:
    """``dict(headers)``; a requests :class:`CaseInsensitiveDict` is read from its store in
    one call (as a mapping it costs two Python calls a header, on every write)."""
    if type(headers) is CaseInsensitiveDict:
        return dict(headers._store.values())  # type: ignore[attr-defined]
    return dict(headers)


def format_file_size(n_bytes: int | None) -> str:
    """Return a size in bytes as a short human-readable string (``"1.50 KiB"``)."""
    if not n_bytes:
        return "0 bytes"
    size = float(n_bytes)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GiB"  # not reached: GiB is the last unit


def _headers(value: Any) -> CaseInsensitiveDict[str]:
    if isinstance(value, CaseInsensitiveDict):
        return value
    return CaseInsensitiveDict(value or {})


def _history(value: Any) -> list[CachedResponse]:
    return list(value or [])


class OriginalResponse(Response):
    """Type of a live response returned by a cached session: a :class:`requests.Response` with
    the same cache attributes as :class:`CachedResponse` (``from_cache`` is False)."""

    from_cache: bool
    cache_key: str
    created_at: datetime | None
    expires: datetime | None
    is_expired: bool
    revalidated: bool

    @classmethod
    def wrap_response(cls, response: Response, actions: Any = None) -> OriginalResponse:
        """Give ``response`` the cache attributes (in place; requests-cache API). ``actions``
        may carry ``cache_key`` and ``expires``, as requests-cache's ``CacheActions`` do."""
        wrapped = set_response_attributes(
            response,
            getattr(actions, "cache_key", "") or "",
            utcnow(),
            getattr(actions, "expires", None),
        )
        wrapped.__class__ = cls
        return wrapped


def set_response_attributes(
    response: Response,
    cache_key: str = "",
    created_at: datetime | None = None,
    expires: datetime | None = None,
    now: datetime | None = None,
) -> OriginalResponse:
    """Give a live response the cache attributes that cached responses carry."""
    response.from_cache = False  # type: ignore[attr-defined]
    response.cache_key = cache_key  # type: ignore[attr-defined]
    response.created_at = created_at  # type: ignore[attr-defined]
    response.expires = expires  # type: ignore[attr-defined]
    response.is_expired = bool(  # type: ignore[attr-defined]
        expires is not None and (now or utcnow()) >= expires
    )
    response.revalidated = False  # type: ignore[attr-defined]
    return response  # type: ignore[return-value]


@define(slots=False, eq=True, repr=False, init=True)
class CachedResponse(Response):
    """A response read from the cache; it behaves as a :class:`requests.Response`.

    On top of the usual attributes it has ``from_cache`` (True), ``cache_key``,
    ``created_at``, ``expires``, ``is_expired`` and ``revalidated``. The body is held in
    memory; ``raw`` is a file-like stand-in so ``stream=True`` code keeps working.
    """

    _content: bytes = b""
    url: str = ""
    status_code: int = 200
    reason: str = "OK"  # None when the origin sent no reason phrase, as in requests
    headers: CaseInsensitiveDict[str] = field(factory=CaseInsensitiveDict, converter=_headers)
    encoding: str | None = None
    elapsed: timedelta = field(factory=timedelta)
    history: list[CachedResponse] = field(factory=list, converter=_history)  # type: ignore[assignment]
    request: CachedRequest = field(factory=CachedRequest)  # type: ignore[assignment]
    created_at: datetime = field(factory=utcnow)
    expires: datetime | None = None
    #: Standards mode: age in seconds when received (RFC 9111 §4.2.3), so the current age is
    #: ``initial_age`` plus the time since ``created_at``.
    initial_age: float = 0.0
    #: Standards mode: shared by the stored variants of one URL (``Vary``); a new value
    #: after invalidation orphans the old variants.
    vary_group: str = ""
    #: A ``stream=True`` body too large to keep inline: its chunks are in the backend's body
    #: store, read one at a time (see :mod:`.streamed`); ``content`` is then empty.
    streamed: StreamedBody | None = None

    # Runtime state, not stored: set by the cache when the response is read.
    from_cache = True
    revalidated = False
    cache_key = ""
    connection: Any = None
    _content_consumed = True
    _raw = None
    _cookies = None

    __attrs__ = [
        *Response.__attrs__,
        "created_at",
        "expires",
        "initial_age",
        "vary_group",
        "streamed",
        "from_cache",
        "cache_key",
        "revalidated",
    ]

    @classmethod
    def from_response(
        cls,
        response: Response,
        expires: datetime | None = None,
        ignored_parameters: Iterable[str] = (),
        created_at: datetime | None = None,
        content: bytes | None = None,
    ) -> CachedResponse:
        """Return the stored form of a live response (its body is read unless ``content`` is
        given), secrets redacted."""
        ignored = tuple(ignored_parameters)
        return cls(
            content=(response.content or b"") if content is None else content,
            url=redact_url(response.url or "", ignored),
            status_code=response.status_code,
            reason=response.reason,
            headers=copy_headers(response.headers),
            encoding=response.encoding,
            elapsed=response.elapsed,
            history=[
                r if isinstance(r, CachedResponse) else cls.from_response(r, None, ignored)
                for r in response.history
            ],
            request=CachedRequest.from_request(response.request, ignored),
            created_at=created_at or utcnow(),
            expires=expires,
        )

    def copy(self) -> CachedResponse:
        """Return an independent copy (own headers and raw stream) sharing the immutable body."""
        clone: CachedResponse = object.__new__(type(self))
        state = self.__dict__.copy()
        state["headers"] = copy_headers(self.headers)
        state.pop("_raw", None)
        state.pop("_cookies", None)
        clone.__dict__.update(state)
        return clone

    @property
    def raw(self) -> Any:
        """A file-like object over the body (a urllib3 response), made on first use."""
        if self._raw is None:
            body: Any = self._content
            source = self._pending_source()
            if source is not None and self.streamed is not None:
                body = ChunkReader(source, self.streamed)
            self._raw = CachedHTTPResponse(
                body, self.headers, self.status_code, self.reason or "", self.size
            )
        return self._raw

    @raw.setter
    def raw(self, value: Any) -> None:
        self._raw = value

    def _pending_source(self) -> BodySource | None:
        """Where a streamed body not yet read is (set when the entry is read), or None."""
        if self.streamed is None or self.__dict__.get("_body_loaded"):
            return None
        source: BodySource | None = self.__dict__.get("_body_source")
        return source

    @property
    def content(self) -> bytes:
        """The body (read from the body store first if it was stored apart)."""
        source = self._pending_source()
        if source is not None and self.streamed is not None:
            reader = ChunkReader(source, self.streamed)
            self._content = b"".join(iter(lambda: reader.read(CHUNK_SIZE), b""))
            self.__dict__["_body_loaded"] = True
        return self._content

    def iter_content(self, chunk_size: int | None = 1, decode_unicode: bool = False) -> Any:
        """As on a live response; a body stored apart is read as the chunks are asked for."""
        if self._pending_source() is None:
            return super().iter_content(chunk_size, decode_unicode)
        if self.__dict__.get("_body_taken"):
            raise StreamConsumedError()
        self.__dict__["_body_taken"] = True
        chunks = _as_requests_errors(self.raw.stream(chunk_size or CHUNK_SIZE, False))
        if decode_unicode:
            return stream_decode_response_unicode(chunks, self)  # type: ignore[no-untyped-call]
        return chunks

    @property
    def cookies(self) -> RequestsCookieJar:
        """Cookies set by the response (empty: cookies are applied when first received)."""
        if self._cookies is None:
            self._cookies = RequestsCookieJar()
        return self._cookies

    @cookies.setter
    def cookies(self, value: RequestsCookieJar) -> None:
        self._cookies = value

    @property
    def next(self) -> PreparedRequest | None:
        """The request a stored redirect leads to (as on a live response with
        ``allow_redirects=False``), or None."""
        if not self.is_redirect:
            return None
        prepared = self.request.prepare()
        prepared.prepare_url(urljoin(self.url, self.headers["Location"]), None)
        if self.status_code == 303 and prepared.method != "HEAD":
            prepared.method, prepared.body = "GET", None
        return prepared

    @property
    def is_expired(self) -> bool:
        """True if the response is past its expiry time."""
        expires = self.expires
        if expires is None:
            return False
        if expires.tzinfo is None:  # set by hand without a zone: UTC, as everywhere here
            expires = expires.replace(tzinfo=timezone.utc)
        return utcnow() >= expires

    @property
    def expires_delta(self) -> int | None:
        """Seconds until expiry (negative once expired), or None if it never expires."""
        if self.expires is None:
            return None
        return int((self.expires - utcnow()).total_seconds())

    @property
    def expires_unix(self) -> int | None:
        """Expiry as a Unix timestamp, or None if it never expires."""
        return None if self.expires is None else round(self.expires.timestamp())

    @property
    def size(self) -> int:
        """Size of the body in bytes."""
        return self.streamed.size if self.streamed is not None else len(self._content)

    def is_older_than(self, older_than: ExpirationTime) -> bool:
        """True if the response was created longer ago than ``older_than``."""
        now = utcnow()
        cutoff = expiration_datetime(older_than, now)
        if cutoff is None:
            return False
        return self.created_at < now - (cutoff - now)

    def reset_expiration(self, expire_after: ExpirationTime) -> bool:
        """Set a new expiry relative to now; return whether the response is now expired."""
        self.expires = expiration_datetime(expire_after, utcnow())
        return self.is_expired

    def close(self) -> None:
        """Nothing to release: the body is in memory."""

    def __getstate__(self) -> dict[str, Any]:
        # requests.Response pickles only its own attributes; keep the cache's fields too.
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return f"<CachedResponse [{self.status_code}]>"

    def __str__(self) -> str:
        created = self.created_at.strftime(_DATE_FORMAT)
        if self.expires is None:
            expires = "never"
        else:
            state = "expired" if self.is_expired else "fresh"
            expires = f"{self.expires.strftime(_DATE_FORMAT)} ({state})"
        return (
            f"<CachedResponse [{self.status_code}]: created: {created}, expires: {expires}, "
            f"size: {self.size} bytes, request: {self.request}>"
        )


def _as_requests_errors(chunks: Iterator[bytes]) -> Iterator[bytes]:
    # A damaged or lost stored chunk fails the stream as a broken download would.
    try:
        yield from chunks
    except ProtocolError as exc:
        raise ChunkedEncodingError(exc) from exc


def _resolve_field_types(cls: type) -> None:
    # attrs.resolve_types would also evaluate requests.Response's own annotations, which
    # name types requests imports only for type checkers; only our fields need resolving.
    namespace = {**globals(), cls.__name__: cls}
    for attribute in fields(cls):
        if isinstance(attribute.type, str):
            object.__setattr__(attribute, "type", eval(attribute.type, namespace))
    cls.__attrs_types_resolved__ = cls  # type: ignore[attr-defined]


_resolve_field_types(CachedResponse)
