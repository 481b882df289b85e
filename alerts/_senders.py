"""Senders: one function per route kind, standard library only, a timeout on every call.

A sender takes (route, message) and returns, or raises SendError with a short reason made of
status codes and error class names: never the message, a URL (a Telegram URL holds the token)
or a secret. Secrets are read from the environment mapping when an alert is sent.

    SendError                 the route did not accept the alert; retried later
      .retry_after            seconds the far end asked us to wait (Telegram 429), or None
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from alerts._config import Route, SignalRoute, SmtpRoute, TelegramRoute, WebhookRoute
from alerts._message import AlertMessage
from core import UnavailableError

__all__ = ["PUBLIC_TELEGRAM_API", "SendError", "Sender", "default_senders"]

PUBLIC_TELEGRAM_API = "https://api.telegram.org/bot"
Sender = Callable[[Any, AlertMessage], None]


class SendError(UnavailableError):
    """A route did not take an alert. The reason never holds content, URLs or secrets."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _secret(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise SendError(f"environment variable {name} is not set")
    return value


def _post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    ok: tuple[int, ...] = (200, 201, 202, 204),
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310 (schema: http/https)
            status, data = response.status, response.read(65536)
    except urllib.error.HTTPError as exc:
        status, data = exc.code, exc.read(65536) if exc.fp is not None else b""
        exc.close()
    except urllib.error.URLError as exc:
        raise SendError(f"cannot connect ({_why(exc.reason)})") from None
    except TimeoutError:
        raise SendError(f"no answer within {timeout:g} s") from None
    except (OSError, ValueError) as exc:
        raise SendError(f"cannot connect ({type(exc).__name__})") from None
    if status not in ok:
        raise SendError(f"HTTP {status}", _retry_after(data))
    return status, data


def _why(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return type(reason).__name__ if isinstance(reason, BaseException) else "unreachable"


def _retry_after(data: bytes) -> float | None:
    try:
        value = json.loads(data)["parameters"]["retry_after"]
    except (ValueError, KeyError, TypeError):
        return None
    return float(value) if isinstance(value, int | float) else None


def send_telegram(
    route: TelegramRoute, message: AlertMessage, env: Mapping[str, str], timeout: float
) -> None:
    """Bot API sendMessage, form-encoded, as python-telegram-bot sends it."""
    base = route.base_url or env.get("SANAD_TELEGRAM_BASE_URL") or PUBLIC_TELEGRAM_API
    url = f"{base.strip()}{_secret(env, route.token_env)}/sendMessage"
    body = urllib.parse.urlencode(
        {"chat_id": route.chat_id, "text": message.text, "protect_content": "true"}
    ).encode("ascii")
    _, data = _post(
        url, body, {"Content-Type": "application/x-www-form-urlencoded"}, timeout, ok=(200,)
    )
    try:
        accepted = json.loads(data).get("ok") is True
    except (ValueError, AttributeError):
        accepted = False
    if not accepted:
        raise SendError("Telegram did not answer ok")


def send_signal(
    route: SignalRoute, message: AlertMessage, env: Mapping[str, str], timeout: float
) -> None:
    """signal-cli-rest-api POST /v2/send, which answers 201."""
    body = json.dumps(
        {"message": message.text, "number": route.number, "recipients": [route.recipient]},
        ensure_ascii=False,
    ).encode("utf-8")
    _post(
        f"http://{route.service}/v2/send",
        body,
        {"Content-Type": "application/json"},
        timeout,
        ok=(200, 201),
    )


def send_smtp(
    route: SmtpRoute, message: AlertMessage, env: Mapping[str, str], timeout: float
) -> None:
    mail = EmailMessage()
    mail["From"] = route.sender
    mail["To"] = ", ".join(route.to)
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=route.sender.rpartition("@")[2] or None)
    mail.set_content(message.text + "\n")
    try:
        context = ssl.create_default_context(cafile=route.ca_file)
    except (OSError, ssl.SSLError):
        raise SendError("cannot read the ca_file") from None
    try:
        with smtplib.SMTP(route.host, route.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if route.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if route.user_env and route.password_env:
                smtp.login(_secret(env, route.user_env), _secret(env, route.password_env))
            smtp.send_message(mail)
    except smtplib.SMTPResponseException as exc:
        raise SendError(f"SMTP {exc.smtp_code}") from None
    except smtplib.SMTPRecipientsRefused:
        raise SendError("SMTP recipients refused") from None
    except smtplib.SMTPException as exc:
        raise SendError(f"SMTP {type(exc).__name__}") from None
    except ssl.SSLError as exc:
        raise SendError(f"TLS failed ({exc.reason or type(exc).__name__})") from None
    except TimeoutError:
        raise SendError(f"no answer within {timeout:g} s") from None
    except OSError as exc:
        raise SendError(f"cannot connect ({exc.strerror or type(exc).__name__})") from None


def send_webhook(
    route: WebhookRoute, message: AlertMessage, env: Mapping[str, str], timeout: float
) -> None:
    """JSON body; with a secret, `secret_header: sha256=<hex HMAC of the body>`."""
    body = json.dumps(message.to_json(), ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if route.secret_env:
        digest = hmac.new(
            _secret(env, route.secret_env).encode("utf-8"), body, hashlib.sha256
        ).hexdigest()
        headers[route.secret_header] = f"sha256={digest}"
    _post(route.url, body, headers, timeout)


def default_senders(
    env: Mapping[str, str] | None = None, timeout: float = 10.0
) -> dict[str, Sender]:
    """The real senders, by route kind, reading secrets from `env` (default os.environ)."""
    source = os.environ if env is None else env
    kinds: dict[str, Callable[..., None]] = {
        "telegram": send_telegram,
        "signal": send_signal,
        "smtp": send_smtp,
        "webhook": send_webhook,
    }

    def bind(func: Callable[..., None]) -> Sender:
        def send(route: Route, message: AlertMessage) -> None:
            func(route, message, source, timeout)

        return send

    return {kind: bind(func) for kind, func in kinds.items()}
