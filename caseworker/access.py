"""Access requests, sharing or moving a case between teams, and the admins' account page
(issue 14, items 1-3), on top of the dashboard's database, keys and audit log.

A request is a reason, never report content. Approving it is a grant (storage.casework.grant)
by a supervisor of one of the case's teams who can read the case: the crypto, not a flag,
decides, because only a reader can unwrap the case keys to re-wrap them. Sharing or moving a
case to a team is the same grant to each member of that team in the signed manifest.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from caseworker import lifecycle
from caseworker.dashboard import CASE_ROLES, Dashboard, Forbidden, Principal, Refused, _utc
from storage import AccessRequest, Case, CaseEvent, User, accounts, cases, casework, teams

__all__ = ["ADMIN_ROLES", "AccessDesk"]

ADMIN_ROLES = frozenset({"admin"})
MAX_REASON = 500


class AccessDesk:
    def __init__(self, dashboard: Dashboard) -> None:
        self.d = dashboard

    # ------------------------------------------------------------ helpers

    def _teams_of(self, session: Any, name: str) -> set[str]:
        manifest = accounts.verified_manifest(session, self.d.admin_public)
        return set(manifest.teams_of(teams.label_of(name)))

    def _audit(
        self,
        session: Any,
        who: Principal,
        action: str,
        ref: str | None,
        outcome: str,
        **detail: Any,
    ) -> None:
        accounts.audit(session, who.name, action, ref, outcome, self.d.now(), **detail)

    def _refuse(
        self, who: Principal, action: str, ref: str | None, code: str, message: str
    ) -> Refused:
        with self.d.db.transaction() as session:
            self._audit(session, who, action, ref, "refused", reason=code)
        return Refused(message, code)

    # ------------------------------------------------------------ requests

    def request(self, who: Principal, ref: str, reason: str) -> None:
        """Ask for access to a case this account sees in the queue but cannot open."""
        action, ref = "access.request", ref.strip().upper()[:16]
        if who.role not in CASE_ROLES:
            raise self._refuse(who, action, ref, "role", "only caseworkers and supervisors")
        reason = " ".join(reason.split())[:MAX_REASON]
        if not reason:
            raise self._refuse(who, action, ref, "empty_reason", "a reason is needed")
        with self.d.db.transaction() as session:
            case = cases.by_ref(session, ref)
            if case is None:
                raise Forbidden("no such case")
            if casework.has_access(session, case, who.key_id):
                code = "already_reader"
            elif (
                session.scalar(
                    select(AccessRequest.id).where(
                        AccessRequest.case_id == case.id,
                        AccessRequest.requester_id == who.user_id,
                        AccessRequest.status == "pending",
                    )
                )
                is not None
            ):
                code = "already_requested"
            else:
                code = ""
                session.add(
                    AccessRequest(
                        id=str(uuid.uuid4()),
                        case_id=case.id,
                        requester_id=who.user_id,
                        reason=reason,
                        status="pending",
                        created_at=self.d.now(),
                    )
                )
                session.add(
                    CaseEvent(
                        case_id=case.id,
                        at=self.d.now(),
                        kind="access_requested",
                        actor=who.name,
                        detail={},
                    )
                )
                self._audit(session, who, action, case.case_ref, "granted")
        if code:
            raise self._refuse(who, action, ref, code, code.replace("_", " "))

    def mine(self, who: Principal) -> list[dict[str, Any]]:
        """This account's requests, newest first, with the decision when there is one."""
        with self.d.db.transaction() as session:
            rows = session.execute(
                select(AccessRequest, Case.case_ref)
                .join(Case, Case.id == AccessRequest.case_id)
                .where(AccessRequest.requester_id == who.user_id)
                .order_by(AccessRequest.created_at.desc())
                .limit(100)
            ).all()
            return [
                {
                    "id": r.id,
                    "case_ref": ref,
                    "status": r.status,
                    "reason": r.reason,
                    "at": _utc(r.created_at),
                    "decided_by": r.decided_by,
                    "decided_at": _utc(r.decided_at),
                }
                for r, ref in rows
            ]

    def _may_decide(self, session: Any, who: Principal, case: Case) -> bool:
        if who.role != "supervisor" or not casework.has_access(session, case, who.key_id):
            return False
        case_teams = set(teams.case_teams(session, case.id))
        return not case_teams or bool(case_teams & self._teams_of(session, who.name))

    def to_decide(self, who: Principal) -> list[dict[str, Any]]:
        """Pending requests for cases of this supervisor's teams that they can read."""
        if who.role != "supervisor":
            return []
        with self.d.db.transaction() as session:
            rows = session.execute(
                select(AccessRequest, Case, User.name)
                .join(Case, Case.id == AccessRequest.case_id)
                .join(User, User.id == AccessRequest.requester_id)
                .where(AccessRequest.status == "pending")
                .order_by(AccessRequest.created_at)
            ).all()
            return [
                {
                    "id": r.id,
                    "case_ref": case.case_ref,
                    "requester": name,
                    "reason": r.reason,
                    "at": _utc(r.created_at),
                }
                for r, case, name in rows
                if self._may_decide(session, who, case)
            ]

    def decide(self, who: Principal, request_id: str, approve: bool) -> str:
        """Approve (a grant of every key of the case to the requester) or refuse; the case's
        reference. Only a supervisor of one of the case's teams who can read it."""
        action = "access.approve" if approve else "access.refuse"
        with self.d.db.transaction() as session:
            req = session.get(AccessRequest, request_id)
            case = session.get(Case, req.case_id) if req is not None else None
            if req is None or case is None or req.status != "pending":
                code = "no_request"
            elif not self._may_decide(session, who, case):
                code = "not_your_team"
            else:
                code = ""
                requester = session.get(User, req.requester_id)
                if approve:
                    if requester is None or requester.disabled_at is not None:
                        raise Refused("the requester's account is disabled", "grantee_role")
                    try:
                        casework.grant(
                            session,
                            case,
                            who.private_key,
                            who.key_id,
                            requester,
                            who.name,
                            self.d.now(),
                            self.d.admin_public,
                            self.d.manifest_pin,
                        )
                    except casework.CaseworkError as exc:
                        raise Refused(str(exc), exc.code) from exc
                req.status = "approved" if approve else "refused"
                req.decided_by, req.decided_at = who.name, self.d.now()
                session.add(
                    CaseEvent(
                        case_id=case.id,
                        at=self.d.now(),
                        kind="access_" + req.status,
                        actor=who.name,
                        detail={"user": requester.name if requester else None},
                    )
                )
                self._audit(
                    session,
                    who,
                    action,
                    case.case_ref,
                    "granted",
                    user=requester.name if requester else None,
                )
                return case.case_ref
        raise self._refuse(who, action, None, code, code.replace("_", " "))

    # ------------------------------------------------------------ teams of a case

    def case_teams(self, who: Principal, ref: str) -> tuple[list[str], list[str]]:
        """(the case's teams, every team of the signed manifest), for the case page."""
        with self.d.db.transaction() as session:
            case = cases.by_ref(session, ref)
            if case is None or not casework.has_access(session, case, who.key_id):
                return [], []
            manifest = accounts.verified_manifest(session, self.d.admin_public)
            return teams.case_teams(session, case.id), sorted(manifest.teams)

    def share(self, who: Principal, ref: str, team: str, move: bool = False) -> int:
        """Grant the case to every member of `team` (signed manifest); with `move`, also take
        it from the members of its other teams (except the mover). The number granted."""

        def body(session: Any, case: Case) -> int:
            manifest = accounts.verified_manifest(session, self.d.admin_public, self.d.manifest_pin)
            if team not in manifest.teams:
                raise casework.CaseworkError("no_team", "no such team")
            members = {teams.user_of_label(m) for m in manifest.teams[team]}
            users = {
                u.name: u
                for u in session.scalars(
                    select(User).where(
                        User.name.in_({m for m in members if m}), User.disabled_at.is_(None)
                    )
                )
            }
            granted = 0
            for _name, user in sorted(users.items()):
                if not casework.has_access(session, case, user.key_id):
                    casework.grant(
                        session,
                        case,
                        who.private_key,
                        who.key_id,
                        user,
                        who.name,
                        self.d.now(),
                        self.d.admin_public,
                        self.d.manifest_pin,
                    )
                    granted += 1
            if move:
                for old in teams.case_teams(session, case.id):
                    if old == team:
                        continue
                    for label in manifest.teams.get(old, ()):
                        name = teams.user_of_label(label)
                        if name and name != who.name and name not in users:
                            user = accounts.get_user(session, name)
                            if user is not None:
                                casework.revoke(session, case, user, who.name, self.d.now())
                    teams.remove_case_team(session, case.id, old)
            teams.record_case_teams(session, case.id, [team], self.d.now())
            return granted

        return int(self.d._run(who, ref, "case.move_team" if move else "case.share_team", body))

    # ------------------------------------------------------------ admins

    def users(self, who: Principal) -> list[dict[str, Any]]:
        self.d._require(who, ADMIN_ROLES, "users.read")
        rows = lifecycle.list_users(self.d.db, self.d.admin_public)
        with self.d.db.transaction() as session:
            self._audit(session, who, "users.read", None, "granted")
        return rows

    def change_passphrase(self, who: Principal, current: str, new: str) -> None:
        """Anyone changes their own passphrase (the key is re-wrapped; the pair stays)."""
        try:
            lifecycle.change_passphrase(self.d.db, who.name, current, new, self.d.user_kdf)
        except accounts.AccountError as exc:
            code = (
                "wrong_passphrase"
                if "wrong current" in str(exc)
                else "same_passphrase"
                if "same as" in str(exc)
                else "short_passphrase"
            )
            raise Refused(str(exc), code) from exc

    def reset_totp(self, who: Principal, name: str) -> str:
        """An administrator gives NAME a new second factor to enrol (shown once here); the
        old codes stop working. The new secret, never stored in clear outside the database's
        TOTP column as before."""
        self.d._require(who, ADMIN_ROLES, "user.totp_reset")
        try:
            secret, _ = lifecycle.reset_totp(self.d.db, name, None, actor=who.name)
        except accounts.AccountError as exc:
            raise self._refuse(who, "user.totp_reset", None, "bad_user", str(exc)) from exc
        return secret

    def disable(self, who: Principal, name: str) -> lifecycle.Disabled:
        self.d._require(who, ADMIN_ROLES, "user.disable")
        try:
            return lifecycle.disable_now(self.d.db, name, who.name, self.d.admin_public)
        except accounts.AccountError as exc:
            raise self._refuse(who, "user.disable", None, "bad_user", str(exc)) from exc
