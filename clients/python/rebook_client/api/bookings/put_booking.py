from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.booking_upserted import BookingUpserted
from ...models.problem import Problem
from ...models.put_booking_booking_record import PutBookingBookingRecord
from ...types import UNSET, Response, Unset


def _get_kwargs(
    locator: str,
    *,
    body: PutBookingBookingRecord,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["idempotency-key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/bookings/{locator}".format(
            locator=quote(str(locator), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> BookingUpserted | Problem | None:
    if response.status_code == 200:
        response_200 = BookingUpserted.from_dict(response.json())

        return response_200

    if response.status_code == 201:
        response_201 = BookingUpserted.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 408:
        response_408 = Problem.from_dict(response.json())

        return response_408

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = Problem.from_dict(response.json())

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[BookingUpserted | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    locator: str,
    *,
    client: AuthenticatedClient,
    body: PutBookingBookingRecord,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[BookingUpserted | Problem]:
    """Put Booking

     Add, change or cancel the booking by its version, as `rebook import bookings --mode upsert` does for
    one row.

    Args:
        locator (str): The booking's record locator (PNR), uppercase.
        idempotency_key (None | str | Unset): A client-chosen unique key (e.g. a UUID): a retry
            with the same key and body gets the first answer without running again; the same key with
            another body is 422. Kept 24 hours.
        body (PutBookingBookingRecord): One PNR: its passengers travel together on every segment,
            in travel order.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BookingUpserted | Problem]
    """

    kwargs = _get_kwargs(
        locator=locator,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    locator: str,
    *,
    client: AuthenticatedClient,
    body: PutBookingBookingRecord,
    idempotency_key: None | str | Unset = UNSET,
) -> BookingUpserted | Problem | None:
    """Put Booking

     Add, change or cancel the booking by its version, as `rebook import bookings --mode upsert` does for
    one row.

    Args:
        locator (str): The booking's record locator (PNR), uppercase.
        idempotency_key (None | str | Unset): A client-chosen unique key (e.g. a UUID): a retry
            with the same key and body gets the first answer without running again; the same key with
            another body is 422. Kept 24 hours.
        body (PutBookingBookingRecord): One PNR: its passengers travel together on every segment,
            in travel order.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BookingUpserted | Problem
    """

    return sync_detailed(
        locator=locator,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    locator: str,
    *,
    client: AuthenticatedClient,
    body: PutBookingBookingRecord,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[BookingUpserted | Problem]:
    """Put Booking

     Add, change or cancel the booking by its version, as `rebook import bookings --mode upsert` does for
    one row.

    Args:
        locator (str): The booking's record locator (PNR), uppercase.
        idempotency_key (None | str | Unset): A client-chosen unique key (e.g. a UUID): a retry
            with the same key and body gets the first answer without running again; the same key with
            another body is 422. Kept 24 hours.
        body (PutBookingBookingRecord): One PNR: its passengers travel together on every segment,
            in travel order.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BookingUpserted | Problem]
    """

    kwargs = _get_kwargs(
        locator=locator,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    locator: str,
    *,
    client: AuthenticatedClient,
    body: PutBookingBookingRecord,
    idempotency_key: None | str | Unset = UNSET,
) -> BookingUpserted | Problem | None:
    """Put Booking

     Add, change or cancel the booking by its version, as `rebook import bookings --mode upsert` does for
    one row.

    Args:
        locator (str): The booking's record locator (PNR), uppercase.
        idempotency_key (None | str | Unset): A client-chosen unique key (e.g. a UUID): a retry
            with the same key and body gets the first answer without running again; the same key with
            another body is 422. Kept 24 hours.
        body (PutBookingBookingRecord): One PNR: its passengers travel together on every segment,
            in travel order.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BookingUpserted | Problem
    """

    return (
        await asyncio_detailed(
            locator=locator,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
