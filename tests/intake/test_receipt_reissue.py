"""A lost receipt is re-issued by the caseworker side only (it is never replayed): the old
code stops working, the new one shows the status and lets the reporter add information."""

from __future__ import annotations

import pytest

from caseworker.cases import AccessDenied, reissue_receipt
from intake.service import IntakeService
from tests.support import PASSPHRASE, Chat, open_report


def _submit(service: IntakeService) -> tuple[str, str]:
    chat = Chat(service, user="lost-it", lang="en")
    chat.answer("consent_store", "yes")
    while chat.question.field != "confirm_submit":
        chat.say("/skip")
    chat.answer("confirm_submit", "yes")
    receipt = next(r for r in chat.replies if r.kind == "receipt")
    return receipt.extra["case_ref"], receipt.extra["receipt"]


def test_a_caseworker_reissues_a_lost_receipt(service: IntakeService) -> None:
    case_ref, old = _submit(service)
    new = reissue_receipt(service.db, case_ref, "demo", PASSPHRASE, service.settings.receipt_kdf)
    assert new != old
    stale = Chat(service, user="lost-it-1", open_now=False)
    stale.say(old)
    assert "addendum" not in [r.field for r in stale.replies]  # the old code opens nothing
    fresh = Chat(service, user="lost-it-2", open_now=False)
    fresh.say(new)
    assert fresh.question.field == "addendum"
    assert case_ref in " ".join(r.text for r in fresh.replies)
    kinds = [e["kind"] for e in open_report(service, case_ref)["history"]]
    assert "receipt_reissued" in kinds


def test_a_wrong_passphrase_reissues_nothing(service: IntakeService) -> None:
    case_ref, old = _submit(service)
    with pytest.raises(AccessDenied):
        reissue_receipt(
            service.db, case_ref, "demo", "not the passphrase", service.settings.receipt_kdf
        )
    again = Chat(service, user="lost-it-3", open_now=False)
    again.say(old)
    assert again.question.field == "addendum"
