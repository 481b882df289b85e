"""Issue 16 item 7: the case file PDF holds everything a caseworker may export, with page
numbers and a "confidential, exported by, at" footer on every page, and a redacted export
leaves out names, contact details, the conversation and the internal notes."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from storage.audit_chain import AuditEntry
from tests.web.conftest import Site, post
from web.pdf import fonts_available

pytestmark = pytest.mark.skipif(not fonts_available(), reason="fonts-noto-core not installed")

NAME = "Khalil Haddad"
PHONE = "+961 1 234 567"
NARRATIVE = "They held me for three days in the basement of the station."


def _pages(content: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(content)).pages]


def _case(site: Site, demo) -> str:  # type: ignore[no-untyped-def]
    ref = site.make_case(
        fields={
            "report_type": "complaint",
            "narrative": NARRATIVE * 12,
            "victim_name": NAME,
            "contact_safety": PHONE,
            "incident_location": "Tadmur prison",
        }
    )
    url = f"/cases/{ref}"
    post(demo, f"{url}/note", {"text": "Internal: lawyer to call on Monday."}, page=url)
    post(demo, f"{url}/action", {"kind": "write_back", "message": "Are you safe now?"}, page=url)
    post(
        demo, f"{url}/status", {"to": "under_assessment", "reason": "assessment_started"}, page=url
    )
    post(demo, f"{url}/action", {"kind": "refer", "target": "UN"}, page=url)
    return ref


def test_the_case_file_has_everything_and_a_footer_on_every_page(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = _case(site, demo)
    response = demo.get(f"/cases/{ref}/pdf?lang=en")
    assert response.status_code == 200
    pages = _pages(response.content)
    text = "\n".join(pages)
    for expected in (
        NARRATIVE.strip(),
        NAME,
        "Internal: lawyer to call on Monday.",
        "Are you safe now?",
        "Refer to another body",
        "Under assessment",
        "Tadmur prison",
        "No files.",
        "Conversation with the reporter",
        "Reporter's language",
        "English",
    ):
        assert expected in text, expected
    assert len(pages) >= 2
    for n, page in enumerate(pages, 1):
        assert "Confidential — exported by demo at" in page
        assert f"page {n} of {len(pages)}" in page


def test_the_redacted_file_leaves_out_identity_contact_thread_and_notes(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = _case(site, demo)
    text = "\n".join(_pages(demo.get(f"/cases/{ref}/pdf?redacted=1&lang=en").content))
    assert NARRATIVE.strip() in text and "Tadmur prison" in text
    for absent in (NAME, PHONE, "Internal: lawyer", "Are you safe now?"):
        assert absent not in text, absent
    assert "Confidential, redacted — exported by demo" in text
    with site.db.transaction() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry))]
    assert "case.export_redacted" in actions


def test_the_arabic_file_numbers_its_pages_in_arabic_digits(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = _case(site, demo)
    pages = _pages(demo.get(f"/cases/{ref}/pdf?lang=ar").content)
    assert "الصفحة ١ من" in pages[0] and "سرّي" in pages[0] and "demo" in pages[0]
    assert "الصفحة ٢ من" in pages[1]
    # a phone number (no letters) keeps its order inside the Arabic file
    assert PHONE in "\n".join(pages) and "567 234 1 961+" not in "\n".join(pages)
