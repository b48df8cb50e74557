"""disruptions.trace_context: the W3C traceparent that sends and bookings join

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 12:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('disruptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trace_context', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('disruptions', schema=None) as batch_op:
        batch_op.drop_column('trace_context')
