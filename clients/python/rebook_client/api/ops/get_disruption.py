from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.disruption_status import DisruptionStatus
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    disruption_id: int,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/disruptions/{disruption_id}".format(
            disruption_id=quote(str(disruption_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DisruptionStatus | Problem | None:
    if response.status_code == 200:
        response_200 = DisruptionStatus.from_dict(response.json())

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
) -> Response[DisruptionStatus | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    disruption_id: int,
    *,
    client: AuthenticatedClient,
) -> Response[DisruptionStatus | Problem]:
    """Get Disruption

    Args:
        disruption_id (int): a row id (1 to 2^63-1)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DisruptionStatus | Problem]
    """

    kwargs = _get_kwargs(
        disruption_id=disruption_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    disruption_id: int,
    *,
    client: AuthenticatedClient,
) -> DisruptionStatus | Problem | None:
    """Get Disruption

    Args:
        disruption_id (int): a row id (1 to 2^63-1)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DisruptionStatus | Problem
    """

    return sync_detailed(
        disruption_id=disruption_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    disruption_id: int,
    *,
    client: AuthenticatedClient,
) -> Response[DisruptionStatus | Problem]:
    """Get Disruption

    Args:
        disruption_id (int): a row id (1 to 2^63-1)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DisruptionStatus | Problem]
    """

    kwargs = _get_kwargs(
        disruption_id=disruption_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    disruption_id: int,
    *,
    client: AuthenticatedClient,
) -> DisruptionStatus | Problem | None:
    """Get Disruption

    Args:
        disruption_id (int): a row id (1 to 2^63-1)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DisruptionStatus | Problem
    """

    return (
        await asyncio_detailed(
            disruption_id=disruption_id,
            client=client,
        )
    ).parsed
