"""webhook inbox order: a keyed chat tag and the platform's sequence number per inbox row

Webhook workers store each update in `channel_inbox` before answering Telegram's POST, then
answer one chat's updates in order, one worker at a time. `chat_tag` is an HMAC of the chat
under the home's pepper (never the chat id); `seq` is Telegram's update_id. Both are empty
for rows the polling channel stores (it keeps order in one process).

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_inbox") as batch:
        batch.add_column(sa.Column("chat_tag", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch.create_index("ix_channel_inbox_chat_tag", ["chat_tag"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("channel_inbox") as batch:
        batch.drop_index("ix_channel_inbox_chat_tag")
        batch.drop_column("seq")
        batch.drop_column("chat_tag")
