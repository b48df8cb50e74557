"""What a regime decides for one passenger: compensation, refund, care, and the law behind each."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from rebooking_core.rights.facts import Incident, Journey, Reroute

__all__ = ["NO_CARE", "Care", "Control", "Outcome", "Regime", "Scope", "decided"]


class Control(StrEnum):
    """Whose risk the reason for the disruption is."""

    CARRIER = "carrier"  # the carrier's own risk: compensation is owed
    SAFETY = "safety"  # APPR s. 11: within the carrier's control but required for safety
    EXTRAORDINARY = "extraordinary"  # Reg. 261/2004 Art. 5(3); APPR s. 10: outside the carrier's control


@dataclass(frozen=True)
class Care:
    """Meals and refreshments owed once the wait from the scheduled departure reaches `meals_after`; a hotel when overnight.

    `meals_after` None: no care is owed under the regime.
    """

    meals_after: dt.timedelta | None
    hotel: bool
    basis: str


NO_CARE = Care(meals_after=None, hotel=False, basis="")


@dataclass(frozen=True)
class Scope:
    """A regime covers the journey; `primary` when by its departure territory, else by arrival or carrier."""

    primary: bool
    basis: str


@dataclass(frozen=True)
class Outcome:
    """One regime's answer for one passenger; `reason` is a short code, `basis` the legal basis as text."""

    regime: str
    eligible: bool
    amount: int
    currency: str
    reason: str
    basis: str
    control: Control
    refund_right: bool
    care: Care
    #: Locale key of the short notice of rights under this regime ("" when none applies).
    notice_key: str
    #: Other regimes that also cover the journey, in the order they would apply.
    also: tuple[str, ...] = ()


class Regime(Protocol):
    """What the engine asks of a regime: its name, currency and notice, whether it covers a journey, and its outcome."""

    @property
    def name(self) -> str: ...

    @property
    def currency(self) -> str: ...

    @property
    def notice_key(self) -> str: ...

    def scope(self, journey: Journey) -> Scope | None: ...

    def assess(self, journey: Journey, incident: Incident, reroute: Reroute | None) -> Outcome: ...


def decided(
    regime: Regime, reason: str, amount: int, basis: str, control: Control, refund: bool, care: Care
) -> Outcome:
    """An outcome of `regime`: eligible exactly when an amount is owed."""
    return Outcome(
        regime=regime.name,
        eligible=amount > 0,
        amount=amount,
        currency=regime.currency,
        reason=reason,
        basis=basis,
        control=control,
        refund_right=refund,
        care=care,
        notice_key=regime.notice_key,
    )
