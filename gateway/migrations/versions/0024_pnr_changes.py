"""pnr changes: the two-phase booking's intents against a remote PSS

A choice made while a remote PSS confirms bookings records one `pnr_changes` row with the
conversation's transaction (the change to send, its idempotency key, state `sending`); the worker
claims due rows with a lease, calls the PSS outside any transaction and records the answer. Unused
(empty) while the built-in SQL store is the PSS.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 13:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.orm

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'pnr_changes',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('conversation_id', BIG_ID, nullable=False),
        sa.Column('booking_id', BIG_ID, nullable=False),
        sa.Column('offer_id', BIG_ID, nullable=False),
        sa.Column('option_id', BIG_ID, nullable=False),
        sa.Column('locator', sa.String(length=6), nullable=False),
        sa.Column('change', sa.JSON(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_at', infra.orm.UTCDateTime(), nullable=False),
        sa.Column('lease_until', infra.orm.UTCDateTime(), nullable=True),
        sa.Column('claim', sa.String(length=32), nullable=True),
        sa.Column('reason', sa.String(length=64), nullable=True),
        sa.Column('ticket', sa.String(length=24), nullable=True),
        sa.Column('created_at', infra.orm.UTCDateTime(), nullable=False),
        sa.Column('updated_at', infra.orm.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pnr_changes')),
        sa.UniqueConstraint('idempotency_key', name=op.f('uq_pnr_changes_idempotency_key')),
    )
    with op.batch_alter_table('pnr_changes', schema=None) as batch_op:
        batch_op.create_index('ix_pnr_changes_due', ['state', 'next_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pnr_changes_conversation_id'), ['conversation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pnr_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pnr_changes_conversation_id'))
        batch_op.drop_index('ix_pnr_changes_due')
    op.drop_table('pnr_changes')
