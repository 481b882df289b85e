"""The protected identity section on the dashboard: the case page and the PDF leave names out
("protected — request access") until a custodian approves on their own page; a refusal is
shown to the requester; both languages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from storage import accounts, cases, crypto

from .conftest import OTHER_PASSPHRASE, Site, csrf_of, login, post

NAME = "Rania Qassem-Tahiri"
SAFE = "Only after ten, ask for Umm Ali"


def _case_with_identity(site: Site, consent: str = "yes") -> str:
    """A report stored as the intake stores one: names apart, under an identity key wrapped
    to the custodians and the recovery key of the signed manifest."""
    now = datetime.now(UTC)
    admin_public = site.home.admin_public()
    with site.db.transaction() as session:
        report = cases.ReportToStore(
            case_id=str(uuid.uuid4()),
            data_key=crypto.new_data_key(),
            fields={
                "consent_store": "yes",
                "consent_share_identity": consent,
                "report_type": "complaint",
                "narrative": "They beat him in the yard.",
            },
            files=[],
            consent={
                "consent_store": {"value": "yes", "at": now.isoformat()},
                "consent_share_identity": {"value": consent, "at": now.isoformat()},
            },
            report_type="complaint",
            priority=3,
            reasons=("default",),
            channel="console",
            lang="en",
            flow_version="test",
            identity={"victim_name": NAME, "contact_safety": SAFE},
            identity_key=crypto.new_data_key(),
        )
        case = cases.store_report(
            session,
            report,
            accounts.current_recipients(session, admin_public),
            crypto.new_receipt(crypto.TEST_KDF),
            now,
            accounts.identity_recipients(session, admin_public),
        )
        return case.case_ref


@pytest.fixture
def keeper_secret(site: Site) -> str:
    return site.add_user("keeper", "custodian")


def test_case_page_and_pdf_hide_names_until_a_custodian_approves(
    site: Site, demo: Any, keeper_secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = _case_with_identity(site)
    page = demo.get(f"/cases/{ref}")
    assert page.status_code == 200
    assert NAME not in page.text and SAFE not in page.text
    assert "They beat him in the yard." in page.text
    assert 'data-protected="victim_name"' in page.text
    assert "protected — request access" in page.text
    arabic = demo.get(f"/cases/{ref}?lang=ar")
    assert "محميّ — اطلب الاطلاع" in arabic.text and NAME not in arabic.text
    demo.get(f"/cases/{ref}?lang=en")

    import web.pdf

    exported: list[list[Any]] = []
    real = web.pdf.case_pdf
    monkeypatch.setattr(
        web.pdf,
        "case_pdf",
        lambda view, rows, t, *more: exported.append(rows) or real(view, rows, t, *more),
    )
    assert demo.get(f"/cases/{ref}/pdf").status_code == 200
    assert not any(NAME in r.value or SAFE in r.value for r in exported[-1])

    # The caseworker asks, with a purpose.
    asked = post(
        demo,
        f"/cases/{ref}/identity_request",
        {"purpose": "contact_reporter"},
        page=f"/cases/{ref}",
    )
    assert asked.status_code == 303
    assert 'data-request-status="pending"' in demo.get(f"/cases/{ref}").text

    # The custodian lands on their page, sees purpose and requester, and no content.
    keeper = site.client()
    assert login(keeper, "keeper", OTHER_PASSPHRASE, keeper_secret).status_code == 303
    assert keeper.get("/").headers["location"] == "/identity"
    listing = keeper.get("/identity")
    assert ref in listing.text and "demo" in listing.text
    assert NAME not in listing.text and "yard" not in listing.text
    assert keeper.get(f"/cases/{ref}").status_code == 404  # a custodian reads no report
    request_id = listing.text.split('data-request="', 1)[1].split('"', 1)[0]
    done = keeper.post(f"/identity/{request_id}/approve", data={"csrf": csrf_of(listing.text)})
    assert done.status_code == 303
    assert "No request is waiting." in keeper.get("/identity").text

    page = demo.get(f"/cases/{ref}")
    assert NAME in page.text and SAFE in page.text
    assert 'data-identity="granted"' in page.text
    assert demo.get(f"/cases/{ref}/pdf").status_code == 200
    assert any(NAME in r.value for r in exported[-1])


def test_refusal_is_shown_to_the_requester(site: Site, demo: Any, keeper_secret: str) -> None:
    ref = _case_with_identity(site)
    post(demo, f"/cases/{ref}/identity_request", {"purpose": "link_cases"}, page=f"/cases/{ref}")
    keeper = site.client()
    assert login(keeper, "keeper", OTHER_PASSPHRASE, keeper_secret).status_code == 303
    listing = keeper.get("/identity?lang=ar")
    assert "طلبات الاطلاع على الهوية" in listing.text
    request_id = listing.text.split('data-request="', 1)[1].split('"', 1)[0]
    keeper.post(
        f"/identity/{request_id}/refuse",
        data={"csrf": csrf_of(listing.text), "reason": "risk_to_person"},
    )
    page = demo.get(f"/cases/{ref}")
    assert 'data-request-status="refused"' in page.text
    assert "the risk to the person is too high" in page.text
    assert NAME not in page.text
    assert "Access to the identity section refused by a custodian" in page.text


def test_state_purpose_without_identity_consent_is_refused_on_the_page(
    site: Site, demo: Any, keeper_secret: str
) -> None:
    ref = _case_with_identity(site, consent="no")
    post(
        demo,
        f"/cases/{ref}/identity_request",
        {"purpose": "raise_with_state"},
        page=f"/cases/{ref}",
    )
    page = demo.get(f"/cases/{ref}")
    assert "the reporter did not consent to sharing their identity" in page.text
    assert "data-request-status" not in page.text
    # a caseworker cannot reach the custodian's page
    assert demo.get("/identity").status_code == 403
