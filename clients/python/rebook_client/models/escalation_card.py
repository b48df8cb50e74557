from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.disruption_named import DisruptionNamed
    from ..models.escalations_flight_named import EscalationsFlightNamed
    from ..models.escalations_option_out import EscalationsOptionOut
    from ..models.loyalty_out import LoyaltyOut
    from ..models.passenger_summary import PassengerSummary
    from ..models.transcript_line_out import TranscriptLineOut


T = TypeVar("T", bound="EscalationCard")


@_attrs_define
class EscalationCard:
    """What the Slack passenger card shows: the summary, the first name, loyalty, options and the latest transcript lines.

    Attributes:
        airport (str):
        claimed_at (datetime.datetime | None):
        conversation_id (int):
        created_at (datetime.datetime):
        disruption (DisruptionNamed):
        disruption_id (int):
        first_name (str):
        flight (EscalationsFlightNamed):
        hold_expires_at (datetime.datetime | None):
        id (int):
        loyalty (LoyaltyOut | None):
        missed_connection (bool):
        options (list[EscalationsOptionOut]):
        owner (None | str):
        passenger (PassengerSummary): Enough to pick a passenger from a queue; never a name, phone number or e-mail
            address.
        reason (str):
        resolution (None | str):
        resolved_at (datetime.datetime | None):
        status (str):
        tier (int):
        transcript (list[TranscriptLineOut]):
    """

    airport: str
    claimed_at: datetime.datetime | None
    conversation_id: int
    created_at: datetime.datetime
    disruption: DisruptionNamed
    disruption_id: int
    first_name: str
    flight: EscalationsFlightNamed
    hold_expires_at: datetime.datetime | None
    id: int
    loyalty: LoyaltyOut | None
    missed_connection: bool
    options: list[EscalationsOptionOut]
    owner: None | str
    passenger: PassengerSummary
    reason: str
    resolution: None | str
    resolved_at: datetime.datetime | None
    status: str
    tier: int
    transcript: list[TranscriptLineOut]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.loyalty_out import LoyaltyOut  # noqa: PLC0415

        airport = self.airport

        claimed_at: None | str
        if isinstance(self.claimed_at, datetime.datetime):
            claimed_at = self.claimed_at.isoformat()
        else:
            claimed_at = self.claimed_at

        conversation_id = self.conversation_id

        created_at = self.created_at.isoformat()

        disruption = self.disruption.to_dict()

        disruption_id = self.disruption_id

        first_name = self.first_name

        flight = self.flight.to_dict()

        hold_expires_at: None | str
        if isinstance(self.hold_expires_at, datetime.datetime):
            hold_expires_at = self.hold_expires_at.isoformat()
        else:
            hold_expires_at = self.hold_expires_at

        id = self.id

        loyalty: dict[str, Any] | None
        if isinstance(self.loyalty, LoyaltyOut):
            loyalty = self.loyalty.to_dict()
        else:
            loyalty = self.loyalty

        missed_connection = self.missed_connection

        options = []
        for options_item_data in self.options:
            options_item = options_item_data.to_dict()
            options.append(options_item)

        owner: None | str
        owner = self.owner

        passenger = self.passenger.to_dict()

        reason = self.reason

        resolution: None | str
        resolution = self.resolution

        resolved_at: None | str
        if isinstance(self.resolved_at, datetime.datetime):
            resolved_at = self.resolved_at.isoformat()
        else:
            resolved_at = self.resolved_at

        status = self.status

        tier = self.tier

        transcript = []
        for transcript_item_data in self.transcript:
            transcript_item = transcript_item_data.to_dict()
            transcript.append(transcript_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "airport": airport,
                "claimed_at": claimed_at,
                "conversation_id": conversation_id,
                "created_at": created_at,
                "disruption": disruption,
                "disruption_id": disruption_id,
                "first_name": first_name,
                "flight": flight,
                "hold_expires_at": hold_expires_at,
                "id": id,
                "loyalty": loyalty,
                "missed_connection": missed_connection,
                "options": options,
                "owner": owner,
                "passenger": passenger,
                "reason": reason,
                "resolution": resolution,
                "resolved_at": resolved_at,
                "status": status,
                "tier": tier,
                "transcript": transcript,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.disruption_named import DisruptionNamed  # noqa: PLC0415
        from ..models.escalations_flight_named import EscalationsFlightNamed  # noqa: PLC0415
        from ..models.escalations_option_out import EscalationsOptionOut  # noqa: PLC0415
        from ..models.loyalty_out import LoyaltyOut  # noqa: PLC0415
        from ..models.passenger_summary import PassengerSummary  # noqa: PLC0415
        from ..models.transcript_line_out import TranscriptLineOut  # noqa: PLC0415

        d = dict(src_dict)
        airport = d.pop("airport")

        def _parse_claimed_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                claimed_at_type_0 = datetime.datetime.fromisoformat(data)

                return claimed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        claimed_at = _parse_claimed_at(d.pop("claimed_at"))

        conversation_id = d.pop("conversation_id")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        disruption = DisruptionNamed.from_dict(d.pop("disruption"))

        disruption_id = d.pop("disruption_id")

        first_name = d.pop("first_name")

        flight = EscalationsFlightNamed.from_dict(d.pop("flight"))

        def _parse_hold_expires_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                hold_expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return hold_expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        hold_expires_at = _parse_hold_expires_at(d.pop("hold_expires_at"))

        id = d.pop("id")

        def _parse_loyalty(data: object) -> LoyaltyOut | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                loyalty_type_0 = LoyaltyOut.from_dict(data)

                return loyalty_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(LoyaltyOut | None, data)

        loyalty = _parse_loyalty(d.pop("loyalty"))

        missed_connection = d.pop("missed_connection")

        options = []
        _options = d.pop("options")
        for options_item_data in _options:
            options_item = EscalationsOptionOut.from_dict(options_item_data)

            options.append(options_item)

        def _parse_owner(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        owner = _parse_owner(d.pop("owner"))

        passenger = PassengerSummary.from_dict(d.pop("passenger"))

        reason = d.pop("reason")

        def _parse_resolution(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        resolution = _parse_resolution(d.pop("resolution"))

        def _parse_resolved_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                resolved_at_type_0 = datetime.datetime.fromisoformat(data)

                return resolved_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        resolved_at = _parse_resolved_at(d.pop("resolved_at"))

        status = d.pop("status")

        tier = d.pop("tier")

        transcript = []
        _transcript = d.pop("transcript")
        for transcript_item_data in _transcript:
            transcript_item = TranscriptLineOut.from_dict(transcript_item_data)

            transcript.append(transcript_item)

        escalation_card = cls(
            airport=airport,
            claimed_at=claimed_at,
            conversation_id=conversation_id,
            created_at=created_at,
            disruption=disruption,
            disruption_id=disruption_id,
            first_name=first_name,
            flight=flight,
            hold_expires_at=hold_expires_at,
            id=id,
            loyalty=loyalty,
            missed_connection=missed_connection,
            options=options,
            owner=owner,
            passenger=passenger,
            reason=reason,
            resolution=resolution,
            resolved_at=resolved_at,
            status=status,
            tier=tier,
            transcript=transcript,
        )

        escalation_card.additional_properties = d
        return escalation_card

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
