"""Mint and resolve personal page links: a random base62 token out, only its SHA-256 kept.

A token is 22 characters of base62 (about 131 bits), short enough for an SMS. It is looked up by
its hash, so a copy of the database holds no working link; a plain hash is enough because a
token is random, not a guessable secret a keyed hash would have to protect.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import string
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.models import Conversation
from conversations.page.models import PageLink
from infra import crypto
from infra.commit_rows import insert_at_commit

ALPHABET = string.digits + string.ascii_letters
#: 22 base62 characters carry 22 x log2(62) = 131 bits: above the 128 the issue asks for.
TOKEN_CHARS = 22
_TOKEN = re.compile(rf"[0-9A-Za-z]{{{TOKEN_CHARS}}}")
DEFAULT_TTL = dt.timedelta(days=14)
#: How often a link may ask for a fresh one (each ask re-sends the current offer on the passenger's channel).
RENEW_EVERY = dt.timedelta(minutes=10)


def new_token() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(TOKEN_CHARS))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def well_formed(token: str) -> bool:
    """Checked before any query: anything else cannot be one of ours."""
    return _TOKEN.fullmatch(token) is not None


PAGE_LINKS = cast(Table, PageLink.__table__)


def mint(
    s: AsyncSession, *, booking_id: int, disruption_id: int, now: dt.datetime, ttl: dt.timedelta = DEFAULT_TTL
) -> str:
    """A new link to the booking's page for this disruption, written with the transaction (a wave mints
    one per message: one INSERT at commit, not a flush each); the token is returned once, never stored."""
    token = new_token()
    insert_at_commit(
        s,
        PAGE_LINKS,
        {
            "token_hash": token_hash(token),
            "booking_id": booking_id,
            "disruption_id": disruption_id,
            "created_at": now,
            "expires_at": now + ttl,
            "renewed_at": None,
        },
    )
    return token


async def find(s: AsyncSession, token: str) -> PageLink | None:
    """The link a token names, expired or not (the caller decides what an expired one may do)."""
    if not well_formed(token):
        return None
    found = await s.scalars(select(PageLink).where(PageLink.token_hash == token_hash(token)))
    return found.first()


def live(link: PageLink | None, now: dt.datetime) -> bool:
    return link is not None and now < link.expires_at


async def conversation_of(s: AsyncSession, link: PageLink) -> Conversation | None:
    """The one conversation of the link's booking and disruption, for reading."""
    query = select(Conversation).where(
        Conversation.booking_id == link.booking_id, Conversation.disruption_id == link.disruption_id
    )
    return (await s.scalars(query)).first()


async def conversation_id_of(s: AsyncSession, link: PageLink) -> int | None:
    """Only the id, for a session that hands it to the engine: a Conversation loaded here before the
    engine's locking read would keep the values read before the lock (a concurrent choice unseen)."""
    query = select(Conversation.id).where(
        Conversation.booking_id == link.booking_id, Conversation.disruption_id == link.disruption_id
    )
    return (await s.scalars(query)).first()


def csrf_token(hashed: str) -> str:
    """A form token bound to a link's hash, keyed with the blind-index key: nothing to store, no cookie.

    Derived from the hash alone, so an unknown token's page carries one just like an expired link's
    (the answer never hints whether a booking exists).
    """
    return crypto.keyring().blind_index(f"page-csrf:{hashed}")


def csrf_ok(hashed: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), csrf_token(hashed).encode())
