"""Alembic environment: runs on the connection the application hands over (storage.db)."""

from alembic import context

import storage.alert_models
import storage.caseworker_models
import storage.checkin_models
import storage.referral_models
import storage.search_models
import storage.team_models  # noqa: F401
from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the application runs migrations
    raise RuntimeError("run migrations through `sanad init` / storage.db.Database.migrate()")


def _ours(name: object, type_: str, _parent: object) -> bool:
    """The job engine's tables (procrastinate_*, PostgreSQL) belong to it, not to these
    migrations (jobs.ensure_schema installs them)."""
    return not (type_ == "table" and str(name).startswith("procrastinate_"))


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
    include_name=_ours,
)
with context.begin_transaction():
    context.run_migrations()
