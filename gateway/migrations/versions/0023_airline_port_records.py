"""airline port records: holds and PNR requests the built-in SQL store answered through the airline ports

`airline_holds` keeps each seat hold asked through the `Inventory` port (its seats sit in
`inventory.held` while it is held); `airline_requests` keeps each PNR change and refund asked through
the `Reservations` port with its answer, once per idempotency key, so a retry gets the same answer
and `change_status` knows what it confirmed (rebooking_core/airline/sql.py).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 13:20:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.orm

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'airline_holds',
        sa.Column('reference', sa.String(length=32), nullable=False),
        sa.Column('idempotency_key', sa.String(length=128), nullable=False),
        sa.Column('flight_id', BIG_ID, nullable=False),
        sa.Column('cabin', sa.String(length=1), nullable=False),
        sa.Column('seats', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('expires_at', infra.orm.UTCDateTime(), nullable=False),
        sa.Column('created_at', infra.orm.UTCDateTime(), nullable=False),
        sa.CheckConstraint('seats > 0', name=op.f('ck_airline_holds_seats_positive')),
        sa.ForeignKeyConstraint(['flight_id'], ['flights.id'], name=op.f('fk_airline_holds_flight_id_flights'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('reference', name=op.f('pk_airline_holds')),
        sa.UniqueConstraint('idempotency_key', name=op.f('uq_airline_holds_idempotency_key')),
    )
    with op.batch_alter_table('airline_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_airline_holds_flight_id'), ['flight_id'], unique=False)

    op.create_table(
        'airline_requests',
        sa.Column('idempotency_key', sa.String(length=128), nullable=False),
        sa.Column('booking_id', BIG_ID, nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=True),
        sa.Column('reference', sa.String(length=32), nullable=True),
        sa.Column('version', sa.Integer(), nullable=True),
        sa.Column('created_at', infra.orm.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_airline_requests_booking_id_bookings'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('idempotency_key', name=op.f('pk_airline_requests')),
    )
    with op.batch_alter_table('airline_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_airline_requests_booking_id'), ['booking_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('airline_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_airline_requests_booking_id'))
    op.drop_table('airline_requests')
    with op.batch_alter_table('airline_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_airline_holds_flight_id'))
    op.drop_table('airline_holds')
