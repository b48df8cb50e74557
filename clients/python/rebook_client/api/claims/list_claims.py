from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.claim_page import ClaimPage
from ...models.list_claims_format_type_0 import ListClaimsFormatType0
from ...models.list_claims_regime_type_0 import ListClaimsRegimeType0
from ...models.list_claims_status_type_0 import ListClaimsStatusType0
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    disruption: int | None | Unset = UNSET,
    status: ListClaimsStatusType0 | None | Unset = UNSET,
    regime: ListClaimsRegimeType0 | None | Unset = UNSET,
    format_: ListClaimsFormatType0 | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
    accept: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(accept, Unset):
        headers["accept"] = accept

    params: dict[str, Any] = {}

    json_disruption: int | None | Unset
    if isinstance(disruption, Unset):
        json_disruption = UNSET
    else:
        json_disruption = disruption
    params["disruption"] = json_disruption

    json_status: None | str | Unset
    if isinstance(status, Unset):
        json_status = UNSET
    elif isinstance(status, ListClaimsStatusType0):
        json_status = status.value
    else:
        json_status = status
    params["status"] = json_status

    json_regime: None | str | Unset
    if isinstance(regime, Unset):
        json_regime = UNSET
    elif isinstance(regime, ListClaimsRegimeType0):
        json_regime = regime.value
    else:
        json_regime = regime
    params["regime"] = json_regime

    json_format_: None | str | Unset
    if isinstance(format_, Unset):
        json_format_ = UNSET
    elif isinstance(format_, ListClaimsFormatType0):
        json_format_ = format_.value
    else:
        json_format_ = format_
    params["format"] = json_format_

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
        "url": "/v1/claims",
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ClaimPage | Problem | None:
    if response.status_code == 200:
        response_200 = ClaimPage.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ClaimPage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    disruption: int | None | Unset = UNSET,
    status: ListClaimsStatusType0 | None | Unset = UNSET,
    regime: ListClaimsRegimeType0 | None | Unset = UNSET,
    format_: ListClaimsFormatType0 | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
    accept: None | str | Unset = UNSET,
) -> Response[ClaimPage | Problem]:
    """List Claims

     Oldest first, filters combined; `?format=csv` or `Accept: text/csv` streams every matching claim,
    unpaged.

    Args:
        disruption (int | None | Unset): Only this disruption's claims.
        status (ListClaimsStatusType0 | None | Unset):
        regime (ListClaimsRegimeType0 | None | Unset):
        format_ (ListClaimsFormatType0 | None | Unset): csv: every matching claim as CSV (as
            `Accept: text/csv`).
        cursor (None | str | Unset): `next_cursor` of the page before; omit for the first page.
        limit (int | Unset): Items per page (at most 200). Default: 50.
        accept (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClaimPage | Problem]
    """

    kwargs = _get_kwargs(
        disruption=disruption,
        status=status,
        regime=regime,
        format_=format_,
        cursor=cursor,
        limit=limit,
        accept=accept,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    disruption: int | None | Unset = UNSET,
    status: ListClaimsStatusType0 | None | Unset = UNSET,
    regime: ListClaimsRegimeType0 | None | Unset = UNSET,
    format_: ListClaimsFormatType0 | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
    accept: None | str | Unset = UNSET,
) -> ClaimPage | Problem | None:
    """List Claims

     Oldest first, filters combined; `?format=csv` or `Accept: text/csv` streams every matching claim,
    unpaged.

    Args:
        disruption (int | None | Unset): Only this disruption's claims.
        status (ListClaimsStatusType0 | None | Unset):
        regime (ListClaimsRegimeType0 | None | Unset):
        format_ (ListClaimsFormatType0 | None | Unset): csv: every matching claim as CSV (as
            `Accept: text/csv`).
        cursor (None | str | Unset): `next_cursor` of the page before; omit for the first page.
        limit (int | Unset): Items per page (at most 200). Default: 50.
        accept (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClaimPage | Problem
    """

    return sync_detailed(
        client=client,
        disruption=disruption,
        status=status,
        regime=regime,
        format_=format_,
        cursor=cursor,
        limit=limit,
        accept=accept,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    disruption: int | None | Unset = UNSET,
    status: ListClaimsStatusType0 | None | Unset = UNSET,
    regime: ListClaimsRegimeType0 | None | Unset = UNSET,
    format_: ListClaimsFormatType0 | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
    accept: None | str | Unset = UNSET,
) -> Response[ClaimPage | Problem]:
    """List Claims

     Oldest first, filters combined; `?format=csv` or `Accept: text/csv` streams every matching claim,
    unpaged.

    Args:
        disruption (int | None | Unset): Only this disruption's claims.
        status (ListClaimsStatusType0 | None | Unset):
        regime (ListClaimsRegimeType0 | None | Unset):
        format_ (ListClaimsFormatType0 | None | Unset): csv: every matching claim as CSV (as
            `Accept: text/csv`).
        cursor (None | str | Unset): `next_cursor` of the page before; omit for the first page.
        limit (int | Unset): Items per page (at most 200). Default: 50.
        accept (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClaimPage | Problem]
    """

    kwargs = _get_kwargs(
        disruption=disruption,
        status=status,
        regime=regime,
        format_=format_,
        cursor=cursor,
        limit=limit,
        accept=accept,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    disruption: int | None | Unset = UNSET,
    status: ListClaimsStatusType0 | None | Unset = UNSET,
    regime: ListClaimsRegimeType0 | None | Unset = UNSET,
    format_: ListClaimsFormatType0 | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
    accept: None | str | Unset = UNSET,
) -> ClaimPage | Problem | None:
    """List Claims

     Oldest first, filters combined; `?format=csv` or `Accept: text/csv` streams every matching claim,
    unpaged.

    Args:
        disruption (int | None | Unset): Only this disruption's claims.
        status (ListClaimsStatusType0 | None | Unset):
        regime (ListClaimsRegimeType0 | None | Unset):
        format_ (ListClaimsFormatType0 | None | Unset): csv: every matching claim as CSV (as
            `Accept: text/csv`).
        cursor (None | str | Unset): `next_cursor` of the page before; omit for the first page.
        limit (int | Unset): Items per page (at most 200). Default: 50.
        accept (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClaimPage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            disruption=disruption,
            status=status,
            regime=regime,
            format_=format_,
            cursor=cursor,
            limit=limit,
            accept=accept,
        )
    ).parsed
