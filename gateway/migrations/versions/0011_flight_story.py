"""flight story: every flight update once per (source, message id), and an equipment change's new capacity

A flight's updates (delay, bigger delay, cancellation, reinstatement...) update its one live
disruption instead of opening another; `disruption_updates` makes each update idempotent and
orders them per flight, `disruption_flights.capacity` keeps a smaller aircraft's seats until its
overflow has moved off.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 07:10:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.orm

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'disruption_updates',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('message_id', sa.String(length=128), nullable=False),
        sa.Column('flight_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('disruption_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('issued_at', infra.orm.UTCDateTime(), nullable=False),
        sa.Column('received_at', infra.orm.UTCDateTime(), nullable=False),
        sa.Column('outcome', sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(['flight_id'], ['flights.id'], name=op.f('fk_disruption_updates_flight_id_flights')),
        sa.ForeignKeyConstraint(
            ['disruption_id'], ['disruptions.id'], name=op.f('fk_disruption_updates_disruption_id_disruptions'), ondelete='SET NULL'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_disruption_updates')),
        sa.UniqueConstraint('source', 'message_id', name='one_update_per_message'),
    )
    op.create_index('ix_disruption_updates_flight', 'disruption_updates', ['flight_id', 'issued_at'])
    with op.batch_alter_table('disruption_flights') as batch:
        batch.add_column(sa.Column('capacity', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('disruption_flights') as batch:
        batch.drop_column('capacity')
    op.drop_index('ix_disruption_updates_flight', table_name='disruption_updates')
    op.drop_table('disruption_updates')
