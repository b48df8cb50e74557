"""SES feedback through SNS: SignatureVersion 2 checked with a generated key and certificate, fail closed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from channels.sns import Verifier
from conversations.ports import (
    AddressProblem,
    AddressRejected,
    DeliveryReceipt,
    DeliveryState,
    InboundText,
    ReasonClass,
)
from tests.fakes.sns import CERT_URL, TOPIC, Signer, bounce, complaint, delivery
from webhooks.ses import PATH, router

HOSTS = ("sns.*.amazonaws.com", "sns.*.amazonaws.com.cn")
SES_ID = "0100019a-fake-000001-000000"
ADDRESS = "ada.lovelace@example.com"


class Recording:
    def __init__(self) -> None:
        self.events: list[InboundText | DeliveryReceipt] = []
        self.verdicts: list[AddressRejected] = []

    async def accept(self, events: list[InboundText | DeliveryReceipt]) -> None:
        self.events.extend(events)

    async def reject(self, events: list[AddressRejected]) -> None:
        self.verdicts.extend(events)


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
def recording() -> Recording:
    return Recording()


@pytest.fixture
async def client(signer: Signer, recording: Recording) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    verifier = Verifier(cert_hosts=HOSTS, fetch=signer.fetch, topics=(TOPIC,))
    app.include_router(
        router(sink=recording, addresses=recording, verifier=verifier, clock=lambda: signer.now, confirm=signer.fetch)
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="https://rebook.example.test") as c:
        yield c


async def post(client: httpx.AsyncClient, message: dict[str, Any]) -> int:
    answer = await client.post(PATH, content=json.dumps(message), headers={"Content-Type": "text/plain"})
    return answer.status_code


async def test_a_signed_hard_bounce_fails_the_delivery_and_marks_the_address(
    client: httpx.AsyncClient, signer: Signer, recording: Recording
) -> None:
    message = signer.notification(bounce(SES_ID, ADDRESS))

    assert await post(client, message) == 200

    [receipt] = recording.events
    assert isinstance(receipt, DeliveryReceipt)
    assert (receipt.provider, receipt.provider_message_id, receipt.state) == ("smtp", SES_ID, DeliveryState.FAILED)
    assert receipt.reason_class is ReasonClass.PERMANENT and receipt.error_code == "bounce:5.1.1"
    assert [(v.address, v.problem, v.channel) for v in recording.verdicts] == [
        (ADDRESS, AddressProblem.UNDELIVERABLE, "email")
    ]


async def test_a_soft_bounce_only_fails_the_delivery(client: httpx.AsyncClient, signer: Signer, recording: Recording) -> None:
    assert await post(client, signer.notification(bounce(SES_ID, ADDRESS, permanent=False))) == 200

    [receipt] = recording.events
    assert isinstance(receipt, DeliveryReceipt) and receipt.reason_class is ReasonClass.TEMPORARY
    assert recording.verdicts == []


async def test_a_complaint_withdraws_and_a_delivery_delivers(
    client: httpx.AsyncClient, signer: Signer, recording: Recording
) -> None:
    assert await post(client, signer.notification(complaint(SES_ID, ADDRESS))) == 200
    assert await post(client, signer.notification(delivery(SES_ID, ADDRESS))) == 200

    assert [(v.address, v.problem) for v in recording.verdicts] == [(ADDRESS, AddressProblem.COMPLAINED)]
    [receipt] = recording.events
    assert isinstance(receipt, DeliveryReceipt) and receipt.state is DeliveryState.DELIVERED


async def test_the_certificate_is_fetched_once(client: httpx.AsyncClient, signer: Signer) -> None:
    for _ in range(3):
        assert await post(client, signer.notification(delivery(SES_ID, ADDRESS))) == 200

    assert signer.fetched == [CERT_URL]


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem",
        "http://sns.eu-west-1.amazonaws.com/cert.pem",
        "https://evil.example/sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com:8443/cert.pem",
        "https://user@sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com/cert.txt",
    ],
)
async def test_a_certificate_off_the_allowed_hosts_is_403_and_never_fetched(
    client: httpx.AsyncClient, signer: Signer, recording: Recording, url: str
) -> None:
    signer.served[url] = signer.pem
    message = signer.notification(delivery(SES_ID, ADDRESS), SigningCertURL=url)

    assert await post(client, message) == 403
    assert signer.fetched == [] and recording.events == []


async def test_a_forged_or_altered_message_is_403(client: httpx.AsyncClient, signer: Signer, recording: Recording) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = signer.sign(
        {
            "Type": "Notification",
            "MessageId": "m-1",
            "TopicArn": TOPIC,
            "Message": json.dumps(complaint(SES_ID, ADDRESS)),
            "Timestamp": signer.now.isoformat(),
        },
        key=other_key,
    )
    altered = signer.notification(delivery(SES_ID, ADDRESS))
    altered["Message"] = json.dumps(complaint(SES_ID, ADDRESS))
    version_one = signer.notification(delivery(SES_ID, ADDRESS), SignatureVersion="1")
    unsigned = {k: v for k, v in signer.notification(delivery(SES_ID, ADDRESS)).items() if k != "Signature"}
    old = signer.notification(delivery(SES_ID, ADDRESS), Timestamp=(signer.now - dt.timedelta(hours=2)).isoformat())
    other_topic = signer.notification(delivery(SES_ID, ADDRESS), TopicArn="arn:aws:sns:eu-west-1:999999999999:theirs")

    statuses = [await post(client, m) for m in (forged, altered, version_one, unsigned, old, other_topic)]

    assert statuses == [403] * 6
    assert recording.events == [] and recording.verdicts == []


async def test_malformed_bodies_are_400(client: httpx.AsyncClient, signer: Signer) -> None:
    not_ses = signer.notification({"hello": "world"})

    assert (await client.post(PATH, content=b"{not json")).status_code == 400
    assert await post(client, {"no": "type"}) == 400
    assert await post(client, not_ses) == 400


async def test_a_subscription_is_confirmed_and_only_on_an_sns_host(
    client: httpx.AsyncClient, signer: Signer
) -> None:
    def subscription(url: str) -> dict[str, Any]:
        return signer.sign(
            {
                "Type": "SubscriptionConfirmation",
                "MessageId": "sub-1",
                "Token": "2336412f37",
                "TopicArn": TOPIC,
                "Message": "You have chosen to subscribe to the topic.",
                "SubscribeURL": url,
                "Timestamp": signer.now.isoformat(),
            }
        )

    good = "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=x&Token=2336412f37"

    assert await post(client, subscription(good)) == 200
    assert await post(client, subscription("https://evil.example/?Action=ConfirmSubscription")) == 403
    assert signer.fetched == [CERT_URL, good]
