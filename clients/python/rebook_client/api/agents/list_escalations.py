from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.escalation_page import EscalationPage
from ...models.list_escalations_status_type_0 import ListEscalationsStatusType0
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    status: ListEscalationsStatusType0 | None | Unset = UNSET,
    reason: None | str | Unset = UNSET,
    tier: int | None | Unset = UNSET,
    airport: None | str | Unset = UNSET,
    disruption_id: int | None | Unset = UNSET,
    owner: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_status: None | str | Unset
    if isinstance(status, Unset):
        json_status = UNSET
    elif isinstance(status, ListEscalationsStatusType0):
        json_status = status.value
    else:
        json_status = status
    params["status"] = json_status

    json_reason: None | str | Unset
    if isinstance(reason, Unset):
        json_reason = UNSET
    else:
        json_reason = reason
    params["reason"] = json_reason

    json_tier: int | None | Unset
    if isinstance(tier, Unset):
        json_tier = UNSET
    else:
        json_tier = tier
    params["tier"] = json_tier

    json_airport: None | str | Unset
    if isinstance(airport, Unset):
        json_airport = UNSET
    else:
        json_airport = airport
    params["airport"] = json_airport

    json_disruption_id: int | None | Unset
    if isinstance(disruption_id, Unset):
        json_disruption_id = UNSET
    else:
        json_disruption_id = disruption_id
    params["disruption_id"] = json_disruption_id

    json_owner: None | str | Unset
    if isinstance(owner, Unset):
        json_owner = UNSET
    else:
        json_owner = owner
    params["owner"] = json_owner

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
        "url": "/v1/escalations",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> EscalationPage | Problem | None:
    if response.status_code == 200:
        response_200 = EscalationPage.from_dict(response.json())

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
) -> Response[EscalationPage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    status: ListEscalationsStatusType0 | None | Unset = UNSET,
    reason: None | str | Unset = UNSET,
    tier: int | None | Unset = UNSET,
    airport: None | str | Unset = UNSET,
    disruption_id: int | None | Unset = UNSET,
    owner: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[EscalationPage | Problem]:
    """List Escalations

     In queue order (tier, missed connection, oldest first); filters combine; a cursor walks on.

    Args:
        status (ListEscalationsStatusType0 | None | Unset):
        reason (None | str | Unset): e.g. passenger_request, no_options, deadline
        tier (int | None | Unset):
        airport (None | str | Unset): The disrupted flight's departure airport (IATA).
        disruption_id (int | None | Unset): a row id (1 to 2^63-1)
        owner (None | str | Unset): `api:<name>` or a Slack user id.
        cursor (None | str | Unset): `next_cursor` of the page before; omit for the first page.
        limit (int | Unset): Items per page (at most 200). Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EscalationPage | Problem]
    """

    kwargs = _get_kwargs(
        status=status,
        reason=reason,
        tier=tier,
        airport=airport,
        disruption_id=disruption_id,
        owner=owner,
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
    status: ListEscalationsStatusType0 | None | Unset = UNSET,
    reason: None | str | Unset = UNSET,
    tier: int | None | Unset = UNSET,
    airport: None | str | Unset = UNSET,
    disruption_id: int | None | Unset = UNSET,
    owner: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> EscalationPage | Problem | None:
    """List Escalations

     In queue order (tier, missed connection, oldest first); filters combine; a cursor walks on.

    Args:
        status (ListEscalationsStatusType0 | None | Unset):
        reason (None | str | Unset): e.g. passenger_request, no_options, deadline
        tier (int | None | Unset):
        airport (None | str | Unset): The disrupted flight's departure airport (IATA).
        disruption_id (int | None | Unset): a row id (1 to 2^63-1)
        owner (None | str | Unset): `api:<name>` or a Slack user id.
        cursor (None | str | Unset): `next_cursor` of the page before; omit for the first page.
        limit (int | Unset): Items per page (at most 200). Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EscalationPage | Problem
    """

    return sync_detailed(
        client=client,
        status=status,
        reason=reason,
        tier=tier,
        airport=airport,
        disruption_id=disruption_id,
        owner=owner,
        cursor=cursor,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    status: ListEscalationsStatusType0 | None | Unset = UNSET,
    reason: None | str | Unset = UNSET,
    tier: int | None | Unset = UNSET,
    airport: None | str | Unset = UNSET,
    disruption_id: int | None | Unset = UNSET,
    owner: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[EscalationPage | Problem]:
    """List Escalations

     In queue order (tier, missed connection, oldest first); filters combine; a cursor walks on.

    Args:
        status (ListEscalationsStatusType0 | None | Unset):
        reason (None | str | Unset): e.g. passenger_request, no_options, deadline
        tier (int | None | Unset):
        airport (None | str | Unset): The disrupted flight's departure airport (IATA).
        disruption_id (int | None | Unset): a row id (1 to 2^63-1)
        owner (None | str | Unset): `api:<name>` or a Slack user id.
        cursor (None | str | Unset): `next_cursor` of the page before; omit for the first page.
        limit (int | Unset): Items per page (at most 200). Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EscalationPage | Problem]
    """

    kwargs = _get_kwargs(
        status=status,
        reason=reason,
        tier=tier,
        airport=airport,
        disruption_id=disruption_id,
        owner=owner,
        cursor=cursor,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    status: ListEscalationsStatusType0 | None | Unset = UNSET,
    reason: None | str | Unset = UNSET,
    tier: int | None | Unset = UNSET,
    airport: None | str | Unset = UNSET,
    disruption_id: int | None | Unset = UNSET,
    owner: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> EscalationPage | Problem | None:
    """List Escalations

     In queue order (tier, missed connection, oldest first); filters combine; a cursor walks on.

    Args:
        status (ListEscalationsStatusType0 | None | Unset):
        reason (None | str | Unset): e.g. passenger_request, no_options, deadline
        tier (int | None | Unset):
        airport (None | str | Unset): The disrupted flight's departure airport (IATA).
        disruption_id (int | None | Unset): a row id (1 to 2^63-1)
        owner (None | str | Unset): `api:<name>` or a Slack user id.
        cursor (None | str | Unset): `next_cursor` of the page before; omit for the first page.
        limit (int | Unset): Items per page (at most 200). Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EscalationPage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            status=status,
            reason=reason,
            tier=tier,
            airport=airport,
            disruption_id=disruption_id,
            owner=owner,
            cursor=cursor,
            limit=limit,
        )
    ).parsed
