"""Lambda entry point: answers the task token of every record in an SQS batch.

Each record ends in one of these outcomes (a metric of the same name counts each):
  TaskSucceeded      the work returned a result         -> SendTaskSuccess
  TaskFailed         the work raised TaskError, or an unexpected error on the record's last
                     allowed receive                    -> SendTaskFailure
  TokenNoLongerLive  the execution has already moved on -> nothing to do, never retried
  RecordRetried      anything else (a transient fault)  -> listed in batchItemFailures
  MessageMalformed   no usable task token               -> listed in batchItemFailures, then DLQ
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from botocore.exceptions import ClientError

from worker import callback
from worker.messages import (
    MalformedMessage,
    TaskError,
    TaskMessage,
    encode_output,
    parse_task_message,
)
from worker.work import do_work

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> None:
    """Answer one record's task token, or raise so that the record comes back."""
    try:
        message = parse_task_message(record.body)
    except MalformedMessage as error:
        count("MessageMalformed")
        logger.warning(
            "Malformed message: it comes back, then goes to the DLQ",
            extra={"message_id": record.message_id, "reason": str(error)},
        )
        raise
    with logger.append_context_keys(
        message_id=record.message_id, execution_arn=message.execution_arn
    ):
        try:
            outcome, error = call_back(message, last_receive=is_last_receive(record))
        except callback.TokenNoLongerLive as stale:
            outcome, error = "TokenNoLongerLive", stale.code
        except Exception as failure:
            count("RecordRetried")
            logger.warning("The record will come back", extra={"reason": describe(failure)})
            raise
        count(outcome)
        # Successes are counted by their metric and logged only at DEBUG: a log line per record is
        # the largest per-record cost after the callback itself. Every other outcome is logged.
        log = logger.debug if outcome == "TaskSucceeded" else logger.info
        log(outcome, extra={"error": error})


def count(outcome: str) -> None:
    metrics.add_metric(name=outcome, unit=MetricUnit.Count, value=1)


def call_back(message: TaskMessage, last_receive: bool) -> tuple[str, str | None]:
    """Run the work and send its result or its failure with the token: (outcome, error name)."""
    heartbeat = functools.partial(callback.send_heartbeat, message.task_token)
    try:
        output = encode_output(do_work(message.input, heartbeat))
    except TaskError as error:
        failure = error
    except callback.TokenNoLongerLive:
        raise
    except Exception as error:
        if not last_receive:
            raise
        failure = TaskError("WorkerFailed", f"{describe(error)} (on the last allowed receive)")
    else:
        callback.send_success(message.task_token, output)
        return "TaskSucceeded", None
    callback.send_failure(message.task_token, failure.error, failure.cause)
    return "TaskFailed", failure.error


def is_last_receive(record: SQSRecord) -> bool:
    """Whether SQS moves this message to the DLQ if it fails now (its receive count has reached
    the queue's maxReceiveCount, which main.tf passes as MAX_RECEIVE_COUNT). A record without
    ApproximateReceiveCount is never taken for the last."""
    count = int(record.raw_event.get("attributes", {}).get("ApproximateReceiveCount", 1))
    return count >= int(os.environ.get("MAX_RECEIVE_COUNT", "3"))


def describe(error: Exception) -> str:
    """A log-safe description: AWS error messages can echo request values, the token among them."""
    if isinstance(error, ClientError):
        return f"ClientError {callback.error_code(error)}"
    return f"{type(error).__name__}: {error}"


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
