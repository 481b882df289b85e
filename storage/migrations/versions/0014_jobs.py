"""background work on several hosts: an outbox lease, worker heartbeats, health alerts

`outbox.lease_until`: a worker that takes a message to deliver holds it until then
(`SELECT ... FOR UPDATE SKIP LOCKED`), so two workers never send the same message; a worker
that dies mid-send loses its lease and the message is tried again after it.
`worker_heartbeats`: one row per worker kind and process (host, pid), with its last beat,
read by `sanad status` and by the watchdog that tells the on-call route when no alerts
worker has beaten for two minutes. `health_alerts`: one row per open health problem (for
now `alerts_silent`), so the on-call route is told once across every host, not once per
process or round. None of these holds case content.

The job engine's own tables (procrastinate, PostgreSQL only) are installed by the engine
(`jobs.ensure_schema`), not here: they belong to the pinned library version.

Downgrading drops the two tables and the column: a message leased at that moment is simply
pending again for the older code.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_outbox_due", ["channel", "status", "next_attempt_at"], unique=False
        )
    op.create_table(
        "worker_heartbeats",
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("worker_id", sa.String(length=96), nullable=False),
        sa.Column("host", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "worker_id"),
    )
    op.create_table(
        "health_alerts",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kind"),
    )


def downgrade() -> None:
    op.drop_table("health_alerts")
    op.drop_table("worker_heartbeats")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.drop_column("lease_until")
