"""Faults a production deployment meets: throttling and 5xx on the callback, a worker that crashes
mid-batch, a worker down for longer than TimeoutSeconds. Every execution is accounted for."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from botocore.awsrequest import AWSResponse
from moto.core.models import botocore_stubber

from emulator.deployment import Settings
from emulator.emf import worker_metrics
from emulator.event_source import EventSourceMapping
from emulator.watch import wait_for
from tests.pattern.fake_work import crashes, succeeds
from tests.pattern.helpers import failed_ids, settings_warnings, with_receive_count
from worker import callback, handler
from worker.messages import TaskError

if TYPE_CHECKING:
    from tests.pattern.helpers import Aws, Pattern


class _Body:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


class FaultInjector:
    """Stands between the worker's Step Functions client and moto: answers the next `count`
    callbacks (SendTaskSuccess requests) with an error, passes the rest to moto; counts botocore's
    attempts of the callback and what moto got of them. The heartbeat that proves a task live
    before its work passes untouched."""

    def __init__(self, status: int, code: str, count: int) -> None:
        self.status, self.code, self.remaining = status, code, count
        self.attempts = 0
        self.delivered = 0

    def __call__(self, event_name: str, request: Any, **kwargs: Any) -> AWSResponse | None:
        if request.headers.get("X-Amz-Target") != b"AWSStepFunctions.SendTaskSuccess":
            return botocore_stubber(event_name, request, **kwargs)
        self.attempts += 1
        if self.remaining > 0:
            self.remaining -= 1
            body = json.dumps({"__type": self.code, "message": "injected"}).encode()
            return AWSResponse(request.url, self.status, {}, _Body(body))
        self.delivered += 1
        return botocore_stubber(event_name, request, **kwargs)


def inject(status: int, code: str, count: int) -> FaultInjector:
    """botocore emits before-send to every handler, so moto's own handler is replaced on the
    worker's client by the injector, which hands moto only the requests it lets through."""
    injector = FaultInjector(status, code, count)
    events = callback.client().meta.events
    events.unregister("before-send", botocore_stubber)
    events.register("before-send", injector)
    return injector


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's standard retry mode, without its backoff sleeps."""
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *_: 0)


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "ThrottlingException"), (500, "InternalFailure"), (503, "ServiceUnavailable")],
)
def test_a_passing_throttle_or_5xx_on_the_callback_is_retried_by_botocore(
    pattern: Pattern, fast_retries: None, status: int, code: str
) -> None:
    # GIVEN Step Functions fails the first two attempts of the callback
    execution = pattern.start(succeeds("task-1"))
    faults = inject(status, code, count=2)

    # WHEN the worker answers
    response = pattern.invoke(pattern.receive(1))

    # THEN botocore's third attempt gets through, and the record is done
    assert response == {"batchItemFailures": []}
    assert (faults.attempts, faults.delivered) == (3, 1)
    assert pattern.wait(execution)["status"] == "SUCCEEDED"


def test_a_throttle_that_outlasts_the_retries_brings_the_record_back_to_be_answered_once(
    pattern: Pattern, fast_retries: None
) -> None:
    execution = pattern.start(succeeds("task-1"))
    (message,) = pattern.receive(1)
    faults = inject(400, "ThrottlingException", count=3)

    first = pattern.invoke([message])
    assert failed_ids(first) == {message["MessageId"]}
    assert pattern.status(execution) == "RUNNING"

    second = pattern.invoke([with_receive_count(message, 2)])
    assert second == {"batchItemFailures": []}
    assert pattern.wait(execution)["status"] == "SUCCEEDED"
    assert faults.delivered == 1  # answered once


def test_a_callback_throttled_on_every_receive_is_neither_lost_nor_retried_forever(
    aws: Aws, fast_retries: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN Step Functions throttles every callback, past botocore's retries, for good
    pattern = aws.deploy(visibility_timeout_seconds=1)
    runs = []
    monkeypatch.setattr(handler, "do_work", lambda task_input, heartbeat: runs.append(1) or {})
    faults = inject(400, "ThrottlingException", count=1_000)
    execution = pattern.start(succeeds("throttled"))
    max_receives = pattern.deployment.settings.max_receive_count
    from worker.handler import lambda_handler

    # WHEN the event source mapping keeps handing the record to the worker
    with EventSourceMapping(pattern.aws.sqs, pattern.deployment, lambda_handler) as worker:
        wait_for(lambda: pattern.queue_depth(dlq=True) > 0, timeout=20, interval=0.1)

    # THEN each receive tried the callback botocore's 3 times, the work ran once (its stored
    # result was sent again), and after max_receive_count receives the message is in the DLQ,
    # where the dead-letter-queue alarm sees it; the execution times out (callback-timed-out)
    assert worker.stats.records == max_receives
    assert faults.attempts == 3 * max_receives
    assert runs == [1]
    assert (pattern.queue_depth(), pattern.queue_depth(dlq=True)) == (0, 1)
    assert pattern.status(execution) == "RUNNING"


def test_a_crash_mid_batch_brings_back_only_the_crashed_records(pattern: Pattern) -> None:
    # GIVEN a batch of five tasks whose work crashes for two
    inputs = [succeeds("0"), crashes("1"), succeeds("2"), crashes("3"), succeeds("4")]
    executions = [pattern.start(task_input) for task_input in inputs]
    messages = pattern.receive(5)

    # WHEN the worker handles the batch
    response = pattern.invoke(messages)

    # THEN exactly the crashed records come back, and only their executions still wait
    crashed = {m["MessageId"] for m in messages if '"crash"' in m["Body"]}
    assert len(crashed) == 2
    assert failed_ids(response) == crashed
    for execution in executions[0::2]:
        assert pattern.wait(execution)["status"] == "SUCCEEDED"
    for execution in executions[1::2]:
        assert pattern.status(execution) == "RUNNING"  # waiting for the retry


def test_a_task_that_always_crashes_is_failed_on_its_last_receive_not_left_to_time_out(
    aws: Aws,
) -> None:
    # GIVEN a 1-second visibility timeout and a task whose work always crashes
    pattern = aws.deploy(visibility_timeout_seconds=1, task_timeout_seconds=60)
    from worker.handler import lambda_handler

    # WHEN the event source mapping keeps handing it to the worker
    with EventSourceMapping(pattern.aws.sqs, pattern.deployment, lambda_handler) as worker:
        doomed = pattern.start(crashes("always fails"))
        fine = pattern.start(succeeds("fine"))
        doomed_result = pattern.wait(doomed, timeout=30)

    # THEN it failed with WorkerFailed after max_receive_count receives, long before its timeout
    assert (doomed_result["status"], doomed_result["error"]) == ("FAILED", "WorkerFailed")
    took = (doomed_result["stopDate"] - doomed_result["startDate"]).total_seconds()
    assert took < pattern.deployment.settings.task_timeout_seconds
    assert worker.stats.failed_records == pattern.deployment.settings.max_receive_count - 1
    assert pattern.wait(fine)["status"] == "SUCCEEDED"
    assert pattern.queue_depth() == 0
    assert pattern.queue_depth(dlq=True) == 0


@pytest.mark.parametrize(
    ("variables", "ending"),
    [({}, "WorkerFailed"), ({"task_timeout_seconds": 300}, "CallbackTimedOut")],
    ids=["defaults", "task-timeout-300"],
)
def test_terraforms_check_foretells_how_a_task_whose_work_always_fails_ends(
    aws: Aws, variables: dict[str, Any], ending: str
) -> None:
    # GIVEN Terraform's values, with the visibility and task timeouts scaled by 1/60 (so a
    # 10-minute timeout takes 10 s), and work that always crashes
    settings = Settings.from_terraform(**variables)
    assert bool(settings_warnings(settings.warnings)) == (ending == "CallbackTimedOut")  # as plan
    pattern = aws.deploy(
        **{
            **variables,
            "task_timeout_seconds": settings.task_timeout_seconds // 60,
            "visibility_timeout_seconds": settings.visibility_timeout_seconds // 60,
        }
    )

    from worker.handler import lambda_handler

    # WHEN the worker keeps receiving its message
    with EventSourceMapping(pattern.aws.sqs, pattern.deployment, lambda_handler):
        result = pattern.wait(pattern.start(crashes("always fails")), timeout=30)

    # THEN it ends as the check foretold: WorkerFailed on the last receive when no warning,
    # CallbackTimedOut before it when Terraform warned
    assert (result["status"], result["error"]) == ("FAILED", ending)


def test_a_worker_down_longer_than_the_timeout_finds_stale_messages_and_retries_none(
    aws: Aws,
) -> None:
    # GIVEN a 1-second task timeout and no worker
    pattern = aws.deploy(task_timeout_seconds=2)
    executions = [pattern.start(succeeds(f"task-{i}")) for i in range(5)]

    # WHEN the executions time out
    results = [pattern.wait(execution) for execution in executions]
    assert {(r["status"], r["error"]) for r in results} == {("FAILED", "CallbackTimedOut")}

    # AND the worker comes back
    from worker.handler import lambda_handler

    with EventSourceMapping(pattern.aws.sqs, pattern.deployment, lambda_handler) as worker:
        # (it returns once the queue is empty: 30 s is for a loaded machine, five heartbeats)
        wait_for(lambda: not pattern.queue_depth(), timeout=30, interval=0.1)

    # THEN it consumed the stale messages without error and without retries
    assert pattern.queue_depth() == 0
    assert pattern.queue_depth(dlq=True) == 0
    assert (worker.stats.records, worker.stats.failed_records) == (5, 0)
    assert [pattern.status(e) for e in executions] == ["FAILED"] * 5


def test_a_works_own_error_named_worker_failed_is_counted_as_the_works(
    pattern: Pattern, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a work that rejects its input with an error of its own that happens to be named
    # WorkerFailed
    def do_work(task_input: Any, heartbeat: Any) -> Any:
        raise TaskError("WorkerFailed", "a name the team chose")

    monkeypatch.setattr(handler, "do_work", do_work)
    execution = pattern.start(succeeds("named-alike"))
    capsys.readouterr()

    # WHEN the worker runs it, on the first receive
    pattern.invoke(pattern.receive(1))

    # THEN the execution fails with the work's error, and the worker counts a TaskFailed alone:
    # the worker-failed alarm counts only the executions the worker itself ended
    assert (pattern.wait(execution)["status"], pattern.wait(execution)["error"]) == (
        "FAILED",
        "WorkerFailed",
    )
    assert worker_metrics(capsys.readouterr().out) == {"TaskFailed": 1}
