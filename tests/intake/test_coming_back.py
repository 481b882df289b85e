"""Coming back with a receipt, adding information, and a caseworker writing back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from caseworker.cases import AccessDenied
from caseworker.followup import queue_reply
from intake.service import Incoming, IntakeService
from storage import crypto
from tests.support import PASSPHRASE, Chat, open_report

FOLLOWUP_REPORT = [
    ("consent_store", "yes"),
    ("consent_followup", "yes"),
    ("consent_share_identity", "no"),
    ("consent_refer", "no"),
    ("consent_stats", "no"),
    ("consent_publish", "no"),
    ("report_type", "reprisal"),
    ("reporter_role", "victim"),
    ("reporter_is_child", "no"),
    ("current_danger", "no"),
    ("ongoing", "yes"),
]


def _report(
    service: IntakeService, user: str, followup: str = "yes", route: str | None = "chat-77"
) -> tuple[str, str]:
    chat = Chat(service, user=user, lang="en", open_now=False)
    chat.src = replace(chat.src, route=route)
    chat.replies = service.open(chat.src, "en").replies
    script = [(f, followup if f == "consent_followup" else a) for f, a in FOLLOWUP_REPORT]
    chat.run(script)
    while chat.question.field != "confirm_submit":
        chat.say("/skip")
    chat.say("yes")
    receipt = next(r for r in chat.replies if r.kind == "receipt")
    return receipt.extra["case_ref"], receipt.extra["receipt"]


def test_receipt_shows_status_and_lets_the_reporter_add_information(
    service: IntakeService, tmp_path: Path
) -> None:
    case_ref, code = _report(service, "amal")
    back = Chat(service, user="amal-on-a-new-phone", open_now=False)
    replies = back.say(code.lower().replace("-", " "))  # typed back loosely
    assert case_ref in replies[0].text and "waiting for a first assessment" in replies[0].text
    assert back.question.field == "addendum"
    back.say("They came again last night and asked for me by name.")
    assert back.question.field == "addendum"
    doc = tmp_path / "summons.pdf"
    doc.write_bytes(b"%PDF summons" * 50)
    back.say(f"/attach {doc}")
    back.say("done")
    assert back.outcome.finished
    shown = open_report(service, case_ref)
    assert shown["fields"]["addendum.1"] == "They came again last night and asked for me by name."
    assert [a["name"] for a in shown["attachments"]] == ["summons.pdf"]
    assert [h["kind"] for h in shown["history"]] == ["received", "addendum", "addendum"]


def test_wrong_or_unknown_receipts_are_refused_the_same_way(service: IntakeService) -> None:
    case_ref, code = _report(service, "amal")
    wrong = code[:-1] + ("A" if code[-1] != "A" else "C")
    chat = Chat(service, user="guesser", open_now=False)
    first = chat.say(wrong)[0].text
    unknown = chat.say("ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZ2")[0].text
    assert first == unknown and case_ref not in first


def test_unknown_handle_never_runs_the_slow_hash(
    service: IntakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Crypto property 7 (crypto-design.md)."""
    calls: list[int] = []
    real = crypto.verify_receipt
    monkeypatch.setattr(crypto, "verify_receipt", lambda *a: calls.append(1) or real(*a))  # type: ignore[func-returns-value]
    Chat(service, user="x", open_now=False).say("ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZ2")
    assert calls == []


def test_receipt_attempts_are_rate_limited(service: IntakeService) -> None:
    case_ref, code = _report(service, "amal")
    chat = Chat(service, user="guesser", open_now=False)
    for _ in range(5):
        chat.say("ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZ2")
    replies = chat.say(code)  # even the right code waits once the limit is reached
    assert case_ref not in replies[0].text and chat.replies[-1].kind == "info"


def test_caseworker_reply_reaches_only_a_consenting_reporter(service: IntakeService) -> None:
    pepper = service._pepper
    case_ref, _ = _report(service, "amal", followup="yes", route="chat-77")
    no_ref, _ = _report(service, "rami", followup="no", route="chat-88")
    with pytest.raises(AccessDenied, match="consent"):
        queue_reply(service.db, pepper, no_ref, "demo", PASSPHRASE, "Are you safe?")
    queue_reply(
        service.db, pepper, case_ref, "demo", PASSPHRASE, "Are you safe now?", now=service._now()
    )
    items = service.pending_outbox("console")
    assert len(items) == 1 and items[0].route == "chat-77"
    assert "Are you safe now?" in items[0].replies[0].text
    service.outbox_sent(items[0].id)
    assert service.pending_outbox("console") == []
    # The reporter answers in the same chat: appended to the case, sealed.
    chat = Chat(service, user="amal", open_now=False)
    chat.say("Yes, I moved to my aunt's house.")
    chat.say("done")
    shown = open_report(service, case_ref)
    assert shown["fields"]["addendum.1"] == "Yes, I moved to my aunt's house."
    kinds = [h["kind"] for h in shown["history"]]
    assert kinds == ["received", "reply_queued", "reply_sent", "addendum"]


def test_failed_delivery_is_retried_later(service: IntakeService, clock: object) -> None:
    case_ref, _ = _report(service, "amal")
    queue_reply(
        service.db, service._pepper, case_ref, "demo", PASSPHRASE, "Hello", now=service._now()
    )
    item = service.pending_outbox("console")[0]
    service.outbox_failed(item.id)
    assert service.pending_outbox("console") == []
    clock.advance(60)  # type: ignore[attr-defined]
    assert [i.id for i in service.pending_outbox("console")] == [item.id]


def test_conversation_messages_are_remembered_for_deletion(service: IntakeService) -> None:
    src = Incoming("telegram", "12345")
    service.track(src, "101", "in")
    service.track(src, "102", "out")
    assert service.messages_of(src) == [("101", "in"), ("102", "out")]
    assert service.messages_of(Incoming("telegram", "999")) == []
    service.forget_messages(src)
    assert service.messages_of(src) == []


def test_quick_exit_tells_the_channel_to_erase(service: IntakeService) -> None:
    chat = Chat(service, lang="en")
    chat.answer("consent_store", "yes")
    chat.say("/exit")
    assert chat.outcome.erased and chat.outcome.finished


def test_withdrawal_deletes_the_content_and_keeps_a_tombstone(
    service: IntakeService, tmp_path: Path
) -> None:
    from sqlalchemy import func, select

    from caseworker.cases import list_queue
    from storage.models import Attachment, CaseField, WrappedKey

    case_ref, code = _report(service, "amal")
    back = Chat(service, user="amal", open_now=False)
    back.say(code)
    doc = tmp_path / "more.pdf"
    doc.write_bytes(b"%PDF more" * 10)
    back.say(f"/attach {doc}")
    assert list(service.settings.attachments_dir.rglob("*.sealed"))
    back.answer("addendum", "withdraw")
    assert back.question.field == "withdraw_confirm"
    back.answer("withdraw_confirm", "no")
    assert back.question.field == "addendum"  # nothing happened
    back.answer("addendum", "احذفوا بلاغي")  # "delete my report", in words
    back.answer("withdraw_confirm", "yes")
    assert back.outcome.finished
    item = next(i for i in list_queue(service.db) if i.case_ref == case_ref)
    assert item.status == "withdrawn" and item.reasons == ()
    with service.db.transaction() as session:
        for model in (CaseField, WrappedKey, Attachment):
            assert session.scalar(select(func.count()).select_from(model)) == 0
    assert not list(service.settings.attachments_dir.rglob("*.sealed"))
    with pytest.raises(AccessDenied):
        open_report(service, case_ref)
    # The receipt still tells the reporter what became of it.
    again = Chat(service, user="amal", open_now=False)
    replies = again.say(code)
    assert "withdrawn" in replies[0].text and len(replies) == 1  # and nothing can be added
