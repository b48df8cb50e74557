"""care vouchers: meal, hotel and transfer vouchers per passenger and threshold; hotel allotments per night

`care_vouchers` holds one row per passenger, disruption, kind and threshold (the unique key makes a
second sweep a no-op), with its random code, amount, legal basis and validity. `hotel_rooms`
counts the rooms each contracted hotel gives a night (a CHECK refuses more taken than given);
`hotel_reservations` keeps each reservation under its caller's key (rebooking_core/care/).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 14:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.orm

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'care_vouchers',
        sa.Column('id', _ID, nullable=False),
        sa.Column('passenger_id', _ID, nullable=False),
        sa.Column('booking_id', _ID, nullable=False),
        sa.Column('disruption_id', _ID, nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('threshold', sa.String(length=10), nullable=False),
        sa.Column('regime', sa.String(length=8), nullable=False),
        sa.Column('code', sa.String(length=20), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('basis', sa.String(length=600), nullable=False),
        sa.Column('hotel', sa.String(length=120), nullable=True),
        sa.Column('airport', sa.String(length=3), nullable=False),
        sa.Column('issued_at', infra.orm.UTCDateTime(), nullable=False),
        sa.Column('valid_until', infra.orm.UTCDateTime(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_care_vouchers_booking_id_bookings'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['disruption_id'], ['disruptions.id'], name=op.f('fk_care_vouchers_disruption_id_disruptions')),
        sa.ForeignKeyConstraint(['passenger_id'], ['passengers.id'], name=op.f('fk_care_vouchers_passenger_id_passengers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_care_vouchers')),
        sa.UniqueConstraint('code', name=op.f('uq_care_vouchers_code')),
        sa.UniqueConstraint('passenger_id', 'disruption_id', 'kind', 'threshold', name='one_voucher_per_threshold'),
    )
    with op.batch_alter_table('care_vouchers', schema=None) as batch_op:
        batch_op.create_index('ix_care_vouchers_booking', ['booking_id', 'disruption_id'], unique=False)
    op.create_table(
        'hotel_rooms',
        sa.Column('id', _ID, nullable=False),
        sa.Column('airport', sa.String(length=3), nullable=False),
        sa.Column('hotel', sa.String(length=120), nullable=False),
        sa.Column('night', sa.Date(), nullable=False),
        sa.Column('rooms', sa.Integer(), nullable=False),
        sa.Column('taken', sa.Integer(), nullable=False),
        sa.CheckConstraint('taken >= 0 AND taken <= rooms', name=op.f('ck_hotel_rooms_no_overbooked_rooms')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_hotel_rooms')),
        sa.UniqueConstraint('airport', 'hotel', 'night', name='one_allotment_per_night'),
    )
    op.create_table(
        'hotel_reservations',
        sa.Column('id', _ID, nullable=False),
        sa.Column('key', sa.String(length=96), nullable=False),
        sa.Column('hotel_room_id', _ID, nullable=True),
        sa.Column('rooms', sa.Integer(), nullable=False),
        sa.Column('created_at', infra.orm.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['hotel_room_id'], ['hotel_rooms.id'], name=op.f('fk_hotel_reservations_hotel_room_id_hotel_rooms')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_hotel_reservations')),
        sa.UniqueConstraint('key', name=op.f('uq_hotel_reservations_key')),
    )


def downgrade() -> None:
    op.drop_table('hotel_reservations')
    op.drop_table('hotel_rooms')
    with op.batch_alter_table('care_vouchers', schema=None) as batch_op:
        batch_op.drop_index('ix_care_vouchers_booking')
    op.drop_table('care_vouchers')
