from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.escalation_card import EscalationCard
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    escalation_id: int,
    check_id: int,
    *,
    idempotency_key: None | str | Unset = UNSET,
    rebook_agent: str,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["idempotency-key"] = idempotency_key

    headers["rebook-agent"] = rebook_agent

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/escalations/{escalation_id}/held/{check_id}/confirm".format(
            escalation_id=quote(str(escalation_id), safe=""),
            check_id=quote(str(check_id), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> EscalationCard | Problem | None:
    if response.status_code == 202:
        response_202 = EscalationCard.from_dict(response.json())

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

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[EscalationCard | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    escalation_id: int,
    check_id: int,
    *,
    client: AuthenticatedClient,
    idempotency_key: None | str | Unset = UNSET,
    rebook_agent: str,
) -> Response[EscalationCard | Problem]:
    """Confirm Held Reply

     Send a reply that was held because it names an amount the rights engine did not compute: once, as
    written, audited.

    Args:
        escalation_id (int): a row id (1 to 2^63-1)
        check_id (int): a row id (1 to 2^63-1)
        idempotency_key (None | str | Unset): A client-chosen unique key (e.g. a UUID): a retry
            with the same key and body gets the first answer without running again; the same key with
            another body is 422. Kept 24 hours.
        rebook_agent (str): The agent acting, e.g. `alice`; stored as `api:alice`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EscalationCard | Problem]
    """

    kwargs = _get_kwargs(
        escalation_id=escalation_id,
        check_id=check_id,
        idempotency_key=idempotency_key,
        rebook_agent=rebook_agent,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    escalation_id: int,
    check_id: int,
    *,
    client: AuthenticatedClient,
    idempotency_key: None | str | Unset = UNSET,
    rebook_agent: str,
) -> EscalationCard | Problem | None:
    """Confirm Held Reply

     Send a reply that was held because it names an amount the rights engine did not compute: once, as
    written, audited.

    Args:
        escalation_id (int): a row id (1 to 2^63-1)
        check_id (int): a row id (1 to 2^63-1)
        idempotency_key (None | str | Unset): A client-chosen unique key (e.g. a UUID): a retry
            with the same key and body gets the first answer without running again; the same key with
            another body is 422. Kept 24 hours.
        rebook_agent (str): The agent acting, e.g. `alice`; stored as `api:alice`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EscalationCard | Problem
    """

    return sync_detailed(
        escalation_id=escalation_id,
        check_id=check_id,
        client=client,
        idempotency_key=idempotency_key,
        rebook_agent=rebook_agent,
    ).parsed


async def asyncio_detailed(
    escalation_id: int,
    check_id: int,
    *,
    client: AuthenticatedClient,
    idempotency_key: None | str | Unset = UNSET,
    rebook_agent: str,
) -> Response[EscalationCard | Problem]:
    """Confirm Held Reply

     Send a reply that was held because it names an amount the rights engine did not compute: once, as
    written, audited.

    Args:
        escalation_id (int): a row id (1 to 2^63-1)
        check_id (int): a row id (1 to 2^63-1)
        idempotency_key (None | str | Unset): A client-chosen unique key (e.g. a UUID): a retry
            with the same key and body gets the first answer without running again; the same key with
            another body is 422. Kept 24 hours.
        rebook_agent (str): The agent acting, e.g. `alice`; stored as `api:alice`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EscalationCard | Problem]
    """

    kwargs = _get_kwargs(
        escalation_id=escalation_id,
        check_id=check_id,
        idempotency_key=idempotency_key,
        rebook_agent=rebook_agent,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    escalation_id: int,
    check_id: int,
    *,
    client: AuthenticatedClient,
    idempotency_key: None | str | Unset = UNSET,
    rebook_agent: str,
) -> EscalationCard | Problem | None:
    """Confirm Held Reply

     Send a reply that was held because it names an amount the rights engine did not compute: once, as
    written, audited.

    Args:
        escalation_id (int): a row id (1 to 2^63-1)
        check_id (int): a row id (1 to 2^63-1)
        idempotency_key (None | str | Unset): A client-chosen unique key (e.g. a UUID): a retry
            with the same key and body gets the first answer without running again; the same key with
            another body is 422. Kept 24 hours.
        rebook_agent (str): The agent acting, e.g. `alice`; stored as `api:alice`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EscalationCard | Problem
    """

    return (
        await asyncio_detailed(
            escalation_id=escalation_id,
            check_id=check_id,
            client=client,
            idempotency_key=idempotency_key,
            rebook_agent=rebook_agent,
        )
    ).parsed
