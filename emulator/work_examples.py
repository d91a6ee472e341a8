"""The work the emulator and the tests run, and the inputs it accepts, rejects and hands off.

The work is a folder, as the module's work_source_path names the folder the function is built from:
its work.py, work_examples.json and (if it has dependencies) work_requirements.txt, and, for a work
that hands tasks off, optionally work_stand_in.py: the team's stand-in for its external system,
which the checks run in place of the emulator's (emulator/external_system.py). It is the folder
WORK names (`make demo WORK=../orders`), or else the module's sample, src/work. `make demo`,
`make serve`'s commands, the soak, the bench and Terraform's start commands take their inputs from
its work_examples.json:

    {"accepted": {"input": ...},
     "rejected": {"input": ..., "error": "<the TaskError's name>"},
     "handed_off": {"input": ..., "answer": <what the external side answers: the output>}}

The last is for a work that hands some tasks off (a person's approval, a job elsewhere), and only
for such a work. It may be a list of such examples. With the team's own stand-in, which decides
itself what to do with each task (answer, fail, heartbeat a while, go silent), each says instead
how its execution ends: {"input": ..., "ends": {"status": "FAILED", "error": "JobFailed"}}.

Any example may say how its execution ends ("ends": status, and error or output or output_keys),
for a workflow whose states after the callback task change it; without it the end is the
pattern's contract: the accepted one SUCCEEDED, the rejected one FAILED with its error, a
handed-off one SUCCEEDED with its answer.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulator.terraform import ROOT, work_folder

if TYPE_CHECKING:
    from pathlib import Path

FILE = "work_examples.json"
STAND_IN = "work_stand_in.py"  # the team's stand-in for its external system, beside work.py
FORMAT = (
    '{"accepted": {"input": ...}, "rejected": {"input": ..., "error": "<TaskError>"}, and for a '
    'work that hands tasks off "handed_off": {"input": ..., "answer": ...} (or a list of them)}'
)
STATUSES = ("SUCCEEDED", "FAILED")


def importable(folder: Path) -> None:
    """The work's modules importable, before any other module of the same name: at the package's
    root on Lambda, beside the worker's package."""
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


def shown(path: Path, root: Path = ROOT) -> str:
    """A path as a user reads it: relative to the project's folder where it is in it."""
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


class WorkExamplesInvalid(ValueError):
    """work_examples.json is missing, not JSON, or not of the expected shape: one line naming the
    file, and the line or the key."""


class StandInInvalid(ValueError):
    """The team's work_stand_in.py does not define running() as the checks call it."""


@dataclass(frozen=True)
class Ending:
    """How an execution ends: its status, and its error (FAILED) or its output, or the keys its
    output object has (SUCCEEDED)."""

    status: str
    error: str | None = None
    output: Any = field(default=None)
    has_output: bool = False  # whether `output` was given (null is an output)
    output_keys: tuple[str, ...] | None = None

    @classmethod
    def of(cls, given: Any, where: str) -> Ending:
        if not isinstance(given, dict) or given.get("status") not in STATUSES:
            raise ValueError(f'{where}.status must be "SUCCEEDED" or "FAILED"')
        unknown = set(given) - {"status", "error", "output", "output_keys"}
        if unknown:
            keys = ", ".join(sorted(unknown))
            raise ValueError(f"{where} has {keys}: it takes status, error, output, output_keys")
        error, keys = given.get("error"), given.get("output_keys")
        if error is not None and (not isinstance(error, str) or not error):
            raise ValueError(f"{where}.error must be an error's name, a non-empty string")
        if keys is not None and not (
            isinstance(keys, list) and all(isinstance(key, str) for key in keys)
        ):
            raise ValueError(f"{where}.output_keys must be a list of strings")
        return cls(
            given["status"],
            error,
            given.get("output"),
            "output" in given,
            tuple(keys) if keys is not None else None,
        )

    def differs(self, described: dict[str, Any]) -> str | None:
        """How an execution's description (DescribeExecution's) differs from this ending, in a
        few words; None if it does not."""
        status = described["status"]
        if status != self.status:
            found = f"{status} {described.get('error') or ''}".rstrip()
            return f"ended {found}, not {self.status}"
        if self.error is not None and described.get("error") != self.error:
            return f"failed with {described.get('error')}, not {self.error}"
        if status != "SUCCEEDED":
            return None
        output = json.loads(described.get("output") or "null")
        if self.has_output and output != self.output:
            return f"output {json.dumps(output)[:60]}, not the example's"
        if self.output_keys is not None and not (
            isinstance(output, dict) and set(self.output_keys) <= set(output)
        ):
            return f"output without {', '.join(self.output_keys)}"
        return None

    def __str__(self) -> str:
        return f"{self.status} {self.error or ''}".rstrip()


@dataclass(frozen=True)
class HandedOffExample:
    input: Any  # an execution input the work hands off ...
    answer: Any  # ... and what its external side answers (SendTaskSuccess's output), or None
    ends: Ending | None  # how the execution then ends, if the example says
    answered_by_the_emulator: bool  # whether the emulator's stand-in answers it (`answer`)

    @property
    def ending(self) -> Ending:
        """How the execution ends: as the example says, else SUCCEEDED (with the answer)."""
        return self.ends or Ending("SUCCEEDED")


@dataclass(frozen=True)
class WorkExamples:
    accepted: Any  # an execution input the work accepts
    rejected: Any  # an execution input the work rejects ...
    rejected_error: str  # ... with this TaskError
    handed_offs: tuple[HandedOffExample, ...] = ()  # for a work that hands some tasks off
    accepted_ends: Ending | None = None  # how they end, if the examples say (ends)
    rejected_ends: Ending | None = None

    @property
    def accepted_ending(self) -> Ending:
        return self.accepted_ends or Ending("SUCCEEDED")

    @property
    def handed_off(self) -> HandedOffExample | None:
        """The first handed-off example, if any."""
        return self.handed_offs[0] if self.handed_offs else None

    @property
    def rejected_ending(self) -> Ending:
        return self.rejected_ends or Ending("FAILED", self.rejected_error)

    @classmethod
    def load(cls, folder: Path | None = None) -> WorkExamples:
        """The examples of the work's work_examples.json, or WorkExamplesInvalid saying, in one
        line, which file and which line or key."""
        folder = folder or work_folder()
        path = folder / FILE
        try:
            text = path.read_text()
        except OSError as error:
            raise WorkExamplesInvalid(
                f"{shown(path)}: {error.strerror}. It must read {FORMAT}"
            ) from None
        try:
            examples = json.loads(text)
        except json.JSONDecodeError as error:
            raise WorkExamplesInvalid(
                f"{shown(path)}, line {error.lineno} column {error.colno}: not JSON ({error.msg})"
            ) from None
        try:
            return cls.of(examples, with_stand_in=(folder / STAND_IN).exists())
        except ValueError as error:
            raise WorkExamplesInvalid(f"{shown(path)}: {error}. It must read {FORMAT}") from None

    @classmethod
    def of(cls, examples: Any, with_stand_in: bool = False) -> WorkExamples:
        """The examples, or ValueError naming the key that is wrong. `with_stand_in`: the work's
        folder has the team's own stand-in, which answers handed-off tasks as it decides."""
        if not isinstance(examples, dict):
            raise ValueError("it must be a JSON object")
        unknown = set(examples) - {"accepted", "rejected", "handed_off"}
        if unknown:
            raise ValueError(f"{', '.join(sorted(unknown))}: no such example")
        accepted, rejected = (example(examples, name) for name in ("accepted", "rejected"))
        error = rejected.get("error")
        if not isinstance(error, str) or not error:
            raise ValueError("rejected.error must be the TaskError's name, a non-empty string")
        given = examples.get("handed_off")
        listed = [] if given is None else given if isinstance(given, list) else [given]
        handed_offs = []
        for number, _ in enumerate(listed):
            where = f"handed_off[{number}]" if isinstance(given, list) else "handed_off"
            handed_offs.append(handed_off_example(listed[number], where, with_stand_in))
        return cls(
            accepted["input"],
            rejected["input"],
            error,
            tuple(handed_offs),
            ending(accepted, "accepted"),
            ending(rejected, "rejected"),
        )


def example(examples: dict[str, Any], name: str) -> dict[str, Any]:
    given = examples.get(name)
    if not isinstance(given, dict):
        raise ValueError(f"{name} is missing, or not an object")
    if "input" not in given:
        raise ValueError(f"{name}.input is missing")
    return given


def ending(given: dict[str, Any], where: str) -> Ending | None:
    return Ending.of(given["ends"], f"{where}.ends") if "ends" in given else None


def handed_off_example(given: Any, where: str, with_stand_in: bool) -> HandedOffExample:
    if not isinstance(given, dict) or "input" not in given:
        raise ValueError(f"{where}.input is missing")
    ends = ending(given, where)
    if "answer" in given:
        return HandedOffExample(
            given["input"], given["answer"], ends, answered_by_the_emulator=not with_stand_in
        )
    if ends is None:
        says = "how its execution ends (ends)" if with_stand_in else "the external side's answer"
        raise ValueError(f"{where} must say {says}")
    if not with_stand_in:
        raise ValueError(
            f"{where} says how it ends but not what the external side answers (answer): only "
            f"the team's own stand-in ({STAND_IN} beside work.py) decides that itself"
        )
    return HandedOffExample(given["input"], None, ends, answered_by_the_emulator=False)
