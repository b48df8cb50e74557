from enum import StrEnum


class BookingOutStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return str(self.value)
