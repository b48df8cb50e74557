"""columns that hold provider values, sized from the providers' documented maxima

A WhatsApp text of 4,096 emoji (or Arabic letters) sealed by infra/crypto.py is 21,906
characters; the inbound text column held 8,192 and PostgreSQL refused the row, so Meta retried
into the same 500. Provider ids (255), receipt dedupe keys (320), error codes (32), Slack ids (64)
and consent evidence (320) get room too; conversations/provider_values.py holds the numbers and
the rule for anything larger (hashed ids, cut codes and texts).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 00:45:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

#: (table, column, old length, new length, nullable)
_WIDENED = (
    ('inbound_messages', 'text', 8192, 24576, True),
    ('processed_events', 'event_id', 160, 320, False),
    ('deliveries', 'provider_message_id', 128, 255, True),
    ('deliveries', 'error_code', 16, 32, True),
    ('broadcast_recipients', 'provider_message_id', 128, 255, True),
    ('consent_events', 'evidence', 128, 320, True),
    ('escalations', 'route', 32, 64, True),
    ('escalations', 'agent', 32, 64, True),
    ('queue_cards', 'route', 32, 64, False),
    ('agent_decisions', 'agent', 32, 64, False),
    ('broadcasts', 'slack_channel', 32, 64, True),
)


def _alter(to_new: bool) -> None:
    tables: dict[str, list[tuple[str, int, int, bool]]] = {}
    for table, column, old, new, nullable in _WIDENED:
        tables.setdefault(table, []).append((column, old, new, nullable))
    for table, columns in tables.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, old, new, nullable in columns:
                before, after = (old, new) if to_new else (new, old)
                batch_op.alter_column(
                    column,
                    existing_type=sa.String(length=before),
                    type_=sa.String(length=after),
                    existing_nullable=nullable,
                )


def upgrade() -> None:
    _alter(to_new=True)


def downgrade() -> None:
    # Narrowing fails on PostgreSQL while a longer value is stored: nothing is cut silently.
    _alter(to_new=False)
