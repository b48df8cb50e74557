"""claims: a compensation claim per passenger and disruption, with regime, amount and legal basis

Made when a disruption's impacted bookings are assessed, decided again when a booking is
confirmed on a new itinerary; one per (disruption, passenger). Erasure unlinks the passenger and
booking and keeps the amounts for the totals.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 09:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.orm

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'claims',
        sa.Column('id', _ID, nullable=False),
        sa.Column('disruption_id', _ID, nullable=False),
        sa.Column('passenger_id', _ID, nullable=True),
        sa.Column('booking_id', _ID, nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('regime', sa.String(length=8), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('basis', sa.String(length=600), nullable=False),
        sa.Column('licence', sa.String(length=8), nullable=False),
        sa.Column('carrier_size', sa.String(length=8), nullable=False),
        sa.Column('created_at', infra.orm.UTCDateTime(), nullable=False),
        sa.Column('updated_at', infra.orm.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_claims_booking_id_bookings')),
        sa.ForeignKeyConstraint(['disruption_id'], ['disruptions.id'], name=op.f('fk_claims_disruption_id_disruptions')),
        sa.ForeignKeyConstraint(['passenger_id'], ['passengers.id'], name=op.f('fk_claims_passenger_id_passengers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_claims')),
        sa.UniqueConstraint('disruption_id', 'passenger_id', name='one_claim_per_passenger'),
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_disruption_status', ['disruption_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_booking_id'), ['booking_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claims_booking_id'))
        batch_op.drop_index('ix_claims_disruption_status')
    op.drop_table('claims')
