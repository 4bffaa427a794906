"""feed interval bounds: each feed's own limits for its adapted interval

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 05:00:00

Both columns are nullable: a feed without its own bounds adapts within NEWSWATCH_MIN_INTERVAL and
NEWSWATCH_MAX_INTERVAL, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_interval_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("max_interval_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("max_interval_seconds")
        batch_op.drop_column("min_interval_seconds")
