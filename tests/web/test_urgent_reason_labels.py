"""Why a case is urgent is shown to caseworkers in their language (queue, case page)."""

from __future__ import annotations

from tests.web.conftest import Site


def test_urgent_reason_is_labelled_in_the_readers_language(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = site.make_case(priority=1, reasons=("urgent_words", "self_harm"))
    english = demo.get("/queue?lang=en").text
    assert "risk of self-harm or suicide" in english and "urgent in their words" in english
    arabic = demo.get("/queue?lang=ar").text
    assert "خطر إيذاء النفس أو الانتحار" in arabic
    page = demo.get(f"/cases/{ref}?lang=ar").text
    assert "خطر إيذاء النفس أو الانتحار" in page
    page = demo.get(f"/cases/{ref}?lang=en").text
    assert "risk of self-harm or suicide" in page
