"""The web chat over real HTTP (uvicorn on loopback, httpx as the browser would post): the
contract's page structure, one cookie, no-store and a CSP without scripts, a form sent twice
handled once, the per-session budget, a file streamed into the attachment encryption, quick
exit. The whole report in a browser with JavaScript off is in tests/web/test_webchat_browser.py.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from bot.webchat import WebChat
from bot.webchat_settings import WebchatSettings, WebchatSetupError
from intake.service import Incoming, IntakeService
from tests.support import open_report
from tests.web.live import serve


def _form(html: str, field: str | None = None) -> dict[str, str]:
    """The question form's attributes and its nonce."""
    match = re.search(
        r'<form method="post" action="/"(?: enctype="multipart/form-data")? '
        r'data-field="([^"]*)" data-kind="([^"]*)"[^>]*>\s*'
        r'<input type="hidden" name="t" value="([^"]+)">',
        html,
    )
    assert match, "no question form on the page"
    if field is not None:
        assert match.group(1) == field, f"asked {match.group(1)}, expected {field}"
    return {"field": match.group(1), "kind": match.group(2), "t": match.group(3)}


@pytest.fixture
def chat_url(service: IntakeService) -> Iterator[str]:
    with serve(WebChat(service, WebchatSettings(session_burst=400)).create_app()) as url:
        yield url


def _answer(client: httpx.Client, field: str, answer: str | list[str]) -> str:
    page = client.get("/")
    form = _form(page.text, field)
    answers = answer if isinstance(answer, list) else [answer]
    sent = client.post("/", data={"t": form["t"], "answer": answers})
    assert sent.status_code == 200, sent.text[:300]
    return sent.text


OPENING = [
    ("language", "en"),
    ("consent_store", "yes"),
    ("consent_followup", "no"),
    ("consent_share_identity", "no"),
    ("consent_refer", "no"),
    ("consent_stats", "no"),
    ("consent_publish", "no"),
    ("report_type", "complaint"),
    ("reporter_role", "victim"),
    ("reporter_is_child", "no"),
    ("current_danger", "no"),
    ("ongoing", "no"),
]


def test_pages_have_the_contract_structure_and_headers(chat_url: str) -> None:
    with httpx.Client(base_url=chat_url, follow_redirects=True) as client:
        first = client.get("/", headers={"Accept-Language": "ar"})
        assert first.status_code == 200
        assert first.headers["cache-control"] == "no-store"
        csp = first.headers["content-security-policy"]
        assert "script-src 'none'" in csp and "default-src 'none'" in csp
        cookies = first.headers.get_list("set-cookie")
        assert len(cookies) == 1 and cookies[0].startswith("sanad_chat=")
        assert "httponly" in cookies[0].lower() and "samesite=strict" in cookies[0].lower()
        assert "expires" not in cookies[0].lower() and "max-age" not in cookies[0].lower()
        assert '<html lang="ar" dir="rtl">' in first.text
        assert 'data-action="quick-exit"' in first.text
        assert (
            "<script" not in first.text
            and "http://" not in first.text.replace(chat_url, "")
            and "https://" not in first.text
        )
        form = _form(first.text, "language")
        assert 'name="answer" value="en"' in first.text
        assert form["kind"] == "choice"
        for field, answer in OPENING:
            html = _answer(client, field, answer)
        assert '<html lang="en" dir="ltr">' in html
        form = _form(html, "incident_date")
        assert form["kind"] == "date" and '<textarea name="answer"' in html
        assert 'value="/skip"' in html
        # no other cookie ever came
        assert set(client.cookies.keys()) == {"sanad_chat"}


def test_a_form_sent_twice_is_handled_once(chat_url: str, service: IntakeService) -> None:
    with httpx.Client(base_url=chat_url, follow_redirects=True) as client:
        for field, answer in OPENING[:3]:
            _answer(client, field, answer)
        form = _form(client.get("/").text, "consent_share_identity")
        for _ in range(2):  # a double click, or a resubmission after a lost answer
            page = client.post("/", data={"t": form["t"], "answer": "no"})
            assert page.status_code == 200
        # the second post was a replay: still at the next question, not two steps on
        assert _form(page.text)["field"] == "consent_refer"
        # a form of another session is refused, not answered
        with httpx.Client(base_url=chat_url, follow_redirects=True) as other:
            other.get("/")
            refused = other.post("/", data={"t": form["t"], "answer": "no"})
            assert refused.status_code == 400
            assert "out of date" in refused.text or "قديمة" in refused.text
        # and a post without any nonce (a cross-site form) too
        assert client.post("/", data={"answer": "yes"}).status_code == 400


def test_per_session_budget_not_ip(service: IntakeService) -> None:
    chat = WebChat(service, WebchatSettings(session_burst=3, session_per_minute=1))
    with serve(chat.create_app()) as url:
        with httpx.Client(base_url=url, follow_redirects=True) as client:
            client.get("/", params={"lang": "en"})
            statuses = []
            for _ in range(5):
                form = _form(client.get("/").text)
                statuses.append(
                    client.post("/", data={"t": form["t"], "answer": "/help"}).status_code
                )
            assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
            slowed = client.post("/", data={"t": form["t"], "answer": "/help"})
            assert "very fast" in slowed.text and 'data-action="quick-exit"' in slowed.text
            # another session from the same address is not slowed down
            with httpx.Client(base_url=url, follow_redirects=True) as other:
                other.get("/", params={"lang": "en"})
                form = _form(other.get("/").text)
                assert other.post("/", data={"t": form["t"], "answer": "en"}).status_code == 200


def test_new_conversations_have_a_server_wide_budget(service: IntakeService) -> None:
    chat = WebChat(service, WebchatSettings(new_burst=2, new_per_minute=0.1))
    with serve(chat.create_app()) as url:
        got = [httpx.get(url + "/", params={"lang": "en"}).status_code for _ in range(3)]
    assert got == [200, 200, 503]


def test_file_streams_into_the_encryption_and_reaches_the_case(service: IntakeService) -> None:
    content = b"UNIQUE-UPLOAD-BYTES-91ac " * 30_000  # 750 kB, many request chunks
    with serve(WebChat(service, WebchatSettings(session_burst=400)).create_app()) as url:
        with httpx.Client(base_url=url, follow_redirects=True) as client:
            client.get("/")
            script = [
                *OPENING,
                ("incident_date", "/skip"),
                ("place_type", "prison"),
                # a place of detention: the detention questions (issue 18)
                ("arrest_date", "/skip"),
                ("arrest_time", "/skip"),
                ("place_official", "/skip"),
                ("place_name", "/skip"),
                ("safeguards_denied", "/skip"),
                ("interrogated", "/skip"),
                ("incident_location", "/skip"),
                ("country", "/skip"),
                ("perpetrator_type", "/skip"),
                ("perpetrator_description", "/skip"),
                ("violation_types", "/skip"),
                ("narrative", "/skip"),
                ("witnesses", "/skip"),
                ("injuries", "/skip"),
                ("psychological_symptoms", "/skip"),
                ("medical_exam", "/skip"),
            ]
            for field, answer in script:
                _answer(client, field, answer)
            form = _form(client.get("/").text, "evidence")
            assert form["kind"] == "files"
            page = client.post(
                "/", data={"t": form["t"]}, files={"file": ("bruises.png", content, "image/png")}
            )
            assert page.status_code == 200
            form = _form(page.text, "evidence")
            page = client.post("/", data={"t": form["t"], "answer": "done"})
            while (form := _form(page.text))["field"] != "confirm_submit":
                page = client.post("/", data={"t": form["t"], "answer": "/skip"})
            page = client.post("/", data={"t": form["t"], "answer": "yes"})
            match = re.search(r'data-case-ref="([^"]+)" data-receipt="([^"]+)"', page.text)
            assert match, page.text[-800:]
    report = open_report(service, match.group(1))
    assert [(a["name"], a["size"], a["sha256"]) for a in report["attachments"]] == [
        ("bruises.png", len(content), hashlib.sha256(content).hexdigest())
    ]
    stored = [p for p in (service.settings.home / "attachments").rglob("*") if p.is_file()]
    assert stored and all(b"UNIQUE-UPLOAD-BYTES" not in p.read_bytes() for p in stored)


def test_quick_exit_erases_the_draft_and_leaves(chat_url: str, service: IntakeService) -> None:
    with httpx.Client(base_url=chat_url) as client:
        client.get("/")
        token = client.cookies["sanad_chat"]
        for field, answer in OPENING[:5]:
            page = client.get("/")
            form = _form(page.text, field)
            client.post("/", data={"t": form["t"], "answer": answer})
        left = client.post("/exit")
        assert left.status_code == 303 and left.headers["location"] == "/about"
        assert (
            'sanad_chat=""' in left.headers["set-cookie"]
            or "max-age=0" in left.headers["set-cookie"].lower()
        )
        assert "cookies" in left.headers["clear-site-data"]
        neutral = client.get("/about")
        assert "Sanad" not in neutral.text and "سند" not in neutral.text
    sid = token.split(".")[0]
    again = service.open(Incoming("webchat", sid))
    assert all(r.field != "resume" for r in again.replies)  # nothing left to resume


def test_settings_are_checked() -> None:
    assert WebchatSettings.from_env({}).session_burst == 40
    with pytest.raises(WebchatSetupError, match="SANAD_WEBCHAT_SESSION_BURST"):
        WebchatSettings.from_env({"SANAD_WEBCHAT_SESSION_BURST": "lots"})
    with pytest.raises(WebchatSetupError, match="SANAD_WEBCHAT_EXIT_URL"):
        WebchatSettings.from_env({"SANAD_WEBCHAT_EXIT_URL": "javascript:alert(1)"})
    assert replace(WebchatSettings(), secure_cookie=True).secure_cookie


@pytest.mark.skipif(
    __import__("bot.voice", fromlist=["check"]).check() is not None,
    reason="espeak-ng or ffmpeg missing (.ci/run installs them when root)",
)
def test_voice_button_adds_the_question_as_an_opus_note(chat_url: str) -> None:
    from bot.voice import ogg_opus_seconds

    with httpx.Client(base_url=chat_url, follow_redirects=True) as client:
        page = client.get("/")
        assert "<audio" not in page.text and 'value="/voice"' in page.text
        form = _form(page.text, "language")
        page = client.post("/", data={"t": form["t"], "answer": "/voice"})
        assert "<audio controls" in page.text and _form(page.text)["field"] == "language"
        note = client.get("/voice.ogg")
        assert note.headers["content-type"] == "audio/ogg"
        assert note.headers["cache-control"] == "no-store"
        assert 2 < ogg_opus_seconds(note.content) < 30
        page = _answer(client, "language", "en")
        assert "<audio controls" in page  # every question from now on
        english = client.get("/voice.ogg").content
        assert english != note.content
        form = _form(page)
        page = client.post("/", data={"t": form["t"], "answer": "/voice off"}).text
        assert "<audio" not in page and client.get("/voice.ogg").status_code == 404
