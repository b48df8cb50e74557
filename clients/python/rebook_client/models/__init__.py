"""Contains all the data models used in inputs/outputs"""

from .action_in import ActionIn
from .action_out import ActionOut
from .api_flight_named import ApiFlightNamed
from .book_in import BookIn
from .booking_out import BookingOut
from .booking_out_status import BookingOutStatus
from .booking_upserted import BookingUpserted
from .booking_upserted_outcome import BookingUpsertedOutcome
from .booking_upserted_status import BookingUpsertedStatus
from .broadcast_in import BroadcastIn
from .broadcast_out import BroadcastOut
from .cabin_inventory import CabinInventory
from .claim_out import ClaimOut
from .claim_out_regime import ClaimOutRegime
from .claim_out_status import ClaimOutStatus
from .claim_page import ClaimPage
from .claim_total import ClaimTotal
from .consent_change import ConsentChange
from .consent_in import ConsentIn
from .consent_in_state import ConsentInState
from .consent_now import ConsentNow
from .consent_out import ConsentOut
from .consent_written import ConsentWritten
from .conversation_log_option_out import ConversationLogOptionOut
from .conversation_out import ConversationOut
from .conversation_page import ConversationPage
from .conversation_summary import ConversationSummary
from .delivery_out import DeliveryOut
from .device_in import DeviceIn
from .device_in_platform import DeviceInPlatform
from .device_out import DeviceOut
from .device_out_consent import DeviceOutConsent
from .disruption_accepted import DisruptionAccepted
from .disruption_in import DisruptionIn
from .disruption_in_capacity_type_0 import DisruptionInCapacityType0
from .disruption_in_kind import DisruptionInKind
from .disruption_named import DisruptionNamed
from .disruption_page import DisruptionPage
from .disruption_status import DisruptionStatus
from .disruption_summary import DisruptionSummary
from .erasure_receipt import ErasureReceipt
from .erasure_receipt_stores import ErasureReceiptStores
from .escalation_card import EscalationCard
from .escalation_page import EscalationPage
from .escalation_summary import EscalationSummary
from .escalations_flight_named import EscalationsFlightNamed
from .escalations_option_out import EscalationsOptionOut
from .escalations_reply_in import EscalationsReplyIn
from .event_type import EventType
from .export_bundle import ExportBundle
from .export_bundle_tables import ExportBundleTables
from .export_bundle_tables_additional_property_item import ExportBundleTablesAdditionalPropertyItem
from .export_schema_response_export_schema_v1_privacy_export_schema_get import (
    ExportSchemaResponseExportSchemaV1PrivacyExportSchemaGet,
)
from .feed_answer import FeedAnswer
from .feed_outcome import FeedOutcome
from .field_error import FieldError
from .flight_inventory import FlightInventory
from .flight_out import FlightOut
from .flight_page import FlightPage
from .flight_ref import FlightRef
from .list_claims_format_type_0 import ListClaimsFormatType0
from .list_claims_regime_type_0 import ListClaimsRegimeType0
from .list_claims_status_type_0 import ListClaimsStatusType0
from .list_disruptions_status_type_0 import ListDisruptionsStatusType0
from .list_escalations_status_type_0 import ListEscalationsStatusType0
from .loyalty_out import LoyaltyOut
from .loyalty_out_preferences import LoyaltyOutPreferences
from .message_out import MessageOut
from .message_out_direction import MessageOutDirection
from .offer_out import OfferOut
from .opened_in import OpenedIn
from .passenger_found import PassengerFound
from .passenger_page import PassengerPage
from .passenger_ref import PassengerRef
from .passenger_summary import PassengerSummary
from .problem import Problem
from .put_booking_booking_record import PutBookingBookingRecord
from .put_booking_booking_record_passenger_record import PutBookingBookingRecordPassengerRecord
from .put_booking_booking_record_passenger_record_contact_record import (
    PutBookingBookingRecordPassengerRecordContactRecord,
)
from .put_booking_booking_record_passenger_record_contact_record_channel import (
    PutBookingBookingRecordPassengerRecordContactRecordChannel,
)
from .put_booking_booking_record_passenger_record_contact_record_consent_flags import (
    PutBookingBookingRecordPassengerRecordContactRecordConsentFlags,
)
from .put_booking_booking_record_passenger_record_contact_record_platform_type_0 import (
    PutBookingBookingRecordPassengerRecordContactRecordPlatformType0,
)
from .put_booking_booking_record_passenger_record_preferences_type_0 import (
    PutBookingBookingRecordPassengerRecordPreferencesType0,
)
from .put_booking_booking_record_passenger_record_preferred_channels_type_0_item import (
    PutBookingBookingRecordPassengerRecordPreferredChannelsType0Item,
)
from .put_booking_booking_record_passenger_record_tier import PutBookingBookingRecordPassengerRecordTier
from .put_booking_booking_record_segment_record import PutBookingBookingRecordSegmentRecord
from .put_booking_booking_record_segment_record_cabin import PutBookingBookingRecordSegmentRecordCabin
from .put_booking_booking_record_segment_record_status import PutBookingBookingRecordSegmentRecordStatus
from .put_booking_booking_record_status import PutBookingBookingRecordStatus
from .put_consent_channel import PutConsentChannel
from .put_consent_purpose import PutConsentPurpose
from .reached_out import ReachedOut
from .reached_out_state import ReachedOutState
from .redacted import Redacted
from .replay_in import ReplayIn
from .replayed import Replayed
from .reply_accepted import ReplyAccepted
from .sandbox_replies_reply_in import SandboxRepliesReplyIn
from .sandbox_replies_reply_in_channel_type_0 import SandboxRepliesReplyInChannelType0
from .segment_out import SegmentOut
from .status import Status
from .subscription_created import SubscriptionCreated
from .subscription_in import SubscriptionIn
from .subscription_out import SubscriptionOut
from .subscription_page import SubscriptionPage
from .table_erased import TableErased
from .transcript_line_out import TranscriptLineOut

__all__ = (
    "ActionIn",
    "ActionOut",
    "ApiFlightNamed",
    "BookIn",
    "BookingOut",
    "BookingOutStatus",
    "BookingUpserted",
    "BookingUpsertedOutcome",
    "BookingUpsertedStatus",
    "BroadcastIn",
    "BroadcastOut",
    "CabinInventory",
    "ClaimOut",
    "ClaimOutRegime",
    "ClaimOutStatus",
    "ClaimPage",
    "ClaimTotal",
    "ConsentChange",
    "ConsentIn",
    "ConsentInState",
    "ConsentNow",
    "ConsentOut",
    "ConsentWritten",
    "ConversationLogOptionOut",
    "ConversationOut",
    "ConversationPage",
    "ConversationSummary",
    "DeliveryOut",
    "DeviceIn",
    "DeviceInPlatform",
    "DeviceOut",
    "DeviceOutConsent",
    "DisruptionAccepted",
    "DisruptionIn",
    "DisruptionInCapacityType0",
    "DisruptionInKind",
    "DisruptionNamed",
    "DisruptionPage",
    "DisruptionStatus",
    "DisruptionSummary",
    "ErasureReceipt",
    "ErasureReceiptStores",
    "EscalationCard",
    "EscalationPage",
    "EscalationsFlightNamed",
    "EscalationsOptionOut",
    "EscalationsReplyIn",
    "EscalationSummary",
    "EventType",
    "ExportBundle",
    "ExportBundleTables",
    "ExportBundleTablesAdditionalPropertyItem",
    "ExportSchemaResponseExportSchemaV1PrivacyExportSchemaGet",
    "FeedAnswer",
    "FeedOutcome",
    "FieldError",
    "FlightInventory",
    "FlightOut",
    "FlightPage",
    "FlightRef",
    "ListClaimsFormatType0",
    "ListClaimsRegimeType0",
    "ListClaimsStatusType0",
    "ListDisruptionsStatusType0",
    "ListEscalationsStatusType0",
    "LoyaltyOut",
    "LoyaltyOutPreferences",
    "MessageOut",
    "MessageOutDirection",
    "OfferOut",
    "OpenedIn",
    "PassengerFound",
    "PassengerPage",
    "PassengerRef",
    "PassengerSummary",
    "Problem",
    "PutBookingBookingRecord",
    "PutBookingBookingRecordPassengerRecord",
    "PutBookingBookingRecordPassengerRecordContactRecord",
    "PutBookingBookingRecordPassengerRecordContactRecordChannel",
    "PutBookingBookingRecordPassengerRecordContactRecordConsentFlags",
    "PutBookingBookingRecordPassengerRecordContactRecordPlatformType0",
    "PutBookingBookingRecordPassengerRecordPreferencesType0",
    "PutBookingBookingRecordPassengerRecordPreferredChannelsType0Item",
    "PutBookingBookingRecordPassengerRecordTier",
    "PutBookingBookingRecordSegmentRecord",
    "PutBookingBookingRecordSegmentRecordCabin",
    "PutBookingBookingRecordSegmentRecordStatus",
    "PutBookingBookingRecordStatus",
    "PutConsentChannel",
    "PutConsentPurpose",
    "ReachedOut",
    "ReachedOutState",
    "Redacted",
    "Replayed",
    "ReplayIn",
    "ReplyAccepted",
    "SandboxRepliesReplyIn",
    "SandboxRepliesReplyInChannelType0",
    "SegmentOut",
    "Status",
    "SubscriptionCreated",
    "SubscriptionIn",
    "SubscriptionOut",
    "SubscriptionPage",
    "TableErased",
    "TranscriptLineOut",
)
