from enum import StrEnum


class ClaimOutStatus(StrEnum):
    DISPUTED = "disputed"
    NOT_OWED = "not_owed"
    OWED = "owed"
    PAID = "paid"

    def __str__(self) -> str:
        return str(self.value)
