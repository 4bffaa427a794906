"""feed schedule: adapted interval and pause on feeds, notices of newswatch itself in the alert outbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 02:10:00

`alerts.hit_id` becomes nullable (a notice has no hit): SQLite rebuilds `alerts` for that, which is safe,
as no table refers to it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (types in generated migrations)
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("poll_interval", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice", sa.Text(), nullable=True))
        batch_op.alter_column("hit_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE hit_id IS NULL")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column("hit_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("notice")
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("paused_at")
        batch_op.drop_column("poll_interval")
