from enum import StrEnum


class Status(StrEnum):
    AGENT = "agent"
    BOOKED = "booked"
    CLOSED = "closed"
    CONFIRMING = "confirming"
    ESCALATED = "escalated"
    OFFERED = "offered"
    OPTED_OUT = "opted_out"
    PENDING = "pending"

    def __str__(self) -> str:
        return str(self.value)
