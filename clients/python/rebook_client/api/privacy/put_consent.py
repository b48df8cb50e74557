from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.consent_in import ConsentIn
from ...models.consent_written import ConsentWritten
from ...models.problem import Problem
from ...models.put_consent_channel import PutConsentChannel
from ...models.put_consent_purpose import PutConsentPurpose
from ...types import Response


def _get_kwargs(
    passenger_id: int,
    channel: PutConsentChannel,
    purpose: PutConsentPurpose,
    *,
    body: ConsentIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/passengers/{passenger_id}/consent/{channel}/{purpose}".format(
            passenger_id=quote(str(passenger_id), safe=""),
            channel=quote(str(channel), safe=""),
            purpose=quote(str(purpose), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ConsentWritten | Problem | None:
    if response.status_code == 200:
        response_200 = ConsentWritten.from_dict(response.json())

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
) -> Response[ConsentWritten | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    passenger_id: int,
    channel: PutConsentChannel,
    purpose: PutConsentPurpose,
    *,
    client: AuthenticatedClient,
    body: ConsentIn,
) -> Response[ConsentWritten | Problem]:
    """Put Consent

    Args:
        passenger_id (int): a row id (1 to 2^63-1)
        channel (PutConsentChannel):
        purpose (PutConsentPurpose):
        body (ConsentIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConsentWritten | Problem]
    """

    kwargs = _get_kwargs(
        passenger_id=passenger_id,
        channel=channel,
        purpose=purpose,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    passenger_id: int,
    channel: PutConsentChannel,
    purpose: PutConsentPurpose,
    *,
    client: AuthenticatedClient,
    body: ConsentIn,
) -> ConsentWritten | Problem | None:
    """Put Consent

    Args:
        passenger_id (int): a row id (1 to 2^63-1)
        channel (PutConsentChannel):
        purpose (PutConsentPurpose):
        body (ConsentIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConsentWritten | Problem
    """

    return sync_detailed(
        passenger_id=passenger_id,
        channel=channel,
        purpose=purpose,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    passenger_id: int,
    channel: PutConsentChannel,
    purpose: PutConsentPurpose,
    *,
    client: AuthenticatedClient,
    body: ConsentIn,
) -> Response[ConsentWritten | Problem]:
    """Put Consent

    Args:
        passenger_id (int): a row id (1 to 2^63-1)
        channel (PutConsentChannel):
        purpose (PutConsentPurpose):
        body (ConsentIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConsentWritten | Problem]
    """

    kwargs = _get_kwargs(
        passenger_id=passenger_id,
        channel=channel,
        purpose=purpose,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    passenger_id: int,
    channel: PutConsentChannel,
    purpose: PutConsentPurpose,
    *,
    client: AuthenticatedClient,
    body: ConsentIn,
) -> ConsentWritten | Problem | None:
    """Put Consent

    Args:
        passenger_id (int): a row id (1 to 2^63-1)
        channel (PutConsentChannel):
        purpose (PutConsentPurpose):
        body (ConsentIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConsentWritten | Problem
    """

    return (
        await asyncio_detailed(
            passenger_id=passenger_id,
            channel=channel,
            purpose=purpose,
            client=client,
            body=body,
        )
    ).parsed
