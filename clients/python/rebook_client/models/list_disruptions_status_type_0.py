from enum import StrEnum


class ListDisruptionsStatusType0(StrEnum):
    OFFERING = "offering"
    RECEIVED = "received"
    SETTLED = "settled"

    def __str__(self) -> str:
        return str(self.value)
