"""The real state machine file, rendered as templatefile() renders it, executed by moto's ASL
interpreter, with the worker's real handler answering from the queue: the module's own workflow
(or the team's edit of it), and a saga around the callback task (examples/complete's refunds
instance's, as docs/make-it-yours.md shows one), whose compensations run before each failure.
The callback task's contract holds in both: its message, its timeout's end in CallbackTimedOut,
and a failure's error and cause at the end of the execution."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from emulator.event_source import EventSourceMapping
from emulator.terraform import ROOT
from tests.pattern.fake_work import rejects, result, succeeds
from tests.pattern.helpers import execution_error, where_a_timeout_leads

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.pattern.helpers import Aws, Pattern

SAGA = ROOT / "examples" / "complete" / "workflows" / "refunds.asl.json"


@pytest.fixture(params=[None, SAGA], ids=["its-workflow", "a-saga"])
def workflow(request: pytest.FixtureRequest) -> dict[str, str]:
    """The variables that give the module a workflow: its own, or a saga of a team's."""
    return {} if request.param is None else {"workflow_path": str(request.param)}


@pytest.fixture
def pattern(aws: Aws, workflow: dict[str, str]) -> Pattern:
    return aws.deploy(**workflow)


def task_entered_with(pattern: Pattern, execution: str) -> object:
    """The input the callback task was entered with: the execution's, through the states before
    it."""
    events = pattern.aws.sfn.get_execution_history(executionArn=execution)["events"]
    (entered,) = [
        e["stateEnteredEventDetails"] for e in events
        if e.get("stateEnteredEventDetails", {}).get("name") == pattern.task_name()
    ]  # fmt: skip
    return json.loads(entered["input"])


@pytest.fixture
def worker(pattern: Pattern) -> Iterator[EventSourceMapping]:
    """The worker consuming the pattern's queue, as the event source mapping runs it."""
    from worker.handler import lambda_handler

    with EventSourceMapping(pattern.aws.sqs, pattern.deployment, lambda_handler) as mapping:
        yield mapping


def test_a_task_succeeds_with_the_workers_result_as_output(
    pattern: Pattern, worker: EventSourceMapping
) -> None:
    execution = pattern.start(succeeds("task-42", items=3))

    outcome = pattern.wait(execution)

    assert outcome["status"] == "SUCCEEDED"
    assert json.loads(outcome["output"]) == result("task-42")
    worker.stop()  # the record is deleted once the handler returns, after the callback
    assert pattern.queue_depth() == 0


@pytest.mark.parametrize(
    ("execution_input", "error"),
    [
        (rejects("no such customer"), "Rejected"),
        ({"id": 7}, "InvalidTaskInput"),
        (["task-1"], "InvalidTaskInput"),
        ("task-1", "InvalidTaskInput"),
    ],
    ids=["rejected", "id-not-a-string", "array", "string"],
)
def test_a_task_error_fails_the_execution_with_the_works_error(
    pattern: Pattern, worker: EventSourceMapping, execution_input: object, error: str
) -> None:
    execution = pattern.start(execution_input)

    outcome = pattern.wait(execution)

    # THEN the callback task failed with the work's error, and so did the execution; but where a
    # saga's Catch puts the error beside the input (ResultPath "$.failure"), an input that is not
    # an object cannot hold it, and the execution fails there (on AWS with
    # States.ResultPathMatchFailure, on moto with States.Runtime): docs/make-it-yours.md
    events = pattern.aws.sfn.get_execution_history(executionArn=execution)["events"]
    (failed,) = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    assert failed["error"] == error
    ended = execution_error(pattern, execution_input, error)
    assert (outcome["status"], outcome["error"]) == ("FAILED", ended)
    worker.stop()  # the record is deleted once the handler returns, after the callback
    assert pattern.queue_depth() == 0
    assert pattern.queue_depth(dlq=True) == 0


def test_no_callback_in_time_fails_the_execution_with_callback_timed_out(
    aws: Aws, workflow: dict[str, str]
) -> None:
    # GIVEN a short task timeout and no worker running
    pattern = aws.deploy(task_timeout_seconds=2, **workflow)

    execution = pattern.start(succeeds("task-1"))

    result = pattern.wait(execution)
    assert (result["status"], result["error"]) == ("FAILED", "CallbackTimedOut")
    # (with the cause of the state the workflow's timeout ends in: the team's words, if its own)
    timed_out = where_a_timeout_leads(pattern.definition(), pattern.task_state())
    assert result["cause"] == timed_out["Cause"]
    # AND the task message is still there for a worker that comes back to find stale
    assert pattern.queue_depth() == 1


def test_the_message_carries_token_execution_and_input(pattern: Pattern) -> None:
    execution = pattern.start(succeeds("task-1", note="ünïcödé"))

    (message,) = pattern.receive(1)

    body = json.loads(message["Body"])
    assert set(body) == {"taskToken", "executionArn", "input"}
    assert body["executionArn"] == execution
    # the input the task was entered with (a workflow's states before it may shape it: a
    # ResultPath of theirs adds to it, and docs/make-it-yours.md says which edits keep it)
    assert body["input"] == task_entered_with(pattern, execution)
    if pattern.task_name() == pattern.definition()["StartAt"]:
        assert body["input"] == {"id": "task-1", "note": "ünïcödé"}


@pytest.mark.parametrize("cause", ["the order service said no", None], ids=["cause", "no-cause"])
def test_a_failure_from_any_holder_of_the_token_ends_the_execution_with_its_error(
    pattern: Pattern, cause: str | None
) -> None:
    # GIVEN an execution waiting, and someone else than the worker holding its token (an operator
    # with the AWS CLI, a team's second worker): SendTaskFailure's error and cause are optional
    execution = pattern.start(succeeds("task-1"))
    (message,) = pattern.receive(1)
    token = json.loads(message["Body"])["taskToken"]

    # WHEN they send a failure, with or without a cause
    pattern.aws.sfn.send_task_failure(
        taskToken=token, error="OrderRejected", **({"cause": cause} if cause else {})
    )

    # THEN the execution failed with that error and that cause, through whatever states follow
    # the callback task (a saga's compensation, then a Fail state with ErrorPath and CausePath)
    result = pattern.wait(execution)
    assert (result["status"], result["error"]) == ("FAILED", "OrderRejected")
    assert result.get("cause") == cause
