"""measure reminders: interim-measure deadlines are reminded once per stage, by the alerts

`case_actions.reminded` keeps the last stage reminded (due, then overdue), so a restart or a
second dispatcher never sends the same reminder twice. `alerts.action_id` names the measure a
reminder is about ('' for case-level alerts), so two measures of one case are two reminders.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded", sa.String(length=12), nullable=True))
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("action_id", sa.String(length=36), nullable=False, server_default="")
        )
        batch_op.drop_constraint("uq_alerts_case_kind_route", type_="unique")
        batch_op.create_unique_constraint(
            "uq_alerts_case_kind_route_action", ["case_id", "kind", "route", "action_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_alerts_case_kind_route_action", type_="unique")
        batch_op.execute("DELETE FROM alerts WHERE action_id <> ''")
        batch_op.create_unique_constraint("uq_alerts_case_kind_route", ["case_id", "kind", "route"])
        batch_op.drop_column("action_id")
    with op.batch_alter_table("case_actions", schema=None) as batch_op:
        batch_op.drop_column("reminded")
