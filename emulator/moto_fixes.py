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

8. moto 5.2.5: SendTaskSuccess takes any output; output that is not JSON then fails the execution
   with States.Runtime. Step Functions refuses it (InvalidOutput, SendTaskSuccess's API
   reference) and the task goes on waiting for a good answer: an approver's typo costs a retry,
   not the execution. The correction: the same refusal.

9. moto 5.2.5: StartExecution with an input that is not JSON answers an error without a code
   ("An error occurred ()"). Step Functions answers InvalidExecutionInput. The correction: the
   same, with the parser's reason.

10. moto 5.2.5: a Task state whose input, after Parameters processing, is over 256 KiB runs. Step
   Functions fails it with States.DataLimitExceeded (the payload size quota; "Handling errors",
   States.DataLimitExceeded). For the pattern's task, that input is the SQS message with the task
   token, the execution ARN and the queue URL beside the execution input, so an execution input
   a little under 256 KiB starts and then fails. The correction: the same failure, measured on the
   JSON of the evaluated Parameters in UTF-8 (what is assumed: AWS documents the quota, not how it
   counts; moto's tokens are 36 characters where AWS's run to some hundreds, so here an input fits
   that is up to that much larger).

11. moto 5.2.5: SendTaskFailure drops its cause: the execution fails with the error and no cause.
   Step Functions keeps both. The correction: the cause is passed on.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from typing import TYPE_CHECKING, Any

from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult, EmptyResult
from moto.dynamodb.models.table import Table
from moto.sqs.exceptions import QueueDoesNotExist
from moto.sqs.responses import SQSResponse
from moto.stepfunctions.exceptions import InvalidExecutionInput, ValidationException
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
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
MOTO_EVAL_PARAMETERS = StateTask._eval_parameters
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
    """moto's StartExecution, with a unique name when none is given, and an oversize input or one
    that is not JSON refused as Step Functions refuses them."""
    if execution_input is not None and len(execution_input.encode()) > MAX_INPUT_BYTES:
        raise ValidationException(
            "1 validation error detected: Value at 'input' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_INPUT_BYTES}"
        )
    if execution_input is not None and (reason := json_error(execution_input)):
        raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{reason}'")
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


def json_error(text: str) -> str | None:
    """Why `text` is not JSON, or None if it is."""
    try:
        json.loads(text)
    except ValueError as error:
        return str(error)
    return None


class InvalidOutput(AWSError):
    TYPE = "InvalidOutput"
    STATUS = 400


def json_output_only(answer: Any) -> Any:
    """moto's SendTaskSuccess, refused (InvalidOutput) for output that is not JSON."""

    def answer_json(self: StepFunctionResponse) -> Any:
        if reason := json_error(self._get_param("output") or ""):
            raise InvalidOutput(f"Invalid Output: '{reason}'")
        return answer(self)

    return answer_json


def send_task_failure_with_its_cause(self: StepFunctionResponse) -> EmptyResult:
    """moto's SendTaskFailure, its cause passed on with its error."""
    self.stepfunction_backend.send_task_failure(
        self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
    )
    return EmptyResult()


def parameters_within_the_payload_quota(self: StateTask, env: Any) -> dict:
    """moto's evaluation of a Task's Parameters, failed with States.DataLimitExceeded when their
    JSON is over 256 KiB, as Step Functions fails a state whose input after Parameters is."""
    parameters = MOTO_EVAL_PARAMETERS(self, env)
    CommonStateField._verify_size_quota(self, env=env, value=parameters)
    return parameters


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
    answers = {
        **MOTO_ANSWERS,
        "send_task_success": json_output_only(MOTO_ANSWERS["send_task_success"]),
        "send_task_failure": send_task_failure_with_its_cause,
    }
    for name, answer in answers.items():
        setattr(StepFunctionResponse, name, answered_within_the_callers_rights(answer))
    StateTask._eval_parameters = parameters_within_the_payload_quota  # type: ignore[method-assign]
