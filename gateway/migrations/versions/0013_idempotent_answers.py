"""idempotent answers: what a request with an Idempotency-Key answered, kept 24 hours

A retried POST with the same key and body gets the stored status and body instead of running
again; the same key with another body is refused. Only hashes of the key and of the request
are kept; the answer is encrypted. The retention purge removes rows older than 24 hours.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 09:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import infra.orm

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'idempotent_answers',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('created_at', infra.orm.UTCDateTime(), nullable=False),
        sa.Column('status', sa.Integer(), nullable=True),
        sa.Column('media_type', sa.String(length=64), nullable=True),
        sa.Column('body', infra.orm.EncryptedString(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotent_answers')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_idempotent_answers_key_hash')),
    )
    with op.batch_alter_table('idempotent_answers', schema=None) as batch_op:
        batch_op.create_index('ix_idempotent_answers_created', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('idempotent_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotent_answers_created')
    op.drop_table('idempotent_answers')
