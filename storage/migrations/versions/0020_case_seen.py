"""unread badges (issue 16 item 6): when each caseworker last opened each case

`case_seen` holds one row per caseworker and case they opened, with the time; the queue
marks a case new to a caseworker when it arrived or changed after that. No content.
`cases.updated_at` gets an index: the live queue asks what changed since a page was loaded.

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_seen",
        sa.Column(
            "user_id",
            sa.String(length=36),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "case_id",
            sa.String(length=36),
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_cases_updated_at", "cases", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_updated_at", table_name="cases")
    op.drop_table("case_seen")
