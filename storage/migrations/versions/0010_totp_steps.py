"""TOTP steps in the database: `users.totp_last_step` keeps the last time step a code logged
in with, so a code cannot be replayed after a restart or on another worker (security review
2026-12, finding 16).

Revision ID: 0010
Revises: 0009 (0007 on the records branch; the merge chains it after 0009)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
