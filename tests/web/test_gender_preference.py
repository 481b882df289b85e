"""The caseworker the reporter asked for (issue 18 item 5): a report that asks for a woman
caseworker is claimable first by one. "Claim next" offers it only to women for its first day,
a man's claim is refused with the reason (a supervisor can still assign it), then anyone may
take it so it never waits for nobody; the queue and the case show the preference."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from intake.service import IntakeService
from storage import accounts, cases
from storage.models import Case, User
from tests.support import Chat, Clock
from tests.web.conftest import OTHER_PASSPHRASE, Site, login, post


def _report(service: IntakeService, pref: str) -> str:
    chat = Chat(service, user=f"reporter-{pref}", lang="en")
    chat.run(
        [
            ("consent_store", "yes"),
            ("consent_followup", "no"),
            ("consent_share_identity", "no"),
            ("consent_refer", "no"),
            ("consent_stats", "no"),
            ("consent_publish", "no"),
            ("report_type", "complaint"),
            ("reporter_role", "victim"),
            ("reporter_is_child", "no"),
            ("current_danger", "no"),
        ]
    )
    while chat.question.field != "confirm_submit":
        chat.say(pref if chat.question.field == "caseworker_gender_pref" else "/skip")
    chat.say("yes")
    return str(next(r for r in chat.replies if r.kind == "receipt").extra["case_ref"])


def _gender(site: Site, name: str, gender: str) -> None:
    with site.db.transaction() as session:
        session.execute(update(User).where(User.name == name).values(gender=gender))


def test_a_report_asking_for_a_woman_is_claimable_first_by_one(
    site: Site, make_service: Callable[..., IntakeService], clock: Clock
) -> None:
    clock.now = time.time()  # the reports come in now, as the dashboard's clock reads
    for name, gender in (("omar", "man"), ("amina", "woman")):  # recipients of new reports
        site.add_user(name, "caseworker")
        _gender(site, name, gender)
    service = make_service()
    ref = _report(service, "woman")
    with site.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None and case.caseworker_pref == "woman"
    omar, amina = site.client(), site.client()
    assert login(omar, "omar", OTHER_PASSPHRASE, site.secrets["omar"]).status_code == 303
    assert login(amina, "amina", OTHER_PASSPHRASE, site.secrets["amina"]).status_code == 303

    queue = omar.get("/queue").text
    assert 'data-pref="woman"' in queue and "asks for a woman caseworker" in queue
    # A man: "claim next" does not offer it, and claiming it by hand is refused, with why.
    post(omar, "/queue/claim-next")
    assert "There is no unassigned case you can read." in omar.get("/queue").text
    post(omar, f"/cases/{ref}/claim")
    assert "asked for a caseworker of another gender" in omar.get("/queue").text
    # A woman: it is hers.
    taken = post(amina, "/queue/claim-next")
    assert taken.headers["location"] == f"/cases/{ref}"
    page = amina.get(f"/cases/{ref}").text
    assert 'id="case-pref" data-pref="woman"' in page
    assert "يطلب موظفة حالات امرأة" in amina.get(f"/cases/{ref}?lang=ar").text

    with site.db.transaction() as session:
        entries = [e for e in accounts.audit_log(session) if e.action == "case.claim"]
    assert any(e.outcome == "refused" for e in entries)


def test_after_a_day_anyone_may_take_it_and_a_supervisor_assigns_at_once(
    site: Site, make_service: Callable[..., IntakeService], clock: Clock
) -> None:
    clock.now = time.time()
    site.add_user("omar", "caseworker")
    _gender(site, "omar", "man")
    service = make_service()
    old, fresh = _report(service, "woman"), _report(service, "any")
    omar = site.client()
    assert login(omar, "omar", OTHER_PASSPHRASE, site.secrets["omar"]).status_code == 303
    # "any" asks for nobody in particular: offered to everyone at once.
    assert post(omar, "/queue/claim-next").headers["location"] == f"/cases/{fresh}"
    with site.db.transaction() as session:
        session.execute(
            update(Case)
            .where(Case.case_ref == old)
            .values(received_at=datetime.now(UTC) - timedelta(hours=25))
        )
    assert post(omar, "/queue/claim-next").headers["location"] == f"/cases/{old}"


def test_supervisors_are_not_held(
    site: Site, make_service: Callable[..., IntakeService], clock: Clock
) -> None:
    clock.now = time.time()
    site.add_user("sara", "supervisor")  # of no recorded gender
    ref = _report(make_service(), "woman")
    sara = site.client()
    assert login(sara, "sara", OTHER_PASSPHRASE, site.secrets["sara"]).status_code == 303
    post(sara, f"/cases/{ref}/claim")
    with site.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None and case.assigned_to is not None
