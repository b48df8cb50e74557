from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.booking_out import BookingOut
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    locator: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/bookings/{locator}".format(
            locator=quote(str(locator), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> BookingOut | Problem | None:
    if response.status_code == 200:
        response_200 = BookingOut.from_dict(response.json())

        return response_200

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
) -> Response[BookingOut | Problem]:
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
) -> Response[BookingOut | Problem]:
    """Get Booking

     The booking's ids, version and segments in travel order.

    Args:
        locator (str): The booking's record locator (PNR), uppercase.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BookingOut | Problem]
    """

    kwargs = _get_kwargs(
        locator=locator,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    locator: str,
    *,
    client: AuthenticatedClient,
) -> BookingOut | Problem | None:
    """Get Booking

     The booking's ids, version and segments in travel order.

    Args:
        locator (str): The booking's record locator (PNR), uppercase.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BookingOut | Problem
    """

    return sync_detailed(
        locator=locator,
        client=client,
    ).parsed


async def asyncio_detailed(
    locator: str,
    *,
    client: AuthenticatedClient,
) -> Response[BookingOut | Problem]:
    """Get Booking

     The booking's ids, version and segments in travel order.

    Args:
        locator (str): The booking's record locator (PNR), uppercase.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BookingOut | Problem]
    """

    kwargs = _get_kwargs(
        locator=locator,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    locator: str,
    *,
    client: AuthenticatedClient,
) -> BookingOut | Problem | None:
    """Get Booking

     The booking's ids, version and segments in travel order.

    Args:
        locator (str): The booking's record locator (PNR), uppercase.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BookingOut | Problem
    """

    return (
        await asyncio_detailed(
            locator=locator,
            client=client,
        )
    ).parsed
