"""The bottom of the house: what every other package may import (the error tree, the time
helper, the one line-numbered YAML loader). Other packages import these names from `core`
itself, never from its modules (pyproject.toml, the "through their __init__" contract)."""

from core.errors import (
    ConfigurationError,
    RefusedError,
    SanadError,
    UnavailableError,
)
from core.time import as_utc
from core.yaml_lines import (
    ConfigProblem,
    LineDict,
    LineList,
    StrKeyLineLoader,
    line_of,
    read_yaml,
    safe_load,
)

__all__ = [
    "ConfigProblem",
    "ConfigurationError",
    "LineDict",
    "LineList",
    "RefusedError",
    "SanadError",
    "StrKeyLineLoader",
    "UnavailableError",
    "as_utc",
    "line_of",
    "read_yaml",
    "safe_load",
]
