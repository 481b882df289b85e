"""Consent-gated exports for HURIDOCS partner systems (issue 17 item 5; layout in
docs/exports.md): Uwazi (CSV, one entity per case, headers are property names) and
OpenEvSys ("who did what to whom": events, acts, victims, perpetrators, as JSON).

A case goes into an export only when the exporting supervisor is one of its readers and its
reporter consented to referral (`consent_refer`) or publication (`consent_publish`), as the
SEALED consent records have it (storage.cases.sealed_consent): a plaintext flag that says
otherwise is tampering, and the case is refused. Names and contact details (the identity
section, and the fields fields.yaml marks `section: identity`) go out only when the reporter
consented to sharing their identity (`consent_share_identity`) and this reader holds the
identity key. Each case exported or refused is in the audit log; the caller writes the bytes
only where the user asked (an HTTP response, or `--out FILE` with 0600).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from storage import Case, Database, accounts, cases, casework, crypto

__all__ = ["EXPORT_KINDS", "EXPORT_ROLES", "ExportResult", "Exporter", "export_cases"]

EXPORT_KINDS = ("uwazi", "openevsys")
EXPORT_ROLES = frozenset({"supervisor"})
GATES = ("consent_refer", "consent_publish")
# Uwazi property names, in column order (after `title`); multiple values joined by `|`
UWAZI_COLUMNS = (
    "case_ref",
    "report_type",
    "status",
    "date_received",
    "incident_date",
    "country",
    "incident_location",
    "place_type",
    "violation_types",
    "perpetrator_type",
    "reprisal_acts",
    "reprisal_by",
    "cooperation_body",
    "victim_gender",
    "victim_age_group",
    "victim_groups",
    "reporter_role",
    "narrative",
    "injuries",
    "consent_publish",
    "identity_shared",
    "reporter_name",
    "victim_name",
    "contact_safety",
)
IDENTITY_COLUMNS = ("reporter_name", "victim_name", "contact_safety")


@dataclass(frozen=True)
class Exporter:
    """Who exports: their name, role and the private key unlocked with their passphrase."""

    name: str
    role: str
    key_id: bytes
    private_key: Any


@dataclass(frozen=True)
class ExportResult:
    data: bytes
    media_type: str
    exported: int
    skipped_no_access: int  # consented cases this account is not a reader of
    refused_tampered: int  # plaintext consent flags that disagree with the sealed records

    def summary(self) -> str:
        return (
            f"{self.exported} case(s) exported; {self.skipped_no_access} consented "
            f"case(s) skipped (not a reader); {self.refused_tampered} refused as tampered"
        )


def _identity_ids() -> frozenset[str]:
    from flows import load_flowset

    return load_flowset().identity_fields | frozenset(IDENTITY_COLUMNS)


def _plain(value: Any) -> Any:
    """An answer as exported: dates keep their ISO value where recognised."""
    if isinstance(value, dict):
        return value.get("iso") or value.get("raw") or ""
    return value


def _candidates(session: Any, first: date | None, last: date | None) -> Iterator[Case]:
    query = select(Case).where(Case.status != "withdrawn").order_by(Case.received_at, Case.case_ref)
    if first is not None:
        query = query.where(
            Case.received_at >= datetime(first.year, first.month, first.day, tzinfo=UTC)
        )
    if last is not None:
        query = query.where(
            Case.received_at
            < datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
        )
    for case in session.scalars(query):
        # A cheap first sieve on the plaintext flags; the sealed records decide below. A flag
        # turned to "no" in the database only leaves a case out, never discloses one.
        if any(casework.consented(case, g) for g in GATES):
            yield case


def export_cases(
    db: Database,
    who: Exporter,
    kind: str,
    first: date | None = None,
    last: date | None = None,
    now: datetime | None = None,
) -> ExportResult:
    """The one way in for the dashboard download and `sanad export`."""
    now = now or datetime.now(UTC)
    if kind not in EXPORT_KINDS:
        raise ValueError(f"unknown export '{kind}' (use one of: {', '.join(EXPORT_KINDS)})")
    action = f"export.{kind}"
    if who.role not in EXPORT_ROLES:
        with db.transaction() as session:
            accounts.audit(session, who.name, action, None, "refused", now, reason="role")
        raise PermissionError(f"the role {who.role} may not export cases")
    identity_ids = _identity_ids()
    records: list[dict[str, Any]] = []
    skipped = tampered = 0
    with db.transaction() as session:
        for case in list(_candidates(session, first, last)):
            if not casework.has_access(session, case, who.key_id):
                skipped += 1
                continue
            try:
                opened = cases.open_case(session, case, who.private_key, who.key_id)
            except crypto.CryptoError:  # a reader, yet it does not open: altered
                tampered += 1
                accounts.audit(
                    session, who.name, action, case.case_ref, "refused", now, reason="tampered"
                )
                continue
            sealed = cases.sealed_consent(opened)
            if cases.consent_mismatch(case, sealed):
                tampered += 1
                accounts.audit(
                    session,
                    who.name,
                    action,
                    case.case_ref,
                    "refused",
                    now,
                    reason="consent_tampered",
                )
                continue
            if not any(casework.consented_map(sealed, g) for g in GATES):
                continue
            share = casework.consented_map(sealed, "consent_share_identity")
            fields = {
                k: _plain(v)
                for k, v in opened.fields.items()
                if not k.startswith("consent_") and k not in identity_ids
            }
            identity = (
                {
                    k: _plain(v)
                    for k, v in {**opened.fields, **opened.identity}.items()
                    if k in identity_ids
                }
                if share
                else {}
            )
            records.append(
                {
                    "case": case,
                    "fields": fields,
                    "identity": identity,
                    "publish": casework.consented_map(sealed, "consent_publish"),
                }
            )
            accounts.audit(
                session,
                who.name,
                action,
                case.case_ref,
                "granted",
                now,
                identity="shared" if identity else "left_out",
            )
        accounts.audit(
            session,
            who.name,
            action,
            None,
            "granted",
            now,
            exported=len(records),
            skipped=skipped,
            tampered=tampered,
        )
    if kind == "uwazi":
        data, media = _uwazi(records), "text/csv; charset=utf-8"
    else:
        data, media = _openevsys(records, now), "application/json"
    return ExportResult(data, media, len(records), skipped, tampered)


def _cell(value: Any) -> str:
    """One Uwazi cell: lists joined by `|`; a value a spreadsheet would run is quoted."""
    text = (
        "|".join(str(v) for v in value)
        if isinstance(value, list)
        else ("" if value is None else str(value))
    )
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r", "|", "%")) else text


def _uwazi(records: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["title", *UWAZI_COLUMNS])
    for rec in records:
        case: Case = rec["case"]
        received = (
            case.received_at if case.received_at.tzinfo else case.received_at.replace(tzinfo=UTC)
        )
        values = {
            **rec["fields"],
            **rec["identity"],
            "case_ref": case.case_ref,
            "report_type": case.report_type or "",
            "status": case.status,
            "date_received": received.date().isoformat(),
            "consent_publish": "yes" if rec["publish"] else "no",
            "identity_shared": "yes" if rec["identity"] else "no",
        }
        title = f"{case.case_ref} ({case.report_type or 'report'})"
        writer.writerow([title, *(_cell(values.get(c)) for c in UWAZI_COLUMNS)])
    return out.getvalue().encode("utf-8")


def _list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)] if value not in (None, "") else []


def _openevsys(records: list[dict[str, Any]], now: datetime) -> bytes:
    """Events (one per case), each with its victim, its perpetrators (one per type named),
    the acts done to the victim (one per violation or reprisal act) and the involvement of
    each perpetrator in each act."""
    events = []
    for rec in records:
        case: Case = rec["case"]
        f, ident = rec["fields"], rec["identity"]
        ref = case.case_ref
        received = (
            case.received_at if case.received_at.tzinfo else case.received_at.replace(tzinfo=UTC)
        )
        victim = {
            "person_id": f"{ref}-V1",
            "sex": f.get("victim_gender"),
            "age_category": f.get("victim_age_group"),
            "groups": _list(f.get("victim_groups")),
        }
        if ident.get("victim_name"):
            victim["name"] = ident["victim_name"]
        by = _list(f.get("perpetrator_type")) + [
            p for p in _list(f.get("reprisal_by")) if p not in _list(f.get("perpetrator_type"))
        ]
        perpetrators = [
            {"person_id": f"{ref}-P{i}", "perpetrator_type": p}
            for i, p in enumerate(by or ["unknown"], start=1)
        ]
        kinds = _list(f.get("violation_types")) + _list(f.get("reprisal_acts"))
        acts = [
            {
                "act_id": f"{ref}-A{i}",
                "type_of_act": a,
                "victim": victim["person_id"],
                "initial_date": f.get("incident_date") or None,
                "place_type": f.get("place_type"),
            }
            for i, a in enumerate(kinds or ["unspecified"], start=1)
        ]
        involvements = [
            {"act": a["act_id"], "perpetrator": p["person_id"]} for a in acts for p in perpetrators
        ]
        event = {
            "event_id": ref,
            "title": f"{ref} ({case.report_type or 'report'})",
            "event_type": case.report_type,
            "date_received": received.date().isoformat(),
            "initial_date": f.get("incident_date") or None,
            "geographical_term": f.get("country") or None,
            "location": f.get("incident_location") or None,
            "description": f.get("narrative") or "",
            "reporter_role": f.get("reporter_role"),
            "cooperation_body": _list(f.get("cooperation_body")),
            "publication_consented": rec["publish"],
            "victims": [victim],
            "perpetrators": perpetrators,
            "acts": acts,
            "involvements": involvements,
        }
        if ident.get("reporter_name"):
            event["source"] = {
                "name": ident["reporter_name"],
                "contact_safety": ident.get("contact_safety"),
            }
        events.append(event)
    doc = {
        "format": "sanad-openevsys",
        "version": 1,
        "exported_at": now.isoformat(),
        "events": events,
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
