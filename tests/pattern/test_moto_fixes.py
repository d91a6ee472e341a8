"""The emulator's corrections of moto (emulator/moto_fixes.py): each holds AWS's behaviour, and
each is still needed. When moto fixes one, its "still needed" test fails: remove the correction.

The races are made on purpose, not waited for: an execution is held in its start-up (before its
interpreter exists) while the worker answers another execution's token; two conditional puts of
one key read it before either writes.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any

import moto
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.dynamodb.models.table import Table
from moto.sns.models import SNSBackend
from moto.sqs.models import Queue, SQSBackend
from moto.sqs.responses import SQSResponse
from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
    ErrorEqualsDecl,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackEndpoint,
    CallbackPoolManager,
)
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from emulator import moto_fixes
from emulator.emf import worker_metrics
from emulator.terraform import ROOT
from emulator.watch import finished
from tests.pattern.fake_work import sleeps, succeeds
from tests.pattern.helpers import client, failed_ids

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.pattern.helpers import Aws, Pattern

STARTING = "still-starting"


@pytest.fixture
def an_execution_still_starting(pattern: Pattern) -> Iterator[str]:
    """An execution of the pattern that StartExecution has returned but whose interpreter has not
    started yet (held until the test ends); yields its ARN."""
    release = threading.Event()
    entrypoint = ExecutionWorker._get_evaluation_entrypoint

    def held(worker: ExecutionWorker) -> Any:
        if worker._evaluation_details.execution_details.name == STARTING:
            release.wait(timeout=30)
        return entrypoint(worker)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ExecutionWorker, "_get_evaluation_entrypoint", held)
        arn = pattern.start(succeeds("starting"), name=STARTING)
        try:
            yield arn
        finally:
            release.set()


def test_a_callback_reaches_its_execution_while_another_is_starting(
    pattern: Pattern, an_execution_still_starting: str
) -> None:
    # GIVEN an execution waiting for its token, and another one still starting
    waiting = pattern.start(succeeds("waiting"))
    (message,) = pattern.receive(1)

    # WHEN the worker answers the waiting execution's token
    response = pattern.invoke([message])

    # THEN the callback reached it, as on AWS: nothing comes back and the execution succeeded
    assert response == {"batchItemFailures": []}
    assert pattern.wait(waiting)["status"] == "SUCCEEDED"
    assert pattern.status(an_execution_still_starting) == "RUNNING"


def test_moto_still_needs_the_correction(
    pattern: Pattern, an_execution_still_starting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN moto as it ships
    monkeypatch.setattr(
        StepFunctionsParserBackend, "_get_executions", moto_fixes.MOTO_GET_EXECUTIONS
    )
    waiting = pattern.start(succeeds("waiting"))
    (message,) = pattern.receive(1)

    # WHEN the worker answers while another execution is starting
    response = pattern.invoke([message])

    # THEN the callback fails and the record comes back: the race the correction removes.
    # If this fails, moto has fixed it: remove the correction from emulator/moto_fixes.py.
    assert failed_ids(response) == {message["MessageId"]}, (
        f"moto {moto.__version__} no longer fails callbacks while an execution is starting: "
        "remove correction 1 from emulator/moto_fixes.py and this test"
    )
    assert pattern.status(waiting) == "RUNNING"


def two_puts_at_once(monkeypatch: pytest.MonkeyPatch) -> int:
    """Two threads put the same new key at once with attribute_not_exists (as two deliveries of a
    task record their attempt): how many succeed. Each read of the key is slowed, so that both
    reads happen before either write unless the puts are serialized."""
    import boto3
    from botocore.exceptions import ClientError
    from moto.dynamodb.models.table import Table

    read = Table.get_item

    def slow_read(*args: Any, **kwargs: Any) -> Any:
        found = read(*args, **kwargs)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(Table, "get_item", slow_read)
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName="attempts",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
    succeeded: list[bool] = []

    def put() -> None:
        try:
            dynamodb.put_item(
                TableName="attempts",
                Item={"id": {"S": "task-attempt#1"}},
                ConditionExpression="attribute_not_exists(id)",
            )
            succeeded.append(True)
        except ClientError:
            succeeded.append(False)

    threads = [threading.Thread(target=put) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return succeeded.count(True)


def test_two_conditional_puts_at_once_let_one_through(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_fixes.apply()  # as emulator.deployment.deploy does

    assert two_puts_at_once(monkeypatch) == 1  # as DynamoDB's atomic conditional writes do


def test_moto_still_needs_the_put_item_correction(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Table, "put_item", moto_fixes.MOTO_PUT_ITEM)

    # If this fails, moto has made conditional puts atomic: remove correction 2.
    assert two_puts_at_once(monkeypatch) == 2, (
        f"moto {moto.__version__} no longer lets two conditional puts through at once: "
        "remove correction 2 from emulator/moto_fixes.py and this test"
    )


def test_an_unnamed_start_gets_a_unique_name(pattern: Pattern) -> None:
    # WHEN two executions start without a name, with the same input
    arns = [
        pattern.aws.sfn.start_execution(
            stateMachineArn=pattern.deployment.state_machine_arn, input="{}"
        )["executionArn"]
        for _ in range(2)
    ]

    # THEN each is an execution of its own, named with a UUID as Step Functions names it
    names = [arn.rsplit(":", 1)[1] for arn in arns]
    assert len(set(names)) == 2
    assert all(len(name) == 36 and name.count("-") == 4 for name in names), names


def test_moto_still_needs_the_unnamed_start_correction(
    pattern: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        StepFunctionsParserBackend, "start_execution", moto_fixes.MOTO_START_EXECUTION
    )

    arn = pattern.aws.sfn.start_execution(
        stateMachineArn=pattern.deployment.state_machine_arn, input="{}"
    )["executionArn"]

    # If this fails, moto names unnamed executions itself: remove that part of correction 3.
    assert arn.endswith(":None"), (
        f"moto {moto.__version__} names an unnamed execution ({arn}): remove correction 3 "
        "from emulator/moto_fixes.py and this test"
    )


def oversize_input() -> str:
    return json.dumps({"id": "x" * moto_fixes.MAX_INPUT_BYTES})


def test_an_input_over_256_kib_is_refused_as_step_functions_refuses_it(pattern: Pattern) -> None:
    with pytest.raises(ClientError) as refused:
        pattern.start_raw(oversize_input())

    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        "1 validation error detected: Value at 'input' failed to satisfy constraint: "
        "Member must have length less than or equal to 262144"
    )
    assert (
        pattern.aws.sfn.list_executions(stateMachineArn=pattern.deployment.state_machine_arn)[
            "executions"
        ]
        == []
    )


def test_moto_still_needs_the_input_size_correction(
    pattern: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        StepFunctionsParserBackend, "start_execution", moto_fixes.MOTO_START_EXECUTION
    )

    # If this raises, moto refuses oversize inputs itself: remove correction 4.
    arn = pattern.start_raw(oversize_input())

    assert arn, (
        f"moto {moto.__version__} refuses an input over 256 KiB: remove correction 4 from "
        "emulator/moto_fixes.py and this test"
    )


def dead_letter(pattern: Pattern, body: str) -> None:
    """A message in the DLQ, as SQS leaves one there after max_receive_count receives."""
    pattern.aws.sqs.send_message(QueueUrl=pattern.deployment.dlq_url, MessageBody=body)


def test_a_message_move_task_moves_the_dead_letters_back_as_new_messages(pattern: Pattern) -> None:
    # GIVEN two messages in the dead-letter queue
    for body in ("first", "second"):
        dead_letter(pattern, body)
    before = pattern.aws.sqs.receive_message(
        QueueUrl=pattern.deployment.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )["Messages"]

    # WHEN an operator starts a move task, as the runbook does (to the queue of its redrive)
    handle = pattern.aws.sqs.start_message_move_task(SourceArn=pattern.deployment.dlq_arn)

    # THEN both are back on the task queue as new messages (new IDs, received once so far), the
    # DLQ is empty, and the task is listed, done
    moved = pattern.receive(2)
    assert {m["Body"] for m in moved} == {"first", "second"}
    assert not {m["MessageId"] for m in moved} & {m["MessageId"] for m in before}
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in moved} == {"1"}
    assert pattern.queue_depth(dlq=True) == 0
    (task,) = pattern.aws.sqs.list_message_move_tasks(SourceArn=pattern.deployment.dlq_arn)[
        "Results"
    ]
    assert (task["Status"], task["ApproximateNumberOfMessagesMoved"]) == ("COMPLETED", 2)
    assert task["DestinationArn"] == pattern.deployment.queue_arn
    assert handle["TaskHandle"]


def test_moto_still_needs_the_message_move_task_correction(
    pattern: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(SQSResponse, "start_message_move_task")
    dead_letter(pattern, "first")

    # If this fails, moto has message move tasks: remove correction 5.
    with pytest.raises(NotImplementedError):
        pattern.aws.sqs.start_message_move_task(SourceArn=pattern.deployment.dlq_arn)


@pytest.fixture
def without_heartbeat_seconds(aws: Aws, tmp_path: Path) -> Pattern:
    """The pattern with a team's workflow whose callback task declares no HeartbeatSeconds (the
    module's always does; the plan warns of one that does not)."""
    template = (ROOT / "statemachine" / "callback.asl.json").read_text()
    workflow = tmp_path / "no-heartbeat.asl.json"
    workflow.write_text(template.replace('"HeartbeatSeconds": ${heartbeat_seconds},', ""))
    return aws.deploy(workflow_path=str(workflow))


def test_a_heartbeat_without_heartbeat_seconds_is_accepted_and_the_work_succeeds(
    without_heartbeat_seconds: Pattern, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a task without HeartbeatSeconds and work that heartbeats as it goes
    pattern = without_heartbeat_seconds
    assert "HeartbeatSeconds" not in pattern.task_state()
    execution = pattern.start(sleeps("beats", 0.3, heartbeat_every=0.1))
    capsys.readouterr()

    # WHEN the worker runs it
    response = pattern.invoke(pattern.receive(1))

    # THEN Step Functions took the heartbeats, as AWS takes them, and the execution succeeded
    assert response == {"batchItemFailures": []}
    assert pattern.wait(execution)["status"] == "SUCCEEDED"
    assert worker_metrics(capsys.readouterr().out) == {"TaskSucceeded": 1}


def test_moto_still_needs_the_heartbeat_correction(
    without_heartbeat_seconds: Pattern,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pattern = without_heartbeat_seconds
    monkeypatch.setattr(CallbackEndpoint, "notify_heartbeat", moto_fixes.MOTO_NOTIFY_HEARTBEAT)
    execution = pattern.start(sleeps("beats", 0.3, heartbeat_every=0.1))
    capsys.readouterr()

    pattern.invoke(pattern.receive(1))

    # If this fails, moto accepts heartbeats without HeartbeatSeconds: remove correction 6.
    assert worker_metrics(capsys.readouterr().out) == {"TokenNoLongerLive": 1}, (
        f"moto {moto.__version__} accepts a heartbeat without HeartbeatSeconds: remove "
        "correction 6 from emulator/moto_fixes.py and this test"
    )
    assert pattern.status(execution) == "RUNNING"


def another_state_machines_task(aws: Aws) -> tuple[Pattern, dict[str, Any]]:
    """This worker's deployment, and a message of another deployment's waiting execution."""
    other = aws.deploy(worker=False, idempotency=False)  # one table of that name per account
    other.start(succeeds("not ours"))
    (message,) = other.receive(1)
    return aws.deploy(), message


def test_a_worker_is_refused_another_state_machines_task_as_iam_refuses_it(aws: Aws) -> None:
    # GIVEN this deployment's worker, and a live token of another state machine in the account
    pattern, message = another_state_machines_task(aws)
    token = json.loads(message["Body"])["taskToken"]

    # WHEN the worker's role answers it
    from worker import callback

    with pytest.raises(callback.NotAllowedToAnswer):
        callback.send_heartbeat(token)

    # THEN Step Functions refused it, as IAM refuses a role whose SendTask* statement names only
    # its own state machine; an administrator may still answer it
    pattern.aws.sfn.send_task_heartbeat(taskToken=token)


def test_moto_still_needs_the_answer_scope_correction(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, message = another_state_machines_task(aws)
    for name, answer in moto_fixes.MOTO_ANSWERS.items():
        monkeypatch.setattr(StepFunctionResponse, name, answer)
    from worker import callback

    # If this raises, moto checks the caller's permission itself: remove correction 7.
    callback.send_heartbeat(json.loads(message["Body"])["taskToken"])


def waiting_token(pattern: Pattern) -> tuple[str, str]:
    """A waiting execution and its task token."""
    execution = pattern.start(succeeds("waiting"))
    (message,) = pattern.receive(1)
    return execution, json.loads(message["Body"])["taskToken"]


def test_an_answer_that_is_not_json_is_refused_and_the_task_goes_on_waiting(
    pattern: Pattern,
) -> None:
    # GIVEN a waiting task WHEN an approver's answer has a typo (keys without quotes)
    execution, token = waiting_token(pattern)
    with pytest.raises(ClientError) as refused:
        pattern.aws.sfn.send_task_success(taskToken=token, output="{approved: yes}")

    # THEN Step Functions refuses it, and the task still waits for a good answer
    assert refused.value.response["Error"]["Code"] == "InvalidOutput"
    assert pattern.status(execution) == "RUNNING"
    pattern.aws.sfn.send_task_success(taskToken=token, output='{"approved": "yes"}')
    assert json.loads(pattern.wait(execution)["output"]) == {"approved": "yes"}


def test_moto_still_needs_the_output_correction(
    pattern: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution, token = waiting_token(pattern)
    monkeypatch.setattr(
        StepFunctionResponse, "send_task_success", moto_fixes.MOTO_ANSWERS["send_task_success"]
    )

    pattern.aws.sfn.send_task_success(taskToken=token, output="{approved: yes}")

    # If this fails, moto refuses output that is not JSON itself: remove correction 8.
    assert (pattern.wait(execution)["status"], pattern.wait(execution)["error"]) == (
        "FAILED",
        "States.Runtime",
    ), f"moto {moto.__version__} refuses output that is not JSON: remove correction 8"


def test_a_start_whose_input_is_not_json_is_refused_by_name(pattern: Pattern) -> None:
    with pytest.raises(ClientError) as refused:
        pattern.start_raw("{orderId: o-1}")

    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidExecutionInput"
    assert error["Message"].startswith("Invalid State Machine Execution Input: ")


def test_moto_still_needs_the_input_json_correction(
    pattern: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        StepFunctionsParserBackend, "start_execution", moto_fixes.MOTO_START_EXECUTION
    )

    with pytest.raises(ClientError) as refused:
        pattern.start_raw("{orderId: o-1}")

    # If this fails, moto names the error itself: remove correction 9.
    assert refused.value.response["Error"]["Code"] != "InvalidExecutionInput", (
        f"moto {moto.__version__} refuses an input that is not JSON by name: remove correction 9"
    )


def input_that_fits_but_not_its_message() -> str:
    """An execution input under StartExecution's 256 KiB that, with the token, the execution's
    ARN and the queue's URL beside it, is over 256 KiB as the Task state's input."""
    return json.dumps({"id": "x" * (moto_fixes.MAX_INPUT_BYTES - 200)})


def test_a_task_whose_message_is_over_256_kib_fails_as_step_functions_fails_it(
    pattern: Pattern,
) -> None:
    execution = pattern.start_raw(input_that_fits_but_not_its_message())

    result = pattern.wait(execution)

    assert (result["status"], result["error"]) == ("FAILED", "States.DataLimitExceeded")
    assert pattern.queue_depth() == 0  # no task reached the worker


def test_moto_still_needs_the_task_input_size_correction(
    pattern: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(StateTask, "_eval_parameters", moto_fixes.MOTO_EVAL_PARAMETERS)

    pattern.start_raw(input_that_fits_but_not_its_message())

    # If this fails, moto fails such a task itself: remove correction 10.
    assert pattern.receive(1), f"moto {moto.__version__} fails a task over 256 KiB: remove 10"


SAGA = ROOT / "examples" / "complete" / "workflows" / "refunds.asl.json"  # catches States.ALL


def test_a_catch_of_states_all_does_not_take_a_task_over_256_kib(aws: Aws) -> None:
    pattern = aws.deploy(workflow_path=str(SAGA))
    execution = pattern.start_raw(input_that_fits_but_not_its_message())

    result = pattern.wait(execution)

    # As on AWS: no compensation ran, the execution failed with the terminal error
    assert (result["status"], result["error"]) == ("FAILED", "States.DataLimitExceeded")
    events = pattern.aws.sfn.get_execution_history(executionArn=execution)["events"]
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("Entered")
    ]
    assert "ReleaseHoldAfterFailure" not in entered


def test_moto_still_needs_the_states_all_correction(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    pattern = aws.deploy(workflow_path=str(SAGA))  # (which applies the corrections)
    monkeypatch.setattr(ErrorEqualsDecl, "_eval_body", moto_fixes.MOTO_ERROR_EQUALS)
    execution = pattern.start_raw(input_that_fits_but_not_its_message())

    pattern.wait(execution)

    # If this fails, moto's States.ALL leaves the terminal error alone: remove correction 18.
    assert "ReleaseHoldAfterFailure" in entered_states(pattern, execution), (
        f"moto {moto.__version__}'s States.ALL does not catch States.DataLimitExceeded: remove 18"
    )


def entered_states(pattern: Pattern, execution: str) -> list[str]:
    events = pattern.aws.sfn.get_execution_history(executionArn=execution)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "StateEntered" in e["type"]]


def a_receipt_no_longer_in_flight(pattern: Pattern) -> tuple[str, str]:
    """The receipt handle of a task message whose visibility timeout has passed (set to 0), and
    the handle of its next receive."""
    pattern.start(succeeds("received twice"))
    (first,) = pattern.receive(1)
    sqs, url = pattern.aws.sqs, pattern.deployment.queue_url
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0
    )
    return first["ReceiptHandle"], url


def test_a_visibility_change_of_a_message_no_longer_in_flight_is_refused(pattern: Pattern) -> None:
    stale, url = a_receipt_no_longer_in_flight(pattern)

    response = pattern.aws.sqs.change_message_visibility_batch(
        QueueUrl=url, Entries=[{"Id": "0", "ReceiptHandle": stale, "VisibilityTimeout": 30}]
    )

    assert [entry["Code"] for entry in response["Failed"]] == ["MessageNotInflight"]
    assert response.get("Successful", []) == []
    assert pattern.queue_depth() == 1
    assert len(pattern.receive(1)) == 1  # still visible: the refusal hid nothing


def test_moto_still_needs_the_visibility_correction(
    pattern: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale, url = a_receipt_no_longer_in_flight(pattern)
    monkeypatch.setattr(
        SQSBackend, "change_message_visibility_batch", moto_fixes.MOTO_CHANGE_VISIBILITY_BATCH
    )

    response = pattern.aws.sqs.change_message_visibility_batch(
        QueueUrl=url, Entries=[{"Id": "0", "ReceiptHandle": stale, "VisibilityTimeout": 30}]
    )

    # If this fails, moto refuses a message no longer in flight itself: remove correction 19.
    assert [entry["Id"] for entry in response.get("Successful", [])] == ["0"], (
        f"moto {moto.__version__} refuses a visibility change out of flight: remove correction 19"
    )


SUBJECTS = {"100-characters": "x" * 100, "line-break": "two\nlines", "tab": "a\tb"}


@pytest.mark.parametrize("subject", SUBJECTS.values(), ids=SUBJECTS.keys())
def test_a_subject_sns_refuses_is_refused(subject: str) -> None:
    with mock_aws():
        moto_fixes.apply()
        sns = client("sns")
        topic = sns.create_topic(Name="t")["TopicArn"]
        assert sns.publish(TopicArn=topic, Subject="x" * 99, Message="m")["MessageId"]
        with pytest.raises(ClientError) as refused:
            sns.publish(TopicArn=topic, Subject=subject, Message="m")
    assert refused.value.response["Error"]["Code"] == "InvalidParameter"


def test_moto_still_needs_the_subject_correction(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws():
        moto_fixes.apply()
        monkeypatch.setattr(SNSBackend, "publish", moto_fixes.MOTO_PUBLISH)
        sns = client("sns")
        topic = sns.create_topic(Name="t")["TopicArn"]
        # If this raises, moto refuses such subjects itself: remove correction 20.
        for subject in SUBJECTS.values():
            sns.publish(TopicArn=topic, Subject=subject, Message="m")


def answered_task(pattern: Pattern) -> str:
    """The token of a task of a workflow that goes on after it (a Wait), answered already."""
    pattern.start(succeeds("answered"))
    (message,) = pattern.receive(1)
    token = json.loads(message["Body"])["taskToken"]
    pattern.aws.sfn.send_task_success(taskToken=token, output="{}")
    return token


AFTERWARDS = """{
  "StartAt": "WaitForWorker",
  "States": {
    "WaitForWorker": {
      "Type": "Task",
      "Resource": "arn:${partition}:states:::sqs:sendMessage.waitForTaskToken",
      "Parameters": {
        "QueueUrl": "${queue_url}",
        "MessageBody": {"taskToken.$": "$$.Task.Token", "executionArn.$": "$$.Execution.Id",
                        "input.$": "$"}
      },
      "TimeoutSeconds": ${task_timeout_seconds},
      "HeartbeatSeconds": ${heartbeat_seconds},
      "Catch": [{"ErrorEquals": ["States.Timeout", "States.HeartbeatTimeout"],
                 "Next": "CallbackTimedOut"}],
      "Next": "Afterwards"
    },
    "Afterwards": {"Type": "Wait", "Seconds": 30, "End": true},
    "CallbackTimedOut": {"Type": "Fail", "Error": "CallbackTimedOut"}
  }
}"""


@pytest.fixture
def a_state_after_the_task(aws: Aws, tmp_path: Path) -> Pattern:
    """The pattern with a workflow of its own that waits 30 s after the callback task: its
    execution runs on (whatever workflow the module's folder holds: a team's, in a copy)."""
    workflow = tmp_path / "afterwards.asl.json"
    workflow.write_text(AFTERWARDS)
    return aws.deploy(workflow_path=str(workflow))


def test_an_answered_tasks_token_is_refused_while_its_execution_runs_on(
    a_state_after_the_task: Pattern,
) -> None:
    pattern = a_state_after_the_task
    token = answered_task(pattern)

    for call in (
        lambda: pattern.aws.sfn.send_task_heartbeat(taskToken=token),
        lambda: pattern.aws.sfn.send_task_success(taskToken=token, output="{}"),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "TaskTimedOut"


def test_moto_still_needs_the_answered_task_correction(
    a_state_after_the_task: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    pattern = a_state_after_the_task
    monkeypatch.setattr(CallbackPoolManager, "heartbeat", moto_fixes.MOTO_POOL_HEARTBEAT)
    token = answered_task(pattern)

    # If this raises, moto refuses an answered task's token itself: remove correction 21.
    pattern.aws.sfn.send_task_heartbeat(taskToken=token)


def answered_before_its_heartbeat_clock(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, corrected: bool = True
) -> str:
    """An execution whose task is answered after its message is sent and before its heartbeat
    clock is set up (held there until the answer is in), as a quick worker answers it; with
    moto's own set-up of the clock unless `corrected`."""
    pattern = aws.deploy(task_timeout_seconds=4)  # (which applies the corrections) a 3 s window
    setup = (
        CallbackEndpoint.setup_heartbeat_endpoint if corrected else moto_fixes.MOTO_SETUP_HEARTBEAT
    )
    reached, release = threading.Event(), threading.Event()

    def held(self: CallbackEndpoint, heartbeat_seconds: int) -> Any:
        reached.set()
        release.wait(timeout=10)
        return setup(self, heartbeat_seconds=heartbeat_seconds)

    monkeypatch.setattr(CallbackEndpoint, "setup_heartbeat_endpoint", held)
    execution = pattern.start(succeeds("early"))
    (message,) = pattern.receive(1)
    assert reached.wait(timeout=10)
    token = json.loads(message["Body"])["taskToken"]
    pattern.aws.sfn.send_task_success(taskToken=token, output='{"early": true}')
    release.set()
    return execution


def test_an_answer_before_the_heartbeat_clock_is_set_up_ends_the_task(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution = answered_before_its_heartbeat_clock(aws, monkeypatch)

    ended = finished(aws.sfn, execution, timeout=10)

    assert (ended["status"], json.loads(ended.get("output", "null"))) == (
        "SUCCEEDED",
        {"early": True},
    )


def test_moto_still_needs_the_early_answer_correction(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution = answered_before_its_heartbeat_clock(aws, monkeypatch, corrected=False)

    ended = finished(aws.sfn, execution, timeout=15)

    # If this fails, moto sees an early answer itself: remove correction 22.
    assert ended.get("error") == "CallbackTimedOut", (
        f"moto {moto.__version__} takes an answer made before the heartbeat clock: remove 22"
    )


def test_a_failure_keeps_its_cause(pattern: Pattern) -> None:
    execution, token = waiting_token(pattern)

    pattern.aws.sfn.send_task_failure(taskToken=token, error="Rejected", cause="over the limit")

    result = pattern.wait(execution)
    assert (result["error"], result["cause"]) == ("Rejected", "over the limit")


def test_moto_still_needs_the_cause_correction(
    pattern: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution, token = waiting_token(pattern)
    monkeypatch.setattr(
        StepFunctionResponse, "send_task_failure", moto_fixes.MOTO_ANSWERS["send_task_failure"]
    )

    pattern.aws.sfn.send_task_failure(taskToken=token, error="Rejected", cause="over the limit")

    # If this fails, moto keeps the cause itself: remove correction 11.
    assert "cause" not in pattern.wait(execution), (
        f"moto {moto.__version__} keeps SendTaskFailure's cause: remove correction 11"
    )


# Corrections 12 to 17: what the aws provider needs of the emulator to apply the module, plan it
# again with no change, and destroy it (make test-apply runs the whole cycle).


def queues_with_policies(aws: Aws) -> tuple[Any, str, str]:
    """A task queue and its DLQ, the DLQ's Policy set first, then its RedriveAllowPolicy, as
    Terraform sets them."""
    moto_fixes.apply()
    sqs = client("sqs")
    dlq = sqs.create_queue(QueueName="probe-dlq")["QueueUrl"]
    tasks = sqs.create_queue(QueueName="probe-tasks")["QueueUrl"]
    tasks_arn = sqs.get_queue_attributes(QueueUrl=tasks, AttributeNames=["QueueArn"])
    deny = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}  # fmt: skip
    policy = {"Version": "2012-10-17", "Statement": [deny]}
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"Policy": json.dumps(policy)})
    allow = {"redrivePermission": "byQueue",
             "sourceQueueArns": [tasks_arn["Attributes"]["QueueArn"]]}  # fmt: skip
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(allow)})
    return sqs, dlq, json.dumps(allow)


def test_a_redrive_allow_policy_is_kept_and_the_policy_beside_it(aws: Aws) -> None:
    sqs, dlq, allow = queues_with_policies(aws)

    attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]

    assert attributes["RedriveAllowPolicy"] == allow
    assert "Policy" in attributes
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": ""})
    gone = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
    assert "RedriveAllowPolicy" not in gone


def test_moto_still_needs_the_queue_attribute_corrections(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(moto_fixes, "apply", lambda: None)
    monkeypatch.setattr(Queue, "_set_attributes", moto_fixes.MOTO_SET_QUEUE_ATTRIBUTES)
    monkeypatch.setattr(Queue, "attributes", moto_fixes.MOTO_QUEUE_ATTRIBUTES)
    sqs, dlq, _ = queues_with_policies(aws)

    attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]

    # If either fails, moto keeps it itself: remove correction 12 or 13.
    assert "RedriveAllowPolicy" not in attributes, (
        f"moto {moto.__version__} keeps a queue's RedriveAllowPolicy: remove correction 12"
    )
    assert "Policy" not in attributes, (
        f"moto {moto.__version__} keeps a queue's Policy beside other attributes: remove "
        "correction 13"
    )


def redrive_policy(aws: Aws) -> str:
    sqs = client("sqs")
    dlq = sqs.create_queue(QueueName="probe-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]
    policy = {"deadLetterTargetArn": arn["QueueArn"], "maxReceiveCount": 3}
    tasks = sqs.create_queue(
        QueueName="probe-tasks", Attributes={"RedrivePolicy": json.dumps(policy)}
    )["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=tasks, AttributeNames=["All"])["Attributes"][
        "RedrivePolicy"
    ]


def test_a_redrive_policy_comes_back_in_sqss_compact_form(aws: Aws) -> None:
    moto_fixes.apply()

    assert ": " not in redrive_policy(aws)
    assert ", " not in redrive_policy(aws)


def test_moto_still_needs_the_redrive_policy_correction(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Queue, "attributes", moto_fixes.MOTO_QUEUE_ATTRIBUTES)

    # If this fails, moto returns SQS's form itself: remove correction 14.
    assert ": " in redrive_policy(aws), (
        f"moto {moto.__version__} returns the compact RedrivePolicy: remove correction 14"
    )


def test_a_definition_is_validated_and_a_state_machine_lists_its_versions(pattern: Pattern) -> None:
    sfn, arn = pattern.aws.sfn, pattern.deployment.state_machine_arn

    valid = sfn.validate_state_machine_definition(definition=json.dumps(pattern.definition()))
    invalid = sfn.validate_state_machine_definition(definition='{"States": {}}')
    versions = sfn.list_state_machine_versions(stateMachineArn=arn)

    assert (valid["result"], invalid["result"]) == ("OK", "FAIL")
    assert versions["stateMachineVersions"] == []


def test_moto_still_needs_the_validation_and_versions_correction(
    pattern: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(StepFunctionResponse, "validate_state_machine_definition")

    # If this fails, moto answers it itself: remove correction 15.
    with pytest.raises(Exception):  # noqa: B017, PT011 (moto answers a 500: botocore's error)
        pattern.aws.sfn.validate_state_machine_definition(definition='{"States": {}}')


def function_logging(aws: Aws) -> dict[str, Any]:
    lambda_client = client("lambda")
    iam = client("iam")
    role = iam.create_role(RoleName="probe", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lambda_client.create_function(
        FunctionName="probe", Runtime="python3.12", Role=role, Handler="a.b",
        Code={"ZipFile": zip_of("a.py", "")},
        LoggingConfig={"LogFormat": "Text", "LogGroup": "/aws/lambda/probe-group"},
    )  # fmt: skip
    return lambda_client.get_function(FunctionName="probe")["Configuration"].get(
        "LoggingConfig", {}
    )


def zip_of(name: str, text: str) -> bytes:
    import io
    import zipfile

    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr(name, text)
    return package.getvalue()


def test_a_functions_logging_config_is_kept(aws: Aws) -> None:
    moto_fixes.apply()

    assert function_logging(aws) == {"LogFormat": "Text", "LogGroup": "/aws/lambda/probe-group"}


def test_moto_still_needs_the_logging_config_correction(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    init, configuration, _update = moto_fixes.MOTO_LAMBDA_FUNCTION
    monkeypatch.setattr(LambdaFunction, "__init__", init)
    monkeypatch.setattr(LambdaFunction, "get_configuration", configuration)

    # If this fails, moto keeps it itself: remove correction 16.
    assert function_logging(aws) == {}, (
        f"moto {moto.__version__} keeps a function's LoggingConfig: remove correction 16"
    )


def mapped_queue(aws: Aws) -> tuple[Any, str]:
    """A queue with an SQS event source mapping to a function, and a message sent to it."""
    sqs = client("sqs")
    url = sqs.create_queue(QueueName="probe-mapped")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    function_logging(aws)
    client("lambda").create_event_source_mapping(
        EventSourceArn=arn["QueueArn"], FunctionName="probe", BatchSize=1
    )
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    return sqs, url


def test_a_mapping_leaves_its_queues_messages_to_the_emulators_worker(aws: Aws) -> None:
    moto_fixes.apply()
    sqs, url = mapped_queue(aws)

    received = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])

    # THEN the message's first receive is the worker's: moto took none of its allowed receives
    (message,) = received["Messages"]
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"


def test_moto_still_needs_the_mapping_correction(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        LambdaBackend, "create_event_source_mapping", moto_fixes.MOTO_CREATE_EVENT_SOURCE_MAPPING
    )
    moto_fixes.apply()
    monkeypatch.setattr(
        LambdaBackend, "create_event_source_mapping", moto_fixes.MOTO_CREATE_EVENT_SOURCE_MAPPING
    )
    sqs, url = mapped_queue(aws)

    received = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])

    # If this fails, moto leaves the messages alone itself: remove correction 17.
    messages = received.get("Messages", [])
    assert not messages or messages[0]["Attributes"]["ApproximateReceiveCount"] != "1", (
        f"moto {moto.__version__} no longer takes a mapped queue's messages: remove correction 17"
    )
