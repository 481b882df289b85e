"""Read NLU data in Rasa's YAML format, and the labelled urgency / language set.

The training file (`data/train.yml`) feeds both backends; `data/test.yml` is the held-out
split that no training ever reads; `data/urgency.yml` labels urgency and language.
`out_of_scope` examples (text that is none of the intents) are reported as `nlu_fallback`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core import ConfigurationError, safe_load

__all__ = [
    "DATA_DIR",
    "OUT_OF_SCOPE",
    "TEST_PATH",
    "TRAIN_PATH",
    "URGENCY_PATH",
    "LabelledText",
    "NluData",
    "NluDataError",
    "gold_intent",
    "load_labelled",
    "load_nlu",
]

DATA_DIR = Path(__file__).parent / "data"
TRAIN_PATH = DATA_DIR / "train.yml"
TEST_PATH = DATA_DIR / "test.yml"
URGENCY_PATH = DATA_DIR / "urgency.yml"
OUT_OF_SCOPE = "out_of_scope"

# Rasa entity annotations: "[text](entity)", "[text](entity:value)", "[text]{...}".
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+?)\](?:\([^)]*\)|\{[^}]*\})")


class NluDataError(ConfigurationError, ValueError):
    """The file is not NLU data in Rasa's YAML format."""


@dataclass(frozen=True)
class NluData:
    """Examples as (text, intent) pairs, plus synonyms and lookup tables."""

    examples: tuple[tuple[str, str], ...]
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lookups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def intents(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(intent for _, intent in self.examples))


@dataclass(frozen=True)
class LabelledText:
    """One example of the urgency / language set."""

    text: str
    urgent: bool
    lang: str
    arabizi: bool


def gold_intent(intent: str) -> str:
    """The intent name a backend is expected to answer for a training label."""
    return "nlu_fallback" if intent == OUT_OF_SCOPE else intent


def _example_lines(block: object, where: str) -> list[str]:
    if isinstance(block, list):  # the long form: [{"text": ...}, ...]
        items = [str(item["text"]) if isinstance(item, dict) else str(item) for item in block]
    elif isinstance(block, str):
        items = []
        for line in block.splitlines():
            line = line.strip()
            if not line:
                continue
            if not line.startswith("- "):
                raise NluDataError(f"{where}: example lines start with '- ': {line[:40]!r}")
            items.append(line[2:])
    else:
        raise NluDataError(f"{where}: 'examples' must be a block of '- ' lines")
    return [_ANNOTATION.sub(r"\g<text>", item).strip() for item in items if item.strip()]


def load_nlu(path: Path | str) -> NluData:
    """Read a Rasa NLU YAML file (`nlu: - intent: NAME examples: | - ...`)."""
    path = Path(path)
    try:
        doc = safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise NluDataError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("nlu"), list):
        raise NluDataError(f"{path}: expected a top-level 'nlu:' list")
    examples: list[tuple[str, str]] = []
    synonyms: dict[str, tuple[str, ...]] = {}
    lookups: dict[str, tuple[str, ...]] = {}
    for i, item in enumerate(doc["nlu"]):
        where = f"{path} nlu[{i}]"
        if not isinstance(item, dict):
            raise NluDataError(f"{where}: expected a mapping")
        lines = _example_lines(item.get("examples", ""), where)
        if "intent" in item:
            examples.extend((text, str(item["intent"])) for text in lines)
        elif "synonym" in item:
            synonyms[str(item["synonym"])] = tuple(lines)
        elif "lookup" in item:
            lookups[str(item["lookup"])] = tuple(lines)
        # regex and other sections are Rasa's business
    return NluData(tuple(examples), synonyms, lookups)


def load_labelled(path: Path | str = URGENCY_PATH) -> list[LabelledText]:
    """Read the urgency / language set: `urgent|not_urgent: {en|ar|arabizi: "- text" lines}`."""
    path = Path(path)
    doc = safe_load(path.read_text(encoding="utf-8"))
    out: list[LabelledText] = []
    for label, urgent in (("urgent", True), ("not_urgent", False)):
        for lang, block in (doc.get(label) or {}).items():
            if lang not in ("en", "ar", "arabizi"):
                raise NluDataError(f"{path}: unknown language label {lang!r}")
            for text in _example_lines(block, f"{path} {label}.{lang}"):
                out.append(
                    LabelledText(text, urgent, "en" if lang == "en" else "ar", lang == "arabizi")
                )
    return out
