"""The December 2026 security review's intake findings (../shared/reviews/security-2026-12.md),
each shown with the review's own input against the real service and command."""

from __future__ import annotations

from intake.service import IntakeService
from storage import crypto
from tests.intake.test_conversations import COMPLAINT_EN
from tests.support import Chat

SENTENCE = "They were held with many more from 2023 until now."


def _to_narrative(service: IntakeService, user: str) -> Chat:
    chat = Chat(service, user)
    chat.run(
        [
            step
            for step in COMPLAINT_EN[
                : COMPLAINT_EN.index(next(s for s in COMPLAINT_EN if s[0] == "narrative"))
            ]
        ]
    )
    assert chat.question.field == "narrative"
    return chat


def test_ordinary_english_is_an_answer_not_a_receipt(service: IntakeService) -> None:
    """Finding 14: the narrative "They were held with many more from 2023 until now." was
    refused as a receipt code and asked again."""
    for text in (
        SENTENCE,
        "long-text long-text long-text long-text",
        "WHEN THEY CAME INTO THIS ROOM THEY TOOK MOST of us away",
    ):
        assert not crypto.looks_like_receipt(text), text
    chat = _to_narrative(service, "finding-14")
    chat.answer("narrative", SENTENCE)
    assert chat.question.field == "witnesses"  # the next question (issue 18)
    assert not any("receipt" in r.text.lower() for r in chat.replies)


def test_a_pasted_receipt_is_still_kept_out_of_the_report(service: IntakeService) -> None:
    """Finding 14's other side: a real code pasted into an answer is still not stored."""
    code = crypto.new_receipt(crypto.TEST_KDF).code
    for text in (
        f"my code is {code} thanks",
        f"رمزي هو {code}",
        code.replace("-", ""),
        code.replace("-", " - "),
        code.lower(),
    ):
        assert crypto.looks_like_receipt(text), text
    chat = _to_narrative(service, "finding-14b")
    chat.answer("narrative", f"here: {code}")
    assert chat.question.field == "narrative"  # refused and asked again
