from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.export_bundle import ExportBundle
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    passenger_id: int,
    *,
    reason: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_reason: None | str | Unset
    if isinstance(reason, Unset):
        json_reason = UNSET
    else:
        json_reason = reason
    params["reason"] = json_reason

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/passengers/{passenger_id}/export".format(
            passenger_id=quote(str(passenger_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ExportBundle | Problem | None:
    if response.status_code == 200:
        response_200 = ExportBundle.from_dict(response.json())

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
) -> Response[ExportBundle | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    passenger_id: int,
    *,
    client: AuthenticatedClient,
    reason: None | str | Unset = UNSET,
) -> Response[ExportBundle | Problem]:
    """Export Passenger

     Everything held about the passenger, as JSON matching `GET /v1/privacy/export-schema`.

    Args:
        passenger_id (int): a row id (1 to 2^63-1)
        reason (None | str | Unset): why (recorded in the audit log)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ExportBundle | Problem]
    """

    kwargs = _get_kwargs(
        passenger_id=passenger_id,
        reason=reason,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    passenger_id: int,
    *,
    client: AuthenticatedClient,
    reason: None | str | Unset = UNSET,
) -> ExportBundle | Problem | None:
    """Export Passenger

     Everything held about the passenger, as JSON matching `GET /v1/privacy/export-schema`.

    Args:
        passenger_id (int): a row id (1 to 2^63-1)
        reason (None | str | Unset): why (recorded in the audit log)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ExportBundle | Problem
    """

    return sync_detailed(
        passenger_id=passenger_id,
        client=client,
        reason=reason,
    ).parsed


async def asyncio_detailed(
    passenger_id: int,
    *,
    client: AuthenticatedClient,
    reason: None | str | Unset = UNSET,
) -> Response[ExportBundle | Problem]:
    """Export Passenger

     Everything held about the passenger, as JSON matching `GET /v1/privacy/export-schema`.

    Args:
        passenger_id (int): a row id (1 to 2^63-1)
        reason (None | str | Unset): why (recorded in the audit log)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ExportBundle | Problem]
    """

    kwargs = _get_kwargs(
        passenger_id=passenger_id,
        reason=reason,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    passenger_id: int,
    *,
    client: AuthenticatedClient,
    reason: None | str | Unset = UNSET,
) -> ExportBundle | Problem | None:
    """Export Passenger

     Everything held about the passenger, as JSON matching `GET /v1/privacy/export-schema`.

    Args:
        passenger_id (int): a row id (1 to 2^63-1)
        reason (None | str | Unset): why (recorded in the audit log)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ExportBundle | Problem
    """

    return (
        await asyncio_detailed(
            passenger_id=passenger_id,
            client=client,
            reason=reason,
        )
    ).parsed
