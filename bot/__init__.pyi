"""The public surface of `bot`: what other packages import from it, and nothing else.

Each name and namespace module is imported on first use (`lazy_loader.attach_stub` in
__init__.py reads this file); type checkers read it as the package's interface.
"""

# modules other packages use as namespaces (`from bot import voice`, then `voice.name`)
from . import voice as voice

# names
from .console import run_interactive as run_interactive
from .console import run_jsonl as run_jsonl
from .redact import redact_library_logs as redact_library_logs
from .signal import SignalChannel as SignalChannel
from .signal import SignalConfig as SignalConfig
from .signal import SignalUnavailable as SignalUnavailable
from .telegram import TelegramChannel as TelegramChannel
from .telegram import TelegramSettings as TelegramSettings
from .telegram import TelegramSetupError as TelegramSetupError
from .telegram import WebhookConfig as WebhookConfig
from .webchat import create_app as create_app
from .webchat_settings import WebchatSettings as WebchatSettings
from .webchat_settings import WebchatSetupError as WebchatSetupError
from .whatsapp import WhatsAppChannel as WhatsAppChannel
from .whatsapp import WhatsAppSettings as WhatsAppSettings
from .whatsapp import WhatsAppSetupError as WhatsAppSetupError

__all__ = [
    "SignalChannel",
    "SignalConfig",
    "SignalUnavailable",
    "TelegramChannel",
    "TelegramSettings",
    "TelegramSetupError",
    "WebchatSettings",
    "WebchatSetupError",
    "WebhookConfig",
    "WhatsAppChannel",
    "WhatsAppSettings",
    "WhatsAppSetupError",
    "create_app",
    "redact_library_logs",
    "run_interactive",
    "run_jsonl",
    "voice",
]
