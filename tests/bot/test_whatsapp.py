"""The WhatsApp channel through pywa against a loopback fake of the Cloud API speaking its
real JSON: signed webhooks only, a whole report with buttons, lists, typed answers and a photo
streamed into the encryption, a redelivered message answered once, the note about what Meta
sees, quick exit, and a caseworker's reply delivered (text in the 24-hour window, a template
after it)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.whatsapp import WhatsAppChannel, WhatsAppSettings, WhatsAppSetupError, render
from caseworker.cases import list_queue
from caseworker.followup import queue_reply
from flows import Reply
from intake.home import Home
from intake.service import IntakeService
from tests.fakes.whatsapp_server import APP_SECRET, PHONE_ID, TOKEN, FakeCloudAPI, Sent
from tests.support import PASSPHRASE, Clock, home_files, open_report
from tests.web.live import serve, wait_until

WA_ID = "96170123456"
PHOTO = b"\x89PNG\r\n\x1a\n" + b"UNIQUE-WA-PHOTO-5d2c" * 5000


@pytest.fixture
def cloud() -> Iterator[FakeCloudAPI]:
    fake = FakeCloudAPI().start()
    yield fake
    fake.stop()


class Bot:
    def __init__(self, channel: WhatsAppChannel, url: str, cloud: FakeCloudAPI) -> None:
        self.channel, self.url, self.cloud = channel, url, cloud

    def post(self, body: bytes, signature: str | None = None) -> int:
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature or self.cloud.sign(body),
        }
        return httpx.post(self.url + "/whatsapp", content=body, headers=headers).status_code

    def send(self, message: dict[str, Any], wa_id: str = WA_ID) -> list[Sent]:
        before = len(self.cloud.sent_to(wa_id))
        body = self.cloud.webhook_body(wa_id, message)
        assert self.post(body) == 200
        assert wait_until(
            lambda: len(self.cloud.sent_to(wa_id)) > before and not self.channel._tasks, 20
        )
        time.sleep(0.05)
        return self.cloud.sent_to(wa_id)[before:]


@pytest.fixture
def bot(service: IntakeService, cloud: FakeCloudAPI, clock: Clock) -> Iterator[Bot]:
    settings = WhatsAppSettings(
        token=TOKEN,
        phone_id=PHONE_ID,
        app_secret=APP_SECRET,
        verify_token="verify-me",
        api_url=cloud.base_url,
        outbox_interval=0,
    )
    channel = WhatsAppChannel(service, settings, clock=clock)
    with serve(channel.create_app()) as url:
        yield Bot(channel, url, cloud)


def _question(sent: list[Sent]) -> Sent:
    return [s for s in sent if s.type in ("interactive", "text")][-1]


def test_signature_and_verification(bot: Bot) -> None:
    body = bot.cloud.webhook_body(WA_ID, {"type": "text", "text": {"body": "hello"}})
    assert bot.post(body, "sha256=" + "0" * 64) == 401
    assert bot.post(body, bot.cloud.sign(body, "another secret")) == 401
    assert httpx.post(bot.url + "/whatsapp", content=body).status_code == 401
    assert bot.cloud.sent == []  # nothing was read, nothing answered
    ok = httpx.get(
        bot.url + "/whatsapp",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": "verify-me",
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    assert (
        httpx.get(
            bot.url + "/whatsapp",
            params={"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "x"},
        ).status_code
        == 403
    )


def _press(bot: Bot, option: str) -> list[Sent]:
    last = _question(bot.cloud.sent_to(WA_ID))
    assert option in last.option_ids(), (option, last.option_ids(), last.text[:80])
    action = last.body["interactive"]["action"]
    if "buttons" in action:
        title = next(b["reply"]["title"] for b in action["buttons"] if b["reply"]["id"] == option)
        return bot.send(
            {
                "type": "interactive",
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {"id": option, "title": title},
                },
            }
        )
    return bot.send(
        {
            "type": "interactive",
            "interactive": {"type": "list_reply", "list_reply": {"id": option, "title": option}},
        }
    )


def _type(bot: Bot, text: str) -> list[Sent]:
    return bot.send({"type": "text", "text": {"body": text}})


def test_whole_report_through_the_cloud_api_and_a_caseworker_reply(
    bot: Bot, service: IntakeService, clock: Clock
) -> None:
    first = _type(bot, "Hello")
    assert {"ar", "en"} <= set(_question(first).option_ids())
    texts = [s.text for s in _press(bot, "en")]
    assert any("Meta" in t and "phone number" in t for t in texts)  # the honest note
    steps: list[tuple[str, str]] = [
        ("press", "yes"),
        ("press", "yes"),
        ("press", "no"),
        ("press", "yes"),
        ("press", "no"),
        ("press", "no"),
        ("press", "complaint"),
        ("press", "victim"),
        ("press", "no"),
        ("press", "no"),
        ("press", "yes"),
        ("type", "15 March 2024"),
        ("press", "police_station"),
        # a place of detention: the detention questions (issue 18), skipped
        ("type", "/skip"),
        ("type", "/skip"),
        ("type", "/skip"),
        ("type", "/skip"),
        ("type", "/skip"),
        ("type", "/skip"),
        ("type", "Central station, Al-Hamra district"),
        ("type", "Lebanon"),
        ("type", "1, 3"),
        ("type", "/skip"),
        ("type", "1,5"),
        ("type", "They kept me three days and beat me with cables."),
        ("type", "/skip"),
        ("type", "Bruises on my back"),
        ("type", "/skip"),
        ("press", "no"),
    ]
    for how, value in steps:
        (_press if how == "press" else _type)(bot, value)
    # the evidence question: a photo, fetched from the Cloud API as a stream
    media_id = bot.cloud.add_media(PHOTO, "image/png")
    bot.send(
        {
            "type": "image",
            "image": {
                "id": media_id,
                "mime_type": "image/png",
                "sha256": hashlib.sha256(PHOTO).hexdigest(),
            },
        }
    )
    sent = _press(bot, "done")
    for _ in range(20):
        question = _question(sent)
        if any("Central station" in m.text for m in sent) and "yes" in question.option_ids():
            break  # the summary before sending
        sent = _type(bot, "/skip")
    sent = _press(bot, "yes")
    receipt = next(
        s
        for s in sent
        if s.type == "text"
        and "-" in s.text
        and len([w for w in s.text.split() if w.count("-") == 7]) == 1
    )
    queued = list_queue(service.db)
    assert len(queued) == 1
    ref = queued[0].case_ref
    assert ref in receipt.text
    report = open_report(service, ref)
    assert report["fields"]["narrative"] == "They kept me three days and beat me with cables."
    assert report["fields"]["violation_types"] == ["beating", "threats"]
    assert [(a["size"], a["sha256"]) for a in report["attachments"]] == [
        (len(PHOTO), hashlib.sha256(PHOTO).hexdigest())
    ]
    # A caseworker writes back inside the 24-hour window: a text message.
    pepper = Home(service.settings.home).pepper()
    queue_reply(
        service.db, pepper, ref, "demo", PASSPHRASE, "Are you safe now?", now=service._now()
    )
    assert bot.channel.deliver_outbox() == 1
    assert any("Are you safe now?" in s.text for s in bot.cloud.sent_to(WA_ID)[-3:])
    # After 24 hours only a template may go: it names the case, never the reply.
    clock.advance(25 * 3600)
    queue_reply(
        service.db,
        pepper,
        ref,
        "demo",
        PASSPHRASE,
        "We found a lawyer for you.",
        now=service._now(),
    )
    before = len(bot.cloud.sent_to(WA_ID))
    assert bot.channel.deliver_outbox() == 0
    template = bot.cloud.sent_to(WA_ID)[before:]
    assert [s.type for s in template] == ["template"]
    body = template[0].body["template"]
    assert body["name"] == "sanad_reply" and body["language"]["code"] in ("en", "ar")
    assert "lawyer" not in str(body) and ref in str(body)
    assert bot.channel.deliver_outbox() == 0  # not sent twice
    # The reporter writes back: the window opens and the reply is delivered.
    later = _type(bot, "Hello again")
    assert any(
        "We found a lawyer for you." in s.text for s in later + bot.cloud.sent_to(WA_ID)[-4:]
    )
    # Nothing in clear at rest: no phone number, no answer, no photo.
    service.db.dispose()
    for path in home_files(service.settings.home):
        data = path.read_bytes()
        for needle in (WA_ID.encode(), b"Al-Hamra", b"cables", b"UNIQUE-WA-PHOTO", b"lawyer"):
            assert needle not in data, f"{needle!r} in clear in {path.name}"


def test_a_redelivered_message_is_answered_once(bot: Bot, service: IntakeService) -> None:
    _type(bot, "/start")
    body = bot.cloud.webhook_body(
        WA_ID,
        {
            "type": "interactive",
            "interactive": {
                "type": "button_reply",
                "button_reply": {"id": "en", "title": "English"},
            },
        },
    )
    assert bot.post(body) == 200
    assert wait_until(lambda: not bot.channel._tasks and bot.channel.handled >= 2, 20)
    count = len(bot.cloud.sent_to(WA_ID))
    assert bot.post(body) == 200  # WhatsApp delivers the same message again
    time.sleep(0.5)
    assert wait_until(lambda: not bot.channel._tasks, 20)
    assert len(bot.cloud.sent_to(WA_ID)) == count
    question = _question(bot.cloud.sent_to(WA_ID))
    assert "yes" in question.option_ids()  # one step on (consent), not two


def test_quick_exit_says_the_copy_stays_on_the_phone(bot: Bot) -> None:
    _type(bot, "/start")
    _press(bot, "ar")
    sent = _type(bot, "/exit")
    assert any("واتساب" in s.text and "حذف" in s.text for s in sent)


def test_options_become_buttons_lists_or_numbers() -> None:
    yes_no = Reply("Q?", "bool", "en", "x", (("yes", "Yes"), ("no", "No")))
    assert render(yes_no, "Choose", "hint")[-1].buttons == yes_no.options
    many = Reply("Q?", "choice", "en", "x", tuple((f"o{i}", f"Option {i}") for i in range(7)))
    assert render(many, "Choose", "hint")[-1].rows == many.options
    multi = Reply("Q?", "multi", "en", "x", (("a", "Alpha"), ("b", "Beta")))
    out = render(multi, "Choose", "Reply with numbers")[-1]
    assert not out.buttons and not out.rows and "1. Alpha" in out.text
    assert "Reply with numbers" in out.text
    arabic = Reply("؟", "multi", "ar", "x", (("a", "ألف"), ("b", "باء")))
    assert "١. ألف\n٢. باء" in render(arabic, "اختر", "أرقام")[-1].text


def test_settings_are_checked() -> None:
    with pytest.raises(WhatsAppSetupError, match="SANAD_WHATSAPP_TOKEN"):
        WhatsAppSettings.from_env({})
    env = {
        "SANAD_WHATSAPP_TOKEN": "t",
        "SANAD_WHATSAPP_PHONE_ID": "+961 70 123",
        "SANAD_WHATSAPP_APP_SECRET": "s",
        "SANAD_WHATSAPP_VERIFY_TOKEN": "v",
    }
    with pytest.raises(WhatsAppSetupError, match="numeric"):
        WhatsAppSettings.from_env(env)
    assert (
        WhatsAppSettings.from_env({**env, "SANAD_WHATSAPP_PHONE_ID": "1065"}).template
        == "sanad_reply"
    )


@pytest.mark.skipif(
    __import__("bot.voice", fromlist=["check"]).check() is not None,
    reason="espeak-ng or ffmpeg missing (.ci/run installs them when root)",
)
def test_voice_asks_each_question_also_as_an_opus_voice_note(bot: Bot) -> None:
    from bot.voice import ogg_opus_seconds

    _type(bot, "/start")
    _press(bot, "en")
    sent = _type(bot, "/voice")
    assert any("voice note" in s.text for s in sent)
    audio = [s for s in sent if s.type == "audio"]
    assert len(audio) == 1
    media_id = audio[0].body["audio"]["id"]
    mime, data = bot.cloud.uploads[media_id]
    assert mime.startswith("audio/ogg") and 1 < ogg_opus_seconds(data) < 120
    sent = _press(bot, "yes")  # the next question comes with its own note
    assert [s.type for s in sent][-1] == "audio"
    sent = _type(bot, "/voice off")
    assert all(s.type != "audio" for s in sent)
