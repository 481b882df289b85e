"""statistics rows: consented reports' categorical answers, unlinkable without the pepper

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stat_values",
        sa.Column("row_key", sa.String(length=64), nullable=False),
        sa.Column("dimension", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=48), nullable=False),
        sa.PrimaryKeyConstraint("row_key", "dimension", "value"),
    )


def downgrade() -> None:
    op.drop_table("stat_values")
