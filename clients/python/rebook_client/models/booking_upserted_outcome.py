from enum import StrEnum


class BookingUpsertedOutcome(StrEnum):
    ADDED = "added"
    CANCELLED = "cancelled"
    CHANGED = "changed"
    UNCHANGED = "unchanged"

    def __str__(self) -> str:
        return str(self.value)
