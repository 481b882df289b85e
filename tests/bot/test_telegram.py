"""Telegram through the real python-telegram-bot client and the loopback Bot API fake: whole
reports in both languages with a photo and a voice note, the safety features for the
reporter's phone, exactly-once handling, webhook secrets, pacing and 429s."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.telegram import TelegramSettings, TelegramSetupError, WebhookConfig, webhook_secret
from bot.telegram import _render as render
from caseworker.cases import list_queue
from caseworker.followup import queue_reply
from flows import Reply
from intake.home import Home
from intake.service import IntakeService
from tests.bot.conftest import Reporter, Running, inbox_ids, tg_settings
from tests.fakes.telegram_server import TOKEN, FakeTelegram, webhook_post
from tests.intake.test_conversations import (
    COMPLAINT_EN,
    COMPLAINT_EN_EXPECTED,
    REPRISAL_AR,
    REPRISAL_AR_EXPECTED,
)
from tests.support import PASSPHRASE, home_files, open_report

# The tests of Telegram failing try again on this time base (SANAD_TELEGRAM_RETRY_WAIT, 0.5 s
# shipped): a failed call again after 0.05, 0.1, 0.2 s, an unsent reply again after 0.4 s.
RETRY_WAIT = 0.05
PHOTO = b"\xff\xd8\xff\xe0 a photo of bruises, bytes all the same " * 700
VOICE = b"OggS\x00\x02 a voice note telling what happened " * 900


def _telegram_script(script: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for field, line in script:
        if field == "evidence":
            if line == "done" or "attach" in line or line == "تخطي":
                if not any(f == "evidence" for f, _ in out):
                    out += [("evidence", "<photo>"), ("evidence", "<voice>"), ("evidence", "done")]
            continue
        out.append((field, line))
    return out


def _run(reporter: Reporter, script: list[tuple[str, str]]) -> dict[str, Any]:
    reporter.say("/start")
    for _field, line in _telegram_script(script):
        if line == "<photo>":
            reporter.photo(PHOTO)
        elif line == "<voice>":
            reporter.voice(VOICE)
        else:
            reporter.answer(line)
    receipt = next(
        m
        for m in reporter.replies
        if "case" in m["text"].lower() or "رقم" in m["text"] or "إيصال" in m["text"]
    )
    return receipt


def _case_ref(service: IntakeService) -> str:
    queue = list_queue(service.db)
    assert len(queue) == 1
    return str(queue[0].case_ref)


def assert_phone_safe(fake: FakeTelegram) -> None:
    """protect_content on every message; every button's callback_data ASCII, <= 64 bytes."""
    sent = fake.sent()
    assert sent
    for params in sent:
        assert params.get("protect_content") is True
        assert len(params["text"]) <= 4096
        for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                data = button["callback_data"]
                assert data.isascii() and 0 < len(data.encode()) <= 64


def _last_bot_message(fake: FakeTelegram, chat_id: int) -> dict[str, Any]:
    shown = fake.visible(chat_id)
    return {k: v for k, v in shown[max(shown)].items() if k != "by"}


def _attachments_ok(report: dict[str, Any]) -> None:
    got = sorted((a["size"], a["sha256"], a["content_type"]) for a in report["attachments"])
    want = sorted(
        [
            (len(PHOTO), hashlib.sha256(PHOTO).hexdigest(), "image/jpeg"),
            (len(VOICE), hashlib.sha256(VOICE).hexdigest(), "audio/ogg"),
        ]
    )
    assert got == want


def test_whole_english_report_with_photo_and_voice(
    service: IntakeService, fake: FakeTelegram, start_bot: Callable[..., Running]
) -> None:
    bot = start_bot(service)
    reporter = Reporter(fake, 700_000_101, "en")
    _run(reporter, COMPLAINT_EN)
    report = open_report(service, _case_ref(service))
    fields = dict(report["fields"])
    date = fields.pop("incident_date")
    fields.pop("evidence")
    assert fields == COMPLAINT_EN_EXPECTED
    assert date["iso"] == "2024-03-15"
    _attachments_ok(report)
    assert_phone_safe(fake)
    # The menu in both languages.
    menus = fake.calls_of("setMyCommands")
    assert {c.params.get("language_code") for c in menus} == {None, "ar"}
    assert all(len(c.params["commands"]) >= 7 for c in menus)
    # After the receipt, the bot offers to clean the chat.
    assert (
        fake.sent(700_000_101)[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        == render.CLEAN
    )
    # A caseworker writes back (the reporter consented to follow-up): delivered in the chat.
    queue_reply(
        service.db,
        Home(service.settings.home).pepper(),
        _case_ref(service),
        "demo",
        PASSPHRASE,
        "Are you safe now?",
        now=service._now(),
    )
    assert bot.call(bot.channel.deliver_outbox()) == 1
    assert any("Are you safe now?" in m["text"] for m in fake.sent(reporter.id)[-2:])
    assert bot.call(bot.channel.deliver_outbox()) == 0
    reporter.say("Yes, I moved to my aunt's house.")
    assert reporter.replies
    # The database holds no chat or user id, no answer and no file in clear.
    service.db.dispose()
    needles = [
        b"700000101",
        b"Al-Hamra",
        b"zaytoun",
        b"cables",
        b"aunt's house",
        PHOTO[:40],
        VOICE[:40],
    ]
    for path in home_files(service.settings.home):
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle[:20]!r} in clear in {path.name}"


def test_whole_arabic_report_with_photo_and_voice(
    service: IntakeService, fake: FakeTelegram, start_bot: Callable[..., Running]
) -> None:
    start_bot(service)
    reporter = Reporter(fake, 700_000_202, "ar")
    _run(reporter, REPRISAL_AR)
    report = open_report(service, _case_ref(service))
    fields = dict(report["fields"])
    fields.pop("cooperation_when")
    fields.pop("evidence")
    assert fields == REPRISAL_AR_EXPECTED
    _attachments_ok(report)
    assert_phone_safe(fake)
    arabic = [m["text"] for m in fake.sent(700_000_202)]
    assert sum(any("\u0600" <= ch <= "\u06ff" for ch in t) for t in arabic) == len(arabic)
    # "Clean this chat": everything goes but what Telegram refuses, and the bot says so.
    first_user_message = min(i for i, m in fake.visible(reporter.id).items() if m["by"] == "user")
    fake.undeletable.add(first_user_message)  # e.g. older than 48 hours
    reporter.press(render.CLEAN)
    left = fake.visible(reporter.id)
    assert first_user_message in left and len(left) == 2
    assert "1" in reporter.last_text  # "could not delete 1 message(s)", in Arabic


def test_quick_exit_deletes_the_conversation(
    service: IntakeService, fake: FakeTelegram, start_bot: Callable[..., Running]
) -> None:
    start_bot(service)
    r = Reporter(fake, 700_000_303, "en")
    for line in ["/start", "en", "yes", "yes", "no"]:
        r.answer(line)
    shown_before = len(fake.visible(r.id))
    assert shown_before >= 8
    r.say("/exit")
    deletes = fake.calls_of("deleteMessages")
    assert deletes and all(1 <= len(c.params["message_ids"]) <= 100 for c in deletes)
    # Everything of the conversation is gone; only the bot's answer to /exit is left.
    left = fake.visible(r.id)
    assert all(m["by"] == "bot" for m in left.values())
    assert len(left) == len(r.replies)
    assert_phone_safe(fake)


def test_multi_choice_keyboard_and_typed_lists(
    service: IntakeService, fake: FakeTelegram, start_bot: Callable[..., Running]
) -> None:
    start_bot(service)
    r = Reporter(fake, 700_000_505, "en")
    r.say("/start")
    for _field, line in COMPLAINT_EN[:24]:  # up to violation_types (a multi question)
        r.answer(line)
    assert "m:." in r.buttons()
    r.press("m:beating")
    r.press("m:threats")
    r.press("m:beating")  # toggled off again
    r.press("m:.")
    r.answer("They beat me.")
    r.answer("/back")  # back to the narrative question, then back to the multi question
    r.answer("/back")
    assert "m:." in r.buttons()


def test_webhook_secret_is_enforced_and_redelivery_is_processed_once(
    service: IntakeService,
    fake: FakeTelegram,
    start_bot: Callable[..., Running],
    unused_tcp_port: int,
) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram/hook"
    bot = start_bot(service, webhook=WebhookConfig(url, "127.0.0.1", unused_tcp_port))
    hooks = fake.calls_of("setWebhook")
    secret = webhook_secret(bot.channel.settings)
    assert hooks[-1].params["url"] == url and hooks[-1].params["secret_token"] == secret
    update = {
        "update_id": 5,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": 700_000_606, "type": "private"},
            "from": {"id": 700_000_606, "is_bot": False, "first_name": "R"},
            "text": "/start",
        },
    }
    assert webhook_post(url, update, None) == 403
    assert webhook_post(url, update, "wrong") == 403
    time.sleep(0.3)
    assert fake.sent(700_000_606) == []
    assert webhook_post(url, update, secret) == 200
    fake.wait_for(lambda: len(fake.sent(700_000_606)) == 1)
    press = {
        "update_id": 6,
        "callback_query": {
            "id": "1",
            "from": update["message"]["from"],
            "chat_instance": "ci",
            "data": "en",
            "message": _last_bot_message(fake, 700_000_606),
        },
    }
    assert webhook_post(url, press, secret) == 200
    fake.wait_for(lambda: len(fake.sent(700_000_606)) >= 5)
    time.sleep(0.3)
    after_en = fake.sent(700_000_606)
    # Telegram delivers the same update again (it did not see our 200): not handled twice,
    # and not answered twice either (the webhook inbox does not take an answered update).
    assert webhook_post(url, press, secret) == 200
    time.sleep(0.5)
    assert fake.sent(700_000_606) == after_en
    assert inbox_ids(service.db.engine) == set()
    # a load balancer asks the worker itself (issue 15, item 6): alive, and ready to serve
    import json
    import urllib.request

    base = f"http://127.0.0.1:{unused_tcp_port}"
    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as alive:
        assert alive.status == 200 and json.loads(alive.read()) == {"ok": True}
    with urllib.request.urlopen(f"{base}/readyz", timeout=5) as ready:
        assert ready.status == 200 and json.loads(ready.read())["ready"] is True


def test_a_redelivered_update_is_processed_once(
    service: IntakeService, fake: FakeTelegram, start_bot: Callable[..., Running]
) -> None:
    bot = start_bot(service)
    r = Reporter(fake, 700_000_707, "en")
    for line in ["/start", "en", "yes", "yes", "no", "yes", "3", "no"]:
        r.answer(line)
    asked = r.last_text
    # The next answer is processed, then the bot restarts and Telegram delivers it again.
    uid = fake.press(r.id, "complaint")
    fake.wait_answered(uid)
    after_answer = fake.sent(r.id)[-1]["text"]
    bot.stop()
    update = {
        "update_id": uid,
        "callback_query": {
            "id": "99",
            "from": {"id": r.id, "is_bot": False, "first_name": "R"},
            "chat_instance": "ci",
            "data": "complaint",
            "message": {
                k: v for k, v in fake.visible(r.id)[max(fake.visible(r.id))].items() if k != "by"
            },
        },
    }
    fake.confirmed_offset = 0
    fake.push_update(update)  # the same update_id again
    start_bot(service)
    fake.wait_answered(uid)
    # After a restart a repeated update can only mean its answer never went out: the committed
    # answer (the same next question) is sent again; the answer itself is not processed twice.
    again = fake.sent(r.id)[-1]
    assert again["text"] == after_answer != asked
    r.replies = [again]
    r.answer("victim")
    assert "under 18" in r.last_text  # the flow went on from there, once


def test_429_is_waited_out(
    service: IntakeService, fake: FakeTelegram, start_bot: Callable[..., Running]
) -> None:
    start_bot(service)
    fake.fail_next("sendMessage", 429, retry_after=1)
    r = Reporter(fake, 700_000_808)
    r.say("/start")
    calls = [c for c in fake.calls_of("sendMessage") if int(c.params["chat_id"]) == r.id]
    assert len(calls) == 2 and calls[1].at - calls[0].at >= 0.95
    assert len(r.replies) == 2  # the failed attempt and the retry, which got through


@pytest.mark.chaos
def test_a_5xx_from_telegram_is_retried_so_no_reply_is_lost(
    service: IntakeService, fake: FakeTelegram, start_bot: Callable[..., Running]
) -> None:
    """The answer is committed before its reply is sent: a send that fails must be tried
    again, or the reporter is left without the next question."""
    start_bot(service, retry_wait=RETRY_WAIT)
    r = Reporter(fake, 700_000_818, "en")
    r.say("/start")
    fake.fail_next("sendMessage", 502, retry_after=None, description="Bad Gateway", times=2)
    fake.fail_next("answerCallbackQuery", 500, retry_after=None, description="Internal")
    r.answer("en")
    control = Reporter(fake, 700_000_819, "en")  # the same steps, nothing failing
    control.say("/start")
    control.answer("en")
    # The next question arrived after two failed sends, as it does when nothing fails.
    assert r.buttons() and r.last_text == control.last_text
    assert r.buttons() == control.buttons()
    failed = [c for c in fake.calls_of("sendMessage") if int(c.params["chat_id"]) == r.id]
    assert len(failed) >= 3


@pytest.mark.chaos
def test_a_reply_telegram_keeps_refusing_is_sent_once_it_answers_again(
    service: IntakeService, fake: FakeTelegram, start_bot: Callable[..., Running]
) -> None:
    """The 2,000-reporter run: after the Pacer's three tries the reply was dropped and the
    reporter never got the next question. Now the update stays held and is handled again."""
    bot = start_bot(service, retry_wait=RETRY_WAIT)
    r = Reporter(fake, 700_000_820, "en", timeout=30)
    r.say("/start")
    fake.fail_next("sendMessage", 502, retry_after=None, description="Bad Gateway", times=4)
    r.answer("en")
    control = Reporter(fake, 700_000_821, "en")
    control.say("/start")
    control.answer("en")
    assert r.buttons() and r.last_text == control.last_text
    assert r.buttons() == control.buttons()
    assert bot.channel._poller is not None and bot.channel._poller.resent == 1
    assert inbox_ids(service.db.engine) == set()  # let go once answered
    r.answer(control.buttons()[0])  # and the conversation goes on from there, once
    control.answer(control.buttons()[0])
    assert r.last_text == control.last_text


@pytest.mark.chaos
def test_a_webhook_reply_telegram_keeps_refusing_is_sent_once_it_answers_again(
    service: IntakeService,
    fake: FakeTelegram,
    start_bot: Callable[..., Running],
    unused_tcp_port: int,
) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram/hook"
    bot = start_bot(
        service, webhook=WebhookConfig(url, "127.0.0.1", unused_tcp_port), retry_wait=RETRY_WAIT
    )
    secret = webhook_secret(bot.channel.settings)
    chat = 700_000_822
    start = {
        "update_id": 41,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "R"},
            "text": "/start",
        },
    }
    fake.fail_next("sendMessage", 502, retry_after=None, description="Bad Gateway", times=4)
    assert webhook_post(url, start, secret) == 200
    fake.wait_for(lambda: len(fake.sent(chat)) >= 1, timeout=30)
    fake.wait_for(lambda: inbox_ids(service.db.engine) == set(), timeout=10)
    assert bot.channel._intake is not None and bot.channel._intake.resent == 1
    assert (
        "language" in fake.sent(chat)[-1]["text"].lower() or "اللغة" in fake.sent(chat)[-1]["text"]
    )


def test_files_too_big_or_of_the_wrong_type_get_a_clear_answer(
    service: IntakeService, fake: FakeTelegram, start_bot: Callable[..., Running]
) -> None:
    start_bot(service, max_file_bytes=4096)
    r = Reporter(fake, 700_000_909, "en")
    for line in ["/start", "en"]:
        r.answer(line)
    r._act(lambda: fake.send_document(r.id, b"x" * 10_000, "big.pdf", "application/pdf"))
    assert "4096" not in r.last_text and "too large" in r.last_text
    r._act(lambda: fake.send_document(r.id, b"MZ\x90", "tool.exe", "application/x-msdownload"))
    assert "type" in r.last_text
    assert fake.calls_of("getFile") == []  # refused before anything was downloaded


def test_a_file_the_bot_could_not_fetch_is_tried_again_then_asked_for_again(
    service: IntakeService, fake: FakeTelegram, start_bot: Callable[..., Running]
) -> None:
    """The 2,000-reporter run: a getFile lost to a network error left the reporter unanswered."""
    start_bot(service, retry_wait=RETRY_WAIT)
    r = Reporter(fake, 700_000_910, "en")
    for line in ["/start", "en"]:
        r.answer(line)
    fake.fail_next("getFile", status=502, retry_after=None, description="Bad Gateway", times=2)
    r._act(lambda: fake.send_document(r.id, b"%PDF-1.4 x", "a.pdf", "application/pdf"))
    assert "could not be received" not in r.last_text  # fetched at the third try
    assert len(fake.calls_of("getFile")) == 3
    fake.fail_next("getFile", status=502, retry_after=None, description="Bad Gateway", times=3)
    r._act(lambda: fake.send_document(r.id, b"%PDF-1.4 y", "b.pdf", "application/pdf"))
    assert "could not be received. Please send it again." in r.last_text


def test_a_flooding_chat_does_not_starve_another(
    service: IntakeService, fake: FakeTelegram, start_bot: Callable[..., Running]
) -> None:
    start_bot(service, chat_rate=25.0, chat_burst=1.0, workers=2)
    flood = [fake.send_text(700_001_001, f"hello {n}") for n in range(30)]
    time.sleep(0.2)
    calm = fake.send_text(700_001_002, "/start")
    fake.wait_for(lambda: len(fake.sent(700_001_002)) >= 1)
    assert len(fake.sent(700_001_001)) < 30  # the other chat was answered mid-flood
    fake.wait_answered(max([*flood, calm]), timeout=30)


def test_long_text_is_split_and_keyboards_stay_small() -> None:
    long = ("word " * 1500).strip()
    parts = render.split_text(long)
    assert len(parts) == 2 and all(len(p) <= 4096 for p in parts)
    assert " ".join(parts) == long
    reply = Reply("q", "choice", "ar", "f", (("x" * 70, "طويل"), ("ok", "نعم")))
    keyboard = render.keyboard_for(reply, "تم")
    assert keyboard is not None
    assert [b["callback_data"] for row in keyboard for b in row] == ["#1", "ok"]


@pytest.fixture
def unused_tcp_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_settings_derive_the_file_url_and_hide_the_token(fake: FakeTelegram) -> None:
    s = tg_settings(fake, base_url="http://127.0.0.1:8081/bot")
    assert s.base_file_url == "http://127.0.0.1:8081/file/bot"
    assert s.token not in repr(s)
    env = {"SANAD_TELEGRAM_TOKEN": TOKEN}
    assert TelegramSettings.from_env(env).retry_wait == 0.5
    assert TelegramSettings.from_env({**env, "SANAD_TELEGRAM_RETRY_WAIT": "2"}).retry_wait == 2
    with pytest.raises(TelegramSetupError):
        TelegramSettings.from_env({**env, "SANAD_TELEGRAM_RETRY_WAIT": "-1"})


def test_event_keys_name_the_bot(service: IntakeService, fake: FakeTelegram) -> None:
    """Finding 13: the event key was the update id alone, so another bot's (or a restarted
    counter's) update ids met this bot's records. The key now includes the bot's id."""
    from telegram import Update

    from bot.telegram import TelegramChannel

    channel = TelegramChannel(service, tg_settings(fake), outbox_interval=0)
    update = Update.de_json(
        {
            "update_id": 1000,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 5, "type": "private"},
                "from": {"id": 5, "is_bot": False, "first_name": "R"},
                "text": "hi",
            },
        },
        None,
    )
    assert update is not None
    bot_id = tg_settings(fake).token.split(":")[0]
    assert channel._src(update).event_id == f"{bot_id}:1000"
