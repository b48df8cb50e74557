"""amount checks: an agent's reply naming a money amount, checked against the rights engine's; a mismatch is held

One row per reply that names an amount (unique on escalation and the reply's key): `matched` went
out at once, `held` waits for its agent's confirmation, `confirmed` was then sent once. The text is
kept encrypted (conversations/desk/amount_hold.py); the amounts and the engine's are no personal data.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 13:30:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.orm

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('amount_checks',
    sa.Column('id', _ID, nullable=False),
    sa.Column('escalation_id', _ID, nullable=False),
    sa.Column('conversation_id', _ID, nullable=False),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('once', sa.String(length=160), nullable=False),
    sa.Column('text', sa.String(length=8000), nullable=False),
    sa.Column('named', sa.String(length=200), nullable=False),
    sa.Column('engine_amount', sa.Integer(), nullable=True),
    sa.Column('engine_currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', infra.orm.UTCDateTime(), nullable=False),
    sa.Column('confirmed_at', infra.orm.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'], name=op.f('fk_amount_checks_escalation_id_escalations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_amount_checks')),
    sa.UniqueConstraint('escalation_id', 'once', name='one_check_per_reply')
    )
    with op.batch_alter_table('amount_checks', schema=None) as batch_op:
        batch_op.create_index('ix_amount_checks_held', ['escalation_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('amount_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_amount_checks_held')
    op.drop_table('amount_checks')
