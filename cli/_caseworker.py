"""`sanad queue` and `sanad show`: the caseworker's command-line view."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from cli._common import home_database as _home_database
from cli._common import passphrase as _passphrase

if TYPE_CHECKING:
    from caseworker import QueueRow

__all__ = ["queue", "reissue_receipt", "reply", "show"]


def _age(received: datetime) -> str:
    minutes = int((datetime.now(UTC) - received).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h"
    return f"{minutes // 1440}d"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="A JSON array (contracts.md).")
@click.option(
    "--lang",
    type=click.Choice(["ar", "en"]),
    default="en",
    show_default=True,
    help="Language of the readable table (the JSON keeps the codes).",
)
def queue(as_json: bool, lang: str) -> None:
    """The triage queue, most urgent first, then oldest; decrypts nothing."""
    from cli._common import friendly_errors

    @friendly_errors
    def run() -> None:
        with _home_database() as (_, _, db):
            from caseworker import list_queue

            items = list_queue(db)
        if as_json:  # the machine form of contracts.md: codes, unchanged
            click.echo(json.dumps([i.to_json() for i in items], ensure_ascii=False, indent=1))
            return
        click.echo(_queue_table(items, lang))

    run()


def _queue_table(items: list[QueueRow], lang: str) -> str:
    """The queue in words of `lang`: the dashboard's own catalogue (caseworker/catalog) and
    web.labels, so the terminal, the page and the PDF name each code the same way."""
    from caseworker import Translator
    from web import labels

    t = Translator(lang)
    if not items:
        return t("cli.queue_empty")
    lines = [
        " | ".join(
            (
                t("queue.case"),
                t("queue.priority"),
                t("queue.age"),
                t("queue.type"),
                t("queue.status"),
                t("case.channel"),
                t("queue.reasons"),
            )
        )
    ]
    for i in items:
        lines.append(
            " | ".join(
                (
                    i.case_ref,
                    labels.digits(i.priority, lang),
                    labels.digits(_age(i.received_at), lang),
                    t(f"type.{i.report_type or 'none'}"),
                    _status(t, i.status),
                    labels.channel(t, i.channel),
                    "، ".join(labels.reason(t, r) for r in i.reasons)
                    if lang == "ar"
                    else "; ".join(labels.reason(t, r) for r in i.reasons),
                )
            )
        )
    lines.append(labels.counted(t, "queue.total", len(items)))
    return "\n".join(lines)


def _status(t: Any, code: str) -> str:
    key = f"status.{code}"
    return t(key) if t.has(key) else t("cli.status_other")


@click.command()
@click.argument("case_ref")
@click.option("--as", "username", required=True, help="The caseworker account.")
@click.option("--json", "as_json", is_flag=True, help="JSON output (contracts.md).")
@click.option(
    "--lang",
    type=click.Choice(["ar", "en"]),
    default="en",
    show_default=True,
    help="Language of the labels in the readable view.",
)
def show(case_ref: str, username: str, as_json: bool, lang: str) -> None:
    """Decrypt one case for USER (audited). Wrong passphrase or no access: exit code 2."""
    from cli._common import friendly_errors

    @friendly_errors
    def run() -> None:
        with _home_database() as (_, _, db):
            from caseworker import show_case

            case = show_case(db, case_ref, username, _passphrase())
        if case.get("integrity"):  # tampering is said as such, in both languages
            from caseworker import tampering_message

            click.echo(tampering_message(case["case_ref"], case["integrity"]), err=True)
        if as_json:
            click.echo(json.dumps(case, ensure_ascii=False, indent=1))
        else:
            click.echo(_readable(case, lang))

    run()


@click.command("reissue-receipt")
@click.argument("case_ref")
@click.option("--as", "username", required=True, help="The caseworker account.")
def reissue_receipt(case_ref: str, username: str) -> None:
    """A new receipt code for CASE_REF whose reporter lost theirs; the old one stops working.

    Printed once and never stored; pass it on only through a safe way (`sanad reply`, in
    person). Needs access to the case (audited); wrong passphrase or no access: exit code 2.
    """
    from caseworker import cases as cw_cases
    from cli._common import friendly_errors

    @friendly_errors
    def run() -> None:
        with _home_database() as (settings, _, db):
            code = cw_cases.reissue_receipt(
                db, case_ref, username, _passphrase(), settings.receipt_kdf
            )
        click.echo(
            f"New receipt code for {case_ref.upper()} (shown once; the old one no "
            f"longer works): {code}"
        )
        click.echo(
            f"رمز إيصال جديد للحالة {case_ref.upper()} (يُعرض مرة واحدة؛ الرمز القديم "
            f"لم يعد يعمل): \u2066{code}\u2069"
        )

    run()


def _readable(case: dict[str, Any], lang: str) -> str:
    from flows import load_flowset

    flows = load_flowset()
    cat = flows.catalog[lang]

    def label(value: Any) -> str:
        if isinstance(value, str):
            return cat.get(f"opt.{value}", value)
        if isinstance(value, list):
            return ", ".join(label(v) for v in value)
        if isinstance(value, dict) and "raw" in value:
            iso = f" [{value['iso']}]" if value.get("iso") else ""
            return f"{value['raw']}{iso}"
        return json.dumps(value, ensure_ascii=False)

    # Bidi isolation (FSI ... PDI) keeps a reporter's right-to-left or control characters from
    # reordering the labels around them.
    from caseworker import Translator
    from web import labels

    t = Translator(lang)  # the dashboard's words for the codes: one source for both views
    sep = "، " if lang == "ar" else "; "
    lines = [
        f"{t('case.title', case_ref=case['case_ref'])}  "
        f"{t('queue.priority')} {labels.digits(case['priority'], lang)}  "
        f"{_status(t, case['status'])}",
        f"{t('queue.reasons')}: {sep.join(labels.reason(t, r) for r in case['reasons']) or '-'}",
        f"{t('case.channel')}: {labels.channel(t, case.get('channel'))}  "
        f"{t('case.language')}: {labels.language(t, case.get('lang'))}",
        "",
    ]
    for fid, value in case["fields"].items():
        lines.append(f"{cat.get('field.' + fid, fid)}: \u2068{label(value)}\u2069")
    identity = case.get("identity") or {}
    if identity.get("protected"):  # names and contact details: a custodian must approve
        from caseworker import i18n

        tr = i18n.Translator(lang)
        lines += ["", tr("identity.section")]
        for fid in identity["protected"]:
            lines.append(f"{cat.get('field.' + fid, fid)}: {tr('identity.protected')}")
        lines.append(f"  sanad identity request {case['case_ref']} --as USER --purpose PURPOSE")
    for att in case["attachments"]:
        lines.append(f"[file] \u2068{att['name']}\u2069 {att['size']} bytes sha256 {att['sha256']}")
    # The consents as the sealed records have them now (changes with the receipt included).
    given, not_given = cat["sys.consents.given"], cat["sys.consents.not_given"]
    lines += ["", f"{cat['sys.consents.list']}"]
    for fid, value in sorted(case.get("consent_sealed", {}).items()):
        lines.append(f"  {cat.get('field.' + fid, fid)}: {given if value == 'yes' else not_given}")
    if case.get("consent_tampered"):
        lines.append(
            "  TAMPERING: plaintext consent flags differ from the sealed records: "
            + ", ".join(case["consent_tampered"])
        )
    lines += ["", f"{t('case.history')}:"]
    for event in case.get("history", []):
        what = labels.event(t, event)
        if event["kind"] == "consent_changed":
            what += (
                f": {cat.get('field.' + str(event.get('consent')), event.get('consent'))}"
                f" -> {given if event.get('value') == 'yes' else not_given}"
            )
        elif detail := labels.event_detail(t, event):
            what += f": {detail}"
        actor = f" ({event['actor']})" if event.get("actor") else ""
        lines.append(f"  {str(event['at'])[:16].replace('T', ' ')}  {what}{actor}")
    return "\n".join(lines)


@click.command()
@click.argument("case_ref")
@click.argument("text")
@click.option("--as", "username", required=True, help="The caseworker account.")
def reply(case_ref: str, text: str, username: str) -> None:
    """Queue TEXT for the reporter of CASE_REF; the running bot delivers it through their
    channel. Refused (exit 2) when the reporter did not consent to follow-up."""
    from caseworker import queue_reply
    from cli._common import friendly_errors

    @friendly_errors
    def run() -> None:
        with _home_database() as (_, home, db):
            queue_reply(
                db,
                home.pepper(),
                case_ref,
                username,
                _passphrase(),
                text,
                admin_public=home.admin_public(),
            )
        click.echo(f"Queued for {case_ref.upper()}: the bot delivers it on its next round.")

    run()
