"""`/healthz` and `/readyz` on the dashboard (no login, no case data), and the dashboard's
heartbeat while it is served. SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text
from starlette.testclient import TestClient

from storage import health
from tests.web.conftest import Site, create_app


def test_healthz_and_readyz(any_site: Site) -> None:
    with TestClient(create_app(any_site.dashboard)) as client:  # runs the lifespan
        alive = client.get("/healthz")
        assert alive.status_code == 200 and alive.json() == {"ok": True}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"ready": True, "database": True, "migrations": True}
        with any_site.db.transaction() as session:
            assert health.last_beat(session, "dashboard") is not None
        # Migrations behind: not ready (503), still alive.
        with any_site.db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0013'"))
        behind = client.get("/readyz")
        assert behind.status_code == 503 and behind.json()["migrations"] is False
        assert client.get("/healthz").status_code == 200


def test_readyz_says_not_ready_when_the_database_is_away(site: Site) -> None:
    away = health.readiness(type(site.db)("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    assert away.ready is False and away.database is False
    assert "nobody" not in str(away.to_json())
