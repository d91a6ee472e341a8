"""work_examples.json against the work, whatever the work is (WORK names it): the demo, `make
serve`, the soak, the bench and Terraform's start commands rely on the work accepting its accepted
example, rejecting its rejected one with the error the file names, and handing off its handed-off
ones, if it names any. Each runs through the flow, with the work itself and a real task token
(never one of no task: a work may send it to its external system), and, for a work that hands
tasks off, the stand-in for its external system in place (the team's own, work_stand_in.py, where
its folder holds one): the pattern's tests fail if any of the work's paths breaks, a hand-off
that passes the token to nobody included."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING

import pytest

from emulator import external_system
from emulator.demo import CALLBACK_TIMED_OUT, Scenario, judged
from emulator.terraform import ROOT, evaluate
from emulator.work_examples import WorkExamples
from tests.pattern.helpers import copy_of_the_project
from work import do_work
from worker import handler
from worker.handoff import takes_callback

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.pattern.helpers import Aws, Pattern

EXAMPLES = WorkExamples.load()
HANDS_OFF = pytest.mark.skipif(
    EXAMPLES.handed_off is None, reason="the work's examples name no input it hands off"
)
ANSWERED_BY_THE_EMULATOR = [h for h in EXAMPLES.handed_offs if h.answered_by_the_emulator]


@pytest.fixture
def the_work(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The worker runs the work itself (not the pattern's fake work), with a stand-in for its
    external system, if it hands tasks off, as make demo runs it: the team's own, given the
    environment it yields, or else the emulator's."""
    if not takes_callback(do_work):
        monkeypatch.setattr(handler, "do_work", do_work)
        yield
        return
    monkeypatch.setenv(external_system.INBOX_VARIABLE, str(tmp_path / "handed-off.jsonl"))
    monkeypatch.setattr(handler, "do_work", external_system.teams_work)
    monkeypatch.setattr(external_system, "ANSWER_AFTER_SECONDS", 0.1)
    with external_system.teams_stand_in() as environment:
        for name, value in (environment or {}).items():
            monkeypatch.setenv(name, value)
        yield
    external_system.answer_with(external_system.NO_ANSWER)


def through_the_flow(pattern: Pattern, scenario: Scenario) -> str | None:
    """An execution of the scenario's input, its task answered by the worker with the work (and
    by the stand-in, as the scenario says): how it differs from what the scenario expects."""
    external_system.answer_with(scenario.answer)
    execution = pattern.start(scenario.execution_input)
    pattern.invoke(pattern.receive(1))
    ended = pattern.wait(execution, timeout=pattern.deployment.settings.task_timeout_seconds + 10)
    events = pattern.aws.sfn.get_execution_history(executionArn=execution)["events"]
    return judged(scenario, ended, events)


@pytest.fixture
def short_timeouts(aws: Aws) -> Pattern:
    """The pattern with a task timeout short enough to wait out (a hand-off nobody answers)."""
    return aws.deploy(task_timeout_seconds=5)


def test_the_accepted_example_succeeds_through_the_flow(
    short_timeouts: Pattern, the_work: None
) -> None:
    expected = None if EXAMPLES.accepted_ends else ("TaskSucceeded", None)
    scenario = Scenario("accepted", EXAMPLES.accepted, True, EXAMPLES.accepted_ending, expected)

    assert through_the_flow(short_timeouts, scenario) is None


def test_the_rejected_example_fails_through_the_flow_with_its_error(
    short_timeouts: Pattern, the_work: None
) -> None:
    expected = None if EXAMPLES.rejected_ends else ("TaskFailed", EXAMPLES.rejected_error)
    scenario = Scenario("rejected", EXAMPLES.rejected, True, EXAMPLES.rejected_ending, expected)

    assert through_the_flow(short_timeouts, scenario) is None


@HANDS_OFF
@pytest.mark.parametrize("number", range(len(EXAMPLES.handed_offs)))
def test_each_handed_off_example_ends_as_it_says_through_the_flow(
    short_timeouts: Pattern, the_work: None, number: int
) -> None:
    # GIVEN the work's handed-off example, which its stand-in answers (the emulator's, as the
    # example says; the team's, as it decides)
    handed_off = EXAMPLES.handed_offs[number]
    expected = None if handed_off.ends else ("TaskSucceeded", None)
    scenario = Scenario("handed off", handed_off.input, True, handed_off.ending, expected,
                        handed_off.answer if handed_off.answered_by_the_emulator
                        else external_system.NO_ANSWER)  # fmt: skip

    # WHEN the worker runs the work on it, THEN the work handed it off (its token to someone: a
    # hand-off to nobody fails as HandOffToNobody) and the execution ended as the example says
    assert through_the_flow(short_timeouts, scenario) is None


@pytest.mark.skipif(not ANSWERED_BY_THE_EMULATOR, reason="no example the emulator answers")
def test_a_handed_off_example_nobody_answers_times_out_through_the_flow(
    short_timeouts: Pattern, the_work: None
) -> None:
    scenario = Scenario("never answered", ANSWERED_BY_THE_EMULATOR[0].input, True,
                        CALLBACK_TIMED_OUT, ("TaskTimedOut", None))  # fmt: skip

    assert through_the_flow(short_timeouts, scenario) is None


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
