"""A fake of FCM's HTTP v1 send endpoint and Google's OAuth token endpoint, for firebase-admin on 127.0.0.1.

The token endpoint checks the service account's signed JWT assertion (RS256, its public key) and
hands out access tokens; the send endpoint wants one of them, checks FCM's limits (4096 bytes,
string data, a registration token) and answers FCM's error shapes (`details[].errorCode`).
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

PROJECT = "rebook-air-test"
#: google-auth signs its assertion for Google's token endpoint whatever the file's token_uri says.
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
_TOKEN = re.compile(r"[0-9A-Za-z:_+\-]{8,4096}")
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def service_account(directory: Path, key: rsa.RSAPrivateKey, token_uri: str, *, name: str = "sa.json") -> Path:
    """A service-account file as the Firebase console downloads it, its token_uri the fake's."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    path = directory / name
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": secrets.token_hex(20),
                "private_key": pem,
                "client_email": f"firebase-adminsdk@{PROJECT}.iam.gserviceaccount.com",
                "client_id": "1234567890",
                "token_uri": token_uri,
            }
        )
    )
    return path


@dataclass
class FcmSend:
    token: str
    message: dict[str, Any]
    size: int
    authorization: str


@dataclass
class FakeFcm:
    """`sends` records every accepted message; `fail_next` scripts FCM errors; `unregistered` tokens answer 404 UNREGISTERED."""

    key: rsa.RSAPrivateKey
    project: str = PROJECT
    sends: list[FcmSend] = field(default_factory=list)
    attempts: int = 0
    token_requests: int = 0
    unregistered: set[str] = field(default_factory=set)
    issued: set[str] = field(default_factory=set)
    _script: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fail_next(self, status: int, error_code: str, headers: dict[str, str] | None = None) -> None:
        self._script.append((status, error_code, headers or {}))

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post("/token")
        async def token(request: Request) -> JSONResponse:
            self.token_requests += 1
            form = await request.form()
            try:
                claims = jwt.decode(str(form.get("assertion", "")), self.key.public_key(), algorithms=["RS256"], audience=[str(request.url), GOOGLE_TOKEN_URI])
            except jwt.PyJWTError:
                return JSONResponse({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, status_code=400)
            if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" or "auth/cloud-platform" not in str(claims.get("scope", "")):
                return JSONResponse({"error": "invalid_scope"}, status_code=400)
            access = f"ya29.fake-{secrets.token_urlsafe(12)}"
            self.issued.add(access)
            return JSONResponse({"access_token": access, "expires_in": 3599, "token_type": "Bearer"})

        @api.post("/v1/projects/{project}/messages:send")
        async def send(project: str, request: Request) -> JSONResponse:
            self.attempts += 1
            authorization = request.headers.get("authorization", "")
            if authorization.removeprefix("Bearer ") not in self.issued:
                return _error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
            if project != self.project:
                return _error(403, "SenderId mismatch", "SENDER_ID_MISMATCH")
            raw = await request.body()
            message = json.loads(raw).get("message", {})
            if self._script:
                status, code, headers = self._script.pop(0)
                return _error(status, f"scripted {code}", code, headers)
            device = str(message.get("token", ""))
            if not _TOKEN.fullmatch(device):
                return _error(400, "The registration token is not a valid FCM registration token", "INVALID_ARGUMENT")
            if any(not isinstance(v, str) for v in message.get("data", {}).values()):
                return _error(400, "Invalid value at 'message.data': not a string", "INVALID_ARGUMENT")
            if len(json.dumps({k: message.get(k) for k in ("data", "notification", "android")}).encode()) > 4096:
                return _error(400, "Message is too big", "INVALID_ARGUMENT")
            if device in self.unregistered:
                return _error(404, "Requested entity was not found.", "UNREGISTERED")
            self.sends.append(FcmSend(device, message, len(raw), authorization))
            return JSONResponse({"name": f"projects/{self.project}/messages/0:{next(self._ids)}%fake"})

        return api


def _error(status: int, text: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {
        "error": {
            "code": status,
            "message": text,
            "status": _STATUS.get(status, "UNKNOWN"),
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}],
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)
