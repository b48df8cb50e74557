"""passenger loyalty: the programme's status name, miles balance and travel preferences

Ranking lowers an option's score for each preference it matches and allocation breaks equal tiers
by miles (docs/loyalty.md); the built-in Loyalty store reads these columns. Existing rows stay
empty: with no loyalty data, ranking and allocation are what they were.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 12:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("passengers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("loyalty_status", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("miles", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("preferences", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("passengers", schema=None) as batch_op:
        batch_op.drop_column("preferences")
        batch_op.drop_column("miles")
        batch_op.drop_column("loyalty_status")
