"""The work the emulator and the tests run, and the inputs it accepts, rejects and hands off.

The work is a folder, as the module's work_source_path names the folder the function is built from:
its work.py, work_examples.json and (if it has dependencies) work_requirements.txt. It is the
folder WORK names (`make demo WORK=../orders`), or else the module's sample, src/work. `make demo`,
`make serve`'s commands, the soak, the bench and Terraform's start commands take their inputs from
its work_examples.json:

    {"accepted": {"input": ...},
     "rejected": {"input": ..., "error": "<the TaskError's name>"},
     "handed_off": {"input": ..., "answer": <what the external side answers: the output>}}

The last is for a work that hands some tasks off (a person's approval, a job elsewhere), and only
for such a work.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator.terraform import ROOT, work_folder

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = (
    '{"accepted": {"input": ...}, "rejected": {"input": ..., "error": "<TaskError>"}, and for a '
    'work that hands tasks off "handed_off": {"input": ..., "answer": ...}}'
)


def importable(folder: Path) -> None:
    """The work's modules importable, before any other module of the same name: at the package's
    root on Lambda, beside the worker's package."""
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


def shown(path: Path, root: Path = ROOT) -> str:
    """A path as a user reads it: relative to the project's folder where it is in it."""
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


class WorkExamplesInvalid(ValueError):
    """work_examples.json is missing, not JSON, or not of the expected shape."""


@dataclass(frozen=True)
class HandedOffExample:
    input: Any  # an execution input the work hands off ...
    answer: Any  # ... and what its external side answers (SendTaskSuccess's output)


@dataclass(frozen=True)
class WorkExamples:
    accepted: Any  # an execution input the work accepts
    rejected: Any  # an execution input the work rejects ...
    rejected_error: str  # ... with this TaskError
    handed_off: HandedOffExample | None = None  # for a work that hands some tasks off

    @classmethod
    def load(cls, folder: Path | None = None) -> WorkExamples:
        """The examples of the work's work_examples.json, or WorkExamplesInvalid saying why not."""
        path = (folder or work_folder()) / "work_examples.json"
        try:
            return cls.of(json.loads(path.read_text()))
        except (OSError, ValueError) as error:
            raise WorkExamplesInvalid(f"{shown(path)}: {error}. It must read {FORMAT}") from None

    @classmethod
    def of(cls, examples: Any) -> WorkExamples:
        try:
            accepted = examples["accepted"]["input"]
            rejected = examples["rejected"]["input"]
            error = examples["rejected"]["error"]
            handed_off = examples.get("handed_off")
            if handed_off is not None:
                handed_off = HandedOffExample(handed_off["input"], handed_off["answer"])
        except (KeyError, TypeError):
            missing = "an example, the rejected one's error or the handed-off one's answer"
            raise ValueError(f"{missing} is missing") from None
        if not isinstance(error, str) or not error:
            raise ValueError("rejected.error must be the TaskError's name, a non-empty string")
        return cls(accepted, rejected, error, handed_off)
