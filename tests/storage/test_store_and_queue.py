"""Storage and queue on SQLite and PostgreSQL: migrations, sealed reports, queue order,
access, one transaction per submission."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from caseworker.cases import AccessDenied, list_queue, show_case
from intake.service import IntakeService
from storage import accounts, cases, crypto
from storage.models import AuditEntry, Case, CaseField, WrappedKey
from tests.support import PASSPHRASE, Chat, Clock


def quick_report(
    service: IntakeService,
    user: str,
    *,
    danger: str = "no",
    ongoing: str = "no",
    report_type: str = "complaint",
    narrative: str = "/skip",
) -> str:
    chat = Chat(service, user=user, lang="en")
    chat.run(
        [
            ("consent_store", "yes"),
            ("consent_followup", "no"),
            ("consent_share_identity", "no"),
            ("consent_refer", "no"),
            ("consent_stats", "yes"),
            ("consent_publish", "no"),
            ("report_type", report_type),
            ("reporter_role", "witness"),
            ("current_danger", danger),
        ]
    )
    if chat.question.field == "urgent_path":
        chat.say("urgent_full")
    chat.answer("ongoing", ongoing)
    while chat.question.field != "confirm_submit":
        line = narrative if chat.question.field == "narrative" else "/skip"
        chat.say(line)
    chat.say("yes")
    return str(next(r for r in chat.replies if r.kind == "receipt").extra["case_ref"])


@pytest.fixture
def svc(make_service: Callable[..., IntakeService], database_url: str) -> IntakeService:
    return make_service(database_url)


def test_queue_is_most_urgent_first_then_oldest(svc: IntakeService, clock: Clock) -> None:
    calm_old = quick_report(svc, "a")
    clock.advance(60)
    danger = quick_report(svc, "b", danger="yes")
    clock.advance(60)
    ongoing = quick_report(svc, "c", ongoing="yes")
    clock.advance(60)
    calm_new = quick_report(svc, "d")
    clock.advance(60)
    danger_new = quick_report(svc, "e", danger="yes")
    items = list_queue(svc.db)
    assert [i.case_ref for i in items] == [danger, danger_new, ongoing, calm_old, calm_new]
    assert [i.priority for i in items] == [1, 1, 2, 4, 4]
    assert items[0].reasons == ("immediate_danger",)
    assert all(i.status == "allegation_pending_assessment" for i in items)


def test_report_is_sealed_to_caseworker_and_recovery_key_only(svc: IntakeService) -> None:
    ref = quick_report(svc, "a", narrative="They came at night and took my brother away.")
    with svc.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None
        wrapped = list(session.scalars(select(WrappedKey).where(WrappedKey.case_id == case.id)))
        readers = accounts.current_recipients(session, svc._admin_public)
        assert {w.key_id for w in wrapped} == {r.key_id for r in readers}
        assert len(readers) == 2  # the demo caseworker and the organisation recovery key
        sealed = session.scalar(
            select(CaseField.sealed).where(
                CaseField.case_id == case.id, CaseField.field_id == "narrative"
            )
        )
        assert sealed is not None and b"brother" not in sealed
        # A key that is not a recipient opens nothing.
        outsider, outsider_pub = crypto.generate_keypair()
        with pytest.raises(crypto.CryptoError):
            cases.open_case(session, case, outsider, crypto.key_id(outsider_pub))
    shown = show_case(svc.db, ref, "demo", PASSPHRASE)
    assert shown["fields"]["narrative"] == "They came at night and took my brother away."


def test_every_read_and_refusal_is_audited(svc: IntakeService) -> None:
    ref = quick_report(svc, "a")
    show_case(svc.db, ref, "demo", PASSPHRASE)
    with pytest.raises(AccessDenied):
        show_case(svc.db, ref, "demo", "wrong passphrase")
    with svc.db.transaction() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [(r.actor, r.case_ref, r.outcome) for r in rows] == [
        ("demo", ref, "granted"),
        ("demo", ref, "refused"),
    ]
    assert rows[1].detail == {"reason": "wrong passphrase"}


def test_altered_manifest_stops_the_intake_from_sealing(svc: IntakeService) -> None:
    from storage.models import RecipientManifest

    quick_report(svc, "a")
    with svc.db.transaction() as session:
        row = session.scalar(select(RecipientManifest))
        assert row is not None
        eavesdropper = crypto.generate_keypair()[1]
        row.blob = row.blob.replace(row.blob[40:41], bytes([row.blob[40] ^ 1]))
        del eavesdropper
    with pytest.raises(crypto.ManifestError):
        quick_report(svc, "b")
    with svc.db.transaction() as session:  # the failed submission stored nothing
        assert session.scalar(select(func.count()).select_from(Case)) == 1


def test_a_failed_submission_leaves_no_half_written_case(
    svc: IntakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = crypto.wrap_key
    calls = {"n": 0}

    def failing_second_wrap(*args: object, **kwargs: object) -> bytes:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk went away")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(crypto, "wrap_key", failing_second_wrap)
    with pytest.raises(OSError):
        quick_report(svc, "a")
    with svc.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
        assert session.scalar(select(func.count()).select_from(CaseField)) == 0
    monkeypatch.setattr(crypto, "wrap_key", real)
    # The draft survived: the reporter can confirm again and the report lands once.
    chat = Chat(svc, user="a")
    chat.answer("resume", "yes")
    chat.answer("confirm_submit", "yes")
    assert len(list_queue(svc.db)) == 1


def test_migrations_are_idempotent(svc: IntakeService) -> None:
    svc.db.migrate()
    svc.db.migrate()
    assert svc.db.is_current()


def test_a_rolled_back_step_keeps_its_own_error_and_its_draft_keys(svc: IntakeService) -> None:
    """A step that schedules draft keys to be erased on commit and then fails must surface
    its own error (two hosts opening one reporter's draft at once is an IntegrityError the
    service retries): the rollback listener once raised a TypeError of its own instead, so
    the retry never ran and the job failed. The keys are kept: the rows still need them."""
    from storage import drafts

    forgotten: list[list[str]] = []
    keyring = svc.keyring
    real_forget = keyring.forget
    keyring.forget = lambda names: forgotten.append(list(names))  # type: ignore[method-assign]
    try:
        with pytest.raises(ValueError, match="the step failed"):
            with svc.db.transaction() as session:
                drafts.forget_after_commit(session, keyring, ["draft-key-1"])
                raise ValueError("the step failed")
        with svc.db.transaction() as session:  # the next transaction commits: nothing erased
            session.execute(select(func.count()).select_from(Case))
    finally:
        keyring.forget = real_forget  # type: ignore[method-assign]
    assert forgotten == [] or forgotten == [[]]
