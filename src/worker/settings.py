"""The worker's settings: read once, at import, from the environment the module gives the function
(worker.tf).

Each has one source, Terraform: no default here repeats one of its values. A setting that is not
set is an error at import (MissingSetting, naming it), not a silent default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping


class MissingSetting(RuntimeError):
    """The environment lacks a setting the module gives the worker function."""


@dataclass(frozen=True)
class Settings:
    # The Task state's TimeoutSeconds: no token is live for longer.
    task_timeout_seconds: int
    # The Task state's HeartbeatSeconds: a task no heartbeat reaches for this long ends.
    heartbeat_seconds: int
    # The task queue's maxReceiveCount: the receive after which SQS moves a message to the DLQ.
    max_receive_count: int
    # The idempotency table; None where var.idempotency is false (the module then sets none).
    idempotency_table_name: str | None

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> Settings:
        required = (
            "TASK_TIMEOUT_SECONDS",
            "HEARTBEAT_SECONDS",
            "MAX_RECEIVE_COUNT",
        )
        missing = [name for name in required if not environment.get(name)]
        if missing:
            raise MissingSetting(
                f"{', '.join(missing)} not set: the module sets these on the worker function "
                "(worker.tf)"
            )
        return cls(
            task_timeout_seconds=int(environment["TASK_TIMEOUT_SECONDS"]),
            heartbeat_seconds=int(environment["HEARTBEAT_SECONDS"]),
            max_receive_count=int(environment["MAX_RECEIVE_COUNT"]),
            idempotency_table_name=environment.get("IDEMPOTENCY_TABLE_NAME") or None,
        )


settings = Settings.from_environment(os.environ)
