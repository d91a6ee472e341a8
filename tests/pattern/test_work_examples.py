"""work_examples.json against work.py, whatever the work is: the demo, `make serve`, the soak,
the bench and Terraform's start commands rely on the work accepting its accepted example and
rejecting its rejected one with the error the file names."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING

import pytest

from emulator.terraform import ROOT, evaluate
from emulator.work_examples import WorkExamples
from tests.pattern.helpers import copy_of_the_project
from worker.handoff import CallbackHandle, HandedOff, call_work
from worker.messages import TaskError, encode_output
from worker.work import do_work

if TYPE_CHECKING:
    from pathlib import Path


class ExampleHandle(CallbackHandle):
    """The callback handle of a task that is not one: the work may heartbeat, which sends nothing
    here (a work that hands the task off is handed this handle, and answers nothing with it)."""

    def heartbeat(self) -> None:
        pass


EXAMPLE_HANDLE = ExampleHandle("a-token-of-no-task", "")


def test_the_work_accepts_its_accepted_example_with_a_result_step_functions_takes() -> None:
    # The work as the worker runs it: given the task's callback handle if it asks for it.
    result = call_work(do_work, WorkExamples.load().accepted, EXAMPLE_HANDLE)

    if not isinstance(result, HandedOff):  # or it handed the task off, as it may
        encode_output(result)  # JSON, at most 256 KiB: else TaskError (InvalidTaskOutput, ...)


def test_the_work_rejects_its_rejected_example_with_the_error_the_file_names() -> None:
    examples = WorkExamples.load()

    with pytest.raises(TaskError) as rejected:
        call_work(do_work, examples.rejected, EXAMPLE_HANDLE)

    assert rejected.value.error == examples.rejected_error


def test_terraforms_start_commands_quote_the_examples_for_the_shell(tmp_path: Path) -> None:
    # GIVEN the work's examples, and examples with a quote, as a team might write them
    tricky = {
        "accepted": {"input": {"name": "O'Brien", "note": 'it\'s $HOME `x` \\ "q"'}},
        "rejected": {"input": "'", "error": "InvalidTaskInput"},
    }
    copy = copy_of_the_project(tmp_path)
    (copy / "src" / "worker" / "work_examples.json").write_text(json.dumps(tricky))

    for root, examples in ((ROOT, WorkExamples.load()), (copy, WorkExamples.of(tricky))):
        # WHEN Terraform quotes them for outputs.tf's start commands (... --input <this>)
        quoted = evaluate(root=root).derived["work_example_inputs_quoted"]

        # THEN a shell reads back exactly the example's JSON
        for name, example in (("accepted", examples.accepted), ("rejected", examples.rejected)):
            (argument,) = shlex.split(quoted[name])
            assert json.loads(argument) == example
