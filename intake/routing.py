"""routing.yaml: which teams a new report is sealed to (need-to-know, issue 14).

    default_team: intake
    rules:                                  # first match wins
      - when: {report_type: reprisal}       # FIELD: VALUE or [VALUES]; all keys must match
        teams: [reprisals]

FIELD is a report field id (flows/fields.yaml, shared/report-fields.md) or one the intake adds:
`priority` (1 = most urgent, from triage) and `urgent` (true for priority 1). A multi-choice
field matches when any chosen option is listed; `country` matches the ISO code the intake
recognised (as the guidance does) or the reporter's words. A report no rule matches goes to
`default_team`. The live file is SANAD_HOME/config/routing.yaml (`sanad init` installs the
example shipped as intake/defaults/routing.yaml); a home without one seals every report to
every recipient of the signed manifest, as before teams existed. Checked at start and by
`sanad config check`, with the file and line of each problem (core.yaml_lines, the same
line-numbered YAML loader as the on-call file).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import ConfigProblem, ConfigurationError, LineDict, LineList, line_of, read_yaml
from storage import TeamError, check_team_name

__all__ = ["EXAMPLE", "ROUTING_FILE", "Routing", "RoutingError", "check_routing", "routing_path"]

ROUTING_FILE = "routing.yaml"
EXAMPLE = Path(__file__).parent / "defaults" / ROUTING_FILE
EXTRA_FIELDS = {"priority": ("1", "2", "3", "4"), "urgent": ("true", "false")}
_BOOL_OPTIONS = ("yes", "no", "unknown")


class RoutingError(ConfigurationError):
    """routing.yaml does not validate; `problems` name the file and line."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def routing_path(home: Path) -> Path:
    return home / "config" / ROUTING_FILE


@dataclass(frozen=True)
class Rule:
    when: tuple[tuple[str, frozenset[str]], ...]
    teams: tuple[str, ...]

    def matches(self, view: Mapping[str, set[str]]) -> bool:
        return all(view.get(name, set()) & values for name, values in self.when)


@dataclass(frozen=True)
class Routing:
    default_team: str
    rules: tuple[Rule, ...]

    @classmethod
    def load(cls, home: Path) -> Routing | None:
        """The home's rules; None when it has no routing.yaml (every recipient, as before)."""
        path = routing_path(home)
        if not path.exists():
            return None
        problems: list[ConfigProblem] = []
        routing = _parse(path, problems)
        if routing is None or any(p.severity == "error" for p in problems):
            raise RoutingError([p for p in problems if p.severity == "error"])
        return routing

    def choose(
        self, fields: Mapping[str, Any], priority: int, country_code: str | None = None
    ) -> tuple[str, ...]:
        """The teams of the first rule that matches the report, else the default team."""
        view = _view(fields, priority, country_code)
        for rule in self.rules:
            if rule.matches(view):
                return rule.teams
        return (self.default_team,)


def _values(value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, list | tuple | set):
        return {str(v).strip().lower() for v in value if v is not None}
    if isinstance(value, bool):
        return {"true" if value else "false"}
    return {str(value).strip().lower()}


def _view(
    fields: Mapping[str, Any], priority: int, country_code: str | None
) -> dict[str, set[str]]:
    view = {k: _values(v) for k, v in fields.items()}
    view["priority"] = {str(priority)}
    view["urgent"] = {"true" if priority == 1 else "false"}
    if country_code:
        view["country"] = view.get("country", set()) | {country_code.lower()}
    return view


def _field_options() -> dict[str, tuple[str, ...] | None]:
    """Each routable field and its allowed values (None: free text)."""
    from flows import default_root, load_fields

    out: dict[str, tuple[str, ...] | None] = {}
    for fid, spec in load_fields(default_root() / "fields.yaml").items():
        if spec.type in ("choice", "multi"):
            out[fid] = spec.options
        elif spec.type == "bool":
            out[fid] = _BOOL_OPTIONS
        elif spec.type == "text":
            out[fid] = None
    out.update(EXTRA_FIELDS)
    return out


def _team(
    path: Path, doc: Any, where: list[Any], value: Any, problems: list[ConfigProblem]
) -> str | None:
    try:
        if not isinstance(value, str):
            raise TeamError("a team name is text")
        return check_team_name(value)
    except TeamError as exc:
        problems.append(ConfigProblem(str(path), line_of(doc, where), str(exc)))
        return None


def _parse(path: Path, problems: list[ConfigProblem]) -> Routing | None:
    doc = read_yaml(path, problems)
    if doc is None and problems:
        return None
    file = str(path)

    def bad(where: list[Any], message: str) -> None:
        problems.append(ConfigProblem(file, line_of(doc, where), message))

    if not isinstance(doc, LineDict):
        problems.append(
            ConfigProblem(file, 1, "routing.yaml is a mapping with default_team and rules")
        )
        return None
    for key in doc:
        if key not in ("default_team", "rules"):
            bad([key], f"unknown key '{key}' (use default_team and rules)")
    if "default_team" not in doc:
        bad([], "default_team is missing: the team of reports no rule matches")
        default = None
    else:
        default = _team(path, doc, ["default_team"], doc["default_team"], problems)
    options = _field_options()
    rules: list[Rule] = []
    raw_rules = doc.get("rules", [])
    if raw_rules is None:
        raw_rules = LineList()
    if not isinstance(raw_rules, list):
        bad(["rules"], "rules is a list of {when: {...}, teams: [...]}")
        raw_rules = []
    for i, raw in enumerate(raw_rules):
        at = ["rules", i]
        if not isinstance(raw, dict):
            bad(at, "a rule is a mapping with when and teams")
            continue
        for key in raw:
            if key not in ("when", "teams"):
                bad([*at, key], f"unknown key '{key}' in a rule (use when and teams)")
        when = raw.get("when")
        if not isinstance(when, dict) or not when:
            bad(
                [*at, "when"] if "when" in raw else at,
                "when is a mapping of FIELD: VALUE or [VALUES], with at least one field",
            )
            when = {}
        conditions = []
        for name, value in when.items():
            where = [*at, "when", name]
            if name not in options:
                bad(where, f"unknown field '{name}' (a report field id, priority or urgent)")
                continue
            values = value if isinstance(value, list) else [value]
            if not values or any(v is None or isinstance(v, dict | list) for v in values):
                bad(where, f"'{name}' takes a value or a list of values")
                continue
            wanted = _values(values)
            allowed = options[name]
            if allowed is not None:
                unknown = sorted(wanted - {a.lower() for a in allowed})
                if unknown:
                    bad(
                        where,
                        f"'{name}' has no option {', '.join(unknown)} (options: "
                        f"{', '.join(allowed)})",
                    )
                    continue
            conditions.append((name, frozenset(wanted)))
        teams = raw.get("teams")
        names: list[str] = []
        if not isinstance(teams, list) or not teams:
            bad([*at, "teams"] if "teams" in raw else at, "teams is a non-empty list of team names")
        else:
            for j, team in enumerate(teams):
                checked = _team(path, doc, [*at, "teams", j], team, problems)
                if checked:
                    names.append(checked)
        if conditions and names and len(conditions) == len(when):
            rules.append(Rule(tuple(conditions), tuple(dict.fromkeys(names))))
    if default is None:
        return None
    return Routing(default, tuple(rules))


def check_routing(path: Path, known_teams: set[str] | None = None) -> list[ConfigProblem]:
    """Every problem of one routing file; with `known_teams` (the signed manifest's), a team
    it names that does not exist is a warning (reports would fall back to the default team)."""
    problems: list[ConfigProblem] = []
    routing = _parse(path, problems)
    if routing is not None and known_teams is not None:
        doc = read_yaml(path, [])
        named: list[tuple[list[Any], str]] = [(["default_team"], routing.default_team)]
        for i, raw in enumerate(doc.get("rules") or []):
            for j, team in enumerate(raw.get("teams") or []):
                named.append((["rules", i, "teams", j], team))
        for where, team in named:
            if team not in known_teams:
                problems.append(
                    ConfigProblem(
                        str(path),
                        line_of(doc, where),
                        f"no team named '{team}' in the signed manifest yet (`sanad teams add`)",
                        "warning",
                    )
                )
    return problems


def recipients_for_report(
    session: Any,
    admin_public: bytes,
    pin: Any,
    routing: Routing | None,
    fields: Mapping[str, Any],
    priority: int,
    country: str | None,
) -> Any:
    """The recipients a new report is sealed to (storage.teams.Routed): the active members,
    in the signed manifest, of the teams the rules choose, and the recovery key."""
    from storage import accounts, teams

    manifest = accounts.verified_manifest(session, admin_public, pin)
    inactive = teams.inactive_labels(session)
    if routing is None:
        return teams.route(manifest, None, None, inactive)
    return teams.route(
        manifest, routing.choose(fields, priority, country), routing.default_team, inactive
    )


def recipients_for_case(session: Any, admin_public: bytes, pin: Any, case: Any) -> tuple[Any, ...]:
    """The recipients of something the reporter adds to a case (an addendum, a consent
    change): the members of the case's teams and the case's other current readers (a grant),
    each as the signed manifest lists them, and the recovery key. A case without teams (no
    routing when it came in) goes to every recipient, as before teams existed."""
    from storage import accounts, casework, teams

    manifest = accounts.verified_manifest(session, admin_public, pin)
    inactive = teams.inactive_labels(session)
    case_teams = teams.case_teams(session, case.id)
    if not case_teams:
        return teams.route(manifest, None, None, inactive).recipients
    routed = teams.route(manifest, case_teams, None, inactive)
    found = {r.key_id: r for r in routed.recipients}
    for r in casework.case_readers_signed(session, case, manifest):
        found.setdefault(r.key_id, r)
    return tuple(found.values())
