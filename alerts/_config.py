"""oncall.yaml: the rota and the routes alerts travel by, checked at load like the flows.

The shipped example is `alerts/defaults/oncall.yaml`; the live file is
`SANAD_HOME/config/oncall.yaml` and, when it exists, is the one used. Secrets never appear in
the file: routes name environment variables (`token_env`, `password_env`, `secret_env`), read
when an alert is sent. Every problem names the file and the line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema

from core import ConfigProblem, ConfigurationError, LineDict, line_of, read_yaml

__all__ = [
    "CHECKIN_STAGES",
    "DEFAULT_ONCALL",
    "CheckinSchedule",
    "OncallConfig",
    "OncallConfigError",
    "Person",
    "Retry",
    "Route",
    "SignalRoute",
    "SmtpRoute",
    "TeamTargets",
    "TelegramRoute",
    "WebhookRoute",
    "Window",
    "check_oncall",
    "live_oncall_path",
    "load_oncall",
    "oncall_path",
]

DEFAULT_ONCALL = Path(__file__).parent / "defaults" / "oncall.yaml"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SECRET_KEYS = ("token", "password", "secret", "bot_token", "api_key")
_ENV = {"type": "string", "pattern": "^[A-Z_][A-Z0-9_]*$"}
_TIME = {"type": "string", "pattern": "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"}
_START = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
_NAME = "^[a-z0-9][a-z0-9_-]{0,63}$"
PRIORITIES = (1, 2, 3, 4)
_DAYS = {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0, "maximum": 3650}}
_CHECKINS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "after_report": _DAYS,
        "after_contact": _DAYS,
        "after_visit": _DAYS,
        "answer_within_hours": {"type": "number", "minimum": 1, "maximum": 720},
    },
}
# first_assessment_minutes: {PRIORITY: MINUTES}, priorities 1 to 4, at most a year
_TARGETS = {
    "type": "object",
    "propertyNames": {"enum": [*PRIORITIES, *map(str, PRIORITIES)]},
    "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 525600},
}
ON_CALL_KINDS = (
    "new",
    "measure_due",
    "assessment_due",
    "checkin_unsafe",
    "checkin_call",
    "checkin_missed",
    "referral_due",
)  # the others go to the supervisors
FOCAL_KINDS = ("allegation", "assessment_due", "assessment_late")  # also the team's focal point


class OncallConfigError(ConfigurationError):
    """The on-call configuration cannot be used; carries every problem found."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# ---- the typed, frozen configuration --------------------------------------------------------


@dataclass(frozen=True)
class TelegramRoute:
    kind: ClassVar[str] = "telegram"
    name: str
    chat_id: str
    token_env: str
    base_url: str | None = None  # like PTB: ".../bot"; else SANAD_TELEGRAM_BASE_URL, else public


@dataclass(frozen=True)
class SignalRoute:
    kind: ClassVar[str] = "signal"
    name: str
    service: str  # signal-cli-rest-api host:port, no scheme
    number: str  # the registered sender
    recipient: str


@dataclass(frozen=True)
class SmtpRoute:
    kind: ClassVar[str] = "smtp"
    name: str
    host: str
    port: int
    starttls: bool
    sender: str
    to: tuple[str, ...]
    user_env: str | None = None
    password_env: str | None = None
    ca_file: str | None = None  # trust this CA (a private mail server) instead of the system's


@dataclass(frozen=True)
class WebhookRoute:
    kind: ClassVar[str] = "webhook"
    name: str
    url: str
    secret_env: str | None = None  # HMAC-SHA256 of the body, hex, in `secret_header`
    secret_header: str = "X-Sanad-Signature"  # noqa: S105 (a header name)


Route = TelegramRoute | SignalRoute | SmtpRoute | WebhookRoute


@dataclass(frozen=True)
class Window:
    """Weekly hours in the rota's timezone; `end <= start` runs past midnight."""

    days: frozenset[int]  # 0 = Monday
    start: int  # minutes after midnight
    end: int  # 1..1440

    def contains(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        day = local.weekday()
        if self.start < self.end:
            return day in self.days and self.start <= minute < self.end
        return (day in self.days and minute >= self.start) or (
            (day - 1) % 7 in self.days and minute < self.end
        )


@dataclass(frozen=True)
class Person:
    name: str
    role: str  # on_call | supervisor
    routes: tuple[str, ...]
    windows: tuple[Window, ...] = ()  # none: always on duty

    def on_duty(self, local: datetime) -> bool:
        return not self.windows or any(w.contains(local) for w in self.windows)


@dataclass(frozen=True)
class Retry:
    first_delay_seconds: int = 15
    max_delay_seconds: int = 900
    max_attempts: int = 10

    def delay(self, attempts: int) -> int:
        """Exponential backoff after the `attempts`-th failure: 15 s, 30 s, 60 s, ..."""
        return int(min(self.max_delay_seconds, self.first_delay_seconds * 2 ** (attempts - 1)))


CHECKIN_STAGES = ("after_report", "after_contact", "after_visit")


@dataclass(frozen=True)
class CheckinSchedule:
    """Safety check-ins (issue 18 item 1): days after the report, after a caseworker's
    message reached the reporter, and after a visit; unanswered after `answer_within_hours`
    the case is raised and the on-call caseworkers told."""

    after_report: tuple[float, ...] = ()
    after_contact: tuple[float, ...] = ()
    after_visit: tuple[float, ...] = ()
    answer_within_hours: float = 48.0

    def days(self, stage: str) -> tuple[float, ...]:
        return tuple(getattr(self, stage))


@dataclass(frozen=True)
class TeamTargets:
    """A team's own first-assessment targets (overriding the file's) and its focal point: the
    routes told of each new allegation routed to the team and of its assessment deadlines;
    and its own check-in schedule, if it has one."""

    first_assessment_minutes: Mapping[int, int] = field(default_factory=dict)
    focal_point: tuple[str, ...] = ()
    checkins: CheckinSchedule | None = None


@dataclass(frozen=True)
class OncallConfig:
    timezone: ZoneInfo
    routes: Mapping[str, Route]
    rota: tuple[Person, ...]
    escalate_after_minutes: int = 30
    retry: Retry = field(default_factory=Retry)
    source: str = ""
    measure_reminder_days: int = 2  # remind this long before an interim measure's deadline
    # First-assessment deadlines (contracts.md): minutes per priority; empty: not in use
    first_assessment_minutes: Mapping[int, int] = field(default_factory=dict)
    assessment_reminder_percent: int = 75  # remind once this much of the time has gone
    teams: Mapping[str, TeamTargets] = field(default_factory=dict)
    checkins: CheckinSchedule | None = None  # None: no safety check-ins

    def checkins_for(self, teams: tuple[str, ...] = ()) -> CheckinSchedule | None:
        """The check-in schedule of a case routed to `teams`: its first team that has one,
        else the file's."""
        for name in teams:
            own = self.teams.get(name)
            if own is not None and own.checkins is not None:
                return own.checkins
        return self.checkins

    def assessment_minutes(self, priority: int, teams: tuple[str, ...] = ()) -> int | None:
        """How long an allegation of `priority` routed to `teams` may wait for its first
        assessment: the shortest target of its teams, else the file's; None when no target
        is set for that priority."""
        own = [
            t.first_assessment_minutes[priority]
            for name in teams
            if (t := self.teams.get(name)) and priority in t.first_assessment_minutes
        ]
        if own:
            return min(own)
        return self.first_assessment_minutes.get(priority)

    def routes_for(self, kind: str, now: datetime, teams: tuple[str, ...] = ()) -> list[Route]:
        """Who is told, now: on-call people on duty for `new` alerts, near measure deadlines
        (`measure_due`) and near first-assessment deadlines (`assessment_due`), supervisors on
        duty for `escalation` and passed deadlines (`measure_late`, `assessment_late`).
        Nobody on duty is never silence: the on-call kinds fall back to the supervisors on
        duty, and then (as the others do) to every supervisor.

        A new allegation (`allegation`) goes to the focal point of the case's `teams` and the
        assessment kinds to it as well; a case whose teams name no focal point tells the
        supervisors of a new allegation."""
        focal = (
            dict.fromkeys(r for name in teams if (t := self.teams.get(name)) for r in t.focal_point)
            if kind in FOCAL_KINDS
            else {}
        )
        if kind == "allegation" and focal:
            return [self.routes[n] for n in focal if n in self.routes]
        local = now.astimezone(self.timezone)

        def of(role: str, duty_only: bool) -> list[Person]:
            return [p for p in self.rota if p.role == role and (p.on_duty(local) or not duty_only)]

        people = of("on_call", True) if kind in ON_CALL_KINDS else []
        people = people or of("supervisor", True) or of("supervisor", False)
        names = dict.fromkeys([*(r for p in people for r in p.routes), *focal])
        return [self.routes[n] for n in names if n in self.routes]


# ---- the schema -----------------------------------------------------------------------------


def _route_schema(
    kind: str, required: list[str], props: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
        "then": {
            "required": required,
            "properties": props,
            "propertyNames": {"enum": ["kind", *props, *SECRET_KEYS]},
            **extra,
        },
    }


_ROUTE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["kind"],
    "properties": {"kind": {"enum": ["telegram", "signal", "smtp", "webhook"]}},
    "allOf": [
        _route_schema(
            "telegram",
            ["chat_id", "token_env"],
            {
                "chat_id": {"type": ["string", "integer"]},
                "token_env": _ENV,
                "base_url": {"type": "string", "pattern": "^https?://"},
            },
        ),
        _route_schema(
            "signal",
            ["service", "number", "recipient"],
            {
                "service": {"type": "string", "pattern": r"^[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}$"},
                "number": {"type": "string", "pattern": r"^\+[0-9]{6,15}$"},
                "recipient": {"type": "string", "minLength": 1},
            },
        ),
        _route_schema(
            "smtp",
            ["host", "port", "from", "to"],
            {
                "host": {"type": "string", "minLength": 1},
                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                "starttls": {"type": "boolean"},
                "ca_file": {"type": "string", "minLength": 1},
                "user_env": _ENV,
                "password_env": _ENV,
                "from": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"},
                "to": {
                    "oneOf": [
                        {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"},
                        {
                            "type": "array",
                            "minItems": 1,
                            "items": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"},
                        },
                    ]
                },
            },
            dependentRequired={"user_env": ["password_env"], "password_env": ["user_env"]},
        ),
        _route_schema(
            "webhook",
            ["url"],
            {
                "url": {"type": "string", "pattern": "^https?://"},
                "secret_env": _ENV,
                "secret_header": {"type": "string", "pattern": "^[A-Za-z0-9-]+$"},
            },
        ),
    ],
}

_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["timezone", "routes", "rota"],
    "additionalProperties": False,
    "properties": {
        "timezone": {"type": "string"},
        "escalate_after_minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
        "measure_reminder_days": {"type": "integer", "minimum": 0, "maximum": 60},
        "first_assessment_minutes": _TARGETS,
        "assessment_reminder_percent": {"type": "integer", "minimum": 1, "maximum": 99},
        "checkins": _CHECKINS,
        "teams": {
            "type": "object",
            "propertyNames": {"pattern": _NAME},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "first_assessment_minutes": _TARGETS,
                    "checkins": _CHECKINS,
                    "focal_point": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                },
            },
        },
        "retry": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "first_delay_seconds": {"type": "integer", "minimum": 1, "maximum": 3600},
                "max_delay_seconds": {"type": "integer", "minimum": 1, "maximum": 86400},
                "max_attempts": {"type": "integer", "minimum": 1, "maximum": 100},
            },
        },
        "routes": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": _NAME},
            "additionalProperties": _ROUTE_SCHEMA,
        },
        "rota": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "role", "routes"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 80},
                    "role": {"enum": ["on_call", "supervisor"]},
                    "routes": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                    "windows": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["from", "to"],
                            "additionalProperties": False,
                            "properties": {
                                "days": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {"enum": list(DAYS)},
                                },
                                "from": _START,
                                "to": _TIME,
                            },
                        },
                    },
                },
            },
        },
    },
}
_VALIDATOR = jsonschema.Draft202012Validator(_SCHEMA)


# ---- loading and checking -------------------------------------------------------------------


def live_oncall_path(home: Path) -> Path:
    return home / "config" / "oncall.yaml"


def oncall_path(home: Path) -> Path:
    """The file in use: the live one in the home, else the shipped example."""
    live = live_oncall_path(home)
    return live if live.exists() else DEFAULT_ONCALL


def check_oncall(path: Path, env: Mapping[str, str] | None = None) -> list[ConfigProblem]:
    """Every problem in `path` (errors, and warnings for unset environment variables when
    `env` is given); an empty list means the file can be used."""
    problems: list[ConfigProblem] = []
    _parse(path, problems, env)
    return problems


def load_oncall(path: Path) -> OncallConfig:
    """The typed configuration; raises OncallConfigError listing every error."""
    problems: list[ConfigProblem] = []
    config = _parse(path, problems, None)
    errors = [p for p in problems if p.severity == "error"]
    if errors or config is None:
        raise OncallConfigError(errors)
    return config


def _where(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def _parse(
    path: Path, problems: list[ConfigProblem], env: Mapping[str, str] | None
) -> OncallConfig | None:
    file = str(path)
    doc = read_yaml(path, problems)
    if problems:
        return None
    if not isinstance(doc, LineDict):
        problems.append(ConfigProblem(file, 1, "expected a mapping with timezone, routes, rota"))
        return None

    def problem(at: list[Any], message: str, severity: str = "error") -> None:
        problems.append(ConfigProblem(file, line_of(doc, at), message, severity))

    routes = doc.get("routes")
    if isinstance(routes, LineDict):
        for name, route in routes.items():
            for key in SECRET_KEYS:
                if isinstance(route, LineDict) and key in route:
                    problem(
                        ["routes", name, key],
                        f"routes.{name}.{key}: secrets never go in this file; name an "
                        f"environment variable instead ({_env_key(key)}: MY_VARIABLE)",
                    )
    for error in sorted(_VALIDATOR.iter_errors(doc), key=lambda e: list(map(str, e.path))):
        at = list(error.absolute_path)
        if "propertyNames" in error.schema_path:  # error.instance is the key itself
            if error.instance in SECRET_KEYS:
                continue  # reported above, with the way to fix it
            if at == ["routes"]:
                problem(
                    [*at, error.instance],
                    f"routes: the name '{error.instance}' may hold "
                    "only lowercase letters, digits, - and _ (at most 64)",
                )
            else:
                problem([*at, error.instance], f"{_where(error)}: unknown key '{error.instance}'")
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {})
            for key in error.instance:
                if key not in known:
                    problem([*at, key], f"{_where(error)}: unknown key '{key}'")
            continue
        hint = _HINTS.get(error.schema.get("pattern", "")) if error.validator == "pattern" else None
        problem(
            at,
            f"{_where(error)}: {error.instance!r} {hint}"
            if hint
            else f"{_where(error)}: {error.message}",
        )
    tz = _zone(doc.get("timezone"))
    if tz is None and isinstance(doc.get("timezone"), str):
        problem(
            ["timezone"],
            f"timezone: unknown time zone '{doc['timezone']}' "
            "(use a name such as Asia/Amman or UTC)",
        )
    _check_references(doc, problem)
    if problems or tz is None or not isinstance(routes, dict):
        problems.sort(key=lambda p: p.line or 0)
        return None
    built: dict[str, Route] = {name: _route(name, raw) for name, raw in routes.items()}
    rota: list[Person] = []
    for raw in doc["rota"]:
        windows = tuple(
            Window(
                days=frozenset(DAYS.index(d) for d in w.get("days", DAYS)),
                start=_minutes(w["from"]),
                end=_minutes(w["to"]) or 1440,
            )
            for w in raw.get("windows", [])
        )
        rota.append(Person(raw["name"], raw["role"], tuple(raw["routes"]), windows))
    used = {r for p in rota for r in p.routes} | {
        r for raw in (doc.get("teams") or {}).values() for r in raw.get("focal_point", ())
    }
    for name in built:
        if name not in used:
            problem(
                ["routes", name], f"routes.{name}: no one in the rota uses this route", "warning"
            )
    for name, route in built.items():
        url = (
            route.url
            if isinstance(route, WebhookRoute)
            else (route.base_url if isinstance(route, TelegramRoute) else None)
        )
        if url and url.startswith("http://") and not _loopback(url):
            problem(
                ["routes", name],
                f"routes.{name}: http:// sends alerts unencrypted; use "
                "https:// unless the far end is on this machine",
                "warning",
            )
        if isinstance(route, SmtpRoute) and route.ca_file and not Path(route.ca_file).is_file():
            problem(
                ["routes", name, "ca_file"],
                f"routes.{name}.ca_file: no file at {route.ca_file} on this machine",
                "warning",
            )
    if env is not None:
        for name, route in built.items():
            for var in _env_names(route):
                if not env.get(var):
                    problem(
                        ["routes", name],
                        f"routes.{name}: environment variable {var} is not set here",
                        "warning",
                    )
    problems.sort(key=lambda p: p.line or 0)
    if any(p.severity == "error" for p in problems):
        return None
    retry = doc.get("retry", {})
    teams = {
        name: TeamTargets(
            _targets(raw.get("first_assessment_minutes")),
            tuple(raw.get("focal_point", ())),
            _checkins(raw.get("checkins")),
        )
        for name, raw in (doc.get("teams") or {}).items()
    }
    return OncallConfig(
        timezone=tz,
        routes=built,
        rota=tuple(rota),
        escalate_after_minutes=int(doc.get("escalate_after_minutes", 30)),
        retry=Retry(**{k: int(v) for k, v in retry.items()}),
        source=file,
        measure_reminder_days=int(doc.get("measure_reminder_days", 2)),
        first_assessment_minutes=_targets(doc.get("first_assessment_minutes")),
        assessment_reminder_percent=int(doc.get("assessment_reminder_percent", 75)),
        teams=teams,
        checkins=_checkins(doc.get("checkins")),
    )


def _checkins(raw: Any) -> CheckinSchedule | None:
    if raw is None:
        return None

    def days(stage: str) -> tuple[float, ...]:
        return tuple(sorted(float(d) for d in raw.get(stage, ())))

    return CheckinSchedule(
        days("after_report"),
        days("after_contact"),
        days("after_visit"),
        float(raw.get("answer_within_hours", 48)),
    )


def _targets(raw: Any) -> dict[int, int]:
    return {int(k): int(v) for k, v in (raw or {}).items()}


_HINTS = {
    _TIME["pattern"]: "is not a time of day (HH:MM, from 00:00 to 24:00)",
    _START["pattern"]: "is not a time of day (HH:MM, from 00:00 to 23:59)",
    _ENV["pattern"]: "is not an environment variable name (capitals, digits and _)",
    "^https?://": "must start with http:// or https://",
}


def _loopback(url: str) -> bool:
    host = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")


def _zone(name: object) -> ZoneInfo | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _check_references(doc: LineDict, problem: Callable[..., None]) -> None:
    """Rota entries name routes that exist; both roles are present (as far as can be read)."""
    routes = doc.get("routes")
    names = set(routes) if isinstance(routes, dict) else set()
    rota = doc.get("rota")
    if not isinstance(rota, list):
        return
    roles = set()
    for i, person in enumerate(rota):
        if not isinstance(person, dict):
            continue
        roles.add(person.get("role"))
        wanted = person.get("routes")
        for j, name in enumerate(wanted if isinstance(wanted, list) else []):
            if isinstance(name, str) and name not in names:
                problem(
                    ["rota", i, "routes", j],
                    f"rota.{i}.routes: no route named '{name}' under routes",
                )
    teams = doc.get("teams")
    for team, raw in teams.items() if isinstance(teams, dict) else ():
        focal = raw.get("focal_point") if isinstance(raw, dict) else None
        for j, name in enumerate(focal if isinstance(focal, list) else []):
            if isinstance(name, str) and name not in names:
                problem(
                    ["teams", team, "focal_point", j],
                    f"teams.{team}.focal_point: no route named '{name}' under routes",
                )
    for role in ("on_call", "supervisor"):
        if rota and role not in roles:
            problem(["rota"], f"rota: nobody has the role {role}")


def _env_key(key: str) -> str:
    # names of the keys that hold environment variable names, not secrets
    names = {
        "token": "token_env",
        "bot_token": "token_env",  # nosec B105
        "password": "password_env",
    }  # nosec B105
    return names.get(key, "secret_env")


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _route(name: str, raw: Mapping[str, Any]) -> Route:
    kind = raw["kind"]
    if kind == "telegram":
        return TelegramRoute(name, str(raw["chat_id"]), raw["token_env"], raw.get("base_url"))
    if kind == "signal":
        return SignalRoute(name, raw["service"], raw["number"], raw["recipient"])
    if kind == "smtp":
        to = raw["to"]
        return SmtpRoute(
            name,
            raw["host"],
            int(raw["port"]),
            bool(raw.get("starttls", True)),
            raw["from"],
            tuple([to] if isinstance(to, str) else to),
            raw.get("user_env"),
            raw.get("password_env"),
            raw.get("ca_file"),
        )
    return WebhookRoute(
        name, raw["url"], raw.get("secret_env"), raw.get("secret_header", "X-Sanad-Signature")
    )


def _env_names(route: Route) -> list[str]:
    if isinstance(route, TelegramRoute):
        return [route.token_env]
    if isinstance(route, SmtpRoute):
        return [v for v in (route.user_env, route.password_env) if v]
    if isinstance(route, WebhookRoute):
        return [route.secret_env] if route.secret_env else []
    return []
