"""HTTP client factory for the provider adapters: bounded aiohttp pools, and httpx over aiohttp.

Why aiohttp under httpx: measured through the WhatsApp adapter against a loopback fake with 64
sends in flight, pywa over httpx's own pool (httpcore) cost 2.47 ms of CPU a send (1.87 ms with
`sniffio` installed, which httpcore imports on every request), because httpcore's pool scans
connections x waiting requests on every request; the same sends over aiohttp cost a fraction
of that (numbers in `bench/sends.py`). SDKs that expect an `httpx.AsyncClient` (pywa) get one
whose transport is `AiohttpTransport`, so every HTTP adapter shares one client stack.

Sessions bind to the running event loop: build them on first use inside it, close them on
shutdown (an unclosed session is an error under the test suite's `filterwarnings = error`).
"""

from __future__ import annotations

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
        return httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            content=content,
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        await self.session.close()


def async_client(
    *, timeout: float, max_connections: int = DEFAULT_MAX_CONNECTIONS
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` for SDKs that want one (pywa), sending over a bounded aiohttp pool."""
    return httpx.AsyncClient(
        timeout=timeout, transport=AiohttpTransport(max_connections), trust_env=False
    )
