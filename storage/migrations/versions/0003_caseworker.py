"""caseworker side: TOTP secrets, notes, case actions, hash-chained audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_totp",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "case_notes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_notes_case_id"), ["case_id"], unique=False)
    op.create_table(
        "case_actions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_actions_case_id"), ["case_id"], unique=False)
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column("entry_hash", sa.LargeBinary(length=32), nullable=True))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_assigned_to", ["assigned_to"], unique=False)
        # The unfiltered queue (most urgent, then oldest) reads its first page from this index.
        batch_op.create_index(
            "ix_cases_urgency", ["priority", "received_at", "case_ref"], unique=False
        )
        # Claiming "the next most urgent unassigned case" skips nothing already claimed.
        batch_op.create_index(
            "ix_cases_unassigned",
            ["priority", "received_at", "case_ref"],
            unique=False,
            postgresql_where=sa.text("assigned_to IS NULL"),
            sqlite_where=sa.text("assigned_to IS NULL"),
        )

    # Chain the entries written before this revision, in id order, so `sanad audit verify`
    # covers the whole log.
    from storage.audit_chain import GENESIS, entry_hash

    conn = op.get_bind()
    table = sa.table(
        "audit_log",
        sa.column("id", sa.Integer),
        sa.column("at"),
        sa.column("actor"),
        sa.column("action"),
        sa.column("case_ref"),
        sa.column("outcome"),
        sa.column("detail", sa.JSON),
        sa.column("prev_hash", sa.LargeBinary),
        sa.column("entry_hash", sa.LargeBinary),
    )
    prev = GENESIS
    for row in conn.execute(sa.select(table).order_by(table.c.id)).mappings().all():
        digest = entry_hash(prev, dict(row))
        conn.execute(
            table.update().where(table.c.id == row["id"]).values(prev_hash=prev, entry_hash=digest)
        )
        prev = digest


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_unassigned")
        batch_op.drop_index("ix_cases_urgency")
        batch_op.drop_index("ix_cases_assigned_to")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("entry_hash")
        batch_op.drop_column("prev_hash")
    with op.batch_alter_table("case_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_actions_case_id"))
    op.drop_table("case_actions")
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_notes_case_id"))
    op.drop_table("case_notes")
    op.drop_table("user_totp")
