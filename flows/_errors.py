"""Flow validation problems: one class per rule, each naming the file, the step and the line.

    FlowProblem
    ├── SchemaProblem        the YAML does not match the step schema
    ├── DuplicateStep        two steps share an id in one flow
    ├── UnknownTarget        next/branch names a step that does not exist
    ├── UnknownField         a step collects into an id the data dictionary lacks
    ├── BadOption            an option or branch key that the field does not have
    ├── MissingBranch        a route or choice leaves a value with nowhere to go
    ├── UnreachableStep      no path from the start reaches the step
    ├── DeadEnd              a step has no way on and is not an end
    └── MissingText          a catalogue key is missing in one language, or placeholders differ

FlowValidationError carries all problems found, so one run shows every mistake.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import ConfigurationError

__all__ = [
    "BadOption",
    "DeadEnd",
    "DuplicateStep",
    "FlowProblem",
    "FlowValidationError",
    "MissingBranch",
    "MissingText",
    "SchemaProblem",
    "UnknownField",
    "UnknownTarget",
    "UnreachableStep",
]


@dataclass(frozen=True)
class FlowProblem:
    file: str
    step: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.step:
            where += f" (step {self.step})"
        return f"{where}: {type(self).__name__}: {self.message}"


class SchemaProblem(FlowProblem):
    pass


class DuplicateStep(FlowProblem):
    pass


class UnknownTarget(FlowProblem):
    pass


class UnknownField(FlowProblem):
    pass


class BadOption(FlowProblem):
    pass


class MissingBranch(FlowProblem):
    pass


class UnreachableStep(FlowProblem):
    pass


class DeadEnd(FlowProblem):
    pass


class MissingText(FlowProblem):
    pass


class FlowValidationError(ConfigurationError):
    """Raised by the loader with every problem it found."""

    def __init__(self, problems: list[FlowProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
