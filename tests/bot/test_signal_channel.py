"""The Signal channel with the real signalbot client against a loopback signal-cli-rest-api:
whole reports in both languages with a photo and a voice note, numbered answers, quick exit,
the disappearing timer, exactly-once handling, the receive watchdog, and no identifiers or
answers in clear anywhere on disk or in the logs."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import pytest

from caseworker.followup import queue_reply
from intake.home import Home
from intake.service import Incoming, IntakeService
from tests.bot.signal_harness import Reporter, run, signal_bot
from tests.intake.test_conversations import (
    COMPLAINT_EN,
    COMPLAINT_EN_EXPECTED,
    REPRISAL_AR,
    REPRISAL_AR_EXPECTED,
)
from tests.support import PASSPHRASE, open_report

PHOTO = b"\xff\xd8\xff\xe0" + b"a photo of the bruises, pixel by pixel " * 2500  # ~100 kB
VOICE = b"OggS\x00\x02" + bytes(range(256)) * 700  # ~180 kB, several stream chunks
FILE = "file"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _converse(reporter: Reporter, script: list[tuple[str, Any]]) -> list[str]:
    """Send each line (or file) of a script; return everything the bot wrote back."""
    seen: list[str] = []
    for _field, line in script:
        if isinstance(line, tuple) and line[0] == FILE:
            _, data, ctype, name, voice = line
            seen += await reporter.send_file(data, ctype, name, voice)
        else:
            seen += await reporter.say(line)
    return seen


def _case_ref(texts: list[str], service: IntakeService) -> str:
    from storage.models import Case

    with service.db.transaction() as session:
        refs = [c.case_ref for c in session.query(Case).all()]
    found = [ref for ref in refs if any(ref in t for t in texts)]
    assert len(found) == 1, f"no single receipt among the replies ({len(refs)} cases)"
    return found[0]


def _english_script() -> list[tuple[str, Any]]:
    script: list[tuple[str, Any]] = [("greeting", "Hello")]
    for field, line in COMPLAINT_EN:
        if line == "/attach {photo}":
            script.append((field, (FILE, PHOTO, "image/jpeg", "injury.jpg", False)))
            script.append((field, (FILE, VOICE, "audio/ogg", None, True)))
        else:
            script.append((field, line))
    return script


def _arabic_script() -> list[tuple[str, Any]]:
    script: list[tuple[str, Any]] = [("greeting", "السلام عليكم")]
    for field, line in REPRISAL_AR:
        if field == "narrative":  # an oral report (San José para 11)
            script.append((field, (FILE, VOICE, "audio/aac", None, True)))
        elif field == "evidence":
            script.append((field, (FILE, PHOTO, "image/png", "صورة.png", False)))
            script.append((field, "تم"))
        else:
            script.append((field, line))
    return script


def test_whole_english_report_with_a_photo_and_a_voice_note(service: IntakeService) -> None:
    async def scenario() -> tuple[list[str], dict[str, Any]]:
        async with signal_bot(service) as (server, channel):
            reporter = Reporter.new(server, channel)
            texts = await _converse(reporter, _english_script())
            return texts, {
                "deleted": list(server.record.attachment_deletes),
                "downloads": list(server.record.downloads),
            }

    texts, remote = run(scenario)
    # Numbered options, in the catalogue's words (Signal has no buttons)
    assert any(t.endswith("1. Yes\n2. No\n3. I don't know") for t in texts)
    report = open_report(service, _case_ref(texts, service))
    fields = dict(report["fields"])
    assert fields.pop("incident_date")["iso"] == "2024-03-15"
    assert len(fields.pop("evidence")) == 2
    assert fields == COMPLAINT_EN_EXPECTED
    assert sorted(report["attachments"], key=lambda a: a["name"]) == [
        {
            "name": "injury.jpg",
            "size": len(PHOTO),
            "sha256": _sha(PHOTO),
            "content_type": "image/jpeg",
            "field": "evidence",
        },
        {
            "name": "voice-note.oga",
            "size": len(VOICE),
            "sha256": _sha(VOICE),
            "content_type": "audio/ogg",
            "field": "evidence",
        },
    ]
    # Each file fetched once, then its clear copy removed from the REST API's disk
    assert len(remote["downloads"]) == 2 and remote["deleted"] == remote["downloads"]


def test_whole_arabic_report_told_in_a_voice_note_with_a_photo(service: IntakeService) -> None:
    async def scenario() -> list[str]:
        async with signal_bot(service) as (server, channel):
            return await _converse(Reporter.new(server, channel), _arabic_script())

    texts = run(scenario)
    assert any("1. نعم\n2. لا" in t for t in texts)
    report = open_report(service, _case_ref(texts, service))
    fields = dict(report["fields"])
    fields.pop("cooperation_when")
    narrative = fields.pop("narrative")
    evidence = fields.pop("evidence")
    expected = {k: v for k, v in REPRISAL_AR_EXPECTED.items() if k != "narrative"}
    assert fields == expected
    by_name = {a["name"]: a for a in report["attachments"]}
    voice = by_name["voice-note.aac"]
    assert (voice["size"], voice["sha256"], voice["field"]) == (
        len(VOICE),
        _sha(VOICE),
        "narrative",
    )
    assert by_name["صورة.png"]["sha256"] == _sha(PHOTO)
    assert len(narrative["attachments"]) == 1 and len(evidence) == 1


def test_numbers_words_and_commands_are_answers(service: IntakeService) -> None:
    async def scenario() -> dict[str, list[str]]:
        async with signal_bot(service) as (server, channel):
            r = Reporter.new(server, channel)
            out = {"hello": await r.say("hi"), "lang": await r.say("2")}
            out["consent"] = await r.say("yes please")
            out["help"] = await r.say("/help")
            out["status"] = await r.say("/status")
            out["ar"] = await r.say("/lang ar")
            out["three"] = await r.say("٣")  # Arabic-Indic three: "I don't know"
            return out

    out = run(scenario)
    assert out["hello"][-1].endswith("1. العربية\n2. English")
    assert out["lang"][0].startswith("Welcome to Sanad")
    assert out["consent"][-1].startswith("May a caseworker write to you later")
    assert out["help"][0] == service.flows.text("en", "consent.followup.help")
    assert "receipt code" in out["status"][0]
    assert out["ar"][0] == service.flows.text("ar", "sys.lang_switched")
    assert out["ar"][-1].endswith("1. نعم\n2. لا\n3. لا أعرف")
    assert out["three"] and out["three"][-1] != out["ar"][-1]  # moved on to the next question


def test_quick_exit_remotely_deletes_every_bot_message(service: IntakeService) -> None:
    async def scenario() -> dict[str, Any]:
        async with signal_bot(service) as (server, channel):
            r = Reporter.new(server, channel)
            for line in ("hello", "en", "yes"):
                await r.say(line)
            before = [ts for b in server.sent_to(r.uuid) for ts in b["_timestamps"]]
            exit_texts = await r.say("/exit")
            left = await _messages_of(service, r.uuid)
            return {
                "before": before,
                "deletes": list(server.record.remote_deletes),
                "texts": exit_texts,
                "left": left,
                "uuid": r.uuid,
            }

    out = run(scenario)
    assert sorted(d["timestamp"] for d in out["deletes"]) == sorted(map(int, out["before"]))
    assert {d["recipient"] for d in out["deletes"]} == {out["uuid"]}
    assert out["texts"] == [
        service.flows.text("en", "sys.quick_exit_done")
        + "\n\n"
        + service.flows.text("en", "signal.exit.own_messages")
    ]
    assert len(out["left"]) == len(out["texts"])  # only what was said after the erasure


async def _messages_of(service: IntakeService, user: str) -> list[tuple[str, str]]:
    import asyncio

    return await asyncio.to_thread(service.messages_of, Incoming("signal", user))


def test_disappearing_timer_is_set_before_the_first_reply(service: IntakeService) -> None:
    async def scenario() -> dict[str, Any]:
        async with signal_bot(service, disappear_seconds=3600) as (server, channel):
            r = Reporter.new(server, channel)
            await r.say("hello")
            await r.say("en")  # the phone now sends with the timer on: not set again
            shorter = Reporter.new(server, channel)
            await shorter.push(shorter.frame("hello", expires=600))  # reporter's own choice
            return {
                "contacts": list(server.record.contacts),
                "calls": list(server.record.calls),
                "uuid": r.uuid,
            }

    out = run(scenario)
    assert out["contacts"] == [{"recipient": out["uuid"], "expiration_in_seconds": 3600}]
    assert out["calls"][0] == "contacts" and out["calls"][1] == "send"


def test_a_redelivered_frame_is_handled_once_even_after_a_restart(service: IntakeService) -> None:
    async def scenario() -> tuple[list[str], list[str], list[str]]:
        async with signal_bot(service) as (server, channel):
            r = Reporter.new(server, channel)
            await r.say("hello")
            frame = r.frame("en")
            first = await r.push(frame)
            again = await r.push(frame)
        async with signal_bot(service) as (server2, channel2):
            r2 = Reporter(server2, channel2, r.uuid)
            after_restart = await r2.push({**frame, "account": server2.number})
        return first, again, after_restart

    first, again, after_restart = run(scenario)
    assert first[0].startswith("Welcome to Sanad")
    assert again == [] and after_restart == []


def test_watchdog_reconnects_after_a_clean_close(service: IntakeService) -> None:
    async def scenario() -> tuple[int, int, list[str]]:
        async with signal_bot(service) as (server, channel):
            r = Reporter.new(server, channel)
            await r.say("hello")
            await server.close_receive()  # signalbot alone would never read again
            await server.wait_for(lambda: server.receive_connections >= 2)
            texts = await r.say("en")
            assert channel.watchdog is not None
            return server.receive_connections, channel.watchdog.restarts, texts

    connections, restarts, texts = run(scenario)
    assert connections == 2 and restarts == 1
    assert texts[0].startswith("Welcome to Sanad")


def test_malformed_and_own_device_frames_are_skipped_without_reconnecting(
    service: IntakeService,
) -> None:
    async def scenario() -> dict[str, Any]:
        async with signal_bot(service) as (server, channel):
            r = Reporter.new(server, channel)
            broken = r.frame("hello")
            del broken["envelope"]["serverReceivedTimestamp"]
            await server.push(broken)
            await server.push("not json at all")
            sync = r.frame("/exit")  # typed on a linked device of the bot's own account
            sync["envelope"]["syncMessage"] = {
                "sentMessage": {**sync["envelope"].pop("dataMessage"), "destinationUuid": r.uuid}
            }
            await server.push(sync)
            texts = await r.say("hello")
            return {
                "texts": texts,
                "connections": server.receive_connections,
                "handled": channel.stats.handled,
                "sent": len(server.sent_to(r.uuid)),
            }

    out = run(scenario)
    assert out["connections"] == 1 and out["handled"] == 1
    assert out["sent"] == len(out["texts"]) and out["texts"][-1].endswith("2. English")


def test_files_over_the_limit_or_of_other_types_are_refused_clearly(service: IntakeService) -> None:
    async def scenario() -> dict[str, Any]:
        async with signal_bot(service, max_attachment_bytes=2 * 2**20) as (server, channel):
            r = Reporter.new(server, channel)
            for line in ("hello", "en"):
                await r.say(line)
            declared = server.upload(b"x" * 100, "image/jpeg", "big.jpg")
            too_large = await r.push(r.frame(attachments=[declared.entry(3 * 2**20)]))
            exe = await r.send_file(b"MZ" * 10, "application/x-msdownload", "tool.exe")
            return {
                "too_large": too_large,
                "exe": exe,
                "downloads": server.record.downloads,
                "deleted": server.record.attachment_deletes,
            }

    out = run(scenario)
    assert out["too_large"] == [service.flows.text("en", "signal.file.too_large", max_mb="2")]
    assert out["exe"] == [service.flows.text("en", "signal.file.type")]
    assert out["downloads"] == [] and len(out["deleted"]) == 2  # refused unread, then removed


def test_a_file_larger_than_it_claims_is_cut_off_and_refused(make_service: Any) -> None:
    service = make_service(max_attachment_bytes=100_000)

    async def scenario() -> list[str]:
        async with signal_bot(service) as (server, channel):
            r = Reporter.new(server, channel)
            for line in ("hello", "en"):
                await r.say(line)
            liar = server.upload(PHOTO * 3, "image/jpeg", "p.jpg")
            return await r.push(r.frame(attachments=[liar.entry(declared_size=10)]))

    texts = run(scenario)
    assert texts == [service.flows.text("en", "sys.attachment.rejected")]
    assert not [p for p in (service.settings.attachments_dir).rglob("*") if p.is_file()]


def test_each_reporter_is_answered_in_order_and_groups_are_ignored(service: IntakeService) -> None:
    async def scenario() -> dict[str, Any]:
        async with signal_bot(service) as (server, channel):
            a, b = Reporter.new(server, channel), Reporter.new(server, channel)
            start = channel.stats.handled
            group = server.frame(a.uuid, "hello group", group_id="Z3JvdXA=")
            frames = [
                a.frame("hello"),
                b.frame("مرحبا"),
                a.frame("en"),
                b.frame("1"),
                a.frame("yes"),
                b.frame("نعم"),
            ]
            for frame in [group, *frames]:  # all at once: no waiting between them
                await server.push(frame)
            await channel.wait_handled(start + len(frames))
            return {
                "a": [m["message"] for m in server.sent_to(a.uuid)],
                "b": [m["message"] for m in server.sent_to(b.uuid)],
                "group": server.sent_to("Z3JvdXA="),
                "handled": channel.stats.handled,
            }

    out = run(scenario)
    # The same three steps on both sides, each in its own language: nothing crossed over
    assert out["a"][-1].startswith("May a caseworker write to you later")
    assert out["b"][-1].endswith("1. نعم\n2. لا\n3. لا أعرف")
    assert out["b"][-1] != out["a"][-1] and len(out["a"]) == len(out["b"])
    assert out["group"] == [] and out["handled"] == 6  # groups never reach the intake


def test_caseworker_reply_is_delivered_and_the_answer_appended(service: IntakeService) -> None:
    """`sanad reply` queues; the running bot delivers through the reporter's Signal chat."""
    script = [
        ("g", "hello"),
        ("language", "en"),
        ("consent_store", "yes"),
        ("consent_followup", "yes"),
        ("consent_share_identity", "no"),
        ("consent_refer", "no"),
        ("consent_stats", "no"),
        ("consent_publish", "no"),
        ("report_type", "reprisal"),
    ]

    async def scenario() -> dict[str, Any]:
        async with signal_bot(service) as (server, channel):
            r = Reporter.new(server, channel)
            await _converse(r, script)
            texts: list[str] = []
            for _ in range(40):
                texts = await r.say("/skip")
                if any("Send this report now?" in t for t in texts):
                    break
            texts = await r.say("yes")
            case_ref = _case_ref(texts, service)
            pepper = Home(service.settings.home).pepper()
            queue_reply(
                service.db,
                pepper,
                case_ref,
                "demo",
                PASSPHRASE,
                "Are you safe where you are now?",
                now=service._now(),
            )
            before = len(server.sent_to(r.uuid))
            await channel.deliver_outbox()
            await server.wait_for(lambda: len(server.sent_to(r.uuid)) >= before + 2)
            delivered = [m["message"] for m in server.sent_to(r.uuid)[before:]]
            answer = await r.say("Yes, for now. Thank you.")
            return {"case_ref": case_ref, "delivered": delivered, "answer": answer}

    out = run(scenario)
    assert "Are you safe where you are now?" in out["delivered"][0]
    assert out["delivered"][1].endswith("1. Done")
    shown = open_report(service, out["case_ref"])
    assert "Yes, for now. Thank you." in shown["fields"].values()


def test_no_number_uuid_or_answer_in_clear_on_disk_or_in_logs(
    service: IntakeService, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    number = "+12025550199"
    secret = "Officer Karim Haddad beat me in cell 14"
    script = [
        ("g", "hello"),
        ("language", "en"),
        ("consent_store", "yes"),
        ("consent_followup", "yes"),
        ("consent_share_identity", "no"),
        ("consent_refer", "no"),
        ("consent_stats", "no"),
        ("consent_publish", "no"),
        ("report_type", "complaint"),
        ("reporter_role", "1"),
        ("reporter_is_child", "no"),
        ("current_danger", "no"),
        ("ongoing", "no"),
        ("incident_date", "/skip"),
        ("place_type", "/skip"),
        ("incident_location", secret),
    ]

    async def scenario() -> str:
        async with signal_bot(service) as (server, channel):
            logging.getLogger("signalbot").setLevel(logging.DEBUG)  # even raw-frame logging
            try:
                r = Reporter.new(server, channel, number=number)
                await _converse(r, script)
                await r.send_file(PHOTO, "image/jpeg", "cell.jpg")
                for _ in range(40):
                    texts = await r.say("/skip")
                    if any("Send this report now?" in t for t in texts):
                        break
                texts = await r.say("yes")
                _case_ref(texts, service)
                return r.uuid
            finally:
                logging.getLogger("signalbot").setLevel(logging.WARNING)

    user_uuid = run(scenario)
    needles = {
        "uuid": user_uuid.encode(),
        "uuid-hex": user_uuid.replace("-", "").encode(),
        "number": number.encode(),
        "number-digits": number[1:].encode(),
        "answer": secret.encode(),
        "photo": PHOTO[:64],
    }
    service.db.dispose()
    for path in service.settings.home.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            for name, needle in needles.items():
                assert needle not in blob, f"{name} in clear in {path.name}"
    captured = capfd.readouterr()
    logs = "\n".join(r.getMessage() for r in caplog.records) + captured.out + captured.err
    for name, needle in needles.items():
        if name != "photo":
            assert needle.decode() not in logs, f"{name} in the logs"
    assert any(r.name == "sanad.signal" for r in caplog.records)


def test_config_from_the_environment_checks_every_value() -> None:
    from bot.signal import SignalConfig
    from intake.settings import SettingsError

    env = {"SANAD_SIGNAL_SERVICE": "127.0.0.1:8080", "SANAD_SIGNAL_NUMBER": "+12025550123"}
    cfg = SignalConfig.from_env(env, 1024)
    assert (cfg.disappear_seconds, cfg.max_attachment_bytes) == (86400, 1024)
    assert "+12025550123" not in repr(cfg)
    assert (
        SignalConfig.from_env({**env, "SANAD_SIGNAL_DISAPPEAR_SECONDS": "0"}, 1).disappear_seconds
        == 0
    )
    for bad in (
        {"SANAD_SIGNAL_SERVICE": "http://127.0.0.1:8080"},
        {"SANAD_SIGNAL_SERVICE": ""},
        {"SANAD_SIGNAL_NUMBER": "12025550123"},
        {"SANAD_SIGNAL_DISAPPEAR_SECONDS": "a day"},
        {"SANAD_SIGNAL_DISAPPEAR_SECONDS": "-5"},
    ):
        with pytest.raises(SettingsError):
            SignalConfig.from_env({**env, **bad}, 1)


def test_replies_render_numbered_options() -> None:
    from bot.signal import render_reply
    from flows import Reply

    reply = Reply("Which?", "multi", "en", "x", (("a", "Police"), ("b", "Army")))
    assert render_reply(reply) == "Which?\n\n1. Police\n2. Army"
    assert render_reply(Reply("Hi", "info", "en")) == "Hi"
    assert json.dumps(render_reply(reply))  # plain text, nothing else


def test_an_unhealthy_service_stops_start_up_with_one_sentence(service: IntakeService) -> None:
    from bot.signal import SignalChannel, SignalUnavailable
    from tests.bot.signal_harness import BOT_NUMBER, make_config
    from tests.fakes.signal_server import FakeSignalServer

    async def scenario() -> str:
        server = FakeSignalServer(BOT_NUMBER)
        await server.start()
        server.health_status = 503
        channel = SignalChannel(make_config(server), service, b"k" * 32)
        try:
            with pytest.raises(SignalUnavailable) as caught:
                await channel.start()
            return str(caught.value)
        finally:
            await server.stop()

    message = run(scenario)
    assert message.endswith("cannot be used: its health check answered HTTP 503")
    assert "\n" not in message


def test_coming_back_with_the_receipt_from_another_phone_adds_a_file(
    service: IntakeService,
) -> None:
    script = [
        ("g", "hello"),
        ("language", "en"),
        ("consent_store", "yes"),
        ("consent_followup", "no"),
        ("consent_share_identity", "no"),
        ("consent_refer", "no"),
        ("consent_stats", "no"),
        ("consent_publish", "no"),
        ("report_type", "reprisal"),
    ]

    async def scenario() -> dict[str, Any]:
        async with signal_bot(service) as (server, channel):
            first = Reporter.new(server, channel)
            await _converse(first, script)
            for _ in range(40):
                if any("Send this report now?" in t for t in await first.say("/skip")):
                    break
            texts = await first.say("yes")
            case_ref = _case_ref(texts, service)
            code = next(
                line.split(": ", 1)[1]
                for t in texts
                for line in t.splitlines()
                if line.startswith("Your private receipt code:")
            )
            other_phone = Reporter.new(server, channel)
            status = await other_phone.say(f"/status {code}")
            added = await other_phone.send_file(PHOTO, "image/jpeg", "summons.jpg")
            done = await other_phone.say("done")
            return {"case_ref": case_ref, "status": status, "added": added, "done": done}

    out = run(scenario)
    assert out["case_ref"] in out["status"][0]
    # The service marks the finished addendum as erased: the bot's messages go, as on /exit
    assert out["done"] == [
        service.flows.text("en", "sys.addendum.done")
        + "\n\n"
        + service.flows.text("en", "signal.exit.own_messages")
    ]
    shown = open_report(service, out["case_ref"])
    assert [(a["name"], a["sha256"]) for a in shown["attachments"]] == [
        ("summons.jpg", _sha(PHOTO))
    ]


def test_twenty_reporters_at_once_each_get_their_own_conversation(service: IntakeService) -> None:
    import asyncio

    async def scenario() -> list[list[str]]:
        async with signal_bot(service) as (server, channel):
            reporters = [Reporter.new(server, channel) for _ in range(20)]
            start = channel.stats.handled
            lines = ["hello", "en", "yes", "no"]
            for line in lines:  # every reporter's next line, all in flight together
                await asyncio.gather(*(server.push(r.frame(line)) for r in reporters))
            await channel.wait_handled(start + len(lines) * len(reporters), timeout=30)
            return [[m["message"] for m in server.sent_to(r.uuid)] for r in reporters]

    conversations = run(scenario)
    assert len({len(c) for c in conversations}) == 1  # same steps for all
    assert all(c[-1].startswith("Sometimes we raise a case") for c in conversations)


def test_attachments_reach_the_encryption_as_a_stream_of_small_chunks(
    service: IntakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.signal._files import CHUNK

    sizes: list[int] = []
    real_file = service.file

    def spying_file(src: Incoming, name: str, content_type: str, chunks: Any) -> Any:
        def counted() -> Any:
            for chunk in chunks:
                sizes.append(len(chunk))
                yield chunk

        return real_file(src, name, content_type, counted())

    monkeypatch.setattr(service, "file", spying_file)

    async def scenario() -> None:
        async with signal_bot(service) as (server, channel):
            r = Reporter.new(server, channel)
            for line in ("hello", "en"):
                await r.say(line)
            await r.send_file(VOICE, "audio/ogg", None, voice=True)

    run(scenario)
    assert sum(sizes) == len(VOICE) and len(sizes) >= 3 and max(sizes) <= CHUNK
