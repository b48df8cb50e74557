from enum import StrEnum


class PutBookingBookingRecordSegmentRecordCabin(StrEnum):
    J = "J"
    Y = "Y"

    def __str__(self) -> str:
        return str(self.value)
