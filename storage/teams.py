"""Teams in the signed recipient manifest, and the recipients a routed report is sealed to.

The manifest (storage.crypto._manifest) is the only root of trust: it lists the recipient
keys and, since issue 14, which of them belong to which team, under the administrator's
signature. Every change builds the next manifest from the previous *verified* one plus the
change (`Plan`), never from the database. The `teams` / `team_members` tables are a mirror
rewritten from each newly signed manifest (`mirror`) for listing and joins; routing and
access never read them, so a row written there by a database writer gains nothing.

Need-to-know: only caseworkers and supervisors are recipients and team members. Admins and
auditors manage accounts and read the audit log, never report content.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import RefusedError
from storage import crypto
from storage.models import User
from storage.team_models import CaseTeam, Team, TeamMember

__all__ = [
    "Plan",
    "Routed",
    "SignedList",
    "TeamError",
    "case_teams",
    "check_team_name",
    "label_of",
    "mirror",
    "record_case_teams",
    "route",
    "user_of_label",
]

log = logging.getLogger("sanad.teams")
RECOVERY_LABEL = "organisation-recovery"
CUSTODIAN_PREFIX = "custodian:"  # as storage.accounts labels custodians in the manifest


class TeamError(RefusedError, ValueError):
    """A refused team change (bad or unknown name); the message is for the person."""


def label_of(name: str) -> str:
    return f"user:{name}"


def user_of_label(label: str) -> str | None:
    return label.removeprefix("user:") if label.startswith("user:") else None


def check_team_name(name: str) -> str:
    if (
        not name
        or len(name) > 64
        or not name.replace("-", "").replace("_", "").isalnum()
        or not name.isascii()
    ):
        raise TeamError("a team name is 1 to 64 letters, digits, '-' or '_'")
    return name


class SignedList(list[crypto.Recipient]):
    """The recipient list about to be signed, with its teams (for the confirmation)."""

    teams: dict[str, list[str]]


@dataclass
class Plan:
    """The next manifest: the previous verified one plus changes."""

    recipients: dict[str, crypto.Recipient]  # label -> recipient
    teams: dict[str, set[str]] = field(default_factory=dict)  # team -> member labels

    @classmethod
    def of(cls, manifest: crypto.Manifest) -> Plan:
        return cls(
            {r.label: r for r in manifest.recipients},
            {name: set(members) for name, members in manifest.teams.items()},
        )

    def add_team(self, name: str) -> None:
        check_team_name(name)
        if name in self.teams:
            raise TeamError(f"a team named '{name}' already exists")
        self.teams[name] = set()

    def require_teams(self, names: Iterable[str]) -> list[str]:
        names = list(dict.fromkeys(names))
        unknown = [n for n in names if n not in self.teams]
        if unknown:
            raise TeamError(
                f"no team named {', '.join(repr(n) for n in unknown)}: create it "
                "with `sanad teams add NAME`"
            )
        return names

    def put(self, recipient: crypto.Recipient) -> None:
        self.recipients[recipient.label] = recipient

    def set_teams(self, label: str, names: Iterable[str]) -> None:
        wanted = set(self.require_teams(names))
        for team, members in self.teams.items():
            if team in wanted:
                members.add(label)
            else:
                members.discard(label)

    def remove(self, label: str) -> None:
        self.recipients.pop(label, None)
        for members in self.teams.values():
            members.discard(label)

    def signed_list(self) -> SignedList:
        out = SignedList(sorted(self.recipients.values(), key=lambda r: r.label))
        out.teams = self.team_map()
        return out

    def team_map(self) -> dict[str, list[str]]:
        return {
            name: sorted(m for m in members if m in self.recipients)
            for name, members in sorted(self.teams.items())
        }


def mirror(session: Session, manifest: crypto.Manifest, now: datetime) -> None:
    """Rewrite the teams tables from a verified manifest (a convenience copy, never trusted)."""
    names = {u.name: u.id for u in session.scalars(select(User))}
    session.execute(delete(TeamMember))
    known = set(session.scalars(select(Team.name)))
    for name in set(manifest.teams) - known:
        session.add(Team(name=name, created_at=now))
    for name in known - set(manifest.teams):
        session.execute(delete(Team).where(Team.name == name))
    session.flush()
    for name, members in manifest.teams.items():
        for label in members:
            user = user_of_label(label)
            if user in names:
                session.add(TeamMember(team_name=name, user_id=names[user]))
    session.flush()


@dataclass(frozen=True)
class Routed:
    recipients: tuple[crypto.Recipient, ...]
    teams: tuple[str, ...]  # the teams the case belongs to (empty: no routing in use)
    fallback: str | None = None  # why the chosen teams were not used, if they were not


def route(
    manifest: crypto.Manifest,
    chosen: Sequence[str] | None,
    default_team: str | None,
    inactive: Iterable[str] = (),
) -> Routed:
    """The recipients of a report routed to the `chosen` teams: their members in the signed
    manifest, and the organisation recovery key. No routing (chosen None): every recipient,
    as before teams existed. Chosen teams without any member fall back to the default team,
    and then, so that a report is never sealed to nobody who can act on it, to every
    recipient (logged, and `sanad config check` warns about teams that do not exist).

    `inactive`: labels of accounts the database says are disabled. It can only narrow the
    signed list (a disable from the dashboard takes effect before the manifest is re-signed);
    nothing in the database can add a recipient."""
    skip = set(inactive)
    # Custodians hold identity keys only: never a recipient of a report's content.
    everyone = tuple(
        r
        for r in manifest.recipients
        if r.label not in skip and not r.label.startswith(CUSTODIAN_PREFIX)
    )
    recovery = [r for r in everyone if r.label == RECOVERY_LABEL]
    if chosen is None:
        return Routed(everyone, ())
    by_label = {r.label: r for r in everyone}
    attempts: list[tuple[str, ...]] = [tuple(chosen)]
    if default_team and tuple(chosen) != (default_team,):
        attempts.append((default_team,))
    for teams in attempts:
        labels = {m for t in teams for m in manifest.teams.get(t, ())}
        members = [by_label[m] for m in sorted(labels) if m in by_label]
        if members:
            fallback = None if teams == attempts[0] else "no_member_in_chosen_teams"
            if fallback:
                log.warning(
                    "routing: no active member in the chosen teams; the default team was used"
                )
            return Routed(tuple(members + recovery), teams, fallback)
    log.warning(
        "routing: no active member in the chosen or default team; sealed to every "
        "recipient of the manifest"
    )
    return Routed(everyone, (), "no_team_member")


def inactive_labels(session: Session) -> set[str]:
    return {
        label_of(n) for n in session.scalars(select(User.name).where(User.disabled_at.is_not(None)))
    }


def record_case_teams(session: Session, case_id: str, teams: Iterable[str], now: datetime) -> None:
    have = set(session.scalars(select(CaseTeam.team_name).where(CaseTeam.case_id == case_id)))
    for name in dict.fromkeys(teams):
        if name not in have:
            session.add(CaseTeam(case_id=case_id, team_name=name, added_at=now))
    session.flush()


def add_wraps(
    session: Session,
    case_id: str,
    data_key: bytes,
    recipients: Iterable[crypto.Recipient],
    seq: int = 0,
) -> int:
    """Wrap a data key the intake still holds (an urgent case being completed) to recipients
    that do not have it yet; the number added."""
    from storage.models import WrappedKey

    have = set(
        session.scalars(
            select(WrappedKey.key_id).where(WrappedKey.case_id == case_id, WrappedKey.seq == seq)
        )
    )
    added = 0
    for r in recipients:
        if r.key_id not in have:
            session.add(
                WrappedKey(
                    case_id=case_id,
                    seq=seq,
                    key_id=r.key_id,
                    wrapped=crypto.wrap_key(data_key, case_id, r.public_key, r.suite),
                )
            )
            have.add(r.key_id)
            added += 1
    session.flush()
    return added


def remove_case_team(session: Session, case_id: str, team: str) -> None:
    session.execute(delete(CaseTeam).where(CaseTeam.case_id == case_id, CaseTeam.team_name == team))


def case_teams(session: Session, case_id: str) -> list[str]:
    return sorted(session.scalars(select(CaseTeam.team_name).where(CaseTeam.case_id == case_id)))
