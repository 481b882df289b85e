"""One exception tree for the whole project.

Every error the project raises on purpose derives from `SanadError`, so an edge (the `sanad`
command, the dashboard, a channel) can catch the project's errors in one place and turn each
into one sentence for a person, while a bug still surfaces as a traceback. Library errors
(SQLAlchemy, botocore, httpx...) are translated where they happen, with ``raise ... from``.
Classes keep the built-in base they had (``ValueError``, ``OSError``...) beside their place
in the tree, so older ``except`` clauses still hold.

    SanadError
     ├── ConfigurationError      a setting, a file or the home cannot be used; fix and rerun
     │    ├── intake.settings.SettingsError        an environment variable's value
     │    ├── intake.home.HomeError                the home is missing or incomplete
     │    ├── intake.support.ConfigError           guidance / directory YAML (file:line)
     │    ├── intake.routing.RoutingError          routing.yaml (file:line)
     │    ├── alerts.OncallConfigError             oncall.yaml
     │    ├── flows.FlowValidationError            flows and catalogues (file, step, line)
     │    ├── nlu.NluDataError                     NLU data not in Rasa's YAML format
     │    ├── bot.telegram._settings.TelegramSetupError  the Telegram channel cannot start
     │    ├── bot.whatsapp.WhatsAppSetupError      the WhatsApp channel cannot start
     │    ├── bot.webchat_settings.WebchatSetupError   the web chat cannot start
     │    └── storage.objects.ObjectStoreUrlError  SANAD_OBJECT_STORE_URL
     ├── UnavailableError        a service the process needs does not answer; try again
     │    ├── storage.db.DatabaseUnavailable
     │    ├── storage.objects.ObjectStoreError
     │    │    └── storage.objects.ObjectMissing
     │    ├── nlu.RasaUnavailable, nlu.rasa_tool.RasaSetupError
     │    ├── bot.signal._config.SignalUnavailable
     │    ├── bot.voice.VoiceUnavailable           espeak-ng or ffmpeg missing or failing
     │    ├── web.pdf.PdfUnavailable               no font that draws Arabic
     │    └── alerts._senders.SendError            a route did not take an alert
     ├── RefusedError            understood and not allowed (`code`, where set, keys a text)
     │    ├── caseworker.cases.AccessDenied        wrong passphrase, unknown case, no access
     │    ├── caseworker.dashboard.DashboardError  LoginFailed, Forbidden, Tampered, Refused
     │    ├── caseworker.identity.IdentityRefused, storage.identity.IdentityError
     │    ├── caseworker.reports.PeriodError       a report period that cannot be used
     │    ├── web.workbench.BadQuery               a queue parameter that cannot be used
     │    ├── web.stats_view.RangeError            a statistics range that cannot be used
     │    ├── storage.accounts.AccountError, storage.teams.TeamError
     │    ├── storage.casework.CaseworkError       a refused change to a case
     │    └── storage.crypto.AttachmentTooLarge
     ├── storage.crypto.CryptoError   sealed or signed data does not open or verify
     │    ├── ManifestError, DraftKeyMissing, KeyringUnavailable
     │    ├── storage.drafts.DraftUnreadable
     │    └── storage.cases.Tampered
     ├── intake.backup.BackupError    a backup cannot be made or restored
     └── caseworker.users.Cancelled   the administrator did not confirm: nothing changed
"""

from __future__ import annotations

__all__ = ["ConfigurationError", "RefusedError", "SanadError", "UnavailableError"]


class SanadError(Exception):
    """Base of every error the project raises on purpose; the message is for a person."""


class ConfigurationError(SanadError):
    """A setting, a configuration file or the home cannot be used; the message says which."""


class UnavailableError(SanadError):
    """A service the process needs (database, object store, Rasa, signal-cli...) is not there."""


class RefusedError(SanadError):
    """The request was understood and is not allowed or not possible as asked."""
