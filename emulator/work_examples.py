"""The inputs the work says it accepts and rejects, from src/worker/work_examples.json beside it:
`make demo`, `make serve`'s commands, the soak and the bench take their inputs from here, and
Terraform's start commands from the same file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from emulator.terraform import ROOT

EXAMPLES_FILE = ROOT / "src" / "worker" / "work_examples.json"


class WorkExamplesInvalid(ValueError):
    """work_examples.json is missing, not JSON, or not of the expected shape."""


@dataclass(frozen=True)
class WorkExamples:
    accepted: Any  # an execution input the work accepts
    rejected: Any  # an execution input the work rejects ...
    rejected_error: str  # ... with this TaskError

    @classmethod
    def load(cls) -> WorkExamples:
        """The examples of src/worker/work_examples.json, or WorkExamplesInvalid saying why not."""
        try:
            return cls.of(json.loads(EXAMPLES_FILE.read_text()))
        except (OSError, ValueError) as error:
            raise WorkExamplesInvalid(
                f"{EXAMPLES_FILE.relative_to(ROOT)}: {error}. It must read "
                '{"accepted": {"input": ...}, "rejected": {"input": ..., "error": "<TaskError>"}}'
            ) from None

    @classmethod
    def of(cls, examples: Any) -> WorkExamples:
        try:
            accepted = examples["accepted"]["input"]
            rejected = examples["rejected"]["input"]
            error = examples["rejected"]["error"]
        except (KeyError, TypeError):
            raise ValueError("an example or the rejected one's error is missing") from None
        if not isinstance(error, str) or not error:
            raise ValueError("rejected.error must be the TaskError's name, a non-empty string")
        return cls(accepted, rejected, error)
