"""The alarms and the dashboard watch metrics that are really emitted: the worker's own metrics
as it prints them (namespace, name and exact dimension set), AWS's metrics as AWS documents them,
and the counts of the state machine's log events (its ExecutionFailed events, as CloudWatch Logs
receives them at each log level). Each alarm has a runbook entry.
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from emulator.emf import metrics_emitted
from emulator.terraform import ROOT, load_hcl
from tests.pattern.fake_work import crashes, rejects, succeeds
from tests.pattern.helpers import with_receive_count
from worker.outcomes import Outcome

if TYPE_CHECKING:
    from tests.pattern.helpers import Aws, Pattern


def monitoring_local(name: str) -> Any:
    """A value monitoring.tf defines (the alarms, the metric filters' patterns), as data."""
    (value,) = [block[name] for block in load_hcl("monitoring.tf")["locals"] if name in block]
    return value


def alarms() -> dict[str, dict[str, Any]]:
    """The alarms, by name: what each watches (its metric and namespace)."""
    return monitoring_local("alarms")


def on_the_deployments_metrics(alarm: dict[str, Any]) -> bool:
    """Whether the alarm watches a metric of the deployment's own namespace (not AWS's)."""
    return not alarm["namespace"].startswith("AWS/")


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
    # GIVEN what the worker printed for every outcome (the namespace and the service are the
    # deployment's name: var.name in the emulator, with the module's random suffix on AWS)
    emitted = metrics_emitted(worker_output)
    names = {metric for _, metric, _ in emitted}
    assert names >= {"TaskSucceeded", "TaskFailed", "WorkerFailed", "RecordRetried"}

    # THEN every alarm on the deployment's own namespace watches one of those metrics, with the
    # one dimension the worker emits it with (tests/main.tftest.hcl holds the alarms' values)
    watched = {
        alarm["metric"] for alarm in alarms().values() if not alarm["namespace"].startswith("AWS/")
    }
    assert watched - {"CallbackTimedOut", "TaskNotSent"} == {"RecordRetried", "WorkerFailed"}
    service = pattern.deployment.settings.name
    for metric in ("RecordRetried", "WorkerFailed"):
        assert (service, metric, frozenset({"service"})) in emitted


# The event types Step Functions writes to CloudWatch Logs at each level ("Log levels" in the
# Step Functions guide, https://docs.aws.amazon.com/step-functions/latest/dg/cloudwatch-log-level.html):
# every type at ALL; these at ERROR and FATAL.
FATAL = {"ExecutionAborted", "ExecutionFailed", "ExecutionTimedOut"}
ERROR = FATAL | {
    "FailStateEntered", "LambdaFunctionFailed", "LambdaFunctionScheduleFailed",
    "LambdaFunctionStartFailed", "LambdaFunctionTimedOut", "MapIterationAborted",
    "MapIterationFailed", "MapStateAborted", "MapStateFailed", "ParallelStateAborted",
    "ParallelStateFailed", "TaskFailed", "TaskStartFailed", "TaskStateAborted", "TaskSubmitFailed",
    "TaskTimedOut", "WaitStateAborted",
}  # fmt: skip
EXECUTION_DATA = {"input", "output", "parameters", "cause", "inputDetails", "outputDetails"}


def log_events(
    history: list[dict[str, Any]], execution_arn: str, level: str, error_kept: bool = True
) -> list[dict[str, Any]]:
    """An execution's history as Step Functions writes it to CloudWatch Logs at `level`, without
    execution data (the pattern's default): `type`, `details` (the event's details; the error
    kept, or left out as AWS may leave it), `execution_arn`, `event_timestamp`,
    `previous_event_id`, `redrive_count`."""
    logged = {"ALL": None, "ERROR": ERROR, "FATAL": FATAL}[level]
    left_out = EXECUTION_DATA if error_kept else EXECUTION_DATA | {"error"}
    events = []
    for event in history:
        if logged is not None and event["type"] not in logged:
            continue
        details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
        events.append(
            {
                "id": str(event["id"]),
                "type": event["type"],
                "details": {k: v for k, v in details.items() if k not in left_out},
                "previous_event_id": str(event.get("previousEventId", 0)),
                "event_timestamp": str(int(event["timestamp"].timestamp() * 1000)),
                "execution_arn": execution_arn,
                "redrive_count": "0",
            }
        )
    return events


def matches(pattern: str, event: dict[str, Any]) -> bool:
    """Whether a CloudWatch Logs JSON filter pattern matches a log event: the syntax monitoring.tf's
    filters use (`$.a.b = "text"` with `*` wildcards, `&&`, `||`, parentheses), nothing more."""
    tokens = re.findall(r'\$(?:\.\w+)+|"[^"]*"|&&|\|\||[(){}=]', pattern)
    assert "".join(tokens) == re.sub(r"\s", "", pattern), f"unsupported syntax: {pattern}"
    position = 0

    def take(expected: str | None = None) -> str:
        nonlocal position
        token = tokens[position]
        assert expected is None or token == expected, f"{expected} expected at {token}: {pattern}"
        position += 1
        return token

    def selected(path: str) -> Any:
        value: Any = event
        for key in path.split(".")[1:]:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def comparison() -> bool:
        if tokens[position] == "(":
            take("(")
            found = either()
            take(")")
            return found
        value = selected(take())
        take("=")
        wanted = take()[1:-1]
        return isinstance(value, str) and fnmatch.fnmatchcase(value, wanted)

    def both() -> bool:
        found = comparison()
        while position < len(tokens) and tokens[position] == "&&":
            take("&&")
            found = comparison() and found
        return found

    def either() -> bool:
        found = both()
        while position < len(tokens) and tokens[position] == "||":
            take("||")
            found = both() or found
        return found

    take("{")
    found = either()
    take("}")
    return found


def counted(events: list[dict[str, Any]]) -> dict[str, int]:
    """What each of monitoring.tf's metric filters counts in these log events."""
    (filters,) = [
        b["execution_failures"]
        for b in load_hcl("monitoring.tf")["locals"]
        if "execution_failures" in b
    ]
    return {metric: sum(matches(p, event) for event in events) for metric, p in filters.items()}


@pytest.fixture
def timed_out(aws: Aws) -> tuple[str, list[dict[str, Any]]]:
    """An execution that waited for its callback in vain, and its history."""
    pattern = aws.deploy(task_timeout_seconds=2)
    execution = pattern.start(succeeds("too-late"))
    assert pattern.wait(execution)["error"] == "CallbackTimedOut"
    return execution, pattern.aws.sfn.get_execution_history(executionArn=execution)["events"]


@pytest.mark.parametrize("error_kept", [True, False], ids=["error-kept", "error-left-out"])
@pytest.mark.parametrize("level", ["ALL", "ERROR"])
def test_a_timed_out_execution_counts_once_as_callback_timed_out_at_every_log_level_it_allows(
    timed_out: tuple[str, list[dict[str, Any]]], level: str, error_kept: bool
) -> None:
    # GIVEN the log of an execution that timed out, at each level the module allows with
    # monitoring (variables.tf), with the error name, or without it, as AWS may write it
    execution, history = timed_out

    events = log_events(history, execution, level, error_kept)

    # THEN it counts once as CallbackTimedOut: by its Fail state's name, which is no execution data
    assert counted(events) == {"CallbackTimedOut": 1, "TaskNotSent": 0}


@pytest.mark.parametrize("level", ["ALL", "ERROR", "FATAL"])
@pytest.mark.parametrize("error", ["States.DataLimitExceeded", "SQS.AmazonSQSException"])
def test_an_execution_failed_before_its_task_was_sent_counts_as_task_not_sent(
    level: str, error: str
) -> None:
    # GIVEN an execution whose Task state failed to send its message (its input, with the token,
    # over 256 KiB; or SQS refusing it): the history AWS records for it
    execution = "arn:aws:states:eu-west-1:123456789012:execution:cb-a1b2c3:too-big"
    history = [
        {"id": 1, "type": "ExecutionStarted", "executionStartedEventDetails": {"input": "{}"}},
        {"id": 2, "type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Wait"}},
        {"id": 3, "type": "TaskFailed", "taskFailedEventDetails": {"error": error, "cause": "c"}},
        {"id": 4, "type": "ExecutionFailed", "executionFailedEventDetails": {"error": error}},
    ]
    for event in history:
        event["timestamp"] = datetime.datetime.now(datetime.UTC)

    # THEN it counts once as TaskNotSent, at every level
    assert counted(log_events(history, execution, level)) == {
        "CallbackTimedOut": 0,
        "TaskNotSent": 1,
    }


def test_the_other_endings_count_as_neither(pattern: Pattern) -> None:
    # GIVEN executions that succeed, that the work rejects, and that the worker fails on the last
    # receive of a work that keeps crashing
    inputs = {"succeeded": succeeds("ok"), "rejected": rejects(), "worker-failed": crashes()}
    executions = {name: pattern.start(task_input) for name, task_input in inputs.items()}
    last = pattern.deployment.settings.max_receive_count
    pattern.invoke([with_receive_count(message, last) for message in pattern.receive(3)])
    endings = {name: pattern.wait(arn) for name, arn in executions.items()}
    assert [(e["status"], e.get("error")) for e in endings.values()] == [
        ("SUCCEEDED", None),
        ("FAILED", "Rejected"),
        ("FAILED", "WorkerFailed"),
    ]

    # THEN neither filter counts any of them, whatever they logged
    for execution in executions.values():
        history = pattern.aws.sfn.get_execution_history(executionArn=execution)["events"]
        assert counted(log_events(history, execution, "ALL")) == {
            "CallbackTimedOut": 0,
            "TaskNotSent": 0,
        }


def test_every_alarm_has_a_runbook_entry() -> None:
    page = (ROOT / "docs" / "monitoring.md").read_text()
    runbook = page[page.index("## Runbook") :]
    headings = re.findall(r"^### `(\S+)`", runbook, re.MULTILINE)
    assert headings == list(alarms())


def test_every_outcome_the_worker_counts_is_one_the_docs_explain() -> None:
    # GIVEN the outcomes the worker counts, one metric each (src/worker/outcomes.py)
    # THEN How it works lists each, and names no other; the worker's alarms watch only outcomes
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| outcome | when | then |") : readme.index("\n\n## Testing")]
    listed = re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE)
    assert sorted(listed) == sorted(Outcome)
    watched = {alarm["metric"] for alarm in alarms().values() if on_the_deployments_metrics(alarm)}
    log_counts = set(monitoring_local("execution_failures"))  # counted from the state machine's log
    assert watched - log_counts <= set(Outcome)
