"""The rules of Regulation (EC) No 261/2004, which EU261 and UK261 share article for article.

Each regime supplies its data (`Regulation261`): currency and amounts, home territory, which
carriers' arrivals it covers, and its own list of reasons with their citations. The rules:

- Scope (Art. 3(1)): (a) departures from the home territory, any carrier; (b) arrivals from
  elsewhere where the operating carrier's licence is listed for the arrival territory, "unless
  the passengers received benefits or compensation and were given assistance" in the country of
  departure (the engine makes such a regime subsidiary).
- Amount (Art. 7(1)) by great-circle distance from first departure to final destination
  (Art. 7(4); C-559/16 Bossen): <= 1500 km band (a); within the home territory above 1500 km, or
  1500-3500 km, band (b); else band (c).
- Extraordinary circumstances (Art. 5(3)): the reasons in the regime's list pay nothing; any
  other reason, or none, pays: the carrier bears the burden of proof.
- Cancellation notice (Art. 5(1)(c)): (i) at least two weeks -> nothing; (ii) 7 days to two weeks
  with a rerouting leaving no more than 2 h earlier and arriving less than 4 h later -> nothing;
  (iii) under 7 days, no more than 1 h earlier and less than 2 h later -> nothing.
- Rerouting (Art. 7(2)): arriving no more than 2 h (a) / 3 h (b) / 4 h (c) late halves the amount.
- Delay (C-402/07 Sturgeon, C-581/10 Nelson): 3 h or more late at the final destination (C-11/11
  Folkerts) pays as a cancellation; band (c) between 3 and 4 h is halved (Sturgeon, para. 63).
- Refund (Art. 8(1)(a)): on every cancellation (Art. 5(1)(a)), on a delay of 5 h or more (Art. 6(1)(iii)).
- Care (Art. 9): on a cancellation at once (Art. 5(1)(b)); on a delay from 2 h (a), 3 h (b),
  4 h (c) (Art. 6(1)); a hotel and transfers when the new departure is a later day (Art. 6(1)(ii),
  9(1)(b)-(c)). Owed even in extraordinary circumstances (C-12/11 McDonagh).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from rebooking_core import airports
from rebooking_core.rights.delay_codes import canonical
from rebooking_core.rights.facts import Incident, Journey, Licence, Reroute
from rebooking_core.rights.outcome import NO_CARE, Care, Control, Outcome, Scope, decided
from rebooking_core.rights.territory import Territory
from rebooking_core.rights.waiting import overnight
from rebooking_core.types import DisruptionKind

__all__ = ["Regulation261", "territory_of"]

_BANDS = ("a", "b", "c")
#: Art. 7(2): a rerouting arriving within this much of the original arrival halves the amount, per band.
_HALVING = (dt.timedelta(hours=2), dt.timedelta(hours=3), dt.timedelta(hours=4))
#: Art. 6(1): care during a delay from this long after the scheduled departure, per band.
_CARE_AFTER = (dt.timedelta(hours=2), dt.timedelta(hours=3), dt.timedelta(hours=4))
_FULL_DELAY = dt.timedelta(hours=3)
_HALF_DELAY_LIMIT = dt.timedelta(hours=4)
_REFUND_DELAY = dt.timedelta(hours=5)
_TWO_WEEKS = dt.timedelta(days=14)
_ONE_WEEK = dt.timedelta(days=7)


def territory_of(iata: str) -> Territory:
    """The passenger-rights territory of an airport (KeyError for an unknown one)."""
    return airports.get(iata).territory


@dataclass(frozen=True)
class Regulation261:
    """One regime built on Reg. 261/2004: the data that differs between the EU and the UK text."""

    name: str
    title: str
    currency: str
    amounts: tuple[int, int, int]
    home: Territory
    #: Art. 3(1)(b): arrival territory -> operating-carrier licences whose arrivals there are covered.
    arrivals: Mapping[Territory, frozenset[Licence]]
    #: Reason code -> why it is extraordinary, with its citation.
    extraordinary: Mapping[str, str]
    #: Reason codes the case law leaves with the carrier, with the citation (documentation; any unlisted code is the carrier's too).
    own_risk: Mapping[str, str]
    notice_key: str
    #: Case law on delays and distances as this regime cites it.
    delay_cases: str
    care_cases: str

    # ---- scope ----

    def scope(self, journey: Journey) -> Scope | None:
        if territory_of(journey.origin) is self.home:
            return Scope(primary=True, basis=f"{self.title} Art. 3(1)(a)")
        if journey.carrier in self.arrivals.get(territory_of(journey.destination), frozenset()):
            return Scope(primary=False, basis=f"{self.title} Art. 3(1)(b)")
        return None

    # ---- reasons ----

    def control(self, reason_code: str | None) -> tuple[Control, str]:
        """Extraordinary (with its citation) only for a listed reason; anything else is the carrier's."""
        key = canonical(reason_code)
        if key is not None and key in self.extraordinary:
            return Control.EXTRAORDINARY, self.extraordinary[key]
        if key is not None and key in self.own_risk:
            return Control.CARRIER, self.own_risk[key]
        return Control.CARRIER, "Art. 5(3): not shown to be extraordinary; the carrier bears the burden of proof"

    # ---- bands ----

    def band(self, origin: str, destination: str) -> int:
        """0, 1 or 2: Art. 7(1)(a), (b) or (c)."""
        km = airports.distance_km(origin, destination)
        if km <= 1500:
            return 0
        domestic = territory_of(origin) is self.home and territory_of(destination) is self.home
        return 1 if domestic or km <= 3500 else 2

    def full_amount(self, origin: str, destination: str) -> int:
        return self.amounts[self.band(origin, destination)]

    # ---- the outcome ----

    def assess(self, journey: Journey, incident: Incident, reroute: Reroute | None) -> Outcome:
        """What the passenger is owed when moved to `reroute` (None: not rerouted, or not yet)."""
        scope = self.scope(journey)
        band = self.band(journey.origin, journey.destination)
        control, why = self.control(incident.reason_code)
        care = self._care(journey, incident, reroute, band)
        refund = self._refund(incident, reroute)
        if scope is None:
            return self._outcome("out_of_scope", 0, f"{self.title} Art. 3(1): neither departs from its territory nor arrives there on a covered carrier", Control.CARRIER, False, NO_CARE)
        if control is Control.EXTRAORDINARY:
            return self._outcome("extraordinary", 0, f"{scope.basis}, 5(3): {why}", control, refund, care)
        letter = _BANDS[band]
        full = self.amounts[band]
        art7 = f"7(1)({letter})"
        if incident.kind is DisruptionKind.DELAYED:
            late = None if reroute is None else reroute.arrival - incident.scheduled_arrival
            if late is not None and late < _FULL_DELAY:
                return self._outcome("delay_under_3h", 0, f"{scope.basis}, 6: under 3 h late at the final destination ({self.delay_cases})", control, refund, care)
            if band == 2 and late is not None and late < _HALF_DELAY_LIMIT:
                return self._outcome("delay_3h_4h_halved", full // 2, f"{scope.basis}, {art7}, 7(2)(c) ({self.delay_cases}, Sturgeon para. 63)", control, refund, care)
            return self._outcome("delay_3h_plus", full, f"{scope.basis}, {art7}: 3 h or more late at the final destination ({self.delay_cases})", control, refund, care)
        return self._cancellation(scope, incident, reroute, band, control, refund, care)

    def _cancellation(
        self, scope: Scope, incident: Incident, reroute: Reroute | None, band: int, control: Control, refund: bool, care: Care
    ) -> Outcome:
        letter = _BANDS[band]
        full = self.amounts[band]
        art = f"{scope.basis}, 5(1)(c)"
        if incident.notice >= _TWO_WEEKS:
            return self._outcome("notice_14d", 0, f"{art}(i): told at least two weeks before departure", control, refund, care)
        if reroute is None:
            return self._outcome("cancelled_no_reroute", full, f"{art}, 7(1)({letter})", control, refund, care)
        late_by = reroute.arrival - incident.scheduled_arrival
        if incident.scheduled_departure is not None and reroute.departure is not None:
            early_by = incident.scheduled_departure - reroute.departure
            if incident.notice >= _ONE_WEEK:
                if early_by <= dt.timedelta(hours=2) and late_by < dt.timedelta(hours=4):
                    return self._outcome("notice_7d_reroute", 0, f"{art}(ii): told 7-14 days before, rerouted within 2 h earlier / 4 h later", control, refund, care)
            elif early_by <= dt.timedelta(hours=1) and late_by < dt.timedelta(hours=2):
                return self._outcome("notice_under_7d_reroute", 0, f"{art}(iii): rerouted within 1 h earlier / 2 h later", control, refund, care)
        if late_by <= _HALVING[band]:
            return self._outcome("reroute_halved", full // 2, f"{art}, 7(1)({letter}), 7(2)({letter})", control, refund, care)
        return self._outcome("cancelled", full, f"{art}, 7(1)({letter})", control, refund, care)

    def _refund(self, incident: Incident, reroute: Reroute | None) -> bool:
        if incident.kind is DisruptionKind.CANCELLED:
            return True
        if reroute is None:
            return False
        if incident.scheduled_departure is not None and reroute.departure is not None:
            return reroute.departure - incident.scheduled_departure >= _REFUND_DELAY
        return reroute.arrival - incident.scheduled_arrival >= _REFUND_DELAY

    def _care(self, journey: Journey, incident: Incident, reroute: Reroute | None, band: int) -> Care:
        hotel = overnight(journey, incident, reroute)
        if incident.kind is DisruptionKind.CANCELLED:
            return Care(dt.timedelta(0), hotel, f"{self.title} Art. 5(1)(b), 9 ({self.care_cases})")
        letter = _BANDS[band]
        return Care(_CARE_AFTER[band], hotel, f"{self.title} Art. 6(1)({letter}), 9 ({self.care_cases})")

    def _outcome(self, reason: str, amount: int, basis: str, control: Control, refund: bool, care: Care) -> Outcome:
        return decided(self, reason, amount, basis, control, refund, care)

