from enum import StrEnum


class PutBookingBookingRecordPassengerRecordTier(StrEnum):
    GOLD = "gold"
    NONE = "none"
    PLATINUM = "platinum"
    SILVER = "silver"

    def __str__(self) -> str:
        return str(self.value)
