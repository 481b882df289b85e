"""Caseworker storage on SQLite and PostgreSQL: the audit chain, claims (16 racing claimers
on PostgreSQL), sealed TOTP secrets and notes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text, update

from storage import audit_chain, casework
from storage.caseworker_models import CaseNote, UserTotp
from storage.models import AuditEntry, Case, User
from tests.cli.conftest import sanad
from tests.web.conftest import DEMO_TOTP, Site, make_site


def _log_some(site: Site, n: int = 6) -> list[int]:
    from storage import accounts

    with site.db.transaction() as session:
        for i in range(n):
            accounts.audit(
                session,
                "demo",
                "case.read",
                f"AAA-{i:03d}",
                "granted",
                datetime.now(UTC),
                reason="test",
            )
        return list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))


def _verify(site: Site) -> audit_chain.Verification:
    with site.db.transaction() as session:
        return audit_chain.verify(session)


def test_audit_chain_detects_edit_delete_and_reorder(any_site: Site) -> None:
    ids = _log_some(any_site)
    assert _verify(any_site).ok
    db = any_site.db
    with db.transaction() as session:  # an edit
        session.execute(
            update(AuditEntry).where(AuditEntry.id == ids[2]).values(actor="someone-else")
        )
    result = _verify(any_site)
    assert not result.ok and result.broken_id == ids[2] and "edited" in (result.problem or "")
    with db.transaction() as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == ids[2]).values(actor="demo"))
    assert _verify(any_site).ok
    with db.transaction() as session:  # a reorder: swap the contents of two entries
        a, b = (session.get(AuditEntry, i) for i in (ids[3], ids[4]))
        assert a is not None and b is not None
        a.case_ref, b.case_ref = b.case_ref, a.case_ref
        a.entry_hash, b.entry_hash = b.entry_hash, a.entry_hash
        a.prev_hash, b.prev_hash = b.prev_hash, a.prev_hash
    result = _verify(any_site)
    assert not result.ok and result.broken_id == ids[3]


def test_audit_chain_detects_a_deleted_entry(any_site: Site) -> None:
    ids = _log_some(any_site)
    with any_site.db.transaction() as session:
        session.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[1]})
    result = _verify(any_site)
    assert not result.ok and result.broken_id == ids[2]
    assert "deleted" in (result.problem or "")


@pytest.mark.slow
def test_sanad_audit_verify_command(cli_env: dict[str, str]) -> None:
    sanad(cli_env, "init", "--demo")
    ok = sanad(cli_env, "audit", "verify")
    assert "intact" in ok.stdout
    from storage.db import Database

    db = Database(f"sqlite:///{cli_env['SANAD_HOME']}/sanad.db")
    from storage import accounts

    with db.transaction() as session:
        for i in range(3):
            accounts.audit(
                session, "demo", "case.read", f"AAA-{i:03d}", "granted", datetime.now(UTC)
            )
        second = sorted(session.scalars(select(AuditEntry.id)))[1]
        session.execute(update(AuditEntry).where(AuditEntry.id == second).values(outcome="refused"))
    db.dispose()
    broken = sanad(cli_env, "audit", "verify", check=False)
    assert broken.returncode == 1
    assert f"broken at entry {second}" in broken.stderr


def test_totp_secret_is_not_stored_in_clear(any_site: Site) -> None:
    with any_site.db.transaction() as session:
        row = session.scalars(select(UserTotp)).one()
        assert DEMO_TOTP.encode() not in bytes(row.sealed) + bytes(row.wrapped)


def test_notes_are_sealed_and_status_workflow_is_enforced(any_site: Site) -> None:
    ref = any_site.make_case()
    now = datetime.now(UTC)
    with any_site.db.transaction() as session:
        case = session.scalars(select(Case).where(Case.case_ref == ref)).one()
        casework.add_note(
            session, case, "sensitive note", "demo", any_site.home.admin_public(), now
        )
        with pytest.raises(casework.CaseworkError):
            casework.change_status(session, case, "closed", "resolved", "demo", now)
        casework.change_status(session, case, "under_assessment", "assessment_started", "demo", now)
        assert case.status == "under_assessment"
    with any_site.db.transaction() as session:
        sealed = session.scalars(select(CaseNote.sealed)).one()
        assert b"sensitive" not in bytes(sealed)


def test_sixteen_racing_claimers_claim_each_case_once(settings, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    site = make_site(settings, postgres_url)
    try:
        refs = [site.make_case() for _ in range(40)]
        with site.db.transaction() as session:
            demo = session.scalars(select(User).where(User.name == "demo")).one()
            case_ids = list(session.scalars(select(Case.id)))
        assert len(case_ids) == len(refs)
        wins: list[str] = []
        lock = threading.Lock()
        start = threading.Barrier(16)

        def claimer(offset: int) -> None:
            start.wait()
            order = case_ids[offset:] + case_ids[:offset]
            for case_id in order:
                with site.db.transaction() as session:
                    if casework.claim(session, case_id, demo, datetime.now(UTC)):
                        with lock:
                            wins.append(case_id)

        threads = [threading.Thread(target=claimer, args=(i * 2,)) for i in range(16)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=120)
        assert sorted(wins) == sorted(case_ids)  # each exactly once
        with site.db.transaction() as session:
            assert session.scalar(select(Case.id).where(Case.assigned_to.is_(None))) is None
    finally:
        site.db.dispose()


def test_claim_next_takes_the_most_urgent_readable_case(any_site: Site) -> None:
    calm = any_site.make_case(priority=3)
    urgent = any_site.make_case(priority=1)
    with any_site.db.transaction() as session:
        demo = session.scalars(select(User).where(User.name == "demo")).one()
        first = casework.claim_next(session, demo, datetime.now(UTC))
        second = casework.claim_next(session, demo, datetime.now(UTC))
        third = casework.claim_next(session, demo, datetime.now(UTC))
        refs = [session.get(Case, i).case_ref for i in (first, second)]  # type: ignore[union-attr]
    assert refs == [urgent, calm] and third is None


def test_statistics_on_both_databases(any_site: Site) -> None:
    from caseworker.dashboard import Principal
    from storage import crypto as c
    from tests.support import PASSPHRASE
    from tests.web.conftest import CONSENT_NONE

    refs = [any_site.make_case(fields={"place_type": "prison"}) for _ in range(5)]
    any_site.make_case(report_type="reprisal")
    any_site.make_case(consent=CONSENT_NONE)
    with any_site.db.transaction() as session:
        demo = session.scalars(select(User).where(User.name == "demo")).one()
        key = c.unlock_private_key(demo.private_key_blob, PASSPHRASE, demo.id)
        me = Principal(demo.id, "demo", "caseworker", bytes(demo.key_id), key)
    for ref in refs:
        assert any_site.dashboard.claim(me, ref)
    rows = {(r["dimension"], r["value"]): r["count"] for r in any_site.dashboard.statistics(me)}
    month = datetime.now(UTC).strftime("%Y-%m")
    assert rows[("total", "")] == "6"
    # complaint 5 next to total 6 would give the reprisal away: both are suppressed
    assert rows[("report_type", "complaint")] == "<10"
    assert rows[("report_type", "reprisal")] == "<5"
    assert rows[("month", month)] == "6"
    assert rows[("place_type", "prison")] == "<10" and rows[("place_type", "none")] == "<5"
    auditor = Principal("-", "aud", "auditor", b"\0" * 16, None)
    assert any_site.dashboard.statistics(auditor) == any_site.dashboard.statistics(me)


def test_sixteen_claimers_taking_the_next_case_never_share_one(settings, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    site = make_site(settings, postgres_url)
    try:
        for i in range(48):
            site.make_case(priority=1 + i % 4)
        with site.db.transaction() as session:
            demo = session.scalars(select(User).where(User.name == "demo")).one()
        wins: list[str] = []
        lock = threading.Lock()
        start = threading.Barrier(16)

        def claimer() -> None:
            start.wait()
            while True:
                with site.db.transaction() as session:
                    won = casework.claim_next(session, demo, datetime.now(UTC))
                if won is None:
                    return
                with lock:
                    wins.append(won)

        threads = [threading.Thread(target=claimer) for _ in range(16)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=120)
        assert len(wins) == 48 and len(set(wins)) == 48
    finally:
        site.db.dispose()
