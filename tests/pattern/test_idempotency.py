"""Idempotent work under at-least-once delivery (src/worker/idempotency.py): one run of the work per
task attempt, whatever SQS and the retries deliver; nothing stored for work that fails; no raw
task token in the table; and no table, no DynamoDB call, when idempotency is off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from emulator.emf import worker_metrics
from emulator.terraform import ROOT, work_folder
from emulator.watch import wait_for
from tests.pattern import fake_work
from tests.pattern.fake_work import crashes, rejects, result, sleeps, succeeds
from tests.pattern.helpers import CallbackSpy, failed_ids, with_receive_count
from worker import callback, handler
from worker.handoff import CallbackHandle

if TYPE_CHECKING:
    from tests.pattern.helpers import Aws, Pattern


class RunCounter:
    """The test work, counting its runs by task id (the side effects a real work would have)."""

    def __init__(self) -> None:
        self.runs: dict[str, int] = {}

    def __call__(self, task_input: Any, heartbeat: Any) -> Any:
        task = str(task_input.get("id") or task_input)
        self.runs[task] = self.runs.get(task, 0) + 1
        return fake_work.do_work(task_input, heartbeat)


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> RunCounter:
    counter = RunCounter()
    monkeypatch.setattr(handler, "do_work", counter)
    return counter


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> CallbackSpy:
    spy = CallbackSpy(callback.client())
    monkeypatch.setattr(callback, "client", lambda: spy)
    return spy


def table_items(pattern: Pattern) -> list[dict[str, Any]]:
    dynamodb = boto3.client("dynamodb", region_name=pattern.aws.sqs.meta.region_name)
    return dynamodb.scan(TableName=os.environ["IDEMPOTENCY_TABLE_NAME"])["Items"]


def test_a_duplicate_delivery_runs_the_work_once(
    pattern: Pattern, work: RunCounter, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a task whose message SQS delivers twice
    execution = pattern.start(succeeds("charge-1"))
    (message,) = pattern.receive(1)
    duplicate = {**message, "MessageId": "duplicate-of-" + message["MessageId"]}

    # WHEN the worker gets the first, then the duplicate after the execution has succeeded
    first = pattern.invoke([message])
    assert pattern.wait(execution)["status"] == "SUCCEEDED"
    second = pattern.invoke([duplicate])

    # THEN the work ran once; the duplicate sent the stored result, which Step Functions no
    # longer wanted: the record is done all the same
    assert work.runs == {"charge-1": 1}
    assert first == second == {"batchItemFailures": []}
    assert json.loads(pattern.wait(execution)["output"]) == result("charge-1")
    assert worker_metrics(capsys.readouterr().out) == {"TaskSucceeded": 1, "TokenNoLongerLive": 1}


def test_a_callback_lost_to_throttling_is_sent_again_from_the_stored_result(
    pattern: Pattern, work: RunCounter, spy: CallbackSpy
) -> None:
    # GIVEN the work succeeds, then Step Functions throttles the callback past botocore's retries
    execution = pattern.start(succeeds("charge-2"))
    (message,) = pattern.receive(1)
    spy.fail_with = "ThrottlingException"
    assert failed_ids(pattern.invoke([message])) == {message["MessageId"]}
    assert pattern.status(execution) == "RUNNING"

    # WHEN the record comes back and the callback goes through
    spy.fail_with = None
    response = pattern.invoke([with_receive_count(message, 2)])

    # THEN the stored result was sent, without a second run of the work
    assert response == {"batchItemFailures": []}
    assert work.runs == {"charge-2": 1}
    assert json.loads(pattern.wait(execution)["output"]) == result("charge-2")
    sent = [params["output"] for operation, params in spy.calls if operation == "send_task_success"]
    assert [json.loads(output) for output in sent] == [result("charge-2")] * 2


def test_a_duplicate_while_the_first_run_is_still_working_comes_back_later(
    pattern: Pattern, work: RunCounter, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a delivery of a task whose work takes a while, being worked on
    execution = pattern.start(sleeps("slow", 2))
    (message,) = pattern.receive(1)
    token = json.loads(message["Body"])["taskToken"]
    first = threading.Thread(
        target=handler.work_output,
        kwargs={"attempt": token, "task_input": sleeps("slow", 2), "handle": CallbackHandle(token)},
    )
    first.start()
    wait_for(lambda: bool(table_items(pattern)), timeout=5, interval=0.05)
    capsys.readouterr()

    # WHEN a duplicate delivery of it arrives meanwhile
    response = pattern.invoke([message])
    first.join()

    # THEN the duplicate comes back (its own outcome), and the work ran once
    assert failed_ids(response) == {message["MessageId"]}
    assert worker_metrics(capsys.readouterr().out) == {"TaskInProgress": 1}
    assert work.runs == {"slow": 1}
    assert pattern.status(execution) == "RUNNING"


@pytest.mark.parametrize(
    ("task_input", "record_comes_back"),
    [(rejects("no such customer"), False), (crashes("the payments API is down"), True)],
    ids=["task-error", "unexpected-error"],
)
def test_work_that_fails_stores_nothing(
    pattern: Pattern, work: RunCounter, task_input: dict[str, str], record_comes_back: bool
) -> None:
    pattern.start(task_input)
    (message,) = pattern.receive(1)

    response = pattern.invoke([message])

    assert bool(failed_ids(response)) == record_comes_back
    assert table_items(pattern) == []  # so a redelivery runs the work again, as DESIGN.md says


def test_the_table_holds_a_hash_of_the_token_never_the_token(
    pattern: Pattern, work: RunCounter
) -> None:
    pattern.start(succeeds("charge-3"))
    (message,) = pattern.receive(1)
    token = json.loads(message["Body"])["taskToken"]

    pattern.invoke([message])

    (item,) = table_items(pattern)
    prefix, digest = item["id"]["S"].split("#")
    assert (prefix, len(digest)) == ("task-attempt", 64)  # a SHA-256, hex
    assert token not in json.dumps(item)
    assert item["status"]["S"] == "COMPLETED"
    # It expires when the task's timeout has passed: the token is dead by then.
    expires_in = int(item["expiration"]["N"]) - time.time()
    assert pattern.deployment.settings.task_timeout_seconds - 5 < expires_in
    assert expires_in <= pattern.deployment.settings.task_timeout_seconds


def test_a_message_whose_task_timed_out_runs_no_work(
    aws: Aws, work: RunCounter, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a message the worker gets after its task timed out (the worker was down), with no
    # record of the attempt: nothing ran for it yet
    pattern = aws.deploy(task_timeout_seconds=2)
    execution = pattern.start(succeeds("late"))
    (message,) = pattern.receive(1)
    assert pattern.wait(execution)["error"] == "CallbackTimedOut"
    capsys.readouterr()

    # WHEN the worker handles it
    response = pattern.invoke([message])

    # THEN Step Functions said the token is dead before the work began: the record is done with
    # no work and no record of an attempt
    assert response == {"batchItemFailures": []}
    assert (work.runs, table_items(pattern)) == ({}, [])
    assert worker_metrics(capsys.readouterr().out) == {"TokenNoLongerLive": 1}


OFF = """
import json, os, sys
import boto3
from moto import mock_aws
from emulator.event_source import LambdaContext, sqs_event
from emulator.deployment import Settings, deploy
from tests.pattern import fake_work
from worker import handler, idempotency

handler.do_work = fake_work.do_work
with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
    sqs, sfn = boto3.client("sqs"), boto3.client("stepfunctions")
    deployment = deploy(sqs, sfn, Settings.from_terraform(idempotency=False))
    os.environ.update(deployment.function_environment())  # the task queue's URL among them
    execution = sfn.start_execution(stateMachineArn=deployment.state_machine_arn, name="off",
                                    input=json.dumps(fake_work.succeeds("off")))["executionArn"]
    messages = sqs.receive_message(QueueUrl=deployment.queue_url, WaitTimeSeconds=5,
                                   MessageSystemAttributeNames=["All"])["Messages"]
    response = handler.lambda_handler(sqs_event(messages, deployment.queue_arn, "us-east-1"),
                                      LambdaContext())
    tables = boto3.client("dynamodb").list_tables()["TableNames"]
    while (status := sfn.describe_execution(executionArn=execution)["status"]) == "RUNNING":
        pass
print(json.dumps({"persistence": idempotency.persistence is not None, "tables": tables,
                  "response": response, "status": status}), file=sys.__stdout__)
"""


def test_with_idempotency_off_there_is_no_table_and_no_dynamodb_call() -> None:
    # GIVEN a deployment with var.idempotency = false: the worker's environment names no table
    environment = {k: v for k, v in os.environ.items() if k != "IDEMPOTENCY_TABLE_NAME"}

    # WHEN its worker answers a task (in a process of its own: the table is read at import)
    run = subprocess.run(
        [sys.executable, "-c", OFF],
        cwd=ROOT,
        env={
            **environment,
            "PYTHONPATH": os.pathsep.join(map(str, (work_folder(), ROOT / "src", ROOT))),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # THEN it succeeds with no table in the account (a DynamoDB call would have failed)
    assert run.returncode == 0, run.stderr
    outcome = json.loads(run.stdout.splitlines()[-1])
    assert outcome == {
        "persistence": False,
        "tables": [],
        "response": {"batchItemFailures": []},
        "status": "SUCCEEDED",
    }
