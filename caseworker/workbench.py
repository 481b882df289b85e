"""The caseworker workbench's use cases (issue 16 items 1-2), beside caseworker.dashboard:
search words a caseworker adds, labels, links between cases and the possible-duplicates
hint, merging a duplicate, unassigning, and the same few changes on many cases at once.

Each call checks the role and that the account is a reader of every case it touches, runs
in one transaction and is audited (never with the words). Links, labels and terms are
metadata: nothing here decrypts a case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import delete, func, or_, select

from caseworker.dashboard import (
    CASE_ROLES,
    Dashboard,
    Forbidden,
    Principal,
    Refused,
)
from storage import (
    CannedReply,
    Case,
    CaseEvent,
    CaseLabel,
    CaseLink,
    CaseTerm,
    User,
    accounts,
    casework,
    search,
)

__all__ = [
    "BULK_OPS",
    "CANNED_LANGS",
    "DUPLICATE_MIN_SHARED",
    "LABEL",
    "LINK_KINDS",
    "MAX_BULK",
    "Canned",
    "Linked",
    "Workbench",
    "audit_bulk",
]

LINK_KINDS = ("same_incident", "same_facility", "same_person", "duplicate")
BULK_OPS = ("assign", "label", "close", "unassign")
LABEL = re.compile(r"^[\w\- ]{1,40}$")
MAX_BULK = 200
# Cases sharing at least this many blind-index words (or one person word) are offered as
# possible duplicates.
DUPLICATE_MIN_SHARED = 2


@dataclass(frozen=True)
class Linked:
    case_ref: str
    kind: str
    merged: bool
    readable: bool


class Workbench:
    def __init__(self, dashboard: Dashboard) -> None:
        self.d = dashboard

    # ------------------------------------------------------------ helpers

    def _case(self, session: Any, who: Principal, ref: str) -> Case:
        return self.d._case_for(session, who, ref, "case")

    def _event(self, session: Any, case: Case, kind: str, who: Principal, **detail: Any) -> None:
        session.add(
            CaseEvent(case_id=case.id, at=self.d.now(), kind=kind, actor=who.name, detail=detail)
        )

    def _run(self, who: Principal, ref: str, action: str, body: Any) -> Any:
        self.d._require(who, CASE_ROLES, action)
        return self.d._run(who, ref, action, body)

    # ------------------------------------------------------------ search words

    def add_terms(self, who: Principal, ref: str, kind: str, text: str) -> int:
        """A facility, place or person name the caseworker found in the narrative or a file,
        added to the case's blind index (hashed here; the words are kept nowhere)."""
        if kind not in search.KINDS:
            raise Refused("unknown kind of name", "bad_term_kind")
        if not search.normalise(text):
            raise Refused("no words to add", "empty_terms")
        pepper = self.d.pepper
        if pepper is None:
            raise Refused("this dashboard has no index key", "no_index_key")

        def body(session: Any, case: Case) -> int:
            added = search.add_terms(session, pepper, case.id, kind, text, who.name)
            self._event(session, case, "terms_added", who, term_kind=kind, count=added)
            return added

        return int(self._run(who, ref, "case.terms", body))

    # ------------------------------------------------------------ labels

    @staticmethod
    def clean_label(label: str) -> str:
        text = " ".join(label.split())[:40]
        if not LABEL.match(text):
            raise Refused("a label is 1 to 40 letters, digits, spaces or hyphens", "bad_label")
        return text

    def label(self, who: Principal, ref: str, label: str, remove: bool = False) -> None:
        text = self.clean_label(label)

        def body(session: Any, case: Case) -> None:
            self._label(session, who, case, text, remove)

        self._run(who, ref, "case.unlabel" if remove else "case.label", body)

    def _label(self, session: Any, who: Principal, case: Case, text: str, remove: bool) -> None:
        have = session.get(CaseLabel, (case.id, text))
        if remove and have is not None:
            session.delete(have)
            self._event(session, case, "unlabelled", who, label=text)
        elif not remove and have is None:
            session.add(
                CaseLabel(case_id=case.id, label=text, added_by=who.name, added_at=self.d.now())
            )
            self._event(session, case, "labelled", who, label=text)
        session.flush()

    def labels_of(self, who: Principal, ref: str) -> list[str]:
        with self.d.db.transaction() as session:
            case = self._case(session, who, ref)
            return search.labels_of(session, [case.id]).get(case.id, [])

    # ------------------------------------------------------------ links

    def link(self, who: Principal, ref: str, other_ref: str, kind: str) -> None:
        if kind not in LINK_KINDS:
            raise Refused("unknown kind of link", "bad_link_kind")

        def body(session: Any, case: Case) -> None:
            other = self._other(session, who, case, other_ref)
            self._link(session, who, case, other, kind)

        self._run(who, ref, "case.link", body)

    def _other(self, session: Any, who: Principal, case: Case, other_ref: str) -> Case:
        ref = search.as_ref(other_ref) or other_ref.strip().upper()
        try:
            other = self._case(session, who, ref)
        except Forbidden:
            raise casework.CaseworkError("bad_link", "no such case, or no access to it") from None
        if other.id == case.id:
            raise casework.CaseworkError("self_link", "a case cannot be linked to itself")
        return other

    def _link(
        self, session: Any, who: Principal, case: Case, other: Case, kind: str, merged: bool = False
    ) -> None:
        existing = session.scalar(
            select(CaseLink).where(
                or_(
                    (CaseLink.case_a == case.id) & (CaseLink.case_b == other.id),
                    (CaseLink.case_a == other.id) & (CaseLink.case_b == case.id),
                ),
                CaseLink.kind == kind,
            )
        )
        if existing is None:
            session.add(
                CaseLink(
                    case_a=case.id,
                    case_b=other.id,
                    kind="merged" if merged else kind,
                    created_by=who.name,
                    created_at=self.d.now(),
                )
            )
        for one, two in ((case, other), (other, case)):  # the history of both cases says so
            self._event(
                session,
                one,
                "merged" if merged else "linked",
                who,
                case_ref=two.case_ref,
                link_kind=kind,
            )
        session.flush()

    def unlink(self, who: Principal, ref: str, other_ref: str) -> None:
        def body(session: Any, case: Case) -> None:
            other = self._other(session, who, case, other_ref)
            gone = session.execute(
                delete(CaseLink).where(
                    or_(
                        (CaseLink.case_a == case.id) & (CaseLink.case_b == other.id),
                        (CaseLink.case_a == other.id) & (CaseLink.case_b == case.id),
                    ),
                    CaseLink.kind != "merged",
                )
            )
            if gone.rowcount:
                for one, two in ((case, other), (other, case)):
                    self._event(session, one, "unlinked", who, case_ref=two.case_ref)

        self._run(who, ref, "case.unlink", body)

    def case_extras(self, who: Principal, ref: str) -> dict[str, Any]:
        """The case page's workbench parts in one transaction: labels, links (both ways)
        and possible duplicates."""
        with self.d.db.transaction() as session:
            case = self._case(session, who, ref)
            return {
                "labels": search.labels_of(session, [case.id]).get(case.id, []),
                "links": self._links(session, who, case),
                "duplicates": self._duplicates(session, who, case, 5),
            }

    def links(self, who: Principal, ref: str) -> list[Linked]:
        """The case's links, seen from this case (each link shows on both cases)."""
        with self.d.db.transaction() as session:
            return self._links(session, who, self._case(session, who, ref))

    def _links(self, session: Any, who: Principal, case: Case) -> list[Linked]:
        rows = (
            session.execute(
                select(CaseLink)
                .where(or_(CaseLink.case_a == case.id, CaseLink.case_b == case.id))
                .order_by(CaseLink.id)
            )
            .scalars()
            .all()
        )
        others = {
            c.id: c
            for c in session.scalars(
                select(Case).where(
                    Case.id.in_({r.case_b if r.case_a == case.id else r.case_a for r in rows})
                )
            )
        }
        out = []
        for r in rows:
            other = others[r.case_b if r.case_a == case.id else r.case_a]
            out.append(
                Linked(
                    other.case_ref,
                    "duplicate" if r.kind == "merged" else r.kind,
                    r.kind == "merged",
                    casework.has_access(session, other, who.key_id),
                )
            )
        return out

    def possible_duplicates(self, who: Principal, ref: str, limit: int = 5) -> list[str]:
        """Other cases this account can read that share place or person words with this one
        (from the blind indexes: nothing is decrypted), not already linked; most shared
        first."""
        with self.d.db.transaction() as session:
            return self._duplicates(session, who, self._case(session, who, ref), limit)

    def _duplicates(self, session: Any, who: Principal, case: Case, limit: int) -> list[str]:
        from storage import WrappedKey

        mine = select(CaseTerm.term).where(CaseTerm.case_id == case.id, CaseTerm.kind != "country")
        linked = {
            i
            for r in session.scalars(
                select(CaseLink).where(or_(CaseLink.case_a == case.id, CaseLink.case_b == case.id))
            )
            for i in (r.case_a, r.case_b)
        }
        shared = func.count(CaseTerm.term)
        persons = func.sum(sql_case((CaseTerm.kind == "person", 1), else_=0))
        rows = session.execute(
            select(CaseTerm.case_id, shared, persons)
            .where(
                CaseTerm.term.in_(mine),
                CaseTerm.case_id != case.id,
                CaseTerm.case_id.in_(
                    select(WrappedKey.case_id).where(WrappedKey.key_id == who.key_id)
                ),
            )
            .group_by(CaseTerm.case_id)
            .having(or_(shared >= DUPLICATE_MIN_SHARED, persons >= 1))
            .order_by(shared.desc())
            .limit(limit + len(linked))
        ).all()
        ids = [r[0] for r in rows if r[0] not in linked][:limit]
        refs = dict(session.execute(select(Case.id, Case.case_ref).where(Case.id.in_(ids))).all())
        return [refs[i] for i in ids if i in refs]

    # ------------------------------------------------------------ merge

    def merge(self, who: Principal, ref: str, into_ref: str) -> None:
        """Merge the duplicate `ref` into `into_ref`: a recorded action, on both histories;
        the duplicate is linked and closed with the reason "duplicate" (through "under
        assessment" when it was still waiting for one). Nothing is copied or deleted."""

        def body(session: Any, case: Case) -> None:
            into = self._other(session, who, case, into_ref)
            self._link(session, who, case, into, "duplicate", merged=True)
            now = self.d.now()
            if case.status == "allegation_pending_assessment":
                casework.change_status(
                    session, case, "under_assessment", "assessment_started", who.name, now
                )
            if case.status != "closed":
                casework.change_status(session, case, "closed", "duplicate", who.name, now)

        self._run(who, ref, "case.merge", body)

    # ------------------------------------------------------------ assignment

    def unassign(self, who: Principal, ref: str) -> None:
        """The assignee gives a case back to the queue (a supervisor may do it for anyone:
        Dashboard.release)."""

        def body(session: Any, case: Case) -> None:
            if case.assigned_to is None:
                return
            if case.assigned_to != who.user_id and who.role != "supervisor":
                raise casework.CaseworkError(
                    "not_assignee", "only the assignee or a supervisor can do this"
                )
            casework.release(session, case, who.name, self.d.now(), None)

        self._run(who, ref, "case.release", body)

    # ------------------------------------------------------------ bulk

    def bulk(self, who: Principal, refs: list[str], op: str, value: str = "") -> dict[str, Any]:
        """One change on many cases: assign to a colleague (supervisors), unassign, add a
        label, or close with a reason. Each case is its own transaction and audit entry; a
        case that refuses (no access, a transition not allowed) is counted and skipped."""
        if op not in BULK_OPS:
            raise Refused("unknown bulk action", "bad_bulk")
        refs = list(dict.fromkeys(r.strip().upper() for r in refs if r.strip()))[:MAX_BULK]
        if not refs:
            raise Refused("no case chosen", "no_cases")
        to_me = op == "assign" and value.strip() == who.name
        if op == "assign" and not to_me and who.role != "supervisor":
            self.d._require(who, {"supervisor"}, "case.reassign")
        if op == "close" and value not in casework.REASONS_FOR_STATUS["closed"]:
            raise Refused("choose a reason", "bad_reason")
        if op == "label":
            value = self.clean_label(value)
        done, refused = [], []
        for ref in refs:
            try:
                if to_me:  # a caseworker takes unassigned cases: each one a claim
                    if not self.d.claim(who, ref):
                        raise Refused("already claimed", "claim_lost")
                elif op == "assign":
                    self.d.release(who, ref, value.strip() or None)
                elif op == "unassign":
                    self.unassign(who, ref)
                elif op == "label":
                    self.label(who, ref, value)
                else:
                    self.d.change_status(who, ref, "closed", value)
                done.append(ref)
            except (Forbidden, Refused):
                refused.append(ref)
        return {"done": done, "refused": refused}

    def assignable(self, who: Principal) -> list[str]:
        with self.d.db.transaction() as session:
            return list(
                session.scalars(
                    select(User.name)
                    .where(User.role.in_(CASE_ROLES), User.disabled_at.is_(None))
                    .order_by(User.name)
                )
            )


# ------------------------------------------------------------------ canned replies

CANNED_LANGS = ("ar", "en")


class Canned:
    """Prepared replies in both languages: every caseworker uses them, supervisors keep
    them (add, remove); each change audited."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.d = dashboard

    def all(self, who: Principal) -> list[dict[str, Any]]:
        self.d._require(who, CASE_ROLES, "canned.list")
        with self.d.db.transaction() as session:
            return [
                {
                    "id": r.id,
                    "lang": r.lang,
                    "title": r.title,
                    "body": r.body,
                    "created_by": r.created_by,
                }
                for r in session.scalars(
                    select(CannedReply).order_by(
                        CannedReply.lang, CannedReply.title, CannedReply.id
                    )
                )
            ]

    def add(self, who: Principal, lang: str, title: str, body: str) -> int:
        self.d._require(who, {"supervisor"}, "canned.add")
        title, body = " ".join(title.split())[:80], body.strip()[:3000]
        if lang not in CANNED_LANGS:
            raise Refused("choose the reply's language", "bad_canned_lang")
        if not title or not body:
            raise Refused("a canned reply needs a title and a text", "empty_canned")
        with self.d.db.transaction() as session:
            row = CannedReply(
                lang=lang, title=title, body=body, created_by=who.name, created_at=self.d.now()
            )
            session.add(row)
            session.flush()
            accounts.audit(
                session, who.name, "canned.add", None, "granted", self.d.now(), canned=str(row.id)
            )
            return int(row.id)

    def remove(self, who: Principal, canned_id: int) -> None:
        self.d._require(who, {"supervisor"}, "canned.remove")
        with self.d.db.transaction() as session:
            row = session.get(CannedReply, canned_id)
            if row is None:
                raise Refused("no such canned reply", "not_found")
            session.delete(row)
            accounts.audit(
                session,
                who.name,
                "canned.remove",
                None,
                "granted",
                self.d.now(),
                canned=str(canned_id),
            )


def audit_bulk(d: Dashboard, who: Principal, op: str, result: dict[str, Any]) -> None:
    with d.db.transaction() as session:
        accounts.audit(
            session,
            who.name,
            f"bulk.{op}",
            None,
            "granted",
            d.now(),
            done=str(len(result["done"])),
            refused=str(len(result["refused"])),
        )
