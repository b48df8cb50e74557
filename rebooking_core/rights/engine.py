"""Which regime decides a passenger's rights on a journey, and what it decides.

Several regimes can cover one journey (a departure from the UK to the EU on an EU carrier is
UK261 by departure and EU261 by arrival). They are not cumulated; the engine picks one:

1. the regime of the departure territory (EU261 / UK261 Art. 3(1)(a), APPR for departures from
   Canada): it applies without condition;
2. otherwise an arrival-based regime, EU261 before UK261 (Art. 3(1)(b) of each), then APPR for a
   journey touching Canada on the way.

The others are listed in `Outcome.also`: EU261 and UK261 Art. 3(1)(b) apply "unless the
passengers received benefits or compensation and were given assistance" in the country of
departure, and the APPR pays nothing for an event already compensated under another country's
rules, so each steps back once the first regime has been honoured.
"""

from __future__ import annotations

import dataclasses

from rebooking_core.rights.appr import APPR
from rebooking_core.rights.eu261 import EU261
from rebooking_core.rights.facts import Incident, Journey, Reroute
from rebooking_core.rights.outcome import NO_CARE, Control, Outcome, Regime, Scope
from rebooking_core.rights.uk261 import UK261

__all__ = ["NONE", "REGIMES", "applicable", "assess"]

#: Every regime the engine knows, in the order arrival-based scope is tried.
REGIMES: tuple[Regime, ...] = (EU261, UK261, APPR)

#: No regime covers the journey.
NONE = Outcome(
    regime="none",
    eligible=False,
    amount=0,
    currency="",
    reason="out_of_scope",
    basis="no EU261, UK261 or APPR scope: not from, to or through a covered territory on a covered carrier",
    control=Control.CARRIER,
    refund_right=False,
    care=NO_CARE,
    notice_key="",
)


def applicable(journey: Journey, regimes: tuple[Regime, ...] = REGIMES) -> list[tuple[Regime, Scope]]:
    """The regimes covering `journey`, the one that decides first (KeyError for an unknown airport)."""
    found = [(regime, scope) for regime in regimes if (scope := regime.scope(journey)) is not None]
    return sorted(found, key=lambda pair: not pair[1].primary)


def assess(
    journey: Journey, incident: Incident, reroute: Reroute | None = None, regimes: tuple[Regime, ...] = REGIMES
) -> Outcome:
    """The deciding regime's outcome for a passenger moved to `reroute` (None: not rerouted, or not yet)."""
    found = applicable(journey, regimes)
    if not found:
        return NONE
    (regime, _), *others = found
    outcome = regime.assess(journey, incident, reroute)
    return dataclasses.replace(outcome, also=tuple(r.name for r, _ in others))
