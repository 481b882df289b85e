"""Alerts reach every route kind (loopback Telegram, Signal, webhook and SMTP servers) with the
case reference, priority and age, and nothing a reporter wrote."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse
from datetime import timedelta

from sqlalchemy import select

import alerts
from intake.service import IntakeService
from storage import cases
from storage.alert_models import ROTA, Alert
from storage.models import CaseEvent
from tests.alerts.conftest import ANSWERS, ENV, SECRETS, TOKEN, Servers, now_of
from tests.support import Clock, open_report


def test_each_route_gets_the_reference_priority_and_age_and_no_content(
    svc: IntakeService,
    urgent_case: str,
    servers: Servers,
    oncall: alerts.OncallConfig,
    senders: dict[str, alerts.Sender],
    clock: Clock,
) -> None:
    # The report really holds the words we look for, sealed.
    assert open_report(svc, urgent_case)["fields"]["narrative"] == ANSWERS["narrative"]
    clock.advance(3 * 60)
    result = alerts.dispatch(svc.db, oncall, now_of(clock), senders)
    assert (result.planned, result.sent, result.retrying, result.error) == (3, 3, 0, None)

    [tg] = servers.telegram.requests
    assert tg.path == f"/bot{TOKEN}/sendMessage"
    assert tg.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = urllib.parse.parse_qs(tg.body.decode())
    assert form["chat_id"] == ["-100200300"]
    text = form["text"][0]
    assert text.splitlines()[0] == (
        f"Sanad: priority 1 case {urgent_case}, waiting 3 min, unclaimed. Open the queue."
    )
    assert urgent_case in text.splitlines()[1] and "3 دقائق" in text.splitlines()[1]

    [sig] = servers.signal.requests
    assert sig.path == "/v2/send"
    body = sig.json()
    assert body["number"] == "+12025550100" and body["recipients"] == ["+12025550123"]
    assert body["message"] == text

    [hook] = servers.webhook.requests
    assert hook.path == "/hooks/sanad"
    assert hook.json() == {
        "kind": "new",
        "case_ref": urgent_case,
        "priority": 1,
        "age_minutes": 3,
        "text_en": text.splitlines()[0],
        "text_ar": text.splitlines()[1],
    }
    expected = hmac.new(ENV["ALERT_HOOK_SECRET"].encode(), hook.body, hashlib.sha256)
    assert hook.headers["X-Sanad-Signature"] == f"sha256={expected.hexdigest()}"

    assert servers.smtp.messages == []  # the supervisor hears only on escalation
    assert all(urgent_case.encode() in b for b in servers.bodies())
    _assert_no_content(servers)

    with svc.db.transaction() as session:
        rows = list(session.scalars(select(Alert).order_by(Alert.id)))
        events = list(session.scalars(select(CaseEvent.kind).where(CaseEvent.kind.like("alert_%"))))
    assert [(r.route, r.status, r.attempts) for r in rows] == [
        (ROTA, "sent", 1),
        ("duty-telegram", "sent", 1),
        ("duty-signal", "sent", 1),
        ("case-hook", "sent", 1),
    ]
    assert events == ["alert_sent"] * 3

    # A second round sends nothing again.
    clock.advance(60)
    again = alerts.dispatch(svc.db, oncall, now_of(clock), senders)
    assert (again.planned, again.sent) == (0, 0)
    assert len(servers.bodies()) == 3


def test_smtp_escalation_mail_is_authenticated_and_content_free(
    svc: IntakeService,
    urgent_case: str,
    servers: Servers,
    oncall: alerts.OncallConfig,
    senders: dict[str, alerts.Sender],
    clock: Clock,
) -> None:
    alerts.dispatch(svc.db, oncall, now_of(clock), senders)
    clock.advance(31 * 60)
    result = alerts.dispatch(svc.db, oncall, now_of(clock), senders)
    assert (result.escalated, result.sent) == (1, 1)
    [mail] = servers.smtp.messages
    assert mail.login == ("alerts", "pw-1")
    assert mail.mail_from == "sanad@example.invalid"
    assert mail.rcpt_to == ["focal-point@example.invalid"]
    message = mail.message()
    assert urgent_case in str(message["Subject"])
    body = message.get_content()
    assert body.startswith(
        f"Sanad ESCALATION: priority 1 case {urgent_case}, waiting 31 min, "
        "still unclaimed after 30 min. Open the queue."
    )
    assert "سند، تصعيد" in body
    _assert_no_content(servers)


def test_enqueue_is_idempotent_and_only_for_priority_1(
    svc: IntakeService, urgent_case: str, clock: Clock
) -> None:
    from tests.alerts.conftest import report

    calm = report(svc, user="someone-else", danger="no")
    with svc.db.transaction() as session:
        case = cases.by_ref(session, urgent_case)
        other = cases.by_ref(session, calm)
        assert case is not None and other is not None and other.priority > 1
        assert not alerts.enqueue_for_case(session, case, now_of(clock))
        assert not alerts.enqueue_for_case(session, other, now_of(clock))
        assert len(list(session.scalars(select(Alert)))) == 1


def test_enqueue_in_the_transaction_that_stores_the_case(svc: IntakeService, clock: Clock) -> None:
    """The intake's contract: store_report and enqueue_for_case in one transaction; if the
    transaction fails, neither the case nor its alert exists."""
    import uuid

    from storage import accounts, crypto

    def store(fail: bool) -> None:
        with svc.db.transaction() as session:
            case = cases.store_report(
                session,
                cases.ReportToStore(
                    case_id=str(uuid.uuid4()),
                    data_key=crypto.new_data_key(),
                    fields={"current_danger": "yes"},
                    files=[],
                    consent={},
                    report_type=None,
                    priority=1,
                    reasons=["immediate_danger"],
                    channel="console",
                    lang="ar",
                    flow_version="test",
                ),
                accounts.current_recipients(session, svc._admin_public),
                crypto.new_receipt(svc.settings.receipt_kdf),
                now_of(clock),
            )
            assert alerts.enqueue_for_case(session, case, now_of(clock))
            if fail:
                raise RuntimeError("the submission failed after the alert was queued")

    store(fail=False)
    try:
        store(fail=True)
    except RuntimeError:
        pass
    with svc.db.transaction() as session:
        rows = list(session.scalars(select(Alert)))
    assert len(rows) == 1 and rows[0].route == ROTA and rows[0].status == "pending"


def test_nobody_on_call_falls_back_to_the_supervisors(
    svc: IntakeService,
    urgent_case: str,
    servers: Servers,
    tmp_path: object,
    senders: dict[str, alerts.Sender],
    clock: Clock,
) -> None:
    from pathlib import Path

    from tests.alerts.conftest import oncall_text

    text = oncall_text(servers).replace(
        "    routes: [duty-telegram, duty-signal, case-hook]\n",
        "    routes: [duty-telegram, duty-signal, case-hook]\n"
        "    windows: [{days: [mon], from: '09:00', to: '09:01'}]\n",
    )
    path = Path(str(tmp_path)) / "quiet.yaml"
    path.write_text(text, encoding="utf-8")
    config = alerts.load_oncall(path)
    now = now_of(clock)
    assert not any(w.contains(now) for p in config.rota for w in p.windows)
    result = alerts.dispatch(svc.db, config, now + timedelta(seconds=5), senders)
    assert result.sent == 1
    assert len(servers.smtp.messages) == 1 and servers.telegram.requests == []


def _assert_no_content(servers: Servers) -> None:
    everything = b"\n".join(servers.bodies())
    decoded = [
        everything.decode("utf-8", "replace"),
        urllib.parse.unquote_plus(everything.decode("utf-8", "replace")),
    ]
    for body in servers.bodies():
        try:
            decoded.append(json.dumps(json.loads(body), ensure_ascii=False))
        except ValueError:
            pass
    for mail in servers.smtp.messages:
        decoded.append(mail.message().get_content())
    hits = [s for s in SECRETS for text in decoded if s.lower() in text.lower()]
    assert hits == [], f"alert bodies carry reporter content: {hits}"
