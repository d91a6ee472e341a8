"""What became of each record: one outcome per record, and a metric of the same name counts each
(the alarms, the dashboard and the runbook name them).

  TaskSucceeded      the work returned a result (or had, for this task attempt: idempotency.py)
                                                        -> SendTaskSuccess
  TaskFailed         the work raised TaskError, or an unexpected error on the record's last
                     allowed receive                    -> SendTaskFailure
  TaskHandedOff      the work handed the task off (handoff.py): the external side answers it
                                                        -> nothing: the record is done
  TokenNoLongerLive  Step Functions does not wait for the token (the execution has moved on, or
                     never issued it), as it says to the heartbeat that comes before any work, or
                     to the callback                    -> nothing to do, never retried
  TaskInProgress     another delivery of this task attempt is being worked on
                                                        -> listed in batchItemFailures
  RecordDeferred     the invocation could run out of time before this record is done: it was not
                     started                            -> listed in batchItemFailures
  RecordRetried      anything else (a transient fault)  -> listed in batchItemFailures
  MessageRefused     SQS does not know the record's receipt handle as one of a message in flight
                     in the task queue (an invocation with an event of the caller's own:
                     receipts.py), or Step Functions refused the worker the token
                     (AccessDeniedException: another state machine's task): the work never runs
                                                        -> listed in batchItemFailures, then DLQ
  MessageMalformed   no usable task token               -> listed in batchItemFailures, then DLQ
  WorkerFailed       a TaskFailed the worker sent itself: the work kept failing until the record's
                     last allowed receive (error WorkerFailed), counted as both
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    TASK_SUCCEEDED = "TaskSucceeded"
    TASK_FAILED = "TaskFailed"
    TASK_HANDED_OFF = "TaskHandedOff"
    TOKEN_NO_LONGER_LIVE = "TokenNoLongerLive"
    TASK_IN_PROGRESS = "TaskInProgress"
    RECORD_DEFERRED = "RecordDeferred"
    RECORD_RETRIED = "RecordRetried"
    MESSAGE_REFUSED = "MessageRefused"
    MESSAGE_MALFORMED = "MessageMalformed"
    WORKER_FAILED = "WorkerFailed"  # also a TaskFailed: the worker ended the execution itself
