from enum import StrEnum


class PutBookingBookingRecordStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return str(self.value)
