"""whatsapp bsuids: a contact point carries the business-scoped user id, its parent and the username

Meta identifies WhatsApp users who hide their number by a business-scoped user id (BSUID). They
are personal data: encrypted like the address, with a blind index (`bsuid_hash`) so an inbound
message carrying only the BSUID finds its passenger.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 07:20:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.orm

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bsuid', infra.orm.EncryptedString(length=512), nullable=True))
        batch_op.add_column(sa.Column('bsuid_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('parent_bsuid', infra.orm.EncryptedString(length=512), nullable=True))
        batch_op.add_column(sa.Column('username', infra.orm.EncryptedString(length=512), nullable=True))
        batch_op.create_index('ix_contact_bsuid', ['channel', 'bsuid_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_bsuid')
        batch_op.drop_column('username')
        batch_op.drop_column('parent_bsuid')
        batch_op.drop_column('bsuid_hash')
        batch_op.drop_column('bsuid')
