"""A receiver for rebook's outbound webhooks, standard library only: verify, deduplicate, answer 2xx fast.

    WEBHOOK_SECRET=whsec_... python webhook_receiver.py --port 8080

Each POST is checked the Standard Webhooks way (https://www.standardwebhooks.com): the signature is
HMAC-SHA256, keyed with the base64-decoded part of the secret after `whsec_`, over
"{webhook-id}.{webhook-timestamp}.{raw body}", base64-encoded and prefixed "v1,"; the
`webhook-signature` header may list several (space-separated) during a secret rotation. A timestamp
more than five minutes from now is refused (a replayed capture), and a `webhook-id` seen before is
acknowledged without being processed again (rebook delivers at least once).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import time
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_S = 300


class Invalid(Exception):
    """The delivery is not authentic (or too old, or too new): answer 401 and do nothing with it."""


def verify(secret: str, headers: dict[str, str], body: bytes, *, tolerance: int = TOLERANCE_S, now: float | None = None) -> dict[str, Any]:
    """The parsed payload of an authentic delivery; raises Invalid otherwise. Pass the body exactly as received."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, signatures = lower.get("webhook-id"), lower.get("webhook-timestamp"), lower.get("webhook-signature")
    if not (msg_id and stamp and signatures):
        raise Invalid("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent = int(stamp)
    except ValueError:
        raise Invalid("webhook-timestamp is not an integer") from None
    if abs((time.time() if now is None else now) - sent) > tolerance:
        raise Invalid("webhook-timestamp outside the tolerance")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{sent}.".encode() + body, hashlib.sha256).digest()).decode()
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            return dict(json.loads(body))
    raise Invalid("no matching signature")


class _Seen:
    """The last webhook-ids processed (a real receiver keeps them in its database, with the effect)."""

    def __init__(self, size: int = 10_000) -> None:
        self.ids: OrderedDict[str, None] = OrderedDict()
        self.size = size

    def first_time(self, msg_id: str) -> bool:
        if msg_id in self.ids:
            return False
        self.ids[msg_id] = None
        if len(self.ids) > self.size:
            self.ids.popitem(last=False)
        return True


def handler(secret: str) -> type[BaseHTTPRequestHandler]:
    seen = _Seen()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            try:
                event = verify(secret, dict(self.headers.items()), body)
            except Invalid as exc:
                self.send_error(401, str(exc))
                return
            if seen.first_time(self.headers["webhook-id"]):
                print(json.dumps({"id": self.headers["webhook-id"], "type": event["type"], "data": event["data"]}), flush=True)
            self.send_response(204)
            self.end_headers()

    return Receiver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    ThreadingHTTPServer((args.host, args.port), handler(os.environ["WEBHOOK_SECRET"])).serve_forever()


if __name__ == "__main__":
    main()
