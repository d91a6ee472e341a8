"""The emulator end to end: the Terraform values, the event source mapping's redrive,
heartbeats, a crowd of executions, `make demo` and `make serve` as a user runs them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from emulator.deployment import Settings, worker_environment
from emulator.event_source import EventSourceMapping
from emulator.external_system import STAND_IN_ANSWER
from emulator.terraform import ROOT
from emulator.watch import wait_for
from emulator.work_examples import WorkExamples
from tests.pattern.fake_work import rejects, result, sleeps, succeeds

if TYPE_CHECKING:
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
    # environment merged as main.tf merges it
    assert settings.visibility_timeout_seconds == 62
    assert worker_environment(settings) == {
        "PAYMENTS_API_URL": "https://payments.example.com",
        "MAX_RECEIVE_COUNT": "4",
        "TASK_TIMEOUT_SECONDS": str(settings.task_timeout_seconds),
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_METRICS_NAMESPACE": settings.name,
        "POWERTOOLS_SERVICE_NAME": settings.name,
        "STATE_MACHINE_ROLE_ID": "AROAEMULATEDSTATEMACHINE",
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


def test_a_task_message_forged_by_another_principal_runs_no_work_and_reaches_the_dlq(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a waiting execution, and another principal of the account that read its live token
    # and sent it to the task queue with an input of its own
    from worker import handler

    runs: list[object] = []
    work = handler.do_work

    def recorded(task_input: object, heartbeat: object) -> object:
        runs.append(task_input)
        return work(task_input, heartbeat)

    monkeypatch.setattr(handler, "do_work", recorded)
    pattern = aws.deploy(visibility_timeout_seconds=1)
    execution = pattern.start(succeeds("genuine"))
    (genuine,) = pattern.receive(1)  # it comes back a second later
    forged = {**json.loads(genuine["Body"]), "input": succeeds("forged")}
    pattern.send_raw(json.dumps(forged), as_the_state_machine=False)

    # WHEN the worker runs
    with running_worker(pattern):
        outcome = pattern.wait(execution)
        wait_for(lambda: pattern.queue_depth(dlq=True) > 0, timeout=20)

    # THEN the execution is answered from the state machine's own message, the work never ran
    # on the forged input, and the forged message sits in the DLQ
    assert json.loads(outcome["output"]) == result("genuine")
    assert runs == [succeeds("genuine")]
    (dead,) = pattern.aws.sqs.receive_message(QueueUrl=pattern.deployment.dlq_url)["Messages"]
    assert json.loads(dead["Body"])["input"] == succeeds("forged")


def test_heartbeats_keep_a_long_task_alive_past_heartbeat_seconds(aws: Aws) -> None:
    # GIVEN HeartbeatSeconds of 2 and work that takes 5 s, heartbeating every 0.25 s. The first
    # heartbeat window also holds the pick-up (poll, handler, idempotency record): 2 s leaves it
    # room on a loaded machine, as HeartbeatSeconds must leave a real worker room for its pick-up
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


@pytest.mark.slow
def test_make_demo_shows_every_outcome_and_a_hand_off_and_exits_zero() -> None:
    # GIVEN the work's examples (the demo runs the real work, as a user's `make demo` does)
    examples = WorkExamples.load()

    run = subprocess.run(
        emulator_command("demo"), cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )

    # THEN the work's examples end as they should, a task handed off is answered by the external
    # system or times out, and a task whose worker is stopped times out
    assert run.returncode == 0, run.stdout + run.stderr
    rows = [line.split() for line in run.stdout.splitlines() if re.match(r"  [1-5] ", line)]
    statuses = [next(word for word in row if word in {"SUCCEEDED", "FAILED"}) for row in rows]
    assert statuses == ["SUCCEEDED", "FAILED", "SUCCEEDED", "FAILED", "FAILED"]
    assert any(word.startswith(examples.rejected_error) for word in rows[1])
    assert '"by": "the external system"' in " ".join(rows[2])  # its answer is the output
    assert any(word.startswith("CallbackTimedOut") for word in rows[3])
    assert any(word.startswith("CallbackTimedOut") for word in rows[4])
    assert "inputs         the work's examples, src/worker/work_examples.json" in run.stdout
    # AND it ends with the worker's own count of each outcome, read from its metric lines
    counts = run.stdout[run.stdout.index("The worker's metrics in this run") :]
    # (a team's work may hand the accepted example off too: the demo answers it, as the team's
    # system would, and it is counted as handed off; so is the timed-out task's message the worker
    # finds when it comes back, unless the work called Step Functions first, a heartbeat, and was
    # told that the token is no longer live)
    accepted_handed_off = json.dumps(STAND_IN_ANSWER)[:40] in " ".join(rows[0])
    assert not accepted_handed_off or "hand-offs      your work's are answered" in run.stdout
    found = {m: int(n) for m, n in re.findall(r"^  (\w+) +(\d+)$", counts, re.MULTILINE)}
    assert found["TaskFailed"] == 1, counts
    if accepted_handed_off:
        assert "TaskSucceeded" not in found, counts
        assert found["TaskHandedOff"] >= 3, counts
        assert found["TaskHandedOff"] + found.get("TokenNoLongerLive", 0) == 4, counts
    else:
        assert (found["TaskSucceeded"], found["TaskHandedOff"]) == (1, 2), counts
        assert found["TokenNoLongerLive"] == 1, counts
    assert "All outcomes as expected." in run.stdout
