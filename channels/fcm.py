"""Android push through Firebase Cloud Messaging with firebase-admin's async send path (HTTP v1 on httpx).

API: https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send. Setup: a
service-account JSON of the Firebase project (`FCM__CREDENTIALS_FILE`) and its project id. The
notification shows the body; the options, the page link and the action token ride as data, since
Android's action buttons are the app's own (it builds them from `options` and posts a tap to
`POST /v1/app/actions`). There is no delivery receipt.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import time
import warnings
from collections.abc import Callable
from typing import Final

import firebase_admin
import httpx
from firebase_admin import _http_client, _retry, credentials, exceptions, messaging
from google.auth import credentials as google_credentials
from google.auth import exceptions as auth_exceptions
from google.auth.transport import requests as auth_requests

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

PROVIDER: Final = "fcm"
CHANNEL: Final = "push"
PRODUCTION: Final = "https://fcm.googleapis.com"
#: The endpoint override below reaches into this version's private service (CHANNELS.md): any other
#: version stops the start, so an upgrade is checked, not silently sent to Google's host.
SUPPORTED_SDK: Final = "7.7.0"
#: Renew the OAuth token this long before it lapses, in a thread: the SDK would do it inside the event loop.
_RENEW_AHEAD_S: Final = 300.0
_apps = itertools.count(1)

#: FCM's error codes (the SDK's exception classes) by what the dispatcher should do.
_CODES: Final[dict[type[exceptions.FirebaseError], str]] = {
    messaging.UnregisteredError: "UNREGISTERED",
    messaging.QuotaExceededError: "QUOTA_EXCEEDED",
    messaging.SenderIdMismatchError: "SENDER_ID_MISMATCH",
    messaging.ThirdPartyAuthError: "THIRD_PARTY_AUTH_ERROR",
}


def classify(error: exceptions.FirebaseError) -> ChannelError:
    """One failed send, as the ChannelError the dispatcher acts on."""
    code = next((c for klass, c in _CODES.items() if isinstance(error, klass)), str(error.code))
    text = f"FCM {code}"
    if isinstance(error.cause, httpx.TransportError):
        return ProviderUnavailable(text, code="timeout" if isinstance(error.cause, httpx.TimeoutException) else "connect")
    if isinstance(error, messaging.UnregisteredError):
        return DeviceUnregistered(text, code=code)
    if isinstance(error, exceptions.InvalidArgumentError):
        # FCM's answer to a token that is not one (not only a payload it refuses): the token will never work.
        if "registration token" in str(error).lower():
            return DeviceUnregistered(text, code=code)
        return MessageRejected(text, code=code)
    if isinstance(error, (messaging.QuotaExceededError, exceptions.ResourceExhaustedError)):
        return RateLimited(text, code=code, retry_after=_retry_after(error) or 1.0)
    if isinstance(error, (messaging.SenderIdMismatchError, messaging.ThirdPartyAuthError, exceptions.UnauthenticatedError, exceptions.PermissionDeniedError)):
        return InvalidCredentials(text, code=code)
    if isinstance(error, (exceptions.UnavailableError, exceptions.InternalError, exceptions.DeadlineExceededError, exceptions.UnknownError)):
        return ProviderUnavailable(text, code=code)
    return MessageRejected(text, code=code)


def _token_refused(error: exceptions.FirebaseError | None) -> bool:
    """A 401 about our OAuth token (not THIRD_PARTY_AUTH_ERROR, the app's APNs key as FCM holds it)."""
    return isinstance(error, exceptions.UnauthenticatedError) and not isinstance(error, messaging.ThirdPartyAuthError)


def _retry_after(error: exceptions.FirebaseError) -> float | None:
    response = error.http_response
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def aim(app: firebase_admin.App, api_base: str, project_id: str) -> messaging._MessagingService:
    """The SDK's messaging service pointed at `api_base`, its own retries off (the dispatcher retries with backoff).

    Both are private attributes of firebase-admin 7.7.0 (no public endpoint option exists): refused loudly on any other version.
    """
    if firebase_admin.__version__ != SUPPORTED_SDK:
        raise RuntimeError(
            f"channels/fcm.py aims firebase-admin {SUPPORTED_SDK}'s private messaging service at REBOOK_FCM__API_BASE;"
            f" installed: {firebase_admin.__version__}. Re-check the override against the new version, then update SUPPORTED_SDK."
        )
    service = messaging._get_messaging_service(app)
    service._fcm_url = f"{api_base.rstrip('/')}/v1/projects/{project_id}/messages:send"
    service._async_client = _http_client.HttpxAsyncClient(
        credential=service._credential, retry_config=_retry.HttpxRetry(max_retries=0, status_forcelist=[]), timeout=10
    )
    service._async_client.async_client.auth = _LoopSafeAuth(service._credential)
    return service


class _LoopSafeAuth(_http_client.GoogleAuthCredentialFlow):  # type: ignore[misc]  # firebase_admin ships no stubs
    """The SDK's auth flow without its own token renewals: each is a blocking HTTP call inside the event loop.

    The SDK renews before a request when the token has lapsed and again on each 401; here a request
    only carries the current token, and FcmChannel renews it in a thread (ahead of expiry, and once
    after a 401 before its one retry).
    """

    def __init__(self, credential: google_credentials.Credentials) -> None:
        super().__init__(credential)
        self._max_refresh_attempts = 0

    def apply_auth_headers(self, request: httpx.Request, auth_request: auth_requests.Request) -> None:
        self._credential.apply(request.headers)


class FcmChannel:
    """Notifications with the options as data to Android devices, through the SDK's async path."""

    name = CHANNEL
    provider = PROVIDER
    capabilities = CAPABILITIES

    def __init__(
        self, *, credentials_file: str, project_id: str, api_base: str = PRODUCTION, clock: Callable[[], float] = time.time
    ) -> None:
        self.project_id = project_id
        self.clock = clock
        self.app = firebase_admin.initialize_app(
            credentials.Certificate(credentials_file), options={"projectId": project_id}, name=f"rebook-fcm-{next(_apps)}"
        )
        self._service = aim(self.app, api_base, project_id)
        self._credential = self._service._credential
        self._renewing = asyncio.Lock()
        self._closed = False

    def _credential_fresh(self) -> bool:
        """google-auth keeps expiry naive UTC and judges it by the wall clock: so do we."""
        expiry = self._credential.expiry
        return bool(self._credential.token) and expiry is not None and expiry.replace(tzinfo=dt.UTC).timestamp() - time.time() > _RENEW_AHEAD_S

    async def _fresh_credential(self) -> None:
        """A valid OAuth token before the SDK looks: its own renewal is a blocking HTTP call on the event loop."""
        if not self._credential_fresh():
            await self._renew(self._credential.token)

    async def _renew(self, stale: str | None) -> None:
        """A new OAuth token fetched in a thread, unless a concurrent send already replaced `stale` with a fresh one."""
        async with self._renewing:
            if self._credential.token != stale and self._credential_fresh():
                return
            try:
                await asyncio.to_thread(self._credential.refresh, auth_requests.Request())
            except auth_exceptions.RefreshError as exc:
                code = exc.args[1].get("error", "invalid_grant") if len(exc.args) > 1 and isinstance(exc.args[1], dict) else "invalid_grant"
                raise InvalidCredentials("FCM: the service account's token was refused", code=str(code)) from exc
            except auth_exceptions.TransportError as exc:
                raise ProviderUnavailable("FCM: the token endpoint is unreachable", code="connect") from exc

    def message(self, message: OutboundMessage, note: Notification) -> messaging.Message:
        ttl = max(note.expires_at - dt.datetime.fromtimestamp(self.clock(), dt.UTC), dt.timedelta(seconds=0))
        android = messaging.AndroidConfig(
            collapse_key=note.collapse_id or None,
            priority="high" if note.options else "normal",
            ttl=ttl,
            notification=messaging.AndroidNotification(
                title=note.title or None, body=note.body, tag=note.collapse_id or None, click_action=note.category
            ),
        )
        with warnings.catch_warnings():
            # HTTP v1 addresses a registration token as `token`; 7.x steers towards `fid`, which our devices do not register.
            warnings.simplefilter("ignore", DeprecationWarning)
            return messaging.Message(token=message.to, data=note.data(), android=android)

    def encode(self, message: OutboundMessage) -> Callable[[Notification], bytes]:
        def payload(note: Notification) -> bytes:
            body = messaging._MessagingService.encode_message(self.message(message, note))
            return json.dumps({"message": body}, ensure_ascii=False, separators=(",", ":")).encode()

        return payload

    async def send(self, message: OutboundMessage) -> SendResult:
        note, _ = fit(message, dt.datetime.fromtimestamp(self.clock(), dt.UTC), self.encode(message))
        await self._fresh_credential()
        used = self._credential.token
        answer = await self._send_one(self.message(message, note))
        if _token_refused(answer.exception):
            # Google no longer takes the token (revoked, clocks apart): one new token, one more try.
            await self._renew(used)
            answer = await self._send_one(self.message(message, note))
        if answer.exception is not None:
            raise classify(answer.exception)
        return SendResult(provider=PROVIDER, provider_message_id=str(answer.message_id), text=shown_text(note))

    async def _send_one(self, fcm_message: messaging.Message) -> messaging.SendResponse:
        [answer] = (await messaging.send_each_async([fcm_message], app=self.app)).responses
        return answer

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._service._async_client.aclose()
        self._service._client.close()
        # delete_app closes each service with asyncio.run(): from a thread, where that is allowed.
        await asyncio.to_thread(firebase_admin.delete_app, self.app)
