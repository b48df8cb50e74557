"""Re-encrypt every PII column under the keyring's current key, so a retired key can be dropped."""

from __future__ import annotations

from sqlalchemy import MetaData, String, Table, literal, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from infra.crypto import Keyring
from infra.orm import EncryptedString


def encrypted_columns(metadata: MetaData) -> dict[str, list[str]]:
    """Every EncryptedString column, by table, found by walking the metadata."""
    found: dict[str, list[str]] = {}
    for table in metadata.sorted_tables:
        names = [c.name for c in table.columns if isinstance(c.type, EncryptedString)]
        if names:
            found[table.name] = names
    return found


def key_id(stored: str) -> str:
    return stored.split(":", 2)[1]


async def rotate(session: AsyncSession, metadata: MetaData, ring: Keyring, *, batch: int = 1000) -> dict[str, int]:
    """Rows re-encrypted per table; values already under the current key are left alone."""
    counts: dict[str, int] = {}
    for name, names in encrypted_columns(metadata).items():
        counts[name] = await _rotate_table(session, metadata.tables[name], names, ring, batch)
    return counts


async def _rotate_table(session: AsyncSession, table: Table, names: list[str], ring: Keyring, batch: int) -> int:
    pk = list(table.primary_key.columns)
    raw = [type_coerce(table.c[n], String) for n in names]
    stale = [r.isnot(None) & ~r.startswith(f"enc1:{ring.current}:", autoescape=True) for r in raw]
    condition = stale[0]
    for extra in stale[1:]:
        condition = condition | extra
    changed = 0
    while True:
        rows = (await session.execute(select(*pk, *raw).where(condition).limit(batch))).all()
        if not rows:
            return changed
        for row in rows:
            keys, values = row[: len(pk)], row[len(pk) :]
            fresh = {
                n: ring.encrypt(ring.decrypt(v)) if v is not None and key_id(v) != ring.current else v
                for n, v in zip(names, values, strict=True)
            }
            # Ciphertext goes back as plain strings, bypassing the column's encrypting type.
            await session.execute(
                update(table)
                .where(*[c == k for c, k in zip(pk, keys, strict=True)])
                .values({n: literal(v, String) for n, v in fresh.items()})
            )
            changed += 1
