"""HTTP client factory for the provider adapters: bounded aiohttp pools, and httpx over aiohttp.

Why aiohttp under httpx: measured through the WhatsApp adapter against a loopback fake with 64
sends in flight, pywa over httpx's own pool (httpcore) cost 2.47 ms of CPU a send (1.87 ms with
`sniffio` installed, which httpcore imports on every request), because httpcore's pool scans
connections x waiting requests on every request. `bench/sends.py`, same run, same loaded box:
httpcore 3.59 ms, this transport 0.54 ms, twilio's own aiohttp client 0.35 ms (0.23 ms when the
box is quiet). SDKs that expect an `httpx.AsyncClient` (pywa) get a `ProviderClient` whose
transport is `AiohttpTransport`, so every HTTP adapter sends over a bounded aiohttp pool.

Sessions bind to the running event loop: build them on first use inside it, close them on
shutdown (an unclosed session is an error under the test suite's `filterwarnings = error`).
"""

from __future__ import annotations

import codecs
from json import dumps as _json_dumps
from typing import Any

import aiohttp
import httpx
import yarl

#: Per-adapter pool bound when a deployment sets none: the dispatcher's default in-flight sends.
DEFAULT_MAX_CONNECTIONS = 64

_TimeoutKey = tuple[float | None, float | None, float | None]


def client_session(
    max_connections: int = DEFAULT_MAX_CONNECTIONS, *, auto_decompress: bool = True
) -> aiohttp.ClientSession:
    """One pooled session per adapter, at most `max_connections` sockets, no cookie jar."""
    if max_connections < 1:
        raise ValueError("max_connections must be at least 1")
    connector = aiohttp.TCPConnector(limit=max_connections, limit_per_host=0)
    # Provider APIs authenticate by header; a cookie jar would only cost work on every response.
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=auto_decompress,
    )


def _mapped(exc: Exception, request: httpx.Request) -> httpx.TransportError:
    """aiohttp's failure as the httpx exception httpx's own transport raises for the same cause."""
    message = str(exc) or type(exc).__name__
    kind: type[httpx.TransportError]
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        kind = httpx.ConnectTimeout
    elif isinstance(exc, TimeoutError):  # SocketTimeoutError, ServerTimeoutError and bare timeouts
        kind = httpx.ReadTimeout
    elif isinstance(exc, aiohttp.ClientConnectorError):
        kind = httpx.ConnectError
    elif isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError):
        kind = httpx.RemoteProtocolError
    elif isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientOSError):
        kind = httpx.ReadError
    elif isinstance(exc, aiohttp.InvalidURL):
        kind = httpx.UnsupportedProtocol
    else:
        kind = httpx.TransportError
    return kind(message, request=request)


def _known_charset(name: str | None) -> str | None:
    """The charset if Python can decode it; otherwise httpx's own fallback applies."""
    if not name:
        return None
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends through one bounded aiohttp session (HTTP/1.1 only)."""

    def __init__(self, max_connections: int = DEFAULT_MAX_CONNECTIONS) -> None:
        self.session = client_session(max_connections, auto_decompress=False)
        self._timeouts: dict[_TimeoutKey, aiohttp.ClientTimeout] = {}

    def _timeout(self, extensions: dict[str, object]) -> aiohttp.ClientTimeout:
        """httpx's pool/connect/read timeouts as aiohttp's (write has no aiohttp counterpart)."""
        given = extensions.get("timeout")
        limits = given if isinstance(given, dict) else {}
        key: _TimeoutKey = (limits.get("pool"), limits.get("connect"), limits.get("read"))
        found = self._timeouts.get(key)
        if found is None:
            pool, connect, read = key
            found = aiohttp.ClientTimeout(
                total=None, connect=pool, sock_connect=connect, sock_read=read
            )
            if len(self._timeouts) < 64:
                self._timeouts[key] = found
        return found

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        headers = [
            (name, value)
            for name, value in request.headers.multi_items()
            if name != "transfer-encoding"  # the body is read whole; aiohttp sets Content-Length
        ]
        try:
            async with self.session.request(
                request.method,
                yarl.URL(str(request.url), encoded=True),  # httpx has already encoded it
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=self._timeout(request.extensions),
            ) as response:
                content = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _mapped(exc, request) from exc
        extensions: dict[str, object] = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("ascii", "replace")
        # httpx decodes Content-Encoding itself, so aiohttp hands over the bytes as sent.
        answer = httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            content=content,
            request=request,
            extensions=extensions,
        )
        charset = _known_charset(response.charset)
        if charset is not None:
            # aiohttp parsed Content-Type already (cached); httpx would parse it again for `.text`.
            answer.encoding = charset
        return answer

    async def aclose(self) -> None:
        await self.session.close()


class _NoCookies(httpx.Cookies):
    """Provider APIs authenticate by header: reading Set-Cookie on every response is wasted work."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class ProviderClient(httpx.AsyncClient):
    """httpx with the per-request costs a provider API never needs taken out (URL merging, cookies)."""

    # httpx parses the URL twice a request (the endpoint, then base + endpoint), the largest
    # single cost left in a pywa send once the pool was aiohttp's, and runs every response
    # through its cookie jar. Without both, a request over `AiohttpTransport` took 215 us of CPU
    # instead of 359 us (64 in flight, loaded 2-core box, best of 5). pywa overwrites `base_url`
    # after construction (and `WhatsAppChannel` again), so resolved endpoints follow it.
    _MAX_ENDPOINTS = 256

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._no_cookies = _NoCookies()
        self._resolved_for: httpx.URL | None = None
        self._resolved: dict[str, httpx.URL] = {}
        self._fixed_for: tuple[bytes, list[tuple[bytes, bytes]]] = (b"", [])
        self._fixed = httpx.Headers()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, value: Any) -> None:
        raise TypeError("a provider client keeps no cookies")

    def _resolve(self, url: str) -> httpx.URL:
        base = self.base_url
        if base is not self._resolved_for:
            self._resolved_for, self._resolved = base, {}
        found = self._resolved.get(url)
        if found is None:
            found = httpx.URL(url)
            if found.is_relative_url:  # httpx's own rule: append to the base path
                found = base.copy_with(raw_path=base.raw_path + found.raw_path.lstrip(b"/"))
            if len(self._resolved) < self._MAX_ENDPOINTS:
                self._resolved[url] = found
        return found

    def build_request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> httpx.Request:
        if isinstance(url, str) and _json_only(kwargs):
            return self._json_request(method, self._resolve(url), kwargs["json"])
        return super().build_request(
            method, self._resolve(url) if isinstance(url, str) else url, **kwargs
        )

    def _json_request(self, method: str, url: httpx.URL, payload: Any) -> httpx.Request:
        """What httpx builds for `json=` with the client's headers, byte for byte, without re-merging them.

        A provider SDK's send is one JSON POST with the client's own headers (pywa's every message):
        httpx merges URL, headers, cookies and query on each, encodes through its generic content
        path and re-normalises every header twice. Here the client headers are merged once per
        host, and the body is encoded as httpx's `encode_json` does. `bench/sends.py`, WhatsApp at
        64 in flight, four runs alternating with the previous code on a busy box: 0.324 ms of CPU
        a send at best instead of 0.360, median 0.36 instead of 0.48 (request building fell from
        16% of a send to 9%).
        """
        body = _json_dumps(
            payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode()
        headers = httpx.Headers(self._fixed_headers(url))
        headers["Content-Length"] = str(len(body))
        return httpx.Request(
            method,
            url,
            headers=headers,
            stream=httpx.ByteStream(body),
            extensions={"timeout": self.timeout.as_dict()},
        )

    def _fixed_headers(self, url: httpx.URL) -> httpx.Headers:
        """Host, then the client's headers (pywa's token and content type), then httpx's JSON default."""
        current = self.headers.raw
        if url.netloc != self._fixed_for[0] or current != self._fixed_for[1]:
            merged = httpx.Headers([(b"Host", url.netloc), *current])
            merged.setdefault("Content-Type", "application/json")
            self._fixed_for, self._fixed = (url.netloc, current), merged
        return self._fixed


def _json_only(kwargs: dict[str, Any]) -> bool:
    """A request whose only argument is a JSON body (httpx's `request` passes every keyword)."""
    if kwargs.get("json") is None:
        return False
    for name, value in kwargs.items():
        if name == "timeout":
            if value is not httpx.USE_CLIENT_DEFAULT:
                return False
        elif name != "json" and value is not None:
            return False
    return True


def async_client(
    *, timeout: float, max_connections: int = DEFAULT_MAX_CONNECTIONS
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` for SDKs that want one (pywa), sending over a bounded aiohttp pool."""
    return ProviderClient(
        timeout=timeout, transport=AiohttpTransport(max_connections), trust_env=False
    )
