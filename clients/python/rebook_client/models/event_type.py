from enum import StrEnum


class EventType(StrEnum):
    AGENT_DECIDED = "agent.decided"
    BOOKING_CONFIRMED = "booking.confirmed"
    BOOKING_FAILED = "booking.failed"
    CONSENT_CHANGED = "consent.changed"
    CONVERSATION_ESCALATED = "conversation.escalated"
    DISRUPTION_CREATED = "disruption.created"
    DISRUPTION_SETTLED = "disruption.settled"
    DISRUPTION_UPDATED = "disruption.updated"
    OFFER_SENT = "offer.sent"
    OPTION_CHOSEN = "option.chosen"
    PASSENGER_ERASED = "passenger.erased"
    REFUND_REQUESTED = "refund.requested"

    def __str__(self) -> str:
        return str(self.value)
