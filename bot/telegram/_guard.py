"""The Telegram side of the hostile-input guard, at python-telegram-bot's transport hook.

python-telegram-bot parses a whole getUpdates answer at once (`Update.de_list`): one update it
cannot parse makes `get_updates` raise — after logging every update of the batch, reporters'
words included, at CRITICAL — and the same batch comes back on the next poll, for ever. An
update it *can* parse is not type-checked (`"update_id": "x"`, `"text": 123` come through).

`GuardedRequest` is the request object for getUpdates: it screens each raw update with
`bot._update_guard.check_telegram_update` before the library sees it, and replaces a refused
one by a stub `{"update_id": N, "sanad_refused": {...}}`. The stub keeps the update id, so the
poller confirms it like any other and Telegram does not send it again; `RefusalHandler`
answers it with a short bilingual message when the update named a private chat. Logs hold the
reason and the update id, never content or a chat id.

Wiring (bot/telegram/__init__.py, `TelegramChannel.__init__`):
    builder = builder.get_updates_request(GuardedRequest(connection_pool_size=1))
    self.app.add_handler(RefusalHandler(lambda lang, key: self._t(lang, key)), group=-1)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, ContextTypes
from telegram.request import HTTPXRequest, RequestData

from bot._update_guard import Refusal, bilingual, check_telegram_update

__all__ = ["STUB_KEY", "GuardedRequest", "RefusalHandler", "refusal_of", "screen_updates"]

log = logging.getLogger("sanad.telegram")

STUB_KEY = "sanad_refused"


def screen_updates(result: object) -> tuple[list[Any], int]:
    """The getUpdates result with every refused update replaced by a stub (or dropped when it
    has no usable update id); returns (updates, how many were refused)."""
    if not isinstance(result, list):
        log.warning("telegram getUpdates answer refused reason=not_a_list")
        return [], 1
    out: list[Any] = []
    refused = 0
    for item in result:
        refusal = check_telegram_update(item)
        if refusal is None:
            out.append(item)
            continue
        refused += 1
        uid = item.get("update_id") if isinstance(item, dict) else None
        usable = isinstance(uid, int) and not isinstance(uid, bool) and uid >= 0
        log.warning(
            "telegram update refused reason=%s update_id=%s", refusal.reason, uid if usable else "?"
        )
        if usable:
            out.append(
                {
                    "update_id": uid,
                    STUB_KEY: {
                        "reason": refusal.reason,
                        "reply_to": refusal.reply_to,
                        "key": refusal.key,
                    },
                }
            )
    return out, refused


class GuardedRequest(HTTPXRequest):
    """HTTPXRequest whose getUpdates answers are screened before python-telegram-bot parses
    them (at `do_request`, the library's documented transport hook). `refused` counts the
    updates refused so far."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refused = 0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        status, payload = await super().do_request(url, method, request_data, *args, **kwargs)
        if status != HTTPStatus.OK or url.rsplit("/", 1)[-1] != "getUpdates":
            return status, payload
        try:
            body = json.loads(payload.decode("utf-8"))
        except (ValueError, RecursionError):  # the library would log it whole: "nothing new"
            body = None
        if not isinstance(body, dict) or body.get("ok") is not True:
            log.warning("telegram getUpdates answer refused reason=not_an_answer")
            self.refused += 1
            return status, b'{"ok": true, "result": []}'
        body["result"], refused = screen_updates(body.get("result"))
        if not refused:
            return status, payload
        self.refused += refused
        return status, json.dumps(body).encode("utf-8")


def refusal_of(update: object) -> Refusal | None:
    """The refusal a stub update carries, or None for a real update."""
    if not isinstance(update, Update):
        return None
    info = update.api_kwargs.get(STUB_KEY)
    if not isinstance(info, dict):
        return None
    reply_to = info.get("reply_to")
    return Refusal(
        str(info.get("reason", "?")),
        reply_to if isinstance(reply_to, int) else None,
        str(info.get("key", "guard.refused")),
    )


class RefusalHandler(BaseHandler[Update, Any, None]):
    """Answers a stub update: a bilingual "could not read this" to its private chat, if any."""

    def __init__(self, text: Callable[[str, str], str]) -> None:
        super().__init__(self._answer)
        self._text = text

    def check_update(self, update: object) -> Refusal | None:
        return refusal_of(update)

    async def _answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        refusal = refusal_of(update)
        if refusal is None or refusal.reply_to is None:
            return
        await context.bot.send_message(
            refusal.reply_to, bilingual(self._text, refusal.key), protect_content=True
        )
