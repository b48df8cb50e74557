"""A fake of Apple's APNs on 127.0.0.1: HTTP/2 over TLS (h2), a certificate made for the test, Apple's answers.

It checks what Apple checks: ES256 provider token (key id, team, signature, at most an hour old),
topic, push type, a payload of at most 4096 bytes, the device token; it answers a success with a
HEADERS frame alone (`apns-id`, END_STREAM), and an error with Apple's JSON `{"reason": …}`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import re
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TEAM_ID = "TEAM123456"
KEY_ID = "KEY1234567"
TOPIC = "com.rebookair.app"
_DEVICE = re.compile(r"[0-9A-Za-z+_\-]{8,200}")


def p8_key() -> tuple[str, ec.EllipticCurvePrivateKey]:
    """An APNs auth key as Apple hands it out: a P-256 key in PKCS#8 PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode(), key


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key; the certificate is also the CA the client trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.push.apple.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "apns.crt", directory / "apns.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class ApnsRequest:
    device: str
    headers: dict[str, str]
    payload: dict[str, Any]
    size: int
    answered: int
    reason: str = ""


@dataclass
class FakeApns:
    """Apple's rules and a script of failures (`fail_next`); `requests` records every POST with its answer."""

    public_key: ec.EllipticCurvePublicKey
    team_id: str = TEAM_ID
    key_id: str = KEY_ID
    topic: str = TOPIC
    clock: Callable[[], float] = time.time
    requests: list[ApnsRequest] = field(default_factory=list)
    unregistered: set[str] = field(default_factory=set)
    #: Tokens issued before this (unix time) are answered ExpiredProviderToken, as if Apple's clock ran ahead.
    expired_before: float = 0.0
    tokens_seen: list[str] = field(default_factory=list)
    _script: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)

    def fail_next(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        self._script.append((status, reason, headers or {}))

    def answer(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Status, response headers and body for one request, as Apple would."""
        path = headers.get(":path", "")
        device = path.removeprefix("/3/device/") if path.startswith("/3/device/") else ""
        apns_id = headers.get("apns-id") or str(uuid.uuid4()).upper()

        def error(status: int, reason: str, extra: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
            self.requests.append(ApnsRequest(device, headers, _json(body), len(body), status, reason))
            content: dict[str, Any] = {"reason": reason}
            if status == 410:
                content["timestamp"] = int(self.clock() * 1000)
            return status, {"apns-id": apns_id, **(extra or {})}, json.dumps(content).encode()

        if headers.get(":method") != "POST":
            return error(405, "MethodNotAllowed")
        if not path.startswith("/3/device/"):
            return error(404, "BadPath")
        refused = self._provider_token(headers.get("authorization", ""))
        if refused:
            return error(403, refused)
        if self._script:
            status, reason, extra = self._script.pop(0)
            return error(status, reason, extra)
        if headers.get("apns-topic") != self.topic:
            return error(400, "BadTopic" if headers.get("apns-topic") else "MissingTopic")
        if headers.get("apns-push-type") not in ("alert", "background"):
            return error(400, "InvalidPushType")
        if headers.get("apns-priority") not in (None, "1", "5", "10"):
            return error(400, "BadPriority")
        if len(headers.get("apns-collapse-id", "").encode()) > 64:
            return error(400, "BadCollapseId")
        if not body:
            return error(400, "PayloadEmpty")
        if len(body) > 4096:
            return error(413, "PayloadTooLarge")
        if not _DEVICE.fullmatch(device):
            return error(400, "BadDeviceToken")
        if device in self.unregistered:
            return error(410, "Unregistered")
        self.requests.append(ApnsRequest(device, headers, _json(body), len(body), 200))
        return 200, {"apns-id": apns_id}, b""

    def _provider_token(self, authorization: str) -> str:
        if not authorization.startswith("bearer "):
            return "MissingProviderToken"
        token = authorization.removeprefix("bearer ")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, self.public_key, algorithms=["ES256"], options={"verify_iat": False})
        except jwt.PyJWTError:
            return "InvalidProviderToken"
        if header.get("kid") != self.key_id or claims.get("iss") != self.team_id:
            return "InvalidProviderToken"
        issued = float(claims.get("iat", 0))
        if token not in self.tokens_seen:
            self.tokens_seen.append(token)
        if self.clock() - issued > 3600 or issued < self.expired_before:
            return "ExpiredProviderToken"
        return ""

    def last(self) -> ApnsRequest:
        return [r for r in self.requests if r.answered == 200][-1]


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class LocalApns:
    """Serves a FakeApns on a free loopback port over TLS with ALPN h2, in a background thread."""

    def __init__(self, fake: FakeApns) -> None:
        self.fake = fake
        self._dir = tempfile.TemporaryDirectory()
        self.ca_file, key_file = self_signed(Path(self._dir.name))
        self._ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ssl.load_cert_chain(self.ca_file, key_file)
        self._ssl.set_alpn_protocols(["h2"])
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0
        self.connections = 0
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def __enter__(self) -> LocalApns:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._ssl), self._loop)
        self._server = started.result(timeout=10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._writers):
                writer.close()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._dir.cleanup()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        streams: dict[int, tuple[dict[str, str], bytearray]] = {}
        try:
            while data := await reader.read(65536):
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        streams[event.stream_id] = ({str(k): str(v) for k, v in event.headers}, bytearray())
                    elif isinstance(event, h2.events.DataReceived):
                        streams[event.stream_id][1].extend(event.data)
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        headers, body = streams.pop(event.stream_id)
                        status, extra, content = self.fake.answer(headers, bytes(body))
                        response = [(":status", str(status)), *extra.items()]
                        if content:
                            response.append(("content-type", "application/json"))
                            conn.send_headers(event.stream_id, response)
                            conn.send_data(event.stream_id, content, end_stream=True)
                        else:  # as Apple answers a success: the HEADERS frame ends the stream
                            conn.send_headers(event.stream_id, response, end_stream=True)
                    elif isinstance(event, h2.events.ConnectionTerminated):
                        return
                writer.write(conn.data_to_send())
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()
