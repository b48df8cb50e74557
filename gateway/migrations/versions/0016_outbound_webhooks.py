"""outbound webhooks: events for the airline's systems, subscriptions, deliveries

Every change an airline may subscribe to writes an `outbound_events` row in its own transaction;
the worker routes each to the `webhook_subscriptions` that want it (one `webhook_deliveries` row
each) and delivers it signed per Standard Webhooks, with retries and a per-endpoint circuit.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 12:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.orm

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'outbound_events',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('type', sa.String(length=32), nullable=False),
        sa.Column('occurred_at', infra.orm.UTCDateTime(), nullable=False),
        sa.Column('ordering_key', sa.String(length=40), nullable=False),
        sa.Column('passenger_id', BIG_ID, nullable=True),
        sa.Column('booking_id', BIG_ID, nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('routed_at', infra.orm.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_events')),
    )
    with op.batch_alter_table('outbound_events', schema=None) as batch_op:
        batch_op.create_index('ix_outbound_events_routing', ['routed_at', 'id'], unique=False)
        batch_op.create_index('ix_outbound_events_occurred', ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_events_passenger_id'), ['passenger_id'], unique=False)

    op.create_table(
        'webhook_subscriptions',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('pii', sa.Boolean(), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=True),
        sa.Column('secret', infra.orm.EncryptedString(length=126), nullable=False),
        sa.Column('created_at', infra.orm.UTCDateTime(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('failing_since', infra.orm.UTCDateTime(), nullable=True),
        sa.Column('disabled_at', infra.orm.UTCDateTime(), nullable=True),
        sa.Column('disabled_reason', sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions')),
    )

    op.create_table(
        'webhook_deliveries',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('subscription_id', BIG_ID, nullable=False),
        sa.Column('event_id', BIG_ID, nullable=False),
        sa.Column('ordering_key', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.SmallInteger(), nullable=False),
        sa.Column('next_attempt_at', infra.orm.UTCDateTime(), nullable=False),
        sa.Column('leased_until', infra.orm.UTCDateTime(), nullable=True),
        sa.Column('last_status', sa.SmallInteger(), nullable=True),
        sa.Column('last_error', sa.String(length=64), nullable=True),
        sa.Column('created_at', infra.orm.UTCDateTime(), nullable=False),
        sa.Column('delivered_at', infra.orm.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['event_id'], ['outbound_events.id'], name=op.f('fk_webhook_deliveries_event_id_outbound_events'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'], name=op.f('fk_webhook_deliveries_subscription_id_webhook_subscriptions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_webhook_deliveries_order', ['subscription_id', 'ordering_key', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_event_id'), ['event_id'], unique=False)


def downgrade() -> None:
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_subscriptions')
    op.drop_table('outbound_events')
