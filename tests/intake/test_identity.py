"""The protected identity section (issue 14 item 4), end to end on SQLite and PostgreSQL:
a whole conversation through the shipped flows and built-in model stores the names; a
caseworker who can open the case reads the narrative but not the names (and cannot decrypt
them with their key); a custodian's approval opens them to that caseworker; a custodian
cannot approve their own request; a refusal is told to the requester; everything is audited
and the names are nowhere in clear."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from caseworker import identity as cw_identity
from caseworker.cases import CaseTampered, show_case
from caseworker.users import add_user, load_admin_key
from intake.app import setup_logging
from intake.home import Home
from intake.service import IntakeService
from storage import accounts, audit_chain, cases, crypto
from storage.models import AuditEntry, Case, CaseEvent, CaseField, IdentityKey, IdentityRequest
from tests.support import ADMIN_PASSPHRASE, PASSPHRASE, Chat

from .test_conversations import (
    COMPLAINT_EN,
    COMPLAINT_EN_EXPECTED,
    COMPLAINT_EN_IDENTITY,
    REPRISAL_AR,
    REPRISAL_AR_IDENTITY,
)
from .test_no_plaintext import _scan

OTHER = "another long passphrase"


@dataclass
class Account:
    """An account as the CLI unlocks it (caseworker.identity.Actor)."""

    name: str
    role: str
    key_id: bytes
    private_key: Any


def _add(service: IntakeService, name: str, role: str) -> None:
    home = Home(service.settings.home)
    admin = load_admin_key((home.offline / "admin-signing.pem").read_bytes(), ADMIN_PASSPHRASE)
    add_user(
        service.db, name, role, OTHER, service.settings.user_kdf, home.admin_public(), None, admin
    )


def _unlock(service: IntakeService, name: str, passphrase: str = OTHER) -> Account:
    with service.db.transaction() as session:
        user = accounts.get_user(session, name)
        assert user is not None
        return Account(user.name, user.role, bytes(user.key_id), accounts.unlock(user, passphrase))


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "injury.jpg"
    path.parent.mkdir()
    path.write_bytes(b"\xff\xd8\xff\xe0 bytes of a photo " * 300)
    return path


@pytest.fixture
def world(
    make_service: Callable[..., IntakeService], database_url: str, photo: Path
) -> tuple[IntakeService, str, str]:
    """Custodian `keeper` and a second caseworker `sami` exist before two reports arrive."""
    service = make_service(database_url)
    _add(service, "keeper", "custodian")
    _add(service, "sami", "caseworker")
    refs = []
    for user, script in (("en-user", COMPLAINT_EN), ("ar-user", REPRISAL_AR)):
        chat = Chat(service, user=user)
        replies = chat.run([(f, line.format(photo=photo)) for f, line in script])
        refs.append(next(r for r in replies if r.kind == "receipt").extra["case_ref"])
    return service, refs[0], refs[1]


def _audit(service: IntakeService, action: str) -> list[tuple[str, str | None, str]]:
    with service.db.transaction() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return [(r.actor, r.case_ref, r.outcome) for r in rows]


def test_names_are_sealed_apart_and_open_only_after_a_custodians_approval(
    world: tuple[IntakeService, str, str],
) -> None:
    service, ref, _ = world
    # The caseworker reads the narrative, and sees the names only as protected.
    report = show_case(service.db, ref, "demo", PASSPHRASE)
    assert report["fields"]["narrative"] == COMPLAINT_EN_EXPECTED["narrative"]
    assert not set(COMPLAINT_EN_IDENTITY) & set(report["fields"])
    assert report["identity"] == {
        "access": "protected",
        "fields": sorted(COMPLAINT_EN_IDENTITY),
        "protected": sorted(COMPLAINT_EN_IDENTITY),
    }
    assert report["integrity"] == []

    # Cryptographically: nothing the caseworker's key opens yields a name.
    demo = _unlock(service, "demo", PASSPHRASE)
    with service.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None
        rows = list(
            session.scalars(
                select(CaseField).where(
                    CaseField.case_id == case.id, CaseField.field_id.startswith("identity:")
                )
            )
        )
        assert sorted(r.field_id for r in rows) == sorted(
            f"identity:{f}" for f in COMPLAINT_EN_IDENTITY
        )
        wraps = list(session.scalars(select(IdentityKey).where(IdentityKey.case_id == case.id)))
        assert demo.key_id not in {bytes(w.key_id) for w in wraps}
        data_key = cases.report_key(session, case, demo.private_key, demo.key_id)
        for w in wraps:  # no identity-key copy unwraps with the reader's key, in any context
            with pytest.raises(crypto.CryptoError):
                crypto.unwrap_identity_key(w.wrapped, case.id, demo.private_key)
            with pytest.raises(crypto.CryptoError):
                crypto.unwrap_key(w.wrapped, case.id, demo.private_key)
        for row in rows:  # and the report's data key does not open an identity field
            with pytest.raises(crypto.CryptoError):
                crypto.open_field(data_key, case.id, row.field_id, 0, row.sealed)
        # the copies are the custodian's and the recovery key's, from the signed manifest
        signed = {
            r.key_id: r.label
            for r in accounts.identity_recipients(
                session, Home(service.settings.home).admin_public()
            )
        }
        assert {signed[bytes(w.key_id)] for w in wraps} == {
            "custodian:keeper",
            accounts.RECOVERY_LABEL,
        }

    # The custodian reads no narrative.
    keeper = _unlock(service, "keeper")
    from caseworker.cases import AccessDenied

    with pytest.raises(AccessDenied):
        show_case(service.db, ref, "keeper", OTHER)

    # The caseworker asks; the custodian sees the request (purpose, requester, no content).
    asked = cw_identity.request(service.db, demo, ref, "contact_reporter")
    assert asked["status"] == "pending"
    waiting = cw_identity.pending(service.db, keeper)
    assert [(w["case_ref"], w["requester"], w["purpose"]) for w in waiting] == [
        (ref, "demo", "contact_reporter")
    ]
    with pytest.raises(cw_identity.IdentityRefused) as again:
        cw_identity.request(service.db, demo, ref, "contact_reporter")
    assert again.value.code == "identity_pending"

    admin_public = Home(service.settings.home).admin_public()
    done = cw_identity.approve(service.db, keeper, asked["id"], admin_public)
    assert done["status"] == "approved"

    report = show_case(service.db, ref, "demo", PASSPHRASE)
    for fid, value in COMPLAINT_EN_IDENTITY.items():
        assert report["fields"][fid] == value
    assert report["identity"]["access"] == "granted"
    assert report["identity"]["protected"] == []
    kinds = [e["kind"] for e in report["history"]]
    assert "identity_requested" in kinds and "identity_granted" in kinds
    granted = next(e for e in report["history"] if e["kind"] == "identity_granted")
    assert granted["actor"] == "keeper" and granted["user"] == "demo"

    # Another reader still sees them as protected: the approval was for one person.
    assert show_case(service.db, ref, "sami", OTHER)["identity"]["access"] == "protected"

    assert _audit(service, "identity.request")[0] == ("demo", ref, "granted")
    assert _audit(service, "identity.approve") == [("keeper", ref, "granted")]
    with service.db.transaction() as session:
        assert audit_chain.verify(session).ok


def test_a_custodian_cannot_approve_their_own_request(
    world: tuple[IntakeService, str, str],
) -> None:
    """A custodian holds no reader key, so cannot ask; a request written into the database
    in the custodian's own name is refused at approval, and nothing is wrapped."""
    service, ref, _ = world
    keeper = _unlock(service, "keeper")
    with pytest.raises(cw_identity.IdentityRefused) as asked:
        cw_identity.request(service.db, keeper, ref, "contact_reporter")
    assert asked.value.code == "no_access"
    with service.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None
        session.add(
            IdentityRequest(
                id="forged-own-request",
                case_id=case.id,
                requester="keeper",
                purpose="other",
                status="pending",
                created_at=datetime.now(UTC),
            )
        )
        before = len(list(session.scalars(select(IdentityKey))))
    admin_public = Home(service.settings.home).admin_public()
    with pytest.raises(cw_identity.IdentityRefused) as own:
        cw_identity.approve(service.db, keeper, "forged-own-request", admin_public)
    assert own.value.code == "own_request"
    with pytest.raises(cw_identity.IdentityRefused):
        cw_identity.refuse(service.db, keeper, "forged-own-request", "other")
    with service.db.transaction() as session:
        assert len(list(session.scalars(select(IdentityKey)))) == before
        row = session.get(IdentityRequest, "forged-own-request")
        assert row is not None and row.status == "pending"
    assert ("keeper", ref, "refused") in _audit(service, "identity.approve")
    assert ("keeper", ref, "refused") in _audit(service, "identity.request")
    # A caseworker is not a custodian either.
    demo = _unlock(service, "demo", PASSPHRASE)
    with pytest.raises(cw_identity.IdentityRefused) as not_custodian:
        cw_identity.approve(service.db, demo, "forged-own-request", admin_public)
    assert not_custodian.value.code == "not_custodian"


def test_refusal_is_told_to_the_requester_and_state_purposes_need_consent(
    world: tuple[IntakeService, str, str],
) -> None:
    service, ref, ar_ref = world
    sami = _unlock(service, "sami")
    keeper = _unlock(service, "keeper")
    # The reporter said no to sharing their identity with the State: not even asked.
    with pytest.raises(cw_identity.IdentityRefused) as state:
        cw_identity.request(service.db, sami, ref, "raise_with_state")
    assert state.value.code == "identity_no_consent"
    assert cw_identity.pending(service.db, keeper) == []

    asked = cw_identity.request(service.db, sami, ar_ref, "visit_or_appeal")
    cw_identity.refuse(service.db, keeper, asked["id"], "risk_to_person")
    mine = cw_identity.my_requests(service.db, sami)
    assert [(m["case_ref"], m["status"], m["decided_by"], m["reason"]) for m in mine] == [
        (ar_ref, "refused", "keeper", "risk_to_person")
    ]
    report = show_case(service.db, ar_ref, "sami", OTHER)
    assert report["identity"]["protected"] == sorted(REPRISAL_AR_IDENTITY)
    assert not set(REPRISAL_AR_IDENTITY) & set(report["fields"])
    refused = next(e for e in report["history"] if e["kind"] == "identity_refused")
    assert refused["user"] == "sami" and refused["reason"] == "risk_to_person"
    assert _audit(service, "identity.refuse") == [("keeper", ar_ref, "granted")]
    assert ("sami", ref, "refused") in _audit(service, "identity.request")
    # decided once: a second decision is refused
    with pytest.raises(cw_identity.IdentityRefused) as twice:
        cw_identity.approve(
            service.db, keeper, asked["id"], Home(service.settings.home).admin_public()
        )
    assert twice.value.code == "identity_decided"


def test_tampering_with_the_identity_section_is_reported_as_tampering(
    world: tuple[IntakeService, str, str],
) -> None:
    service, ref, ar_ref = world
    demo = _unlock(service, "demo", PASSPHRASE)
    keeper = _unlock(service, "keeper")
    admin_public = Home(service.settings.home).admin_public()
    asked = cw_identity.request(service.db, demo, ref, "link_cases")
    cw_identity.approve(service.db, keeper, asked["id"], admin_public)
    with service.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None
        row = session.scalar(
            select(CaseField).where(
                CaseField.case_id == case.id, CaseField.field_id == "identity:reporter_name"
            )
        )
        assert row is not None
        row.sealed = row.sealed[:-1] + bytes([row.sealed[-1] ^ 1])
    with pytest.raises(CaseTampered):
        show_case(service.db, ref, "demo", PASSPHRASE)
    # A reader without the identity key: a deleted name is still found missing.
    with service.db.transaction() as session:
        other = cases.by_ref(session, ar_ref)
        assert other is not None
        session.query(CaseField).filter(
            CaseField.case_id == other.id, CaseField.field_id == "identity:victim_name"
        ).delete()
    report = show_case(service.db, ar_ref, "demo", PASSPHRASE)
    assert "missing:identity:victim_name" in report["integrity"]


def test_revoking_a_readers_access_takes_the_approved_identity_copy_too(
    world: tuple[IntakeService, str, str],
) -> None:
    from storage import casework

    service, ref, _ = world
    sami, keeper = _unlock(service, "sami"), _unlock(service, "keeper")
    asked = cw_identity.request(service.db, sami, ref, "contact_reporter")
    cw_identity.approve(service.db, keeper, asked["id"], Home(service.settings.home).admin_public())
    with service.db.transaction() as session:
        case = cases.by_ref(session, ref)
        user = accounts.get_user(session, "sami")
        assert case is not None and user is not None
        casework.revoke(session, case, user, "demo", datetime.now(UTC))
        assert (
            session.scalar(
                select(IdentityKey).where(
                    IdentityKey.case_id == case.id, IdentityKey.key_id == user.key_id
                )
            )
            is None
        )
        # the custodian's copy stays
        assert (
            session.scalar(
                select(IdentityKey).where(
                    IdentityKey.case_id == case.id, IdentityKey.key_id == keeper.key_id
                )
            )
            is not None
        )


def test_a_case_stored_before_the_identity_section_still_opens(
    make_service: Callable[..., IntakeService], database_url: str
) -> None:
    service = make_service(database_url)
    now = datetime.now(UTC)
    with service.db.transaction() as session:
        recipients = accounts.current_recipients(
            session, Home(service.settings.home).admin_public()
        )
        case = cases.store_report(
            session,
            cases.ReportToStore(
                case_id="00000000-0000-4000-8000-000000000012",
                data_key=crypto.new_data_key(),
                fields={
                    "consent_store": "yes",
                    "narrative": "An older report.",
                    "contact_safety": "old style, in the report",
                },
                files=[],
                consent={"consent_store": {"value": "yes", "at": now.isoformat()}},
                report_type="complaint",
                priority=3,
                reasons=("default",),
                channel="console",
                lang="en",
                flow_version="opening.1+details.1",
            ),
            recipients,
            crypto.new_receipt(crypto.TEST_KDF),
            now,
        )
        ref = case.case_ref
        assert session.scalar(select(Case.id).where(Case.case_ref == ref))
    report = show_case(service.db, ref, "demo", PASSPHRASE)
    assert report["fields"]["contact_safety"] == "old style, in the report"
    assert report["identity"] == {"access": "none", "fields": [], "protected": []}
    assert report["integrity"] == []


def test_names_are_nowhere_in_clear_after_request_and_approval(
    make_service: Callable[..., IntakeService], photo: Path
) -> None:
    """Crypto property 1 for the identity section: SQLite file, WAL and logs."""
    service = make_service()
    setup_logging(service.settings, verbose=True)
    try:
        _add(service, "keeper", "custodian")
        chat = Chat(service, user="named")
        replies = chat.run([(f, line.format(photo=photo)) for f, line in REPRISAL_AR])
        ref = next(r for r in replies if r.kind == "receipt").extra["case_ref"]
        demo, keeper = _unlock(service, "demo", PASSPHRASE), _unlock(service, "keeper")
        asked = cw_identity.request(service.db, demo, ref, "contact_reporter")
        cw_identity.approve(
            service.db, keeper, asked["id"], Home(service.settings.home).admin_public()
        )
        shown = show_case(service.db, ref, "demo", PASSPHRASE)
        assert shown["fields"]["victim_name"] == REPRISAL_AR_IDENTITY["victim_name"]
    finally:
        for handler in logging.getLogger("sanad").handlers[:]:
            handler.close()
            logging.getLogger("sanad").removeHandler(handler)
    names = [*REPRISAL_AR_IDENTITY.values(), *COMPLAINT_EN_IDENTITY.values()]
    home = service.settings.home
    assert (home / "logs" / "sanad.log").stat().st_size > 0
    assert _scan(home, names) == []
    with service.db.transaction() as session:  # the history names the people who acted only
        events = list(session.scalars(select(CaseEvent)))
        assert not any(n in str(e.detail) for e in events for n in names)
