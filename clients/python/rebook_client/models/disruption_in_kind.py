from enum import StrEnum


class DisruptionInKind(StrEnum):
    CANCELLED = "cancelled"
    DELAYED = "delayed"
    DIVERTED = "diverted"
    EQUIPMENT = "equipment"
    REINSTATED = "reinstated"
    TIME_CHANGE = "time_change"

    def __str__(self) -> str:
        return str(self.value)
