"""processed events keep their sealed replies, for re-sending after a crash

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed_replies", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("sealed_replies")
