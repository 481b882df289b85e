"""Operator-editable support data: emergency guidance and the support directory.

Shipped examples live in intake/defaults/; a file of the same name in SANAD_HOME/config/
replaces it. Both are validated at load with errors that name the file and the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from core import ConfigurationError, StrKeyLineLoader
from flows import isolate, isolate_ltr_runs
from nlu import needs_in, normalise_arabic

__all__ = [
    "DEFAULTS",
    "DIRECTORY_SCHEMA",
    "GUIDANCE_SCHEMA",
    "KINDS",
    "ConfigError",
    "Directory",
    "Guidance",
    "Service",
    "config_path",
    "country_code",
    "load_checked",
    "needs_in",
]

DEFAULTS = Path(__file__).with_name("defaults")
# sexual_violence: services specialised in survivors of sexual violence, offered whenever a
# report names it (the sexual-violence protocol, issue 18 item 5).
KINDS = ("medical", "psychosocial", "legal", "shelter", "rehabilitation", "sexual_violence")
_BILINGUAL = {
    "type": "object",
    "required": ["ar", "en"],
    "additionalProperties": False,
    "properties": {
        "ar": {"type": "string", "minLength": 1},
        "en": {"type": "string", "minLength": 1},
    },
}

GUIDANCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["institution", "default_region", "regions"],
    "additionalProperties": False,
    "properties": {
        "institution": {
            "type": "object",
            "required": ["urgent_line", "hours"],
            "additionalProperties": False,
            "properties": {
                "urgent_line": {"type": "string"},
                "hours": _BILINGUAL,
                "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
            },
        },
        "default_region": {"type": "string"},
        "regions": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "required": ["names", "ar", "en"],
                "additionalProperties": False,
                "properties": {
                    "names": {"type": "array", "items": {"type": "string"}},
                    "ar": {"type": "string", "minLength": 1},
                    "en": {"type": "string", "minLength": 1},
                },
            },
        },
    },
}

DIRECTORY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["services"],
    "additionalProperties": False,
    "properties": {
        "services": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "kinds", "countries", "name", "hours", "contacts"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
                    "kinds": {"type": "array", "minItems": 1, "items": {"enum": list(KINDS)}},
                    "countries": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "pattern": "^([A-Z]{2}|\\*)$"},
                    },
                    "regions": {"type": "array", "items": {"type": "string"}},
                    "name": _BILINGUAL,
                    "hours": _BILINGUAL,
                    "contacts": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["type", "value"],
                            "additionalProperties": False,
                            "properties": {
                                "type": {
                                    "enum": [
                                        "phone",
                                        "signal",
                                        "whatsapp",
                                        "email",
                                        "web",
                                        "address",
                                    ]
                                },
                                "value": {"type": "string", "minLength": 1},
                            },
                        },
                    },
                },
            },
        }
    },
}


class ConfigError(ConfigurationError):
    """A configuration file does not validate; `problems` are 'file:line: message' lines."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def config_path(home: Path | None, name: str) -> Path:
    if home is not None and (home / "config" / name).exists():
        return home / "config" / name
    return DEFAULTS / name


def _line_of(data: Any, path: list[Any]) -> int | None:
    node, line = data, getattr(data, "line", None)
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        line = getattr(node, "line", line)
    return line


def load_checked(path: Path, schema: dict[str, Any]) -> Any:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=StrKeyLineLoader)  # noqa: S506  # nosec B506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError([f"{path}:{mark.line + 1 if mark else '?'}: not valid YAML"]) from exc
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read ({exc.strerror})"]) from exc
    problems = []
    for err in jsonschema.Draft202012Validator(schema).iter_errors(data):
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        problems.append(
            f"{path}:{_line_of(data, list(err.absolute_path)) or 1}: {where}: {err.message}"
        )
    if problems:
        raise ConfigError(problems)
    return data


@dataclass(frozen=True)
class Guidance:
    urgent_line: str
    hours: dict[str, str]
    default_region: str
    regions: dict[str, dict[str, Any]]
    home_country: str | None = None

    @classmethod
    def load(cls, home: Path | None = None) -> Guidance:
        path = config_path(home, "guidance.yaml")
        data = load_checked(path, GUIDANCE_SCHEMA)
        if data["default_region"] not in data["regions"]:
            raise ConfigError(
                [
                    f"{path}:{getattr(data, 'line', 1)}: default_region "
                    f"'{data['default_region']}' is not among the regions"
                ]
            )
        return cls(
            data["institution"]["urgent_line"],
            dict(data["institution"]["hours"]),
            data["default_region"],
            {k: dict(v) for k, v in data["regions"].items()},
            data["institution"].get("country"),
        )

    def region_for(self, country: str | None) -> str:
        """The region whose code or names match what the reporter wrote as their country."""
        if country:
            words = set(_words(country))
            for code, region in self.regions.items():
                names = {normalise_arabic(n) for n in region["names"]} | {code.lower()}
                if words & names:
                    return code
            return self.default_region
        if self.home_country in self.regions:  # nothing named yet: the institution's country
            return str(self.home_country)
        return self.default_region

    def text(self, lang: str, country: str | None) -> str:
        region = self.regions[self.region_for(country)]
        text = str(region[lang]).format(
            urgent_line=isolate(self.urgent_line), hours=self.hours[lang]
        )
        return isolate_ltr_runs(text) if lang == "ar" else text


@dataclass(frozen=True)
class Service:
    id: str
    kinds: tuple[str, ...]
    countries: tuple[str, ...]
    name: dict[str, str]
    hours: dict[str, str]
    contacts: tuple[tuple[str, str], ...]

    def render(self, lang: str) -> str:
        contacts = " · ".join(f"\u2068{value}\u2069" for _, value in self.contacts)
        return f"• {self.name[lang]}\n  {self.hours[lang]}\n  {contacts}"


@dataclass(frozen=True)
class Directory:
    services: tuple[Service, ...]

    @classmethod
    def load(cls, home: Path | None = None) -> Directory:
        data = load_checked(config_path(home, "directory.yaml"), DIRECTORY_SCHEMA)
        return cls(
            tuple(
                Service(
                    s["id"],
                    tuple(s["kinds"]),
                    tuple(s["countries"]),
                    dict(s["name"]),
                    dict(s["hours"]),
                    tuple((c["type"], c["value"]) for c in s["contacts"]),
                )
                for s in data["services"]
            )
        )

    def match(self, needs: set[str], country_code: str | None) -> list[Service]:
        """Services of the needed kinds in the reporter's country, then ones that work
        anywhere. Torture survivors asking for medical or psychosocial help are also offered
        rehabilitation."""
        if needs & {"medical", "psychosocial"}:
            needs = needs | {"rehabilitation"}
        local = [s for s in self.services if needs & set(s.kinds) and country_code in s.countries]
        remote = [s for s in self.services if needs & set(s.kinds) and "*" in s.countries]
        return local + [s for s in remote if s not in local]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", normalise_arabic(text))


def country_code(guidance: Guidance, country: str | None) -> str | None:
    """ISO code of what the reporter named, else the institution's own country."""
    if not country:
        return guidance.home_country
    code = guidance.region_for(country)
    return code if code != guidance.default_region else None
