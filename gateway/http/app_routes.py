"""The airline's app: its backend registers devices (scope `app`); the app itself posts taps and opens (the action token is its credential)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, Field

from conversations.app.actions import AppEvents, Applied, Refused
from conversations.app.devices import Device, register
from gateway.auth import APP, ApiKey
from gateway.http.api import Wired, require_scope
from gateway.http.inputs import PathId
from gateway.http.problems import responses
from rebooking_core.models import Passenger

#: An APNs device token is hex (32 bytes today, longer allowed); an FCM registration token is base64url with `:`.
_IOS_TOKEN = re.compile(r"[0-9a-fA-F]{64,200}")
_ANDROID_TOKEN = re.compile(r"[0-9A-Za-z:_\-]{32,256}")
DeviceToken = Annotated[str, Path(min_length=32, max_length=256, pattern=r"^[0-9A-Za-z:_\-]+$", description="the APNs device token or FCM registration token")]
#: Refusals of the app's posts, each its own status.
_STATUS = {Refused.INVALID: 401, Refused.NOT_YOURS: 403, Refused.USED: 409, Refused.EXPIRED: 410}
_DETAIL = {
    Refused.INVALID: "not a valid action token",
    Refused.NOT_YOURS: "the option is not one offered in the token's conversation",
    Refused.USED: "this action token was already used",
    Refused.EXPIRED: "this action token has expired (the offer's hold ended)",
}

router = APIRouter(prefix="/v1", tags=["app"])


class DeviceIn(BaseModel):
    platform: Literal["ios", "android"]
    app_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$", description="bundle id / application id")
    locale: str | None = Field(
        default=None, max_length=8, pattern=r"^[a-z]{2,3}(-[A-Z]{2}|-[0-9]{3}|-[A-Z][a-z]{3})?$", description="BCP 47 tag: the passenger's language from now on"
    )
    push_allowed: bool = Field(default=True, description="the user's push permission in the app: recorded as consent for push")
    preferred: bool = Field(default=False, description="try push before the passenger's other channels")


class DeviceOut(BaseModel):
    passenger_id: int
    platform: str
    service: str
    registered: str
    consent: Literal["granted", "withdrawn"]
    consent_changed: bool


class ActionIn(BaseModel):
    action_token: str = Field(min_length=1, max_length=200)
    option: str = Field(min_length=1, max_length=64, description="the tapped option's id from the payload (`opt:<offer>:<option>`)")


class ActionOut(BaseModel):
    conversation_id: int
    status: str


class OpenedIn(BaseModel):
    action_token: str = Field(min_length=1, max_length=200)


@router.put(
    "/passengers/{passenger_id}/devices/{token}", response_model=DeviceOut, responses=responses(401, 403, 404, 409)
)
async def put_device(
    passenger_id: PathId, token: DeviceToken, body: DeviceIn, c: Wired, key: Annotated[ApiKey, Depends(require_scope(APP))]
) -> DeviceOut:
    """Register (or refresh) an app install's push token for the passenger; push consent recorded with the app as its source."""
    pattern = _IOS_TOKEN if body.platform == "ios" else _ANDROID_TOKEN
    if not pattern.fullmatch(token):
        raise HTTPException(422, f"token: not an {'APNs device token (hex)' if body.platform == 'ios' else 'FCM registration token'}")
    device = Device(token, body.platform, body.app_id, body.locale, body.push_allowed, body.preferred)
    async with c.db.transaction() as s:
        pax = await s.get(Passenger, passenger_id)
        if pax is None:
            raise HTTPException(404, f"no passenger {passenger_id}")
        if pax.erased_at is not None:
            raise HTTPException(409, f"passenger {passenger_id} was erased; a device cannot be registered")
        outcome, changed = await register(
            s, pax, device, evidence=f"{key.key_id} {body.app_id} {body.platform}", actor=f"app_api:{key.key_id}", at=c.clock()
        )
    c.wake()
    return DeviceOut(
        passenger_id=passenger_id,
        platform=body.platform,
        service="apns" if body.platform == "ios" else "fcm",
        registered=outcome.value,
        consent="granted" if body.push_allowed else "withdrawn",
        consent_changed=changed,
    )


def _refused(refused: Refused) -> HTTPException:
    return HTTPException(_STATUS[refused], _DETAIL[refused])


@router.post("/app/actions", response_model=ActionOut, responses=responses(401, 403, 409, 410))
async def post_action(body: ActionIn, c: Wired) -> ActionOut:
    """A tapped option from a push: booked like the same choice on any channel; the action token is the credential, once."""
    outcome = await AppEvents(c.service, c.inbound).act(body.action_token, body.option, now=c.clock())
    if isinstance(outcome, Refused):
        raise _refused(outcome)
    assert isinstance(outcome, Applied)  # noqa: S101  (the union's other member)
    return ActionOut(conversation_id=outcome.conversation_id, status=outcome.status)


@router.post("/app/opened", status_code=204, responses=responses(401))
async def post_opened(body: OpenedIn, c: Wired) -> None:
    """The app showed the push: its delivery is read (counted in the open rates), and it will not fall back."""
    refused = await AppEvents(c.service, c.inbound).opened(body.action_token, now=c.clock())
    if refused is not None:
        raise _refused(refused)
