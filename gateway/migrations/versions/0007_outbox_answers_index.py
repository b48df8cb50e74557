"""outbox: a partial index over the answers still to send (all but a fan-out's first contacts)

While options are being generated the dispatcher holds a fan-out's first messages back (the
seats come first), but a booking confirmation or a reply to a keyword must not wait for it.
This index lets the claim find those few rows without walking thousands of held-back offers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 10:30:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_ANSWERS = sa.text("status IN ('pending', 'sending') AND key NOT IN ('offer', 'escalated_no_options')")


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_answers', ['id'], unique=False, postgresql_where=_ANSWERS, sqlite_where=_ANSWERS)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_answers')
