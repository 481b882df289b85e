"""Language understanding for Sanad: normalisation, language, intents, urgency, dates, options.

Backends of the `Interpreter` protocol, all returning the same `Interpretation`:
- `RuleInterpreter`: the lexicon and rules alone;
- `builtin_interpreter()`: rules plus the built-in scikit-learn classifier (the default);
- `rasa_interpreter(url)`: rules plus a Rasa server (`POST /model/parse`).
`build_interpreter()` picks one from the environment (`SANAD_NLU_BACKEND`, `SANAD_RASA_URL`).
"""

from typing import TYPE_CHECKING, Any

from nlu._backends import (
    BACKENDS,
    RasaClient,
    RasaUnavailable,
    build_interpreter,
    builtin_interpreter,
    rasa_interpreter,
)
from nlu._data import (
    TEST_PATH,
    TRAIN_PATH,
    URGENCY_PATH,
    LabelledText,
    NluData,
    NluDataError,
    load_labelled,
    load_nlu,
)
from nlu._dates import READ_LIMIT as DATE_READ_LIMIT
from nlu._dates import DateValue, parse_date
from nlu._evaluate import evaluate_intents, evaluate_language, evaluate_urgency
from nlu._hedges import is_hedged
from nlu._hybrid import HybridInterpreter
from nlu._language import detect_language
from nlu._normalise import normalise_arabic, to_ascii_digits
from nlu._options import BARE_NUMBER, OPTION_SYNONYMS, match_option
from nlu._rules import RuleInterpreter
from nlu._support import needs_in
from nlu._types import (
    EXPECTING_KINDS,
    INTENTS,
    NAMING_FIELDS,
    Entity,
    Interpretation,
    Interpreter,
)
from nlu._urgency import REASONS as URGENT_REASONS

if TYPE_CHECKING:  # numpy is imported only when the built-in classifier is asked for
    from nlu.classifier import IntentModel, is_cached, load_or_train

_LAZY = frozenset({"IntentModel", "is_cached", "load_or_train"})


def __getattr__(name: str) -> Any:
    """`nlu.load_or_train` and the classifier's other names, imported on first use."""
    if name in _LAZY:
        from nlu import classifier

        return getattr(classifier, name)
    raise AttributeError(f"module 'nlu' has no attribute {name!r}")


__all__ = [
    "BACKENDS",
    "BARE_NUMBER",
    "DATE_READ_LIMIT",
    "EXPECTING_KINDS",
    "INTENTS",
    "NAMING_FIELDS",
    "OPTION_SYNONYMS",
    "TEST_PATH",
    "TRAIN_PATH",
    "URGENCY_PATH",
    "URGENT_REASONS",
    "DateValue",
    "Entity",
    "HybridInterpreter",
    "IntentModel",
    "Interpretation",
    "Interpreter",
    "LabelledText",
    "NluData",
    "NluDataError",
    "RasaClient",
    "RasaUnavailable",
    "RuleInterpreter",
    "build_interpreter",
    "builtin_interpreter",
    "detect_language",
    "evaluate_intents",
    "evaluate_language",
    "evaluate_urgency",
    "is_cached",
    "is_hedged",
    "load_labelled",
    "load_nlu",
    "load_or_train",
    "match_option",
    "needs_in",
    "normalise_arabic",
    "parse_date",
    "rasa_interpreter",
    "to_ascii_digits",
]
