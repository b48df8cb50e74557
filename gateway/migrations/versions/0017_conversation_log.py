"""conversation log: what went (as rendered per channel) and what came in (provider, id, tap), findable by booking

Every hand-over keeps the text its channel showed (`deliveries.text`, encrypted like what passengers
write); every inbound message keeps its provider, the provider's message id and the button tapped.
Conversations are found by booking (a locator lookup), broadcast notices by passenger (a partial
index: conversation rows have no passenger_id and stay out of it).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 09:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.orm

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

_NOTICES = sa.text("passenger_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text', infra.orm.EncryptedString(length=24576), nullable=True))
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('provider_message_id', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('choice', sa.String(length=255), nullable=True))
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_booking', ['booking_id'], unique=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(
            'ix_outbox_notices_by_passenger', ['passenger_id'], unique=False, postgresql_where=_NOTICES, sqlite_where=_NOTICES
        )


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_notices_by_passenger')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_booking')
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_column('choice')
        batch_op.drop_column('provider_message_id')
        batch_op.drop_column('provider')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('text')
