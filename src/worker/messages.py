"""The task message the state machine sends, the named errors and the callback API's limits."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from json.decoder import scanstring
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
    # Why the input could not be read, when the token could: the task fails as InvalidTaskInput.
    unreadable_input: str | None = None


def parse_task_message(body: str) -> TaskMessage:
    """Read a message body; raise MalformedMessage if it carries no usable task token."""
    try:
        message = json.loads(body)
    except (TypeError, json.JSONDecodeError):
        raise MalformedMessage("the body is not JSON") from None
    except (ValueError, RecursionError) as limit:  # JSON, but past what Python's parser reads
        return _with_unreadable_input(body, limit)
    if not isinstance(message, dict):
        raise MalformedMessage(f"the body is a JSON {json_type(message)}, not an object")
    return _task_message(message)


def _task_message(message: dict[str, Any]) -> TaskMessage:
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


def _with_unreadable_input(body: str, limit: ValueError | RecursionError) -> TaskMessage:
    """A body that is JSON but holds what Python's parser will not read (an integer of more than
    4,300 digits, nesting past its recursion limit): its task fails, if its token can be read."""
    why = (
        "nests deeper than the worker's JSON parser follows"
        if isinstance(limit, RecursionError)
        else "holds an integer of more than 4,300 digits, more than the worker's JSON parser reads"
    )
    try:
        members = _top_level_strings(body)
    except (ValueError, IndexError):
        raise MalformedMessage(f"the body {why}") from None
    return replace(_task_message(members), unreadable_input=f"the execution input {why}")


_SPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"[^\s,:\[\]{}\"]+")


def _top_level_strings(body: str) -> dict[str, Any]:
    """The members of the body's top-level object whose values are strings; the others are
    skipped without being parsed. Raises ValueError or IndexError where it is not an object."""
    members: dict[str, Any] = {}
    at = _SPACE.match(body).end()
    if body[at] != "{":
        raise ValueError("not an object")
    at += 1
    while True:
        at = _SPACE.match(body, at).end()
        if body[at] == "}":
            return members
        if body[at] != '"':
            raise ValueError("a member without a name")
        name, at = scanstring(body, at + 1)
        at = _SPACE.match(body, at).end()
        if body[at] != ":":
            raise ValueError("a name without a value")
        at = _SPACE.match(body, at + 1).end()
        if body[at] == '"':
            members[name], at = scanstring(body, at + 1)
        else:
            at = _skip_value(body, at)
        at = _SPACE.match(body, at).end()
        if body[at] == ",":
            at += 1
        elif body[at] != "}":
            raise ValueError("members not separated by a comma")


def _skip_value(body: str, at: int) -> int:
    """Where the value that starts at `at` ends, found without recursion or number conversion."""
    depth = 0
    while True:
        at = _SPACE.match(body, at).end()
        char = body[at]
        if char == '"':
            _, at = scanstring(body, at + 1)
        elif char in "[{":
            depth, at = depth + 1, at + 1
        elif char in "]}":
            depth, at = depth - 1, at + 1
        elif char in ",:" and depth:
            at += 1
        elif scalar := _SCALAR.match(body, at):
            at = scalar.end()
        else:
            raise ValueError("not a JSON value")
        if depth < 0:
            raise ValueError("a bracket closed that was never opened")
        if depth == 0:
            return at


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
