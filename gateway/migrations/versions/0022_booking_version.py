"""booking version and content hash: delta imports upsert a PNR by locator only when its version is newer

`rebook import bookings --mode upsert` and `PUT /v1/bookings/{locator}` compare a row's version with
`bookings.version` (0 for bookings loaded before, so any versioned row is newer) and its keyed hash
with `content_hash` (an equal version with the same content is `unchanged`).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 13:05:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('content_hash')
        batch_op.drop_column('version')
