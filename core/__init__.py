"""The bottom of the house: what every other package may import (the error tree)."""

from core.errors import (
    ConfigurationError,
    RefusedError,
    SanadError,
    UnavailableError,
)

__all__ = ["ConfigurationError", "RefusedError", "SanadError", "UnavailableError"]
