"""Who may answer a task on the emulator. moto checks no IAM; on AWS the worker's role may answer
(SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat) its own state machine's tasks alone
(iam.tf's AnswerTaskTokens statement), and Step Functions refuses it another's with
AccessDeniedException.

So a deployment's worker processes (`make serve`, the soak) sign with an access key of their own,
and so does the tests' worker, and the emulator refuses that key a token of another state machine,
as IAM would (moto correction 7, emulator/moto_fixes.py). Any other caller (a user's AWS CLI, a
test, the worker `make demo` runs in its own process) answers any task, as an administrator may.
No moto here: the worker processes use it."""

from __future__ import annotations

import hashlib

SECRET_ACCESS_KEY = "testing"  # moto takes any
_WORKERS: dict[str, str] = {}  # a worker's access key -> the state machine it may answer for


def worker_access_key(state_machine_arn: str) -> str:
    """The access key of the worker that may answer the tasks of this state machine alone."""
    key = "AKIAWORKER" + hashlib.sha256(state_machine_arn.encode()).hexdigest()[:10].upper()
    _WORKERS[key] = state_machine_arn
    return key


def state_machine_answered_by(access_key: str) -> str | None:
    """The state machine whose tasks alone a caller may answer; None for a caller who may answer
    any."""
    return _WORKERS.get(access_key)
