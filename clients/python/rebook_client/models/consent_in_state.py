from enum import StrEnum


class ConsentInState(StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"

    def __str__(self) -> str:
        return str(self.value)
