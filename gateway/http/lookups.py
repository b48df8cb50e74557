"""The query parameters that find a person, shared by the conversation log and the data-subject lookup."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

#: Long enough for any written phone number or e-mail address; `rebooking_core.lookup` checks the form.
MAX_ADDRESS = 254

Locator = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9]{6}$", description="The booking's record locator (PNR).")]
Phone = Annotated[
    str | None, Query(max_length=MAX_ADDRESS, description="A passenger's phone number, international (+4915112345678).")
]
Email = Annotated[str | None, Query(max_length=MAX_ADDRESS, description="A passenger's e-mail address.")]
