"""Bad input, case by case: each arrives in a batch beside a good record, gets its own named
outcome, and costs the good record nothing. The work is the tests' own (tests/fake_work.py).

| case                               | outcome                                            |
| ---------------------------------- | -------------------------------------------------- |
| body not JSON                      | MessageMalformed: retried, then DLQ                |
| JSON that is not an object         | MessageMalformed                                   |
| taskToken missing / empty / number | MessageMalformed                                   |
| taskToken over 2,048 characters    | MessageMalformed                                   |
| a token never issued               | TokenNoLongerLive: done                            |
| a token of a finished execution    | TokenNoLongerLive: done, the execution unchanged   |
| input the work rejects             | execution FAILED with the work's error             |
| input that is not an object        | execution FAILED, the work's InvalidTaskInput      |
| a result over 256 KiB              | execution FAILED, TaskOutputTooLarge               |
| a result that is not JSON          | execution FAILED, InvalidTaskOutput                |
| unicode input                      | execution SUCCEEDED, the text intact               |
| input near 256 KiB                 | execution SUCCEEDED                                |
| SQS attributes missing             | execution SUCCEEDED                                |
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from tests.pattern import fake_work
from tests.pattern.fake_work import rejects, succeeds
from tests.pattern.helpers import failed_ids
from worker import handler

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.pattern.helpers import Pattern

RETRIED, DONE = "retried", "done"


@dataclass(frozen=True)
class Case:
    name: str
    execution_input: Any = None  # an execution is started with this input, unless `body` is set
    body: str | None = None  # a raw message body put on the queue instead
    result: Any = None  # what the work returns instead of its own result
    strip_attributes: bool = False
    answer_first: bool = False  # the execution is answered before the worker sees its message
    record: str = DONE
    status: str | None = None
    error: str | None = None


BIG_ID = "o" * 250_000
CASES = [
    Case("body-not-json", body="{not json", record=RETRIED),
    Case("json-array", body='["taskToken"]', record=RETRIED),
    Case("token-missing", body='{"input": {"id": "o"}}', record=RETRIED),
    Case("token-empty", body='{"taskToken": "", "input": {}}', record=RETRIED),
    Case("token-not-a-string", body='{"taskToken": 12345, "input": {}}', record=RETRIED),
    Case("token-too-long", body=json.dumps({"taskToken": "t" * 2049}), record=RETRIED),
    Case("token-never-issued", body='{"taskToken": "never-issued", "input": {"id": "o"}}'),
    Case("token-of-finished-execution", succeeds("o"), answer_first=True, status="SUCCEEDED"),
    Case("work-rejects-the-input", rejects(), status="FAILED", error="Rejected"),
    Case("input-not-an-object", "task-1", status="FAILED", error="InvalidTaskInput"),
    Case(
        "result-too-large",
        succeeds("o"),
        result={"blob": "x" * 262_145},
        status="FAILED",
        error="TaskOutputTooLarge",
    ),
    Case(
        "result-not-json",
        succeeds("o"),
        result={"id": {1, 2}},
        status="FAILED",
        error="InvalidTaskOutput",
    ),
    Case("unicode-input", succeeds("注文-ß-🚚"), status="SUCCEEDED"),
    Case("input-near-256-kib", succeeds(BIG_ID), status="SUCCEEDED"),
    Case("attributes-missing", succeeds("o"), strip_attributes=True, status="SUCCEEDED"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_its_named_outcome_and_spares_the_rest_of_the_batch(
    pattern: Pattern, monkeypatch: pytest.MonkeyPatch, case: Case
) -> None:
    # GIVEN a good task and the case, in one batch
    good = pattern.start(succeeds("good"), name="good")
    execution = None
    if case.body is not None:
        pattern.send_raw(case.body)
    else:
        execution = pattern.start(case.execution_input, name="case")
    messages = pattern.receive(2)
    (bad,) = [m for m in messages if '"good"' not in m["Body"]]
    if case.answer_first:
        token = json.loads(bad["Body"])["taskToken"]
        pattern.aws.sfn.send_task_success(taskToken=token, output='{"first": true}')
        pattern.wait(execution)
    if case.strip_attributes:
        bad.pop("Attributes")
    if case.result is not None:
        monkeypatch.setattr(handler, "do_work", returning(case.result))

    # WHEN the worker handles the batch
    response = pattern.invoke(messages)

    # THEN the case's record comes back only if it must, and its execution ends as the case says
    assert failed_ids(response) == ({bad["MessageId"]} if case.record == RETRIED else set())
    if execution is not None:
        result = pattern.wait(execution)
        assert (result["status"], result.get("error")) == (case.status, case.error)
        if case.status == "SUCCEEDED" and not case.answer_first:
            assert json.loads(result["output"])["id"] == case.execution_input["id"]
        if case.answer_first:
            assert json.loads(result["output"]) == {"first": True}
    # AND the good record's execution succeeded regardless
    assert pattern.wait(good)["status"] == "SUCCEEDED"


def returning(result: Any) -> Callable[[Any, Any], Any]:
    """Work that returns `result` for the case, and the test work's result for the good record."""

    def do_work(task_input: Any, heartbeat: Any) -> Any:
        return (
            fake_work.do_work(task_input, heartbeat) if task_input == succeeds("good") else result
        )

    return do_work
