from enum import StrEnum


class DeviceOutConsent(StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"

    def __str__(self) -> str:
        return str(self.value)
