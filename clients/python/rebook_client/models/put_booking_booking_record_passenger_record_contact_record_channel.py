from enum import StrEnum


class PutBookingBookingRecordPassengerRecordContactRecordChannel(StrEnum):
    EMAIL = "email"
    PUSH = "push"
    SMS = "sms"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"

    def __str__(self) -> str:
        return str(self.value)
