"""protection at every stage (issue 18): alert kinds long enough for the first-assessment ones

`alerts.kind` holds `assessment_due` and `assessment_late` (14 and 15 characters), so it grows
from 12 to 24 characters. SQLite ignores lengths; PostgreSQL needs the change.

Revision ID: 0019
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=12),
                           type_=sa.String(length=24), existing_nullable=False)


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE length(kind) > 12")
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=24),
                           type_=sa.String(length=12), existing_nullable=False)
