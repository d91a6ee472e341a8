"""Bad input, case by case: each arrives in a batch beside a good record, gets its own named
outcome (the metric the worker counts), and costs the good record nothing. Nothing of a bad body
reaches the logs: neither its token nor an executionArn that is not one. The work is the tests'
own (tests/pattern/fake_work.py).

| case                                   | outcome                                            |
| -------------------------------------- | -------------------------------------------------- |
| body not JSON                          | MessageMalformed: retried, then DLQ                |
| JSON that is not an object             | MessageMalformed                                   |
| JSON nested 2,000 deep                 | MessageMalformed                                   |
| taskToken missing / empty / number     | MessageMalformed                                   |
| taskToken over 2,048 characters        | MessageMalformed                                   |
| a token never issued                   | TokenNoLongerLive: done, work not run              |
| an executionArn that is not an ARN     | TokenNoLongerLive, the text not logged             |
| a token of a finished execution        | TokenNoLongerLive: done, the execution unchanged   |
| a token of another state machine       | MessageRefused: retried, then DLQ; work not run    |
| a live task's body, another sender     | execution SUCCEEDED: the token decides, not SQS    |
| SQS attributes missing                 | execution SUCCEEDED                                |
| an integer of 5,000 digits in input    | execution FAILED, InvalidTaskInput                 |
| input nested 3,000 deep                | execution FAILED, InvalidTaskInput                 |
| input the work rejects                 | execution FAILED with the work's error             |
| input that is not an object            | execution FAILED, the work's InvalidTaskInput      |
| a result over 256 KiB                  | execution FAILED, TaskOutputTooLarge               |
| a result that is not JSON              | execution FAILED, InvalidTaskOutput                |
| a lone surrogate echoed from the input | execution FAILED, InvalidTaskOutput (no UTF-8)     |
| unicode input                          | execution SUCCEEDED, the text intact               |
| input near 256 KiB                     | execution SUCCEEDED                                |
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from emulator.emf import worker_metrics
from tests.pattern import fake_work
from tests.pattern.fake_work import rejects, succeeds
from tests.pattern.helpers import execution_error, failed_ids
from worker import handler

if TYPE_CHECKING:
    import io

    from tests.pattern.helpers import Pattern

RETRIED, DONE = "retried", "done"


@dataclass(frozen=True)
class Case:
    name: str
    outcome: str  # the metric the worker counts for the case's record
    execution_input: Any = None  # an execution is started with this input, unless `body` is set
    raw_input: str | None = None  # or with this text as StartExecution's input
    body: str | None = None  # a raw message body put on the queue instead
    result: Any = None  # what the work returns instead of its own result
    attributes: tuple[str, ...] | None = None  # the SQS attributes kept, if not all
    answer_first: bool = False  # the execution is answered before the worker sees its message
    other_state_machine: bool = False  # the execution is one of another state machine
    input_text: str | None = None  # the task's body is sent again, its input this JSON text
    unreadable: bool = False  # Python's JSON parser will not read that input
    record: str = DONE
    status: str | None = None
    error: str | None = None
    not_logged: str | None = None  # text of the body that no log line may hold


MALFORMED, STALE, REFUSED = "MessageMalformed", "TokenNoLongerLive", "MessageRefused"
FAILED, SUCCEEDED = "TaskFailed", "TaskSucceeded"
BIG_ID = "o" * 250_000
FAKE_LOG_LINE = '\n{"level":"ERROR","message":"forged"}'
CASES = [
    Case("body-not-json", MALFORMED, body="{not json", record=RETRIED),
    Case("json-array", MALFORMED, body='["taskToken"]', record=RETRIED),
    Case("json-nested-2000-deep", MALFORMED, body="[" * 2000, record=RETRIED),
    Case("token-missing", MALFORMED, body='{"input": {"id": "o"}}', record=RETRIED),
    Case("token-empty", MALFORMED, body='{"taskToken": "", "input": {}}', record=RETRIED),
    Case("token-not-a-string", MALFORMED, body='{"taskToken": 12345, "input": {}}', record=RETRIED),
    Case("token-too-long", MALFORMED, body=json.dumps({"taskToken": "t" * 2049}), record=RETRIED),
    Case("token-never-issued", STALE, body='{"taskToken": "never-issued", "input": {"id": "o"}}'),
    Case(
        "execution-arn-not-an-arn",
        STALE,
        body=json.dumps({"taskToken": "never-issued", "executionArn": FAKE_LOG_LINE, "input": {}}),
        not_logged="forged",
    ),
    Case(
        "token-of-finished-execution", STALE, succeeds("o"), answer_first=True, status="SUCCEEDED"
    ),
    Case(
        "token-of-another-state-machine",
        REFUSED,
        succeeds("theirs"),
        other_state_machine=True,
        record=RETRIED,
        status="RUNNING",
    ),
    Case(
        "live-task-sent-again-by-another-principal",
        SUCCEEDED,
        succeeds("o"),
        input_text=json.dumps(succeeds("o")),
        status="SUCCEEDED",
    ),
    Case("attributes-missing", SUCCEEDED, succeeds("o"), attributes=(), status="SUCCEEDED"),
    Case(
        "integer-of-5000-digits-in-the-input",
        FAILED,
        succeeds("o"),
        input_text='{"id": "o", "n": ' + "1" * 5000 + "}",
        unreadable=True,
        status="FAILED",
        error="InvalidTaskInput",
    ),
    Case(
        "input-nested-3000-deep",
        FAILED,
        succeeds("o"),
        input_text="[" * 3000 + "]" * 3000,
        unreadable=True,
        status="FAILED",
        error="InvalidTaskInput",
    ),
    Case("work-rejects-the-input", FAILED, rejects(), status="FAILED", error="Rejected"),
    Case("input-not-an-object", FAILED, "task-1", status="FAILED", error="InvalidTaskInput"),
    Case(
        "result-too-large",
        FAILED,
        succeeds("o"),
        result={"blob": "x" * 262_145},
        status="FAILED",
        error="TaskOutputTooLarge",
    ),
    Case(
        "result-not-json",
        FAILED,
        succeeds("o"),
        result={"id": {1, 2}},
        status="FAILED",
        error="InvalidTaskOutput",
    ),
    Case(
        "lone-surrogate-echoed-from-the-input",
        FAILED,
        raw_input='{"id": "\\ud800"}',
        status="FAILED",
        error="InvalidTaskOutput",
    ),
    Case("unicode-input", SUCCEEDED, succeeds("注文-ß-🚚"), status="SUCCEEDED"),
    Case("input-near-256-kib", SUCCEEDED, succeeds(BIG_ID), status="SUCCEEDED"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_its_named_outcome_and_spares_the_rest_of_the_batch(
    pattern: Pattern,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    worker_logs: io.StringIO,
    case: Case,
) -> None:
    # GIVEN a good task and the case, in one batch
    good = pattern.start(succeeds("good"), name="good")
    execution = None
    if case.body is not None:
        pattern.send_raw(case.body)
    elif case.raw_input is not None:
        execution = pattern.start_raw(case.raw_input)
    elif case.other_state_machine:  # its task, in this worker's batch (a forged event)
        other = pattern.aws.deploy(worker=False, idempotency=False)
        execution = other.start(case.execution_input, name="case")
        (theirs,) = other.receive(1)
    else:
        execution = pattern.start(case.execution_input, name="case")
    messages = pattern.receive(1 if case.other_state_machine else 2)
    if case.other_state_machine:
        messages.append(theirs)
    (bad,) = [m for m in messages if '"good"' not in m["Body"]]
    if case.answer_first:
        token = json.loads(bad["Body"])["taskToken"]
        pattern.aws.sfn.send_task_success(taskToken=token, output='{"first": true}')
        pattern.wait(execution)
    if case.input_text is not None:  # the live task's message, sent again by another principal
        pattern.aws.sqs.delete_message(
            QueueUrl=pattern.deployment.queue_url, ReceiptHandle=bad["ReceiptHandle"]
        )
        sent = json.loads(bad["Body"])
        pattern.send_raw(
            f'{{"taskToken": {json.dumps(sent["taskToken"])}, '
            f'"executionArn": {json.dumps(sent["executionArn"])}, "input": {case.input_text}}}'
        )
        messages.remove(bad)
        messages += (bad := pattern.receive(1)[0],)
    if case.attributes is not None:
        bad["Attributes"] = {k: v for k, v in bad["Attributes"].items() if k in case.attributes}
    runs = record_work_runs(monkeypatch, case.result)
    capsys.readouterr()

    # WHEN the worker handles the batch
    response = pattern.invoke(messages)
    output = capsys.readouterr().out

    # THEN the case's record comes back only if it must, counted as the case's outcome
    assert failed_ids(response) == ({bad["MessageId"]} if case.record == RETRIED else set())
    assert set(worker_metrics(output)) == {SUCCEEDED, case.outcome}
    # AND the work ran for the case only if its task was live, this state machine's and readable
    assert (len(runs) == 2) == (case.outcome in (SUCCEEDED, FAILED) and not case.unreadable)
    # AND its execution ends as the case says
    if execution is not None:
        if case.status == "RUNNING":
            assert pattern.status(execution) == "RUNNING"
        else:
            result = pattern.wait(execution)
            given = case.execution_input if case.raw_input is None else json.loads(case.raw_input)
            error = case.error and execution_error(pattern, given, case.error)
            assert (result["status"], result.get("error")) == (case.status, error)
        if case.status == "SUCCEEDED" and not case.answer_first:
            assert json.loads(result["output"])["id"] == case.execution_input["id"]
        if case.answer_first:
            assert json.loads(result["output"]) == {"first": True}
    # AND the logs hold neither the bad body's token nor what the case keeps out of them
    logs = worker_logs.getvalue()
    assert logs
    for secret in (token_in(bad["Body"]), case.not_logged):
        assert secret is None or secret not in logs
    # AND the good record's execution succeeded regardless
    assert pattern.wait(good)["status"] == "SUCCEEDED"


def record_work_runs(monkeypatch: pytest.MonkeyPatch, result: Any) -> list[Any]:
    """The inputs the work runs on, from now; the work returns `result` for the case if given,
    and the test work's result for the good record."""
    runs: list[Any] = []

    def do_work(task_input: Any, heartbeat: Any) -> Any:
        runs.append(task_input)
        if result is None or task_input == succeeds("good"):
            return fake_work.do_work(task_input, heartbeat)
        return result

    monkeypatch.setattr(handler, "do_work", do_work)
    return runs


def token_in(body: str) -> str | None:
    """The body's taskToken, if it has one that is a string."""
    try:
        token = json.loads(body).get("taskToken")
    except (ValueError, RecursionError, AttributeError):
        return None
    return token if isinstance(token, str) and token else None
