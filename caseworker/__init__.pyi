"""The public surface of `caseworker`: what other packages import from it, and nothing else.

Each name and namespace module is imported on first use (`lazy_loader.attach_stub` in
__init__.py reads this file); type checkers read it as the package's interface.
"""

# modules other packages use as namespaces (`from caseworker import cases`, then `cases.name`)
from . import cases as cases
from . import dashboard as dashboard
from . import exports as exports
from . import i18n as i18n
from . import identity as identity
from . import referrals as referrals
from . import reports as reports

# names
from .access import AccessDesk as AccessDesk
from .cases import TAKEN_SOURCES as TAKEN_SOURCES
from .cases import AccessDenied as AccessDenied
from .cases import QueueRow as QueueRow
from .cases import integrity_text as integrity_text
from .cases import list_queue as list_queue
from .cases import show_case as show_case
from .cases import tampering_message as tampering_message
from .charts import bar_chart as bar_chart
from .charts import cross_chart as cross_chart
from .child_protection import RULES_FILE as RULES_FILE
from .child_protection import check_rules as check_rules
from .child_protection import rule_for as rule_for
from .dashboard import CaseView as CaseView
from .dashboard import Dashboard as Dashboard
from .dashboard import Principal as Principal
from .dashboard import totp_uri as totp_uri
from .followup import queue_reply as queue_reply
from .i18n import Translator as Translator
from .i18n import negotiate as negotiate
from .i18n import plural_form as plural_form
from .identity import IdentityRefused as IdentityRefused
from .lifecycle import add_team as add_team
from .lifecycle import change_passphrase as change_passphrase
from .lifecycle import disable_user as disable_user
from .lifecycle import list_teams as list_teams
from .lifecycle import list_users as list_users
from .lifecycle import reset_totp as reset_totp
from .lifecycle import set_user as set_user
from .release import CROSS as CROSS
from .reports import JOINER as JOINER
from .reports import RESPONSES as RESPONSES
from .reports import SECTIONS as SECTIONS
from .reports import STATE_STEPS as STATE_STEPS
from .reports import STEPS as STEPS
from .reports import TIMING as TIMING
from .reports import PeriodicReport as PeriodicReport
from .reports import whole_years as whole_years
from .users import Cancelled as Cancelled
from .users import add_user as add_user
from .users import load_admin_key as load_admin_key
from .users import terminal_qr as terminal_qr
from .workbench import LINK_KINDS as LINK_KINDS
from .workbench import Canned as Canned
from .workbench import Workbench as Workbench
from .workbench import audit_bulk as audit_bulk

__all__ = [
    "CROSS",
    "JOINER",
    "LINK_KINDS",
    "RESPONSES",
    "RULES_FILE",
    "SECTIONS",
    "STATE_STEPS",
    "STEPS",
    "TAKEN_SOURCES",
    "TIMING",
    "AccessDenied",
    "AccessDesk",
    "Cancelled",
    "Canned",
    "CaseView",
    "Dashboard",
    "IdentityRefused",
    "PeriodicReport",
    "Principal",
    "QueueRow",
    "Translator",
    "Workbench",
    "add_team",
    "add_user",
    "audit_bulk",
    "bar_chart",
    "cases",
    "change_passphrase",
    "check_rules",
    "cross_chart",
    "dashboard",
    "disable_user",
    "exports",
    "i18n",
    "identity",
    "integrity_text",
    "list_queue",
    "list_teams",
    "list_users",
    "load_admin_key",
    "negotiate",
    "plural_form",
    "queue_reply",
    "referrals",
    "reports",
    "reset_totp",
    "rule_for",
    "set_user",
    "show_case",
    "tampering_message",
    "terminal_qr",
    "totp_uri",
    "whole_years",
]
