"""On-call alerts for priority-1 cases (issue 7, item 3).

When an urgent case arrives the caseworkers on call are told through configured routes
(Telegram, Signal, SMTP e-mail, webhook) with the case reference, priority and age only; if
nobody claims it (``cases.assigned_to``) within ``escalate_after_minutes`` the supervisors are
told. The rota and routes live in ``oncall.yaml`` (see alerts/defaults/oncall.yaml).

For the intake::

    alerts.enqueue_for_case(session, case, now)   # same transaction as the case; one INSERT

For whoever runs delivery (``sanad alerts run``, or a bot's periodic job)::

    worker = alerts.AlertWorker(db, settings.home, clock=time.time)
    worker.tick()                                  # a round when one is due; never raises
    alerts.dispatch(db, config, now, senders)      # one round, everything injected

The watchdog (anywhere but the alerts worker: a bot, the job worker)::

    alerts.watch_alerts_worker(db, config, now, senders)  # on-call told after 2 min silence

First-assessment deadlines (contracts.md): ``oncall.yaml`` ``first_assessment_minutes`` per
priority (a team may override it); a round tells the focal point of each new allegation,
reminds before the deadline and escalates after it (alerts/_assessment.py).

For ``sanad config check``: ``alerts.check_oncall(path, env) -> list[ConfigProblem]``.
"""

from alerts._assessment import assess_by, queue_assessment_alerts, teams_of
from alerts._checkins import CHECKIN_KINDS, queue_missed_checkins, raise_for_checkin
from alerts._config import (
    CHECKIN_STAGES,
    DEFAULT_ONCALL,
    CheckinSchedule,
    OncallConfig,
    OncallConfigError,
    Person,
    Retry,
    Route,
    SignalRoute,
    SmtpRoute,
    TeamTargets,
    TelegramRoute,
    WebhookRoute,
    Window,
    check_oncall,
    live_oncall_path,
    load_oncall,
    oncall_path,
)
from alerts._dispatch import DispatchReport, dispatch, enqueue_for_case
from alerts._message import AlertMessage, render
from alerts._runner import AlertWorker, ConfigSource
from alerts._senders import Sender, SendError, default_senders
from alerts._watchdog import SILENCE, watch_alerts_worker
from core import ConfigProblem
from storage import ROTA, Alert

__all__ = [
    "CHECKIN_KINDS",
    "CHECKIN_STAGES",
    "DEFAULT_ONCALL",
    "ROTA",
    "SILENCE",
    "Alert",
    "AlertMessage",
    "AlertWorker",
    "CheckinSchedule",
    "ConfigProblem",
    "ConfigSource",
    "DispatchReport",
    "OncallConfig",
    "OncallConfigError",
    "Person",
    "Retry",
    "Route",
    "SendError",
    "Sender",
    "SignalRoute",
    "SmtpRoute",
    "TeamTargets",
    "TelegramRoute",
    "WebhookRoute",
    "Window",
    "assess_by",
    "check_oncall",
    "default_senders",
    "dispatch",
    "enqueue_for_case",
    "live_oncall_path",
    "load_oncall",
    "oncall_path",
    "queue_assessment_alerts",
    "queue_missed_checkins",
    "raise_for_checkin",
    "render",
    "teams_of",
    "watch_alerts_worker",
]
