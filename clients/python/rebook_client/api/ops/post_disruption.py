from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.disruption_accepted import DisruptionAccepted
from ...models.disruption_in import DisruptionIn
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: DisruptionIn,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["idempotency-key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/disruptions",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DisruptionAccepted | Problem | None:
    if response.status_code == 202:
        response_202 = DisruptionAccepted.from_dict(response.json())

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


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[DisruptionAccepted | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: DisruptionIn,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[DisruptionAccepted | Problem]:
    """Post Disruption

    Args:
        idempotency_key (None | str | Unset): A client-chosen unique key (e.g. a UUID): a retry
            with the same key and body gets the first answer without running again; the same key with
            another body is 422. Kept 24 hours.
        body (DisruptionIn): One flight (`flight`) or several (`flights`: a tail swap, an airport
            closure), never both.

            `kind` and what it needs: `cancelled`; `delayed` with `new_departure`; `diverted` with
            `diverted_to`
            (and `new_arrival` there); `equipment` (another aircraft) with `capacity`, its seats per
            cabin (only
            the overflow moves, lowest priority first); `time_change` (a new schedule) with
            `new_departure` (and
            `new_arrival`); `reinstated` (a cancelled flight flies again; `new_departure` if late). A
            field
            another kind needs is refused. Times carry a zone. Flights are named by their local
            service date.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DisruptionAccepted | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: DisruptionIn,
    idempotency_key: None | str | Unset = UNSET,
) -> DisruptionAccepted | Problem | None:
    """Post Disruption

    Args:
        idempotency_key (None | str | Unset): A client-chosen unique key (e.g. a UUID): a retry
            with the same key and body gets the first answer without running again; the same key with
            another body is 422. Kept 24 hours.
        body (DisruptionIn): One flight (`flight`) or several (`flights`: a tail swap, an airport
            closure), never both.

            `kind` and what it needs: `cancelled`; `delayed` with `new_departure`; `diverted` with
            `diverted_to`
            (and `new_arrival` there); `equipment` (another aircraft) with `capacity`, its seats per
            cabin (only
            the overflow moves, lowest priority first); `time_change` (a new schedule) with
            `new_departure` (and
            `new_arrival`); `reinstated` (a cancelled flight flies again; `new_departure` if late). A
            field
            another kind needs is refused. Times carry a zone. Flights are named by their local
            service date.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DisruptionAccepted | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: DisruptionIn,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[DisruptionAccepted | Problem]:
    """Post Disruption

    Args:
        idempotency_key (None | str | Unset): A client-chosen unique key (e.g. a UUID): a retry
            with the same key and body gets the first answer without running again; the same key with
            another body is 422. Kept 24 hours.
        body (DisruptionIn): One flight (`flight`) or several (`flights`: a tail swap, an airport
            closure), never both.

            `kind` and what it needs: `cancelled`; `delayed` with `new_departure`; `diverted` with
            `diverted_to`
            (and `new_arrival` there); `equipment` (another aircraft) with `capacity`, its seats per
            cabin (only
            the overflow moves, lowest priority first); `time_change` (a new schedule) with
            `new_departure` (and
            `new_arrival`); `reinstated` (a cancelled flight flies again; `new_departure` if late). A
            field
            another kind needs is refused. Times carry a zone. Flights are named by their local
            service date.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DisruptionAccepted | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: DisruptionIn,
    idempotency_key: None | str | Unset = UNSET,
) -> DisruptionAccepted | Problem | None:
    """Post Disruption

    Args:
        idempotency_key (None | str | Unset): A client-chosen unique key (e.g. a UUID): a retry
            with the same key and body gets the first answer without running again; the same key with
            another body is 422. Kept 24 hours.
        body (DisruptionIn): One flight (`flight`) or several (`flights`: a tail swap, an airport
            closure), never both.

            `kind` and what it needs: `cancelled`; `delayed` with `new_departure`; `diverted` with
            `diverted_to`
            (and `new_arrival` there); `equipment` (another aircraft) with `capacity`, its seats per
            cabin (only
            the overflow moves, lowest priority first); `time_change` (a new schedule) with
            `new_departure` (and
            `new_arrival`); `reinstated` (a cancelled flight flies again; `new_departure` if late). A
            field
            another kind needs is refused. Times carry a zone. Flights are named by their local
            service date.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DisruptionAccepted | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
