"""outbox lanes: each row is queued on a (channel, sender) lane with a priority; broadcasts are outbox rows

A dispatch round used to claim rows of every channel together and record them when the slowest
send was done, so a long code's 1 SMS a second set WhatsApp's pace. Rows now carry the lane they
are routed to and a priority (answers, first-wave notices, broadcasts); each lane claims only
what its provider's bucket lets it send. The claim's index is (lane, priority, id) over the rows
still to send; a second one finds a conversation's earlier unsent message, which goes first.
Broadcast notices become outbox rows of no conversation (passenger and broadcast named), and a
contact point remembers which of our numbers the passenger last wrote to.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 01:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_READY = sa.text("status IN ('pending', 'sending')")
_ANSWERS = sa.text("status IN ('pending', 'sending') AND key NOT IN ('offer', 'escalated_no_options')")


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('passenger_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('broadcast_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('lane', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('priority', sa.SmallInteger(), server_default='1', nullable=False))
        batch_op.alter_column('conversation_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True)
        batch_op.create_foreign_key('fk_outbox_passenger_id_passengers', 'passengers', ['passenger_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key('fk_outbox_broadcast_id_broadcasts', 'broadcasts', ['broadcast_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_index('ix_outbox_answers')
        batch_op.drop_index('ix_outbox_ready')
        batch_op.create_index('ix_outbox_lanes', ['lane', 'priority', 'id'], unique=False, postgresql_where=_READY, sqlite_where=_READY)
        batch_op.create_index(
            'ix_outbox_open_by_conversation', ['conversation_id', 'id'], unique=False, postgresql_where=_READY, sqlite_where=_READY
        )
        batch_op.create_index('ix_outbox_broadcast_id', ['broadcast_id'], unique=False)
    op.execute(
        "UPDATE outbox SET priority = 0 WHERE status IN ('pending', 'sending') "
        "AND key NOT IN ('offer', 'escalated_no_options', 'reminder', 'escalated_deadline')"
    )
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender', sa.String(length=64), nullable=True))
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.alter_column('conversation_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True)
    # Recipients of broadcasts still sending are not carried over: a broadcast now is its outbox rows.
    with op.batch_alter_table('broadcast_recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_broadcast_recipients_status')
    op.drop_table('broadcast_recipients')


def downgrade() -> None:
    op.create_table(
        'broadcast_recipients',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('broadcast_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('passenger_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('flight_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('tried', sa.JSON(), nullable=False),
        sa.Column('channel', sa.String(length=12), nullable=True),
        sa.Column('provider_message_id', sa.String(length=255), nullable=True),
        sa.Column('error', sa.String(length=64), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['broadcast_id'], ['broadcasts.id'], name='fk_broadcast_recipients_broadcast_id_broadcasts', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['passenger_id'], ['passengers.id'], name='fk_broadcast_recipients_passenger_id_passengers', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_broadcast_recipients'),
        sa.UniqueConstraint('broadcast_id', 'passenger_id', name='once_per_passenger'),
    )
    with op.batch_alter_table('broadcast_recipients', schema=None) as batch_op:
        batch_op.create_index('ix_broadcast_recipients_status', ['broadcast_id', 'status'], unique=False)
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.drop_column('sender')
    op.execute("DELETE FROM outbox WHERE conversation_id IS NULL")
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.alter_column('conversation_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_broadcast_id')
        batch_op.drop_index('ix_outbox_open_by_conversation')
        batch_op.drop_index('ix_outbox_lanes')
        batch_op.create_index('ix_outbox_ready', ['id'], unique=False, postgresql_where=_READY, sqlite_where=_READY)
        batch_op.create_index('ix_outbox_answers', ['id'], unique=False, postgresql_where=_ANSWERS, sqlite_where=_ANSWERS)
        batch_op.drop_constraint('fk_outbox_broadcast_id_broadcasts', type_='foreignkey')
        batch_op.drop_constraint('fk_outbox_passenger_id_passengers', type_='foreignkey')
        batch_op.alter_column('conversation_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False)
        batch_op.drop_column('priority')
        batch_op.drop_column('lane')
        batch_op.drop_column('broadcast_id')
        batch_op.drop_column('passenger_id')
