"""A dead push token (APNs 410 / FCM UNREGISTERED) is removed; the passenger's consent is not touched."""

from __future__ import annotations

from sqlalchemy import select

from conversations.ports import Capabilities, DeviceUnregistered, OutboundMessage, SendResult
from rebooking_core.models import ContactPoint
from tests.conversations.conftest import Rig


class DeadTokenPush:
    name = "push"
    provider = "fcm"
    capabilities = Capabilities(
        max_body_chars=4096,
        max_choices=3,
        max_buttons=3,
        max_button_title=30,
        max_list_rows=0,
        max_row_title=0,
        max_row_description=0,
        supports_templates=False,
        session_window=None,
        rate_per_second=0.0,
    )

    def __init__(self) -> None:
        self.attempts = 0

    async def send(self, message: OutboundMessage) -> SendResult:
        self.attempts += 1
        raise DeviceUnregistered("token unknown to the provider", code="UNREGISTERED")

    async def aclose(self) -> None:
        return None


async def test_dead_push_token_is_dropped_consent_kept_and_sms_used(rig: Rig) -> None:
    push = DeadTokenPush()
    rig.c.dispatcher.channels["push"] = push
    who = await rig.add_pax(("push", "sms"))
    await rig.offered(who)

    assert push.attempts == 1
    assert len(rig.inbox("sms", who)) == 1
    async with rig.c.db.reading() as s:
        channels = (await s.scalars(select(ContactPoint.channel).where(ContactPoint.passenger_id == who.passenger_id))).all()
    assert list(channels) == ["sms"]
    assert await rig.consent(who, "push") == "granted"
    [delivery_failed, delivery_sent] = await rig.deliveries(who)
    assert (delivery_failed.channel, delivery_failed.status, delivery_failed.error_code) == ("push", "failed", "UNREGISTERED")
    assert (delivery_sent.channel, delivery_sent.status) == ("sms", "sent")
