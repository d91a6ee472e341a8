"""`make demo`: the pattern end to end on moto, with the work's own examples: the outcomes an
execution can have, and, for a work that hands tasks off, its handed-off examples answered later
(by a stand-in for its external system: the emulator's, as each example says, or the team's own,
work_stand_in.py, as it decides) and, with the emulator's, one never answered. Each is judged by
how the execution ended (the example's `ends`, else the workflow's contract: a timeout ends
CallbackTimedOut) and, where the example does not say, by how its callback task ended, wherever
the workflow then goes: the table shows the state each execution ended in."""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import boto3
from moto import mock_aws

from emulator import external_system
from emulator.approval_page import api_gateway_event
from emulator.console import WORKER_LOG, history, shorten, table, worker_output
from emulator.deployment import (
    Deployment,
    PublishedRequest,
    Settings,
    approval_links,
    deploy,
    published_requests,
)
from emulator.emf import worker_metrics
from emulator.event_source import EventSourceMapping, load_worker
from emulator.terraform import work_folder
from emulator.watch import finished, queue_depth, wait_for
from emulator.work_examples import STAND_IN, Ending, WorkExamples, shown
from worker.handoff import takes_callback

if TYPE_CHECKING:
    from collections.abc import Callable

    from botocore.client import BaseClient

REGION = "us-east-1"
DEMO_TASK_TIMEOUT_SECONDS = 3  # nobody waits out the Terraform default in a demo
CALLBACK_RESOURCE = "sendMessage.waitForTaskToken"  # of resource type sqs, in the history
TASK_ENDINGS = {
    "TaskSucceeded": "taskSucceededEventDetails",
    "TaskFailed": "taskFailedEventDetails",
    "TaskTimedOut": "taskTimedOutEventDetails",
}
TIMED_OUT = ("TaskTimedOut", None)


CALLBACK_TIMED_OUT = Ending("FAILED", "CallbackTimedOut")  # the workflow's contract, on a timeout


@dataclass(frozen=True)
class Scenario:
    title: str
    execution_input: Any
    worker_running: bool
    ends: Ending  # how the execution ends
    # how the callback task ends (its event, and its error), unless the example says how the
    # execution ends (its workflow's states after the task decide the rest)
    expected: tuple[str, str | None] | None = None
    answer: Any = external_system.NO_ANSWER  # what the stand-in for the external side answers


def scenarios(examples: WorkExamples) -> list[Scenario]:
    """The endings an execution of the work's examples can have."""
    found = [
        Scenario(
            "the accepted example",
            examples.accepted,
            True,
            examples.accepted_ending,
            None if examples.accepted_ends else ("TaskSucceeded", None),
        ),
        Scenario(
            "the rejected example",
            examples.rejected,
            True,
            examples.rejected_ending,
            None if examples.rejected_ends else ("TaskFailed", examples.rejected_error),
        ),
    ]
    for number, handed_off in enumerate(examples.handed_offs, 1):
        several = f" {number}" if len(examples.handed_offs) > 1 else ""
        # the emulator's stand-in answers later; the team's own decides how it ends
        then = "answered later" if handed_off.answered_by_the_emulator else handed_off.ending
        found.append(
            Scenario(
                f"handed off{several}, {then}",
                handed_off.input,
                True,
                handed_off.ending,
                None if handed_off.ends else ("TaskSucceeded", None),
                answer=handed_off.answer,
            )
        )
    answered = [h for h in examples.handed_offs if h.answered_by_the_emulator]
    if answered:
        found.append(
            Scenario(
                "handed off, never answered",
                answered[0].input,
                True,
                CALLBACK_TIMED_OUT,
                TIMED_OUT,
            )
        )
    return [
        *found,
        Scenario("the worker is stopped", examples.accepted, False, CALLBACK_TIMED_OUT, TIMED_OUT),
    ]


def judged(scenario: Scenario, result: dict[str, Any], events: list[dict[str, Any]]) -> str | None:
    """How the execution differs from the scenario's expectation, in a few words (None: as
    expected): how it ended, and, unless the example says so, how its callback task ended."""
    differs = scenario.ends.differs(result)
    if differs:
        return differs
    if scenario.expected is None:
        return None
    task, output = callback_task_ending(events)
    if task != scenario.expected:
        return f"the task: {' '.join(filter(None, task))}"
    if scenario.answer is not external_system.NO_ANSWER and output != scenario.answer:
        return "the task's output is not the example's answer"
    return None


def run_demo(show_logs: bool = False, variables: dict[str, Any] | None = None) -> int:
    """The demo, deployed with the Terraform `variables` given (as `make demo ARGS="--var ..."`:
    a workflow_path, the work's worker_environment), its own task timeout and the approval
    service; a team's stand-in's environment is added to worker_environment."""
    examples = WorkExamples.load()
    examples_file = shown(work_folder() / "work_examples.json")
    transcript = io.StringIO()  # what the worker printed: its metrics are read back from it
    with (
        worker_output(show_logs, transcript) as screen,
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        tempfile.TemporaryDirectory() as external_system_store,
        external_system.teams_stand_in() as stand_in_environment,
    ):
        sqs = boto3.client("sqs", region_name=REGION)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        given = dict(variables or {})
        environment = {**given.pop("worker_environment", {}), **(stand_in_environment or {})}
        settings = Settings.from_terraform(
            **{"task_timeout_seconds": DEMO_TASK_TIMEOUT_SECONDS, "approval": {}, **given},
            **({"worker_environment": environment} if environment else {}),
        )
        deployment = deploy(sqs, sfn, settings)
        mapping = EventSourceMapping(sqs, deployment, load_worker(deployment, REGION))
        from worker import handler  # imported by load_worker, with the worker's environment

        os.environ[external_system.INBOX_VARIABLE] = str(
            Path(external_system_store) / "handed-off.jsonl"
        )
        if takes_callback(handler.do_work):  # the stand-in hears of each task it hands off
            handler.do_work = external_system.teams_work

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
        say(f"  inputs         the work's examples, {examples_file}")
        say(
            "  hand-offs      "
            + hand_offs(examples, takes_callback(handler.do_work), stand_in_environment is not None)
        )
        say()

        rows, failures, to_nobody = [], 0, 0
        for number, scenario in enumerate(scenarios(examples), 1):
            if scenario.worker_running:
                mapping.start()
            else:
                mapping.stop()
            external_system.answer_with(scenario.answer)
            say(f"{number}. {scenario.title}: starting an execution ...")
            result, seconds = execute(sfn, deployment, f"demo-{number}", scenario.execution_input)
            events = sfn.get_execution_history(executionArn=result["executionArn"])["events"]
            differs = judged(scenario, result, events)
            failures += differs is not None
            to_nobody += result.get("error") == external_system.HAND_OFF_TO_NOBODY
            rows.append(
                [
                    str(number),
                    scenario.title,
                    json.dumps(scenario.execution_input),
                    result["status"],
                    ended_in(events),
                    describe(result),
                    f"{seconds:.1f} s",
                    "yes" if differs is None else f"NO: {differs}",
                ]
            )
        say()
        say(
            table(
                rows,
                [
                    "#",
                    "scenario",
                    "input",
                    "status",
                    "ended in",
                    "error or output",
                    "took",
                    "as expected",
                ],
            )
        )

        external_system.answer_with(external_system.NO_ANSWER)  # the timed-out task
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
        say("The approval service (approval = {}): a person approves on a page.")
        failures += not approved_on_the_page(sfn, sqs, deployment, mapping, examples, say)

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
            say(f"The worker's JSON logs are in {shown(WORKER_LOG)}")
            say("(make demo ARGS=--logs shows them as they happen).")
        if failures:
            say(f"{failures} outcome(s) NOT as expected.")
            if to_nobody:
                say(
                    f"{to_nobody} hand-off(s) to nobody (HandOffToNobody): the work returned "
                    "HandedOff() without passing the task's token on (callback.token, sent to its "
                    "external system, or request_approval(callback, ...)). On AWS such a task "
                    "waits until it times out (docs/hand-off.md)."
                )
            say(
                f"The executions take their inputs, errors and answers from {examples_file}: "
                "does the work accept, reject and hand off each as it says? (make test checks "
                "it: tests/pattern/test_work_examples.py.)"
            )
        else:
            say("All outcomes as expected.")
    return 1 if failures else 0


def approved_on_the_page(
    sfn: BaseClient,
    sqs: BaseClient,
    deployment: Deployment,
    mapping: EventSourceMapping,
    examples: WorkExamples,
    say: Callable[[str], None],
) -> bool:
    """One request to the approval service, by a work of the emulator's that asks a person (a
    team's work calls request_approval itself): its link, its page, and an approval posted as a
    browser posts the page's form. Whether the execution ended with the approver's answer."""
    from approval import page
    from worker import handler

    assert deployment.approval is not None
    links = approval_links(sqs, deployment.approval)
    teams_work, handler.do_work = handler.do_work, external_system.approval_work
    mapping.start()
    try:
        arn = sfn.start_execution(
            stateMachineArn=deployment.state_machine_arn,
            name="demo-approval",
            input=json.dumps(examples.accepted),
        )["executionArn"]
        received: list[PublishedRequest] = []

        def published() -> bool:
            received.extend(published_requests(sqs, links))
            return bool(received)

        wait_for(published, timeout=10, interval=0.1)
    finally:
        mapping.stop()
        handler.do_work = teams_work
    if not received:
        say("  NO request was published.")
        return False
    link = received[0].link
    link_id = link.rsplit("/", 1)[1]
    say(f"  requested   its link went out on the topic (make serve serves its page):\n    {link}")

    def on_the_page(method: str, body: str = "", cookie: str = "") -> dict[str, Any]:
        environ = {"REQUEST_METHOD": method, "PATH_INFO": f"/approvals/{link_id}"}
        event = api_gateway_event(environ | {"HTTP_COOKIE": cookie}, link_id, body)
        return page.handle(event)

    shown = on_the_page("GET")
    cookie = shown["cookies"][0].split(";")[0]
    csrf = cookie.split("=", 1)[1]
    say(f"  opened      GET: the request and its form ({shown['statusCode']}); nothing answered")
    form = urlencode({"csrf": csrf, "name": "Ana", "reason": "the demo", "decision": "approve"})
    answered = on_the_page("POST", form, cookie)
    said = re.sub(r"<[^>]+>", "", answered["body"].split("<p>")[1].split("</p>")[0])
    say(f"  answered    POST with the form's CSRF token: {said}")
    result = finished(sfn, arn, timeout=10)
    say(f"  execution   {result['status']} {shorten(result.get('output', ''), 70)}")
    return result["status"] == "SUCCEEDED" and json.loads(result["output"])["approver"] == "Ana"


def hand_offs(examples: WorkExamples, work_takes_callback: bool, own_stand_in: bool) -> str:
    """What the demo shows of hand-offs, in a line."""
    if examples.handed_off and own_stand_in:
        return f"your work's handed-off examples, answered by your stand-in ({STAND_IN})"
    if examples.handed_off:
        return "your work's handed-off example, answered by a stand-in for your system, and not"
    if work_takes_callback:
        return "none shown: your work takes `callback`, but its examples name no handed_off input"
    return "none: your work hands no task off (docs/hand-off.md)"


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


def callback_task_ending(events: list[dict[str, Any]]) -> tuple[tuple[str, str | None], Any]:
    """How the callback task ended, from the execution's history: its event (TaskSucceeded,
    TaskFailed, TaskTimedOut) and error, and the output it succeeded with."""
    endings = [
        event
        for event in events
        if event["type"] in TASK_ENDINGS
        and event[TASK_ENDINGS[event["type"]]].get("resource") == CALLBACK_RESOURCE
    ]
    if not endings:
        return ("no ending", None), None
    event = endings[-1]
    details = event[TASK_ENDINGS[event["type"]]]
    error = details.get("error") if event["type"] == "TaskFailed" else None
    output = json.loads(details["output"]) if event["type"] == "TaskSucceeded" else None
    return (event["type"], error), output


def ended_in(events: list[dict[str, Any]]) -> str:
    """The state the execution ended in: the last it entered."""
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
    ]
    return entered[-1] if entered else ""


def describe(result: dict[str, Any]) -> str:
    if result["status"] == "SUCCEEDED":
        return shorten(result.get("output", ""), 60)
    cause = result.get("cause")
    return result.get("error", "") + (f": {shorten(cause, 50)}" if cause else "")
