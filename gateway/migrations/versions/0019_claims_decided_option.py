"""claims.decided_option_id: the option a claim was last decided for, so the worker's sweep settles claims off the reply path

Empty on every existing claim: the first sweep after the upgrade decides the open claims of
bookings already booked once more (the same outcome they got at booking; `updated_at` moves).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 14:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_option_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_column('decided_option_id')
