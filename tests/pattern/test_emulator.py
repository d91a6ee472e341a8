"""The emulator end to end: the Terraform values, the event source mapping's redrive,
heartbeats, a crowd of executions, `make demo` and `make serve` as a user runs them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from emulator.demo import scenarios
from emulator.deployment import Settings, worker_environment
from emulator.emf import worker_metrics
from emulator.event_source import EventSourceMapping, LambdaContext
from emulator.terraform import ROOT, work_folder
from emulator.watch import wait_for
from emulator.work_examples import WorkExamples, shown
from tests.pattern.fake_work import rejects, result, sleeps, succeeds
from tests.pattern.helpers import failed_ids

if TYPE_CHECKING:
    import io

    from tests.pattern.helpers import Aws, Pattern


def running_worker(pattern: Pattern) -> EventSourceMapping:
    """The worker's real handler, fed by the emulated event source mapping."""
    from worker.handler import lambda_handler

    return EventSourceMapping(pattern.aws.sqs, pattern.deployment, lambda_handler)


def test_the_emulator_deploys_what_terraform_computes_from_the_variables() -> None:
    # GIVEN variables that change derived values, and a team's own worker setting
    settings = Settings.from_terraform(
        worker_timeout_seconds=10,
        batching_window_seconds=2,
        max_receive_count=4,
        worker_environment={"PAYMENTS_API_URL": "https://payments.example.com"},
    )

    # THEN the emulator takes Terraform's values: 6 x the timeout + the window, and the worker's
    # environment merged as the module merges it
    assert settings.visibility_timeout_seconds == 62
    assert worker_environment(settings) == {
        "PAYMENTS_API_URL": "https://payments.example.com",
        "MAX_RECEIVE_COUNT": "4",
        "TASK_TIMEOUT_SECONDS": str(settings.task_timeout_seconds),
        "HEARTBEAT_SECONDS": str(settings.task_timeout_seconds - 1),
        "VISIBILITY_TIMEOUT_SECONDS": "62",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_METRICS_NAMESPACE": settings.name,
        "POWERTOOLS_SERVICE_NAME": settings.name,
        "AWS_CONFIG_FILE": "/dev/null",
        "IDEMPOTENCY_TABLE_NAME": f"{settings.name}-idempotency",
    }


def test_the_deployed_queue_has_the_terraform_redrive_and_visibility(pattern: Pattern) -> None:
    attributes = pattern.aws.sqs.get_queue_attributes(
        QueueUrl=pattern.deployment.queue_url, AttributeNames=["All"]
    )["Attributes"]
    settings = pattern.deployment.settings
    assert int(attributes["VisibilityTimeout"]) == settings.visibility_timeout_seconds
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == settings.max_receive_count


def test_a_poison_message_reaches_the_dlq_after_the_configured_receives(aws: Aws) -> None:
    # GIVEN a 1-second visibility timeout, so that a failed record comes back quickly
    pattern = aws.deploy(visibility_timeout_seconds=1)
    pattern.send_raw('{"no": "token"}')

    # WHEN the worker keeps failing it
    with running_worker(pattern) as worker:
        wait_for(lambda: pattern.queue_depth(dlq=True) > 0, timeout=20)

    # THEN it was handed to the worker max_receive_count times and now sits in the DLQ
    assert pattern.queue_depth(dlq=True) == 1
    assert pattern.queue_depth() == 0
    assert worker.stats.failed_records == pattern.deployment.settings.max_receive_count


@pytest.fixture
def work_runs(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The inputs the worker runs the (test) work on, from now."""
    from worker import handler

    runs: list[object] = []
    work = handler.do_work

    def recorded(task_input: object, heartbeat: object) -> object:
        runs.append(task_input)
        return work(task_input, heartbeat)

    monkeypatch.setattr(handler, "do_work", recorded)
    return runs


def forged_record(
    token: str, task_input: object, receipt_handle: str, queue_arn: str
) -> dict[str, Any]:
    """A record of an SQS event of a caller's own making: SQS's shape, with what it chose."""
    return {
        "messageId": f"forged-{receipt_handle[:12]}",
        "receiptHandle": receipt_handle,
        "body": json.dumps({"taskToken": token, "input": task_input}),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    }


def live_token(pattern: Pattern, execution: str) -> str:
    """The task token in the execution's history (its TaskScheduled event), as whoever may call
    states:GetExecutionHistory reads it."""
    events = pattern.aws.sfn.get_execution_history(executionArn=execution)["events"]
    (scheduled,) = [e for e in events if e["type"] == "TaskScheduled"]
    parameters = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])
    return parameters["MessageBody"]["taskToken"]


@pytest.mark.parametrize("idempotency", [True, False], ids=["idempotency", "no-idempotency"])
def test_a_forged_invoke_with_a_live_token_runs_no_work_on_the_callers_input(
    aws: Aws,
    idempotency: bool,
    work_runs: list[object],
    capsys: pytest.CaptureFixture[str],
    worker_logs: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN two executions: one whose message is still queued, one whose first delivery failed
    # (the record comes back after the visibility timeout: nothing was stored)
    from worker import handler

    pattern = aws.deploy()
    if not idempotency:  # the worker as var.idempotency = false deploys it: no idempotency layer
        monkeypatch.setattr(handler, "work_output", handler.work_output.__wrapped__)
    queued = pattern.start(succeeds("queued"))
    retried = pattern.start(succeeds("retried"))
    messages = pattern.receive(2, timeout=60)
    first = next(m for m in messages if "retried" in m["Body"])
    other = next(m for m in messages if m is not first)
    pattern.aws.sqs.change_message_visibility(  # back in the queue, unreceived
        QueueUrl=pattern.deployment.queue_url,
        ReceiptHandle=other["ReceiptHandle"],
        VisibilityTimeout=0,
    )
    work = handler.do_work

    def fails_once(task_input: object, heartbeat: object) -> object:
        monkeypatch.setattr(handler, "do_work", work)
        raise RuntimeError("a transient fault")

    monkeypatch.setattr(handler, "do_work", fails_once)
    assert failed_ids(pattern.invoke([first])) == {first["MessageId"]}
    capsys.readouterr()

    # WHEN a caller who may invoke the worker, and read an execution's history, but holds no
    # states:SendTask* and may not receive from the task queue, invokes it with each live token
    # and an input of its own: with a receipt handle it made up, and with the handle of the
    # failed delivery's receive once its message is back in the queue
    from worker.handler import lambda_handler

    arn = pattern.deployment.queue_arn
    forged = {"amount": 1, **succeeds("forged")}
    records = [
        forged_record(live_token(pattern, queued), forged, "AQEBmadeup" + "x" * 40, arn),
        forged_record(live_token(pattern, retried), forged, "AQEBmadeup" + "y" * 40, arn),
    ]
    response = lambda_handler({"Records": records}, LambdaContext())
    pattern.aws.sqs.change_message_visibility(
        QueueUrl=pattern.deployment.queue_url,
        ReceiptHandle=first["ReceiptHandle"],
        VisibilityTimeout=0,
    )
    stale = forged_record(live_token(pattern, retried), forged, first["ReceiptHandle"], arn)
    stale_response = lambda_handler({"Records": [stale]}, LambdaContext())

    # THEN SQS knew none of those handles as a message in flight in the task queue: the work ran
    # on no forged input, each record was refused, and a MessageRefused counts each
    assert work_runs == []
    assert failed_ids(response) == {r["messageId"] for r in records}
    assert failed_ids(stale_response) == {stale["messageId"]}
    assert worker_metrics(capsys.readouterr().out) == {"MessageRefused": 3}
    # AND both messages wait in the queue, untouched, and the worker then runs each on the input
    # Step Functions sent
    with running_worker(pattern):
        outputs = [json.loads(pattern.wait(e, timeout=60)["output"]) for e in (queued, retried)]
    assert outputs == [result("queued"), result("retried")]
    assert pattern.queue_depth() == 0
    assert pattern.queue_depth(dlq=True) == 0
    # AND no log line holds a token or the forged input
    logs = worker_logs.getvalue()
    assert "forged" not in logs.replace("forged-", "")
    assert not [r for r in records if json.loads(r["body"])["taskToken"] in logs]


def test_a_receiver_of_the_task_queue_gets_no_work_run_but_for_a_live_task_of_this_machine(
    aws: Aws, work_runs: list[object], capsys: pytest.CaptureFixture[str], worker_logs: io.StringIO
) -> None:
    # GIVEN this deployment's worker; a live task of another state machine; an ended task of
    # this one (answered already); and three messages of this one's, received (in flight)
    other = aws.deploy(worker=False, idempotency=False)
    other.start(succeeds("theirs"))
    (theirs,) = other.receive(1)
    pattern = aws.deploy()
    ended = pattern.start(succeeds("ended"))
    (ours,) = pattern.receive(1)
    pattern.aws.sfn.send_task_success(
        taskToken=json.loads(ours["Body"])["taskToken"], output='{"ended": true}'
    )
    pattern.wait(ended, timeout=60)
    for name in ("a", "b", "c"):
        pattern.start(succeeds(name))
    in_flight = pattern.receive(3, timeout=60)  # a loaded machine starts executions slowly
    capsys.readouterr()

    # WHEN a principal that may receive from the task queue (the worker's role, an operator's)
    # and invoke the worker pairs those receipt handles with bodies of its own: an invented
    # token, that live foreign token and that ended one, each with an input of its own
    tokens = {
        "invented": "AQCEAAAAKgAAAAMAAAAAAAAAAe4a",
        "foreign": json.loads(theirs["Body"])["taskToken"],
        "ended": json.loads(ours["Body"])["taskToken"],
    }
    records = [
        {
            **forged_record(
                token,
                succeeds(f"input-of-{name}"),
                message["ReceiptHandle"],
                pattern.deployment.queue_arn,
            ),
            "messageId": f"forged-{name}",
        }
        for (name, token), message in zip(tokens.items(), in_flight, strict=True)
    ]
    from worker.handler import lambda_handler

    response = lambda_handler({"Records": records}, LambdaContext())

    # THEN the work ran for none of them: Step Functions said of the invented and the ended token
    # that it waits for neither, and refused the worker the foreign one, which would come back
    assert work_runs == []
    assert worker_metrics(capsys.readouterr().out) == {
        "TokenNoLongerLive": 2,
        "MessageRefused": 1,
    }
    assert response == {"batchItemFailures": [{"itemIdentifier": "forged-foreign"}]}
    assert json.loads(pattern.wait(ended, timeout=60)["output"]) == {"ended": True}
    # AND no log line holds a token or a forged input
    logs = worker_logs.getvalue()
    assert logs
    assert not [text for text in [*tokens.values(), "input-of-"] if text in logs]


def test_a_receiver_of_the_task_queue_with_a_live_token_can_run_the_work_on_its_own_input(
    pattern: Pattern, work_runs: list[object]
) -> None:
    # What docs/security.md states as the one case left: a principal that may both receive from
    # the task queue (the worker's role, the roles in queue_operator_role_arns) and invoke the
    # worker holds a live receipt handle and a live token, and can pair them with any input.
    execution = pattern.start(succeeds("sent"))
    (message,) = pattern.receive(1)
    token = json.loads(message["Body"])["taskToken"]
    from worker.handler import lambda_handler

    record = forged_record(
        token, succeeds("chosen"), message["ReceiptHandle"], pattern.deployment.queue_arn
    )
    lambda_handler({"Records": [record]}, LambdaContext())

    assert work_runs == [succeeds("chosen")]
    assert json.loads(pattern.wait(execution, timeout=60)["output"]) == result("chosen")


def dead_letter(pattern: Pattern, execution_input: object) -> str:
    """Start an execution and put its task's message in the dead-letter queue, as SQS leaves one
    there after max_receive_count receives; the execution's ARN."""
    execution = pattern.start(execution_input)
    (message,) = pattern.receive(1)
    pattern.aws.sqs.send_message(QueueUrl=pattern.deployment.dlq_url, MessageBody=message["Body"])
    pattern.aws.sqs.delete_message(
        QueueUrl=pattern.deployment.queue_url, ReceiptHandle=message["ReceiptHandle"]
    )
    return execution


def test_a_dlq_redrive_recovers_a_waiting_task_and_reruns_no_ended_one(
    aws: Aws, work_runs: list[object], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN in the dead-letter queue the message of a task whose execution still waits, and the
    # message of one that has timed out since (a 4 s task timeout)
    pattern = aws.deploy(task_timeout_seconds=4)
    timed_out = dead_letter(pattern, succeeds("timed out"))
    assert pattern.wait(timed_out, timeout=10)["error"] == "CallbackTimedOut"
    waiting = dead_letter(pattern, succeeds("still waiting"))
    capsys.readouterr()

    # WHEN an operator redrives the DLQ as the runbook says (a message move task: new messages,
    # sent by the operator), with the worker running
    with running_worker(pattern):
        pattern.aws.sqs.start_message_move_task(SourceArn=pattern.deployment.dlq_arn)
        outcome = pattern.wait(waiting)
        wait_for(lambda: not pattern.queue_depth(), timeout=10)

    # THEN the waiting task succeeded, and the ended one's work did not run again
    assert outcome["status"] == "SUCCEEDED"
    assert work_runs == [succeeds("still waiting")]
    assert worker_metrics(capsys.readouterr().out) == {"TaskSucceeded": 1, "TokenNoLongerLive": 1}
    assert pattern.queue_depth(dlq=True) == 0


def test_heartbeats_keep_a_long_task_alive_past_heartbeat_seconds(aws: Aws) -> None:
    # GIVEN HeartbeatSeconds of 2 and work that takes 5 s, heartbeating every 0.25 s. The first
    # heartbeat window holds the message's wait and the worker's poll, up to its own heartbeat:
    # 2 s leaves that room on a loaded machine, as HeartbeatSeconds must on AWS
    pattern = aws.deploy(task_timeout_seconds=10, heartbeat_seconds=2)

    with running_worker(pattern):
        outcome = pattern.wait(pattern.start(sleeps("slow", 5, heartbeat_every=0.25)), timeout=20)

    assert outcome["status"] == "SUCCEEDED"
    assert json.loads(outcome["output"]) == result("slow")


def test_a_work_that_heartbeats_with_the_default_settings_succeeds(pattern: Pattern) -> None:
    # GIVEN no HeartbeatSeconds (the default) and work that heartbeats as it goes, as long work
    # is invited to: Step Functions takes the heartbeats, and has no heartbeat clock to reset
    with running_worker(pattern):
        outcome = pattern.wait(pattern.start(sleeps("steady", 1, heartbeat_every=0.2)))

    assert outcome["status"] == "SUCCEEDED"
    assert json.loads(outcome["output"]) == result("steady")


def test_a_task_that_stops_heartbeating_ends_as_callback_timed_out(aws: Aws) -> None:
    # GIVEN HeartbeatSeconds of 1 and work that takes 2.5 s without a heartbeat
    pattern = aws.deploy(task_timeout_seconds=10, heartbeat_seconds=1)

    with running_worker(pattern):
        outcome = pattern.wait(pattern.start(sleeps("silent", 2.5)), timeout=20)

    assert (outcome["status"], outcome["error"]) == ("FAILED", "CallbackTimedOut")


def test_fifty_concurrent_executions_all_reach_the_right_terminal_state(pattern: Pattern) -> None:
    inputs = [succeeds(f"task-{i}") if i % 5 else rejects(f"task-{i}") for i in range(50)]

    with running_worker(pattern):
        executions = [pattern.start(execution_input) for execution_input in inputs]
        outcomes = [pattern.wait(execution, timeout=60) for execution in executions]

    for i, outcome in enumerate(outcomes):
        if i % 5:
            assert outcome["status"] == "SUCCEEDED"
            assert json.loads(outcome["output"]) == result(f"task-{i}")
        else:
            assert (outcome["status"], outcome["error"]) == ("FAILED", "Rejected")
    assert pattern.queue_depth() == 0
    assert pattern.queue_depth(dlq=True) == 0


def emulator_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "emulator", *args]


HAND_OFF_WORK = Path(__file__).parent / "expenses"  # a work that hands its larger expenses off


@pytest.mark.slow
@pytest.mark.parametrize(
    "work", [work_folder(), HAND_OFF_WORK], ids=["the-work", "a-hand-off-work"]
)
def test_make_demo_runs_every_example_of_the_work_and_exits_zero(work: Path) -> None:
    # GIVEN a work's examples (the demo runs that very work, as a user's `make demo WORK=...`):
    # the project's own, and a work that hands off only some inputs
    examples = WorkExamples.load(work)

    run = subprocess.run(
        emulator_command("demo", "--logs"),  # the worker's logs on stderr
        cwd=ROOT,
        env={**os.environ, "WORK": str(work)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # THEN the work's examples end as they should: its accepted one succeeds, its rejected one
    # fails with its error; its handed-off one, if it has one, is handed off and answered as the
    # example says, then handed off and never answered; and a task whose worker is stopped times out
    assert run.returncode == 0, run.stdout + run.stderr
    rows = [line.split() for line in run.stdout.splitlines() if re.match(r"  \d+ ", line)]
    endings = [[word for word in row if word in {"SUCCEEDED", "FAILED"}][-1] for row in rows]
    assert endings == [scenario.ends.status for scenario in scenarios(examples)]
    if examples.handed_off and not examples.handed_off.answered_by_the_emulator:
        # (a work with its own stand-in: tests/pattern/test_teams_external_system.py)
        assert "All outcomes as expected." in run.stdout
        return
    if examples.handed_off:
        assert endings == ["SUCCEEDED", "FAILED", "SUCCEEDED", "FAILED", "FAILED"]
        assert json.dumps(examples.handed_off.answer)[:40] in " ".join(rows[2])
        assert any(word.startswith("CallbackTimedOut") for word in rows[3])
    else:
        assert endings == ["SUCCEEDED", "FAILED", "FAILED"]
        assert "hand-offs      none: your work hands no task off" in run.stdout
    assert any(word.startswith(examples.rejected_error) for word in rows[1])
    assert any(word.startswith("CallbackTimedOut") for word in rows[-1])
    assert f"inputs         the work's examples, {shown(work / 'work_examples.json')}" in (
        run.stdout
    )
    # AND it ends with the worker's own count of each outcome, read from its metric lines: the
    # timed-out task's message, found when the worker comes back, is no longer live
    counts = run.stdout[run.stdout.index("The worker's metrics in this run") :]
    found = {m: int(n) for m, n in re.findall(r"^  (\w+) +(\d+)$", counts, re.MULTILINE)}
    # (its handed-off example twice, if it has one, and the approval service's request once)
    hand_offs = {"TaskHandedOff": 3 if examples.handed_off else 1}
    assert found == {"TaskSucceeded": 1, "TaskFailed": 1, **hand_offs, "TokenNoLongerLive": 1}
    # AND the approval service's request was answered on its page, by a POST with its CSRF token
    assert "  answered    POST with the form's CSRF token: Approved by Ana at" in run.stdout
    assert "All outcomes as expected." in run.stdout
    if work == HAND_OFF_WORK:
        # AND the work's own log lines, through a module's logger and a Powertools child logger,
        # are in the worker's log, as JSON, with the record's keys
        lines = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
        worked = {line["message"]: line for line in lines if line.get("name", "").endswith("work")}
        assert set(worked) == {"approved at once: 40", "handed off to an approver"}, worked
        for line in worked.values():
            assert line["message_id"]
            assert line["execution_arn"].rsplit(":", 1)[1] in {"demo-1", "demo-3", "demo-4"}
