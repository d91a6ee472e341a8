"""Calls back to Step Functions with the task token: success, failure or heartbeat."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from botocore.client import BaseClient

# botocore's standard retry mode retries throttling and 5xx with jittered backoff (3 attempts, or
# AWS_MAX_ATTEMPTS); past them the error reaches the handler and the record comes back later.
CLIENT_CONFIG = Config(retries={"mode": "standard"}, connect_timeout=5, read_timeout=10)

# The token is no longer live: the execution has already moved on (it timed out, or a duplicate
# delivery answered it first), or Step Functions never issued it. Nothing is left to do.
NO_LONGER_LIVE = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})
# Step Functions refuses the worker this token: its role may answer this state machine's tasks
# only (iam.tf), so the token is another state machine's, or the role has lost that permission.
NOT_ALLOWED = frozenset({"AccessDeniedException"})
# The AWS SDK's loggers write whole requests and responses at DEBUG, task tokens among them.
SDK_LOGGERS = ("botocore", "urllib3")


class TokenNoLongerLive(Exception):
    """Step Functions no longer waits for this token."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class NotAllowedToAnswer(Exception):
    """Step Functions refused the worker this token (AccessDeniedException)."""


@functools.cache
def client() -> BaseClient:
    """The Step Functions client: made on first use, then kept for the life of the process."""
    sfn = boto3.client("stepfunctions", config=CLIENT_CONFIG)
    keep_sdk_debug_lines_out_of_the_logs()  # the modules botocore has just imported log too
    return sfn


def send_success(token: str, output: str) -> None:
    _call("send_task_success", taskToken=token, output=output)


def send_failure(token: str, error: str, cause: str) -> None:
    _call("send_task_failure", taskToken=token, error=error, cause=cause)


def send_heartbeat(token: str) -> None:
    _call("send_task_heartbeat", taskToken=token)


def _call(operation: str, **params: str) -> None:
    try:
        getattr(client(), operation)(**params)
    except ClientError as error:
        code = error_code(error)
        if code in NO_LONGER_LIVE:
            raise TokenNoLongerLive(code) from None
        if code in NOT_ALLOWED:
            raise NotAllowedToAnswer(code) from None
        raise


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "Unknown")


def describe(error: Exception) -> str:
    """A log-safe description: AWS error messages can echo request values, the token among them."""
    if isinstance(error, ClientError):
        return f"ClientError {error_code(error)}"
    return f"{type(error).__name__}: {error}"


class _InfoAndAbove(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.INFO


_INFO_AND_ABOVE = _InfoAndAbove()


def keep_sdk_debug_lines_out_of_the_logs() -> None:
    """No line below INFO leaves the AWS SDK's loggers, whatever level a work sets (a
    `logging.basicConfig(level=logging.DEBUG)`): a filter on each logger, which a level cannot
    lift. A logger's filter sees only its own lines, so every one of them gets it."""
    registered = logging.Logger.manager.loggerDict
    for name in [*SDK_LOGGERS, *registered]:
        if name.split(".")[0] in SDK_LOGGERS:
            logger = logging.getLogger(name)
            if _INFO_AND_ABOVE not in logger.filters:
                logger.addFilter(_INFO_AND_ABOVE)
