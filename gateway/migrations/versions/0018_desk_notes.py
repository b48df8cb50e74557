"""desk notes: the flight's story told to the agent who owns a passenger, in the card's thread, once

A re-plan writes one row per claimed escalation and update (unique on escalation and `once`); the
desk's pump refreshes the passenger card and posts the note. No personal data: a catalog key and
its parameters (a cause, a count of options, a time).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 10:30:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.orm

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('desk_notes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('escalation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('once', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', infra.orm.UTCDateTime(), nullable=False),
    sa.Column('posted_at', infra.orm.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'], name=op.f('fk_desk_notes_escalation_id_escalations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_notes')),
    sa.UniqueConstraint('escalation_id', 'once', name='one_note_per_change')
    )
    with op.batch_alter_table('desk_notes', schema=None) as batch_op:
        batch_op.create_index('ix_desk_notes_status', ['status', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('desk_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_desk_notes_status')
    op.drop_table('desk_notes')
