"""Inbound: the webhook's signature check and its body turned into InboundText, DeliveryReceipt and IdentityChanged events."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from channels.whatsapp import ids
from channels.whatsapp.names import CHANNEL, PROVIDER
from conversations.ports import (
    DeliveryReceipt,
    DeliveryState,
    IdentityChanged,
    InboundText,
    ReasonClass,
)


def verify_signature(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """Check `X-Hub-Signature-256: sha256=<hex>` in constant time; anything missing or odd fails."""
    if not app_secret or not header:
        return False
    scheme, _, given = header.strip().partition("=")
    if scheme.lower() != "sha256" or not given:
        return False
    try:
        given_bytes = given.strip().lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), given_bytes)


_STATUS_STATES: Mapping[str, DeliveryState] = MappingProxyType(
    {
        "sent": DeliveryState.SENT,
        "delivered": DeliveryState.DELIVERED,
        "read": DeliveryState.READ,
        "failed": DeliveryState.FAILED,
    }
)
_FAILURE_REASONS: Mapping[int, ReasonClass] = MappingProxyType(
    {
        131047: ReasonClass.POLICY,
        131050: ReasonClass.POLICY,
        131026: ReasonClass.PERMANENT,
        130429: ReasonClass.TEMPORARY,
        131056: ReasonClass.TEMPORARY,
        131000: ReasonClass.TEMPORARY,
    }
)


#: 9999-12-31T23:59:59Z: the last second both databases and `datetime` can hold.
_LATEST_TIMESTAMP = 253402300799
_MAX_TIMESTAMP_DIGITS = len(str(_LATEST_TIMESTAMP))


def _obj(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where} is not an object")
    return value


def _list(container: Mapping[str, Any], key: str, where: str, *, required: bool) -> list[Any]:
    value = container.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}.{key} is not a list")
    return value


def _str(container: Mapping[str, Any], key: str, where: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}.{key} is missing")
    return value


def _timestamp(container: Mapping[str, Any], where: str) -> dt.datetime:
    """Meta sends epoch seconds as a string of digits; anything else (1e20, -1, NaN, 10**30) is malformed."""
    raw = container.get("timestamp")
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= _MAX_TIMESTAMP_DIGITS:
        seconds = int(raw)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        seconds = raw
    else:
        raise ValueError(f"{where}.timestamp is not epoch seconds")
    if not 0 <= seconds <= _LATEST_TIMESTAMP:
        raise ValueError(f"{where}.timestamp is out of range")
    # Nothing was sent after it arrived: a stamp from the future (a skewed clock, or one opening the
    # 24 h window for ever) is read as now.
    return min(dt.datetime.fromtimestamp(seconds, dt.UTC), dt.datetime.now(dt.UTC))


@dataclass(frozen=True)
class _Who:
    """Whom a message came from: the phone number when Meta shows it, the BSUID, the parent BSUID, the username."""

    phone: str | None
    bsuid: str | None
    parent_bsuid: str | None
    username: str | None


def _contact(message: Mapping[str, Any], contacts: list[Any]) -> Mapping[str, Any]:
    """The contact entry of the message's sender (Meta sends one per user), else an empty one."""
    mine = [c for c in contacts if isinstance(c, dict)]
    sender = message.get("from")
    for c in mine:
        if sender is not None and sender in (c.get("wa_id"), c.get("user_id")):
            return c
    return mine[0] if mine else {}


def _who(message: Mapping[str, Any], contacts: list[Any]) -> _Who:
    """Meta may omit the number (`from`, `wa_id`) of a user with a username; the BSUID is then all there is."""
    contact = _contact(message, contacts)
    raw_from = message.get("from")
    number = ids.phone(raw_from) or ids.phone(contact.get("wa_id"))
    user = ids.bsuid(contact.get("user_id")) or ids.bsuid(message.get("from_user_id")) or ids.bsuid(raw_from)
    parent = ids.parent_bsuid(contact.get("parent_user_id")) or ids.parent_bsuid(message.get("from_parent_user_id"))
    profile = contact.get("profile")
    name = ids.username(profile.get("username")) if isinstance(profile, dict) else None
    return _Who(number, user, parent, name)


_NUMBER_CHANGES = frozenset({"user_changed_number", "customer_changed_number", "user_changed_user_id"})


def _identity_change(message: Mapping[str, Any], event_id: str, at: dt.datetime, where: str) -> IdentityChanged | None:
    """Meta's system message: the user moved to a new number (and so a new BSUID), or only to a new BSUID."""
    system = _obj(message.get("system"), f"{where}.system")
    if system.get("type") not in _NUMBER_CHANGES:
        return None
    raw_from = message.get("from")
    old_phone = ids.phone(system.get("customer")) or ids.phone(raw_from)
    old_bsuid = ids.bsuid(message.get("from_user_id")) or ids.bsuid(raw_from)
    new_phone = ids.phone(system.get("wa_id")) or ids.phone(system.get("new_wa_id"))
    new_bsuid = ids.bsuid(system.get("user_id"))
    if not (old_phone or old_bsuid) or not (new_phone or new_bsuid):
        return None
    return IdentityChanged(
        provider=PROVIDER,
        event_id=event_id,
        channel=CHANNEL,
        old_sender=old_phone or "",
        old_bsuid=old_bsuid or "",
        new_sender=new_phone or "",
        new_bsuid=new_bsuid or "",
        new_parent_bsuid=ids.parent_bsuid(system.get("parent_user_id")) or "",
        at=at,
    )


def _reply(message: Mapping[str, Any], where: str) -> tuple[str | None, str | None] | None:
    """(text, choice_token) for the message types we act on; None for any other type."""
    kind = message.get("type")
    if kind == "text":
        body = _obj(message.get("text"), f"{where}.text").get("body")
        return (body if isinstance(body, str) else ""), None
    if kind == "button":
        button = _obj(message.get("button"), f"{where}.button")
        label = button.get("text")
        return (label if isinstance(label, str) else None), _str(
            button, "payload", f"{where}.button"
        )
    if kind == "interactive":
        interactive = _obj(message.get("interactive"), f"{where}.interactive")
        sub = interactive.get("type")
        if sub in ("button_reply", "list_reply"):
            chosen = _obj(interactive.get(sub), f"{where}.interactive.{sub}")
            title = chosen.get("title")
            return (title if isinstance(title, str) else None), _str(chosen, "id", f"{where}.{sub}")
    return None


def _messages(value: Mapping[str, Any], where: str) -> list[InboundText | IdentityChanged]:
    contacts = _list(value, "contacts", where, required=False)
    metadata = value.get("metadata")
    number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    recipient = number if isinstance(number, str) and number.isascii() and number.isdigit() else ""
    events: list[InboundText | IdentityChanged] = []
    for i, raw in enumerate(_list(value, "messages", where, required=False)):
        at = f"{where}.messages[{i}]"
        message = _obj(raw, at)
        event_id = _str(message, "id", at)
        if message.get("type") == "system":
            change = _identity_change(message, event_id, _timestamp(message, at), at)
            if change is not None:
                events.append(change)
            continue
        reply = _reply(message, at)
        who = _who(message, contacts)
        if reply is None or not (who.phone or who.bsuid):
            continue
        text, token = reply
        events.append(
            InboundText(
                provider=PROVIDER,
                event_id=event_id,
                channel=CHANNEL,
                sender=who.phone or "",
                text=text,
                choice_token=token,
                received_at=_timestamp(message, at),
                recipient=recipient,
                sender_bsuid=who.bsuid or "",
                parent_bsuid=who.parent_bsuid or "",
                username=who.username or "",
            )
        )
    return events


def _statuses(value: Mapping[str, Any], where: str) -> list[DeliveryReceipt]:
    receipts: list[DeliveryReceipt] = []
    for i, raw in enumerate(_list(value, "statuses", where, required=False)):
        at = f"{where}.statuses[{i}]"
        status = _obj(raw, at)
        wamid = _str(status, "id", at)
        named = status.get("status")
        state = _STATUS_STATES.get(named) if isinstance(named, str) else None
        if state is None:
            continue
        errors = _list(status, "errors", at, required=False)
        first = _obj(errors[0], f"{at}.errors[0]") if errors else {}
        code = first.get("code")
        # Only scalars are read as codes: str() of a nested structure could recurse past the limit.
        error_code = str(code) if isinstance(code, int | str) and not isinstance(code, bool) else None
        reason: ReasonClass | None = None
        if state is DeliveryState.FAILED:
            numeric = code if isinstance(code, int) else -1
            reason = _FAILURE_REASONS.get(numeric, ReasonClass.PERMANENT)
        receipts.append(
            DeliveryReceipt(
                provider=PROVIDER,
                event_id=f"{wamid}:{state.value}",
                provider_message_id=wamid,
                state=state,
                error_code=error_code,
                reason_class=reason,
                at=_timestamp(status, at),
                recipient=ids.phone(status.get("recipient_id")) or "",
                recipient_bsuid=ids.bsuid(status.get("recipient_user_id")) or "",
            )
        )
    return receipts


def parse_webhook(payload: object) -> list[InboundText | DeliveryReceipt | IdentityChanged]:
    """Turn a Cloud API webhook body into neutral events; unknown kinds yield none, bad shapes raise."""
    root = _obj(payload, "payload")
    events: list[InboundText | DeliveryReceipt | IdentityChanged] = []
    for e, raw_entry in enumerate(_list(root, "entry", "payload", required=True)):
        entry = _obj(raw_entry, f"entry[{e}]")
        for c, raw_change in enumerate(_list(entry, "changes", f"entry[{e}]", required=True)):
            where = f"entry[{e}].changes[{c}]"
            change = _obj(raw_change, where)
            if change.get("field") != "messages":
                continue
            value = _obj(change.get("value"), f"{where}.value")
            events.extend(_messages(value, f"{where}.value"))
            events.extend(_statuses(value, f"{where}.value"))
    return events
