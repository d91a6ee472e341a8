"""The task message the state machine sends, the named errors and the callback API's limits."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# Limits of SendTaskSuccess / SendTaskFailure (Step Functions API reference).
MAX_OUTPUT_BYTES = 262_144
MAX_ERROR_CHARS = 256
MAX_CAUSE_CHARS = 32_768
MAX_TOKEN_CHARS = 2_048
# An execution's ARN, as $$.Execution.Id gives it: anything else is not written to a log line.
# Names are 1 to 80 characters, without white space, brackets, wildcards, control characters or
# " # % \ ^ | ~ ` $ & , ; : / (StartExecution's `name`).
_NAME = r"[^\s\x00-\x1f\x7f-\x9f<>{}\[\]?*\"#%\\^|~`$&,;:/]{1,80}"
EXECUTION_ARN = re.compile(rf"arn:aws[a-z-]*:states:[a-z0-9-]+:\d{{12}}:execution:{_NAME}:{_NAME}")


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
    """The body the state machine's Task sends: `{taskToken, executionArn, input}`. Its repr
    leaves the token out: whoever holds a token can complete the task."""

    task_token: str = field(repr=False)
    execution_arn: str
    input: Any = field(repr=False)


def parse_task_message(body: str) -> TaskMessage:
    """Read a message body; raise MalformedMessage if it carries no usable task token."""
    try:
        message = json.loads(body)
    except (TypeError, ValueError):
        raise MalformedMessage("the body is not JSON") from None
    except RecursionError:
        raise MalformedMessage("the body nests deeper than a JSON parser follows") from None
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
        execution_arn=execution_arn
        if isinstance(execution_arn, str) and EXECUTION_ARN.fullmatch(execution_arn)
        else "",
        input=message.get("input"),
    )


def encode_output(result: Any) -> str:
    """The result as SendTaskSuccess output, or TaskError where Step Functions would refuse it."""
    try:
        output = json.dumps(result, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        size = len(output.encode())  # a lone surrogate ("\ud800") has no UTF-8: not sendable
    except (TypeError, ValueError, RecursionError) as error:
        raise TaskError("InvalidTaskOutput", f"the result is not JSON: {error}") from None
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
