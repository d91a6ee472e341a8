"""Where moto's behaviour differs from AWS's in a way the pattern would show, the narrowest
correction, applied by `emulator.deployment.deploy` before any execution starts. Each names the
moto release it was found in; tests/pattern/test_moto_fixes.py fails as soon as moto no longer
needs it.

1. moto 5.2.5: SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat look for the token in
   every execution of the region, and read each one's interpreter environment. An execution that
   is still starting has none yet (it is made on the execution's own thread, after
   StartExecution has returned), so the callback fails with AttributeError for every token,
   live ones included, while any execution is starting. On AWS a callback reaches its
   execution whatever else is starting. The correction: executions whose interpreter has not
   started are skipped, as they hold no task token (nor map run) yet.

2. moto 5.2.5: a conditional PutItem reads the item, checks the condition and writes the item in
   three steps with no lock, so two requests at once (two worker processes on `make serve`'s or
   the soak's server) can both pass `attribute_not_exists` and both write. DynamoDB's conditional
   writes are atomic: one of them fails with ConditionalCheckFailedException, which is what makes
   the worker run the work once. The correction: one PutItem at a time in moto.

3. moto 5.2.5: StartExecution without a name names the execution `None` (its ARN ends in
   `:None`), so every later unnamed start returns that execution or collides with it. Step
   Functions gives each a unique name, a UUID. The correction: an unnamed start gets one.

4. moto 5.2.5: StartExecution takes any input. Step Functions refuses an input over 262,144
   bytes (UTF-8) with a ValidationException (StartExecution's API reference, `input`: "Maximum
   length of 262144"). The correction: the same refusal, before the execution exists.

5. moto 5.2.5: StartMessageMoveTask (a dead-letter queue redrive) is not implemented, and moto
   answers it with a 500 and a traceback. SQS moves each message of the dead-letter queue to the
   destination (by default the queue whose redrive policy names it) as a new message: a new ID, a
   new enqueue time, a receive count from zero, sent by the identity that started the move task.
   The correction: the same, for every visible message, at once (SQS moves them at a rate);
   ListMessageMoveTasks lists the tasks, each COMPLETED.

6. moto 5.2.5: SendTaskHeartbeat answers InvalidToken for a live token when its Task state sets no
   HeartbeatSeconds (the token's callback has no heartbeat clock to reset). Step Functions
   accepts a heartbeat for any live token: without HeartbeatSeconds it has nothing to reset, and
   the heartbeat is simply not needed. A worker whose work heartbeats with the default settings
   would take the refusal for a dead task and never call back. The correction: a live token's
   heartbeat is accepted, and resets the heartbeat clock where there is one.

7. moto checks no IAM. The worker's role may answer (SendTask*) its own state machine's tasks alone,
   and Step Functions refuses it another's (AccessDeniedException): the worker takes that refusal
   for a message it must not run. The correction: a caller that signs with a worker's access key
   (emulator/principals.py) is refused a token of any other state machine; any other caller may
   answer any task, as an administrator may.
"""

from __future__ import annotations

import re
import threading
import uuid
from typing import TYPE_CHECKING, Any

from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult
from moto.dynamodb.models.table import Table
from moto.sqs.exceptions import QueueDoesNotExist
from moto.sqs.responses import SQSResponse
from moto.stepfunctions.exceptions import ValidationException
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from emulator import principals

if TYPE_CHECKING:
    from moto.sqs.models import SQSBackend

MOTO_GET_EXECUTIONS = StepFunctionsParserBackend._get_executions
MOTO_PUT_ITEM = Table.put_item
MOTO_START_EXECUTION = StepFunctionsParserBackend.start_execution
MOTO_NOTIFY_HEARTBEAT = CallbackEndpoint.notify_heartbeat
MOTO_ANSWERS = {
    name: getattr(StepFunctionResponse, name)
    for name in ("send_task_success", "send_task_failure", "send_task_heartbeat")
}
MAX_INPUT_BYTES = 262_144  # StartExecution's `input`, in UTF-8
_ONE_PUT_AT_A_TIME = threading.Lock()


def started_executions(self: StepFunctionsParserBackend, execution_status: Any = None) -> list:
    """moto's `_get_executions`, without the executions whose interpreter has not started."""
    return [
        execution
        for state_machine in self.state_machines
        for execution in state_machine.executions
        if execution.exec_worker is not None
        and execution.exec_worker.env is not None
        and (execution_status is None or execution_status == execution.status)
    ]


def atomic_put_item(self: Table, *args: Any, **kwargs: Any) -> Any:
    """moto's PutItem, its condition checked and the item written with no other PutItem between."""
    with _ONE_PUT_AT_A_TIME:
        return MOTO_PUT_ITEM(self, *args, **kwargs)


def start_execution_as_aws(
    self: StepFunctionsParserBackend,
    state_machine_arn: str,
    name: str | None = None,
    execution_input: str | None = None,
    trace_header: str | None = None,
) -> Any:
    """moto's StartExecution, with a unique name when none is given and an oversize input refused
    as Step Functions refuses it."""
    if execution_input is not None and len(execution_input.encode()) > MAX_INPUT_BYTES:
        raise ValidationException(
            "1 validation error detected: Value at 'input' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_INPUT_BYTES}"
        )
    return MOTO_START_EXECUTION(
        self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header
    )


def start_message_move_task(self: SQSResponse) -> ActionResult:
    """SQS's move task, done at once: each visible message of the source queue becomes a new
    message of the destination, sent by this caller, its body and message attributes kept."""
    backend: SQSBackend = self.sqs_backend
    source = _queue(backend, self._get_param("SourceArn"))
    destination_arn = self._get_param("DestinationArn")
    if destination_arn:
        destination = _queue(backend, destination_arn)
    else:
        (destination,) = backend.list_dead_letter_source_queues(source.name)
    moved = 0
    while messages := backend.receive_message(source.name, 10, 0, 30, ["All"]):
        for message in messages:
            backend.send_message(
                destination.name, message.body, message_attributes=message.message_attributes
            )
            backend.delete_message(source.name, message.receipt_handle)
            moved += 1
    task = {
        "TaskHandle": str(uuid.uuid4()),
        "SourceArn": source.queue_arn,
        "DestinationArn": destination.queue_arn,
        "Status": "COMPLETED",
        "ApproximateNumberOfMessagesMoved": moved,
        "ApproximateNumberOfMessagesToMove": moved,
    }
    _MOVE_TASKS.setdefault(source.queue_arn, []).insert(0, task)
    return ActionResult({"TaskHandle": task["TaskHandle"]})


def list_message_move_tasks(self: SQSResponse) -> ActionResult:
    source = _queue(self.sqs_backend, self._get_param("SourceArn"))
    tasks = [
        {k: v for k, v in task.items() if k != "TaskHandle"}
        for task in _MOVE_TASKS.get(source.queue_arn, [])
    ]
    return ActionResult({"Results": tasks})


_MOVE_TASKS: dict[str, list[dict[str, Any]]] = {}


def _queue(backend: SQSBackend, arn: str) -> Any:
    for queue in backend.queues.values():
        if queue.queue_arn == arn:
            return queue
    raise QueueDoesNotExist()


def accepted_heartbeat(self: CallbackEndpoint) -> bool:
    """A live token's heartbeat, accepted whether or not its Task state has a heartbeat clock."""
    MOTO_NOTIFY_HEARTBEAT(self)
    return True


class AccessDeniedException(AWSError):
    TYPE = "AccessDeniedException"
    STATUS = 400


def access_key(request: Any) -> str:
    """The access key that signed the request (moto's get_access_key knows only keys of 20
    capitals and digits)."""
    signed = re.search(r"Credential=([^/,\s]+)/", request.headers.get("Authorization", ""))
    return signed.group(1) if signed else ""


def answered_within_the_callers_rights(answer: Any) -> Any:
    """moto's SendTaskSuccess (Failure, Heartbeat), refused to a worker for a token of another
    state machine than its own, as IAM refuses it."""

    def answer_as_caller(self: StepFunctionResponse) -> Any:
        allowed = principals.state_machine_answered_by(access_key(self))
        owner = allowed and _state_machine_of(
            self.stepfunction_backend, self._get_param("taskToken")
        )
        if owner and owner != allowed:
            raise AccessDeniedException(
                f"User: {access_key(self)} is not authorized to perform: "
                f"states:{self._get_action()} on resource: {owner}"
            )
        return answer(self)

    return answer_as_caller


def _state_machine_of(backend: StepFunctionsParserBackend, token: str) -> str | None:
    """The state machine of the execution that waits for (or waited for) this token, if any."""
    for execution in backend._get_executions():
        if execution.exec_worker.env.callback_pool_manager.get(token) is not None:
            return execution.state_machine_arn
    return None


def apply() -> None:
    StepFunctionsParserBackend._get_executions = started_executions  # type: ignore[method-assign]
    Table.put_item = atomic_put_item  # type: ignore[method-assign]
    StepFunctionsParserBackend.start_execution = start_execution_as_aws  # type: ignore[method-assign]
    SQSResponse.start_message_move_task = start_message_move_task  # type: ignore[attr-defined]
    SQSResponse.list_message_move_tasks = list_message_move_tasks  # type: ignore[attr-defined]
    CallbackEndpoint.notify_heartbeat = accepted_heartbeat  # type: ignore[method-assign]
    for name, answer in MOTO_ANSWERS.items():
        setattr(StepFunctionResponse, name, answered_within_the_callers_rights(answer))
