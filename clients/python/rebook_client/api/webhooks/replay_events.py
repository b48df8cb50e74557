from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.replay_in import ReplayIn
from ...models.replayed import Replayed
from ...types import UNSET, Response, Unset


def _get_kwargs(
    subscription_id: int,
    *,
    body: ReplayIn,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["idempotency-key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/webhooks/{subscription_id}/replay".format(
            subscription_id=quote(str(subscription_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | Replayed | None:
    if response.status_code == 202:
        response_202 = Replayed.from_dict(response.json())

        return response_202

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | Replayed]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    subscription_id: int,
    *,
    client: AuthenticatedClient,
    body: ReplayIn,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[Problem | Replayed]:
    """Replay Events

    Args:
        subscription_id (int): a row id (1 to 2^63-1)
        idempotency_key (None | str | Unset): A client-chosen unique key (e.g. a UUID): a retry
            with the same key and body gets the first answer without running again; the same key with
            another body is 422. Kept 24 hours.
        body (ReplayIn): Kept events of the subscription's types: in [since, until), or by id
            (`evt_…`, the `webhook-id` they were sent with).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Replayed]
    """

    kwargs = _get_kwargs(
        subscription_id=subscription_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    subscription_id: int,
    *,
    client: AuthenticatedClient,
    body: ReplayIn,
    idempotency_key: None | str | Unset = UNSET,
) -> Problem | Replayed | None:
    """Replay Events

    Args:
        subscription_id (int): a row id (1 to 2^63-1)
        idempotency_key (None | str | Unset): A client-chosen unique key (e.g. a UUID): a retry
            with the same key and body gets the first answer without running again; the same key with
            another body is 422. Kept 24 hours.
        body (ReplayIn): Kept events of the subscription's types: in [since, until), or by id
            (`evt_…`, the `webhook-id` they were sent with).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Replayed
    """

    return sync_detailed(
        subscription_id=subscription_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    subscription_id: int,
    *,
    client: AuthenticatedClient,
    body: ReplayIn,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[Problem | Replayed]:
    """Replay Events

    Args:
        subscription_id (int): a row id (1 to 2^63-1)
        idempotency_key (None | str | Unset): A client-chosen unique key (e.g. a UUID): a retry
            with the same key and body gets the first answer without running again; the same key with
            another body is 422. Kept 24 hours.
        body (ReplayIn): Kept events of the subscription's types: in [since, until), or by id
            (`evt_…`, the `webhook-id` they were sent with).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Replayed]
    """

    kwargs = _get_kwargs(
        subscription_id=subscription_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    subscription_id: int,
    *,
    client: AuthenticatedClient,
    body: ReplayIn,
    idempotency_key: None | str | Unset = UNSET,
) -> Problem | Replayed | None:
    """Replay Events

    Args:
        subscription_id (int): a row id (1 to 2^63-1)
        idempotency_key (None | str | Unset): A client-chosen unique key (e.g. a UUID): a retry
            with the same key and body gets the first answer without running again; the same key with
            another body is 422. Kept 24 hours.
        body (ReplayIn): Kept events of the subscription's types: in [since, until), or by id
            (`evt_…`, the `webhook-id` they were sent with).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Replayed
    """

    return (
        await asyncio_detailed(
            subscription_id=subscription_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
