"""iOS push through Apple's APNs: HTTP/2 on httpx with an ES256 provider token (apns2 does not run on 3.11).

API: https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns
(POST /3/device/{token}; the answer to a success is a HEADERS frame alone, `apns-id`). Setup: an
APNs auth key (.p8) from the developer account, its key id, the team id and the app's bundle id
(the topic). The app registers the `rebook.options.N` categories and posts a tapped option with
the payload's `action_token` to `POST /v1/app/actions`; there is no delivery receipt.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Final

import httpx
import jwt

from channels.push_payload import CAPABILITIES, Notification, fit, shown_text
from conversations.ports import (
    ChannelError,
    DeviceUnregistered,
    InvalidCredentials,
    MessageRejected,
    OutboundMessage,
    ProviderUnavailable,
    RateLimited,
    SendResult,
)

PROVIDER: Final = "apns"
CHANNEL: Final = "push"
PRODUCTION: Final = "https://api.push.apple.com"
#: Apple refuses a provider token older than an hour and one renewed more often than every 20 minutes
#: (TooManyProviderTokenUpdates): ours is renewed after 50 minutes, or once when Apple calls it expired
#: (clocks apart), and a send that raced the renewal reuses the new one.
TOKEN_REFRESH_S: Final = 50 * 60

#: Every reason Apple documents, by what the dispatcher should do with it.
_TOKEN_GONE: Final = frozenset({"Unregistered", "ExpiredToken", "BadDeviceToken", "DeviceTokenNotForTopic", "MissingDeviceToken"})
_CREDENTIALS: Final = frozenset(
    {
        "InvalidProviderToken",
        "MissingProviderToken",
        "ExpiredProviderToken",
        "BadCertificate",
        "BadCertificateEnvironment",
        "Forbidden",
        "BadTopic",
        "MissingTopic",
        "TopicDisallowed",
        "UnrelatedKeyIdInToken",
        "BadEnvironmentKeyInToken",
    }
)
_REJECTED: Final = frozenset(
    {
        "BadCollapseId",
        "BadExpirationDate",
        "BadMessageId",
        "BadPriority",
        "DuplicateHeaders",
        "InvalidPushType",
        "PayloadEmpty",
        "PayloadTooLarge",
        "BadPath",
        "MethodNotAllowed",
    }
)
_TRANSIENT: Final = frozenset({"IdleTimeout", "InternalServerError", "ServiceUnavailable", "Shutdown"})
#: TooManyProviderTokenUpdates: our own pace of token renewal; the next one is allowed 20 minutes on at most.
_TOKEN_UPDATES_WAIT_S: Final = 60.0


def classify(status: int, reason: str, retry_after: float | None = None) -> ChannelError:
    """One APNs answer that was not a 200, as the ChannelError the dispatcher acts on."""
    text = f"APNs {status} {reason}"
    if status == 410 or reason in _TOKEN_GONE:
        return DeviceUnregistered(text, code=reason or str(status))
    if reason == "TooManyRequests" or (status == 429 and reason != "TooManyProviderTokenUpdates"):
        return RateLimited(text, code=reason or "429", retry_after=retry_after or 1.0)
    if reason == "TooManyProviderTokenUpdates":
        return RateLimited(text, code=reason, retry_after=retry_after or _TOKEN_UPDATES_WAIT_S)
    if reason in _CREDENTIALS:
        return InvalidCredentials(text, code=reason)
    if reason in _TRANSIENT or status >= 500:
        return ProviderUnavailable(text, code=reason or str(status))
    if reason in _REJECTED or status < 500:
        return MessageRejected(text, code=reason or str(status))
    return ProviderUnavailable(text, code=reason or str(status))


class ProviderToken:
    """The ES256 JWT every request carries: minted from the .p8 key, reused until it is 50 minutes old."""

    def __init__(self, *, key_id: str, team_id: str, private_key: str, clock: Callable[[], float] = time.time) -> None:
        self.key_id, self.team_id, self.private_key = key_id, team_id, private_key
        self.clock = clock
        self._token = ""
        self._issued = 0.0
        self.minted = 0

    def current(self) -> str:
        if not self._token or self.clock() - self._issued >= TOKEN_REFRESH_S:
            self._mint()
        return self._token

    def renew(self, stale: str) -> str:
        """Apple called `stale` expired: mint one new token, unless a concurrent send already did."""
        if self._token == stale:
            self._mint()
        return self._token

    def _mint(self) -> None:
        now = self.clock()
        self._token = jwt.encode({"iss": self.team_id, "iat": int(now)}, self.private_key, algorithm="ES256", headers={"kid": self.key_id})
        self._issued = now
        self.minted += 1


class ApnsChannel:
    """Alerts with option actions to iOS devices, one HTTP/2 connection per process."""

    name = CHANNEL
    provider = PROVIDER
    capabilities = CAPABILITIES

    def __init__(
        self,
        *,
        key_id: str,
        team_id: str,
        private_key: str,
        topic: str,
        api_base: str = PRODUCTION,
        ca_file: str | None = None,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.topic = topic
        self.api_base = api_base.rstrip("/")
        self.token = ProviderToken(key_id=key_id, team_id=team_id, private_key=private_key, clock=clock)
        self.clock = clock
        self._verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
        self._timeout = timeout_s
        self._client: httpx.AsyncClient | None = None
        self._lock = asyncio.Lock()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(http2=True, verify=self._verify, timeout=self._timeout)
        return self._client

    def headers(self, message: OutboundMessage, note: Notification) -> dict[str, str]:
        headers = {
            "apns-topic": self.topic,
            "apns-push-type": "alert",
            # 10: at once (an offer waits on the passenger); 5: when the phone's power allows.
            "apns-priority": "10" if note.options else "5",
            "apns-expiration": str(int(note.expires_at.timestamp())),
            # The same id for every attempt of one message: Apple echoes it, our delivery row keeps it.
            "apns-id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"rebook:{message.idempotency_key}")),
        }
        if note.collapse_id:
            headers["apns-collapse-id"] = note.collapse_id
        return headers

    async def send(self, message: OutboundMessage) -> SendResult:
        note, payload = fit(message, dt.datetime.fromtimestamp(self.clock(), dt.UTC), encode)
        headers = self.headers(message, note)
        token = self.token.current()
        response = await self._post(message.to, payload, headers, token)
        if response.status_code == 403 and _reason(response) == "ExpiredProviderToken":
            async with self._lock:
                token = self.token.renew(token)
            response = await self._post(message.to, payload, headers, token)
        if response.status_code == 200:
            apns_id = response.headers.get("apns-id", headers["apns-id"])
            return SendResult(provider=PROVIDER, provider_message_id=apns_id, text=shown_text(note))
        raise classify(response.status_code, _reason(response), _retry_after(response.headers))

    async def _post(self, device: str, payload: bytes, headers: Mapping[str, str], token: str) -> httpx.Response:
        try:
            return await self._http().post(
                f"{self.api_base}/3/device/{device}",
                content=payload,
                headers={**headers, "authorization": f"bearer {token}", "content-type": "application/json"},
            )
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(f"APNs timed out: {type(exc).__name__}", code="timeout") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"APNs unreachable: {type(exc).__name__}", code="connect") from exc

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def encode(note: Notification) -> bytes:
    """The APNs JSON: `aps` for the system (alert, category, thread), `rebook` for the app."""
    alert: dict[str, str] = {"body": note.body}
    if note.title:
        alert["title"] = note.title
    aps: dict[str, Any] = {"alert": alert, "category": note.category, "sound": "default"}
    if note.collapse_id:
        aps["thread-id"] = note.collapse_id
    if note.options:
        aps["interruption-level"] = "time-sensitive"
    return json.dumps({"aps": aps, "rebook": note.data()}, ensure_ascii=False, separators=(",", ":")).encode()


def _reason(response: httpx.Response) -> str:
    try:
        body = json.loads(response.content or b"{}")
    except ValueError:
        return ""
    reason = body.get("reason") if isinstance(body, dict) else None
    return str(reason) if reason else ""


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
