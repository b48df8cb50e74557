import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.disruption_page import DisruptionPage
from ...models.list_disruptions_status_type_0 import ListDisruptionsStatusType0
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    flight: None | str | Unset = UNSET,
    date: datetime.date | None | Unset = UNSET,
    status: ListDisruptionsStatusType0 | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_flight: None | str | Unset
    if isinstance(flight, Unset):
        json_flight = UNSET
    else:
        json_flight = flight
    params["flight"] = json_flight

    json_date: None | str | Unset
    if isinstance(date, Unset):
        json_date = UNSET
    elif isinstance(date, datetime.date):
        json_date = date.isoformat()
    else:
        json_date = date
    params["date"] = json_date

    json_status: None | str | Unset
    if isinstance(status, Unset):
        json_status = UNSET
    elif isinstance(status, ListDisruptionsStatusType0):
        json_status = status.value
    else:
        json_status = status
    params["status"] = json_status

    json_cursor: None | str | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/disruptions",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DisruptionPage | Problem | None:
    if response.status_code == 200:
        response_200 = DisruptionPage.from_dict(response.json())

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
) -> Response[DisruptionPage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    flight: None | str | Unset = UNSET,
    date: datetime.date | None | Unset = UNSET,
    status: ListDisruptionsStatusType0 | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[DisruptionPage | Problem]:
    """List Disruptions

     Newest first; filters combine; a cursor walks back through older disruptions.

    Args:
        flight (None | str | Unset): Carrier and number, e.g. LH100.
        date (datetime.date | None | Unset): A flight's scheduled date.
        status (ListDisruptionsStatusType0 | None | Unset):
        cursor (None | str | Unset): `next_cursor` of the page before; omit for the first page.
        limit (int | Unset): Items per page (at most 200). Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DisruptionPage | Problem]
    """

    kwargs = _get_kwargs(
        flight=flight,
        date=date,
        status=status,
        cursor=cursor,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    flight: None | str | Unset = UNSET,
    date: datetime.date | None | Unset = UNSET,
    status: ListDisruptionsStatusType0 | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> DisruptionPage | Problem | None:
    """List Disruptions

     Newest first; filters combine; a cursor walks back through older disruptions.

    Args:
        flight (None | str | Unset): Carrier and number, e.g. LH100.
        date (datetime.date | None | Unset): A flight's scheduled date.
        status (ListDisruptionsStatusType0 | None | Unset):
        cursor (None | str | Unset): `next_cursor` of the page before; omit for the first page.
        limit (int | Unset): Items per page (at most 200). Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DisruptionPage | Problem
    """

    return sync_detailed(
        client=client,
        flight=flight,
        date=date,
        status=status,
        cursor=cursor,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    flight: None | str | Unset = UNSET,
    date: datetime.date | None | Unset = UNSET,
    status: ListDisruptionsStatusType0 | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[DisruptionPage | Problem]:
    """List Disruptions

     Newest first; filters combine; a cursor walks back through older disruptions.

    Args:
        flight (None | str | Unset): Carrier and number, e.g. LH100.
        date (datetime.date | None | Unset): A flight's scheduled date.
        status (ListDisruptionsStatusType0 | None | Unset):
        cursor (None | str | Unset): `next_cursor` of the page before; omit for the first page.
        limit (int | Unset): Items per page (at most 200). Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DisruptionPage | Problem]
    """

    kwargs = _get_kwargs(
        flight=flight,
        date=date,
        status=status,
        cursor=cursor,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    flight: None | str | Unset = UNSET,
    date: datetime.date | None | Unset = UNSET,
    status: ListDisruptionsStatusType0 | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> DisruptionPage | Problem | None:
    """List Disruptions

     Newest first; filters combine; a cursor walks back through older disruptions.

    Args:
        flight (None | str | Unset): Carrier and number, e.g. LH100.
        date (datetime.date | None | Unset): A flight's scheduled date.
        status (ListDisruptionsStatusType0 | None | Unset):
        cursor (None | str | Unset): `next_cursor` of the page before; omit for the first page.
        limit (int | Unset): Items per page (at most 200). Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DisruptionPage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            flight=flight,
            date=date,
            status=status,
            cursor=cursor,
            limit=limit,
        )
    ).parsed
