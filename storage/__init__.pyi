"""The public surface of `storage`: what other packages import from it, and nothing else.

Each name and namespace module is imported on first use (`lazy_loader.attach_stub` in
__init__.py reads this file); type checkers read it as the package's interface.
"""

# modules other packages use as namespaces (`from storage import accounts`, then `accounts.name`)
from . import accounts as accounts
from . import audit_chain as audit_chain
from . import cases as cases
from . import casework as casework
from . import crypto as crypto
from . import drafts as drafts
from . import health as health
from . import identity as identity
from . import inbox as inbox
from . import outbox_jobs as outbox_jobs
from . import search as search
from . import statistics as statistics
from . import teams as teams

# names
from .accounts import AccountError as AccountError
from .accounts import new_totp_secret as new_totp_secret
from .accounts import normalise_totp_secret as normalise_totp_secret
from .alert_models import ROTA as ROTA
from .alert_models import Alert as Alert
from .cases import INITIAL_STATUS as INITIAL_STATUS
from .casework import ACTION_CONSENT as ACTION_CONSENT
from .caseworker_models import CaseAction as CaseAction
from .chatlock import ChatLocks as ChatLocks
from .checkin_models import Checkin as Checkin
from .crypto import CryptoError as CryptoError
from .db import Database as Database
from .db import DatabaseUnavailable as DatabaseUnavailable
from .health import Heartbeat as Heartbeat
from .health import readiness as readiness
from .identity import PURPOSES as PURPOSES
from .identity import REFUSAL_REASONS as REFUSAL_REASONS
from .models import Attachment as Attachment
from .models import Base as Base
from .models import Case as Case
from .models import CaseEvent as CaseEvent
from .models import CaseRoute as CaseRoute
from .models import ChatMessage as ChatMessage
from .models import HealthAlert as HealthAlert
from .models import IdentityKey as IdentityKey
from .models import IdentityRequest as IdentityRequest
from .models import OutboxMessage as OutboxMessage
from .models import ProcessedEvent as ProcessedEvent
from .models import RateLimit as RateLimit
from .models import User as User
from .models import WrappedKey as WrappedKey
from .objects import LocalObjects as LocalObjects
from .objects import ObjectStore as ObjectStore
from .objects import ObjectStoreError as ObjectStoreError
from .objects import ObjectStoreUrlError as ObjectStoreUrlError
from .objects import open_objects as open_objects
from .objects import parse_s3_url as parse_s3_url
from .objects import shred as shred
from .outbox_jobs import DeliveryDeferred as DeliveryDeferred
from .outbox_jobs import defer_delivery as defer_delivery
from .outbox_jobs import outbox_queue as outbox_queue
from .outbox_jobs import outbox_task as outbox_task
from .outbox_jobs import sweep_candidates as sweep_candidates
from .referral_models import REFERRAL_OUTCOMES as REFERRAL_OUTCOMES
from .referral_models import REFERRAL_STATUSES as REFERRAL_STATUSES
from .referral_models import Referral as Referral
from .search_models import CannedReply as CannedReply
from .search_models import CaseLabel as CaseLabel
from .search_models import CaseLink as CaseLink
from .search_models import CaseTerm as CaseTerm
from .statistics import DIMENSIONS as DIMENSIONS
from .statistics import MULTI as MULTI
from .team_models import AccessRequest as AccessRequest
from .team_models import CaseTeam as CaseTeam
from .teams import TeamError as TeamError
from .teams import check_team_name as check_team_name

__all__ = [
    "ACTION_CONSENT",
    "DIMENSIONS",
    "INITIAL_STATUS",
    "MULTI",
    "PURPOSES",
    "REFERRAL_OUTCOMES",
    "REFERRAL_STATUSES",
    "REFUSAL_REASONS",
    "ROTA",
    "AccessRequest",
    "AccountError",
    "Alert",
    "Attachment",
    "Base",
    "CannedReply",
    "Case",
    "CaseAction",
    "CaseEvent",
    "CaseLabel",
    "CaseLink",
    "CaseRoute",
    "CaseTeam",
    "CaseTerm",
    "ChatLocks",
    "ChatMessage",
    "Checkin",
    "CryptoError",
    "Database",
    "DatabaseUnavailable",
    "DeliveryDeferred",
    "HealthAlert",
    "Heartbeat",
    "IdentityKey",
    "IdentityRequest",
    "LocalObjects",
    "ObjectStore",
    "ObjectStoreError",
    "ObjectStoreUrlError",
    "OutboxMessage",
    "ProcessedEvent",
    "RateLimit",
    "Referral",
    "TeamError",
    "User",
    "WrappedKey",
    "accounts",
    "audit_chain",
    "cases",
    "casework",
    "check_team_name",
    "crypto",
    "defer_delivery",
    "drafts",
    "health",
    "identity",
    "inbox",
    "new_totp_secret",
    "normalise_totp_secret",
    "open_objects",
    "outbox_jobs",
    "outbox_queue",
    "outbox_task",
    "parse_s3_url",
    "readiness",
    "search",
    "shred",
    "statistics",
    "sweep_candidates",
    "teams",
]
