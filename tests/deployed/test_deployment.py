"""Does it work where it is deployed? The same checks for a real account and for `make serve`,
each as a user sees it: executions of the work's examples end as they should (its handed-off
one answered where the emulator stands in for the team's system, else found waiting and
stopped), a burst of them too, an input too large for its task's message fails as Step Functions
fails it, nothing is left in the queues, and the worker's logs hold no task token. The timeout
check pauses the worker and waits out the task timeout, and on AWS waits for the alarms' metrics
to count both failures: it runs only with DEPLOYED_TIMEOUT_CHECK=1.

Run with `make test-deployed` (see tests/deployed/conftest.py for how it finds the deployment).
On AWS it starts about 55 executions: a few cents.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from emulator.watch import finished, queue_depth, wait_for
from emulator.work_examples import WorkExamples

if TYPE_CHECKING:
    from tests.deployed.deployment import Deployment

pytestmark = pytest.mark.deployed
EXAMPLES = WorkExamples.load()
STARTED_AT = time.time()
BURST = 50


def start(deployment: Deployment, task_input: Any, kind: str) -> str:
    arn = deployment.client("stepfunctions").start_execution(
        stateMachineArn=deployment.outputs["state_machine_arn"],
        name=f"deployed-{kind}-{uuid.uuid4().hex[:12]}",
        input=json.dumps(task_input),
    )["executionArn"]
    deployment.executions.append(arn)
    return arn


def ended(deployment: Deployment, arn: str, timeout: float) -> dict[str, Any]:
    """The execution's description once it is no longer RUNNING (or after `timeout` seconds)."""
    return finished(deployment.client("stepfunctions"), arn, timeout, interval=1)


def depth(deployment: Deployment, output: str) -> int:
    return queue_depth(deployment.client("sqs"), deployment.outputs[output])


@pytest.fixture(scope="session")
def dead_letters_before(deployment: Deployment) -> int:
    return depth(deployment, "dead_letter_queue_url")


def callback_tasks(states: dict[str, Any]) -> list[dict[str, Any]]:
    """The workflow's callback tasks, wherever they stand (a Parallel's branch, a Map's)."""
    found = []
    for state in states.values():
        if str(state.get("Resource", "")).endswith(":sqs:sendMessage.waitForTaskToken"):
            found.append(state)
        for branch in [*state.get("Branches", []), state.get("ItemProcessor") or {}]:
            found += callback_tasks(branch.get("States", {}))
    return found


def test_the_worker_proves_each_task_waits_with_a_call_aws_documents_for_it(
    deployment: Deployment,
) -> None:
    # The worker's first call for every record is SendTaskHeartbeat: what tells a live task of
    # this state machine from a forged or ended one. AWS documents it for a task with
    # HeartbeatSeconds, which the module's workflow always declares; without it, every record
    # could end TokenNoLongerLive and every execution CallbackTimedOut.
    machine = deployment.client("stepfunctions").describe_state_machine(
        stateMachineArn=deployment.outputs["state_machine_arn"]
    )
    tasks = callback_tasks(json.loads(machine["definition"])["States"])

    assert tasks, "the workflow has no sqs:sendMessage.waitForTaskToken task"
    assert all("HeartbeatSeconds" in task for task in tasks), (
        "the callback task declares no HeartbeatSeconds: the worker's proof that a task waits "
        '(SendTaskHeartbeat) rests on it; keep the module\'s "HeartbeatSeconds": '
        "${heartbeat_seconds} in your workflow"
    )


def test_the_accepted_example_succeeds_with_the_works_result(
    deployment: Deployment, dead_letters_before: int
) -> None:
    execution = start(deployment, EXAMPLES.accepted, "accepted")

    described = ended(deployment, execution, timeout=120)

    assert described.get("error") != "CallbackTimedOut", (
        "the accepted example timed out: the worker called nothing back. If its logs count "
        "TokenNoLongerLive (or MessageRefused), Step Functions refused the SendTaskHeartbeat that "
        "proves a task waits (or SQS the ChangeMessageVisibility that proves a record came from "
        "the task queue): see docs/security.md, The work runs only for a live task"
    )
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) is not None  # the work's result, whatever the work


def test_the_rejected_example_fails_with_its_error_and_cause(deployment: Deployment) -> None:
    execution = start(deployment, EXAMPLES.rejected, "rejected")

    described = ended(deployment, execution, timeout=120)

    assert (described["status"], described.get("error")) == ("FAILED", EXAMPLES.rejected_error)
    assert described.get("cause")


def test_a_burst_of_executions_all_end_as_their_inputs_call_for(deployment: Deployment) -> None:
    inputs = [EXAMPLES.rejected if i % 10 == 0 else EXAMPLES.accepted for i in range(BURST)]
    executions = [start(deployment, task_input, "burst") for task_input in inputs]

    endings = [
        (described["status"], described.get("error"))
        for described in (ended(deployment, arn, timeout=180) for arn in executions)
    ]

    expected = [
        ("FAILED", EXAMPLES.rejected_error) if i % 10 == 0 else ("SUCCEEDED", None)
        for i in range(BURST)
    ]
    assert endings == expected


def timeout_check() -> bool:
    return os.environ.get("DEPLOYED_TIMEOUT_CHECK") == "1"


def counted_by_its_alarm(deployment: Deployment, metric: str, since: float) -> bool:
    """Whether the metric an alarm watches (counted from the state machine's log into the
    deployment's namespace, the state machine's name) has counted something since `since`,
    waiting up to 10 minutes for CloudWatch Logs and CloudWatch to catch up."""
    cloudwatch = deployment.client("cloudwatch")
    namespace = deployment.outputs["state_machine_arn"].rsplit(":", 1)[1]

    def counted() -> bool:
        datapoints = cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName=metric,
            StartTime=since - 60,
            EndTime=time.time() + 60,
            Period=60,
            Statistics=["Sum"],
        )["Datapoints"]
        return sum(point["Sum"] for point in datapoints) >= 1

    return wait_for(counted, timeout=600, interval=15)


def test_the_handed_off_example_waits_for_the_external_systems_answer(
    deployment: Deployment,
) -> None:
    if EXAMPLES.handed_off is None:
        pytest.skip("the work's examples name no input it hands off (work_examples.json)")
    sfn = deployment.client("stepfunctions")

    if deployment.outputs.get("hand_offs_answered_by_the_emulator"):
        # WHEN each of the work's handed-off examples runs (one that times out, when the timeout
        # check runs), THEN a stand-in for the team's system (the emulator's, as the example
        # says; the team's own, as it decides) answers, and each ends as the example says
        endings = []
        for example in EXAMPLES.handed_offs:
            if str(example.ending) == "FAILED CallbackTimedOut" and not timeout_check():
                continue
            arn = start(deployment, example.input, "handed-off")
            wait = deployment.outputs["task_timeout_seconds"] + 60
            described = ended(deployment, arn, timeout=wait)
            if example.answered_by_the_emulator and example.ends is None:
                assert json.loads(described.get("output") or "null") == example.answer
            endings.append(example.ending.differs(described))
        assert endings == [None] * len(endings)
        return
    # WHEN the work's handed-off example runs
    execution = start(deployment, EXAMPLES.handed_off.input, "handed-off")
    # THEN the work handed it off: its message is done (a worker that answered instead would
    # have answered before that) and the execution waits for an answer only the team's system
    # can give; the suite has no way to that system, and stops the execution instead (unless
    # the system has answered already)
    sent = wait_for(
        lambda: (
            "TaskSubmitted"
            in {e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]}
        ),
        timeout=60,
        interval=1,
    )
    done = wait_for(lambda: depth(deployment, "queue_url") == 0, timeout=120, interval=2)
    assert sent, "the handed-off example's task message was never sent"
    assert done, "the handed-off example's task message was not taken from the queue"
    status = sfn.describe_execution(executionArn=execution)["status"]
    assert status in ("RUNNING", "SUCCEEDED"), status
    if status == "RUNNING":
        sfn.stop_execution(executionArn=execution, cause="make test-deployed: answered by nobody")


def test_an_input_too_large_for_its_task_message_fails_before_the_queue(
    deployment: Deployment,
) -> None:
    # GIVEN an input StartExecution takes (256 KiB at most) that, with the task token, the
    # execution's ARN and the queue's URL beside it, is more than the Task state may send
    started = time.time()
    execution = deployment.client("stepfunctions").start_execution(
        stateMachineArn=deployment.outputs["state_machine_arn"],
        name=f"deployed-too-large-{uuid.uuid4().hex[:12]}",
        input=json.dumps({"padding": "x" * (262_144 - 200)}),
    )["executionArn"]

    # THEN Step Functions fails it before any message is sent
    described = ended(deployment, execution, timeout=120)
    assert (described["status"], described.get("error")) == ("FAILED", "States.DataLimitExceeded")
    # AND on AWS the tasks-not-sent alarm's metric counts it (it counts the error name of the
    # ExecutionFailed event, which AWS does not document as kept without execution data)
    if timeout_check() and not deployment.on_emulator:
        assert counted_by_its_alarm(deployment, "TaskNotSent", since=started)


def test_with_the_worker_paused_an_execution_times_out(deployment: Deployment) -> None:
    if not timeout_check():
        pytest.skip(
            "the timeout check waits task_timeout_seconds: DEPLOYED_TIMEOUT_CHECK=1 runs it"
        )
    lambda_client = deployment.client("lambda")
    mapping = deployment.outputs["event_source_mapping_uuid"]

    def set_mapping(enabled: bool) -> None:
        lambda_client.update_event_source_mapping(UUID=mapping, Enabled=enabled)
        state = "Enabled" if enabled else "Disabled"
        assert wait_for(
            lambda: lambda_client.get_event_source_mapping(UUID=mapping)["State"] == state,
            timeout=300,
            interval=2,
        ), f"the event source mapping is not {state}"

    # GIVEN the worker paused, as the runbook's commands pause it
    set_mapping(enabled=False)
    started = time.time()
    try:
        # WHEN an execution starts and the task timeout passes
        execution = start(deployment, EXAMPLES.accepted, "timeout")
        described = ended(deployment, execution, deployment.outputs["task_timeout_seconds"] + 60)
    finally:
        set_mapping(enabled=True)  # the worker then consumes the message as no longer live

    # THEN it failed with CallbackTimedOut
    assert (described["status"], described.get("error")) == ("FAILED", "CallbackTimedOut")
    # AND on AWS the callback-timed-out alarm's metric counts it (the emulator has no metric
    # filters: docs/emulator.md)
    if not deployment.on_emulator:
        assert counted_by_its_alarm(deployment, "CallbackTimedOut", since=started)


def test_nothing_is_left_in_the_task_queue_or_the_dead_letter_queue(
    deployment: Deployment, dead_letters_before: int
) -> None:
    wait_for(lambda: not depth(deployment, "queue_url"), timeout=120, interval=2)

    assert depth(deployment, "queue_url") == 0
    assert depth(deployment, "dead_letter_queue_url") == dead_letters_before


def test_the_workers_logs_of_the_run_hold_no_task_token(deployment: Deployment) -> None:
    # GIVEN the task tokens of this run's executions, from their histories
    tokens = [token for arn in deployment.executions for token in task_tokens(deployment, arn)]
    assert len(tokens) == len(deployment.executions) > 0

    # WHEN the worker's logs of the run are read (they name the rejected executions)
    rejected = next(arn for arn in deployment.executions if ":deployed-rejected-" in arn)
    logs = worker_logs(deployment, until_it_names=rejected)

    # THEN none holds a token
    assert rejected in logs
    assert [token for token in tokens if token in logs] == []


def task_tokens(deployment: Deployment, arn: str) -> list[str]:
    """The task tokens Step Functions put in the execution's task messages."""
    events = deployment.client("stepfunctions").get_execution_history(executionArn=arn)["events"]
    return [
        json.loads(event["taskScheduledEventDetails"]["parameters"])["MessageBody"]["taskToken"]
        for event in events
        if event["type"] == "TaskScheduled"
    ]


def worker_logs(deployment: Deployment, until_it_names: str) -> str:
    """The worker's log lines since the run began: from its log group on AWS (waiting for
    CloudWatch Logs to receive them), from its log file on the emulator."""
    log_file = deployment.outputs.get("worker_log_file")
    if deployment.on_emulator:
        if not log_file:
            pytest.skip("make serve shows the worker's logs on stderr (--logs): nothing to read")
        return Path(log_file).read_text()
    logs = deployment.client("logs")
    deadline = time.monotonic() + 120
    while True:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=deployment.outputs["worker_log_group_name"],
            startTime=int(STARTED_AT * 1000),
        )
        text = "\n".join(event["message"] for page in pages for event in page["events"])
        if until_it_names in text or time.monotonic() > deadline:
            return text
        time.sleep(5)
