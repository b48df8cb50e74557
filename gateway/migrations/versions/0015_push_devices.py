"""push devices: a contact point of the push channel names its platform and app

A device token (the address, encrypted, with its blind index) is sent through APNs or FCM by
its platform; `sender` names the service, so the dispatcher puts it on that service's lane.
Pushes handed over and not yet opened are indexed: unseen ones fall back to the next channel.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 09:40:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

UNSEEN = "channel = 'push' AND status = 'sent'"


def upgrade() -> None:
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('app_id', sa.String(length=128), nullable=True))
    # Pushes not yet opened: the fallback sweep reads only these.
    op.create_index(
        'ix_deliveries_push_unseen',
        'deliveries',
        ['created_at'],
        unique=False,
        postgresql_where=sa.text(UNSEEN),
        sqlite_where=sa.text(UNSEEN),
    )


def downgrade() -> None:
    op.drop_index('ix_deliveries_push_unseen', table_name='deliveries', postgresql_where=sa.text(UNSEEN), sqlite_where=sa.text(UNSEEN))
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.drop_column('app_id')
        batch_op.drop_column('platform')
