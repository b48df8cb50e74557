"""A refund or keeping the flight, chosen by the passenger alone, counts as self-service in the KPIs."""

from __future__ import annotations

from tests.conversations.choices.helpers import delayed
from tests.conversations.conftest import Rig
from tests.gateway.observability.conftest import scraped, value


async def test_refund_and_keep_count_as_self_service(rig: Rig) -> None:
    refunder, keeper, silent, asker = [await rig.add_pax() for _ in range(4)]
    await delayed(
        rig, refunder, keeper, silent, asker, hours=6
    )  # 6 h: a refund right under EU261 Art. 6(1)(iii)
    options = len(await rig.options(refunder))
    await rig.reply("sms", refunder, str(options + 1))  # refund, keep, later
    await rig.reply("sms", keeper, "keep")
    await rig.reply("sms", asker, "agent")
    await rig.c.dispatcher.drain()
    assert [(await rig.conversation(p)).choice for p in (refunder, keeper)] == ["refund", "keep"]

    m = await scraped(rig)

    def stage(name: str) -> float:
        return sum(
            v
            for (metric, labels), v in m.items()
            if metric == "rebook_kpi_passengers" and ("stage", name) in labels
        )

    assert stage("accepted") == 2
    assert stage("booked_self_service") == 2
    assert value(m, "rebook_self_service_ratio") == 0.5
