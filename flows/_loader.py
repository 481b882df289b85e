"""Load flows and catalogues from YAML, validate the schema, then check the graph.

Every problem is collected (not just the first) and names the file, the step and the line.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from core import ConfigProblem, LineDict, StrKeyLineLoader, read_yaml, safe_load
from flows._errors import (
    BadOption,
    DeadEnd,
    DuplicateStep,
    FlowProblem,
    FlowValidationError,
    MissingBranch,
    MissingText,
    SchemaProblem,
    UnknownField,
    UnknownTarget,
    UnreachableStep,
)
from flows._model import (
    BOOL_OPTIONS,
    GROUP,
    QUESTION_KINDS,
    STEP_KINDS,
    Condition,
    FieldSpec,
    Flow,
    FlowSet,
    Step,
)

__all__ = [
    "ENTRY_POINTS",
    "FLOW_ORDER",
    "LANGS",
    "REPEAT_KEYS",
    "SECTIONS",
    "START",
    "SYSTEM_KEYS",
    "URGENT_START",
    "default_root",
    "load_fields",
    "load_flowset",
]

LANGS = ("ar", "en")
START = "opening:language"
URGENT_START = "urgent:start"  # entered from the engine's urgent offer
ENTRY_POINTS = (START, URGENT_START)
FLOW_ORDER = ("opening", "complaint", "reprisal", "urgent", "details", "closing")
SYSTEM_KEYS = (
    "sys.invalid.choice",
    "sys.invalid.multi",
    "sys.invalid.bool",
    "sys.invalid.date",
    "sys.invalid.text",
    "sys.invalid.files",
    "sys.cannot_skip",
    "sys.consent_unsure",
    "sys.back_at_start",
    "sys.help",
    "sys.lang_switched",
    "sys.quick_exit_done",
    "sys.resume.ask",
    "sys.resume.discarded",
    "sys.consent_refused",
    "sys.review.heading",
    "sys.review.confirm",
    "sys.review.skipped",
    "sys.review.after_no",
    "sys.review.files",
    "sys.receipt",
    "sys.attachment.received",
    "sys.attachment.rejected",
    "sys.files.more",
    "sys.urgent",
    "sys.text_too_long",
    "sys.ended",
    "sys.receipt_pasted",
    "sys.status",
    "sys.status.unknown",
    "sys.status.limited",
    "sys.status.finish_first",
    "sys.status.how",
    "sys.addendum.ask",
    "sys.addendum.saved",
    "sys.addendum.done",
    "sys.followup",
    "status.allegation_pending_assessment",
    "status.under_assessment",
    "status.action_taken",
    "status.referred",
    "status.monitoring",
    "status.closed",
    "sys.urgent.offer",
    "sys.urgent.self_harm",
    "sys.quick_exit_danger",
    "opt.urgent_short",
    "opt.urgent_full",
    "sys.quick_exit_urgent",
    "sys.urgent.after_exit",
    "rights.what",
    "rights.complain",
    "rights.institution",
    "rights.confidentiality",
    "rights.safety",
    "sys.support.intro",
    "sys.support.none",
    "opt.withdraw",
    "sys.attachment.failed",
    "sys.withdraw.ask",
    "sys.withdrawn",
    "status.withdrawn",
    "opt.yes",
    "opt.no",
    "opt.unknown",
    "opt.done",
    "opt.edit",
    "opt.discard",
    "opt.later",
    "opt.continue",
    "opt.restart",
)

_STEP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "kind"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "kind": {"enum": sorted(STEP_KINDS)},
        "field": {"type": "string"},
        "text": {"type": "string"},
        "help": {"type": "string"},
        "next": {"type": "string"},
        "options": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "branch": {"type": "object", "additionalProperties": {"type": "string"}},
        "on": {"type": "string"},
        "when": {
            "type": "object",
            "required": ["field", "is"],
            "additionalProperties": False,
            "properties": {
                "field": {"type": "string"},
                "is": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            },
        },
        "required": {"type": "boolean"},
        "consent": {"type": "boolean"},
        "consent_text": {"type": "string"},
        "urgent_if": {"enum": list(BOOL_OPTIONS)},
        "again": {"type": "boolean"},
        "text_child": {"type": "string"},
    },
    "allOf": [
        {
            "if": {"properties": {"kind": {"enum": sorted(QUESTION_KINDS)}}},
            "then": {"required": ["field", "text"]},
        },
        {
            "if": {"properties": {"kind": {"enum": ["choice", "multi"]}}},
            "then": {"required": ["options"]},
        },
        {
            "if": {"properties": {"kind": {"const": "route"}}},
            "then": {"required": ["on", "branch"]},
        },
        {
            "if": {"properties": {"kind": {"enum": ["info", "end", "receipt", "review"]}}},
            "then": {"required": ["text"]},
        },
    ],
}

_FLOW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["flow", "version", "steps"],
    "additionalProperties": False,
    "properties": {
        "flow": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "version": {"type": "integer", "minimum": 1},
        "steps": {"type": "array", "minItems": 1, "items": {"type": "object"}},
    },
}


def _read_yaml(path: Path, problems: list[FlowProblem]) -> Any:
    """core.yaml_lines.read_yaml, its problems as the flows checker reports them."""
    found: list[ConfigProblem] = []
    data = read_yaml(path, found, loader=StrKeyLineLoader)
    problems.extend(SchemaProblem(p.file, None, p.line, p.message) for p in found)
    return data


def default_root() -> Path:
    return Path(str(resources.files("flows")))


def load_fields(path: Path) -> dict[str, FieldSpec]:
    raw = safe_load(path.read_text(encoding="utf-8"))
    return {
        fid: FieldSpec(
            fid,
            spec["type"],
            tuple(spec.get("options", ())),
            _section(fid, spec.get("section", "report")),
            spec.get("group"),
            int(spec.get("max", 0)),
        )
        for fid, spec in raw.items()
    }


SECTIONS = ("report", "identity")


def _section(fid: str, section: object) -> str:
    if section not in SECTIONS:
        raise ValueError(f"fields.yaml: {fid}: section must be one of {', '.join(SECTIONS)}")
    if section == "identity" and fid.startswith("consent_"):
        raise ValueError(f"fields.yaml: {fid}: a consent is never in the identity section")
    return str(section)


def _qualify(flow: str, target: str) -> str:
    return target if ":" in target else f"{flow}:{target}"


def _build_step(flow: str, raw: LineDict) -> Step:
    when = raw.get("when")
    return Step(
        flow=flow,
        id=raw["id"],
        kind=raw["kind"],
        line=raw.line,
        field=raw.get("field"),
        text=raw.get("text"),
        help=raw.get("help"),
        next=_qualify(flow, raw["next"]) if "next" in raw else None,
        options=tuple(raw.get("options", ())),
        labels=dict(raw.get("labels", {})),
        branch={str(k): _qualify(flow, v) for k, v in raw.get("branch", {}).items()},
        on=raw.get("on"),
        when=Condition(when["field"], tuple(when["is"])) if when else None,
        required=bool(raw.get("required", False)),
        consent=bool(raw.get("consent", False)),
        consent_text=raw.get("consent_text"),
        urgent_if=raw.get("urgent_if"),
        again=bool(raw.get("again", False)),
        text_child=raw.get("text_child"),
    )


def _load_flow(path: Path, problems: list[FlowProblem]) -> Flow | None:
    data = _read_yaml(path, problems)
    if data is None:
        return None
    for err in jsonschema.Draft202012Validator(_FLOW_SCHEMA).iter_errors(data):
        problems.append(SchemaProblem(str(path), None, getattr(data, "line", 1), err.message))
        return None
    if data["flow"] != path.stem:
        problems.append(
            SchemaProblem(
                str(path), None, data.line, f"flow '{data['flow']}' must be named like its file"
            )
        )
    steps: list[Step] = []
    seen: set[str] = set()
    validator = jsonschema.Draft202012Validator(_STEP_SCHEMA)
    for index, raw in enumerate(data["steps"]):
        name = raw.get("id") if isinstance(raw, dict) else None
        line = getattr(raw, "line", data.line)
        errors = list(validator.iter_errors(raw))
        for err in errors:
            loc = "/".join(str(p) for p in err.absolute_path)
            detail = f"{loc}: {err.message}" if loc else err.message
            problems.append(SchemaProblem(str(path), name or f"#{index + 1}", line, detail))
        if errors:
            continue
        if name in seen:
            problems.append(DuplicateStep(str(path), name, line, "step id used twice"))
            continue
        seen.add(str(name))
        steps.append(_build_step(data["flow"], raw))
    # Fill the implicit "next" (the following step in the list).
    resolved = []
    for i, step in enumerate(steps):
        # Routes get no implicit next: a value without a branch must not fall into whatever
        # step happens to follow (e.g. the consent-refused ending).
        if step.next is None and step.kind not in ("end", "route") and i + 1 < len(steps):
            step = Step(**{**step.__dict__, "next": steps[i + 1].ref})
        resolved.append(step)
    return Flow(data["flow"], int(data["version"]), str(path), tuple(resolved))


def _load_catalogs(root: Path, problems: list[FlowProblem]) -> dict[str, dict[str, str]]:
    catalogs: dict[str, dict[str, str]] = {}
    for lang in LANGS:
        path = root / "catalog" / f"{lang}.yaml"
        data = _read_yaml(path, problems)
        if not isinstance(data, dict):
            if data is not None:
                problems.append(SchemaProblem(str(path), None, 1, "catalogue must be a mapping"))
            catalogs[lang] = {}
            continue
        bad = [k for k, v in data.items() if not isinstance(v, str) or not v.strip()]
        for key in bad:
            problems.append(
                SchemaProblem(str(path), None, getattr(data, "line", None), f"'{key}' must be text")
            )
        catalogs[lang] = {k: v for k, v in data.items() if k not in bad}
    return catalogs


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _check_catalogs(
    root: Path,
    catalogs: dict[str, dict[str, str]],
    needed: Iterable[tuple[str, Step | None]],
    problems: list[FlowProblem],
) -> None:
    ar, en = catalogs.get("ar", {}), catalogs.get("en", {})
    for lang, mine, other in (("ar", ar, en), ("en", en, ar)):
        path = str(root / "catalog" / f"{lang}.yaml")
        for key in sorted(set(other) - set(mine)):
            problems.append(MissingText(path, None, None, f"key '{key}' is missing in '{lang}'"))
    for key in sorted(set(ar) & set(en)):
        if _placeholders(ar[key]) != _placeholders(en[key]):
            problems.append(
                MissingText(
                    str(root / "catalog"),
                    None,
                    None,
                    f"placeholders of '{key}' differ between ar and en",
                )
            )
    for key, step in needed:
        for lang in LANGS:
            if key not in catalogs.get(lang, {}):
                file = step and next(iter([step.flow]), None)
                problems.append(
                    MissingText(
                        f"{root / 'definitions' / file}.yaml"
                        if file
                        else str(root / "catalog" / f"{lang}.yaml"),
                        step.id if step else None,
                        step.line if step else None,
                        f"text key '{key}' missing in the '{lang}' catalogue",
                    )
                )


def _check_graph(
    flows: dict[str, Flow],
    steps: dict[str, Step],
    fields: dict[str, FieldSpec],
    problems: list[FlowProblem],
) -> None:
    for flow in flows.values():
        for step in flow.steps:

            def bad(cls: type[FlowProblem], msg: str, step: Step = step, flow: Flow = flow) -> None:
                problems.append(cls(flow.path, step.id, step.line, msg))

            for target in [step.next, *step.branch.values()]:
                if target is not None and target not in steps:
                    bad(UnknownTarget, f"goes to '{target}', which does not exist")
            if step.kind in QUESTION_KINDS:
                spec = fields.get(step.field or "")
                if spec is None:
                    bad(UnknownField, f"field '{step.field}' is not in the data dictionary")
                    continue
                if spec.type != step.kind:
                    bad(SchemaProblem, f"field '{spec.id}' is {spec.type}, step is {step.kind}")
                for opt in set(step.options) - set(spec.options):
                    bad(BadOption, f"option '{opt}' is not an option of '{spec.id}'")
                allowed = set(step.option_ids()) | {"skipped"}
                for key in set(step.branch) - allowed:
                    bad(BadOption, f"branch on '{key}', which '{spec.id}' cannot answer")
            if step.kind == "route":
                spec = fields.get(step.on or "")
                if spec is None:
                    bad(UnknownField, f"routes on unknown field '{step.on}'")
                elif step.next is None and set(spec.options) - set(step.branch):
                    missing = ", ".join(sorted(set(spec.options) - set(step.branch)))
                    bad(MissingBranch, f"no branch and no next for: {missing}")
            if step.when is not None and step.when.field not in fields:
                bad(UnknownField, f"'when' names unknown field '{step.when.field}'")
            if (
                step.next is None
                and step.kind != "end"
                and not (step.kind == "route" and step.branch)
            ):
                bad(DeadEnd, "has no next step and is not an end")
    # Reachability from the start.
    seen: set[str] = set()
    todo = [ref for ref in ENTRY_POINTS if ref in steps]
    while todo:
        ref = todo.pop()
        if ref in seen or ref not in steps:
            continue
        seen.add(ref)
        step = steps[ref]
        todo.extend(t for t in [step.next, *step.branch.values()] if t)
    for ref, step in steps.items():
        if ref not in seen:
            problems.append(
                UnreachableStep(
                    flows[step.flow].path, step.id, step.line, f"no path from {START} reaches it"
                )
            )
    if START in steps and URGENT_START not in steps:
        problems.append(
            UnknownTarget(
                str(Path(next(iter(flows.values())).path).parent),
                None,
                None,
                f"the urgent path {URGENT_START} does not exist",
            )
        )


def _needed_keys(steps: dict[str, Step]) -> list[tuple[str, Step | None]]:
    needed: list[tuple[str, Step | None]] = [(k, None) for k in SYSTEM_KEYS]
    for step in steps.values():
        for key in (step.text, step.help, step.consent_text, step.text_child):
            if key:
                needed.append((key, step))
        for opt in step.options:
            needed.append((step.label_key(opt), step))
        if step.field and step.kind in QUESTION_KINDS:
            needed.append((f"field.{step.field}", step))
    return needed


REPEAT_KEYS = ("sys.repeat.person", "sys.repeat.cap", "sys.repeat.heading")


def _check_groups(
    root: Path,
    flows: dict[str, Flow],
    steps: dict[str, Step],
    fields: dict[str, FieldSpec],
    problems: list[FlowProblem],
    needed: list[tuple[str, Step | None]],
) -> None:
    """A repeated block (fields.yaml `type: group`): its questions are contiguous in one flow,
    entered only at its first question, left only by its `again` question, which is a
    yes/no whose "yes" starts the next entry; names in it go to `<group>_identity`."""
    groups = {
        f.id: f for f in fields.values() if f.type == GROUP and not f.id.endswith("_identity")
    }
    for spec in fields.values():
        if spec.group is not None and spec.group not in groups:
            problems.append(
                UnknownField(
                    str(root / "fields.yaml"),
                    spec.id,
                    None,
                    f"group '{spec.group}' is not a group field",
                )
            )
    for gid, spec in groups.items():
        members = [
            s
            for s in steps.values()
            if fields.get(s.field or "") is not None and fields[s.field or ""].group == gid
        ]
        if not members:
            continue
        if spec.max < 1:
            problems.append(
                SchemaProblem(str(root / "fields.yaml"), gid, None, "a group needs max: 1 or more")
            )
        first, flow = members[0], flows[members[0].flow]
        refs = {s.ref for s in members}
        needed.extend([(f"field.{gid}", first), *((k, first) for k in REPEAT_KEYS)])

        def bad(cls: type[FlowProblem], msg: str, step: Step, flow: Flow = flow) -> None:
            problems.append(cls(flow.path, step.id, step.line, msg))

        if any(fields[s.field or ""].section == "identity" for s in members) and (
            fields.get(f"{gid}_identity") is None or fields[f"{gid}_identity"].section != "identity"
        ):
            bad(
                UnknownField,
                f"names in group '{gid}' need a '{gid}_identity' group field "
                "in the identity section",
                first,
            )
        again = [s for s in members if s.again]
        if len(again) != 1:
            bad(SchemaProblem, f"group '{gid}' needs exactly one step with again: true", first)
        for step in again:
            if step.kind != "bool" or step.branch.get("yes") != first.ref:
                bad(
                    SchemaProblem,
                    f"the again step of '{gid}' must be a yes/no whose \"yes\" goes to {first.ref}",
                    step,
                )
            if step.next is None or step.next in refs:
                bad(DeadEnd, f"the again step of '{gid}' must leave the block by next", step)
        for step in members:
            if step.flow != first.flow:
                bad(SchemaProblem, f"group '{gid}' spans two flows", step)
            if step.kind == "files":
                bad(SchemaProblem, "files cannot be asked per person", step)
            if step.again:
                continue
            for target in [step.next, *step.branch.values()]:
                if target is not None and target not in refs:
                    bad(SchemaProblem, f"leaves group '{gid}' before its again step", step)
        for step in steps.values():
            if step.ref in refs:
                continue
            for target in [step.next, *step.branch.values()]:
                if target in refs and target != first.ref:
                    bad(
                        SchemaProblem,
                        f"enters group '{gid}' at {target}, not at its first question {first.ref}",
                        step,
                    )


def load_flowset(root: Path | None = None) -> FlowSet:
    """Load and check every flow and both catalogues; raise FlowValidationError on problems."""
    root = root or default_root()
    problems: list[FlowProblem] = []
    fields = load_fields(root / "fields.yaml")
    flows: dict[str, Flow] = {}
    for path in sorted((root / "definitions").glob("*.yaml")):
        flow = _load_flow(path, problems)
        if flow is not None:
            flows[flow.id] = flow
    steps = {s.ref: s for f in flows.values() for s in f.steps}
    if START not in steps and not problems:
        problems.append(
            UnknownTarget(
                str(root / "definitions"), None, None, f"the start step {START} does not exist"
            )
        )
    catalogs = _load_catalogs(root, problems)
    _check_graph(flows, steps, fields, problems)
    needed = _needed_keys(steps)
    _check_groups(root, flows, steps, fields, problems, needed)
    _check_catalogs(root, catalogs, needed, problems)
    if problems:
        raise FlowValidationError(problems)
    order = {name: i for i, name in enumerate(FLOW_ORDER)}
    version = "+".join(
        f"{f.id}.{f.version}"
        for f in sorted(flows.values(), key=lambda f: (order.get(f.id, 99), f.id))
    )
    digest = hashlib.sha256(
        repr(sorted(catalogs["en"].items()) + sorted(catalogs["ar"].items())).encode()
    ).hexdigest()[:8]
    return FlowSet(
        flows=flows,
        steps=steps,
        catalog=catalogs,
        fields=fields,
        start=START,
        version=f"{version}/{digest}",
    )
