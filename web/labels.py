"""Words for the codes the dashboard stores (issue 16, item 4): a person never reads
`urgent_words`, `ar` or `note_added`, in either language. Templates get these as globals
(WebApp.page); the case PDF uses the same functions, so screen and paper say the same."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from caseworker import Translator

__all__ = [
    "channel",
    "count",
    "counted",
    "digits",
    "event",
    "event_detail",
    "globals_for",
    "language",
    "reason",
]

_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def digits(text: object, lang: str) -> str:
    """Arabic-Indic digits in Arabic, ASCII otherwise."""
    return str(text).translate(_INDIC) if lang == "ar" else str(text)


def reason(t: Translator, code: str) -> str:
    """A triage reason in words; an unknown code (a rule added since) as a generic text, so
    no raw identifier reaches the page."""
    if code.startswith("override:"):  # a caseworker's override keeps its reason code
        why = f"preason.{code.partition(':')[2]}"
        return t("triage.override", reason=t(why) if t.has(why) else t("preason.other"))
    key = f"triage.{code}"
    return t(key) if t.has(key) else t("triage.unknown_rule")


def language(t: Translator, code: str | None) -> str:
    """The reporter's language by name ("Arabic"/"العربية"), never the code."""
    key = f"langname.{code}"
    return t(key) if code and t.has(key) else t("langname.other")


def channel(t: Translator, code: str | None) -> str:
    key = f"channel.{code}"
    return t(key) if code and t.has(key) else t("channel.other")


def count(t: Translator, shown: object) -> str:
    """A published count as a sentence fragment: `<5` reads "fewer than 5" (Arabic
    "أقل من ٥", so no bracket is mirrored), other counts in the language's digits."""
    text = str(shown)
    if text.startswith("<"):
        return t("count.fewer_than", n=digits(text[1:], t.lang))
    return digits(text, t.lang)


def event(t: Translator, entry: Mapping[str, Any]) -> str:
    """One history event named precisely: a reply to the reporter is not "Note added", a
    completed report or support offered is not a bare "Event"."""
    kind = str(entry.get("kind", ""))
    if kind == "note_added" and entry.get("note_kind") == "to_reporter":
        return t("event.reply_written")
    if kind == "action_done" and entry.get("action") == "write_back":
        return t("event.write_back_allowed")
    key = f"event.{kind}"
    return t(key) if t.has(key) else t("event.other")


def counted(t: Translator, key: str, n: int) -> str:
    """`key` in the plural form `n` needs, the number in the language's digits."""
    from caseworker import plural_form

    form = f"{key}.{plural_form(t.lang, n)}"
    return t(form if t.has(form) else key, n=digits(n, t.lang))


def event_detail(t: Translator, e: Mapping[str, Any]) -> str:
    """What an event changed, in words, for the PDF (the page shows the same)."""
    kind = e.get("kind")
    if kind == "status_changed":
        return (
            f"{t('status.' + str(e.get('from')))} → {t('status.' + str(e.get('to')))} "
            f"({t('reason.' + str(e.get('reason')))})"
        )
    if kind == "priority_overridden":
        return (
            f"{digits(e.get('from'), t.lang)} → {digits(e.get('to'), t.lang)} "
            f"({t('preason.' + str(e.get('reason')))})"
        )
    if kind in ("action_done", "action_refused") and e.get("action") != "write_back":
        return t(f"action.{e.get('action')}")
    if kind in ("linked", "unlinked", "merged"):
        link = f" ({t('link.' + str(e['link_kind']))})" if e.get("link_kind") else ""
        return f"{e.get('case_ref')}{link}"
    if kind in ("labelled", "unlabelled"):
        return str(e.get("label", ""))
    if kind in ("reassigned", "released") and (e.get("previous") or e.get("to")):
        return f"{e.get('previous') or '—'} → {e.get('to') or '—'}"
    if kind in ("access_granted", "access_revoked"):
        return str(e.get("user", ""))
    return ""


def globals_for(t: Translator) -> dict[str, Any]:
    """The template globals: `reason_label(code)`, `lang_name(code)` and so on."""
    return {
        "reason_label": lambda code: reason(t, code),
        "lang_name": lambda code: language(t, code),
        "channel_name": lambda code: channel(t, code),
        "count_text": lambda shown: count(t, shown),
        "event_label": lambda entry: event(t, entry),
        "local_digits": lambda text: digits(text, t.lang),
        "counted": lambda key, n: counted(t, key, n),
    }
