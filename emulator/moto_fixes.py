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

12. moto 5.2.5: SQS ignores a queue's RedriveAllowPolicy (SetQueueAttributes takes it, and
   GetQueueAttributes never returns it), so Terraform's aws_sqs_queue_redrive_allow_policy waits
   forever for it to be there on create, and for it to go on destroy. SQS keeps and returns it.
   The correction: it is kept, returned while it is set, and gone once set to "".

13. moto 5.2.5: SetQueueAttributes without `Policy` removes the queue's Policy (moto sets every
   attribute it is not given to its default). SQS changes only the attributes it is given, so a
   redrive allow policy set after the queue policy leaves the policy in place. The correction: a
   Policy not given is left as it was.

14. moto 5.2.5: a queue's RedrivePolicy comes back with a space after each `:` and `,`; SQS
   returns it without (`{"deadLetterTargetArn":"...","maxReceiveCount":3}`), and the aws provider
   compares the strings: every plan after an apply shows a change. The correction: SQS's form.

15. moto 5.2.5: ValidateStateMachineDefinition and ListStateMachineVersions are not implemented
   (a 500 with a traceback), which the aws provider calls on create and read, retrying a 500 for
   minutes. The correction: a definition that is JSON with States and StartAt is valid (an OK
   result with no diagnostics; Step Functions checks far more), and a state machine lists the
   versions it has (none: the module publishes none).

16. moto 5.2.5: a function's LoggingConfig is dropped: GetFunction returns none, so every plan
   after an apply shows the module's logging_config as a change. Lambda keeps it. The
   correction: it is kept, and returned, as CreateFunction or UpdateFunctionConfiguration gave it
   (with Lambda's defaults for what they left out).

17. moto 5.2.5: an SQS event source mapping makes moto run the function itself, on each message,
   which it cannot do without Docker: it takes each message once, fails, and puts it back, using
   one of the message's allowed receives. The emulator runs the function itself, as the event
   source mapping does on AWS (emulator/consumers.py). The correction: moto keeps the mapping's
   record, and takes no message.

18. moto 5.2.5: a Catch (or Retry) of States.ALL takes States.DataLimitExceeded and States.Runtime
   too. Step Functions' States.ALL matches neither ("Error handling in Step Functions": the first
   is a terminal error, the second a runtime error): a saga whose compensation catches States.ALL
   still fails with States.DataLimitExceeded when the task's message is over 256 KiB. The
   correction: States.ALL matches every error name but those two.

19. moto 5.2.5: ChangeMessageVisibility(Batch) takes the receipt handle of a message that is no
   longer in flight (its visibility timeout has passed), and hides the message again. SQS refuses
   it with MessageNotInflight (ChangeMessageVisibility's API reference, Errors): the worker takes
   the refusal for a record it did not receive, and runs none of its work (src/worker/receipts.py).
   The correction: the same refusal, for each such entry of a batch.

20. moto 5.2.5: Publish takes a Subject of 100 characters, or one with a line break or another
   control character. SNS refuses both with InvalidParameter (Publish's API reference, Subject:
   "must be UTF-8 text with no line breaks or control characters, and less than 100 characters
   long"), so an approval request whose title was cut to 100 characters, or held a newline,
   would be mailed here and never on AWS. The correction: the same refusal.

21. moto 5.2.5: a task that has been answered still takes a heartbeat, and a second answer, for
   as long as its execution runs (the token's callback stays in moto's pool with its outcome).
   Step Functions no longer knows the task: each call with its token is refused, with
   TaskTimedOut ("Provided task does not exist anymore", what a retry of a SendTaskSuccess that
   had landed is answered; the API reference lists the error without saying when). The approval
   page asks with a heartbeat whether a task still waits. The correction: the same refusal, once
   a token's callback has its outcome.

22. moto 5.2.5: a Task with HeartbeatSeconds sets up its heartbeat clock only after it has sent
   its message, and looks for an answer only when the clock is woken. An answer that comes in
   between (a worker that takes the message at once) wakes nothing, so the task waits out its
   heartbeat window and fails with States.HeartbeatTimeout, having been answered. On AWS the
   answer ends the task. The pattern's task always declares HeartbeatSeconds (issue 35), so this
   would strike any quick answer. The correction: a clock set up after the answer starts woken.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from typing import Any

from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult, EmptyResult
from moto.dynamodb.models.table import Table
from moto.sns.exceptions import SNSInvalidParameter
from moto.sns.models import SNSBackend
from moto.sqs.exceptions import QueueDoesNotExist
from moto.sqs.models import Queue, SQSBackend
from moto.sqs.responses import SQSResponse
from moto.stepfunctions.exceptions import InvalidExecutionInput, ValidationException
from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
    ErrorEqualsDecl,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackEndpoint,
    CallbackPoolManager,
)
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from emulator import principals

MOTO_GET_EXECUTIONS = StepFunctionsParserBackend._get_executions
MOTO_PUT_ITEM = Table.put_item
MOTO_START_EXECUTION = StepFunctionsParserBackend.start_execution
MOTO_NOTIFY_HEARTBEAT = CallbackEndpoint.notify_heartbeat
MOTO_ANSWERS = {
    name: getattr(StepFunctionResponse, name)
    for name in ("send_task_success", "send_task_failure", "send_task_heartbeat")
}
MOTO_EVAL_PARAMETERS = StateTask._eval_parameters
MOTO_SET_QUEUE_ATTRIBUTES = Queue._set_attributes
MOTO_QUEUE_ATTRIBUTES = Queue.attributes
MOTO_GET_QUEUE_ATTRIBUTES = SQSBackend.get_queue_attributes
MOTO_LAMBDA_FUNCTION = (
    LambdaFunction.__init__,
    LambdaFunction.get_configuration,
    LambdaFunction.update_configuration,
)
MOTO_CREATE_EVENT_SOURCE_MAPPING = LambdaBackend.create_event_source_mapping
MOTO_ERROR_EQUALS = ErrorEqualsDecl._eval_body
MOTO_CHANGE_VISIBILITY_BATCH = SQSBackend.change_message_visibility_batch
MOTO_PUBLISH = SNSBackend.publish
MOTO_POOL_NOTIFY = CallbackPoolManager.notify
MOTO_SETUP_HEARTBEAT = CallbackEndpoint.setup_heartbeat_endpoint
MOTO_POOL_HEARTBEAT = CallbackPoolManager.heartbeat
MAX_SUBJECT = 99  # characters
SUBJECT_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_INPUT_BYTES = 262_144  # StartExecution's `input`, in UTF-8
# Error names that States.ALL does not match ("Error handling in Step Functions", States.ALL).
NOT_MATCHED_BY_ALL = frozenset({"States.DataLimitExceeded", "States.Runtime"})
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


def queue_attributes_as_sqs(set_attributes: Any, attributes: Any) -> tuple[Any, Any]:
    """moto's Queue._set_attributes and Queue.attributes, with RedriveAllowPolicy kept and
    returned, a Policy not given left as it was, and RedrivePolicy in SQS's compact JSON."""

    def set_as_sqs(self: Any, given: dict[str, Any], now: Any = None) -> None:
        kept_policy = getattr(self, "_policy_json", None)
        set_attributes(self, given, now)
        if "Policy" not in given and kept_policy is not None:
            self._policy_json = kept_policy

    def returned_as_sqs(self: Any) -> dict[str, Any]:
        result = attributes.fget(self)
        if getattr(self, "redrive_allow_policy", None):
            result["RedriveAllowPolicy"] = self.redrive_allow_policy
        if self.redrive_policy:
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        return result

    return set_as_sqs, property(returned_as_sqs)


def get_queue_attributes_by_name(get: Any) -> Any:
    """moto's GetQueueAttributes, which also knows the name RedriveAllowPolicy."""

    def get_as_sqs(self: Any, queue_name: str, attribute_names: list[str]) -> dict[str, Any]:
        others = [name for name in attribute_names if name != "RedriveAllowPolicy"]
        found = get(self, queue_name, others) if others else {}
        policy = self.get_queue(queue_name).attributes.get("RedriveAllowPolicy")
        if policy and "RedriveAllowPolicy" in attribute_names:
            found["RedriveAllowPolicy"] = policy
        return found

    return get_as_sqs


def validate_state_machine_definition(self: StepFunctionResponse) -> ActionResult:
    """Valid when the definition is a JSON object with StartAt and States."""
    try:
        definition = json.loads(self._get_param("definition") or "")
        valid = isinstance(definition, dict) and {"StartAt", "States"} <= definition.keys()
    except ValueError:
        valid = False
    diagnostics = (
        []
        if valid
        else [
            {
                "severity": "ERROR",
                "code": "SCHEMA_VALIDATION_FAILED",
                "message": "Not an ASL definition",
            }
        ]
    )
    return ActionResult({"result": "OK" if valid else "FAIL", "diagnostics": diagnostics})


def list_state_machine_versions(self: StepFunctionResponse) -> ActionResult:
    self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
    return ActionResult({"stateMachineVersions": []})


LAMBDA_LOGGING_DEFAULTS = {"LogFormat": "Text"}


def function_with_logging_config(init: Any, configuration: Any, update: Any) -> tuple[Any, ...]:
    """moto's LambdaFunction, keeping the LoggingConfig it is given, and returning it."""

    def init_keeping(
        self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kw: Any
    ) -> None:
        init(self, account_id, spec, *args, **kw)
        name = self.function_name
        self.logging_config = {
            **LAMBDA_LOGGING_DEFAULTS,
            "LogGroup": f"/aws/lambda/{name}",
            **(spec.get("LoggingConfig") or {}),
        }

    def configuration_with_it(self: Any, *args: Any, **kw: Any) -> dict[str, Any]:
        config = configuration(self, *args, **kw)
        if hasattr(self, "logging_config"):
            config["LoggingConfig"] = self.logging_config
        return config

    def update_keeping(self: Any, updates: dict[str, Any]) -> dict[str, Any]:
        if "LoggingConfig" in updates:
            self.logging_config = {**self.logging_config, **updates["LoggingConfig"]}
        return update(self, updates)

    return init_keeping, configuration_with_it, update_keeping


def mapping_that_takes_no_message(create: Any) -> Any:
    """moto's CreateEventSourceMapping, its record kept, its queue left to the emulator."""

    def create_record_only(self: Any, spec: dict[str, Any]) -> Any:
        from moto.sqs.models import sqs_backends

        mapping = create(self, spec)
        for queue in sqs_backends[self.account_id][self.region_name].queues.values():
            queue.lambda_event_source_mappings.clear()
        return mapping

    return create_record_only


def error_equals_as_aws(self: ErrorEqualsDecl, env: Any) -> None:
    """ErrorEquals' match (the error on the stack, a bool pushed in its place), with States.ALL
    matching no terminal or runtime error."""
    all_of_them = ErrorEqualsDecl._STATE_ALL_ERROR in self.error_names
    if all_of_them and getattr(env.stack[-1], "error_name", None) in NOT_MATCHED_BY_ALL:
        env.stack.pop()
        env.stack.append(False)
        return
    MOTO_ERROR_EQUALS(self, env)


def change_visibility_of_messages_in_flight(
    self: SQSBackend, queue_name: str, entries: list[dict[str, Any]]
) -> tuple[list[str], list[dict[str, str]]]:
    """ChangeMessageVisibilityBatch, each entry whose message is visible refused as SQS does."""
    queue = self.get_queue(queue_name)
    visible = {
        entry["Id"]
        for entry in entries
        for message in queue._messages
        if message.had_receipt_handle(entry["ReceiptHandle"]) and message.visible
    }
    success, error = MOTO_CHANGE_VISIBILITY_BATCH(
        self, queue_name, [entry for entry in entries if entry["Id"] not in visible]
    )
    refused = [
        {
            "Id": id_,
            "SenderFault": True,
            "Code": "MessageNotInflight",
            "Message": "The message referred to isn't in flight.",
        }
        for id_ in sorted(visible)
    ]
    return success, error + refused


def publish_with_a_subject_sns_takes(self: SNSBackend, *args: Any, **kwargs: Any) -> str:
    """Publish, refusing a subject SNS refuses: 100 characters or more, or a control character."""
    subject = kwargs.get("subject")
    if subject is not None and (len(subject) > MAX_SUBJECT or SUBJECT_CONTROL.search(subject)):
        raise SNSInvalidParameter(
            "Invalid parameter: Subject must be UTF-8 text with no line breaks or control "
            "characters, and less than 100 characters long"
        )
    return MOTO_PUBLISH(self, *args, **kwargs)


def no_call_for_an_answered_task(call: Any) -> Any:
    """The pool's notify or heartbeat, refusing a token whose task has been answered."""

    def refused_once_answered(self: CallbackPoolManager, callback_id: str, **kwargs: Any) -> Any:
        endpoint = self._pool.get(callback_id)
        if endpoint is not None and endpoint.get_outcome() is not None:
            raise AWSError("Provided task does not exist anymore", "TaskTimedOut")
        return call(self, callback_id=callback_id, **kwargs)

    return refused_once_answered


def heartbeat_clock_that_sees_an_early_answer(
    self: CallbackEndpoint, heartbeat_seconds: int
) -> Any:
    """The task's heartbeat clock, woken at once if the task was answered before it existed."""
    clock = MOTO_SETUP_HEARTBEAT(self, heartbeat_seconds=heartbeat_seconds)
    if self.get_outcome() is not None:
        clock.notify()
    return clock


def apply() -> None:
    Queue._set_attributes, Queue.attributes = queue_attributes_as_sqs(  # type: ignore[method-assign]
        MOTO_SET_QUEUE_ATTRIBUTES, MOTO_QUEUE_ATTRIBUTES
    )
    SQSBackend.get_queue_attributes = get_queue_attributes_by_name(MOTO_GET_QUEUE_ATTRIBUTES)  # type: ignore[method-assign]
    StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition  # type: ignore[attr-defined]
    StepFunctionResponse.list_state_machine_versions = list_state_machine_versions  # type: ignore[attr-defined]
    (
        LambdaFunction.__init__,  # type: ignore[method-assign]
        LambdaFunction.get_configuration,  # type: ignore[method-assign]
        LambdaFunction.update_configuration,  # type: ignore[method-assign]
    ) = function_with_logging_config(*MOTO_LAMBDA_FUNCTION)
    LambdaBackend.create_event_source_mapping = mapping_that_takes_no_message(  # type: ignore[method-assign]
        MOTO_CREATE_EVENT_SOURCE_MAPPING
    )
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
    ErrorEqualsDecl._eval_body = error_equals_as_aws  # type: ignore[method-assign]
    SQSBackend.change_message_visibility_batch = change_visibility_of_messages_in_flight  # type: ignore[method-assign]
    SNSBackend.publish = publish_with_a_subject_sns_takes  # type: ignore[method-assign]
    CallbackPoolManager.notify = no_call_for_an_answered_task(MOTO_POOL_NOTIFY)  # type: ignore[method-assign]
    CallbackPoolManager.heartbeat = no_call_for_an_answered_task(MOTO_POOL_HEARTBEAT)  # type: ignore[method-assign]
    CallbackEndpoint.setup_heartbeat_endpoint = heartbeat_clock_that_sees_an_early_answer  # type: ignore[method-assign]


MOTO_ACCOUNT = "123456789012"  # the account moto answers as
POWERTOOLS_PUBLISHER = "017000801446"  # locals.tf's powertools_publisher
# The releases whose public parameters the emulator answers: the module's default and "latest".
POWERTOOLS_RELEASES = ("3.37.0", "latest")


def seed_powertools_layer(account_id: str, region: str, releases: tuple[str, ...]) -> None:
    """Powertools' public SSM parameters (`/aws/service/powertools/python/<arch>/python3.12/
    <release>`) and the layers they name, as Powertools publishes them from its own account.
    moto refuses to create a parameter under /aws/ through its API, so they are put in its backend
    here; the layer versions carry the publisher's ARN, as Lambda reports a layer of another
    account's, so that a plan after the apply shows no change."""
    import base64
    import io
    import zipfile

    from moto.awslambda.models import LayerVersion, lambda_backends
    from moto.ssm.models import Parameter, ssm_backends

    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("python/README", "Powertools comes from the emulator's environment.\n")
    lambda_backend = lambda_backends[account_id][region]
    parameters = ssm_backends[account_id][region]._parameters
    for architecture in ("arm64", "x86_64"):
        name = f"AWSLambdaPowertoolsPythonV3-python312-{architecture}"
        if lambda_backend._layers._layers.get(name) is None:
            spec = {
                "LayerName": name,
                "Content": {"ZipFile": base64.b64encode(package.getvalue()).decode()},
                "CompatibleRuntimes": ["python3.12"],
                "CompatibleArchitectures": [architecture],
            }
            lambda_backend._layers.put_layer_version(
                LayerVersion(spec, account_id=POWERTOOLS_PUBLISHER, region=region)
            )
        layer = lambda_backend._layers._layers[name]
        (version,) = layer.layer_versions.values()
        for release in releases:
            key = f"/aws/service/powertools/python/{architecture}/python3.12/{release}"
            if not parameters.get(key):
                parameters[key].append(
                    Parameter(
                        account_id=account_id,
                        name=key,
                        value=version.arn,
                        parameter_type="String",
                        description=None,
                        allowed_pattern=None,
                        keyid=None,
                        last_modified_date=0,
                        version=1,
                        data_type="text",
                    )
                )
