from enum import StrEnum


class PutBookingBookingRecordPassengerRecordContactRecordPlatformType0(StrEnum):
    ANDROID = "android"
    IOS = "ios"

    def __str__(self) -> str:
        return str(self.value)
