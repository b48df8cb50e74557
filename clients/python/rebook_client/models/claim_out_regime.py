from enum import StrEnum


class ClaimOutRegime(StrEnum):
    APPR = "appr"
    EU261 = "eu261"
    NONE = "none"
    UK261 = "uk261"

    def __str__(self) -> str:
        return str(self.value)
