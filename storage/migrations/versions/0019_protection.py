"""protection at every stage (issue 18): first-assessment alert kinds, safety check-ins

`alerts.kind` holds `assessment_due` and `assessment_late` (14 and 15 characters), so it grows
from 12 to 24 characters (SQLite ignores lengths; PostgreSQL needs the change). `checkins`
holds one row per safety check-in of a case: when it was due, whether it reached the
reporter, and which fixed answer they chose; never anything they wrote. `cases.caseworker_pref`
(woman | man) and `users.gender` let "claim next" honour the reporter's caseworker preference.
`referrals`: each referral of a case to a body of the register, its status, deadline (reminded
like an interim measure), outcome and when the reporter was told.

Revision ID: 0019
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column(
            "kind",
            existing_type=sa.String(length=12),
            type_=sa.String(length=24),
            existing_nullable=False,
        )
    op.create_table(
        "checkins",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column(
            "case_id",
            sa.String(length=36),
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("anchor_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("outbox_id", sa.String(length=36), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.String(length=12), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("case_id", "stage", "anchor_at", "seq", name="uq_checkins_slot"),
    )
    op.create_index("ix_checkins_case_id", "checkins", ["case_id"])
    op.create_index("ix_checkins_outbox_id", "checkins", ["outbox_id"])
    op.create_index("ix_checkins_status", "checkins", ["status", "sent_at"])
    op.create_table(
        "referrals",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column(
            "case_id",
            sa.String(length=36),
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("body", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded", sa.String(length=12), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reporter_told_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_referrals_case_id", "referrals", ["case_id"])
    op.create_index("ix_referrals_due", "referrals", ["status", "deadline"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("caseworker_pref", sa.String(length=8), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("gender", sa.String(length=8), nullable=True))


def downgrade() -> None:
    # Not batch mode: on SQLite it would copy and drop `cases`, and the drop cascades to every
    # table that references it. ALTER TABLE ... DROP COLUMN works on SQLite 3.35+ and PostgreSQL.
    op.execute("ALTER TABLE users DROP COLUMN gender")
    op.execute("ALTER TABLE cases DROP COLUMN caseworker_pref")
    op.drop_table("referrals")
    op.drop_table("checkins")
    op.execute("DELETE FROM alerts WHERE length(kind) > 12")
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column(
            "kind",
            existing_type=sa.String(length=24),
            type_=sa.String(length=12),
            existing_nullable=False,
        )
