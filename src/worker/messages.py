"""The task message the state machine sends, the named errors and the callback API's limits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Limits of SendTaskSuccess / SendTaskFailure (Step Functions API reference).
MAX_OUTPUT_BYTES = 262_144
MAX_ERROR_CHARS = 256
MAX_CAUSE_CHARS = 32_768
MAX_TOKEN_CHARS = 2_048


class MalformedMessage(Exception):
    """The SQS message is not a task message, so there is no token to answer.

    The record fails: it comes back until the queue moves it to the dead-letter queue.
    The message says what was wrong, never what the body held.
    """


class TaskError(Exception):
    """A failure of the task itself: the execution fails with `error` and `cause`."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error[:MAX_ERROR_CHARS]
        self.cause = cause[:MAX_CAUSE_CHARS]


@dataclass(frozen=True)
class TaskMessage:
    """The body the state machine's Task sends: `{taskToken, executionArn, input}`."""

    task_token: str
    execution_arn: str
    input: Any


def parse_task_message(body: str) -> TaskMessage:
    """Read a message body; raise MalformedMessage if it carries no usable task token."""
    try:
        message = json.loads(body)
    except (TypeError, ValueError):
        raise MalformedMessage("the body is not JSON") from None
    if not isinstance(message, dict):
        raise MalformedMessage(f"the body is a JSON {json_type(message)}, not an object")
    token = message.get("taskToken")
    if not isinstance(token, str) or not token:
        raise MalformedMessage("taskToken is missing, empty or not a string")
    if len(token) > MAX_TOKEN_CHARS:
        raise MalformedMessage(f"taskToken is longer than {MAX_TOKEN_CHARS:,} characters")
    execution_arn = message.get("executionArn")
    return TaskMessage(
        task_token=token,
        execution_arn=execution_arn if isinstance(execution_arn, str) else "",
        input=message.get("input"),
    )


def encode_output(result: Any) -> str:
    """The result as SendTaskSuccess output, or TaskError where Step Functions would refuse it."""
    try:
        output = json.dumps(result, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise TaskError("InvalidTaskOutput", f"the result is not JSON: {error}") from None
    size = len(output.encode())
    if size > MAX_OUTPUT_BYTES:
        raise TaskError(
            "TaskOutputTooLarge",
            f"the result is {size:,} bytes; Step Functions accepts at most {MAX_OUTPUT_BYTES:,}",
        )
    return output


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for error causes."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")
