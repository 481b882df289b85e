"""Cases: storing a sealed report in one transaction, the queue, and opening a case.

Functions take a session; the caller (intake service, caseworker commands) owns the
transaction. All sealing goes through storage.crypto.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core import as_utc as _aware
from storage import crypto
from storage.models import Attachment, Case, CaseEvent, CaseField, IdentityKey, WrappedKey

__all__ = [
    "ADDENDUM_PREFIX",
    "CASE_REF_ALPHABET",
    "CONSENT_CHANGE_PREFIX",
    "IDENTITY_PREFIX",
    "INITIAL_STATUS",
    "META_FIELD",
    "SEAL_FIELD",
    "OpenedCase",
    "ReportToStore",
    "Tampered",
    "add_caseworker_file",
    "addenda",
    "append_addendum",
    "by_ref",
    "change_consent",
    "consent_mismatch",
    "expire_attachments",
    "expire_content",
    "history",
    "new_case_ref",
    "open_case",
    "queue",
    "record_event",
    "report_key",
    "reseal_priority",
    "sealed_consent",
    "store_report",
    "update_report",
    "withdraw",
]

INITIAL_STATUS = "allegation_pending_assessment"  # San José Guidelines para 12
# Letters and digits that are hard to mishear or misread (no 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G).
CASE_REF_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
META_FIELD = "attachment_meta"
# Sealed with every report (sequence 0): the ids of its sealed answers and the triage priority
# and reasons, so a deleted answer or a changed priority is reported as tampering when the
# case is opened (review findings 20 and 10).
SEAL_FIELD = "_sealed"


class Tampered(crypto.CryptoError):
    """This key is a recipient, yet something sealed in the case does not open: the
    database was altered. Reported as tampering, never as "no access" (finding 25)."""


def new_case_ref() -> str:
    chars = "".join(secrets.choice(CASE_REF_ALPHABET) for _ in range(6))
    return f"{chars[:3]}-{chars[3:]}"


@dataclass(frozen=True)
class ReportToStore:
    case_id: str
    data_key: bytes
    fields: dict[str, Any]
    files: Sequence[dict[str, Any]]  # metadata of files already sealed on disk
    consent: dict[str, dict[str, Any]]
    report_type: str | None
    priority: int
    reasons: Sequence[str]
    channel: str
    lang: str
    flow_version: str
    incomplete: bool = False
    # The protected identity section (names, contact details): sealed under `identity_key`,
    # which is wrapped to the custodians and the recovery key only, never to the readers.
    identity: dict[str, Any] = dc_field(default_factory=dict)
    identity_key: bytes | None = dc_field(default=None, repr=False)


IDENTITY_PREFIX = crypto.IDENTITY_FIELD_PREFIX


def _seal_json(key: bytes, case_id: str, field_id: str, seq: int, value: Any) -> bytes:
    data = json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return crypto.seal_field(key, case_id, field_id, seq, data)


def _open_json(key: bytes, case_id: str, field_id: str, seq: int, sealed: bytes) -> Any:
    return json.loads(crypto.open_field(key, case_id, field_id, seq, sealed).decode("utf-8"))


def store_report(
    session: Session,
    report: ReportToStore,
    recipients: Sequence[crypto.Recipient],
    receipt: crypto.Receipt,
    now: datetime,
    identity_recipients: Sequence[crypto.Recipient] = (),
) -> Case:
    """Write case, sealed fields, wrapped keys, attachments and history; flush, don't commit.

    With an identity key, its wrapped copies go to `identity_recipients` (the custodians of
    the signed manifest and the recovery key: accounts.identity_recipients), never to
    `recipients`."""
    ref = new_case_ref()
    while session.scalar(select(Case.id).where(Case.case_ref == ref)) is not None:
        ref = new_case_ref()
    consent_times = [datetime.fromisoformat(c["at"]) for c in report.consent.values() if "at" in c]
    case = Case(
        id=report.case_id,
        case_ref=ref,
        report_type=report.report_type,
        status=INITIAL_STATUS,
        priority=report.priority,
        reasons=list(report.reasons),
        received_at=now,
        updated_at=now,
        channel=report.channel,
        lang=report.lang,
        flow_version=report.flow_version,
        consent=report.consent,
        consent_recorded_at=min(consent_times) if consent_times else None,
        receipt_handle=receipt.handle,
        receipt_verifier=receipt.verifier,
        incomplete=report.incomplete,
    )
    session.add(case)
    session.flush()
    _add_fields_and_files(session, case, report, now)
    _wrap_identity_key(session, case, report, identity_recipients, now)
    for recipient in recipients:
        session.add(
            WrappedKey(
                case_id=case.id,
                seq=0,
                key_id=recipient.key_id,
                wrapped=crypto.wrap_key(
                    report.data_key, case.id, recipient.public_key, recipient.suite
                ),
            )
        )
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind="received",
            actor=None,
            detail={
                "channel": report.channel,
                "flow_version": report.flow_version,
                "priority": report.priority,
                "reasons": list(report.reasons),
            },
        )
    )
    session.flush()
    return case


def _seal_index(
    case_id: str,
    data_key: bytes,
    field_ids: Sequence[str],
    priority: int,
    reasons: Sequence[str],
    identity: dict[str, Any] | None = None,
) -> bytes:
    index: dict[str, Any] = {
        "fields": sorted(field_ids),
        "priority": priority,
        "reasons": list(reasons),
    }
    if identity:  # the identity section's field ids and a commitment to its key
        index.update(identity)
    return _seal_json(data_key, case_id, SEAL_FIELD, 0, index)


def _identity_index(case_id: str, report: ReportToStore) -> dict[str, Any] | None:
    if report.identity_key is None:
        return None
    return {
        "identity": sorted(report.identity),
        "identity_key": crypto.identity_commitment(report.identity_key, case_id),
    }


def _wrap_identity_key(
    session: Session,
    case: Case,
    report: ReportToStore,
    recipients: Sequence[crypto.Recipient],
    now: datetime,
) -> None:
    """Wrap the identity key to the custodians and the recovery key, once per case."""
    if report.identity_key is None:
        return
    if (
        session.scalar(select(IdentityKey.id).where(IdentityKey.case_id == case.id).limit(1))
        is not None
    ):
        return
    if not recipients:
        raise ValueError("an identity section needs identity recipients (the recovery key)")
    for recipient in {r.key_id: r for r in recipients}.values():
        session.add(
            IdentityKey(
                case_id=case.id,
                key_id=recipient.key_id,
                created_at=now,
                wrapped=crypto.wrap_identity_key(
                    report.identity_key, case.id, recipient.public_key, recipient.suite
                ),
            )
        )


def _add_fields_and_files(
    session: Session, case: Case, report: ReportToStore, now: datetime
) -> None:
    if SEAL_FIELD in report.fields:
        raise ValueError(f"{SEAL_FIELD} is not an answer")
    if report.identity and report.identity_key is None:
        raise ValueError("identity fields need an identity key")
    if set(report.identity) & set(report.fields):
        raise ValueError("a field is either in the report or in the identity section")
    for field_id, value in report.fields.items():
        if field_id.startswith(IDENTITY_PREFIX):
            raise ValueError(f"{field_id} is not an answer")
        session.add(
            CaseField(
                case_id=case.id,
                field_id=field_id,
                seq=0,
                sealed=_seal_json(report.data_key, case.id, field_id, 0, value),
            )
        )
    for field_id, value in report.identity.items():
        assert report.identity_key is not None
        name = IDENTITY_PREFIX + field_id
        session.add(
            CaseField(
                case_id=case.id,
                field_id=name,
                seq=0,
                sealed=_seal_json(report.identity_key, case.id, name, 0, value),
            )
        )
    session.add(
        CaseField(
            case_id=case.id,
            field_id=SEAL_FIELD,
            seq=0,
            sealed=_seal_index(
                case.id,
                report.data_key,
                list(report.fields),
                report.priority,
                report.reasons,
                _identity_index(case.id, report),
            ),
        )
    )
    known = set(session.scalars(select(Attachment.id).where(Attachment.case_id == case.id)))
    for meta in report.files:
        if meta["id"] in known:
            continue
        sealed_meta = _seal_json(
            report.data_key,
            case.id,
            f"{META_FIELD}:{meta['id']}",
            0,
            {k: meta[k] for k in ("name", "content_type", "sha256", "field")},
        )
        session.add(
            Attachment(
                id=meta["id"],
                case_id=case.id,
                seq=0,
                size=int(meta["size"]),
                path=str(meta["path"]),
                sealed_meta=sealed_meta,
                created_at=now,
            )
        )


def add_caseworker_file(
    session: Session,
    case: Case,
    data_key: bytes,
    attachment_id: str,
    size: int,
    path: str,
    meta: dict[str, Any],
    now: datetime,
) -> None:
    """A file a caseworker added to the case (a medico-legal report received), already
    sealed under the report's data key at `path`; its description (`meta`: name,
    content_type, sha256, field and what it belongs to) is sealed like a reporter's file's."""
    sealed_meta = _seal_json(data_key, case.id, f"{META_FIELD}:{attachment_id}", 0, meta)
    session.add(
        Attachment(
            id=attachment_id,
            case_id=case.id,
            seq=0,
            size=size,
            path=path,
            sealed_meta=sealed_meta,
            created_at=now,
        )
    )
    case.updated_at = now
    session.flush()


def update_report(
    session: Session,
    case: Case,
    report: ReportToStore,
    now: datetime,
    identity_recipients: Sequence[crypto.Recipient] = (),
) -> None:
    """Re-seal an incomplete (urgent) case's answers as the conversation goes on, in place.

    The data key and its wrapped copies stay; the answers of sequence 0 are replaced, so an
    answer changed with /back is changed in the case too. Completing it keeps its reference.
    """
    session.execute(delete(CaseField).where(CaseField.case_id == case.id, CaseField.seq == 0))
    session.flush()
    _add_fields_and_files(session, case, report, now)
    _wrap_identity_key(session, case, report, identity_recipients, now)
    was_incomplete = case.incomplete
    case.report_type = report.report_type
    case.priority, case.reasons = report.priority, list(report.reasons)
    case.consent, case.incomplete, case.updated_at = report.consent, report.incomplete, now
    if was_incomplete and not report.incomplete:
        session.add(
            CaseEvent(
                case_id=case.id,
                at=now,
                kind="completed",
                actor=None,
                detail={"priority": report.priority, "reasons": list(report.reasons)},
            )
        )
    session.flush()


def record_event(session: Session, case_id: str, kind: str, now: datetime, **detail: Any) -> None:
    session.add(CaseEvent(case_id=case_id, at=now, kind=kind, actor=None, detail=detail))


def queue(session: Session) -> list[Case]:
    """Most urgent first, then oldest first; needs no key."""
    return list(
        session.scalars(select(Case).order_by(Case.priority, Case.received_at, Case.case_ref))
    )


def by_ref(session: Session, case_ref: str) -> Case | None:
    return session.scalar(select(Case).where(Case.case_ref == case_ref.strip().upper()))


CONSENT_CHANGE_PREFIX = "consent_change."


@dataclass(frozen=True)
class OpenedCase:
    fields: dict[str, Any]
    attachments: list[dict[str, Any]]
    # What does not match what was sealed with the report (`missing:FIELD`, `priority`,
    # `reasons`, `no_index`): each one is tampering to report, not a detail to ignore.
    problems: tuple[str, ...] = ()
    # Consents the reporter changed later with the receipt, sealed like an addendum:
    # {"seq", "part", "field", "value", "at", "lang", "text", "version"}, in the order made.
    consent_changes: list[dict[str, Any]] = dc_field(default_factory=list)
    # The protected identity section: the ids it holds (empty for a case stored before it
    # existed), and their values only when this key holds the case's identity key.
    identity_fields: tuple[str, ...] = ()
    identity: dict[str, Any] = dc_field(default_factory=dict)
    identity_open: bool = False
    # The later sessions (seq > 0: addenda, consent changes) this key can open; none means
    # the reporter added nothing, so the case page need not look for addenda (issue 16).
    later_seqs: tuple[int, ...] = ()

    @property
    def identity_protected(self) -> tuple[str, ...]:
        """Identity fields this reader sees as "protected — request access"."""
        return () if self.identity_open else self.identity_fields


def open_case(session: Session, case: Case, private_key: Any, key_id: bytes) -> OpenedCase:
    """Unwrap each sequence's data key with the caseworker's key and open everything sealed.

    Raises crypto.CryptoError when this key is not a recipient, and its subclass Tampered
    when it is but something sealed was altered, moved or swapped. A deleted answer or a
    changed priority (against the index sealed with the report) is listed in `problems`.
    """
    wrapped = {
        w.seq: w
        for w in session.scalars(
            select(WrappedKey).where(WrappedKey.case_id == case.id, WrappedKey.key_id == key_id)
        )
    }
    if not wrapped:
        raise crypto.CryptoError("this key is not a recipient of the case")
    identity_wrapped = session.scalar(
        select(IdentityKey).where(IdentityKey.case_id == case.id, IdentityKey.key_id == key_id)
    )
    try:
        return _open_all(session, case, private_key, wrapped, identity_wrapped)
    except crypto.CryptoError as exc:
        raise Tampered(f"case {case.case_ref} was altered: {exc}") from exc


def _open_all(
    session: Session,
    case: Case,
    private_key: Any,
    wrapped: dict[int, WrappedKey],
    identity_wrapped: IdentityKey | None = None,
) -> OpenedCase:
    keys = {seq: crypto.unwrap_key(w.wrapped, case.id, private_key) for seq, w in wrapped.items()}
    fields: dict[str, Any] = {}
    index: dict[str, Any] | None = None
    first: set[str] = set()
    changes: list[dict[str, Any]] = []
    identity_rows: dict[str, CaseField] = {}
    for row in session.scalars(
        select(CaseField).where(CaseField.case_id == case.id).order_by(CaseField.seq, CaseField.id)
    ):
        if row.field_id.startswith(IDENTITY_PREFIX):
            if row.seq != 0:
                raise crypto.CryptoError("an identity field outside the report")
            identity_rows[row.field_id.removeprefix(IDENTITY_PREFIX)] = row
            continue
        if row.seq not in keys:
            raise crypto.CryptoError("no key for a part of this case")
        value = _open_json(keys[row.seq], case.id, row.field_id, row.seq, row.sealed)
        if row.field_id == SEAL_FIELD:
            index = value if row.seq == 0 else index
            continue
        if row.seq == 0:
            first.add(row.field_id)
        if row.field_id.startswith(CONSENT_CHANGE_PREFIX) and isinstance(value, dict):
            part = int(row.field_id.removeprefix(CONSENT_CHANGE_PREFIX) or 0)
            changes.append({**value, "seq": row.seq, "part": part})
            continue
        fields[row.field_id] = value
    attachments = []
    for att in session.scalars(
        select(Attachment)
        .where(Attachment.case_id == case.id)
        .order_by(Attachment.created_at, Attachment.id)
    ):
        if att.seq not in keys:
            raise crypto.CryptoError("no key for a part of this case")
        meta = _open_json(
            keys[att.seq], case.id, f"{META_FIELD}:{att.id}", att.seq, att.sealed_meta
        )
        attachments.append(
            {"id": att.id, "size": att.size, "path": att.path, "seq": att.seq, **meta}
        )
    problems: list[str] = []
    if index is None:
        problems.append("no_index")
    else:
        problems += [f"missing:{f}" for f in index.get("fields", []) if f not in first]
        if index.get("priority") != case.priority:
            problems.append("priority")
        if list(index.get("reasons", [])) != list(case.reasons):
            problems.append("reasons")
    sealed_ids = [str(f) for f in (index or {}).get("identity", [])]
    problems += [f"missing:{IDENTITY_PREFIX}{f}" for f in sealed_ids if f not in identity_rows]
    problems += [f"unexpected:{IDENTITY_PREFIX}{f}" for f in identity_rows if f not in sealed_ids]
    identity: dict[str, Any] = {}
    if identity_wrapped is not None:
        identity = _open_identity(case, private_key, identity_wrapped, index, identity_rows)
    changes.sort(key=lambda c: (c["seq"], c["part"]))
    return OpenedCase(
        fields,
        attachments,
        tuple(problems),
        changes,
        tuple(f for f in sealed_ids if f in identity_rows),
        identity,
        identity_wrapped is not None,
        tuple(sorted(k for k in keys if k > 0)),
    )


def _open_identity(
    case: Case,
    private_key: Any,
    wrapped: IdentityKey,
    index: dict[str, Any] | None,
    rows: dict[str, CaseField],
) -> dict[str, Any]:
    """Open the identity section with the identity key this reader was given: a key that
    does not match the readers' sealed commitment, or a row that does not open, is tampering
    (CryptoError, turned into Tampered by the caller)."""
    identity_key = crypto.unwrap_identity_key(wrapped.wrapped, case.id, private_key)
    committed = (index or {}).get("identity_key")
    if committed is None or committed != crypto.identity_commitment(identity_key, case.id):
        raise crypto.CryptoError("the identity key is not the one sealed with the report")
    return {
        fid: _open_json(identity_key, case.id, row.field_id, 0, row.sealed)
        for fid, row in sorted(rows.items())
    }


def reseal_priority(session: Session, case: Case, data_key: bytes) -> None:
    """A caseworker changed the priority: seal the new one (and reasons) with the report."""
    row = session.scalar(
        select(CaseField).where(
            CaseField.case_id == case.id, CaseField.seq == 0, CaseField.field_id == SEAL_FIELD
        )
    )
    if row is None:
        return
    index = _open_json(data_key, case.id, SEAL_FIELD, 0, row.sealed)
    kept = {k: index[k] for k in ("identity", "identity_key") if k in index}
    row.sealed = _seal_index(
        case.id, data_key, index.get("fields", []), case.priority, case.reasons, kept
    )
    session.flush()


def report_key(session: Session, case: Case, private_key: Any, key_id: bytes) -> bytes:
    """The report's data key (sequence 0), unwrapped with this reader's key."""
    wrapped = session.scalar(
        select(WrappedKey).where(
            WrappedKey.case_id == case.id, WrappedKey.seq == 0, WrappedKey.key_id == key_id
        )
    )
    if wrapped is None:
        raise crypto.CryptoError("this key is not a recipient of the case")
    return crypto.unwrap_key(wrapped.wrapped, case.id, private_key)


def sealed_consent(opened: OpenedCase) -> dict[str, str]:
    """The current value of each consent, from sealed records only: the consent answers of
    the report, then each later change in the order made. A database writer can flip the
    plaintext `cases.consent` column; they cannot forge these."""
    current = {
        k: str(v)
        for k, v in opened.fields.items()
        if k.startswith("consent_") and isinstance(v, str)
    }
    for change in opened.consent_changes:
        if str(change.get("field", "")).startswith("consent_"):
            current[str(change["field"])] = str(change.get("value"))
    return current


def consent_mismatch(case: Case, sealed: dict[str, str]) -> list[str]:
    """Consents whose plaintext flag says otherwise than the sealed records (tampering)."""
    plain = case.consent if isinstance(case.consent, dict) else {}
    keys = {k for k in (*plain, *sealed) if k.startswith("consent_")}

    def given(entry: Any) -> bool:
        value = entry.get("value") if isinstance(entry, dict) else entry
        return value is True or value == "yes"

    return sorted(k for k in keys if given(plain.get(k)) != given(sealed.get(k)))


def history(session: Session, case: Case) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at, CaseEvent.id)
    )
    return [{"at": r.at.isoformat(), "kind": r.kind, "actor": r.actor, **r.detail} for r in rows]


ADDENDUM_PREFIX = "addendum."


def addenda(session: Session, case: Case, private_key: Any, key_id: bytes) -> list[dict[str, Any]]:
    """What the reporter added after the report (answers to a caseworker and information
    brought later), one entry per message in the order it came: `at`, `seq`, `part` and
    `text` or `file` (the attachment's id and name). Each session's parts are numbered from 1,
    so two sessions both have an `addendum.1`: unlike `open_case`'s fields, none hides another.
    Raises crypto.CryptoError when this key is not a recipient."""
    wrapped = {
        w.seq: w
        for w in session.scalars(
            select(WrappedKey).where(
                WrappedKey.case_id == case.id, WrappedKey.key_id == key_id, WrappedKey.seq > 0
            )
        )
    }
    keys: dict[int, bytes] = {}

    def key(seq: int) -> bytes:
        if seq not in keys:
            if seq not in wrapped:
                raise crypto.CryptoError("no key for a part of this case")
            keys[seq] = crypto.unwrap_key(wrapped[seq].wrapped, case.id, private_key)
        return keys[seq]

    when: dict[tuple[int, int], datetime] = {}
    for event in session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "addendum")
    ):
        when.setdefault(
            (int(event.detail.get("seq", 0)), int(event.detail.get("part", 0))), event.at
        )
    out: list[dict[str, Any]] = []
    for row in session.scalars(
        select(CaseField).where(
            CaseField.case_id == case.id,
            CaseField.seq > 0,
            CaseField.field_id.startswith(ADDENDUM_PREFIX),
        )
    ):
        part = int(row.field_id.removeprefix(ADDENDUM_PREFIX) or 0)
        out.append(
            {
                "seq": row.seq,
                "part": part,
                "at": when.get((row.seq, part)),
                "text": _open_json(key(row.seq), case.id, row.field_id, row.seq, row.sealed),
            }
        )
    for att in session.scalars(
        select(Attachment).where(Attachment.case_id == case.id, Attachment.seq > 0)
    ):
        meta = _open_json(key(att.seq), case.id, f"{META_FIELD}:{att.id}", att.seq, att.sealed_meta)
        field = str(meta.get("field") or "")
        if not field.startswith(ADDENDUM_PREFIX):
            continue
        part = int(field.removeprefix(ADDENDUM_PREFIX) or 0)
        out.append(
            {
                "seq": att.seq,
                "part": part,
                "at": when.get((att.seq, part), att.created_at),
                "file": {"id": att.id, "name": meta.get("name", "")},
            }
        )
    out.sort(key=lambda a: (a["seq"], a["part"]))
    return out


def append_addendum(
    session: Session,
    case: Case,
    data_key: bytes,
    recipients: Sequence[crypto.Recipient],
    seq: int | None,
    index: int,
    text: str | None,
    file: dict[str, Any] | None,
    now: datetime,
) -> int:
    """Seal information the reporter adds later under its own data key (one per session),
    wrapped to the current recipients; the reporter can add but never read back.

    `seq` is None for the first addition of a session: a new sequence is allocated and the
    session's key wrapped; the caller keeps the returned seq (sealed in its draft).
    """
    seq = _session_seq(session, case, data_key, recipients, seq)
    field_id = f"addendum.{index}"
    if text is not None:
        session.add(
            CaseField(
                case_id=case.id,
                field_id=field_id,
                seq=seq,
                sealed=_seal_json(data_key, case.id, field_id, seq, text),
            )
        )
    if file is not None:
        sealed_meta = _seal_json(
            data_key,
            case.id,
            f"{META_FIELD}:{file['id']}",
            seq,
            {k: file[k] for k in ("name", "content_type", "sha256", "field")},
        )
        session.add(
            Attachment(
                id=file["id"],
                case_id=case.id,
                seq=seq,
                size=int(file["size"]),
                path=str(file["path"]),
                sealed_meta=sealed_meta,
                created_at=now,
            )
        )
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind="addendum",
            actor=None,
            detail={"seq": seq, "part": index, "has_file": file is not None},
        )
    )
    case.updated_at = now
    session.flush()
    return seq


def _session_seq(
    session: Session,
    case: Case,
    data_key: bytes,
    recipients: Sequence[crypto.Recipient],
    seq: int | None,
) -> int:
    """The sequence of this session's additions: allocated (and its key wrapped) once."""
    if seq is not None:
        return seq
    seq = (
        session.scalar(select(func.max(WrappedKey.seq)).where(WrappedKey.case_id == case.id)) or 0
    ) + 1
    for recipient in recipients:
        session.add(
            WrappedKey(
                case_id=case.id,
                seq=seq,
                key_id=recipient.key_id,
                wrapped=crypto.wrap_key(data_key, case.id, recipient.public_key, recipient.suite),
            )
        )
    return seq


def change_consent(
    session: Session,
    case: Case,
    data_key: bytes,
    recipients: Sequence[crypto.Recipient],
    seq: int | None,
    index: int,
    record: dict[str, Any],
    now: datetime,
) -> int:
    """A consent the reporter changed with the receipt: a new consent version, sealed to the
    recipients like an addendum (the gate of every consent-gated action reads it), mirrored
    in the plaintext flags the queue and statistics read without a key, and in the history.
    `record` holds field, value, at, lang, text and version. Returns the session's seq."""
    seq = _session_seq(session, case, data_key, recipients, seq)
    field_id = f"{CONSENT_CHANGE_PREFIX}{index}"
    session.add(
        CaseField(
            case_id=case.id,
            field_id=field_id,
            seq=seq,
            sealed=_seal_json(data_key, case.id, field_id, seq, record),
        )
    )
    plain = dict(case.consent) if isinstance(case.consent, dict) else {}
    plain[str(record["field"])] = {k: record[k] for k in ("value", "at", "text", "lang", "version")}
    case.consent = plain
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind="consent_changed",
            actor=None,
            detail={
                "seq": seq,
                "part": index,
                "consent": record["field"],
                "value": record["value"],
                "lang": record["lang"],
                "version": record["version"],
            },
        )
    )
    case.updated_at = now
    session.flush()
    return seq


def _delete_content(session: Session, case: Case) -> list[str]:
    """Delete a case's answers, files, keys, routes, waiting messages and caseworker notes
    for real; return the attachment paths to remove from disk after the commit."""
    from storage.caseworker_models import CaseNote
    from storage.models import CaseRoute, IdentityRequest, OutboxMessage
    from storage.search_models import CaseTerm  # blind-index words come from the answers

    paths = list(session.scalars(select(Attachment.path).where(Attachment.case_id == case.id)))
    for model in (
        CaseField,
        WrappedKey,
        IdentityKey,
        IdentityRequest,
        Attachment,
        CaseRoute,
        OutboxMessage,
        CaseNote,
        CaseTerm,
    ):
        session.execute(delete(model).where(model.case_id == case.id))  # type: ignore[attr-defined]
    return paths


def withdraw(session: Session, case: Case, now: datetime) -> list[str]:
    """The reporter withdrew: delete the content for real, keep a minimal tombstone.

    The register keeps the reference, the dates and the fact of the withdrawal (San José
    para 11: a register of all allegations); answers, files, keys, routes and messages go.
    Returns the attachment paths to remove from disk after the transaction commits.
    """
    paths = _delete_content(session, case)
    case.status, case.reasons, case.incomplete = "withdrawn", [], False
    case.consent = {"withdrawn_at": now.isoformat()}
    case.updated_at = now
    session.add(CaseEvent(case_id=case.id, at=now, kind="withdrawn", actor=None, detail={}))
    session.flush()
    return paths


def expire_content(session: Session, case: Case, now: datetime, days: int) -> list[str]:
    """A closed case's retention ran out: the same deletion as a withdrawal, and the same
    tombstone (reference, dates, type, status "closed", the fact of the expiry)."""
    paths = _delete_content(session, case)
    case.reasons, case.incomplete = [], False
    case.consent = {"content_expired_at": now.isoformat()}
    case.updated_at = now
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind="content_expired",
            actor=None,
            detail={"retention_days": days},
        )
    )
    session.flush()
    return paths


def expire_attachments(
    session: Session, case: Case, older_than: datetime, now: datetime, days: int
) -> list[str]:
    """Delete a closed case's files received before `older_than`; the answers stay."""
    rows = list(session.scalars(select(Attachment).where(Attachment.case_id == case.id)))
    old = [a for a in rows if _aware(a.created_at) <= older_than]
    for attachment in old:
        session.delete(attachment)
    if old:
        session.add(
            CaseEvent(
                case_id=case.id,
                at=now,
                kind="attachments_expired",
                actor=None,
                detail={"count": len(old), "retention_days": days},
            )
        )
    session.flush()
    return [a.path for a in old]
