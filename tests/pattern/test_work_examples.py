"""work_examples.json against the work, whatever the work is (WORK names it): the demo, `make
serve`, the soak, the bench and Terraform's start commands rely on the work accepting its accepted
example, rejecting its rejected one with the error the file names, and handing off its handed-off
one, if it names one. Each runs through the flow too, with the work itself: the pattern's tests
fail if any of the work's paths breaks."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING, Any

import pytest

from emulator import external_system
from emulator.terraform import ROOT, evaluate
from emulator.work_examples import WorkExamples
from tests.pattern.helpers import copy_of_the_project
from work import do_work
from worker import handler
from worker.handoff import CallbackHandle, HandedOff, call_work, takes_callback
from worker.messages import TaskError, encode_output

if TYPE_CHECKING:
    from pathlib import Path

    from tests.pattern.helpers import Pattern

EXAMPLES = WorkExamples.load()
HANDS_OFF = pytest.mark.skipif(
    EXAMPLES.handed_off is None, reason="the work's examples name no input it hands off"
)


class ExampleHandle(CallbackHandle):
    """The callback handle of a task that is not one: the work may heartbeat, which sends nothing
    here (a work that hands the task off is handed this handle, and answers nothing with it)."""

    def heartbeat(self) -> None:
        pass


EXAMPLE_HANDLE = ExampleHandle("a-token-of-no-task", "")


def test_the_work_accepts_its_accepted_example_with_a_result_step_functions_takes() -> None:
    # The work as the worker runs it: given the task's callback handle if it asks for it.
    result = call_work(do_work, EXAMPLES.accepted, EXAMPLE_HANDLE)

    assert not isinstance(result, HandedOff), "the accepted example must be answered at once"
    encode_output(result)  # JSON, at most 256 KiB: else TaskError (InvalidTaskOutput, ...)


def test_the_work_rejects_its_rejected_example_with_the_error_the_file_names() -> None:
    with pytest.raises(TaskError) as rejected:
        call_work(do_work, EXAMPLES.rejected, EXAMPLE_HANDLE)

    assert rejected.value.error == EXAMPLES.rejected_error


@HANDS_OFF
def test_the_work_hands_off_its_handed_off_example_and_its_answer_is_an_output() -> None:
    assert EXAMPLES.handed_off is not None
    assert isinstance(call_work(do_work, EXAMPLES.handed_off.input, EXAMPLE_HANDLE), HandedOff)
    encode_output(EXAMPLES.handed_off.answer)  # what the external side answers, as it may


@pytest.fixture
def the_work(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The worker runs the work itself (not the pattern's fake work), with a stand-in for its
    external system, if it hands tasks off, as make demo runs it."""
    if takes_callback(do_work):
        monkeypatch.setenv(external_system.INBOX_VARIABLE, str(tmp_path / "handed-off.jsonl"))
        monkeypatch.setattr(handler, "do_work", external_system.teams_work)
    else:
        monkeypatch.setattr(handler, "do_work", do_work)


def through_the_flow(pattern: Pattern, task_input: Any) -> dict[str, Any]:
    """An execution of `task_input`, its task answered by the worker with the work: how it ended."""
    execution = pattern.start(task_input)
    pattern.invoke(pattern.receive(1))
    return pattern.wait(execution, timeout=10)


def test_the_accepted_example_succeeds_through_the_flow(pattern: Pattern, the_work: None) -> None:
    ended = through_the_flow(pattern, EXAMPLES.accepted)

    assert ended["status"] == "SUCCEEDED"


def test_the_rejected_example_fails_through_the_flow_with_its_error(
    pattern: Pattern, the_work: None
) -> None:
    ended = through_the_flow(pattern, EXAMPLES.rejected)

    assert (ended["status"], ended["error"]) == ("FAILED", EXAMPLES.rejected_error)
    assert ended["cause"]


@HANDS_OFF
def test_the_handed_off_example_waits_for_its_answer_through_the_flow(
    pattern: Pattern, the_work: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the work's handed-off example, which the stand-in answers as the example says
    assert EXAMPLES.handed_off is not None
    external_system.answer_with(EXAMPLES.handed_off.answer)
    monkeypatch.setattr(external_system, "ANSWER_AFTER_SECONDS", 0.1)

    # WHEN the worker runs the work on it
    ended = through_the_flow(pattern, EXAMPLES.handed_off.input)
    external_system.answer_with(external_system.NO_ANSWER)

    # THEN the work handed it off, and the execution ended with the external side's answer
    assert (ended["status"], json.loads(ended["output"])) == (
        "SUCCEEDED",
        EXAMPLES.handed_off.answer,
    )


def test_terraforms_start_commands_quote_the_examples_for_the_shell(tmp_path: Path) -> None:
    # GIVEN the work's examples, and examples with a quote, as a team might write them
    tricky = {
        "accepted": {"input": {"name": "O'Brien", "note": 'it\'s $HOME `x` \\ "q"'}},
        "rejected": {"input": "'", "error": "InvalidTaskInput"},
        "handed_off": {"input": {"who": "d'Arc"}, "answer": {"ok": True}},
    }
    copy = copy_of_the_project(tmp_path)
    (copy / "src" / "work" / "work_examples.json").write_text(json.dumps(tricky))

    for root, examples in ((ROOT, EXAMPLES), (copy, WorkExamples.of(tricky))):
        # WHEN Terraform quotes them for outputs.tf's start commands (... --input <this>)
        quoted = evaluate(root=root).derived["work_example_inputs_quoted"]

        # THEN a shell reads back exactly the example's JSON
        inputs = {"accepted": examples.accepted, "rejected": examples.rejected}
        if examples.handed_off:
            inputs["handed_off"] = examples.handed_off.input
        for name, example in inputs.items():
            (argument,) = shlex.split(quoted[name])
            assert json.loads(argument) == example
