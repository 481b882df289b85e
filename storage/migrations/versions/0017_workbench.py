"""caseworker workbench: blind-index terms, labels, case links, canned replies; sort indexes

`case_terms` holds keyed HMACs of normalised place, country and person words (the key is
derived from the home's pepper, never stored here); `case_labels` short working tags;
`case_links` links between cases. Two indexes let the queue's first page be read in the
order of any sortable column without sorting every case.

Revision ID: 0017
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_terms",
        sa.Column("term", sa.LargeBinary(length=16), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("term", "case_id", "kind"),
    )
    op.create_index("ix_case_terms_case", "case_terms", ["case_id"], unique=False)
    op.create_table(
        "case_labels",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", "label"),
    )
    op.create_index("ix_case_labels_label", "case_labels", ["label"], unique=False)
    op.create_table(
        "case_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_a", sa.String(length=36), nullable=False),
        sa.Column("case_b", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_a"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_b"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_links_case_a", "case_links", ["case_a"], unique=False)
    op.create_index("ix_case_links_case_b", "case_links", ["case_b"], unique=False)
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lang", sa.String(length=4), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("body", sa.String(length=3000), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_cases_order_priority", "cases", ["priority", "received_at", "case_ref"])
    op.create_index("ix_cases_received", "cases", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_received", table_name="cases")
    op.drop_index("ix_cases_order_priority", table_name="cases")
    op.drop_table("canned_replies")
    op.drop_index("ix_case_links_case_b", table_name="case_links")
    op.drop_index("ix_case_links_case_a", table_name="case_links")
    op.drop_table("case_links")
    op.drop_index("ix_case_labels_label", table_name="case_labels")
    op.drop_table("case_labels")
    op.drop_index("ix_case_terms_case", table_name="case_terms")
    op.drop_table("case_terms")
