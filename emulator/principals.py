"""Who the emulator's callers are to SQS (moto correction 7, emulator/moto_fixes.py): moto's Step
Functions interpreter signs its SQS calls with the access key "ak" (moto's boto_client_for), and
the emulator gives the state machine's role a unique ID as IAM gives one (AROA...). A client made
with STATE_MACHINE_ACCESS_KEY sends as the state machine, as SQS's redelivery of one of its
messages would. No moto here: the worker processes of `make serve` use it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from botocore.client import BaseClient

STATE_MACHINE_ACCESS_KEY = "ak"
STATE_MACHINE_ROLE_ID = "AROAEMULATEDSTATEMACHINE"


def sender_id(access_key: str) -> str:
    """The SenderId SQS gives a message signed with this access key: a role's unique ID and its
    session's name, or an IAM user's ID."""
    if access_key == STATE_MACHINE_ACCESS_KEY:
        return f"{STATE_MACHINE_ROLE_ID}:emulated-execution"
    return f"AIDA{access_key.upper()}"


def sqs_as_the_state_machine(**client_arguments: Any) -> BaseClient:
    """An SQS client whose messages SQS takes for the state machine's (a redelivery of one)."""
    return boto3.client(
        "sqs",
        aws_access_key_id=STATE_MACHINE_ACCESS_KEY,
        aws_secret_access_key="testing",  # moto takes any
        **client_arguments,
    )
