"""After an erase-first exit ("someone is here, delete everything") the person's next
message starts afresh in their language and offers the urgent questions (issue 13 item 5)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from caseworker.cases import list_queue
from intake.service import IntakeService
from storage.models import Case
from tests.support import Chat

AFTER = {
    "en": "we can ask only the most important questions first",
    "ar": "يمكننا أن نسألك أهم الأسئلة فقط أولاً",
}


def _cases(service: IntakeService) -> int:
    with service.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


@pytest.mark.parametrize(
    ("lang", "words", "hello"),
    [
        ("en", "someone is here, delete everything", "hello"),
        ("ar", "حدا جاي امسح كل شي", "مرحبا"),
        ("ar", "rah jaw l police, m7i kolchi", "salam"),
    ],
)
def test_coming_back_after_a_danger_exit_offers_the_urgent_path(
    service: IntakeService, lang: str, words: str, hello: str
) -> None:
    chat = Chat(service, user=f"back-{lang}-{len(words)}", lang=lang)
    chat.run([("consent_store", "yes"), ("consent_followup", "yes")])
    chat.say("Samir" if lang == "en" else "سمير")  # an answer, erased with the rest
    chat.say(words)
    assert _cases(service) == 0

    replies = chat.say(hello)  # they come back
    assert replies[0].kind == "info" and replies[0].lang == lang
    assert AFTER[lang] in replies[0].text
    assert chat.question.field == "consent_store"  # a fresh start: consent comes first
    chat.answer("consent_store", "yes")
    assert chat.question.field == "urgent_path"  # the urgent questions are offered
    assert chat.question.lang == lang
    queue = list_queue(service.db)
    assert len(queue) == 1 and queue[0].priority == 1  # and the team sees it at once
    assert "Samir" not in str(chat.replies) and "سمير" not in str(chat.replies)


def test_exit_again_after_a_danger_exit_leaves_nothing(service: IntakeService) -> None:
    chat = Chat(service, user="back-again", lang="en")
    chat.run([("consent_store", "yes")])
    chat.say("someone is here, delete everything")
    chat.say("/exit")
    replies = chat.say("hello")
    assert all("most important questions first" not in r.text for r in replies)
