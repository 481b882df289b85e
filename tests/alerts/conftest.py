"""Alert fixtures: loopback servers for every route kind, a live oncall.yaml pointing at
them, real senders, and priority-1 cases made by the intake on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

import alerts
from intake.service import IntakeService
from storage import cases
from tests.fakes.http_recorder import HttpRecorder
from tests.fakes.smtp_server import SmtpServer
from tests.support import Chat, Clock

REPORTER = "reporter-7731"
# What the reporter writes: none of it may ever reach an alert.
ANSWERS = {
    "narrative": "They took my brother Khalil at the Sednaya checkpoint and beat him",
    "incident_location": "Sednaya checkpoint, north gate",
    "country": "Syria",
    "contact_safety": "call +963 944 555 123 only after nine",
    "injuries": "broken ribs and burns",
}
SECRETS = ("Khalil", "Sednaya", "944 555", "broken ribs", "burns", REPORTER, "brother")
TOKEN = "123456:TEST-token"
ENV = {
    "ALERT_TG_TOKEN": TOKEN,
    "ALERT_SMTP_USER": "alerts",
    "ALERT_SMTP_PASSWORD": "pw-1",
    "ALERT_HOOK_SECRET": "hook-secret",
}


@dataclass
class Servers:
    telegram: HttpRecorder
    signal: HttpRecorder
    webhook: HttpRecorder
    smtp: SmtpServer

    def bodies(self) -> list[bytes]:
        http = [r.body for s in (self.telegram, self.signal, self.webhook) for r in s.requests]
        return http + [m.data for m in self.smtp.messages]


@pytest.fixture
def servers() -> Iterator[Servers]:
    with (
        HttpRecorder() as tg,
        HttpRecorder(201, [{"timestamp": "1"}]) as sig,
        HttpRecorder(200, {}) as hook,
        SmtpServer() as smtp,
    ):
        yield Servers(tg, sig, hook, smtp)


def oncall_text(servers: Servers, escalate: int = 30, tz: str = "UTC") -> str:
    return f"""\
timezone: {tz}
escalate_after_minutes: {escalate}
retry:
  first_delay_seconds: 15
  max_delay_seconds: 600
  max_attempts: 4
routes:
  duty-telegram:
    kind: telegram
    token_env: ALERT_TG_TOKEN
    chat_id: "-100200300"
    base_url: {servers.telegram.url}/bot
  duty-signal:
    kind: signal
    service: 127.0.0.1:{servers.signal.port}
    number: "+12025550100"
    recipient: "+12025550123"
  case-hook:
    kind: webhook
    url: {servers.webhook.url}/hooks/sanad
    secret_env: ALERT_HOOK_SECRET
  supervisor-mail:
    kind: smtp
    host: 127.0.0.1
    port: {servers.smtp.port}
    starttls: false
    user_env: ALERT_SMTP_USER
    password_env: ALERT_SMTP_PASSWORD
    from: sanad@example.invalid
    to: [focal-point@example.invalid]
rota:
  - name: Duty caseworker
    role: on_call
    routes: [duty-telegram, duty-signal, case-hook]
  - name: Focal point
    role: supervisor
    routes: [supervisor-mail]
"""


@pytest.fixture
def oncall(tmp_path: Path, servers: Servers) -> alerts.OncallConfig:
    path = tmp_path / "oncall.yaml"
    path.write_text(oncall_text(servers), encoding="utf-8")
    return alerts.load_oncall(path)


@pytest.fixture
def senders() -> dict[str, alerts.Sender]:
    return alerts.default_senders(ENV, timeout=2)


@pytest.fixture
def svc(make_service: Callable[..., IntakeService], database_url: str) -> IntakeService:
    return make_service(database_url)


def report(service: IntakeService, user: str = REPORTER, danger: str = "yes") -> str:
    """A full report through the intake, as a reporter would type it; returns the case ref."""
    chat = Chat(service, user=user, lang="en")
    chat.run(
        [
            ("consent_store", "yes"),
            ("consent_followup", "no"),
            ("consent_share_identity", "no"),
            ("consent_refer", "no"),
            ("consent_stats", "yes"),
            ("consent_publish", "no"),
            ("report_type", "complaint"),
            ("reporter_role", "family"),
            ("current_danger", danger),
        ]
    )
    if chat.question.field == "urgent_path":
        chat.say("urgent_full")  # the whole report, so every free-text answer is given
    chat.answer("ongoing", "yes")
    while chat.question.field != "confirm_submit":
        chat.say(ANSWERS.get(str(chat.question.field), "/skip"))
    chat.say("yes")
    return str(next(r for r in chat.replies if r.kind == "receipt").extra["case_ref"])


def now_of(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock(), UTC)


@pytest.fixture
def urgent_case(svc: IntakeService, clock: Clock) -> str:
    """A priority-1 case and its alert request, as the intake will make them."""
    ref = report(svc)
    with svc.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None and case.priority == 1
        assert alerts.enqueue_for_case(session, case, now_of(clock))
    return ref
