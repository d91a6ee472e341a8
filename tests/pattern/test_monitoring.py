"""The alarms and the dashboard watch metrics that are really emitted: the worker's own metrics
as it prints them (namespace, name and exact dimension set), AWS's metrics as AWS documents them,
and the CallbackTimedOut count of the state machine's log events. Each alarm has a runbook entry.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from emulator.emf import metrics_emitted
from emulator.terraform import ROOT, load_hcl
from tests.pattern.fake_work import crashes, rejects, succeeds
from tests.pattern.helpers import resource, with_receive_count

if TYPE_CHECKING:
    from tests.pattern.helpers import Aws, Pattern

# AWS's metrics the alarms and the dashboard use: namespace -> metric -> its dimension set, as the
# documentation of each namespace lists them.
AWS_METRICS = {
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
    "AWS/SQS": {
        "ApproximateAgeOfOldestMessage": {"QueueName"},
        "ApproximateNumberOfMessagesVisible": {"QueueName"},
        "ApproximateNumberOfMessagesNotVisible": {"QueueName"},
    },
    # https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
    "AWS/Lambda": {
        "Invocations": {"FunctionName"},
        "Errors": {"FunctionName"},
        "Throttles": {"FunctionName"},
        "Duration": {"FunctionName"},
        "ConcurrentExecutions": {"FunctionName"},
    },
    # https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
    "AWS/States": {
        "ExecutionsStarted": {"StateMachineArn"},
        "ExecutionsSucceeded": {"StateMachineArn"},
        "ExecutionsFailed": {"StateMachineArn"},
        "ExecutionsTimedOut": {"StateMachineArn"},
    },
}


def main_tf_locals() -> dict[str, Any]:
    return {k: v for block in load_hcl("main.tf")["locals"] for k, v in block.items()}


def alarms() -> dict[str, dict[str, Any]]:
    return main_tf_locals()["alarms"]


@pytest.fixture
def worker_output(pattern: Pattern, capsys: pytest.CaptureFixture[str]) -> str:
    """What the worker prints for batches with every outcome, WorkerFailed among them."""
    inputs = [succeeds("ok"), rejects(), succeeds("stale"), crashes(), crashes("the last receive")]
    for task_input in inputs:
        pattern.start(task_input)
    messages = pattern.receive(len(inputs))
    by_input = {json.dumps(json.loads(m["Body"])["input"]): m for m in messages}
    stale = by_input[json.dumps(succeeds("stale"))]
    pattern.aws.sfn.send_task_success(taskToken=json.loads(stale["Body"])["taskToken"], output="{}")
    last = by_input.pop(json.dumps(crashes("the last receive")))
    pattern.send_raw("not a task message")
    capsys.readouterr()
    pattern.invoke([*by_input.values(), *pattern.receive(1)])
    pattern.invoke([with_receive_count(last, pattern.deployment.settings.max_receive_count)])
    return capsys.readouterr().out


def test_each_alarm_on_the_workers_metrics_watches_a_metric_with_the_dimensions_it_emits(
    pattern: Pattern, worker_output: str
) -> None:
    # GIVEN what the worker printed for every outcome (in the emulator, namespace and service are
    # var.name; main.tf gives the same namespace and the deployment's name as the service)
    emitted = metrics_emitted(worker_output)
    names = {metric for _, metric, _ in emitted}
    assert names >= {"TaskSucceeded", "TaskFailed", "WorkerFailed", "RecordRetried"}
    worker_metrics = main_tf_locals()["worker_metrics"]
    assert worker_metrics == {
        "namespace": "${var.name}",
        "dimensions": "${tomap({service = local.name})}",
    }

    # THEN every alarm on the worker's namespace watches one of those metrics, dimensions alike
    watched = [
        alarm
        for alarm in alarms().values()
        if alarm["namespace"] == "${local.worker_metrics.namespace}"
    ]
    assert {alarm["metric"] for alarm in watched} == {"RecordRetried", "WorkerFailed"}
    for alarm in watched:
        assert alarm["dimensions"] == "${local.worker_metrics.dimensions}"
        service = pattern.deployment.settings.name
        assert (service, alarm["metric"], frozenset({"service"})) in emitted


def test_each_alarm_on_an_aws_metric_uses_its_documented_dimensions() -> None:
    for name, alarm in alarms().items():
        namespace = alarm["namespace"]
        if namespace.startswith("AWS/"):
            dimensions = set(re.findall(r"(\w+) = ", alarm["dimensions"]))
            assert dimensions == AWS_METRICS[namespace][alarm["metric"]], name


def test_the_timeout_alarm_counts_the_log_events_of_the_state_machines_timeout_state(
    aws: Aws,
) -> None:
    # GIVEN an execution that times out: its history (which the state machine's log mirrors, one
    # log event per history event) enters the Fail state the timeout routes to
    pattern = aws.deploy(task_timeout_seconds=1)
    execution = pattern.start(succeeds("too-late"))
    assert pattern.wait(execution)["error"] == "CallbackTimedOut"
    history = pattern.aws.sfn.get_execution_history(executionArn=execution)["events"]
    (fail,) = [event for event in history if event["type"] == "FailStateEntered"]
    state = fail["stateEnteredEventDetails"]["name"]

    # THEN the metric filter matches that event type and state, and the alarm watches its metric
    metric_filter = resource("aws_cloudwatch_log_metric_filter", "callback_timed_out")
    assert metric_filter["pattern"] == (
        f'{{ $.type = "FailStateEntered" && $.details.name = "{state}" }}'
    )
    assert metric_filter["log_group_name"] == "${aws_cloudwatch_log_group.state_machine.name}"
    (transformation,) = metric_filter["metric_transformation"]
    alarm = alarms()["callback-timed-out"]
    assert (alarm["namespace"], alarm["metric"]) == (
        transformation["namespace"],
        transformation["name"],
    )
    assert alarm["dimensions"] == "${tomap({})}"  # a metric filter's metric here has none
    assert "dimensions" not in transformation


def test_the_alarms_notify_the_alarm_actions_and_one_switch_turns_monitoring_off() -> None:
    alarm = resource("aws_cloudwatch_metric_alarm", "this")
    assert (
        alarm["for_each"]
        == "${{for name, alarm in local.alarms : name => alarm if var.monitoring}}"
    )
    assert alarm["alarm_actions"] == alarm["ok_actions"] == "${var.alarm_actions}"
    assert alarm["treat_missing_data"] == "notBreaching"
    for kind, name in (
        ("aws_cloudwatch_dashboard", "this"),
        ("aws_cloudwatch_log_metric_filter", "callback_timed_out"),
    ):
        assert resource(kind, name)["count"] == "${var.monitoring ? 1 : 0}"


def test_the_dashboard_shows_every_alarms_metric_and_the_rest_of_the_flow() -> None:
    body = resource("aws_cloudwatch_dashboard", "this")["dashboard_body"]
    shown = set(re.findall(r'"(\w+)"', body))
    flow = {metric for metrics in AWS_METRICS.values() for metric in metrics} | {
        "TaskSucceeded",
        "TaskFailed",
        "TokenNoLongerLive",
        "TaskInProgress",
        "MessageMalformed",
    }
    assert {alarm["metric"] for alarm in alarms().values()} | flow <= shown
    assert "aws_cloudwatch_metric_alarm.this" in body  # and the alarms' states


def test_every_alarm_has_a_runbook_entry() -> None:
    readme = (ROOT / "README.md").read_text()
    runbook = readme[readme.index("## Runbook") :]
    headings = re.findall(r"^### `(\S+)`", runbook, re.MULTILINE)
    assert headings == list(alarms())
