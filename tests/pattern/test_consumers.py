"""Lambda runs up to maximum_concurrency execution environments at once: the emulator's consumers
are processes of their own, each with its own import of the worker, on a moto server. Two of them
given the same task at the same time run its work once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
import pytest

from emulator.consumers import Consumers
from emulator.deployment import Settings, deploy
from emulator.emf import worker_metrics
from emulator.server import free_port, moto_server
from emulator.watch import queue_depth, wait_for
from tests.pattern.fake_work import result, sleeps

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from botocore.client import BaseClient


@dataclass
class Server:
    endpoint: str
    sqs: BaseClient
    sfn: BaseClient


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A moto server of the test's own, and clients of it."""
    monkeypatch.setenv("MOTO_PORT", "0")  # moto_server sets it; the test's end restores it
    with moto_server(free_port()) as endpoint:
        clients = {"endpoint_url": endpoint, "region_name": "us-east-1"}
        yield Server(
            endpoint, boto3.client("sqs", **clients), boto3.client("stepfunctions", **clients)
        )


def test_two_consumers_given_the_same_task_at_the_same_time_run_its_work_once(
    server: Server, tmp_path: Path
) -> None:
    # GIVEN a task whose work takes 2 s, one record per invocation, and two worker processes
    sqs, sfn = server.sqs, server.sfn
    settings = Settings.from_terraform(batch_size=1, visibility_timeout_seconds=3)
    deployment = deploy(sqs, sfn, settings)
    execution = sfn.start_execution(
        stateMachineArn=deployment.state_machine_arn,
        name="charge-once",
        input=json.dumps(sleeps("charge-once", 2)),
    )["executionArn"]
    (message,) = sqs.receive_message(QueueUrl=deployment.queue_url, WaitTimeSeconds=5)["Messages"]
    sqs.delete_message(QueueUrl=deployment.queue_url, ReceiptHandle=message["ReceiptHandle"])
    pool = Consumers(
        server.endpoint, deployment, 2, work="tests.pattern.fake_work:do_work", log_dir=tmp_path
    )

    with pool:
        # WHEN SQS delivers the task's message twice at once, one to each consumer
        for _ in range(2):
            sqs.send_message(QueueUrl=deployment.queue_url, MessageBody=message["Body"])
        wait_for(lambda: not queue_depth(sqs, deployment.queue_url), timeout=30)

    # THEN one ran the work while the other found it in progress, came back later and sent the
    # stored result (which Step Functions no longer wanted): the work ran once
    reports = pool.reports
    assert [report.records > 0 for report in reports] == [True, True]
    assert sum(report.runs_accepted for report in reports) == 1
    metrics = worker_metrics(pool.worker_output())
    assert metrics["TaskInProgress"] >= 1
    assert (metrics["TaskSucceeded"], metrics["TokenNoLongerLive"]) == (1, 1)
    described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == result("charge-once")
