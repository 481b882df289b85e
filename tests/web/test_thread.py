"""The case page shows the conversation with the reporter as a thread: each caseworker message
with its delivery state and each reply the reporter sent back through the bot, in order,
decrypted in the caseworker's session and shown as inert, bidi-isolated text."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from caseworker.dashboard import Dashboard
from caseworker.followup import queue_reply
from intake.service import IntakeService
from tests.support import PASSPHRASE, Chat, Clock
from tests.web.conftest import Site, login, post
from web import create_app

SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(1)">'
RLO = "\u202e"


def _report(service: IntakeService, user: str, followup: str) -> str:
    chat = Chat(service, user=user, lang="en", open_now=False)
    chat.src = replace(chat.src, route=f"chat-{user}")
    chat.replies = service.open(chat.src, "en").replies
    chat.run(
        [
            ("consent_store", "yes"),
            ("consent_followup", followup),
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
    )
    while chat.question.field != "confirm_submit":
        chat.say("/skip")
    chat.say("yes")
    return str(next(r for r in chat.replies if r.kind == "receipt").extra["case_ref"])


def _deliver_and_answer(service: IntakeService, clock: Clock, user: str, answer: str) -> None:
    """The bot delivers what is waiting and the reporter answers in the same chat."""
    clock.advance(60)
    [item] = service.pending_outbox("console")
    service.outbox_sent(item.id)
    clock.advance(60)
    chat = Chat(service, user=user, open_now=False)
    chat.say(answer)
    chat.say("done")
    clock.advance(60)


def _thread(html: str) -> list[tuple[str, str, str]]:
    section = re.search(r'<section aria-labelledby="h-thread".*?</section>', html, re.S)
    assert section, "no conversation section on the case page"
    return re.findall(
        r'<article class="msg[^"]*" data-from="(\w+)" data-state="(\w+)">'
        r'.*?<p dir="auto" class="thread-text">(.*?)</p>',
        section.group(0),
        re.S,
    )


@pytest.fixture
def desk(
    site: Site, make_service: Callable[..., IntakeService], clock: Clock
) -> tuple[IntakeService, TestClient]:
    clock.now = time.time()  # the bot and the dashboard share one clock (real at login)
    service = make_service()
    dashboard = Dashboard(
        site.db,
        site.home.admin_public(),
        site.settings.attachments_dir,
        clock=clock,
        pepper=site.home.pepper(),
    )
    client = TestClient(create_app(dashboard), follow_redirects=False)
    assert login(client, "demo", PASSPHRASE, site.secrets["demo"]).status_code == 303
    return service, client


def test_the_conversation_is_a_thread_in_order_with_delivery_states(
    desk: tuple[IntakeService, TestClient], clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    service, client = desk
    ref = _report(service, "amal", followup="yes")
    page = client.get(f"/cases/{ref}").text
    assert _thread(page) == [] and "No messages with the reporter yet." in page

    first = f"Are you safe now? {SCRIPT}"
    post(
        client,
        f"/cases/{ref}/action",
        {"kind": "write_back", "message": first},
        page=f"/cases/{ref}",
    )
    waiting = _thread(client.get(f"/cases/{ref}").text)
    assert [(f, s) for f, s, _ in waiting] == [("caseworker", "pending")]
    assert "&lt;script&gt;" in waiting[0][2] and "<script>" not in waiting[0][2]

    reply_one = f"نعم، انتقلت إلى بيت خالتي {IMG}"
    _deliver_and_answer(service, clock, "amal", reply_one)
    post(
        client,
        f"/cases/{ref}/action",
        {"kind": "write_back", "message": "Can we call you tomorrow?"},
        page=f"/cases/{ref}",
    )
    reply_two = f"Only after nine {RLO}evil"
    _deliver_and_answer(service, clock, "amal", reply_two)

    page = client.get(f"/cases/{ref}").text
    thread = _thread(page)
    assert [(f, s) for f, s, _ in thread] == [
        ("caseworker", "sent"),
        ("reporter", "received"),
        ("caseworker", "sent"),
        ("reporter", "received"),
    ]
    # Each session's first answer is `addendum.1`: the second does not hide the first.
    assert "نعم، انتقلت إلى بيت خالتي" in thread[1][2] and "Only after nine" in thread[3][2]
    assert "&lt;img src=x onerror=" in thread[1][2] and "<img src=x" not in page
    assert RLO in thread[3][2]  # kept, but inside its own isolated, dir="auto" paragraph
    assert "delivered" in page and page.count('data-from="caseworker"') == 2
    # Messages to the reporter live in the thread, not among the internal notes.
    notes = re.search(r'<section aria-labelledby="h-notes".*?</section>', page, re.S)
    assert notes and "Are you safe now?" not in notes.group(0)

    arabic = client.get(f"/cases/{ref}?lang=ar").text
    assert "المحادثة مع المبلّغ" in arabic and "وصلت" in arabic and "وردت" in arabic
    assert len(_thread(arabic)) == 4

    for secret in ("بيت خالتي", "Only after nine", "Are you safe now", "call you tomorrow"):
        assert secret not in caplog.text, secret


def test_failed_and_command_line_messages_show_too_and_no_consent_means_no_thread(
    desk: tuple[IntakeService, TestClient], site: Site, clock: Clock
) -> None:
    service, client = desk
    ref = _report(service, "rana", followup="yes")
    queue_reply(
        site.db,
        site.home.pepper(),
        ref,
        "demo",
        PASSPHRASE,
        "Written from the command line",
        now=service._now(),
    )
    clock.advance(60)
    [item] = service.pending_outbox("console")
    for _ in range(8):  # the channel keeps failing until the outbox gives up
        service.outbox_failed(item.id)
    thread = _thread(client.get(f"/cases/{ref}").text)
    assert thread == [("caseworker", "failed", "Written from the command line")]
    assert "could not be delivered" in client.get(f"/cases/{ref}").text

    silent = _report(service, "sami", followup="no")
    post(
        client,
        f"/cases/{silent}/action",
        {"kind": "write_back", "message": "Hello?"},
        page=f"/cases/{silent}",
    )
    page = client.get(f"/cases/{silent}").text
    assert "Refused: the reporter did not consent" in page and _thread(page) == []
    assert service.pending_outbox("console") == []
