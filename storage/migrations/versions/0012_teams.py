"""teams and routing: teams with members (a mirror of the signed manifest), the teams each
case was routed to, and caseworkers' access requests (issue 14)

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "team_members",
        sa.Column("team_name", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["team_name"], ["teams.name"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_name", "user_id"),
    )
    op.create_table(
        "case_teams",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("team_name", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", "team_name"),
    )
    op.create_table(
        "access_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("requester_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requester_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.create_index("ix_access_requests_case_id", ["case_id"], unique=False)
        batch_op.create_index("ix_access_requests_requester_id", ["requester_id"], unique=False)
        batch_op.create_index("ix_access_requests_status", ["status", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_access_requests_status")
        batch_op.drop_index("ix_access_requests_requester_id")
        batch_op.drop_index("ix_access_requests_case_id")
    op.drop_table("access_requests")
    op.drop_table("case_teams")
    op.drop_table("team_members")
    op.drop_table("teams")
