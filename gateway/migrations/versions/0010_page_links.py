"""page links: personal links to the passenger page, kept only as SHA-256 hashes

Each message may carry `PUBLIC_BASE_URL/p/<token>`; the token is random and bound to one booking
and one disruption, so only its hash is stored (a copy of the database opens no page). Erasure
deletes a booking's links, which revokes them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 07:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.orm

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'page_links',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('booking_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('disruption_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('created_at', infra.orm.UTCDateTime(), nullable=False),
        sa.Column('expires_at', infra.orm.UTCDateTime(), nullable=False),
        sa.Column('renewed_at', infra.orm.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_page_links_booking_id_bookings'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(
            ['disruption_id'], ['disruptions.id'], name=op.f('fk_page_links_disruption_id_disruptions'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_page_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_page_links_token_hash')),
    )
    with op.batch_alter_table('page_links', schema=None) as batch_op:
        batch_op.create_index('ix_page_links_booking', ['booking_id', 'disruption_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('page_links', schema=None) as batch_op:
        batch_op.drop_index('ix_page_links_booking')
    op.drop_table('page_links')
