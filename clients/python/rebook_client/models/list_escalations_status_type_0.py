from enum import StrEnum


class ListEscalationsStatusType0(StrEnum):
    CLAIMED = "claimed"
    CLOSED = "closed"
    OPEN = "open"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"

    def __str__(self) -> str:
        return str(self.value)
