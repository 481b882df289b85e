"""Issue 16 item 2: labels, links shown on both cases, the possible-duplicates hint from the
blind indexes, merging as a recorded action, bulk assign/label/close, and unassigning."""

from __future__ import annotations

import re

from sqlalchemy import select

from storage import search
from storage.audit_chain import AuditEntry
from storage.models import Case
from tests.web.conftest import OTHER_PASSPHRASE, Site, login, post


def _id(site: Site, ref: str) -> str:
    with site.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == ref))
        assert case is not None
        return case.id


def _index(site: Site, ref: str, fields: dict[str, str]) -> None:
    """What the intake does at submission (intake.service._submit)."""
    with site.db.transaction() as session:
        search.index_case(session, site.home.pepper(), _id(site, ref), fields)


def _refs(html: str) -> list[str]:
    return re.findall(r'<tr class="p\d" data-case="([A-Z0-9-]+)"[^>]*>', html)


def _status(site: Site, ref: str) -> str:
    with site.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == ref))
        assert case is not None
        return case.status


def test_a_link_shows_on_both_cases_and_in_both_histories(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    one, two = site.make_case(), site.make_case()
    post(
        demo,
        f"/cases/{one}/link",
        {"other": two.lower(), "kind": "same_facility"},
        page=f"/cases/{one}",
    )
    for here, there in ((one, two), (two, one)):
        page = demo.get(f"/cases/{here}?lang=en").text
        assert f'data-link="{there}" data-link-kind="same_facility"' in page
        assert "Same facility" in page and "Linked to another case" in page
    arabic = demo.get(f"/cases/{two}?lang=ar").text
    assert "المنشأة نفسها" in arabic
    demo.get("/queue?lang=en")  # the session's language is English again
    post(demo, f"/cases/{two}/unlink", {"other": one}, page=f"/cases/{two}")
    assert f'data-link="{two}"' not in demo.get(f"/cases/{one}").text
    # a case cannot be linked to itself, and choosing no kind is refused in words
    post(demo, f"/cases/{one}/link", {"other": one, "kind": "duplicate"}, page=f"/cases/{one}")
    assert "a case cannot be linked to itself" in demo.get(f"/cases/{one}?lang=en").text
    post(demo, f"/cases/{one}/link", {"other": two, "kind": ""}, page=f"/cases/{one}")
    assert "choose how the cases are linked" in demo.get(f"/cases/{one}?lang=en").text


def test_possible_duplicates_come_from_the_blind_indexes(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    first, same, other = site.make_case(), site.make_case(), site.make_case()
    _index(site, first, {"incident_location": "سجن صيدنايا العسكري", "country": "سوريا"})
    _index(site, same, {"incident_location": "سِجْن صَيْدنايا", "country": "سوريا"})
    _index(site, other, {"incident_location": "Tadmur prison", "country": "Syria"})
    page = demo.get(f"/cases/{first}?lang=en").text
    hinted = re.findall(r'data-duplicate="([A-Z0-9-]+)"', page)
    assert hinted == [same]
    # once linked, the hint does not offer it again
    post(demo, f"/cases/{first}/link", {"other": same, "kind": "duplicate"}, page=f"/cases/{first}")
    assert "data-duplicate=" not in demo.get(f"/cases/{first}").text


def test_merge_is_a_recorded_action_on_both_cases(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    keep, dup = site.make_case(), site.make_case()
    post(demo, f"/cases/{dup}/merge", {"into": keep}, page=f"/cases/{dup}")
    assert _status(site, dup) == "closed" and _status(site, keep) != "closed"
    page = demo.get(f"/cases/{dup}?lang=en").text
    assert f'data-link="{keep}" data-link-kind="duplicate"' in page and "(merged)" in page
    assert "Merged as a duplicate" in page and "Duplicate" in page
    assert f'data-link="{dup}" data-link-kind="duplicate"' in demo.get(f"/cases/{keep}").text
    with site.db.transaction() as session:
        merges = [e for e in session.scalars(select(AuditEntry)) if e.action == "case.merge"]
    assert [(e.case_ref, e.outcome) for e in merges] == [(dup, "granted")]


def test_labels_filter_the_queue(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    tagged, plain = site.make_case(), site.make_case()
    post(demo, f"/cases/{tagged}/label", {"label": "needs-lawyer"}, page=f"/cases/{tagged}")
    assert _refs(demo.get("/queue?label=needs-lawyer").text) == [tagged]
    assert 'data-labels="needs-lawyer"' in demo.get(f"/cases/{tagged}").text
    post(demo, f"/cases/{tagged}/label", {"label": "<b>x</b>"}, page=f"/cases/{tagged}")
    assert "a label is 1 to 40" in demo.get(f"/cases/{tagged}?lang=en").text
    post(demo, f"/cases/{tagged}/unlabel", {"label": "needs-lawyer"}, page=f"/cases/{tagged}")
    assert _refs(demo.get("/queue?label=needs-lawyer").text) == []
    assert plain in _refs(demo.get("/queue").text)


def test_words_a_caseworker_adds_are_searchable(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = site.make_case()
    post(demo, f"/cases/{ref}/terms", {"kind": "place", "text": "فرع فلسطين"}, page=f"/cases/{ref}")
    assert "2 words added to the search." in demo.get(f"/cases/{ref}?lang=en").text
    assert _refs(demo.get("/queue", params={"q": "فرع فلسطين"}).text) == [ref]
    assert "Names added to the search" in demo.get(f"/cases/{ref}?lang=en").text


def _bulk(client, refs: list[str], **data: str):  # type: ignore[no-untyped-def]
    from tests.web.conftest import csrf_of

    token = csrf_of(client.get("/queue").text)
    body = [("csrf", token), *[("refs", r) for r in refs], *data.items()]
    return client.post(
        "/queue/bulk",
        content="&".join(f"{k}={v}" for k, v in body).encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )


def test_bulk_assign_label_close_and_unassign(site: Site) -> None:
    site.add_user("sara", "supervisor")
    refs = [site.make_case(priority=2) for _ in range(3)]
    boss = site.client()
    assert login(boss, "sara", OTHER_PASSPHRASE, site.secrets["sara"]).status_code == 303
    assert _bulk(boss, refs[:2], op="assign", to="demo").status_code == 303
    page = boss.get("/queue?assignee=demo&lang=en").text
    assert sorted(_refs(page)) == sorted(refs[:2]) and "2 cases changed, 0 skipped." in page
    _bulk(boss, refs, op="label", label="batch-7")
    assert sorted(_refs(boss.get("/queue?label=batch-7").text)) == sorted(refs)
    _bulk(boss, [refs[2]], op="close", reason="")
    assert "choose a reason" in boss.get("/queue?lang=en").text
    _bulk(boss, [refs[2]], op="close", reason="duplicate")
    # allegation -> closed is not a transition the workflow allows: skipped and counted
    assert "0 cases changed, 1 skipped." in boss.get("/queue?lang=en").text
    assert _status(site, refs[2]) == "allegation_pending_assessment"
    # a caseworker may not assign to someone else, but may take cases and give them back
    worker = site.client()
    from tests.support import PASSPHRASE
    from tests.web.conftest import DEMO_TOTP

    assert login(worker, "demo", PASSPHRASE, DEMO_TOTP).status_code == 303
    assert _bulk(worker, [refs[2]], op="assign", to="sara").status_code == 403
    _bulk(worker, [refs[2]], op="assign", to="demo")
    assert refs[2] in _refs(worker.get("/queue?view=mine").text)
    post(worker, f"/cases/{refs[2]}/unassign", page=f"/cases/{refs[2]}")
    assert refs[2] not in _refs(worker.get("/queue?view=mine").text)
    # the bulk runs are audited with their counts, never the cases' content
    with site.db.transaction() as session:
        runs = [e for e in session.scalars(select(AuditEntry)) if e.action.startswith("bulk.")]
    assert [e.action for e in runs][:2] == ["bulk.assign", "bulk.label"]
