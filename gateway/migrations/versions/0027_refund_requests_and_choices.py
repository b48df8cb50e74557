"""refund requests and the passenger's own choice: refund instead of rerouting, or keeping a delayed flight

`refund_requests` holds one request per booking and disruption (its idempotency key, also the key
the airline's Reservations port sees) with the cancelled segments, the legal basis and the state
the airline answered (requested, sent, accepted, refused). `conversations.choice` records a
refund or keep that closed a conversation (conversations/choices.py). No money moves through
rebook: the airline refunds to the original payment (docs/choices.md).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 13:30:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.orm

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'refund_requests',
        sa.Column('id', _ID, nullable=False),
        sa.Column('booking_id', _ID, nullable=False),
        sa.Column('disruption_id', _ID, nullable=False),
        sa.Column('conversation_id', _ID, nullable=True),
        sa.Column('passengers', sa.Integer(), nullable=False),
        sa.Column('segment_ids', sa.JSON(), nullable=False),
        sa.Column('basis', sa.String(length=600), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('idempotency_key', sa.String(length=64), nullable=False),
        sa.Column('reference', sa.String(length=64), nullable=True),
        sa.Column('reason', sa.String(length=64), nullable=True),
        sa.Column('created_at', infra.orm.UTCDateTime(), nullable=False),
        sa.Column('sent_at', infra.orm.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_refund_requests_booking_id_bookings'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['disruption_id'], ['disruptions.id'], name=op.f('fk_refund_requests_disruption_id_disruptions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_requests')),
        sa.UniqueConstraint('idempotency_key', name=op.f('uq_refund_requests_idempotency_key')),
    )
    with op.batch_alter_table('refund_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refund_requests_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index('ix_refund_requests_state', ['state', 'id'], unique=False)
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('choice', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('choice')
    with op.batch_alter_table('refund_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_refund_requests_state')
        batch_op.drop_index(batch_op.f('ix_refund_requests_booking_id'))
    op.drop_table('refund_requests')
