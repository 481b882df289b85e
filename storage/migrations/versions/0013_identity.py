"""protected identity section: identity keys per case and custodians' access requests

`identity_keys` holds each case's identity key wrapped to the custodians of the signed
manifest and the recovery key (and later to readers a custodian approved); the identity
fields themselves are `case_fields` rows named `identity:<field>`, sealed under that key.
`identity_requests` records who asked to open a case's identity section, for what purpose,
and who approved or refused it.

Downgrading drops both tables: the identity sections can then never be opened again, so
their sealed rows are deleted too (the code before 0013 would report them as tampering).

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.LargeBinary(length=16), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "key_id"),
    )
    with op.batch_alter_table("identity_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_keys_case_id"), ["case_id"], unique=False)
    op.create_table(
        "identity_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("requester", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("identity_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_requests_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_identity_requests_requester"), ["requester"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_identity_requests_status"), ["status"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM case_fields WHERE field_id LIKE 'identity:%'")
    with op.batch_alter_table("identity_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_requests_status"))
        batch_op.drop_index(batch_op.f("ix_identity_requests_requester"))
        batch_op.drop_index(batch_op.f("ix_identity_requests_case_id"))
    op.drop_table("identity_requests")
    with op.batch_alter_table("identity_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_keys_case_id"))
    op.drop_table("identity_keys")
