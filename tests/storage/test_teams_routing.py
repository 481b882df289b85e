"""Teams in the signed manifest, on SQLite and PostgreSQL, with the real intake and crypto:
a database writer who adds rows to the team tables gains nothing; routing seals a report to
the chosen team only; disabling deletes the copies of case keys; migration 0012 goes down
and up again."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from caseworker import lifecycle
from caseworker.cases import AccessDenied, show_case
from caseworker.users import add_user, load_admin_key
from intake.home import Home
from intake.service import IntakeService
from storage import crypto
from storage.models import User, WrappedKey
from storage.team_models import CaseTeam, Team, TeamMember
from tests.support import ADMIN_PASSPHRASE, PASSPHRASE, Chat

RITA, COLIN = "rita passphrase long", "colin passphrase long"
ROUTING = (
    "default_team: complaints\nrules:\n  - when: {report_type: reprisal}\n    teams: [reprisals]\n"
)


def admin_key(home: Path) -> object:
    return load_admin_key((home / "offline" / "admin-signing.pem").read_bytes(), ADMIN_PASSPHRASE)


def submit(service: IntakeService, user: str, report_type: str) -> str:
    chat = Chat(service, user=user, lang="en")
    while chat.question.kind != "receipt":
        field = chat.question.field
        chat.say(
            {"consent_store": "yes", "report_type": report_type, "confirm_submit": "yes"}.get(
                field or "", "/skip"
            )
        )
    return str(chat.question.extra["case_ref"])


def readers(service: IntakeService, case_ref: str) -> set[str]:
    with service.db.transaction() as session:
        from storage import cases

        case = cases.by_ref(session, case_ref)
        assert case is not None
        kids = set(session.scalars(select(WrappedKey.key_id).where(WrappedKey.case_id == case.id)))
        return {u.name for u in session.scalars(select(User)) if u.key_id in kids}


@pytest.fixture
def teams_service(make_service: Callable[..., IntakeService], database_url: str) -> IntakeService:
    service = make_service(database_url)
    home = service.settings.home
    key, pub = admin_key(home), Home(home).admin_public()
    lifecycle.add_team(service.db, "reprisals", key, pub)
    lifecycle.add_team(service.db, "complaints", key, pub)
    add_user(
        service.db,
        "rita",
        "caseworker",
        RITA,
        service.settings.user_kdf,
        pub,
        None,
        key,
        team_names=["reprisals"],
    )
    add_user(
        service.db,
        "colin",
        "caseworker",
        COLIN,
        service.settings.user_kdf,
        pub,
        None,
        key,
        team_names=["complaints"],
    )
    (home / "config" / "routing.yaml").write_text(ROUTING, encoding="utf-8")
    return make_service(database_url)  # a new intake reads the routing file at start


def test_a_reprisal_goes_to_the_reprisals_team_only(teams_service: IntakeService) -> None:
    case_ref = submit(teams_service, "r1", "reprisal")
    assert readers(teams_service, case_ref) == {"rita"}
    assert (
        show_case(teams_service.db, case_ref, "rita", RITA)["fields"]["report_type"] == "reprisal"
    )
    for user, passphrase in (("colin", COLIN), ("demo", PASSPHRASE)):
        with pytest.raises(AccessDenied):
            show_case(teams_service.db, case_ref, user, passphrase)
    with teams_service.db.transaction() as session:
        assert set(session.scalars(select(CaseTeam.team_name))) == {"reprisals"}
    assert readers(teams_service, submit(teams_service, "c1", "complaint")) == {"colin"}


def test_team_rows_written_into_the_database_gain_nothing(teams_service: IntakeService) -> None:
    """The attack: a database writer adds an account of their own (their key pair) and
    colin to the reprisals team, and a team of their own, without a signed manifest."""
    now = datetime.now(UTC)
    _private, public = crypto.generate_keypair()
    with teams_service.db.transaction() as session:
        mallory = User(
            id=str(uuid.uuid4()),
            name="mallory",
            role="caseworker",
            public_key=public,
            key_id=crypto.key_id(public),
            private_key_blob=b"x",
            created_at=now,
        )
        session.add(mallory)
        session.flush()
        colin = session.scalar(select(User).where(User.name == "colin"))
        assert colin is not None
        session.add(TeamMember(team_name="reprisals", user_id=mallory.id))
        session.add(TeamMember(team_name="reprisals", user_id=colin.id))
        session.add(Team(name="eavesdroppers", created_at=now))
        session.add(TeamMember(team_name="eavesdroppers", user_id=mallory.id))
    case_ref = submit(teams_service, "r2", "reprisal")
    assert readers(teams_service, case_ref) == {"rita"}
    with pytest.raises(AccessDenied):
        show_case(teams_service.db, case_ref, "colin", COLIN)
    # and the listing is the signed one, not the rows
    pub = Home(teams_service.settings.home).admin_public()
    assert {t["name"]: t["members"] for t in lifecycle.list_teams(teams_service.db, pub)} == {
        "complaints": ["colin"],
        "reprisals": ["rita"],
    }


def test_disable_deletes_the_keys_and_stops_new_reports(teams_service: IntakeService) -> None:
    home = teams_service.settings.home
    first = submit(teams_service, "r3", "reprisal")
    assert show_case(teams_service.db, first, "rita", RITA)
    done = lifecycle.disable_user(
        teams_service.db, "rita", admin_key(home), Home(home).admin_public()
    )
    assert done.keys_deleted >= 1 and first in done.recovery_only
    with pytest.raises(AccessDenied, match="disabled"):
        show_case(teams_service.db, first, "rita", RITA)
    with teams_service.db.transaction() as session:
        rita = session.scalar(select(User).where(User.name == "rita"))
        assert rita is not None and rita.disabled_at is not None
        assert session.scalar(select(WrappedKey.id).where(WrappedKey.key_id == rita.key_id)) is None
    later = submit(teams_service, "r4", "reprisal")
    assert "rita" not in readers(teams_service, later)
    assert readers(teams_service, later) == {"colin"}  # the default team, not nobody


def test_a_dashboard_disable_stops_sealing_before_the_manifest_is_signed(
    teams_service: IntakeService,
) -> None:
    pub = Home(teams_service.settings.home).admin_public()
    lifecycle.disable_now(teams_service.db, "rita", "boss", pub)
    assert "rita" not in readers(teams_service, submit(teams_service, "r5", "reprisal"))


def test_passphrase_change(teams_service: IntakeService) -> None:
    case_ref = submit(teams_service, "c2", "complaint")
    lifecycle.change_passphrase(
        teams_service.db, "colin", COLIN, "colin's new one here", teams_service.settings.user_kdf
    )
    with pytest.raises(AccessDenied, match="passphrase"):
        show_case(teams_service.db, case_ref, "colin", COLIN)
    assert show_case(teams_service.db, case_ref, "colin", "colin's new one here")


def test_migration_0012_downgrades_and_upgrades(teams_service: IntakeService) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from storage.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with teams_service.db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011")
        conn.commit()
        assert "access_requests" not in inspect(conn).get_table_names()
        command.upgrade(cfg, "head")
        conn.commit()
        assert {"teams", "team_members", "case_teams", "access_requests"} <= set(
            inspect(conn).get_table_names()
        )
    assert teams_service.db.is_current()
