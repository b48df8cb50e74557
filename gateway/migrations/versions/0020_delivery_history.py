"""delivery history: when each hand-over was delivered, read or failed (sent is its created_at)

Each receipt writes its state's time in the statement that already applies it. Existing rows get
the time of the state they are in (`updated_at`, when their last receipt moved them); earlier
states' times were never kept and stay empty. A failure recorded at hand-over (`updated_at` equal
to `created_at`: the send was refused, nothing went) keeps `failed_at` empty, as new ones do.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 16:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.orm

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_COLUMNS = ('delivered_at', 'read_at', 'failed_at')


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        for name in _COLUMNS:
            batch_op.add_column(sa.Column(name, infra.orm.UTCDateTime(), nullable=True))
    op.execute("UPDATE deliveries SET delivered_at = updated_at WHERE status = 'delivered'")
    op.execute("UPDATE deliveries SET read_at = updated_at WHERE status = 'read'")
    op.execute("UPDATE deliveries SET failed_at = updated_at WHERE status = 'failed' AND updated_at <> created_at")


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        for name in reversed(_COLUMNS):
            batch_op.drop_column(name)
