"""Pick the airline ports' implementation from `REBOOK_PSS__*`: the built-in tables, or `HttpPss`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from gateway.pss.http import HttpPss, PssConfig
from gateway.settings import PssSettings
from infra.db import Database
from rebooking_core.airline.ports import Inventory, Loyalty, Reservations
from rebooking_core.airline.sql import SqlStore, passenger_in_pnr


@dataclass(frozen=True)
class AirlinePorts:
    inventory: Inventory
    reservations: Reservations
    loyalty: Loyalty
    #: The remote client to close on shutdown (None with the built-in store).
    remote: HttpPss | None = None


def airline_ports(
    settings: PssSettings, db: Database, *, clock: Callable[[], dt.datetime]
) -> AirlinePorts:
    """One object serves all three ports, so a PSS gets one connection pool."""
    if settings.adapter == "http":
        if (
            settings.base_url is None or settings.token is None
        ):  # the settings validator refuses this already
            raise ValueError(
                "REBOOK_PSS__ADAPTER=http needs REBOOK_PSS__BASE_URL and REBOOK_PSS__TOKEN"
            )
        config = PssConfig(
            base_url=settings.base_url,
            token=settings.token.get_secret_value(),
            pool_size=settings.pool_size,
            connect_timeout_s=settings.connect_timeout_s,
            read_timeout_s=settings.read_timeout_s,
            pool_timeout_s=settings.pool_timeout_s,
        )

        async def _where(passenger_id: int) -> tuple[str, int] | None:
            return await passenger_in_pnr(db, passenger_id)

        remote = HttpPss(config, passenger_in_pnr=_where)
        return AirlinePorts(remote, remote, remote, remote)
    store = SqlStore(db, clock=clock)
    return AirlinePorts(store, store, store)
