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

5. moto 5.2.5: StartMessageMoveTask (an SQS dead-letter queue redrive) is not implemented, and
   moto answers it with a 500 and a traceback. The emulator cannot move messages either; the
   correction answers with a named error that says so.

6. moto 5.2.5: SendTaskHeartbeat answers InvalidToken for a live token when its Task state sets no
   HeartbeatSeconds (the token's callback has no heartbeat clock to reset). Step Functions
   accepts a heartbeat for any live token: without HeartbeatSeconds it has nothing to reset, and
   the heartbeat is simply not needed. A worker whose work heartbeats with the default settings
   would take the refusal for a dead task and never call back. The correction: a live token's
   heartbeat is accepted, and resets the heartbeat clock where there is one.

7. moto 5.2.5: every SQS message has one SenderId, whoever sent it. SQS gives the sender's
   principal: an IAM user's ID, or an IAM role's unique ID and the session's name. The worker
   refuses a message that its state machine's role did not send, so the emulator must tell them
   apart. The correction: a message's SenderId is its caller's, by the access key that signed the
   request: moto's own Step Functions interpreter sends as the state machine's role, any other
   caller as an IAM user of that key (emulator/principals.py).
"""

from __future__ import annotations

import re
import threading
import uuid
from typing import Any

from moto.dynamodb.models.table import Table
from moto.sqs.exceptions import SQSException
from moto.sqs.models import Message
from moto.sqs.responses import SQSResponse
from moto.stepfunctions.exceptions import ValidationException
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from emulator import principals

MOTO_GET_EXECUTIONS = StepFunctionsParserBackend._get_executions
MOTO_PUT_ITEM = Table.put_item
MOTO_START_EXECUTION = StepFunctionsParserBackend.start_execution
MOTO_NOTIFY_HEARTBEAT = CallbackEndpoint.notify_heartbeat
MOTO_MESSAGE_INIT = Message.__init__
MOTO_SEND_MESSAGE = SQSResponse.send_message
MOTO_SEND_MESSAGE_BATCH = SQSResponse.send_message_batch
_sender = threading.local()
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


def start_message_move_task(self: SQSResponse) -> Any:
    raise SQSException(
        "UnsupportedOperation",
        "The emulator (moto) has no message move tasks: a dead-letter queue redrive runs on AWS "
        "only (see the runbook, docs/monitoring.md).",
    )


def accepted_heartbeat(self: CallbackEndpoint) -> bool:
    """A live token's heartbeat, accepted whether or not its Task state has a heartbeat clock."""
    MOTO_NOTIFY_HEARTBEAT(self)
    return True


def access_key(request: SQSResponse) -> str:
    """The access key that signed the request (moto's get_access_key knows only keys of 20
    capitals and digits; moto's interpreter signs with "ak")."""
    signed = re.search(r"Credential=([^/,\s]+)/", request.headers.get("Authorization", ""))
    return signed.group(1) if signed else ""


def sent_by_caller(send: Any) -> Any:
    """moto's SendMessage (or SendMessageBatch), its messages' SenderId the caller's."""

    def send_as_caller(self: SQSResponse) -> Any:
        _sender.id = principals.sender_id(access_key(self))
        try:
            return send(self)
        finally:
            _sender.id = None

    return send_as_caller


def message_with_sender(self: Message, *args: Any, **kwargs: Any) -> None:
    MOTO_MESSAGE_INIT(self, *args, **kwargs)
    self.sender_id = getattr(_sender, "id", None) or self.sender_id


send_message_as_caller = sent_by_caller(MOTO_SEND_MESSAGE)
send_message_batch_as_caller = sent_by_caller(MOTO_SEND_MESSAGE_BATCH)


def apply() -> None:
    StepFunctionsParserBackend._get_executions = started_executions  # type: ignore[method-assign]
    Table.put_item = atomic_put_item  # type: ignore[method-assign]
    StepFunctionsParserBackend.start_execution = start_execution_as_aws  # type: ignore[method-assign]
    SQSResponse.start_message_move_task = start_message_move_task  # type: ignore[attr-defined]
    CallbackEndpoint.notify_heartbeat = accepted_heartbeat  # type: ignore[method-assign]
    SQSResponse.send_message = send_message_as_caller  # type: ignore[method-assign]
    SQSResponse.send_message_batch = send_message_batch_as_caller  # type: ignore[method-assign]
    Message.__init__ = message_with_sender  # type: ignore[method-assign]
