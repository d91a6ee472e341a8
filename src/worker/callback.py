"""Calls back to Step Functions with the task token: success, failure or heartbeat."""

from __future__ import annotations

import functools
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
# delivery answered it first). Nothing is left to do for the message.
NO_LONGER_LIVE = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})


class TokenNoLongerLive(Exception):
    """Step Functions no longer waits for this token."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@functools.cache
def client() -> BaseClient:
    """The Step Functions client: made on first use, then kept for the life of the process."""
    return boto3.client("stepfunctions", config=CLIENT_CONFIG)


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
        raise


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "Unknown")
