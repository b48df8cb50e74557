"""Lanes under default pacing: a ~5,000-passenger wave through the real SDKs against paced provider fakes.

Path measured: one `rebook worker`-shaped process (the `Worker` loop of `gateway/worker/process.py`, in this
process) on PostgreSQL + Redis, the real twilio and pywa SDKs (`channels/sms.py`,
`channels/whatsapp.py`) aimed at a fake of both providers served by a separate process. The fake
answers each request after 50–150 ms and returns 429 (Twilio 20429, WhatsApp 130429) above the rate
it enforces per sender, checked when a request arrives: a token bucket of 1 segment/s and a burst of
7 per Twilio number (Twilio itself queues what comes faster; this fake refuses it), 80/s and a burst
of 80 per WhatsApp phone number id. The SMS burst is one segment above rebook's own (6): a number's
first send leaves rebook's bucket when it is taken but the fake's only when it arrives, which on a
worker busy planning the wave is ~0.4 s later (measured), and the fake, exact to the millisecond
unlike a real provider, would hold that against every later send. Pacing is rebook's default (SMS 1 segment/s per number with 4
of a burst of 6 kept for answers, WhatsApp 80/s per number with 8 kept) over a pool of 10 Twilio
numbers and 2 WhatsApp numbers. While the wave drains, passengers who hold an offer write HELP
(a keyword answer) at `--tap-rate`, 40% by SMS and 60% on WhatsApp, from when every booking holds options; each answer is timed from the moment the reply is handed to
the engine (`InboundRouter.accept`, what a webhook calls) to the moment the fake receives it.

Prints JSON per lane: messages accepted by the fake, the lane's achieved rate as a share of its
bucket while it had work, 429s received; and the tap→hand-over latency p50/p99.

    .venv/bin/python bench/paced.py --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from channels.segments import count_segments  # noqa: E402

SMS_NUMBERS = [f"+1555010{i:04d}" for i in range(10)]
WA_NUMBERS = ["1000000000001", "1000000000002"]
SID = "AC" + "0" * 32
TOKEN = "paced-bench-token"


# ---- the provider fake (runs in its own process) ----


class PacedFake:
    """Twilio's Messages.json and the Graph API's /messages, each sender limited like the provider."""

    def __init__(self, sms_rate: float, wa_rate: float, sms_burst: float = 7.0, wa_burst: float | None = None) -> None:
        self.limits = {"sms": sms_rate, "whatsapp": wa_rate}
        self.bursts = {"sms": max(sms_burst, 1.0), "whatsapp": wa_burst if wa_burst is not None else max(wa_rate, 1.0)}
        self.buckets: dict[str, tuple[float, float]] = {}
        self.accepted: list[tuple[str, str, float, str, int]] = []  # (channel, sender, at, idempotency key, segments)
        self.rejected: collections.Counter[str] = collections.Counter()
        self.refusals: list[tuple[str, float, float]] = []  # (lane, at, tokens there): to see why a send was refused
        self.seq = 0

    def _take(self, channel: str, sender: str, cost: int = 1) -> bool:
        """A long code's limit counts SMS segments, WhatsApp's messages. A long SMS is taken whole once a token is
        there, putting the number in debt: Twilio queues what exceeds a number's rate rather than refusing it,
        so a refusal here stands for a queue we would otherwise build at Twilio, not for a message's length."""
        rate = self.limits[channel]
        if rate <= 0:
            return True
        now = time.monotonic()
        burst = self.bursts[channel]
        tokens, at = self.buckets.get(f"{channel}:{sender}", (burst, now))
        tokens = min(burst, tokens + (now - at) * rate)
        ok = tokens >= 1
        self.buckets[f"{channel}:{sender}"] = (tokens - cost if ok else tokens, now)
        if not ok:
            self.refusals.append((f"{channel}:{sender}", time.time(), round(tokens, 3)))
        return ok

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        path = scope["path"]
        if path == "/stats":
            await answer_json(send, 200, {"accepted": self.accepted, "rejected": dict(self.rejected), "refusals": self.refusals})
            return
        arrived = time.time()  # the limit is the provider's at arrival; the 50-150 ms is its work on the answer
        delay = asyncio.sleep(random.uniform(0.05, 0.15))
        self.seq += 1
        if path.endswith("/Messages.json"):
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            sender = form.get("From", "")
            segments = count_segments(form.get("Body", ""))
            if not self._take("sms", sender, segments):
                self.rejected[f"sms:{sender}"] += 1
                await delay
                await answer_json(send, 429, {"code": 20429, "message": "Too Many Requests", "status": 429}, {"retry-after": "1"})
                return
            key = dict(scope["headers"]).get(b"i-twilio-idempotency-token", b"").decode()
            self.accepted.append(("sms", sender, arrived, key, segments))
            await delay
            await answer_json(send, 201, {"sid": f"SM{self.seq:032x}", "status": "queued", "num_segments": str(segments)})
            return
        if path.endswith("/messages"):
            sender = path.strip("/").split("/")[-2]
            if not self._take("whatsapp", sender):
                self.rejected[f"whatsapp:{sender}"] += 1
                await delay
                await answer_json(send, 429, {"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429}})
                return
            payload = json.loads(body or b"{}")
            self.accepted.append(("whatsapp", sender, arrived, str(payload.get("biz_opaque_callback_data", "")), 1))
            await delay
            await answer_json(
                send,
                200,
                {"messaging_product": "whatsapp", "contacts": [{"input": payload.get("to", ""), "wa_id": payload.get("to", "")}],
                 "messages": [{"id": f"wamid.{self.seq:020d}"}]},
            )
            return
        await answer_json(send, 404, {"error": "unknown path"})


async def read_body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def answer_json(send: Any, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
    data = json.dumps(payload).encode()
    extra = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json"), *extra]})
    await send({"type": "http.response.body", "body": data})


def serve_fake(port: int, sms_rate: float, wa_rate: float, sms_burst: float = 7.0) -> None:
    import uvicorn

    uvicorn.run(PacedFake(sms_rate, wa_rate, sms_burst), host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")


# ---- the bench ----


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 3) if ordered else 0.0


async def run(args: argparse.Namespace) -> dict[str, object]:
    import httpx
    from pydantic import SecretStr
    from sqlalchemy import func, select

    from bench.disruption import REDIS, _cancel, _pg_create, _pg_drop, _pick, _seed
    from conversations.models import Conversation, OutboxMessage
    from gateway.container import build
    from gateway.migrate import upgrade_async
    from gateway.settings import Settings, TwilioSettings, WhatsAppSettings
    from gateway.worker.process import Worker
    from rebooking_core.models import ContactPoint

    port = args.fake_port
    fake = subprocess.Popen(
        [sys.executable, __file__, "--fake", str(port), str(args.sms_rate), str(args.wa_rate), str(args.sms_burst)]
    )
    name, url = await _pg_create()
    try:
        await upgrade_async(url)
        base = f"http://127.0.0.1:{port}"
        secret = "paced-bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=url,
            redis_url=REDIS,
            pii_keys=SecretStr(f"k1:{secret}"),
            blind_index_key=SecretStr(secret),
            ops_api_keys=SecretStr(secret),
            public_base_url="https://rebook.example.test",
            worker_metrics_port=0,
            twilio=TwilioSettings(account_sid=SID, auth_token=SecretStr(TOKEN), from_number=SMS_NUMBERS[0],
                                  from_numbers=",".join(SMS_NUMBERS[1:]), api_base=base),
            whatsapp=WhatsAppSettings(phone_number_id=WA_NUMBERS[0], phone_number_ids=",".join(WA_NUMBERS[1:]),
                                      token=SecretStr(TOKEN), app_secret=SecretStr(secret), verify_token=SecretStr(secret), api_base=base),
        )
        import redis.asyncio as aioredis

        r = aioredis.Redis.from_url(REDIS)
        await r.flushdb()
        await r.aclose()
        c = build(settings)
        await c.start()
        day = dt.date.today() + dt.timedelta(days=1)
        await _seed(c, seed=args.seed, start=day, days=2)
        flights = await _pick(c, day, args.passengers)
        worker = Worker(c)
        loop_task = asyncio.create_task(worker.run())
        recorded = await _cancel(c, flights)
        t0 = time.time()
        await c.jobs.disruption_recorded(recorded.disruption_id)
        while True:  # the watch starts once every impacted booking holds options: the wave then only drains
            async with c.db.reading() as s:
                total = await s.scalar(select(func.count()).select_from(Conversation))
                pending = await s.scalar(select(func.count()).select_from(Conversation).where(Conversation.status == "pending"))
            if total and not pending:
                break
            await asyncio.sleep(0.5)
        watch = time.time()
        cpu_at_watch = time.process_time()

        # Taps: passengers holding an offer that has reached them write HELP while the wave drains.
        tapped: dict[str, float] = {}
        taps: list[tuple[str, str]] = []

        async def tapper() -> None:
            """Taps at `--tap-rate`, SMS and WhatsApp in the wave's mix (40/60), each by a passenger whose offer has arrived."""
            from conversations.ports import InboundText

            found: dict[str, list[Any]] = {"sms": [], "whatsapp": []}
            while len(taps) < args.taps:
                for channel in found:
                    if not found[channel]:
                        async with c.db.reading() as s:
                            found[channel] = list(
                                (
                                    await s.execute(
                                        select(Conversation.id, ContactPoint.address)
                                        .join(OutboxMessage, OutboxMessage.conversation_id == Conversation.id)
                                        .join(ContactPoint, ContactPoint.passenger_id == Conversation.passenger_id)
                                        .where(
                                            OutboxMessage.status == "sent",
                                            OutboxMessage.channel == channel,
                                            ContactPoint.channel == channel,
                                            Conversation.id.not_in([int(t[1:]) for t, _ in taps] or [0]),
                                        )
                                        .limit(50)
                                    )
                                ).all()
                            )
                sms_share = sum(1 for _, ch in taps if ch == "sms") / max(1, len(taps))
                channel = "sms" if sms_share < 0.4 and found["sms"] else "whatsapp"
                if not found[channel]:
                    await asyncio.sleep(0.2)
                    continue
                conv_id, address = found[channel].pop(0)
                event = InboundText(
                    provider="twilio" if channel == "sms" else "whatsapp", event_id=f"bench-tap-{len(taps)}", channel=channel,
                    sender=address, text="HELP", choice_token=None, received_at=dt.datetime.now(dt.UTC),
                )
                tapped[f"c{conv_id}"] = time.time()
                taps.append((f"c{conv_id}", channel))
                await c.inbound.accept([event])
                await asyncio.sleep(1 / args.tap_rate)

        tap_task = asyncio.create_task(tapper())
        await asyncio.sleep(args.seconds)
        cpu_watched = time.process_time() - cpu_at_watch
        tap_task.cancel()
        loop_task.cancel()
        for t in (tap_task, loop_task):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await c.dispatcher.settle()
        async with httpx.AsyncClient() as http:
            stats = (await http.get(f"{base}/stats")).json()
        async with c.db.reading() as s:
            by_status = dict((await s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all())
            failed = dict(
                (await s.execute(
                    select(OutboxMessage.last_error, func.count()).where(OutboxMessage.status == "failed").group_by(OutboxMessage.last_error)
                )).all()
            )
        await c.aclose()
    finally:
        fake.terminate()
        fake.wait()
        await _pg_drop(name)

    lanes: dict[str, list[tuple[float, int]]] = collections.defaultdict(list)
    for channel, sender, at, _, cost in stats["accepted"]:
        if at >= watch:
            lanes[f"{channel}:{sender}"].append((at, cost))
    rates = {"sms": args.sms_rate, "whatsapp": args.wa_rate}
    per_lane = {}
    for lane, sends in sorted(lanes.items()):
        sends.sort()
        busy = sends[-1][0] - sends[0][0]
        rate = rates[lane.split(":")[0]]
        tokens = sum(cost for _, cost in sends[1:])  # segments for SMS, messages for WhatsApp
        # While it has work, a lane should send its bucket's rate every second: tokens per whole second
        # from its first send, over the seconds before its backlog ran out (the last 10% of its sends).
        per_second = collections.Counter(int(at - sends[0][0]) for at, _ in sends[: max(1, int(len(sends) * 0.9))])
        for at, cost in sends[: max(1, int(len(sends) * 0.9))]:
            per_second[int(at - sends[0][0])] += cost - 1
        full = [per_second[s] for s in range(max(per_second) if per_second else 0)]  # whole seconds only
        per_lane[lane] = {
            "accepted": len(sends),
            "tokens": tokens + sends[0][1],
            "share_of_bucket_from_first_to_last_send": round(tokens / busy / rate, 3) if busy > 0 else None,
            "share_of_bucket_while_busy": round(sum(full) / len(full) / rate, 3) if full else None,
            "busy_seconds": len(full),
            "rejected_429": stats["rejected"].get(lane, 0),
        }
    # The answer to a tap is the first message of that conversation the fake accepts after it (its offer went earlier).
    answered: dict[str, float] = {}
    for _channel, _sender, at, key, _ in stats["accepted"]:
        conv = key.split("-")[0]
        if conv in tapped and at >= tapped[conv]:
            answered[conv] = min(answered.get(conv, at), at)
    latencies = [at - tapped[conv] for conv, at in answered.items()]
    tap_channel = dict(taps)
    by_channel = {
        ch: sorted(at - tapped[conv] for conv, at in answered.items() if tap_channel.get(conv) == ch) for ch in ("sms", "whatsapp")
    }
    return {
        "path": "one worker process, real twilio + pywa SDKs over HTTP to a paced fake (50-150 ms, 429 above rate), PostgreSQL + Redis",
        "seconds": args.seconds,
        "pool": {"sms": len(SMS_NUMBERS), "whatsapp": len(WA_NUMBERS)},
        "fake_limits_per_sender": rates,
        "options_held_after_s": round(watch - t0, 1),
        "sent_before_watch": sum(1 for a in stats["accepted"] if a[2] < watch),
        "lanes": per_lane,
        "outbox_by_status_at_end": by_status,
        "failed_by_reason": failed,
        "worker_cpu_share_while_watched": round(cpu_watched / args.seconds, 3),
        "taps": len(taps),
        "tap_to_handover_s": {"n": len(latencies), "p50": _pct(latencies, 0.5), "p99": _pct(latencies, 0.99), "max": _pct(latencies, 1.0)},
        "tap_to_handover_s_by_channel": {
            ch: {"n": len(v), "p50": _pct(v, 0.5), "p99": _pct(v, 0.99)} for ch, v in by_channel.items()
        },
        "slowest_taps": sorted(
            ({"conversation": conv, "channel": tap_channel.get(conv), "s": round(at - tapped[conv], 3)} for conv, at in answered.items()),
            key=lambda t: -float(t["s"] or 0),
        )[:5],
        "lane_messages_by_channel": {
            ch: sum(v["accepted"] for lane, v in per_lane.items() if lane.startswith(ch)) for ch in ("sms", "whatsapp")
        },
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--fake":
        serve_fake(int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]) if len(sys.argv) > 5 else 7.0)
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--passengers", type=int, default=5000)
    p.add_argument("--seconds", type=float, default=60.0, help="how long the wave is watched")
    p.add_argument("--sms-rate", type=float, default=1.0, help="messages/s the fake accepts per Twilio number")
    p.add_argument("--wa-rate", type=float, default=80.0, help="messages/s the fake accepts per WhatsApp number")
    p.add_argument("--sms-burst", type=float, default=7.0, help="segments a Twilio number of the fake accepts at once")
    p.add_argument("--taps", type=int, default=200)
    p.add_argument("--tap-rate", type=float, default=5.0)
    p.add_argument("--fake-port", type=int, default=18791)
    p.add_argument("--seed", type=int, default=21)
    args = p.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
