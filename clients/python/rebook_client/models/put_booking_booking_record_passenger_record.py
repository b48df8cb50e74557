from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.put_booking_booking_record_passenger_record_preferred_channels_type_0_item import (
    PutBookingBookingRecordPassengerRecordPreferredChannelsType0Item,
)
from ..models.put_booking_booking_record_passenger_record_tier import PutBookingBookingRecordPassengerRecordTier
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.put_booking_booking_record_passenger_record_contact_record import (
        PutBookingBookingRecordPassengerRecordContactRecord,
    )
    from ..models.put_booking_booking_record_passenger_record_preferences_type_0 import (
        PutBookingBookingRecordPassengerRecordPreferencesType0,
    )


T = TypeVar("T", bound="PutBookingBookingRecordPassengerRecord")


@_attrs_define
class PutBookingBookingRecordPassengerRecord:
    """A traveller on the booking; the first one is the booking's contact.

    Attributes:
        family_name (str):
        given_name (str):
        language (str): BCP 47 language tag, e.g. es or pt-BR
        contacts (list[PutBookingBookingRecordPassengerRecordContactRecord] | Unset):
        loyalty_status (None | str | Unset): the loyalty programme's level name, e.g. Senator
        miles (int | None | Unset): loyalty miles balance: breaks ties between equal tiers in allocation
        preferences (None | PutBookingBookingRecordPassengerRecordPreferencesType0 | Unset): travel preferences ranking
            can use (docs/loyalty.md): cabin (Y/J), time (morning/afternoon/evening/night), avoid_connection (yes)
        preferred_channels (list[PutBookingBookingRecordPassengerRecordPreferredChannelsType0Item] | None | Unset):
            contact order; channels not listed follow in list order
        ssr (None | str | Unset): IATA special service request code, e.g. WCHR
        tier (PutBookingBookingRecordPassengerRecordTier | Unset):  Default:
            PutBookingBookingRecordPassengerRecordTier.NONE.
    """

    family_name: str
    given_name: str
    language: str
    contacts: list[PutBookingBookingRecordPassengerRecordContactRecord] | Unset = UNSET
    loyalty_status: None | str | Unset = UNSET
    miles: int | None | Unset = UNSET
    preferences: None | PutBookingBookingRecordPassengerRecordPreferencesType0 | Unset = UNSET
    preferred_channels: list[PutBookingBookingRecordPassengerRecordPreferredChannelsType0Item] | None | Unset = UNSET
    ssr: None | str | Unset = UNSET
    tier: PutBookingBookingRecordPassengerRecordTier | Unset = PutBookingBookingRecordPassengerRecordTier.NONE

    def to_dict(self) -> dict[str, Any]:
        from ..models.put_booking_booking_record_passenger_record_preferences_type_0 import (
            PutBookingBookingRecordPassengerRecordPreferencesType0,  # noqa: PLC0415
        )

        family_name = self.family_name

        given_name = self.given_name

        language = self.language

        contacts: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.contacts, Unset):
            contacts = []
            for contacts_item_data in self.contacts:
                contacts_item = contacts_item_data.to_dict()
                contacts.append(contacts_item)

        loyalty_status: None | str | Unset
        if isinstance(self.loyalty_status, Unset):
            loyalty_status = UNSET
        else:
            loyalty_status = self.loyalty_status

        miles: int | None | Unset
        if isinstance(self.miles, Unset):
            miles = UNSET
        else:
            miles = self.miles

        preferences: dict[str, Any] | None | Unset
        if isinstance(self.preferences, Unset):
            preferences = UNSET
        elif isinstance(self.preferences, PutBookingBookingRecordPassengerRecordPreferencesType0):
            preferences = self.preferences.to_dict()
        else:
            preferences = self.preferences

        preferred_channels: list[str] | None | Unset
        if isinstance(self.preferred_channels, Unset):
            preferred_channels = UNSET
        elif isinstance(self.preferred_channels, list):
            preferred_channels = []
            for preferred_channels_type_0_item_data in self.preferred_channels:
                preferred_channels_type_0_item = preferred_channels_type_0_item_data.value
                preferred_channels.append(preferred_channels_type_0_item)

        else:
            preferred_channels = self.preferred_channels

        ssr: None | str | Unset
        if isinstance(self.ssr, Unset):
            ssr = UNSET
        else:
            ssr = self.ssr

        tier: str | Unset = UNSET
        if not isinstance(self.tier, Unset):
            tier = self.tier.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "family_name": family_name,
                "given_name": given_name,
                "language": language,
            }
        )
        if contacts is not UNSET:
            field_dict["contacts"] = contacts
        if loyalty_status is not UNSET:
            field_dict["loyalty_status"] = loyalty_status
        if miles is not UNSET:
            field_dict["miles"] = miles
        if preferences is not UNSET:
            field_dict["preferences"] = preferences
        if preferred_channels is not UNSET:
            field_dict["preferred_channels"] = preferred_channels
        if ssr is not UNSET:
            field_dict["ssr"] = ssr
        if tier is not UNSET:
            field_dict["tier"] = tier

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.put_booking_booking_record_passenger_record_contact_record import (
            PutBookingBookingRecordPassengerRecordContactRecord,  # noqa: PLC0415
        )
        from ..models.put_booking_booking_record_passenger_record_preferences_type_0 import (
            PutBookingBookingRecordPassengerRecordPreferencesType0,  # noqa: PLC0415
        )

        d = dict(src_dict)
        family_name = d.pop("family_name")

        given_name = d.pop("given_name")

        language = d.pop("language")

        _contacts = d.pop("contacts", UNSET)
        contacts: list[PutBookingBookingRecordPassengerRecordContactRecord] | Unset = UNSET
        if _contacts is not UNSET:
            contacts = []
            for contacts_item_data in _contacts:
                contacts_item = PutBookingBookingRecordPassengerRecordContactRecord.from_dict(contacts_item_data)

                contacts.append(contacts_item)

        def _parse_loyalty_status(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        loyalty_status = _parse_loyalty_status(d.pop("loyalty_status", UNSET))

        def _parse_miles(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        miles = _parse_miles(d.pop("miles", UNSET))

        def _parse_preferences(data: object) -> None | PutBookingBookingRecordPassengerRecordPreferencesType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                preferences_type_0 = PutBookingBookingRecordPassengerRecordPreferencesType0.from_dict(data)

                return preferences_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PutBookingBookingRecordPassengerRecordPreferencesType0 | Unset, data)

        preferences = _parse_preferences(d.pop("preferences", UNSET))

        def _parse_preferred_channels(
            data: object,
        ) -> list[PutBookingBookingRecordPassengerRecordPreferredChannelsType0Item] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                preferred_channels_type_0 = []
                _preferred_channels_type_0 = data
                for preferred_channels_type_0_item_data in _preferred_channels_type_0:
                    preferred_channels_type_0_item = PutBookingBookingRecordPassengerRecordPreferredChannelsType0Item(
                        preferred_channels_type_0_item_data
                    )

                    preferred_channels_type_0.append(preferred_channels_type_0_item)

                return preferred_channels_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[PutBookingBookingRecordPassengerRecordPreferredChannelsType0Item] | None | Unset, data)

        preferred_channels = _parse_preferred_channels(d.pop("preferred_channels", UNSET))

        def _parse_ssr(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ssr = _parse_ssr(d.pop("ssr", UNSET))

        _tier = d.pop("tier", UNSET)
        tier: PutBookingBookingRecordPassengerRecordTier | Unset
        if isinstance(_tier, Unset):
            tier = UNSET
        else:
            tier = PutBookingBookingRecordPassengerRecordTier(_tier)

        put_booking_booking_record_passenger_record = cls(
            family_name=family_name,
            given_name=given_name,
            language=language,
            contacts=contacts,
            loyalty_status=loyalty_status,
            miles=miles,
            preferences=preferences,
            preferred_channels=preferred_channels,
            ssr=ssr,
            tier=tier,
        )

        return put_booking_booking_record_passenger_record
