"""Language understanding for Sanad: normalisation, language, intents, urgency, dates, options.

`RuleInterpreter` is the lexicon backend of the `Interpreter` protocol; trained backends
implement the same protocol and return the same `Interpretation`.
"""

from nlu._dates import DateValue, parse_date
from nlu._language import detect_language
from nlu._normalise import normalise_arabic, to_ascii_digits
from nlu._options import OPTION_SYNONYMS, match_option
from nlu._rules import RuleInterpreter
from nlu._types import EXPECTING_KINDS, INTENTS, Entity, Interpretation, Interpreter

__all__ = [
    "EXPECTING_KINDS",
    "INTENTS",
    "OPTION_SYNONYMS",
    "DateValue",
    "Entity",
    "Interpretation",
    "Interpreter",
    "RuleInterpreter",
    "detect_language",
    "match_option",
    "normalise_arabic",
    "parse_date",
    "to_ascii_digits",
]
