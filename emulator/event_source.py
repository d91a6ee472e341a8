"""Plays the Lambda event source mapping: polls the task queue and invokes the worker's handler.

As on AWS: records reach the handler in the SQS event shape, the ones the handler does not list
in `batchItemFailures` are deleted, the listed ones stay and come back after the visibility
timeout, and SQS's redrive policy moves a message to the DLQ after maxReceiveCount receives.
A handler that raises fails its whole batch.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from botocore.client import BaseClient

    from emulator.deployment import Deployment

LOG = logging.getLogger(__name__)
IDLE_POLL_SECONDS = 0.05  # between polls of an empty queue


def load_worker(
    deployment: Deployment, region: str
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Import the worker's lambda_handler from src/ (and the work from its folder, beside it as in
    the function's package) with the environment it has in Lambda: the region and the variables
    the module gives it. In this process it signs with the process's own credentials (its role's
    scope is emulated for the worker processes, emulator/consumers.py)."""
    from emulator.terraform import ROOT, work_folder
    from emulator.work_examples import importable

    os.environ.update(
        deployment.function_environment(), AWS_REGION=region, AWS_DEFAULT_REGION=region
    )
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "testing")
    importable(work_folder())
    if str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))
    handler = importlib.import_module("worker.handler")
    handler.receipts.task_queue.cache_clear()  # this deployment's task queue, read on first use
    return handler.lambda_handler


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of the Lambda context object that Powertools reads."""

    function_name: str = "task-token-callback-worker"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:task-token-callback-worker"
    )
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout_seconds: float = 30  # the function's timeout: the invocation ends this long after
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "deadline", time.monotonic() + self.timeout_seconds)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class Stats:
    invocations: int = 0
    records: int = 0
    failed_records: int = 0
    handler_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, records: int, failed: int, handler_error: bool) -> None:
        with self.lock:
            self.invocations += 1
            self.records += records
            self.failed_records += failed
            self.handler_errors += int(handler_error)


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """An SQS event as Lambda delivers it, from ReceiveMessage's messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


class TaskQueue(Protocol):
    """What the event source mapping needs of a deployment (emulator.deployment.Deployment)."""

    queue_url: str
    queue_arn: str
    batch_size: int
    timeout_seconds: int  # the worker function's


class EventSourceMapping:
    """Polls `deployment`'s task queue until stopped: one poller, like one execution environment
    (the worker's handler, like the rest of a Lambda module, serves one event at a time)."""

    def __init__(
        self,
        sqs: BaseClient,
        deployment: TaskQueue,
        handler: Callable[[dict[str, Any], Any], dict[str, Any]],
        enabled: Callable[[], bool] = lambda: True,
        wait_seconds: int = 0,
    ) -> None:
        self.sqs = sqs
        self.deployment = deployment
        self.handler = handler
        self.enabled = enabled  # asked before each poll: the mapping's state, on `make serve`
        # Long polls (as Lambda's pollers make them) cost nothing while the queue is idle, and a
        # stop waits out the one in flight; short ones, in a test, stop at once.
        self.wait_seconds = wait_seconds
        self.stats = Stats()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> int:
        """Receive one batch, invoke the handler, delete what succeeded; return the batch size."""
        messages = self.sqs.receive_message(
            QueueUrl=self.deployment.queue_url,
            MaxNumberOfMessages=min(self.deployment.batch_size, 10),
            WaitTimeSeconds=self.wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        if not self.enabled():  # disabled while this poll waited: deliver nothing more
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.deployment.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(messages)
                ],
            )
            return 0
        event = sqs_event(messages, self.deployment.queue_arn, self.sqs.meta.region_name)
        handler_error = False
        try:
            response = self.handler(
                event, LambdaContext(timeout_seconds=self.deployment.timeout_seconds)
            )
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        except Exception:
            LOG.exception("The worker raised: its whole batch comes back")
            handler_error = True
            failed = {message["MessageId"] for message in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.deployment.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        self.stats.add(len(messages), len(messages) - len(done), handler_error)
        return len(messages)

    def start(self) -> EventSourceMapping:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="event-source", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling (like disabling the mapping); a batch in flight finishes first."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def __enter__(self) -> EventSourceMapping:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.enabled() or (not self.poll_once() and not self.wait_seconds):
                    self._stop.wait(IDLE_POLL_SECONDS)
            except Exception:
                LOG.exception("Polling failed; retrying")
                self._stop.wait(1)


def mapping_enabled(lambda_client: BaseClient, uuid: str) -> Callable[[], bool]:
    """Whether the event source mapping is enabled, as `aws lambda update-event-source-mapping`
    leaves it: asked before every poll, so that a paused worker receives nothing more."""

    def enabled() -> bool:
        return lambda_client.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"

    return enabled
