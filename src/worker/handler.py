"""Lambda entry point: answers the task token of every record in an SQS batch, with a partial
batch response (batch.py, Powertools' contract): each record ends in one of the outcomes of
outcomes.py, counted by a metric of the same name.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)

from work import do_work
from worker import callback, idempotency, receipts
from worker.batch import process_partial_response
from worker.handoff import CallbackHandle, HandedOff, call_work
from worker.messages import (
    MalformedMessage,
    TaskError,
    TaskMessage,
    encode_output,
    parse_task_message,
)
from worker.outcomes import Outcome
from worker.settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from worker.batch import PartialBatchResponse, SQSRecord

# A record is started only if the invocation has at least this long left, or as long as its
# slowest record so far took, if longer.
MIN_RECORD_SECONDS = 1.0


class NotEnoughTime(Exception):
    """The invocation could time out before the record is done: it comes back, unstarted."""


class NotReceived(Exception):
    """SQS does not know the record's receipt handle as one of a message in flight in the task
    queue: the record is not one the event source mapping received (receipts.py)."""


class Invocation:
    """The time left in the current invocation, the longest one of its records has taken, and
    the receipt handles SQS vouched for."""

    def __init__(self) -> None:
        self.context: LambdaContext | None = None
        self.slowest = 0.0
        self.received: frozenset[str] = frozenset()

    def start(self, context: LambdaContext, received: frozenset[str]) -> None:
        self.context, self.slowest, self.received = context, 0.0, received

    def check_time_for_a_record(self) -> None:
        needed = max(self.slowest, MIN_RECORD_SECONDS)
        if self.context and self.context.get_remaining_time_in_millis() / 1000 < needed:
            raise NotEnoughTime(f"less than {needed:.1f} s left in the invocation")

    def took(self, seconds: float) -> None:
        self.slowest = max(self.slowest, seconds)


logger = Logger()
# The work's own module-level loggers (`logging.getLogger(__name__)` in work.py) write as the
# worker's does: JSON, at its level, with the record's keys. (Powertools' Logger(child=True) does.)
copy_config_to_registered_loggers(source_logger=logger, include={do_work.__module__.split(".")[0]})
metrics = Metrics()
invocation = Invocation()


def record_handler(record: SQSRecord) -> None:
    """Answer one record's task token, or raise so that the record comes back."""
    refuse_unless_received(record)
    defer_unless_there_is_time(record)
    started = time.monotonic()
    try:
        process_message(record)
    finally:
        invocation.took(time.monotonic() - started)


def refuse_unless_received(record: SQSRecord) -> None:
    """A record the task queue did not hand out is not run, whatever its token and input: an
    invocation of the worker with an event of the caller's own (receipts.py)."""
    if record.receipt_handle not in invocation.received:
        count(Outcome.MESSAGE_REFUSED)
        logger.warning(
            "Not received from the task queue (its receipt handle is not one of a message in "
            "flight there): its work is not run",
            extra={"message_id": record.message_id},
        )
        raise NotReceived(record.message_id)


def defer_unless_there_is_time(record: SQSRecord) -> None:
    """A record that could outlast the invocation is not started: a timed-out invocation would
    bring back its whole batch, the records already answered among them."""
    try:
        invocation.check_time_for_a_record()
    except NotEnoughTime as short:
        count(Outcome.RECORD_DEFERRED)
        logger.info(
            "Deferred: it comes back", extra={"message_id": record.message_id, "reason": str(short)}
        )
        raise


def process_message(record: SQSRecord) -> None:
    """Read the task message, run the task and count its outcome; raise to have it come back."""
    try:
        message = parse_task_message(record.body)
    except MalformedMessage as error:
        count(Outcome.MESSAGE_MALFORMED)
        logger.warning(
            "Malformed message: it comes back, then goes to the DLQ",
            extra={"message_id": record.message_id, "reason": str(error)},
        )
        raise
    with logger.append_context_keys(
        message_id=record.message_id, execution_arn=message.execution_arn
    ):
        try:
            # Whoever may invoke the function writes its event, SQS's attributes and all: only
            # Step Functions can say that this token is a task of this state machine that still
            # waits. The worker's role may answer this state machine's tasks alone (iam.tf).
            callback.send_heartbeat(message.task_token)
            deadline = task_deadline(record, heartbeat_at=time.time())
            outcome, error = run_task(message, is_last_receive(record), deadline)
        except callback.TokenNoLongerLive as stale:
            outcome, error = Outcome.TOKEN_NO_LONGER_LIVE, stale.code
        except callback.NotAllowedToAnswer as refused:
            count(Outcome.MESSAGE_REFUSED)
            logger.warning(
                "Step Functions refused the worker this task token: its work is not run; it "
                "comes back, then goes to the DLQ",
                extra={"reason": str(refused)},
            )
            raise
        except IdempotencyAlreadyInProgressError:
            count(Outcome.TASK_IN_PROGRESS)
            logger.info("Another delivery of this task is being worked on: this one comes back")
            raise
        except Exception as failure:
            count(Outcome.RECORD_RETRIED)
            reason = callback.describe(failure)
            logger.warning("The record will come back", extra={"reason": reason})
            raise
        if outcome is Outcome.WORKER_FAILED:  # a failure the worker sent itself: a TaskFailed too
            count(Outcome.TASK_FAILED)
        count(outcome)
        # Successes are counted by their metric and logged only at DEBUG: a log line per record is
        # the largest per-record cost after the callback itself. Every other outcome is logged.
        log = logger.debug if outcome is Outcome.TASK_SUCCEEDED else logger.info
        log(outcome, extra={"error": error})


def count(outcome: Outcome) -> None:
    metrics.add_metric(name=outcome, unit=MetricUnit.Count, value=1)


def run_task(
    message: TaskMessage, last_receive: bool, deadline: float
) -> tuple[Outcome, str | None]:
    """Run the work and send its result or its failure with the token, unless the work handed
    the task off: (outcome, error name)."""
    handle = CallbackHandle(message.task_token, message.execution_arn, deadline)
    try:
        if message.unreadable_input:
            raise TaskError("InvalidTaskInput", message.unreadable_input)
        output = work_output(attempt=message.task_token, task_input=message.input, handle=handle)
    except TaskError as error:
        failure = error
    except (callback.TokenNoLongerLive, IdempotencyAlreadyInProgressError):
        raise
    except Exception as error:
        if not last_receive:
            raise
        # The work keeps failing and this is its last receive: the worker ends the execution.
        cause = f"{callback.describe(error)} (on the last allowed receive)"
        callback.send_failure(message.task_token, Outcome.WORKER_FAILED, cause)
        return Outcome.WORKER_FAILED, Outcome.WORKER_FAILED
    else:
        if output is None:
            return Outcome.TASK_HANDED_OFF, None
        callback.send_success(message.task_token, output)
        return Outcome.TASK_SUCCEEDED, None
    callback.send_failure(message.task_token, failure.error, failure.cause)
    return Outcome.TASK_FAILED, failure.error


@idempotency.idempotent_per_attempt
def work_output(*, attempt: str, task_input: Any, handle: CallbackHandle) -> str | None:
    """The work's result for this task attempt (its token), as SendTaskSuccess output; None if
    the work handed the task off (stored as such: a duplicate does not hand it off again)."""
    result = call_work(do_work, task_input, handle)
    return None if isinstance(result, HandedOff) else encode_output(result)


def task_deadline(record: SQSRecord, heartbeat_at: float) -> float:
    """When the task stops waiting at the latest (epoch seconds), without another heartbeat:
    its timeout, counted from when Step Functions sent the message (SQS's SentTimestamp, just
    after the task started), or its heartbeat window from the heartbeat just sent, if sooner."""
    sent = record.attributes.get("SentTimestamp")
    window_ends = heartbeat_at + settings.heartbeat_seconds
    if not (isinstance(sent, str) and sent.isdigit()):
        return window_ends
    return min(int(sent) / 1000 + settings.task_timeout_seconds, window_ends)


def is_last_receive(record: SQSRecord) -> bool:
    """Whether SQS moves this message to the DLQ if it fails now (its receive count has reached
    the queue's maxReceiveCount, which worker.tf passes as MAX_RECEIVE_COUNT). A record without
    ApproximateReceiveCount is never taken for the last."""
    receives = int(record.attributes.get("ApproximateReceiveCount", 1))
    return receives >= settings.max_receive_count


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialBatchResponse:
    # A run that dies with its invocation blocks a repeat only until the invocation's timeout.
    idempotency.config.register_lambda_context(context)
    records = [r for r in event.get("Records") or [] if isinstance(r, dict)]
    invocation.start(context, receipts.received(records))
    callback.keep_sdk_debug_lines_out_of_the_logs()  # whatever the work did to logging since
    return process_partial_response(event, record_handler)
