from enum import StrEnum


class PutBookingBookingRecordSegmentRecordStatus(StrEnum):
    HK = "HK"
    HX = "HX"
    TK = "TK"
    UN = "UN"

    def __str__(self) -> str:
        return str(self.value)
