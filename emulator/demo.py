"""`make demo`: the pattern end to end on moto: the outcomes an execution can have, and a task
handed off to an external system that answers it later (or never)."""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from moto import mock_aws

from emulator import external_system
from emulator.console import WORKER_LOG, history, shorten, table, worker_output
from emulator.deployment import Deployment, Settings, deploy
from emulator.emf import worker_metrics
from emulator.event_source import EventSourceMapping, load_worker
from emulator.terraform import ROOT
from emulator.watch import finished, queue_depth, wait_for
from emulator.work_examples import EXAMPLES_FILE, WorkExamples
from worker.handoff import takes_callback

if TYPE_CHECKING:
    from botocore.client import BaseClient

REGION = "us-east-1"
DEMO_TASK_TIMEOUT_SECONDS = 3  # nobody waits out the Terraform default in a demo


# What the external system answers a handed-off task with, a second after it got it.
APPROVAL = {"approved": True, "by": "the external system"}


@dataclass(frozen=True)
class Scenario:
    title: str
    execution_input: Any
    worker_running: bool
    expected: tuple[str, str | None]  # (status, error)
    hand_off: bool = False  # the work hands the task off to the external system
    answered: bool = False  # which answers it (with APPROVAL), or not


def scenarios(examples: WorkExamples) -> list[Scenario]:
    """The endings an execution can have, with the work's own example inputs; then a work that
    hands its task off (emulator/external_system.py), answered a second later, and never."""
    return [
        Scenario("the accepted example", examples.accepted, True, ("SUCCEEDED", None)),
        Scenario(
            "the rejected example", examples.rejected, True, ("FAILED", examples.rejected_error)
        ),
        Scenario(
            "handed off, answered later",
            examples.accepted,
            True,
            ("SUCCEEDED", None),
            hand_off=True,
            answered=True,
        ),
        Scenario(
            "handed off, never answered",
            examples.accepted,
            True,
            ("FAILED", "CallbackTimedOut"),
            hand_off=True,
        ),
        Scenario("the worker is stopped", examples.accepted, False, ("FAILED", "CallbackTimedOut")),
    ]


def run_demo(show_logs: bool = False) -> int:
    examples = WorkExamples.load()
    transcript = io.StringIO()  # what the worker printed: its metrics are read back from it
    with (
        worker_output(show_logs, transcript) as screen,
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        tempfile.TemporaryDirectory() as external_system_store,
    ):
        sqs = boto3.client("sqs", region_name=REGION)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        settings = Settings.from_terraform(task_timeout_seconds=DEMO_TASK_TIMEOUT_SECONDS)
        deployment = deploy(sqs, sfn, settings)
        mapping = EventSourceMapping(sqs, deployment, load_worker(deployment, REGION))
        from worker import handler  # imported by load_worker, with the worker's environment

        inbox = external_system.Inbox(Path(external_system_store) / "handed-off.jsonl")
        os.environ[external_system.INBOX_VARIABLE] = str(inbox.path)
        team_work, team_hands_off = handler.do_work, takes_callback(handler.do_work)
        if team_hands_off:  # answered a second later, as the team's system would answer it
            os.environ[external_system.ANSWER_VARIABLE] = "1"
            team_work = external_system.teams_work

        def say(text: str = "") -> None:
            print(text, file=screen, flush=True)

        say("Step Functions task-token callback through SQS, on the embedded emulator (moto)")
        say(f"  state machine  {deployment.state_machine_arn}")
        say(
            f"  task queue     visibility {settings.visibility_timeout_seconds} s, "
            f"DLQ after {settings.max_receive_count} receives, batch size {settings.batch_size}"
        )
        default = Settings.from_terraform().task_timeout_seconds
        say(f"  task timeout   {settings.task_timeout_seconds} s (Terraform default: {default} s)")
        say(f"  inputs         the work's examples, {EXAMPLES_FILE.relative_to(ROOT)}")
        if team_hands_off:
            say("  hand-offs      your work's are answered by the demo, as your system would")
        say()

        rows, failures = [], 0
        for number, scenario in enumerate(scenarios(examples), 1):
            if scenario.worker_running:
                mapping.start()
            else:
                mapping.stop()
            handler.do_work = external_system.do_work if scenario.hand_off else team_work
            say(f"{number}. {scenario.title}: starting an execution ...")
            name = f"demo-{number}"
            arn = execution_arn(deployment, name)
            if scenario.answered:
                external_system.answer_later(inbox, arn, 1, lambda h: h.succeed(APPROVAL))
            result, seconds = execute(sfn, deployment, name, scenario.execution_input)
            outcome = (result["status"], result.get("error"))
            ok = outcome == scenario.expected
            failures += not ok
            rows.append(
                [
                    str(number),
                    scenario.title,
                    json.dumps(scenario.execution_input),
                    result["status"],
                    describe(result),
                    f"{seconds:.1f} s",
                    "yes" if ok else f"NO, expected {scenario.expected}",
                ]
            )
        say()
        say(
            table(
                rows, ["#", "scenario", "input", "status", "error or output", "took", "as expected"]
            )
        )

        handler.do_work = team_work
        os.environ.pop(external_system.ANSWER_VARIABLE, None)  # the timed-out task: nobody answers
        mapping.start()  # the worker comes back and finds the timed-out task's message stale
        drained = wait_for(lambda: not queue_depth(sqs, deployment.queue_url), 10, interval=0.1)
        mapping.stop()
        say()
        say(
            "The worker restarted: the timed-out execution's message was "
            + ("consumed as stale, the queue is empty." if drained else "NOT consumed.")
        )
        failures += not drained

        say()
        say(f"Event history of demo-2 ({examples.rejected_error}):")
        events = sfn.get_execution_history(executionArn=execution_arn(deployment, "demo-2"))
        say(history(events["events"]))
        say()
        metrics = worker_metrics(transcript.getvalue())
        say(
            "The worker's metrics in this run, read from its metric lines as CloudWatch reads them:"
        )
        say(table([[name, f"{value:g}"] for name, value in metrics.items()], ["metric", "count"]))
        say()
        if not show_logs:
            say(f"The worker's JSON logs are in {WORKER_LOG.relative_to(WORKER_LOG.parents[1])}")
            say("(make demo ARGS=--logs shows them as they happen).")
        if failures:
            say(f"{failures} outcome(s) NOT as expected.")
            say(
                f"Scenarios 1 and 2 take their input and expected error from "
                f"{EXAMPLES_FILE.relative_to(ROOT)}: does src/worker/work.py accept the accepted "
                "example and reject the rejected one with that error? (tests/test_work_examples.py "
                "checks it.)"
            )
        else:
            say("All outcomes as expected.")
    return 1 if failures else 0


def execute(
    sfn: BaseClient, deployment: Deployment, name: str, execution_input: Any
) -> tuple[dict[str, Any], float]:
    """Start an execution, wait for it to stop; its description and how long it took."""
    started = time.monotonic()
    arn = sfn.start_execution(
        stateMachineArn=deployment.state_machine_arn, name=name, input=json.dumps(execution_input)
    )["executionArn"]
    result = finished(sfn, arn, timeout=deployment.settings.task_timeout_seconds + 30)
    return result, time.monotonic() - started


def execution_arn(deployment: Deployment, name: str) -> str:
    return deployment.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"


def describe(result: dict[str, Any]) -> str:
    if result["status"] == "SUCCEEDED":
        return shorten(result.get("output", ""), 60)
    cause = result.get("cause")
    return result.get("error", "") + (f": {shorten(cause, 50)}" if cause else "")
